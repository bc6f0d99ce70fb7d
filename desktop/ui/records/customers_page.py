"""CustomersPage: the customers list, one record's form, consent, sync and the customer's rights.

Self-contained: give it a RecordsService. Left: search (every word must
match, across all fields) and the list with each record's cloud-sync status.
Right: the selected record -- consent per purpose (opens ConsentDialog), the
form (RecordForm), and the rights as actions: save a correction, export JSON,
restrict / lift restriction, delete (after confirmation). A banner offers
the two versions when a sync found a conflicting edit. "Sync now" runs the
sync on the app's Worker (desktop/ui/shell/worker.py), so the page never
blocks on the network. Thread: GUI thread; only the sync runs elsewhere.
The widgets themselves are made in customers_layout.py.
"""
from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QMessageBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.errors import describe_error
from desktop.records.consent import PURPOSES, latest
from desktop.records.errors import RecordsError
from desktop.records.sync_config import STATUS_TEXT
from desktop.ui.records.consent_dialog import STATUS_TEXT as CONSENT_TEXT
from desktop.ui.records.consent_dialog import ConsentDialog
from desktop.ui.records.customers_layout import STATUS_COLOUR, build_list, build_record
from desktop.ui.shell.confirm_dialogs import confirm_by_typing
from desktop.ui.shell.worker import Worker, shared_worker


class CustomersPage(QWidget):
    syncFinished = Signal(str)

    def __init__(self, service, parent: QWidget | None = None, *, worker: Worker | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.worker = worker or shared_worker()
        self.current_id: str | None = None
        root = QHBoxLayout(self)
        split = QSplitter(Qt.Orientation.Horizontal)
        root.addWidget(split)

        split.addWidget(build_list(self))
        right = build_record(self)
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
        text = self.search.text().strip()
        rows = self.service.search(text) if text else self.service.list_customers()
        keep = self.current_id
        self.model.set_rows(rows)
        total = len(self.service.records)
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
        colour = STATUS_COLOUR.get(status, "#777777")
        self.badge.setText(f'<span style="color:{colour}; font-weight:600">● {STATUS_TEXT[status]}</span>'
                           if c else "")
        self.banner.setVisible(status == "conflict")
        if status == "conflict":
            self.banner_text.setText(self._conflict_text(c.id))
        for key in PURPOSES:
            st = self.service.consent_status(c.id, key) if c else "none"
            entry = latest(c.consents, key) if c else None
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
        c = self.service.records[self.current_id]
        dlg = ConsentDialog(purpose, self.service.consent_status(c.id, purpose), latest(c.consents, purpose),
                            self.service.policy_version, self.service.installer, self)
        if self.run_dialog(dlg) != QDialog.DialogCode.Accepted or dlg.decision is None:
            return
        try:
            if dlg.decision == "grant":
                self.service.grant_consent(c.id, purpose, dlg.method_key)
            else:
                self.service.withdraw_consent(c.id, purpose, remove_remote=False)
                self._sync_if_pending()
        except RecordsError as exc:
            self.form.show_error(str(exc))
        self.refresh()
        self.load(c.id)

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
            text = self.service.export_json(self.current_id)
            Path(path).write_text(text, encoding="utf-8")
        except (RecordsError, OSError) as exc:
            self.form.show_error(f"Export failed: {exc}")
            return
        self.notify(f"Exported to {path}")

    def toggle_restriction(self) -> None:
        rid = self.current_id
        if self.service.records[rid].restricted:
            self.service.unrestrict(rid)
        elif self.ask_confirm("Restrict processing",
                              "Keep this record but stop processing and syncing it until the "
                              "restriction is lifted? A copy in the cloud is removed."):
            self.service.restrict(rid, remove_remote=False)
            self._sync_if_pending()
        self.refresh()
        self.load(rid)

    def delete_current(self) -> None:
        rid = self.current_id
        name = self.service.get_customer(rid).name
        if not self.ask_typed_confirm("Delete customer",
                                      "Delete this customer with all sites, documents and consent entries? "
                                      "Its key is destroyed: it cannot be restored, not even from a backup.",
                                      name):
            return
        self.service.delete(rid, remove_remote=False)
        self._sync_if_pending()
        self.refresh()
        self.new_customer()
        self.notify("Customer deleted")

    def review_expired(self) -> None:
        """Retention: list the records past the period, purge them after confirmation."""
        due = self.service.expired()
        if not due:
            return
        names = [self.service.records[r].name for r in due]
        shown = "\n".join(f"• {n}" for n in names[:15]) + (f"\n… and {len(names) - 15} more" if len(names) > 15 else "")
        if not self.ask_confirm("Retention period ended",
                                f"{len(due)} customer record(s) were last changed more than "
                                f"{self.service.retention_days} days ago:\n\n{shown}\n\n"
                                "Purge them? They cannot be restored."):
            return
        self.service.purge_expired(due, remove_remote=False)
        self._sync_if_pending()
        if self.current_id not in self.service.records:
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
        self.worker.run(self.service.sync, lambda report: self._sync_done(report, ""), self._sync_failed)

    def _sync_failed(self, exc: BaseException) -> None:
        # a records error says what to do; anything else by its type only (it may quote personal data)
        self._sync_done(None, describe_error(exc) if isinstance(exc, RecordsError) else
                        f"Sync failed: {type(exc).__name__}")

    def _sync_done(self, report, error: str) -> None:
        self.sync_button.setEnabled(True)
        text = error or report.summary()
        self.notify(f"{time.strftime('%H:%M')} — {text}")
        self.refresh()
        if self.current_id in self.service.records:
            self.load(self.current_id)
        self.syncFinished.emit(text)


def _short(text: str, limit: int = 40) -> str:
    from html import escape
    text = " ".join(str(text).split()) or "(empty)"
    return escape(text if len(text) <= limit else text[:limit - 1] + "…")
