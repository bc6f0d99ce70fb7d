"""CustomersPage: the customers list, one record's form, consent, sync and the customer's rights.

Self-contained: give it a RecordsService (and the app's Worker). Left:
search (every word must match, across all fields) and the list with each
record's cloud-sync status (CustomerList, customer_list.py). Right: the selected record
-- consent per purpose (ConsentBox, which opens ConsentDialog), the form
(RecordForm), and the rights as actions (RightsActions, customer_rights.py):
save a correction, history, export JSON, restrict / lift restriction,
delete (after confirmation). A banner (ConflictBanner) offers the two
versions when a sync found a conflicting edit. "Sync now" runs the sync on
the Worker, so the page never blocks on the network.
Thread: GUI thread; only the sync itself runs on a worker thread.
"""
from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.records.consent import PURPOSES
from desktop.records.errors import RecordsError
from desktop.records.sync_config import STATUS_TEXT
from desktop.ui.shell.confirm_dialogs import confirm_by_typing
from desktop.ui.shell.worker import Worker, shared_worker

from .conflict_banner import ConflictBanner
from .consent_box import ConsentBox
from .consent_dialog import ConsentDialog
from .customer_list import CustomerList
from .customer_rights import RightsActions
from .customer_table import STATUS_COLOUR
from .record_form import RecordForm

__all__ = ["CustomersPage"]


class CustomersPage(RightsActions, QWidget):
    """The Customers tab; ``syncFinished(text)`` after each sync with its one-line summary or error."""

    syncFinished = Signal(str)

    def __init__(self, service, parent: QWidget | None = None, worker: Worker | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.worker = worker or shared_worker()
        self.current_id: str | None = None
        root = QHBoxLayout(self)
        split = QSplitter(Qt.Orientation.Horizontal)
        root.addWidget(split)

        # -- left: search and list ---------------------------------------------------
        self.customer_list = CustomerList(service)
        self.alert, self.search, self.model, self.table = (self.customer_list.alert, self.customer_list.search, self.customer_list.model,
                                                           self.customer_list.table)
        self.count_label, self.sync_label = self.customer_list.count_label, self.customer_list.sync_label
        self.new_button, self.sync_button, self.review_button = (self.customer_list.new_button, self.customer_list.sync_button,
                                                                 self.customer_list.review_button)
        self.requests_button, self.receipt_button = self.customer_list.requests_button, self.customer_list.receipt_button
        self.last_receipt_id: str | None = None
        self.alert.acknowledged.connect(self.refresh)
        self.customer_list.searchChanged.connect(self.refresh)
        self.customer_list.recordChosen.connect(self._record_chosen)
        for button, action in ((self.new_button, self.new_customer), (self.sync_button, self.start_sync),
                               (self.review_button, self.review_expired), (self.requests_button, self.show_requests),
                               (self.receipt_button, self.save_receipt)):
            button.clicked.connect(action)
        split.addWidget(self.customer_list)

        # -- right: the record ------------------------------------------------------------
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(6, 0, 0, 0)
        self.title = QLabel("New customer")
        f = self.title.font()
        f.setPointSizeF(f.pointSizeF() * 1.4)
        f.setBold(True)
        self.title.setFont(f)
        self.badge = QLabel()
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.badge)
        rl.addLayout(head)

        self.banner = ConflictBanner()
        self.banner_text, self.keep_local, self.keep_remote = self.banner.text, self.banner.keep_local, \
            self.banner.keep_remote
        self.banner.keepChosen.connect(self.resolve_conflict)
        rl.addWidget(self.banner)

        self.consent_box = ConsentBox()
        self.consent_labels, self.consent_buttons = self.consent_box.labels, self.consent_box.buttons
        self.consent_box.editRequested.connect(self.edit_consent)
        rl.addWidget(self.consent_box)

        self.form = RecordForm()
        self.form.changed.connect(lambda: self.save_button.setEnabled(True))
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.form)
        rl.addWidget(scroll, 1)

        actions = QHBoxLayout()
        self.save_button = QPushButton("Save")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        self.history_button = QPushButton("History…")
        self.history_button.setToolTip("Every access, change, export, share and sync of this record")
        self.history_button.clicked.connect(self.show_history)
        self.export_button = QPushButton("Export JSON…")
        self.export_button.clicked.connect(self.export_current)
        self.restrict_button = QPushButton("Restrict processing")
        self.restrict_button.clicked.connect(self.toggle_restriction)
        self.delete_button = QPushButton("Delete customer…")
        self.delete_button.setStyleSheet("QPushButton { color: #C0392B; }")
        self.delete_button.clicked.connect(self.delete_current)
        actions.addWidget(self.save_button)
        actions.addStretch(1)
        for b in (self.history_button, self.export_button, self.restrict_button, self.delete_button):
            actions.addWidget(b)
        rl.addLayout(actions)
        split.addWidget(right)
        split.setStretchFactor(0, 5)
        split.setStretchFactor(1, 4)
        split.setSizes([660, 600])

        self.refresh()
        self.new_customer()

    # -- hooks (replaceable in tests) -----------------------------------------------------
    def ask_confirm(self, title: str, text: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, title, text,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setDefaultButton(QMessageBox.StandardButton.No)  # Enter never confirms by accident
        return box.exec() == QMessageBox.StandardButton.Yes

    def ask_typed_confirm(self, title: str, text: str, expected: str) -> bool:
        """An erasure: the button works only once the customer's name is typed; Cancel is the default."""
        return confirm_by_typing(self, title, text, expected, "Delete for good")

    def ask_save_path(self, suggested: str) -> str:
        return QFileDialog.getSaveFileName(self, "Export customer data", suggested, "JSON (*.json)")[0]

    def run_dialog(self, dialog: QDialog) -> int:
        return dialog.exec()

    def notify(self, text: str) -> None:
        self.sync_label.setText(text)

    # -- list ------------------------------------------------------------------------------
    def refresh(self) -> None:
        self.alert.refresh()
        text = self.customer_list.search_text()
        rows = self.service.search(text) if text else self.service.list_customers()
        keep = self.current_id
        self.customer_list.show_rows(rows, self.service.count(), len(self.service.expired()))
        if keep:
            self.select(keep, load=False)

    def select(self, rid: str, load: bool = True) -> None:
        self.customer_list.select_row(rid, quiet=not load)
        if load:
            self.load(rid)

    def _record_chosen(self, rid: str) -> None:
        if rid != self.current_id:
            self.load(rid)

    # -- one record ------------------------------------------------------------------------
    def load(self, rid: str) -> None:
        try:
            c = self.service.get_customer(rid)
        except RecordsError as exc:
            self.form.show_error(str(exc))
            return
        self.current_id = rid
        self.title.setText(c.name)
        self.form.set_customer(c)
        self.form.set_read_only(c.restricted)
        self._update_state(c)

    def _update_state(self, c) -> None:
        status = self.service.sync_status(c.id) if c else "local"
        colour = STATUS_COLOUR.get(status, "#777777")
        self.badge.setText(f'<span style="color:{colour}; font-weight:600">● {STATUS_TEXT[status]}</span>'
                           if c else "")
        self.banner.setVisible(status == "conflict")
        if status == "conflict":
            self.banner.show_versions(self._conflict_versions(c.id))
        for key in PURPOSES:
            self.consent_box.show_purpose(key, self.service.consent_status(c.id, key) if c else "none",
                                          self.service.consent_entry(c.id, key) if c else None,
                                          editable=c is not None and not c.restricted)
        for b in (self.history_button, self.export_button, self.restrict_button, self.delete_button):
            b.setEnabled(c is not None)
        self.restrict_button.setText("Lift restriction" if c and c.restricted else "Restrict processing")
        self.save_button.setEnabled(c is None)
        self.save_button.setText("Add customer" if c is None else "Save changes")

    def _conflict_versions(self, rid: str):
        """(this laptop's, the other laptop's) version of the record, or None when they cannot be read."""
        try:
            return self.service.conflict_versions(rid)
        except RecordsError:
            return None

    def new_customer(self) -> None:
        self.current_id = None
        self.table.clearSelection()
        self.title.setText("New customer")
        self.form.set_customer(None)
        self.form.set_read_only(False)
        self._update_state(None)

    def save(self) -> None:
        try:
            values = self.form.values()
            if self.current_id is None:
                rid = self.service.add_customer(values)
            else:
                rid = self.current_id
                self.service.update_customer(rid, values)
        except RecordsError as exc:
            self.form.show_error(str(exc))
            return
        self.current_id = rid
        self.refresh()
        self.select(rid)

    def edit_consent(self, purpose: str) -> None:
        rid = self.current_id
        dlg = ConsentDialog(purpose, self.service.consent_status(rid, purpose),
                            self.service.consent_entry(rid, purpose),
                            self.service.policy_version, self.service.installer, self,
                            text=self.service.consent_text(purpose))
        if self.run_dialog(dlg) != QDialog.DialogCode.Accepted or dlg.decision is None:
            return
        try:
            if dlg.decision == "grant":
                self.service.grant_consent(rid, purpose, dlg.method_key, installer=dlg.installer_name)
            else:
                self.service.withdraw_consent(rid, purpose, remove_remote=False)
                self.sync_if_pending()
        except RecordsError as exc:
            self.form.show_error(str(exc))
        self.refresh()
        self.load(rid)

    def resolve_conflict(self, keep: str) -> None:
        try:
            self.service.resolve_conflict(self.current_id, keep)
        except RecordsError as exc:
            self.form.show_error(str(exc))
        self.refresh()
        self.load(self.current_id)

    # -- sync ----------------------------------------------------------------------------------
    def sync_if_pending(self) -> None:
        """A withdrawal, restriction or deletion removes the cloud copy at once, off the GUI thread."""
        if self.service.pending_remote_removals() and self.service.sync_target() is not None \
                and self.service.sync_key_fingerprint() and self.sync_button.isEnabled():
            self.start_sync()

    def start_sync(self) -> None:
        self.sync_button.setEnabled(False)
        self.notify("Syncing…")
        self.worker.run(self.service.sync, lambda report: self._sync_done(report.summary()),
                        lambda exc: self._sync_done(str(exc) if isinstance(exc, RecordsError)
                                                    else f"Sync failed: {type(exc).__name__}"))

    def _sync_done(self, text: str) -> None:
        self.sync_button.setEnabled(True)
        self.notify(f"{time.strftime('%H:%M')} — {text}")
        self.refresh()
        if self.current_id and self.service.contains(self.current_id):
            self.load(self.current_id)
        self.syncFinished.emit(text)
