"""ElidedLabel: long text ends in "…" where it does not fit, whole in the tooltip and in text()."""

from widgets.elided_label import ElidedLabel


def test_long_text_elides_to_its_width_and_stays_whole_in_text_and_tooltip(qtbot):
    label = ElidedLabel("PVDesk H8K reference hybrid inverter · serial PVD8K001A0042 · unit 1")
    qtbot.addWidget(label)
    label.resize(120, 20)
    label.show()
    assert label.shown_text().endswith("…") and len(label.shown_text()) < len(label.text())
    assert label.text().endswith("unit 1") and label.toolTip() == label.text()
    assert label.minimumSizeHint().width() < 120
    label.resize(2000, 20)
    assert label.shown_text() == label.text()
    label.setText("short")
    assert label.text() == "short" and label.shown_text() == "short"
