"""Helpers of the GUI tests: drive the window as a user would, freeze the simulated clock, measure lateness.

GUI thread (the test's thread) only.
"""

from __future__ import annotations


def freeze(sim) -> None:
    """Stop the simulated clock where it is, so register values hold still."""
    def go():
        clock = sim.clock
        now = clock()
        clock.start_s, clock.offset_s, clock.speed = now, 0.0, 0.0
        for dev in sim.devices.values():
            dev.update_now()  # one last step at the frozen time; later requests change nothing
    sim.call(go)


def connect_tcp(qtbot, window, sim, unit: int = 1, timeout_ms: int = 10_000) -> None:
    """Fill in the panel as a user would (TCP host:port, unit), press Connect, wait for live values."""
    from PySide6.QtCore import Qt
    panel = window.connection_panel
    panel.set_kind("tcp")
    host, port = sim.tcp_address
    panel.host_edit.clear()
    qtbot.keyClicks(panel.host_edit, f"{host}:{port}")
    panel.unit_spin.setValue(unit)
    qtbot.mouseClick(panel.connect_button, Qt.MouseButton.LeftButton)
    wait_live(qtbot, window, timeout_ms)


def wait_live(qtbot, window, timeout_ms: int = 10_000) -> None:
    """Until the status bar says connected and the PV tile holds a fresh value."""
    tile = window.dashboard.tiles["pv"]
    qtbot.waitUntil(lambda: window.status.state == "connected" and tile.value() is not None
                    and not tile.is_stale(), timeout=timeout_ms)


class LoopLatency:
    """Lateness of a 10 ms precise timer on the GUI thread: how long the event loop was kept from running.

    Each tick records how much later than due it fired (ms). Anything that
    blocks the GUI thread -- a wait on the device, a slow redraw -- shows up
    as a late tick.
    """

    def __init__(self, interval_ms: int = 10) -> None:
        import time

        from PySide6.QtCore import Qt, QTimer
        self._clock = time.perf_counter
        self.interval_s = interval_ms / 1000.0
        self.late_ms: list[float] = []
        self._last = None
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = self._clock()
        if self._last is not None:
            self.late_ms.append(max(0.0, (now - self._last - self.interval_s) * 1000.0))
        self._last = now

    def measure(self, qtbot, duration_ms: int) -> list[float]:
        """Run the event loop for ``duration_ms`` while ticking; returns the lateness of each tick."""
        self.late_ms, self._last = [], None
        self.timer.start()
        qtbot.wait(duration_ms)
        self.timer.stop()
        return list(self.late_ms)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    return ordered[min(len(ordered) - 1, int(round(q / 100.0 * (len(ordered) - 1))))]
