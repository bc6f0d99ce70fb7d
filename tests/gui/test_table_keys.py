"""Keyboard editing in the Parameters table: Enter or F2 on the selected row edits its value at once (no
Right arrow first, though rows are selected whole), and the hint says so."""

from __future__ import annotations

import pytest
from gui_helpers import connect_tcp
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QAbstractSpinBox, QApplication, QLabel

from desktop.ui.commissioning.param_model import STATUS_COL, VALUE_COL

pytestmark = pytest.mark.gui
WAIT_MS = 8000


def select_row_by_click(qtbot, table, row: int) -> None:
    """Click the row's first cell (the setting's name), as a user would: the current cell is not the value."""
    rect = table.visualRect(table.model().index(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert table.currentIndex().column() == 0


@pytest.mark.parametrize("key", [Qt.Key.Key_F2, Qt.Key.Key_Return, Qt.Key.Key_Enter])
def test_enter_or_f2_edits_the_selected_rows_value(qtbot, window, sim, key):
    dev = sim.device(1)
    connect_tcp(qtbot, window, sim)
    window.show_page("Parameters")
    page = window.page("Parameters")
    qtbot.waitUntil(lambda: page.model.rowCount() > 5, timeout=WAIT_MS)
    hint = page.findChild(QLabel, "parametersHint")
    assert "Double-click, Enter or F2 to edit" in hint.text()
    table = page.table
    row = page.model.row_of("ct_ratio")
    select_row_by_click(qtbot, table, row)

    qtbot.keyClick(table, key)
    assert table.state() == QAbstractItemView.State.EditingState
    assert table.currentIndex() == page.model.index(row, VALUE_COL)
    editor = QApplication.focusWidget()
    while editor is not None and not isinstance(editor, QAbstractSpinBox):
        editor = editor.parentWidget()
    assert editor is not None and editor.objectName() == "edit_ct_ratio"
    editor.selectAll()
    qtbot.keyClicks(editor, "150")
    qtbot.keyClick(editor, Qt.Key.Key_Return)       # commits; the page validates, writes and reads back
    status = page.model.index(row, STATUS_COL)
    qtbot.waitUntil(lambda: (status.data() or "").startswith("Verified"), timeout=WAIT_MS)
    assert dev.value_of("ct_ratio") == 150
    assert table.state() != QAbstractItemView.State.EditingState


def test_enter_on_a_row_that_cannot_be_edited_now_does_nothing(qtbot, window, sim):
    connect_tcp(qtbot, window, sim)
    window.show_page("Parameters")
    page = window.page("Parameters")
    qtbot.waitUntil(lambda: page.model.rowCount() > 5, timeout=WAIT_MS)
    row = page.model.row_of("ct_ratio")
    select_row_by_click(qtbot, page.table, row)
    page.model.busy.add("ct_ratio")                 # a write of this setting is under way
    qtbot.keyClick(page.table, Qt.Key.Key_F2)
    assert page.table.state() != QAbstractItemView.State.EditingState
