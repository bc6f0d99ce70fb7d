"""Keeps active alarms in sight on every page: the banner, the Faults tab's badge, the status bar, the tiles.

Runs on the GUI thread, fed by the bridge's ``alarmsChanged`` (the active
alarms of each sample) and ``stateChanged``. "Since" is when this laptop first
saw the alarm, and says so ("laptop clock"): the device's own fault log keeps
the device's time, which the Faults page labels as such. A tile is marked
when an alarm's fault table entry says it ``affects`` the tile's quantity.
"""

from __future__ import annotations

import time
from datetime import datetime

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QTabWidget, QWidget

from widgets.alarm_banner import AlarmBanner, BannerAlarm, worst


def since_text(t_s: float) -> str:
    return f"since {datetime.fromtimestamp(t_s).strftime('%H:%M:%S')} (laptop clock)"


class AlarmWatch(QObject):
    """``AlarmWatch(bridge, banner, tabs, faults_page, status_bar, tiles)``; ``tiles``: canonical point -> tile."""

    def __init__(self, bridge, banner: AlarmBanner, tabs: QTabWidget, faults_page: QWidget, status_bar,
                 tiles: dict, clock=time.time, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.banner, self.tabs, self.faults_page, self.status_bar = banner, tabs, faults_page, status_bar
        self.tiles = tiles
        self.clock = clock
        self.since: dict[tuple, float] = {}
        self.active: list[BannerAlarm] = []
        bridge.alarmsChanged.connect(self.on_alarms)
        bridge.stateChanged.connect(self._on_state)

    def on_alarms(self, alarms: list) -> None:
        keys = {(a.code, a.source) for a in alarms}
        now = self.clock()
        self.since = {k: t for k, t in self.since.items() if k in keys}
        for key in keys:
            self.since.setdefault(key, now)
        self.active = [BannerAlarm(a.severity, a.code, a.text, since_text(self.since[(a.code, a.source)]),
                                   getattr(a, "cause", ""), getattr(a, "remedy", "")) for a in alarms]
        self.banner.set_alarms(self.active)
        top = worst(self.active)
        self.status_bar.set_alarm_count(len(self.active), top.severity if top else None)
        self._badge(len(self.active))
        for point, tile in self.tiles.items():
            hits = [a for a in alarms if point in getattr(a, "affects", ())]
            tile.set_alarm("; ".join(f"{a.severity.capitalize()} {a.code} {a.text}" for a in hits) or None)

    def _badge(self, count: int) -> None:
        index = self.tabs.indexOf(self.faults_page)
        if index >= 0:
            self.tabs.setTabText(index, f"Faults ({count})" if count else "Faults")
            self.tabs.setTabToolTip(index, f"{count} active alarm{'s' if count != 1 else ''}" if count else "")

    def _on_state(self, state: str, _detail: str) -> None:
        if state == "disconnected":
            self.on_alarms([])
