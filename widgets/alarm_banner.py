"""A banner for active alarms, shown above every page while one is active.

Runs on the GUI thread. Plain data in (``BannerAlarm``: severity, raw code,
text, since when and by whose clock, the vendor's cause and remedy where the
profile has them), no knowledge of Modbus or storage. Hidden while there is
nothing to show. The worst severity sets the colour; each alarm is one line
with its raw code beside its text; the cause and remedy of the worst one are
shown under it. Labels are plain text: alarm texts may come from a bundle.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

SEVERITY_ORDER = {"info": 0, "warning": 1, "error": 2, "critical": 3}
#: severity -> (background, text colour); strong enough to be seen from across a plant room.
SEVERITY_COLOURS = {
    "info": ("#DDEBFA", "#0B3D73"),
    "warning": ("#FFE9C7", "#6B3A00"),
    "error": ("#F9D2D3", "#7A1116"),
    "critical": ("#C62828", "#FFFFFF"),
}


@dataclass(frozen=True)
class BannerAlarm:
    """One active alarm as the banner shows it."""

    severity: str
    code: int
    text: str
    since: str = ""        # e.g. "since 10:21 (laptop clock)"
    cause: str = ""
    remedy: str = ""

    def line(self) -> str:
        since = f" — {self.since}" if self.since else ""
        return f"{self.severity.upper()} {self.code}: {self.text}{since}"


def worst(alarms: list[BannerAlarm]) -> BannerAlarm | None:
    return max(alarms, key=lambda a: SEVERITY_ORDER.get(a.severity, 1), default=None)


class AlarmBanner(QFrame):
    """``set_alarms(list[BannerAlarm])``; hidden when the list is empty."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AlarmBanner")
        self.setAccessibleName("Active alarms")
        self.lines = QLabel()
        self.advice = QLabel()
        for label in (self.lines, self.advice):
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.lines.font()
        font.setBold(True)
        self.lines.setFont(font)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 6, 12, 6)
        lay.setSpacing(2)
        lay.addWidget(self.lines)
        lay.addWidget(self.advice)
        self.severity: str | None = None
        self.setVisible(False)

    def set_alarms(self, alarms: list[BannerAlarm]) -> None:
        top = worst(alarms)
        if top is None:
            self.severity = None
            self.setVisible(False)
            return
        ordered = sorted(alarms, key=lambda a: -SEVERITY_ORDER.get(a.severity, 1))
        self.severity = top.severity
        self.lines.setText("\n".join(a.line() for a in ordered))
        advice = [f"Cause: {top.cause}" if top.cause else "", f"What to do: {top.remedy}" if top.remedy else ""]
        advice_text = "\n".join(a for a in advice if a)
        self.advice.setText(advice_text)
        self.advice.setVisible(bool(advice_text))
        background, text = SEVERITY_COLOURS.get(top.severity, SEVERITY_COLOURS["warning"])
        self.setStyleSheet(f"QFrame#AlarmBanner {{ background: {background}; border-radius: 4px; }}"
                           f" QFrame#AlarmBanner QLabel {{ color: {text}; }}")
        self.setAccessibleDescription(self.lines.text())
        self.setVisible(True)
