"""A dialog asks for its preferred size and gets at most its screen's free area (less a margin)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog

from widgets.screen_fit import MARGIN_PX, fit_to_screen


def test_a_dialog_larger_than_the_screen_is_cut_to_it_and_a_small_one_keeps_its_size(qtbot):
    dialog = QDialog()
    qtbot.addWidget(dialog)
    free = dialog.screen().availableGeometry()
    w, h = fit_to_screen(dialog, free.width() + 500, free.height() + 500)
    assert (w, h) == (free.width() - MARGIN_PX, free.height() - MARGIN_PX) == (dialog.width(), dialog.height())
    assert fit_to_screen(dialog, 300, 200) == (300, 200) and dialog.size().toTuple() == (300, 200)


def test_a_wizard_sized_dialog_fits_a_short_laptop_screen(qtbot, monkeypatch):
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QScreen
    monkeypatch.setattr(QScreen, "availableGeometry", lambda self: QRect(0, 0, 911, 512))  # 1366x768 at 150 %
    dialog = QDialog()
    qtbot.addWidget(dialog)
    assert fit_to_screen(dialog, 820, 640) == (820, 512 - MARGIN_PX)
