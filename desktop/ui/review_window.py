"""Review mode: a diagnostics bundle in the live app's dashboard, device, faults and registers pages, read-only.

Runs on the GUI thread; the bundle is opened and checked on a worker thread
(``open_review``). The four pages are the live ones, unchanged: they are
given a ``ReviewBridge`` -- the same signals as ``desktop.bridge.Bridge`` --
whose device is a ``desktop.diag.review.ReviewDevice`` answering from the
bundle (raw registers from the captured image, fault log, identity,
firmware) and refusing every write. The dashboard's plots are pointed at a
ring buffer holding the whole recording (``RingBuffer.extend``), and an
overview strip over the whole recording moves their visible range; the value
tiles, device status and active alarms show the moment at the right edge of
the visible range. A summary tab lists what stands out; double-clicking a
finding jumps there.
"""

from __future__ import annotations

import asyncio
import html
import math
import sys
import threading
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView,
                               QLabel, QMainWindow, QMessageBox, QProgressDialog, QPushButton, QStyle, QTableWidget,
                               QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)

from desktop.diag.review import ReviewData, ReviewDevice
from widgets.plot_toolbar import WINDOW_CHOICES_S
from desktop.diag.summary import Finding, summarize

SEVERITY_COLOUR = {"critical": "#D0343A", "error": "#E0484E", "warning": "#E07B00", "info": "#3A86E0"}


def _fmt(t: float) -> str:
    return time.strftime("%a %d %b %Y %H:%M:%S", time.localtime(t))


class ReviewService:
    """What the pages read from ``bridge.service``: the device, the last sample, the poll periods."""

    def __init__(self, device: ReviewDevice) -> None:
        self.device = device
        self.last_sample = None
        self.fast_period_s = self.slow_period_s = math.inf  # a recording never goes stale
        self.state = "review"


class ReviewBridge(QObject):
    """The live Bridge's signals and ``call_device``/``submit``, answered from the bundle."""

    stateChanged = Signal(str, str)
    sampleReady = Signal(object)
    alarmsChanged = Signal(list)
    identityReady = Signal(dict)
    firmwareReady = Signal(list)
    statsUpdated = Signal(dict)
    errorRaised = Signal(str)
    linkOpened = Signal(dict)

    def __init__(self, data: ReviewData, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.service = ReviewService(ReviewDevice(data))
        self._loop = asyncio.new_event_loop()
        self._ids = 0

    def submit(self, coro_factory, on_done=None, on_error=None, on_progress=None) -> int:
        """Run the coroutine now (no I/O behind it); callbacks come on the next event-loop turn."""
        self._ids += 1
        try:
            result = self._loop.run_until_complete(coro_factory(lambda _i: None) if on_progress else coro_factory())
        except Exception as exc:  # noqa: BLE001 - handed to the page, as the live bridge does
            if on_error:
                QTimer.singleShot(0, lambda error=exc: on_error(error))
        else:
            if on_done:
                QTimer.singleShot(0, lambda: on_done(result))
        return self._ids

    def call_device(self, fn, on_done=None, on_error=None) -> int:
        return self.submit(lambda: fn(self.service.device), on_done, on_error)

    def detach(self) -> None:
        self._loop.close()


class TimeOverview(QWidget):
    """The whole recording in one strip (PV power, alarm marks) with the visible window as a draggable region."""

    regionMoved = Signal(float, float)

    def __init__(self, data: ReviewData, findings: list[Finding], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        import pyqtgraph as pg  # noqa: PLC0415

        from widgets import theme  # noqa: PLC0415
        from widgets.ring_buffer import peak_decimate  # noqa: PLC0415
        self.plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self.plot.setFixedHeight(96)
        self.plot.setBackground(theme.plot_background(self.palette()))
        item = self.plot.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.hideAxis("left")
        item.getViewBox().setMouseEnabled(x=False, y=False)
        name = next((n for n in ("pv_power_w", "inverter_power_w", "grid_power_w") if n in data.table.column_names),
                    data.table.column_names[2] if data.table.num_columns > 2 else None)
        if name is not None and len(data.t_s) > 1:
            t, ys = peak_decimate(data.t_s, {"y": data.column(name)}, data.start_s, data.end_s, 1500)
            item.plot(t, ys["y"], pen=pg.mkPen(theme.series_colour(0), width=1), connect="finite")
        for f in findings:
            if f.kind in ("alarm", "link", "gap"):
                colour = SEVERITY_COLOUR.get(f.severity, "#E07B00")
                item.addItem(pg.InfiniteLine(f.t_s, angle=90, pen=pg.mkPen(colour, width=1)))
        item.setXRange(data.start_s, max(data.end_s, data.start_s + 1), padding=0.01)
        self.region = pg.LinearRegionItem(orientation="vertical", brush=pg.mkBrush(58, 134, 224, 60))
        self.region.setBounds((data.start_s - 3600, data.end_s + 3600))
        item.addItem(self.region)
        self._quiet = False
        self.region.sigRegionChanged.connect(self._moved)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self.setAccessibleName("Whole recording: drag the highlighted window to move through time")

    def set_region(self, t0: float, t1: float) -> None:
        self._quiet = True
        try:
            self.region.setRegion((t0, t1))
        finally:
            self._quiet = False

    def _moved(self) -> None:
        if not self._quiet:
            t0, t1 = self.region.getRegion()
            self.regionMoved.emit(float(t0), float(t1))


class SummaryView(QWidget):
    """Facts about the bundle, and the findings (double-click jumps to the time)."""

    jumpRequested = Signal(float)

    def __init__(self, data: ReviewData, findings: list[Finding], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        m = data.manifest
        facts = QGroupBox("Bundle")
        form = QFormLayout(facts)
        ident = m["device"].get("identity") or {}
        pd = m["personal_data"]
        rows = (("File", data.bundle.path.name),
                ("Device", f"{ident.get('model_name') or m['device'].get('profile')} · serial "
                           f"{m['device'].get('serial') or 'unknown'} · unit {m['device'].get('unit')}"),
                ("Recorded", f"{_fmt(data.start_s)} – {_fmt(data.end_s)}"),
                ("Samples", f"{len(data.t_s):,} in {len(m.get('sessions', []))} session(s)"),
                ("Made with", f"PVDesk {m['app']['version']} on {m['app']['platform']}"),
                ("Checked", f"all {len(m['members'])} members match their SHA-256 in the manifest"),
                ("Personal data", "masked" if pd.get("masked") else "unmasked: the customer consented to sharing"
                                                                    " with support"))
        for label, text in rows:
            value = QLabel(text)
            value.setTextFormat(Qt.TextFormat.PlainText)  # from the bundle: never markup
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(f"{label}:", value)
        self.table = QTableWidget(len(findings), 4)
        self.table.setHorizontalHeaderLabels(("Time", "Severity", "What stands out", "Detail"))
        self.table.setAccessibleName("What stands out")
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        for col in (0, 1):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(2, 380)
        header.setStretchLastSection(True)
        for row, f in enumerate(findings):
            cells = (time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(f.t_s)), f"● {f.severity}", f.title, f.detail)
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, f.t_s)
                if col == 1:
                    item.setForeground(Qt.GlobalColor.black if f.severity not in SEVERITY_COLOUR else
                                       _colour(SEVERITY_COLOUR[f.severity]))
                self.table.setItem(row, col, item)
        self.table.cellDoubleClicked.connect(lambda r, _c: self.jumpRequested.emit(
            float(self.table.item(r, 0).data(Qt.ItemDataRole.UserRole))))
        count = QLabel(f"{len(findings)} finding{'s' if len(findings) != 1 else ''}: alarms, link losses, values "
                       "outside their plausible range, parameter changes. Double-click one to go there."
                       if findings else "Nothing stands out: no alarms, link losses, implausible values or "
                                        "parameter changes.")
        count.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.addWidget(facts)
        layout.addWidget(count)
        layout.addWidget(self.table, 1)


def _plain_all(root: QWidget, keep=()) -> int:
    """Set every QLabel under ``root`` (but ``keep``) to plain text; the number changed."""
    changed = 0
    for label in root.findChildren(QLabel):
        if label not in keep and label.textFormat() != Qt.TextFormat.PlainText:
            label.setTextFormat(Qt.TextFormat.PlainText)
            changed += 1
    return changed


def _colour(hex_text: str):
    from PySide6.QtGui import QColor  # noqa: PLC0415
    return QColor(hex_text)


class ReviewWindow(QMainWindow):
    """``ReviewWindow(ReviewData)``: the recording, read-only, with time navigation."""

    timeChanged = Signal(float)

    def __init__(self, data: ReviewData, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from widgets.ring_buffer import RingBuffer  # noqa: PLC0415

        from . import dashboard_page as dash  # noqa: PLC0415
        from . import dashboard_points as dp  # noqa: PLC0415
        from .device_page import DevicePage  # noqa: PLC0415
        from .faults_page import FaultsPage  # noqa: PLC0415
        from .registers_page import RegistersPage  # noqa: PLC0415
        self.data = data
        self.setObjectName("ReviewWindow")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(f"PVDesk review — {data.bundle.path.name} (read-only)")
        self.findings = summarize(data.table, data.events, data.bundle.json("profile.json"))
        self.bridge = ReviewBridge(data, self)
        self.dashboard = dash.DashboardPage(self.bridge)
        self.device_page = DevicePage(self.bridge)
        self.faults_page = FaultsPage(self.bridge)
        self.registers_page = RegistersPage(self.bridge)
        self.summary = SummaryView(data, self.findings)
        self.bridge.linkOpened.emit(data.link_info)
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
        device = self.bridge.service.device
        for function in ("holding", "input"):
            spans = device.captured_spans(function)
            if spans:  # the registers page opens on the first captured range
                self.registers_page.set_request(function, spans[0][0], min(spans[0][1] - spans[0][0], 2000))
                self.registers_page.read()
                break

        banner = QLabel(f"<b>Review of a recording — read-only.</b> {html.escape(data.bundle.path.name)}: "
                        f"{html.escape(str(data.link_info['title']))}, {_fmt(data.start_s)} – {_fmt(data.end_s)}. "
                        "Nothing is sent to any device.")
        banner.setTextFormat(Qt.TextFormat.RichText)  # its bundle-fed parts are escaped above
        banner.setWordWrap(True)
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
        self.resize(1400, 900)
        # Every label the pages fill from the bundle shows plain text: a bundle's HTML is never rendered.
        self._rich_labels = {banner, self.faults_page.summary}
        self.plain_labels()
        QTimer.singleShot(0, self.plain_labels)  # after the bridge's answers (delivered on the next turn)

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

    def _moment(self, t_end: float, window_s: float) -> None:
        data = self.data
        data.cursor_s = t_end
        sample = data.sample_at(t_end)
        self.bridge.service.last_sample = sample
        self.bridge.sampleReady.emit(sample)
        alarms = data.alarms_at(t_end)
        self.bridge.alarmsChanged.emit(alarms)
        from .faults_model import FaultRow  # noqa: PLC0415
        self.faults_page.model.set_active([FaultRow.from_alarm(a) for a in alarms])  # since = when raised
        for plot in self.plots:
            plot.show_crosshair_at(t_end)  # legends read out the moment shown, not the recording's end
        self.overview.set_region(t_end - window_s, t_end)
        self.range_label.setText(f"{_fmt(t_end - window_s)}  –  {_fmt(t_end)}")
        self.timeChanged.emit(t_end)

    def _from_plots(self) -> None:
        if not self._applying:
            t0, t1 = self.plots[0].visible_range()
            self._moment(t1, t1 - t0)

    def plain_labels(self) -> int:
        """Bundle-fed labels are plain text (the banner and the alarm count build their own escaped markup)."""
        return _plain_all(self, self._rich_labels)

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

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.bridge.detach()
        self.data.bundle.close()
        super().closeEvent(event)


class _Opener(QObject):
    done = Signal(object, object)


def open_review(path: str | Path, parent: QWidget | None = None) -> None:
    """Check and open ``path`` on a worker thread, then show its ReviewWindow (or say why it was refused)."""
    path = Path(path)
    progress = QProgressDialog(f"Opening {path.name}: checking every member against its SHA-256…", "", 0, 0, parent)
    progress.setCancelButton(None)
    progress.setWindowTitle("Open diagnostic bundle")
    progress.setMinimumDuration(300)
    opener = _Opener(parent)

    def finished(data, error) -> None:
        progress.close()
        opener.deleteLater()
        if error is not None:
            text = error.one_line() if hasattr(error, "one_line") else f"{type(error).__name__}: {error}"
            QMessageBox.warning(parent, "Bundle not opened", text)
            return
        window = ReviewWindow(data, parent)
        window.setWindowFlag(Qt.WindowType.Window, True)
        window.show()

    opener.done.connect(finished, Qt.ConnectionType.QueuedConnection)
    threading.Thread(target=lambda: opener.done.emit(*load_review(path)), name="pvdesk-open-bundle",
                     daemon=True).start()


def load_review(path: Path) -> tuple[ReviewData | None, BaseException | None]:
    """(data, None) or (None, error): open, check and load a bundle (any thread)."""
    from desktop.diag.open import open_bundle  # noqa: PLC0415
    try:
        bundle = open_bundle(path)
    except Exception as exc:  # noqa: BLE001 - shown to the user
        return None, exc
    try:
        return ReviewData(bundle), None
    except Exception as exc:  # noqa: BLE001
        bundle.close()
        return None, exc


def run_review(path: str | Path) -> int:
    """``pvdesk review BUNDLE``: the review window on its own; refusals print one line and return 2."""
    from desktop.app import display_problem, make_application  # noqa: PLC0415
    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    data, error = load_review(Path(path))
    if error is not None:
        print(f"pvdesk: {error.one_line() if hasattr(error, 'one_line') else error}", file=sys.stderr)
        return 2
    app = make_application()
    window = ReviewWindow(data)
    window.show()
    return int(app.exec()) if QApplication.instance() is app else 0
