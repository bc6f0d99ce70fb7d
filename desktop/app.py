"""The Qt application: set-up (names for QSettings, high-DPI, icon), the service, the bridge, the window.

Runs on the main thread, which becomes the GUI thread. ``run(demo)`` is what
``pvdesk`` (no subcommand) calls. The device service starts its own I/O
thread; the window is shown before anything slow happens (pyqtgraph, the
demo simulator and the connection come after the first paint).

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
#: Pages that other parts of the app install themselves, once the window has been painted:
#: (module, function) called as ``function(window, service)`` when the module exists.
#: Commissioning and other pages can join here (or call ``window.add_page`` from their own set-up).
EXTRA_PAGES = (("desktop.ui.commissioning.install", "install_commissioning"),
               ("desktop.ui.diagnostics.page", "install_diagnostics"))
NO_DISPLAY = ("pvdesk: no display found (DISPLAY and WAYLAND_DISPLAY are unset, QT_QPA_PLATFORM is not set). "
              "For the live values in this terminal run `pvdesk monitor --demo`; for the window on a "
              "virtual display run `xvfb-run pvdesk --demo`.")


def icon_path() -> Path:
    return Path(__file__).resolve().parent.parent / "resources" / "icons" / "pvdesk.svg"


def display_problem(environ=os.environ, platform: str = sys.platform) -> str | None:
    """The one line to print when Qt has nowhere to show a window (Linux without a display), else None."""
    if not platform.startswith("linux"):
        return None
    if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY") or environ.get("QT_QPA_PLATFORM"):
        return None
    return NO_DISPLAY


def make_application(argv: list[str] | None = None):
    """The QApplication with PVDesk's names (QSettings "PVDesk"/"PVDesk"), DPI policy and icon."""
    from PySide6.QtCore import Qt  # noqa: PLC0415
    from PySide6.QtGui import QGuiApplication, QIcon  # noqa: PLC0415
    from PySide6.QtWidgets import QApplication  # noqa: PLC0415

    from .version import __version__  # noqa: PLC0415

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


def install_extra_pages(window, service) -> list[str]:
    """Run each EXTRA_PAGES installer that exists; one that fails is logged, the window stays."""
    import importlib  # noqa: PLC0415
    import importlib.util  # noqa: PLC0415
    import logging  # noqa: PLC0415
    done = []
    for module_name, function_name in EXTRA_PAGES:
        if importlib.util.find_spec(module_name) is None:
            continue
        try:
            getattr(importlib.import_module(module_name), function_name)(window, service)
            done.append(module_name)
        except Exception:  # a page that cannot start must not take the window down
            logging.getLogger(__name__).exception("%s.%s failed", module_name, function_name)
    return done


def settle_memory() -> None:
    """Move everything built so far out of the garbage collector's sight (``gc.freeze``).

    Called once the window and its plots exist. Modules, widgets and the
    profile live as long as the app; without this, every full collection
    walks them all again (about 70 ms on a slow laptop), holding the GIL --
    and so the GUI thread -- for that long. Objects made later (samples,
    alarms) are collected as usual.
    """
    import gc  # noqa: PLC0415
    gc.collect()
    gc.freeze()


def collect_on_gui_thread(interval_s: float = 1.0):
    """Garbage collection only on the GUI thread (pyqtgraph's GarbageCollector); keep the result alive.

    Worker threads (device I/O, records sync, the recorder) would otherwise
    run the cyclic collector whenever their allocations cross its threshold,
    and a Qt object collected on the wrong thread crashes the process.
    """
    from pyqtgraph.util.garbage_collector import GarbageCollector  # noqa: PLC0415
    return GarbageCollector(interval=interval_s)


def _install_startup_probe(window, app, bridge, mode: str) -> None:
    from PySide6.QtCore import QEvent, QObject, QTimer  # noqa: PLC0415

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
        def eventFilter(self, obj, event):  # noqa: N802 (Qt override)
            if event.type() == QEvent.Type.Paint and not getattr(self, "done", False):
                self.done = True
                QTimer.singleShot(0, lambda: report("shown"))  # once this paint has been delivered
            return False

    window._startup_probe = Probe(window)
    window.installEventFilter(window._startup_probe)


def run(demo: bool = False) -> int:
    """Open the main window (connected to the simulated inverter with ``demo``); returns the exit code."""
    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    app = make_application()
    from desktop.ui.shell.bridge import Bridge  # noqa: PLC0415
    from desktop.device.service import DeviceService  # noqa: PLC0415
    from desktop.ui.shell.main_window import MainWindow  # noqa: PLC0415

    collector = collect_on_gui_thread()
    service = DeviceService()
    bridge = Bridge(service)
    window = MainWindow(bridge, defer_plots=True)
    window._gc = collector

    def after_first_paint() -> None:
        if demo:  # the simulator's start-up must not delay the window
            window.connect_demo()
        install_extra_pages(window, service)

    window.firstPainted.connect(after_first_paint)
    window.dashboard.plotsReady.connect(settle_memory)  # the last of the start-up work
    probe = os.environ.get("PVDESK_STARTUP_PROBE")
    if probe:
        _install_startup_probe(window, app, bridge, probe)

    def shutdown() -> None:
        bridge.detach()
        service.shutdown()

    app.aboutToQuit.connect(shutdown)
    window.show()
    return int(app.exec())
