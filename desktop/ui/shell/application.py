"""The Qt application's set-up: names for QSettings, high-DPI, icon, garbage collection, the start-up probe.

Runs on the main thread, which becomes the GUI thread. The composition root
(desktop/app.py) calls these; nothing here builds a service or a page.
Importing this module loads no Qt (each function imports it when called),
so ``display_problem`` can be asked before Qt is loaded.

Colours: Qt 6 takes the system's light or dark palette; PVDesk's widgets use
palette roles, and the few fixed accents (state dots, severity) are mid-tone
colours that read on both.

Start-up probe: with PVDESK_STARTUP_PROBE=1 the app prints
``startup-probe shown_after_s=<s> since=<what>`` when the window has first
been painted, then quits (benchmarks/startup.py uses it). With
PVDESK_STARTUP_PROBE=sample it waits for the first live sample instead and
prints ``startup-probe sample_after_s=<s> ...`` (``pvdesk --demo`` end to end).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

_ENTRY_T = time.perf_counter()  # when this module was imported: the fallback for "process start"

APP_NAME = "PVDesk"
NO_DISPLAY = ("pvdesk: no display found (DISPLAY and WAYLAND_DISPLAY are unset, QT_QPA_PLATFORM is not set). "
              "For the live values in this terminal run `pvdesk monitor --demo`; for the window on a "
              "virtual display run `xvfb-run pvdesk --demo`.")


def icon_path() -> Path:
    return Path(__file__).resolve().parents[3] / "resources" / "icons" / "pvdesk.svg"


def display_problem(environ=os.environ, platform: str = sys.platform) -> str | None:
    """The one line to print when Qt has nowhere to show a window (Linux without a display), else None."""
    if not platform.startswith("linux"):
        return None
    if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY") or environ.get("QT_QPA_PLATFORM"):
        return None
    return NO_DISPLAY


def make_application(argv: list[str] | None = None):
    """The QApplication with PVDesk's names (QSettings "PVDesk"/"PVDesk"), DPI policy and icon."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QIcon
    from PySide6.QtWidgets import QApplication

    from desktop.version import __version__
    app = QApplication.instance()
    if app is None:
        # Fractional scale factors (125 %, 150 %) as they are, not rounded: crisp text at any DPI.
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(argv if argv is not None else [sys.argv[0]])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("pvdesk")
    app.setWindowIcon(QIcon(str(icon_path())))
    return app


def seconds_since_process_start() -> tuple[float, str]:
    """(seconds, what they count from): the process start from /proc on Linux, else this module's import."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        start_ticks = int(fields[19])  # field 22 of stat(5): starttime, clock ticks after boot
        boot_s = time.clock_gettime(time.CLOCK_BOOTTIME)
        return boot_s - start_ticks / os.sysconf("SC_CLK_TCK"), "process start"
    except (OSError, ValueError, IndexError, AttributeError):
        return time.perf_counter() - _ENTRY_T, "app module import"


def settle_memory() -> None:
    """Move everything built so far out of the garbage collector's sight (``gc.freeze``).

    Called once the window and its plots exist. Modules, widgets and the
    profile live as long as the app; without this, every full collection
    walks them all again (about 70 ms on a slow laptop), holding the GIL --
    and so the GUI thread -- for that long. Objects made later (samples,
    alarms) are collected as usual.
    """
    import gc
    gc.collect()
    gc.freeze()


def collect_on_gui_thread(interval_s: float = 1.0):
    """Garbage collection only on the GUI thread (pyqtgraph's GarbageCollector); keep the result alive.

    Worker threads (device I/O, records sync, the recorder) would otherwise
    run the cyclic collector whenever their allocations cross its threshold,
    and a Qt object collected on the wrong thread crashes the process.
    """
    from pyqtgraph.util.garbage_collector import GarbageCollector
    return GarbageCollector(interval=interval_s)


def install_startup_probe(window, app, bridge, mode: str) -> None:
    from PySide6.QtCore import QEvent, QObject, QTimer
    reported = []

    def report(what: str, detail: str = "") -> None:
        if reported:
            return
        reported.append(what)
        elapsed, since = seconds_since_process_start()
        print(f"startup-probe {what}_after_s={elapsed:.3f} since={since.replace(' ', '_')}{detail}", flush=True)
        app.quit()

    if mode == "sample":
        bridge.sampleReady.connect(lambda sample: report("sample", f" pv_power_w={sample.values.get('pv_power_w')}"))
        return

    class Probe(QObject):
        def eventFilter(self, obj, event):  # Qt override
            if event.type() == QEvent.Type.Paint and not getattr(self, "done", False):
                self.done = True
                QTimer.singleShot(0, lambda: report("shown"))  # once this paint has been delivered
            return False

    window._startup_probe = Probe(window)
    window.installEventFilter(window._startup_probe)
