"""Review mode: a diagnostics bundle in the live app's dashboard, device, faults and registers pages, read-only.

Runs on the GUI thread; the bundle is opened and checked on a worker thread
(``open_review``). The four pages are the live ones, unchanged: they are
given a ``ReviewBridge`` -- the same ``DeviceLink`` interface as the live
``desktop.ui.shell.bridge.Bridge`` -- whose device is a ``desktop.diag.review.ReviewDevice`` answering from the
bundle (raw registers from the captured image, fault log, identity,
firmware) and refusing every write. The dashboard's plots are pointed at a
ring buffer holding the whole recording (``RingBuffer.extend``), and an
overview strip over the whole recording moves their visible range; the value
tiles, device status and active alarms show the moment at the right edge of
the visible range. A summary tab lists what stands out; double-clicking a
finding jumps there.
"""

from __future__ import annotations

import html
import math
import sys
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QStyle,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from widgets.plot_toolbar import WINDOW_CHOICES_S
from widgets.screen_fit import fit_to_screen

from desktop.core.errors import describe_error
from desktop.diag.review import ReviewData
from desktop.diag.summary import summarize
from desktop.ui.diagnostics.review_bridge import ReviewBridge
from desktop.ui.diagnostics.review_views import SummaryView, TimeOverview, clock_note, fmt_time
from desktop.ui.shell.worker import Worker, shared_worker


class ReviewWindow(QMainWindow):
    """``ReviewWindow(ReviewData)``: the recording, read-only, with time navigation."""

    timeChanged = Signal(float)

    def __init__(self, data: ReviewData, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from widgets.ring_buffer import RingBuffer

        from desktop.ui.device import dashboard_page as dash
        from desktop.ui.device import dashboard_points as dp
        from desktop.ui.device.device_page import DevicePage
        from desktop.ui.device.faults_page import FaultsPage
        from desktop.ui.device.registers_page import RegistersPage
        self.data = data
        self.setObjectName("ReviewWindow")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(f"PVDesk review — {data.bundle.path.name} (read-only)")
        self.findings = summarize(data.table, data.events, data.bundle.json("profile.json"))
        self.bridge = ReviewBridge(data, self)
        self.dashboard = dash.DashboardPage(self.bridge)
        self.device_page = DevicePage(self.bridge)
        self.faults_page = FaultsPage(self.bridge)
        # the device's fault log keeps the device's time: shown with its laptop-clock equivalent, from
        # the drift measured over the recording, so it lines up with the timeline
        self.faults_page.fixed_drift_s = self.data.clock_drift_s()
        self.registers_page = RegistersPage(self.bridge)
        self.summary = SummaryView(data, self.findings)
        self.bridge.linkOpened.emit(self.bridge.recorded_link)
        self.bridge.identityReady.emit(data.identity)
        self.bridge.firmwareReady.emit(data.firmware)

        # The whole recording behind the dashboard's plots.
        names = dp.PointMap(data.profile)
        columns = {}
        for series in dp.SERIES:
            point = names.name(series)
            if point is not None:
                columns[series] = data.plausible(point, data.column(point))
        if "grid_power_w" in columns:
            columns["grid_import_w"] = np.maximum(columns["grid_power_w"], 0)
            columns["grid_export_w"] = np.maximum(-columns["grid_power_w"], 0)
        self.history = RingBuffer(max(1, len(data.t_s)), dp.SERIES)
        self.history.extend(data.t_s, columns)
        for key, _title, series, unit, axis in dash.PLOTS:
            self.dashboard.plots[key].set_source(self.history, series, unit, labels=dp.LABELS, axis_label=axis)
        self.plots = list(self.dashboard.plots.values())
        device = self.bridge.device
        for function in ("holding", "input"):
            spans = device.captured_spans(function)
            if spans:  # the registers page opens on the first captured range
                self.registers_page.set_request(function, spans[0][0], min(spans[0][1] - spans[0][0], 2000))
                self.registers_page.read()
                break

        banner = QLabel(f"<b>Review of a recording — read-only.</b> {html.escape(data.bundle.path.name)}: "
                        f"{html.escape(str(data.link_info['title']))}, {fmt_time(data.start_s)} – "
                        f"{fmt_time(data.end_s)} ({clock_note(data.end_s)}; the device's fault log keeps the device's "
                        f"clock, each row says which). Nothing is sent to any device.")
        banner.setTextFormat(Qt.TextFormat.RichText)  # its bundle-fed parts are escaped above
        banner.setWordWrap(True)
        # Every other label the pages fill from the bundle shows plain text: a bundle's HTML is never rendered.
        self._rich_labels = {banner, self.faults_page.summary}
        QTimer.singleShot(0, self.plain_labels)  # after the bridge's answers (delivered on the next turn)
        banner.setAccessibleName("Review banner")
        self.overview = TimeOverview(data, self.findings)
        self.range_label = QLabel()
        self.range_label.setAccessibleName("Time shown")
        buttons = QHBoxLayout()
        icons = QStyle.StandardPixmap
        for text, icon, tip, fn in (
                ("Start", icons.SP_MediaSkipBackward, "The beginning of the recording", lambda: self.step(-math.inf)),
                ("Earlier", icons.SP_MediaSeekBackward, "One window earlier", lambda: self.step(-1)),
                ("Later", icons.SP_MediaSeekForward, "One window later", lambda: self.step(1)),
                ("End", icons.SP_MediaSkipForward, "The end of the recording", lambda: self.step(math.inf)),
                ("Whole recording", None, "Show everything at once", self.show_all)):
            button = QPushButton(text)
            if icon is not None:
                button.setIcon(self.style().standardIcon(icon))
            button.setToolTip(tip)
            button.clicked.connect(fn)
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.range_label)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for title, page in (("Summary", self.summary), ("Dashboard", self.dashboard), ("Device", self.device_page),
                            ("Faults", self.faults_page), ("Registers", self.registers_page)):
            self.tabs.addTab(page, title)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(10, 8, 10, 4)
        layout.addWidget(banner)
        layout.addWidget(self.overview)
        layout.addLayout(buttons)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        fit_to_screen(self, 1400, 900)

        self._applying = False
        self._follow_plots = QTimer(self, singleShot=True, interval=60)
        self._follow_plots.timeout.connect(self._from_plots)
        self.plots[0].view_box.sigXRangeChanged.connect(lambda *_a: self._follow_plots.start())
        self.overview.regionMoved.connect(lambda t0, t1: self.show_time(t1, t1 - t0))
        self.summary.jumpRequested.connect(self.jump_to)
        if self.findings:
            self.tabs.setCurrentWidget(self.summary)
        else:
            self.tabs.setCurrentWidget(self.dashboard)
        self.show_time(data.end_s, min(600.0, max(60.0, data.end_s - data.start_s)))

    # -- time --------------------------------------------------------------
    def window_s(self) -> float:
        t0, t1 = self.plots[0].visible_range()
        return max(1.0, t1 - t0)

    def show_time(self, t_end: float, window_s: float | None = None) -> None:
        """Show ``window_s`` seconds ending at ``t_end``; tiles, status and alarms show ``t_end``."""
        window_s = self.window_s() if window_s is None else max(1.0, window_s)
        self._applying = True
        try:
            if window_s in (seconds for _label, seconds in WINDOW_CHOICES_S):
                self.dashboard.toolbar.set_window_s(window_s)  # the toolbar's Window box says it
            for plot in self.plots:
                plot.set_visible_range(t_end - window_s, t_end)
            self._moment(t_end, window_s)
        finally:
            self._applying = False

    def plain_labels(self) -> int:
        """Bundle-fed labels are plain text (the banner and the alarm count build their own escaped markup)."""
        return _plain_all(self, self._rich_labels)

    def _moment(self, t_end: float, window_s: float) -> None:
        data = self.data
        data.cursor_s = t_end
        sample = data.sample_at(t_end)
        self.bridge.sampleReady.emit(sample)
        alarms = data.alarms_at(t_end)
        self.bridge.alarmsChanged.emit(alarms)
        from desktop.ui.device.faults_model import FaultRow
        self.faults_page.model.set_active([FaultRow.from_alarm(a) for a in alarms])  # since = when raised
        for plot in self.plots:
            plot.show_crosshair_at(t_end)  # legends read out the moment shown, not the recording's end
        self.overview.set_region(t_end - window_s, t_end)
        self.range_label.setText(f"{fmt_time(t_end - window_s)}  –  {fmt_time(t_end)}  ({clock_note(t_end)})")
        self.timeChanged.emit(t_end)

    def _from_plots(self) -> None:
        if not self._applying:
            t0, t1 = self.plots[0].visible_range()
            self._moment(t1, t1 - t0)

    def step(self, windows: float) -> None:
        w, (_t0, t1) = self.window_s(), self.plots[0].visible_range()
        if windows == -math.inf:
            self.show_time(self.data.start_s + w, w)
        elif windows == math.inf:
            self.show_time(self.data.end_s, w)
        else:
            self.show_time(min(self.data.end_s, max(self.data.start_s + w, t1 + windows * w)), w)

    def show_all(self) -> None:
        span = max(60.0, self.data.end_s - self.data.start_s)
        self.show_time(self.data.end_s + span * 0.01, span * 1.02)

    def jump_to(self, t_s: float) -> None:
        """Centre the view on ``t_s`` and show the dashboard."""
        w = self.window_s()
        self.show_time(min(self.data.end_s, t_s + w / 2), w)
        self.tabs.setCurrentWidget(self.dashboard)

    def closeEvent(self, event) -> None:  # Qt override
        self.bridge.detach()
        self.data.bundle.close()
        super().closeEvent(event)


def open_review(path: str | Path, parent: QWidget | None = None, worker: Worker | None = None) -> None:
    """Check and open ``path`` on the worker, then show its ReviewWindow (or say why it was refused)."""
    path = Path(path)
    progress = QProgressDialog(f"Opening {path.name}: checking every member against its SHA-256…", "", 0, 0, parent)
    progress.setCancelButton(None)
    progress.setWindowTitle("Open diagnostic bundle")
    progress.setMinimumDuration(300)

    def finished(result) -> None:
        data, error = result
        progress.close()
        if error is not None:
            text = describe_error(error)
            QMessageBox.warning(parent, "Bundle not opened", text)
            return
        window = ReviewWindow(data, parent)
        window.setWindowFlag(Qt.WindowType.Window, True)
        window.show()

    (worker or shared_worker()).run(lambda: load_review(path), finished)


def load_review(path: Path) -> tuple[ReviewData | None, BaseException | None]:
    """(data, None) or (None, error): open, check and load a bundle (any thread)."""
    from desktop.diag.open import open_bundle
    try:
        bundle = open_bundle(path)
    except Exception as exc:  # shown to the user
        return None, exc
    try:
        return ReviewData(bundle), None
    except Exception as exc:
        bundle.close()
        return None, exc


def run_review(path: str | Path) -> int:
    """``pvdesk review BUNDLE``: the review window on its own; refusals print one line and return 2."""
    from desktop.ui.shell.application import display_problem, make_application
    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    data, error = load_review(Path(path))
    if error is not None:
        print(f"pvdesk: {describe_error(error)}", file=sys.stderr)
        return 2
    app = make_application()
    window = ReviewWindow(data)
    window.show()
    return int(app.exec()) if QApplication.instance() is app else 0


def _plain_all(root: QWidget, keep=()) -> int:
    """Set every QLabel under ``root`` (but ``keep``) to plain text; the number changed."""
    changed = 0
    for label in root.findChildren(QLabel):
        if label not in keep and label.textFormat() != Qt.TextFormat.PlainText:
            label.setTextFormat(Qt.TextFormat.PlainText)
            changed += 1
    return changed
