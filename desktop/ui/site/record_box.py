"""The Site page's customer-record row: choose the customer and site, save the site tree there, restore it.

Runs on the GUI thread. The records come from the composition root's
RecordsAccess (``records``: a callable returning the open RecordsService or
None, never opened here); saving and loading go through
desktop/device/site_record.py (a sealed ``pvdesk-site/1`` document of the
record's site, kind "other"). A restricted record is not offered (restricted
processing: nothing is added to it). Restoring opens every saved unit again
on its own link; units already open stay as they are.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QWidget

from protocols.errors import PVDeskError

from desktop.device.site_record import SiteDocumentError, load_site, restore_site, save_site


class SiteRecordBox(QWidget):
    """Customer and site choosers with Save and Restore; ``message(str)`` says what happened."""

    message = Signal(str)

    def __init__(self, site, records=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.site = site
        self._records = records
        self.customer = QComboBox()
        self.customer.setAccessibleName("Customer record for the site")
        self.customer.setMinimumContentsLength(14)
        self.site_box = QComboBox()
        self.site_box.setAccessibleName("Site of the customer record")
        self.site_box.setMinimumContentsLength(10)
        self.save_button = QPushButton("&Save to record")
        self.save_button.setToolTip("Keep this site's devices and links with the customer's record (encrypted)")
        self.restore_button = QPushButton("&Restore from record")
        self.restore_button.setToolTip("Open again every device saved with the customer's record")
        # Two rows: the choosers, then their actions, so the page fits 1366 x 768 at 150 % without a scroll bar.
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(QLabel("Customer:"), 0, 0)
        grid.addWidget(self.customer, 0, 1)
        grid.addWidget(QLabel("Site:"), 0, 2)
        grid.addWidget(self.site_box, 0, 3)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.restore_button)
        buttons.addStretch(1)
        grid.addLayout(buttons, 1, 1, 1, 3)
        grid.setColumnStretch(1, 2)
        grid.setColumnStretch(3, 1)
        self.customer.currentIndexChanged.connect(self._fill_sites)
        self.save_button.clicked.connect(self.save)
        self.restore_button.clicked.connect(self.restore)
        self.reload()

    def records(self):
        return self._records() if callable(self._records) else self._records

    def reload(self) -> None:
        """The customers of the open records (none when the store is locked: say where to open it)."""
        keep = self.customer.currentData()
        records = self.records()
        self.customer.blockSignals(True)
        self.customer.clear()
        if records is not None:
            for c in records.list_customers():
                if not c.restricted:
                    self.customer.addItem(c.name, c.id)
        if self.customer.count() == 0:
            self.customer.addItem("(open a customer on the Customers page)" if records is None
                                  else "(no customer yet)", None)
        if keep is not None and (i := self.customer.findData(keep)) >= 0:
            self.customer.setCurrentIndex(i)
        self.customer.blockSignals(False)
        self._fill_sites()

    def select(self, customer_id: str, site_id: str | None = None) -> None:
        if (i := self.customer.findData(customer_id)) >= 0:
            self.customer.setCurrentIndex(i)
        if site_id is not None and (j := self.site_box.findData(site_id)) >= 0:
            self.site_box.setCurrentIndex(j)

    def _fill_sites(self) -> None:
        self.site_box.clear()
        rid, records = self.customer.currentData(), self.records()
        if rid and records is not None:
            for s in records.get_customer(rid).sites:
                self.site_box.addItem(s.name or s.site_id, s.site_id)
        ready = self.site_box.count() > 0
        self.site_box.setEnabled(ready)
        self.save_button.setEnabled(ready)
        self.restore_button.setEnabled(ready)

    def chosen(self):
        rid, sid, records = self.customer.currentData(), self.site_box.currentData(), self.records()
        if not (rid and sid and records is not None):
            raise SiteDocumentError("choose the customer and the site first (customers are added on the "
                                    "Customers page)")
        return records, rid, sid

    def save(self) -> None:
        try:
            records, rid, sid = self.chosen()
            if not self.site.snapshot():
                raise SiteDocumentError("the site has no device yet: add units first")
            save_site(records, rid, sid, self.site)
        except PVDeskError as exc:
            self.message.emit(f"Not saved: {exc}")
            return
        n = len(self.site.snapshot())
        self.message.emit(f"Saved the site ({n} device{'s' if n != 1 else ''}) with {self.customer.currentText()}'s "
                          f"record, site {self.site_box.currentText()}.")

    def restore(self) -> None:
        try:
            records, rid, sid = self.chosen()
            doc = load_site(records, rid, sid)
        except PVDeskError as exc:
            self.message.emit(f"Not restored: {exc}")
            return
        if doc is None:
            self.message.emit(f"No site was saved with this record's site {self.site_box.currentText()}: "
                              "add the units, then Save to record.")
            return
        futures = restore_site(self.site, doc)
        self.message.emit(f"Opening the {len(futures)} saved device(s) again…")


__all__ = ["SiteRecordBox"]
