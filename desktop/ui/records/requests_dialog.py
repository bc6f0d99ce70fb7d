"""RequestsDialog: the register of customers' requests with its 30-day clock, and its export.

Lists every request (kind, record, received, due, status, days left; overdue
ones in red), opens a new one for the selected record (kind and how the
requester's identity was checked), closes one, and exports the register as
JSON (owner-only file). Talks only to RecordsService's public methods.
GUI thread.
"""
from __future__ import annotations

import json
import time

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from widgets.screen_fit import fit_to_screen

from desktop.records.errors import RecordsError
from desktop.records.requests import KINDS

_COLS = ("Request", "Kind", "Record", "Received", "Due", "Status")


def _day(ts) -> str:
    return "" if ts is None else time.strftime("%Y-%m-%d", time.localtime(ts))


class RequestsDialog(QDialog):
    def __init__(self, service, record_id: str | None = None, parent=None) -> None:
        super().__init__(parent)
        self.service, self.record_id = service, record_id
        self.setWindowTitle("Customers' requests")
        fit_to_screen(self, 760, 420)
        lay = QVBoxLayout(self)
        self.table = QTableWidget(0, len(_COLS))
        self.table.setObjectName("requests_table")
        self.table.setHorizontalHeaderLabels(_COLS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setStretchLastSection(True)
        lay.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.kind = QComboBox()
        self.kind.addItems(KINDS)
        self.identity = QLineEdit()
        self.identity.setPlaceholderText("How the requester's identity was checked (e.g. ID card seen)")
        self.open_button = QPushButton("Open request for this customer")
        self.open_button.setEnabled(record_id is not None)
        self.open_button.clicked.connect(self.open_request)
        self.close_button = QPushButton("Mark done")
        self.close_button.clicked.connect(self.close_selected)
        for w in (self.kind, self.identity, self.open_button, self.close_button):
            row.addWidget(w, 1 if w is self.identity else 0)
        lay.addLayout(row)
        self.error = QLabel()
        self.error.setStyleSheet("color: #C0392B;")
        lay.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        export = buttons.addButton("Export JSON…", QDialogButtonBox.ButtonRole.ActionRole)
        export.clicked.connect(self.export)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.refresh()

    def ask_path(self, suggested: str) -> str:
        return QFileDialog.getSaveFileName(self, "Export the requests register", suggested, "JSON (*.json)")[0]

    def refresh(self) -> None:
        rows = self.service.requests()
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            status = r["status"] + ("" if r["days_left"] is None else f" ({r['days_left']} days left)")
            for col, value in enumerate((r["request_id"], r["kind"], r["record_id"] or "", _day(r["received_at"]),
                                         _day(r["due_at"]), status)):
                item = QTableWidgetItem(value)
                if r["status"] == "overdue":
                    item.setForeground(QColor("#C0392B"))
                self.table.setItem(i, col, item)
        self.table.resizeColumnsToContents()

    def open_request(self) -> None:
        try:
            self.service.open_request(self.kind.currentText(), self.record_id, self.identity.text())
        except RecordsError as exc:
            self.error.setText(str(exc))
            return
        self.error.clear()
        self.identity.clear()
        self.refresh()

    def close_selected(self) -> None:
        row = self.table.currentRow()
        if row < 0:
            return
        self.service.close_request(self.table.item(row, 0).text(), "done")
        self.refresh()

    def export(self) -> None:
        path = self.ask_path("requests-register.json")
        if not path:
            return
        from desktop.records.files import write_private
        try:
            write_private(path, json.dumps(self.service.requests_export(), indent=2).encode())
        except (RecordsError, OSError) as exc:
            self.error.setText(f"Export failed: {exc}")
