"""The customer's rights as actions of the Customers page: history, export, restrict, erase, retention.

GUI thread. ``RightsActions`` is mixed into CustomersPage (customers_page.py)
and works on what the page has: ``service`` (the RecordsService),
``current_id``, ``form`` (errors show there), the confirmation and file
hooks that tests replace (``ask_confirm``, ``ask_typed_confirm``,
``ask_save_path``, ``ask_receipt_path``, ``run_dialog``, ``notify``), and the
page's ``refresh``, ``load``, ``new_customer``, ``sync_if_pending`` and
``receipt_button``. Every destructive action is confirmed first, with the
safe answer as the default; erasure needs the customer's name typed.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from desktop.records.errors import RecordsError

from .history_dialog import HistoryDialog
from .requests_dialog import RequestsDialog


class RightsActions:
    """See the module: the rights of the customer whose record the page shows."""

    last_receipt_id: str | None = None

    def show_history(self) -> None:
        """The record's audit entries: what was done, when, by whom (no personal data in them)."""
        self.run_dialog(HistoryDialog(self.service.audit_entries(self.current_id), self))

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
            self.sync_if_pending()
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
                                      f"Its key is destroyed{bucket}: it cannot be restored from this laptop, "
                                      "from the bucket, or from a backup of the records database.\n\nNot reached: "
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
        self.sync_if_pending()
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
        self.sync_if_pending()
        if not self.service.contains(self.current_id):
            self.new_customer()
        self.refresh()
        self.notify(f"Purged {len(due)} expired record(s)")
