"""The site tree: each link, and under it its units with model, serial, parallel role, state and alarms.

Runs on the GUI thread; fed with a site snapshot (``desktop.device.site_service``),
a list of plain dicts. Rows are rebuilt only when the set of devices changes;
otherwise their texts are updated in place, so a selection survives updates.
Several units can be selected (Ctrl/Shift-click; a link row selects all its
units) for the Site page's batch actions: ``selected_keys()``. A parallel
slave's role is shown with "follows the master" so nobody mistakes it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QTreeWidget, QTreeWidgetItem, QWidget

COLUMNS = ("Device", "Model", "Serial", "Role", "State", "Alarms")
STATE_COL = COLUMNS.index("State")


def role_text(role: str) -> str:
    """The Role column: "-" when the profile maps none, and what a slave's role means."""
    if not role:
        return "-"
    if role.strip().casefold().startswith("slave"):
        return f"{role} (follows the master)"
    return role.split(" (")[0]   # "Single (not in parallel)" reads "Single" beside "Master" and "Slave"


class SiteTree(QTreeWidget):
    """Links -> units; ``unit_item(key)`` is the row of one device."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Site devices")
        self.setColumnCount(len(COLUMNS))
        self.setHeaderLabels(list(COLUMNS))
        self.setRootIsDecorated(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self._links: dict[str, QTreeWidgetItem] = {}
        self._units: dict[str, QTreeWidgetItem] = {}

    def set_snapshot(self, snapshot: list[dict]) -> None:
        keys = {d["key"] for d in snapshot}
        if keys != set(self._units):
            self._rebuild(snapshot)
        for d in snapshot:
            item = self._units[d["key"]]
            state = d["state"] if not d.get("detail") or d["state"] == "connected" else f"{d['state']}: {d['detail']}"
            for col, text in enumerate((f"unit {d['unit']}", d.get("title") or "-", d.get("serial") or "-",
                                        role_text(d.get("role", "")), state, str(d.get("alarms", 0)))):
                if item.text(col) != text:
                    item.setText(col, text)
            item.setToolTip(STATE_COL, d.get("detail") or "")

    def _rebuild(self, snapshot: list[dict]) -> None:
        self.clear()
        self._links.clear()
        self._units.clear()
        for d in snapshot:
            link = self._links.get(d["link"])
            if link is None:
                link = QTreeWidgetItem([d["link"]])
                self.addTopLevelItem(link)
                self._links[d["link"]] = link
            item = QTreeWidgetItem([f"unit {d['unit']}"])
            item.setData(0, Qt.ItemDataRole.UserRole, d["key"])
            link.addChild(item)
            self._units[d["key"]] = item
        self.expandAll()

    def unit_item(self, key: str) -> QTreeWidgetItem | None:
        return self._units.get(key)

    def links(self) -> list[str]:
        return list(self._links)

    def selected_keys(self) -> list[str]:
        """The selected units in tree order (a selected link row stands for all its units)."""
        chosen = set()
        for item in self.selectedItems():
            key = item.data(0, Qt.ItemDataRole.UserRole)
            if key:
                chosen.add(key)
            else:
                chosen.update(item.child(i).data(0, Qt.ItemDataRole.UserRole) for i in range(item.childCount()))
        return [k for k in self._units if k in chosen]

    def select_keys(self, keys) -> None:
        """Select exactly these units (tests, and a restored site)."""
        self.clearSelection()
        for key in keys:
            if (item := self._units.get(key)) is not None:
                item.setSelected(True)
