"""The review window's own views: the overview strip over the whole recording, and the summary of findings.

GUI thread. Both show plain data from a ``ReviewData`` (desktop/diag/review.py)
and its findings (desktop/diag/summary.py); pyqtgraph is imported when the
strip is built.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.diag.review import ReviewData
from desktop.diag.summary import Finding

SEVERITY_COLOUR = {"critical": "#D0343A", "error": "#E0484E", "warning": "#E07B00", "info": "#3A86E0"}


def fmt_time(t: float) -> str:
    return time.strftime("%a %d %b %Y %H:%M:%S", time.localtime(t))


def clock_note(t: float) -> str:
    """Whose clock the recording's times are: the laptop that recorded, shown in this computer's zone
    with its offset at ``t`` (as ``fmt_time`` shows it; summer time may differ from today's).

    The device's own fault log keeps the device's clock; its rows say so (faults_model.FaultRow).
    """
    offset = time.strftime("%z", time.localtime(t))
    return f"laptop clock, shown as UTC{offset[:3]}:{offset[3:]}" if offset else "laptop clock"


class TimeOverview(QWidget):
    """The whole recording in one strip (PV power, alarm marks) with the visible window as a draggable region."""

    regionMoved = Signal(float, float)

    def __init__(self, data: ReviewData, findings: list[Finding], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        import pyqtgraph as pg

        from widgets import theme
        from widgets.ring_buffer import peak_decimate
        self.plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self.plot.setFixedHeight(96)
        self.plot.setBackground(theme.plot_background(self.palette()))
        item = self.plot.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.hideAxis("left")
        item.getViewBox().setMouseEnabled(x=False, y=False)
        names = [data.profile.resolve(n) if data.profile is not None else n
                 for n in ("pv_power_w", "inverter_power_w", "grid_power_w")]   # canonical -> the device's own
        name = next((n for n in names if n and n in data.table.column_names),
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
                ("Recorded", f"{fmt_time(data.start_s)} – {fmt_time(data.end_s)} ({clock_note(data.end_s)})"),
                ("Samples", f"{len(data.t_s):,} in {len(m.get('sessions', []))} session(s)"),
                ("Made with", f"PVDesk {m['app']['version']} on {m['app']['platform']}"),
                ("Checked", f"all {len(m['members'])} members match their SHA-256 in the manifest"),
                ("Personal data", "masked" if pd.get("masked") else "unmasked: the customer consented to sharing"
                                                                    " with support"))
        for label, text in rows:
            value = QLabel(text)
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
        self.table.cellDoubleClicked.connect(lambda r, _c: self._jump(r))
        self.table.installEventFilter(self)   # Enter on the selected finding jumps too
        count = QLabel(f"{len(findings)} finding{'s' if len(findings) != 1 else ''}: alarms, link losses, values "
                       "outside their plausible range, parameter changes. Double-click one or press Enter to go there."
                       if findings else "Nothing stands out: no alarms, link losses, implausible values or "
                                        "parameter changes.")
        count.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.addWidget(facts)
        layout.addWidget(count)
        layout.addWidget(self.table, 1)

    def _jump(self, row: int) -> None:
        item = self.table.item(row, 0)
        if item is not None:
            self.jumpRequested.emit(float(item.data(Qt.ItemDataRole.UserRole)))

    def eventFilter(self, watched, event) -> bool:   # Qt override: Enter on the table's current row
        if watched is self.table and event.type() == QEvent.Type.KeyPress \
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.table.currentRow() >= 0:
            self._jump(self.table.currentRow())
            return True
        return super().eventFilter(watched, event)


def _colour(hex_text: str):
    from PySide6.QtGui import QColor
    return QColor(hex_text)
