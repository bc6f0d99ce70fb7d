"""CustomersPage: the customers list, one record's form, consent, sync and the customer's rights.

Self-contained: give it a RecordsService. Left: search (every word must
match, across all fields) and the list with each record's cloud-sync status.
Right: the selected record -- consent per purpose (opens ConsentDialog), the
form (RecordForm), and the rights as actions: save a correction, export JSON,
restrict / lift restriction, delete (after confirmation). A banner offers
the two versions when a sync found a conflicting edit. "Sync now" runs the
sync on a QThreadPool worker, so the page never blocks on the network.
Thread: GUI thread; only the sync runnable runs elsewhere.
"""
from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.records.consent import PURPOSES
from desktop.records.errors import RecordsError
from desktop.records.sync_config import STATUS_TEXT
from desktop.ui.shell.confirm_dialogs import confirm_by_typing

from .consent_dialog import STATUS_TEXT as CONSENT_TEXT
from .consent_dialog import ConsentDialog
from .record_form import RecordForm
from .records_alert import StoreAlert
from .requests_dialog import RequestsDialog

_STATUS_COLOUR = {"synced": "#2E9E5B", "pending": "#C27C00", "conflict": "#D0343A",
                  "renew": "#C27C00", "restricted": "#8E44AD"}
_COLUMNS = ("Name", "Contact", "Site", "kWp", "Cloud sync")


class CustomerTableModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list = []

    def set_rows(self, rows: list) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return len(_COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _COLUMNS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        r = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (r.name, r.contact, r.site,
                    "" if r.capacity_kwp is None else f"{r.capacity_kwp:.1f}",
                    STATUS_TEXT.get(r.sync_status, r.sync_status))[col]
        if role == Qt.ItemDataRole.ForegroundRole and col == 4 and r.sync_status in _STATUS_COLOUR:
            return QColor(_STATUS_COLOUR[r.sync_status])
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.UserRole:
            return r.id
        return None


class _SyncSignals(QObject):
    done = Signal(object, str)  # (SyncReport | None, error text)


class _SyncJob(QRunnable):
    def __init__(self, service) -> None:
        super().__init__()
        self.service, self.signals = service, _SyncSignals()

    def run(self) -> None:
        try:
            self.signals.done.emit(self.service.sync(), "")
        except RecordsError as exc:
            self.signals.done.emit(None, str(exc))
        except Exception as exc:  # never let a worker die silently
            self.signals.done.emit(None, f"Sync failed: {type(exc).__name__}")


class CustomersPage(QWidget):
    syncFinished = Signal(str)

    def __init__(self, service, parent: QWidget | None = None, worker=None) -> None:
        super().__init__(parent)
        self.service = service
        self.current_id: str | None = None
        self._jobs: list[_SyncJob] = []
        root = QHBoxLayout(self)
        split = QSplitter(Qt.Orientation.Horizontal)
        root.addWidget(split)

        # -- left: search and list ---------------------------------------------------
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 6, 0)
        self.alert = StoreAlert(service)
        self.alert.acknowledged.connect(self.refresh)
        ll.addWidget(self.alert)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search name, phone, e-mail, address, site or serial number")
        self.search.setClearButtonEnabled(True)
        self._search_timer = QTimer(self, singleShot=True, interval=150)
        self._search_timer.timeout.connect(self.refresh)
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
        self.new_button.clicked.connect(self.new_customer)
        self.sync_button = QPushButton("Sync now")
        self.sync_button.clicked.connect(self.start_sync)
        self.review_button = QPushButton("Review expired…")
        self.review_button.setStyleSheet("QPushButton { color: #C27C00; }")
        self.review_button.clicked.connect(self.review_expired)
        self.requests_button = QPushButton("Requests…")
        self.requests_button.setToolTip("Customers' requests (access, correction, export, restriction, "
                                        "deletion) with their 30-day clock")
        self.requests_button.clicked.connect(self.show_requests)
        self.receipt_button = QPushButton("Save erasure receipt…")
        self.receipt_button.clicked.connect(self.save_receipt)
        self.receipt_button.hide()
        self.last_receipt_id: str | None = None
        bar.addWidget(self.count_label, 1)
        bar.addWidget(self.receipt_button)
        bar.addWidget(self.requests_button)
        bar.addWidget(self.review_button)
        bar.addWidget(self.new_button)
        bar.addWidget(self.sync_button)
        ll.addLayout(bar)
        self.sync_label = QLabel("Not synced in this session")
        self.sync_label.setWordWrap(True)
        self.sync_label.setStyleSheet("color: palette(placeholder-text);")
        ll.addWidget(self.sync_label)
        split.addWidget(left)

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

        self.banner = QFrame()
        self.banner.setStyleSheet("QFrame { background: #FDECEA; border: 1px solid #D0343A; border-radius: 4px; }"
                                  "QLabel { color: #7A1A1D; border: none; }")
        bl = QHBoxLayout(self.banner)
        self.banner_text = QLabel("This record was also changed on another laptop. Choose the version to keep.")
        self.banner_text.setWordWrap(True)
        self.keep_local = QPushButton("Keep this laptop's")
        self.keep_remote = QPushButton("Take the other laptop's")
        self.keep_local.clicked.connect(lambda: self.resolve_conflict("local"))
        self.keep_remote.clicked.connect(lambda: self.resolve_conflict("remote"))
        bl.addWidget(self.banner_text, 1)
        bl.addWidget(self.keep_local)
        bl.addWidget(self.keep_remote)
        self.banner.hide()
        rl.addWidget(self.banner)

        consent_box = QFrame()
        consent_box.setFrameShape(QFrame.Shape.StyledPanel)
        grid = QGridLayout(consent_box)
        grid.addWidget(QLabel("<b>Consent</b>"), 0, 0, 1, 3)
        self.consent_labels: dict[str, QLabel] = {}
        self.consent_buttons: dict[str, QPushButton] = {}
        for row, key in enumerate(PURPOSES, 1):
            grid.addWidget(QLabel(PURPOSES[key].title), row, 0)
            self.consent_labels[key] = QLabel()
            grid.addWidget(self.consent_labels[key], row, 1)
            btn = QPushButton("Consent…")
            btn.clicked.connect(lambda _=False, k=key: self.edit_consent(k))
            self.consent_buttons[key] = btn
            grid.addWidget(btn, row, 2)
        grid.setColumnStretch(1, 1)
        rl.addWidget(consent_box)

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
        text = self.search.text().strip()
        rows = self.service.search(text) if text else self.service.list_customers()
        keep = self.current_id
        self.model.set_rows(rows)
        total = self.service.count()
        noun = "customer" if total == 1 else "customers"
        self.count_label.setText(f"{len(rows)} of {total} {noun}" if text else f"{total} {noun}")
        due = len(self.service.expired())
        self.review_button.setText(f"Review expired ({due})…")
        self.review_button.setVisible(due > 0)
        if keep:
            self.select(keep, load=False)

    def select(self, rid: str, load: bool = True) -> None:
        for i, r in enumerate(self.model.rows):
            if r.id == rid:
                self.table.blockSignals(load is False)
                self.table.selectRow(i)
                self.table.blockSignals(False)
                break
        if load:
            self.load(rid)

    def _row_changed(self, current: QModelIndex, _previous) -> None:
        if current.isValid():
            rid = self.model.rows[current.row()].id
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
        colour = _STATUS_COLOUR.get(status, "#777777")
        self.badge.setText(f'<span style="color:{colour}; font-weight:600">● {STATUS_TEXT[status]}</span>'
                           if c else "")
        self.banner.setVisible(status == "conflict")
        if status == "conflict":
            self.banner_text.setText(self._conflict_text(c.id))
        for key in PURPOSES:
            st = self.service.consent_status(c.id, key) if c else "none"
            entry = self.service.consent_entry(c.id, key) if c else None
            text = CONSENT_TEXT[st]
            if entry and st == "granted":
                text += f" ({time.strftime('%Y-%m-%d', time.localtime(entry['granted_at']))})"
            colour = {"granted": "#2E9E5B", "renew": "#C27C00", "withdrawn": "#D0343A"}.get(st)
            self.consent_labels[key].setText(f'<span style="color:{colour}">{text}</span>' if colour else text)
            self.consent_buttons[key].setEnabled(c is not None and not c.restricted)
            self.consent_buttons[key].setText("Change…" if st in ("granted", "renew") else "Ask…")
        for b in (self.history_button, self.export_button, self.restrict_button, self.delete_button):
            b.setEnabled(c is not None)
        self.restrict_button.setText("Lift restriction" if c and c.restricted else "Restrict processing")
        self.save_button.setEnabled(c is None)
        self.save_button.setText("Add customer" if c is None else "Save changes")

    def _conflict_text(self, rid: str) -> str:
        """Which fields differ between this laptop's and the other laptop's version, and how."""
        try:
            local, remote = self.service.conflict_versions(rid)
        except RecordsError:
            return "This record was also changed on another laptop. Choose the version to keep."
        labels = {"name": "Name", "phone": "Phone", "email": "E-mail", "postal_address": "Postal address",
                  "notes": "Notes"}
        lines = []
        for key, label in labels.items():
            a, b = getattr(local, key), getattr(remote, key)
            if a != b:
                lines.append(f"<b>{label}</b>: here “{_short(a)}” · other laptop “{_short(b)}”")
        if [s.__dict__ for s in local.sites] != [s.__dict__ for s in remote.sites]:
            lines.append("<b>Sites</b> differ")
        if local.consents != remote.consents:
            lines.append("<b>Consent entries</b> differ")
        return ("This record was also changed on another laptop. Choose the version to keep."
                + ("<br>" + "<br>".join(lines) if lines else ""))

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
                self.service.grant_consent(rid, purpose, dlg.method_key)
            else:
                self.service.withdraw_consent(rid, purpose, remove_remote=False)
                self._sync_if_pending()
        except RecordsError as exc:
            self.form.show_error(str(exc))
        self.refresh()
        self.load(rid)

    # -- rights -------------------------------------------------------------------------------
    def show_history(self) -> None:
        """The record's audit entries: what was done, when, by whom (no personal data in them)."""
        entries = self.service.audit_entries(self.current_id)
        dlg = QDialog(self)
        dlg.setWindowTitle("History of this customer record")
        dlg.resize(640, 420)
        lay = QVBoxLayout(dlg)
        table = QTableWidget(len(entries), 4)
        table.setObjectName("history_table")
        table.setHorizontalHeaderLabels(["When", "What", "By", "Details"])
        table.verticalHeader().hide()
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.horizontalHeader().setStretchLastSection(True)
        for row, e in enumerate(entries):
            detail = ", ".join(f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
                               for k, v in e["detail"].items())
            for col, value in enumerate((time.strftime("%Y-%m-%d %H:%M", time.localtime(e["ts"])),
                                         e["action"].replace("_", " "), e["installer"], detail)):
                table.setItem(row, col, QTableWidgetItem(value))
        table.resizeColumnsToContents()
        lay.addWidget(table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dlg.reject)
        lay.addWidget(buttons)
        self.run_dialog(dlg)

    def export_current(self) -> None:
        path = self.ask_save_path(f"customer-{self.current_id}.json")
        if not path:
            return
        try:
            from desktop.records.files import write_private
            write_private(Path(path), self.service.export_json(self.current_id).encode("utf-8"))
        except (RecordsError, OSError) as exc:
            self.form.show_error(f"Export failed: {exc}")
            return
        self.notify(f"Exported to {path}")

    def toggle_restriction(self) -> None:
        rid = self.current_id
        if self.service.is_restricted(rid):
            try:
                self.service.unrestrict(rid)
            except RecordsError as exc:
                self.form.show_error(str(exc))
        elif self.ask_confirm("Restrict processing",
                              "Keep this record but stop processing and syncing it until the "
                              "restriction is lifted? A copy in the cloud is removed."):
            try:
                self.service.restrict(rid, remove_remote=False)
            except RecordsError as exc:
                self.form.show_error(str(exc))
            self._sync_if_pending()
        self.refresh()
        self.load(rid)

    def delete_current(self) -> None:
        rid = self.current_id
        shared = self.service.sync_status(rid) != "local" or rid in self.service.pending_remote_removals()
        bucket = (" and every stored version of it in the sync bucket is deleted (at once when online, else at "
                  "the next sync)" if shared else "")
        limits = self.service.erasure_limits()
        name = self.service.get_customer(rid).name
        if not self.ask_typed_confirm("Delete customer",
                                "Delete this customer with all sites, documents and consent entries?\n\n"
                                f"Its key is destroyed{bucket}: it cannot be restored from this laptop, from "
                                "the bucket, or from a backup of the records database.\n\nNot reached: "
                                + " ".join(limits[1:]) + "\n\nYou get an erasure receipt listing what was "
                                "destroyed.", name):
            return
        try:
            self.service.delete(rid, remove_remote=False)
        except RecordsError as exc:
            self.form.show_error(str(exc))
            return
        self.last_receipt_id = rid
        self.receipt_button.show()
        self._sync_if_pending()
        self.refresh()
        self.new_customer()
        self.notify("Customer deleted; its erasure receipt can be saved")

    def ask_receipt_path(self, suggested: str) -> str:
        return QFileDialog.getSaveFileName(self, "Save the erasure receipt", suggested, "JSON (*.json)")[0]

    def save_receipt(self) -> None:
        """The erasure receipt as JSON, and beside it as PDF (owner-only files)."""
        from desktop.records import receipt as receipt_mod
        from desktop.records.files import write_private
        from desktop.ui.commissioning.report_pdf import render_html
        doc = self.service.erasure_receipt(self.last_receipt_id) if self.last_receipt_id else None
        path = self.ask_receipt_path(f"erasure-receipt-{self.last_receipt_id}.json") if doc else ""
        if not path:
            return
        try:
            write_private(Path(path), receipt_mod.to_json(doc).encode())
            write_private(Path(path).with_suffix(".pdf"),
                          render_html(receipt_mod.receipt_html(doc), f"Erasure receipt {doc['record_id']}"))
        except (RecordsError, OSError) as exc:
            self.form.show_error(f"Saving the receipt failed: {exc}")
            return
        self.notify(f"Erasure receipt saved to {path} (and .pdf)")

    def show_requests(self) -> None:
        self.run_dialog(RequestsDialog(self.service, self.current_id, self))

    def review_expired(self) -> None:
        """Retention: list the records past the period, purge them after confirmation."""
        due = self.service.expired()
        if not due:
            return
        names = self.service.display_names(due)
        shown = "\n".join(f"• {n}" for n in names[:15]) + (f"\n… and {len(names) - 15} more" if len(names) > 15 else "")
        if not self.ask_confirm("Retention period ended",
                                f"{len(due)} customer record(s) were last changed more than "
                                f"{self.service.retention_days} days ago:\n\n{shown}\n\n"
                                "Purge them? They cannot be restored."):
            return
        self.service.purge_expired(due, remove_remote=False)
        self._sync_if_pending()
        if not self.service.contains(self.current_id):
            self.new_customer()
        self.refresh()
        self.notify(f"Purged {len(due)} expired record(s)")

    def resolve_conflict(self, keep: str) -> None:
        try:
            self.service.resolve_conflict(self.current_id, keep)
        except RecordsError as exc:
            self.form.show_error(str(exc))
        self.refresh()
        self.load(self.current_id)

    # -- sync ----------------------------------------------------------------------------------
    def _sync_if_pending(self) -> None:
        """A withdrawal, restriction or deletion removes the cloud copy at once, off the GUI thread."""
        if self.service.pending_remote_removals() and self.service.sync_target() is not None \
                and self.service.sync_key_fingerprint() and self.sync_button.isEnabled():
            self.start_sync()

    def start_sync(self) -> None:
        self.sync_button.setEnabled(False)
        self.notify("Syncing…")
        job = _SyncJob(self.service)
        job.setAutoDelete(False)
        job.signals.done.connect(self._sync_done)
        self._jobs.append(job)
        QThreadPool.globalInstance().start(job)

    def _sync_done(self, report, error: str) -> None:
        self._jobs = [j for j in self._jobs if j.signals is not self.sender()]
        self.sync_button.setEnabled(True)
        text = error or report.summary()
        self.notify(f"{time.strftime('%H:%M')} — {text}")
        self.refresh()
        if self.current_id and self.service.contains(self.current_id):
            self.load(self.current_id)
        self.syncFinished.emit(text)


def _short(text: str, limit: int = 40) -> str:
    from html import escape
    text = " ".join(str(text).split()) or "(empty)"
    return escape(text if len(text) <= limit else text[:limit - 1] + "…")
