"""Serial port discovery for the connection panel: the list refreshes when an adapter is plugged in.

Runs the enumeration (pyserial's ``serial.tools.list_ports``) on the app's
Worker (desktop/ui/shell/worker.py) every two seconds; the result comes back
on the GUI thread, and ``portsChanged`` is emitted only when the list changed. On Linux a scan costs about 1.5 ms
(it reads /sys), but on Windows it goes through SetupAPI and can take tens of
milliseconds, so it never runs on the GUI thread.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.ui.shell.worker import Worker, shared_worker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PortInfo:
    """One serial port as the panel shows it."""

    device: str
    description: str = ""
    vid_pid: str = ""

    def text(self) -> str:
        """"/dev/ttyUSB0 — USB-RS485 adapter (0403:6001)"; just the device when nothing else is known."""
        desc = self.description if self.description and self.description not in ("n/a", self.device) else ""
        text = self.device
        if desc:
            text += f" — {desc}"
        if self.vid_pid:
            text += f" ({self.vid_pid})"
        return text


def scan_ports() -> list[PortInfo]:
    """The serial ports the system reports, sorted by device name (any thread)."""
    from serial.tools import list_ports  # only when scanning
    ports = []
    for p in list_ports.comports():
        vid_pid = f"{p.vid:04X}:{p.pid:04X}" if p.vid is not None and p.pid is not None else ""
        ports.append(PortInfo(p.device, p.description or "", vid_pid))
    return sorted(ports, key=lambda p: p.device)


class PortWatcher(QObject):
    """Scans for serial ports off the GUI thread; ``portsChanged(list[PortInfo])`` on change."""

    portsChanged = Signal(list)

    def __init__(self, interval_ms: int = 2000, parent: QObject | None = None, scanner=scan_ports,
                 worker: Worker | None = None) -> None:
        super().__init__(parent)
        self._scanner = scanner
        self._worker = worker or shared_worker()
        self._busy = False
        self._closed = False
        self.ports: list[PortInfo] | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.scan_now)

    def start(self) -> None:
        """Scan now and then every interval."""
        self.scan_now()
        self._timer.start()

    def stop(self) -> None:
        self._closed = True
        self._timer.stop()

    def scan_now(self) -> None:
        """Start one scan on a worker thread unless one is still running."""
        if self._busy or self._closed:
            return
        self._busy = True
        self._worker.run(self._scanner, self._on_scanned, self._on_failed)

    def _on_failed(self, _exc: BaseException) -> None:  # GUI thread
        log.error("serial port scan failed", exc_info=_exc)  # a broken driver must not take the panel down
        self._on_scanned([])

    def _on_scanned(self, ports: list) -> None:  # GUI thread
        self._busy = False
        if self._closed:
            return
        if ports != self.ports:
            self.ports = ports
            self.portsChanged.emit(list(ports))
