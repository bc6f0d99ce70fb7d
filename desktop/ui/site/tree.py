"""The site tree: each link, and under it its units with model, serial, state and alarms.

Runs on the GUI thread; fed with a site snapshot (``desktop.device.site_service``),
a list of plain dicts. Rows are rebuilt only when the set of devices changes;
otherwise their texts are updated in place, so a selection survives updates.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

COLUMNS = ("Device", "Model", "Serial", "State", "Alarms")


class SiteTree(QTreeWidget):
    """Links -> units; ``unit_item(key)`` is the row of one device."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Site devices")
        self.setColumnCount(len(COLUMNS))
        self.setHeaderLabels(list(COLUMNS))
        self.setRootIsDecorated(True)
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
                                        state, str(d.get("alarms", 0)))):
                if item.text(col) != text:
                    item.setText(col, text)
            item.setToolTip(3, d.get("detail") or "")

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
