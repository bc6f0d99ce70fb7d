"""The status bar: link state, request latency, error count and the age of the last good sample.

Runs on the GUI thread, fed by the bridge's ``stateChanged`` and
``statsUpdated`` signals. The sample age ticks every second from a local
timer, so it keeps counting while the link is silent -- which is exactly
when it matters.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from widgets.elided_label import ElidedLabel

# state -> (dot colour, words). Mid-luminance colours read on light and dark palettes.
STATES = {
    "disconnected": ("#8A8F98", "Not connected"),
    "connecting": ("#3A86E0", "Connecting"),
    "connected": ("#2E9E5B", "Connected"),
    "reconnecting": ("#E07B00", "Reconnecting"),
}


def format_age(age_s: float | None) -> str:
    """"just now", "12 s ago", "3 min ago", "2 h ago"; "—" when there was none."""
    if age_s is None:
        return "—"
    if age_s < 1.5:
        return "just now"
    if age_s < 120:
        return f"{age_s:.0f} s ago"
    if age_s < 7200:
        return f"{age_s / 60:.0f} min ago"
    return f"{age_s / 3600:.0f} h ago"


class LinkStatusBar(QStatusBar):
    """Permanent widgets: state (with a coloured dot), latency, errors, last sample."""

    def __init__(self, bridge, parent: QWidget | None = None, clock=time.time) -> None:
        super().__init__(parent)
        self._clock = clock
        self.state = "disconnected"
        self.detail = ""
        self.last_good_s: float | None = None
        self.state_label = QLabel()
        self.state_label.setAccessibleName("Link state")
        self.detail_label = ElidedLabel(min_chars=6)   # the link's description: long, so it gives way
        self.detail_label.setAccessibleName("Link")
        self.latency_label = QLabel()
        self.latency_label.setAccessibleName("Request latency")
        self.latency_label.setToolTip("Time from request to answer: median and 95th percentile")
        self.errors_label = QLabel()
        self.errors_label.setAccessibleName("Errors")
        self.errors_label.setToolTip("Link errors: requests that got no usable answer (timeouts, bad frames, "
                                     "a lost link) and poll cycles that failed. Requests the device refused "
                                     "(a wrong installer code, a value it does not take) are not link errors.")
        self.age_label = QLabel()
        self.age_label.setAccessibleName("Last good sample")
        self.age_label.setToolTip("How long ago the last complete set of values arrived")
        self.message_label = ElidedLabel(min_chars=6)
        self.message_label.setAccessibleName("Last error")
        self.message_label.setStyleSheet("color: #B3261E;")
        self._message_timer = QTimer(self)
        self._message_timer.setSingleShot(True)
        self._message_timer.timeout.connect(lambda: self.show_error(""))
        self.alarms_label = QLabel()
        self.alarms_label.setAccessibleName("Active alarms")
        self.alarms_label.setVisible(False)
        self.addWidget(self.state_label, 0)
        self.addWidget(self.detail_label, 2)
        self.addWidget(self.message_label, 1)   # beside the state, never over it (no flicker)
        for label in (self.alarms_label, self.latency_label, self.errors_label, self.age_label):
            label.setContentsMargins(10, 0, 10, 0)
            self.addPermanentWidget(label)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._show_age)
        self._tick.start()
        bridge.stateChanged.connect(self.set_state)
        bridge.statsUpdated.connect(self.set_stats)
        self.set_state("disconnected", "")
        self.set_stats({})

    def set_state(self, state: str, detail: str) -> None:
        self.state, self.detail = state, detail
        colour, words = STATES.get(state, ("#8A8F98", state))
        text = words + (f" — {detail}" if detail else "")
        self.state_label.setText(f"<span style='color:{colour}'>●</span> {_escape(words)}")
        self.detail_label.set_full_text(f"— {detail}" if detail else "")
        self.state_label.setAccessibleDescription(text)
        self.state_label.setToolTip(text)
        if state == "connecting":  # a new link: the age counts from its first sample
            self.last_good_s = None
        if state != "connected":  # no answers: a latency figure would be the last link's, not this one's
            self.latency_label.setText("Latency —")
        else:
            self.show_error("")
        self._show_age()

    def set_stats(self, stats: dict) -> None:
        p50, p95 = stats.get("latency_p50_ms"), stats.get("latency_p95_ms")
        if p50 is None or self.state != "connected":
            self.latency_label.setText("Latency —")
        else:
            self.latency_label.setText(f"Latency {p50:.0f} ms · p95 {p95:.0f} ms" if p50 >= 10
                                       else f"Latency {p50:.1f} ms · p95 {p95:.1f} ms")
        failures = int(stats.get("failures", 0) or 0)
        polls = int(stats.get("poll_failures", 0) or 0)
        timeouts = int(stats.get("timeouts", 0) or 0)
        refused = int(stats.get("refused", 0) or 0)
        self.errors_label.setText(f"Errors {failures}")
        self.errors_label.setAccessibleDescription(
            f"{failures} failed requests, {timeouts} of them timeouts; {polls} failed poll cycles; "
            f"{refused} refused by the device (not link errors)")
        self.errors_label.setStyleSheet("color: #E07B00;" if failures else "")
        if stats.get("last_good_s"):
            self.last_good_s = float(stats["last_good_s"])
        self._show_age()

    def show_error(self, text: str, timeout_ms: int = 8000) -> None:
        """An error beside the link state (QStatusBar.showMessage would hide the state while it shows)."""
        self.message_label.set_full_text(text)
        self.message_label.setAccessibleDescription(text)
        if text:
            self._message_timer.start(timeout_ms)

    def set_alarm_count(self, count: int, severity: str | None = None) -> None:
        """"⚠ 2 alarms" beside the link state (red for an error or worse), hidden at 0."""
        self.alarms_label.setVisible(count > 0)
        text = f"⚠ {count} alarm{'s' if count != 1 else ''}" if count else ""
        self.alarms_label.setText(text)
        self.alarms_label.setAccessibleDescription(text or "no active alarm")
        colour = "#D0343A" if severity in ("error", "critical") else "#E07B00"
        self.alarms_label.setStyleSheet(f"color: {colour}; font-weight: 600;" if count else "")

    def age_s(self) -> float | None:
        return None if self.last_good_s is None else max(0.0, self._clock() - self.last_good_s)

    def _show_age(self) -> None:
        text = f"Last sample {format_age(self.age_s())}"
        if self.age_label.text() != text:
            self.age_label.setText(text)
            self.age_label.setAccessibleDescription(text)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
