"""RowTableModel: the part every read-only table of plain rows shares -- the rows, the headings, the counts.

GUI thread. A subclass names its ``columns`` and says what a cell shows
(``data``); the rows are whatever plain objects it reads there (dataclasses,
named tuples). ``set_rows`` replaces them all at once (a model reset), which
is what a page refreshing from a service or a device read does. It knows
nothing of Modbus or of storage.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt


class RowTableModel(QAbstractTableModel):
    """Rows of plain objects under the headings ``columns``; ``data`` is the subclass's."""

    #: The column headings, left to right.
    columns: tuple[str, ...] = ()

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Any] = []

    def set_rows(self, rows: list[Any]) -> None:
        """Show ``rows`` instead of what was shown (views keep their columns, lose their selection)."""
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # Qt override
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # Qt override
        return len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # Qt override
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section]
        return None
