"""The main window: menus, the connection panel (a dock on the left), the pages as tabs, the status bar.

Runs on the GUI thread. Every page gets the one ``DeviceLink`` (the
bridge, desktop/ui/shell/bridge.py) in its constructor and talks to the
device only through it (signals in, ``bridge.submit`` / ``bridge.call_device``
out, callbacks back on this thread), so nothing here ever waits on the device.

The window builds the four live device pages (Dashboard, Device, Faults,
Registers), which need nothing but the bridge. Every other page (Firmware,
Customers, Parameters, Diagnostics) is built by the composition root
(desktop/app.py) with the services it needs and joins with
:meth:`MainWindow.add_page`.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDockWidget, QFileDialog, QMainWindow, QMessageBox, QVBoxLayout, QWidget

from widgets.alarm_banner import AlarmBanner
from widgets.screen_fit import fit_to_screen

from desktop.ui.connection.panel import ConnectionPanel
from desktop.ui.device.dashboard_page import TILES, DashboardPage
from desktop.ui.device.device_page import DevicePage
from desktop.ui.device.faults_page import FaultsPage
from desktop.ui.device.registers_page import RegistersPage
from desktop.ui.shell.alarm_watch import AlarmWatch
from desktop.ui.shell.lazy_page import LazyPage
from desktop.ui.shell.page_tabs import PageTabs
from desktop.ui.shell.status_bar import LinkStatusBar

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """``MainWindow(bridge, settings=None)``; ``settings`` defaults to the app's QSettings ("PVDesk").

    ``defer_plots=True`` builds the dashboard's plots (and loads pyqtgraph)
    just after the window is first shown, so it appears sooner. ``worker``:
    the app's Worker (desktop/ui/shell/worker.py), for the serial port scans.
    Signal ``diagnosticBundleRequested(str)``: a bundle file the user chose in
    File ▸ Open diagnostic bundle… (for the diagnostics page to open).
    Signal ``firstPainted()``: the window has been painted once; start slow
    work from here (the app connects the demo then). Signal ``closing()``:
    the window is closing (the composition root closes its services).
    """

    diagnosticBundleRequested = Signal(str)
    firstPainted = Signal()
    closing = Signal()

    def __init__(self, bridge, settings: QSettings | None = None, parent: QWidget | None = None,
                 defer_plots: bool = False, watch_ports: bool = True, worker=None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.settings = settings if settings is not None else QSettings()
        self.setWindowTitle("PVDesk")
        self.setObjectName("MainWindow")
        self._shown_once = False
        self._defer_plots = defer_plots
        self.installEventFilter(self)  # for the first paint only

        self.tabs = PageTabs()
        self.tabs.setDocumentMode(True)
        self.tabs.setAccessibleName("Pages")
        self.alarm_banner = AlarmBanner()
        central = QWidget()
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(0, 0, 0, 0)
        central_layout.setSpacing(0)
        central_layout.addWidget(self.alarm_banner)   # above every page while an alarm is active
        central_layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.dashboard = DashboardPage(bridge, build_plots=not defer_plots)
        self.device_page = DevicePage(bridge)
        self.faults_page = FaultsPage(bridge)
        self.registers_page = RegistersPage(bridge)
        self.pages: dict[str, QWidget] = {}
        for title, page in (("Dashboard", self.dashboard), ("Device", self.device_page),
                            ("Faults", self.faults_page), ("Registers", self.registers_page)):
            self.add_page(title, page)

        self.connection_panel = ConnectionPanel(bridge, self.settings, watch_ports=watch_ports, worker=worker)
        self.connection_dock = QDockWidget("Connection", self)
        self.connection_dock.setObjectName("ConnectionDock")
        self.connection_dock.setWidget(self.connection_panel)
        self.connection_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.connection_dock.setTitleBarWidget(QWidget())  # the panel has its own heading
        self.connection_panel.setMinimumWidth(270)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.connection_dock)
        self.status = LinkStatusBar(bridge)
        self.setStatusBar(self.status)
        self.alarm_watch = AlarmWatch(bridge, self.alarm_banner, self.tabs, self.faults_page, self.status,
                                      {point: self.dashboard.tiles[key] for key, _t, _u, point, _d in TILES},
                                      parent=self)

        self.connection_panel.connectRequested.connect(self.connect_to)
        self.connection_panel.disconnectRequested.connect(self.disconnect_device)
        bridge.linkOpened.connect(self._on_link_opened)
        bridge.stateChanged.connect(self._on_state)
        bridge.errorRaised.connect(self.status.show_error)
        self._build_menus()
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self.restore_settings()
        self._on_tab_changed(self.tabs.currentIndex())

    # -- pages -------------------------------------------------------------
    def add_page(self, title: str, widget: QWidget, tooltip: str = "") -> int:
        """Add ``widget`` as a tab called ``title`` and return its index.

        The composition root (desktop/app.py) builds every other page with
        what it needs and adds it here. A page that is costly to
        build can be wrapped: ``add_page(title, LazyPage(title, factory))``. A
        page may define ``export_dialog()``; File ▸ Export… then calls it while
        the page is shown. The View menu gets a Ctrl+<n> shortcut for it.
        """
        index = self.tabs.addTab(widget, title)
        self.pages[title] = widget
        if tooltip:
            self.tabs.setTabToolTip(index, tooltip)
        widget.setAccessibleName(widget.accessibleName() or f"{title} page")
        if hasattr(self, "view_menu") and index < 9:
            self._add_page_action(index, title)
        return index

    def page(self, title: str) -> QWidget:
        """The page called ``title`` (a lazy page is built now)."""
        widget = self.pages[title]
        return widget.page() if isinstance(widget, LazyPage) else widget

    def show_page(self, title: str) -> None:
        self.tabs.setCurrentWidget(self.pages[title])

    # -- connection --------------------------------------------------------
    def connect_to(self, target) -> None:
        """Start connecting (the service reports progress through the bridge)."""
        self.bridge.connect_to(target)

    def connect_demo(self) -> None:
        self.connection_panel.connect_demo()

    def disconnect_device(self) -> None:
        self.bridge.disconnect_device()

    def _on_link_opened(self, link) -> None:
        self.setWindowTitle(f"PVDesk — {link.title} · {link.label}")

    def _on_state(self, state: str, _detail: str) -> None:
        self.disconnect_action.setEnabled(state != "disconnected")
        self.connect_action.setEnabled(state != "connecting")
        if state == "disconnected":
            self.setWindowTitle("PVDesk")

    # -- menus -------------------------------------------------------------
    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.open_bundle_action = file_menu.addAction("&Open diagnostic bundle…", self._open_bundle)
        self.open_bundle_action.setToolTip("Open a bundle sent from a site, read-only")
        self.export_action = file_menu.addAction("&Export…", self._export)
        self.export_action.setShortcut(QKeySequence("Ctrl+E"))
        file_menu.addSeparator()
        quit_action = file_menu.addAction("&Quit", self.close)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)

        device_menu = bar.addMenu("&Device")
        self.connect_action = device_menu.addAction("&Connect", self.connection_panel.request_connect)
        self.connect_action.setShortcut(QKeySequence("Ctrl+K"))
        self.disconnect_action = device_menu.addAction("&Disconnect", self.disconnect_device)
        self.disconnect_action.setShortcut(QKeySequence("Ctrl+Shift+K"))
        self.disconnect_action.setEnabled(False)
        device_menu.addSeparator()
        self.demo_action = device_menu.addAction("D&emo inverter", self.connect_demo)
        self.demo_action.setShortcut(QKeySequence("Ctrl+D"))
        self.demo_action.setToolTip("Connect to the built-in simulated inverter")

        self.view_menu = bar.addMenu("&View")
        panel_action = self.connection_dock.toggleViewAction()
        panel_action.setText("&Connection panel")
        panel_action.setShortcut(QKeySequence("Ctrl+L"))
        self.view_menu.addAction(panel_action)
        self.view_menu.addSeparator()
        for index in range(min(9, self.tabs.count())):
            self._add_page_action(index, self.tabs.tabText(index))

        help_menu = bar.addMenu("&Help")
        help_menu.addAction("&About PVDesk", self._about)

    def _add_page_action(self, index: int, title: str) -> None:
        action = QAction(f"&{index + 1} {title}", self)
        action.setShortcut(QKeySequence(f"Ctrl+{index + 1}"))
        action.triggered.connect(lambda _=False, i=index: self.tabs.setCurrentIndex(i))
        self.view_menu.addAction(action)

    def _on_tab_changed(self, index: int) -> None:
        page = self.tabs.widget(index)
        target = page.page() if isinstance(page, LazyPage) and page.is_built() else page
        self.export_action.setEnabled(callable(getattr(target, "export_dialog", None)))

    def _export(self) -> None:
        page = self.tabs.currentWidget()
        target = page.page() if isinstance(page, LazyPage) else page
        export = getattr(target, "export_dialog", None)
        if callable(export):
            export()

    def _open_bundle(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open diagnostic bundle", "",
                                              "PVDesk bundles (*.zip);;All files (*)")
        if path:
            self.diagnosticBundleRequested.emit(path)

    def _about(self) -> None:
        from desktop.core.logs import log_dir
        from desktop.version import __version__
        QMessageBox.about(self, "About PVDesk",
                          f"<h3>PVDesk {__version__}</h3><p>Commission, diagnose and upgrade solar and hybrid "
                          f"inverters over Modbus RTU, Modbus TCP and Bluetooth LE. Works fully offline.</p>"
                          f"<p>Log folder: {log_dir()}</p>")

    # -- settings and lifetime -----------------------------------------------
    def restore_settings(self) -> None:
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:   # the first start: as large as reads best, never larger than the laptop's screen
            fit_to_screen(self, 1400, 900)
        state = self.settings.value("window/state")
        if state is not None:
            self.restoreState(state)
        self.restore_page()

    def restore_page(self) -> None:
        """Show the page that was shown last, if it exists yet (the composition root asks again once it
        has added its pages)."""
        index = int(self.settings.value("window/page", 0))
        if 0 <= index < self.tabs.count():
            self.tabs.setCurrentIndex(index)

    def save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("window/page", self.tabs.currentIndex())
        self.connection_panel.save_state()
        self.settings.sync()

    def eventFilter(self, watched, event) -> bool:  # Qt override
        # After the first paint (not merely the show): build what was deferred, then stop watching.
        if watched is self and event.type() == QEvent.Type.Paint and not self._shown_once:
            self._shown_once = True
            self.removeEventFilter(self)
            QTimer.singleShot(0, self.firstPainted)
            if self._defer_plots:
                QTimer.singleShot(0, self.dashboard.build_plots)
        return False

    def closeEvent(self, event) -> None:  # Qt override
        self.save_settings()
        # Non-modal dialogs (the doctor, the review of a bundle) are windows of their own: they go with the window
        # instead of staying on screen over whatever opens next.
        for dialog in self.findChildren(QDialog):
            if dialog.isVisible():
                dialog.close()
        self.connection_panel.ports.stop()
        try:
            self.closing.emit()
        except Exception:  # closing must not stop the window from closing
            log.exception("closing the services failed")
        super().closeEvent(event)
