"""HistoryDialog: one customer record's audit entries -- what was done, when, by whom.

GUI thread. Shows plain data: the entries the records service returns
(``audit_entries``), which hold no personal data. Read-only; Close is its
only button.
"""

from __future__ import annotations

import time

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from widgets.screen_fit import fit_to_screen


def _detail_text(detail: dict) -> str:
    return ", ".join(f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in detail.items())


class HistoryDialog(QDialog):
    """A table of ``entries`` (dicts with ts, action, installer, detail)."""

    def __init__(self, entries: list[dict], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("History of this customer record")
        fit_to_screen(self, 640, 420)
        lay = QVBoxLayout(self)
        self.table = QTableWidget(len(entries), 4)
        self.table.setObjectName("history_table")
        self.table.setHorizontalHeaderLabels(["When", "What", "By", "Details"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        for row, e in enumerate(entries):
            for col, value in enumerate((time.strftime("%Y-%m-%d %H:%M", time.localtime(e["ts"])),
                                         e["action"].replace("_", " "), e["installer"], _detail_text(e["detail"]))):
                self.table.setItem(row, col, QTableWidgetItem(value))
        self.table.resizeColumnsToContents()
        lay.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
