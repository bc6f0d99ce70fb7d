"""The composition root: the one place that builds PVDesk's services and hands each page what it needs.

Runs on the main thread, which becomes the GUI thread. ``compose()`` builds,
in this order: the folders (desktop/core/paths.py), the device service (its
own I/O thread), the bridge (the pages' DeviceLink), the worker (everything
else off the GUI thread), the customer records access, the commissioning
context, the session recorder and the main window with every page. No page
finds a service by itself: each gets it in its constructor. ``run(demo)`` is
what ``pvdesk`` (no subcommand) calls; the window is shown before anything
slow happens (pyqtgraph, the demo simulator, the recorder and the
diagnostics and parameters pages come after the first paint).

A new page: build it in ``_add_pages`` (or ``_add_late_pages`` when it
loads something slow) from the services here, and ``window.add_page`` it.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.core.paths import AppPaths
from desktop.ui.shell.application import display_problem

log = logging.getLogger(__name__)


class RecordsAccess:
    """The app's one RecordsService, opened when a page first needs it. GUI thread.

    ``open()`` opens it from the keyring (or ``passphrase``) and raises the
    records error that says what to do; ``get()`` is the same without the
    error (None when the store cannot open now), for pages that only show
    customers when there are some. Every page shares the one service.
    """

    def __init__(self, folder: Path, installer: str = "installer", opener: Any = None) -> None:
        self.folder = folder
        self.installer = installer
        self._opener = opener
        self.service: Any = None

    def open(self, passphrase: str | None = None):
        if self.service is None:
            opener = self._opener
            if opener is None:
                from desktop.records.service import RecordsService as opener  # cryptography, keyring
            kw = {"passphrase": passphrase} if passphrase is not None else {}
            self.service = opener(self.folder, self.installer, **kw)
        return self.service

    def get(self):
        from desktop.records.errors import RecordsError
        try:
            return self.open()
        except RecordsError:
            return None

    def close(self) -> None:
        if self.service is not None:
            service, self.service = self.service, None
            try:
                service.close()
            except Exception:  # closing must not stop the app from closing
                log.exception("closing the customer records failed")


SITE_CLOSE_S = 5.0   # at most this long for the site's links to close when the app quits


@dataclass
class App:
    """Everything ``compose`` built; ``close()`` stops it in the reverse order."""

    paths: AppPaths
    service: Any          # desktop.device.service.DeviceService
    bridge: Any           # desktop.ui.shell.bridge.Bridge
    worker: Any           # desktop.ui.shell.worker.Worker
    records: RecordsAccess
    commission: Any       # desktop.commission.context.CommissionContext
    window: Any           # desktop.ui.shell.main_window.MainWindow
    recorder: Any = None  # desktop.diag.recorder.Recorder, once started
    site: Any = None      # desktop.device.site_service.SiteService, with the Site page
    pages: dict = field(default_factory=dict)

    def close(self) -> None:
        if self.recorder is not None:
            self.recorder.stop()
        self.records.close()
        self.bridge.detach()
        if self.site is not None:  # the site's own links and pollers, before the loop they run on stops
            try:
                self.site.close().result(SITE_CLOSE_S)
            except Exception:  # a link that will not close must not keep the app from closing
                log.exception("closing the site's links failed")
        self.service.shutdown()
        self.worker.shutdown(wait=False)


def compose(settings=None, *, paths: AppPaths | None = None, fast_period_s: float = 1.0,
            slow_period_s: float = 10.0, defer: bool = False, watch_ports: bool = True, record: bool = True) -> App:
    """Build the services and the main window with all its pages (see the module docstring).

    ``defer``: plots, the recorder and the slower pages wait for the first
    paint (the app); without it everything is built now (tests, screenshots).
    """
    from PySide6.QtCore import QSettings

    from desktop.commission.context import CommissionContext
    from desktop.commission.storage import WriteHistory
    from desktop.commission.wizard import WizardStore
    from desktop.device.service import DeviceService
    from desktop.ui.shell.bridge import Bridge
    from desktop.ui.shell.main_window import MainWindow
    from desktop.ui.shell.worker import Worker
    paths = paths or AppPaths.from_environment()
    if settings is None:
        settings = (QSettings(str(paths.settings_file), QSettings.Format.IniFormat) if paths.settings_file
                    else QSettings())
    service = DeviceService(fast_period_s=fast_period_s, slow_period_s=slow_period_s)
    bridge = Bridge(service)
    worker = Worker()
    records = RecordsAccess(paths.records)
    commission = CommissionContext(installer=str(settings.value("installer/id", "installer")),
                                   company=str(settings.value("installer/company", "")),
                                   history=WriteHistory(paths.commissioning / "history"),
                                   wizard_store=WizardStore(paths.commissioning / "wizard"))
    window = MainWindow(bridge, settings=settings, defer_plots=defer, watch_ports=watch_ports, worker=worker)
    app = App(paths, service, bridge, worker, records, commission, window)
    _add_pages(app)
    window.restore_page()  # the last page shown may be one of those just added
    window.closing.connect(records.close)
    if defer:  # on the turn after the first paint: the demo's connect (queued first) is not held up
        from PySide6.QtCore import QTimer
        window.firstPainted.connect(lambda: QTimer.singleShot(0, lambda: _add_late_pages(app, record)))
    else:
        _add_late_pages(app, record)
    return app


def _add_pages(app: App) -> None:
    """The pages that load nothing slow until they are first shown (Firmware, Customers)."""
    from desktop.ui.records.customers_tab import make_customers_page
    from desktop.ui.shell.lazy_page import LazyPage
    def firmware_page():
        from desktop.ui.firmware.page import FirmwarePage  # the firmware tools
        return FirmwarePage(app.bridge)

    customers = LazyPage("Customers", lambda: make_customers_page(app.records, customers, app.worker))
    app.window.add_page("Firmware", LazyPage("Firmware", firmware_page))
    app.window.add_page("Customers", customers)


def _add_late_pages(app: App, record: bool) -> None:
    """After the first paint: the recorder, and the Parameters and Diagnostics pages (pyarrow, the wizard)."""
    from desktop.ui.commissioning.parameters_page import ParametersPage
    from desktop.ui.diagnostics.page import DiagnosticsPage
    from desktop.ui.diagnostics.review_window import open_review
    window = app.window
    parameters = ParametersPage(app.bridge, app.commission, records=app.records.get)
    window.add_page("Parameters", parameters, "Settings of the device, the guided set-up and settings files")
    app.pages["Parameters"] = parameters
    if record:
        from desktop.diag.recorder import Recorder
        app.recorder = Recorder(app.service, folder=app.paths.recordings)
        diagnostics = DiagnosticsPage(app.bridge, app.recorder, app.records.get, worker=app.worker,
                                      exports_dir=app.paths.exports)
        window.add_page("Diagnostics", diagnostics, "Recording, and the diagnostics bundle for support")
        diagnostics.reviewRequested.connect(lambda p: open_review(p, window, app.worker))
        app.pages["Diagnostics"] = diagnostics
    window.diagnosticBundleRequested.connect(lambda p: open_review(p, window, app.worker))
    from desktop.device.site_service import SiteService
    from desktop.ui.site.overview_page import install_site
    # every device of the site, polled on the service's loop at its periods; fed by the connection panel's
    # doctor and scan; its batch actions run on the bridge
    app.site = SiteService(app.service, app.service.fast_period_s, app.service.slow_period_s)
    install_site(window, app.site, runner=app.bridge, records=app.records.get, commission=app.commission)
    app.pages["Site"] = window.pages["Site"]
    if "Diagnostics" in app.pages:
        app.pages["Diagnostics"].site = app.site   # the bundle covers every device of the site


def run(demo: bool = False) -> int:
    """Open the main window (connected to the simulated inverter with ``demo``); returns the exit code."""
    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    from desktop.ui.shell import application
    qt_app = application.make_application()
    collector = application.collect_on_gui_thread()
    app = compose(defer=True)
    window = app.window
    window._gc = collector
    if demo:  # the simulator's start-up must not delay the window
        window.firstPainted.connect(window.connect_demo)
    window.dashboard.plotsReady.connect(application.settle_memory)  # the last of the start-up work
    probe = os.environ.get("PVDESK_STARTUP_PROBE")
    if probe:
        application.install_startup_probe(window, qt_app, app.bridge, probe)
    qt_app.aboutToQuit.connect(app.close)
    window.show()
    return int(qt_app.exec())
