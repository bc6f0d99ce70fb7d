"""PlotToolbar: drives a group of TimePlots (follow, window, reset, exports)."""

import csv
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QFileDialog, QVBoxLayout, QWidget

from widgets.plot_toolbar import PlotToolbar
from widgets.ring_buffer import RingBuffer
from widgets.time_plot import TimePlot

T0 = 1_763_769_600.0


@pytest.fixture
def group(qtbot):
    rb = RingBuffer(4000, ["soc_pct", "battery_power_w"])
    for k in range(3600):
        rb.append(T0 + k, {"soc_pct": 50 + k / 360, "battery_power_w": 1000.0 - k})
    soc = TimePlot("Battery SOC")
    power = TimePlot("Battery power")
    soc.set_source(rb, ["soc_pct"], "%")
    power.set_source(rb, ["battery_power_w"], "W")
    toolbar = PlotToolbar([soc, power])
    page = QWidget()  # one window, as on the dashboard
    layout = QVBoxLayout(page)
    for w in (toolbar, soc, power):
        layout.addWidget(w)
    qtbot.addWidget(page)
    page.resize(800, 640)
    page.show()
    qtbot.waitExposed(page)
    yield rb, toolbar, soc, power  # the fixture's frame keeps `page` alive


def test_window_choice_applies_to_every_plot(group):
    rb, toolbar, soc, power = group
    assert toolbar.window_box.currentText() == "10 min"
    toolbar.window_box.setCurrentIndex(toolbar.window_box.findText("1 h"))
    for plot in (soc, power):
        assert plot.window_s() == 3600.0
        assert plot.visible_range() == (T0 + 3599 - 3600, T0 + 3599)
    toolbar.set_window_s(60)
    assert toolbar.window_box.currentText() == "1 min" and power.visible_range()[0] == T0 + 3599 - 60


def test_follow_button_pauses_and_resumes_all(group):
    rb, toolbar, soc, power = group
    assert toolbar.follow_button.isChecked()
    toolbar.follow_button.click()
    assert not soc.is_following() and not power.is_following()
    assert toolbar.follow_button.text().endswith("Paused")
    toolbar.follow_button.click()
    assert soc.is_following() and power.is_following()


def test_pan_in_one_plot_pauses_and_moves_the_group(group, qtbot):
    rb, toolbar, soc, power = group
    viewport = power.plot_widget.viewport()
    centre = power.plot_widget.mapFromScene(power.view_box.sceneBoundingRect().center())
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=centre)
    for dx in (10, 60, 120):
        qtbot.mouseMove(viewport, centre + QPoint(dx, 0))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=centre + QPoint(120, 0))
    assert not toolbar.follow_button.isChecked()
    assert not soc.is_following() and not power.is_following()
    assert soc.visible_range() == pytest.approx(power.visible_range())
    assert power.visible_range()[1] < T0 + 3599 - 30
    toolbar.reset_button.click()
    assert toolbar.follow_button.isChecked() and soc.is_following()
    assert soc.visible_range() == (T0 + 3599 - 600, T0 + 3599)


def test_export_csv_through_the_dialog_writes_one_file_per_plot(group, tmp_path, monkeypatch):
    rb, toolbar, soc, power = group
    target = tmp_path / "site.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "CSV files (*.csv)"))
    with_paths = []
    toolbar.exported.connect(with_paths.append)
    toolbar.csv_button.click()
    expected = [str(tmp_path / "site-battery-soc.csv"), str(tmp_path / "site-battery-power.csv")]
    assert with_paths == [expected]
    soc_rows = list(csv.reader(Path(expected[0]).read_text(encoding="utf-8").splitlines()))
    power_rows = list(csv.reader(Path(expected[1]).read_text(encoding="utf-8").splitlines()))
    assert soc_rows[0] == ["time_utc", "soc_pct [%]"] and power_rows[0] == ["time_utc", "battery_power_w [W]"]
    assert len(soc_rows) == len(power_rows) == 1 + 601  # 10 min window at 1 Hz, both ends included
    assert float(power_rows[-1][1]) == 1000.0 - 3599


def test_cancelled_dialog_writes_nothing(group, tmp_path, monkeypatch):
    rb, toolbar, soc, power = group
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    toolbar.png_button.click()
    assert list(tmp_path.iterdir()) == []


def test_export_png_single_plot(qtbot, tmp_path):
    plot = TimePlot("PV")
    qtbot.addWidget(plot)
    toolbar = PlotToolbar([plot])
    qtbot.addWidget(toolbar)
    assert toolbar.export_png_to(tmp_path / "pv.png") == [str(tmp_path / "pv.png")]
    assert (tmp_path / "pv.png").stat().st_size > 1000


def test_linked_plots_with_different_buffers_settle(qtbot):
    a_buf, b_buf = RingBuffer(100, ["a_w"]), RingBuffer(100, ["b_w"])
    for k in range(50):
        a_buf.append(T0 + k, {"a_w": k})
        b_buf.append(T0 + k + 0.5, {"b_w": k})
    a, b = TimePlot("A", window_s=20), TimePlot("B", window_s=20)
    a.set_source(a_buf, ["a_w"], "W")
    b.set_source(b_buf, ["b_w"], "W")
    toolbar = PlotToolbar([a, b])
    for w in (a, b, toolbar):
        qtbot.addWidget(w)
    a_buf.append(T0 + 60, {"a_w": 1})
    b_buf.append(T0 + 61, {"b_w": 1})
    a.refresh()
    b.refresh()
    assert a.visible_range() == b.visible_range() == (T0 + 41, T0 + 61)


def test_crosshair_follows_the_mouse_in_every_linked_plot(group, qtbot):
    rb, toolbar, soc, power = group
    scene_pos = power.view_box.mapViewToScene(power.view_box.viewRect().center())
    qtbot.mouseMove(power.plot_widget.viewport(), power.plot_widget.mapFromScene(scene_pos))
    t = power.crosshair_time()
    assert t is not None and soc.crosshair_time() == t and soc.crosshair.isVisible()
    k = int(t - T0)
    assert f"soc_pct {50 + k / 360:.0f} %" in soc.readout_text()
    qtbot.wait(60)  # pyqtgraph drops mouse moves that come faster than its frame rate
    qtbot.mouseMove(power.plot_widget.viewport(), QPoint(2, 2))  # over the value axis, off the data
    assert power.crosshair_time() is None and soc.crosshair_time() is None
