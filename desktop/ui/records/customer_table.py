"""CustomerTableModel: the customers list's rows (name, contact, site, kWp, cloud-sync status).

GUI thread. Shows plain data: the summaries the records service lists
(``list_customers`` / ``search``); it never talks to the store. The sync
status is coloured as on the record's badge (``STATUS_COLOUR``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from widgets.row_table import RowTableModel

from desktop.records.sync_config import STATUS_TEXT

#: Colour of a sync status, in the list and on the record's badge.
STATUS_COLOUR = {"synced": "#2E9E5B", "pending": "#C27C00", "conflict": "#D0343A",
                 "renew": "#C27C00", "restricted": "#8E44AD"}
COLUMNS = ("Name", "Contact", "Site", "kWp", "Cloud sync")


class CustomerTableModel(RowTableModel):
    """One row per customer summary; ``UserRole`` gives the record's id."""

    columns = COLUMNS

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        r = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (r.name, r.contact, r.site,
                    "" if r.capacity_kwp is None else f"{r.capacity_kwp:.1f}",
                    STATUS_TEXT.get(r.sync_status, r.sync_status))[col]
        if role == Qt.ItemDataRole.ForegroundRole and col == 4 and r.sync_status in STATUS_COLOUR:
            return QColor(STATUS_COLOUR[r.sync_status])
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.UserRole:
            return r.id
        return None
