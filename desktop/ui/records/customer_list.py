"""CustomerList: the left side of the Customers page -- the store's alert, search, the list and its buttons.

GUI thread. Shows plain data: the summaries the page hands it
(``show_rows``) in a CustomerTableModel; it never talks to the store (only
the StoreAlert reads the service's integrity state). Typing in the search
box asks for new rows 150 ms after the last key (``searchChanged``);
choosing a row says which record (``recordChosen(id)``). The buttons' clicks
are wired by the page.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from .customer_table import CustomerTableModel
from .records_alert import StoreAlert


class CustomerList(QWidget):
    """Search, the customers table, the count and the list's actions, and the sync status line."""

    searchChanged = Signal()
    recordChosen = Signal(str)

    def __init__(self, service, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        ll = QVBoxLayout(self)
        ll.setContentsMargins(0, 0, 6, 0)
        self.alert = StoreAlert(service)
        ll.addWidget(self.alert)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search name, phone, e-mail, address, site or serial number")
        self.search.setClearButtonEnabled(True)
        self._search_timer = QTimer(self, singleShot=True, interval=150)
        self._search_timer.timeout.connect(self.searchChanged)
        self.search.textChanged.connect(lambda _: self._search_timer.start())
        ll.addWidget(self.search)
        self.model = CustomerTableModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.verticalHeader().setDefaultSectionSize(28)
        hh = self.table.horizontalHeader()
        hh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col, width in ((1, 170), (2, 120), (3, 52), (4, 150)):
            hh.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            hh.resizeSection(col, width)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        ll.addWidget(self.table, 1)
        bar = QHBoxLayout()
        self.count_label = QLabel()
        self.new_button = QPushButton("New customer")
        self.sync_button = QPushButton("Sync now")
        self.review_button = QPushButton("Review expired…")
        self.review_button.setStyleSheet("QPushButton { color: #C27C00; }")
        self.requests_button = QPushButton("Requests…")
        self.requests_button.setToolTip("Customers' requests (access, correction, export, restriction, "
                                        "deletion) with their 30-day clock")
        self.receipt_button = QPushButton("Save erasure receipt…")
        self.receipt_button.hide()
        bar.addWidget(self.count_label, 1)
        for b in (self.receipt_button, self.requests_button, self.review_button, self.new_button, self.sync_button):
            bar.addWidget(b)
        ll.addLayout(bar)
        self.sync_label = QLabel("Not synced in this session")
        self.sync_label.setWordWrap(True)
        self.sync_label.setStyleSheet("color: palette(placeholder-text);")
        ll.addWidget(self.sync_label)

    def search_text(self) -> str:
        return self.search.text().strip()

    def show_rows(self, rows: list, total: int, expired: int) -> None:
        """Show ``rows`` (all, or the search's matches) of ``total`` records; ``expired`` are past retention."""
        self.model.set_rows(rows)
        noun = "customer" if total == 1 else "customers"
        self.count_label.setText(f"{len(rows)} of {total} {noun}" if self.search_text() else f"{total} {noun}")
        self.review_button.setText(f"Review expired ({expired})…")
        self.review_button.setVisible(expired > 0)

    def select_row(self, rid: str, quiet: bool) -> None:
        """Select the row of record ``rid`` (if listed); ``quiet``: without the table's signals."""
        for i, r in enumerate(self.model.rows):
            if r.id == rid:
                self.table.blockSignals(quiet)
                self.table.selectRow(i)
                self.table.blockSignals(False)
                return

    def _row_changed(self, current: QModelIndex, _previous) -> None:
        if current.isValid():
            self.recordChosen.emit(self.model.rows[current.row()].id)
