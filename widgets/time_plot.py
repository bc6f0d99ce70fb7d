"""Live time-series plot of a few series from a RingBuffer.

Role: draws the series of one quantity (all in one unit) against local time,
follows the newest data or stays where the user put it, shows a crosshair
with the value of each series under the cursor (plot_crosshair.py, in the
legend of plot_legend.py), scales the value axis by the rules of
plot_scale.py, and exports what is visible as CSV (plot_csv.py) or PNG. It reads plain numpy
arrays; it knows nothing of Modbus. Runs on the GUI thread. A timer of the
owner calls :meth:`refresh`; it redraws only when the buffer or the range changed.

Why it stays fast on a day of data (docs/plots.md has the figures): the
plot hands pyqtgraph only the visible slice of the buffer (binary search on
the sorted timestamps, no copy) and, when that slice has more samples than
the view has pixel columns, a min/max envelope per pixel column computed
with numpy (``PeakEnvelope`` in ring_buffer.py, which keeps the columns
that can no longer change from frame to frame). It fits the value axis
itself from those few points, draws 1 px lines without antialiasing and an
opaque grid under the curves. pyqtgraph's clip-to-view and peak
downsampling stay on as a second line of defence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from widgets import theme
from widgets.plot_crosshair import PlotCrosshair
from widgets.plot_csv import write_series_csv
from widgets.plot_legend import PlotLegend
from widgets.plot_scale import MIN_SPAN, gap_threshold_s, value_range, widen_to_span
from widgets.ring_buffer import PeakEnvelope, RingBuffer, break_gaps
from widgets.time_axis import TimeAxis

__all__ = ["DEFAULT_WINDOW_S", "TimePlot", "widen_to_span"]

DEFAULT_WINDOW_S = 600.0


class TimePlot(QWidget):
    """A pyqtgraph plot of named series against time, with legend and readout.

    Signals: ``followChanged(bool)`` when follow mode turns on or off (also
    when a mouse pan or zoom pauses it); ``windowChanged(float)`` with the
    follow window in seconds; ``crosshairMoved(object)`` with the time under
    the mouse (float seconds) or None when the mouse leaves the plot.
    """

    followChanged = Signal(bool)
    windowChanged = Signal(float)
    crosshairMoved = Signal(object)

    #: The smallest span of the value axis per unit (plot_scale.py).
    MIN_SPAN = MIN_SPAN

    def __init__(self, title: str = "", parent: QWidget | None = None, window_s: float = DEFAULT_WINDOW_S):
        super().__init__(parent)
        self.title = title
        self.max_gap_s: float | None = None  # None: five typical sample intervals
        self._source: RingBuffer | None = None
        self._names: list[str] = []
        self._unit = ""
        self._window_s = float(window_s)
        self._follow = True
        self._drawn_generation = -1
        self._range_dirty = True
        self._moving_range = False
        self._grid = True
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._envelope = PeakEnvelope()
        self.min_span: float | None = None   # None: MIN_SPAN of the unit
        self._axes_shown = True

        self.legend = PlotLegend(title, self)
        self.plot_widget = pg.PlotWidget(axisItems={"bottom": TimeAxis()})
        self.plot_widget.setMinimumHeight(160)
        self.plot_item = self.plot_widget.getPlotItem()
        self.plot_item.setMenuEnabled(False)
        self.plot_item.hideButtons()
        # Applied by the PlotItem to every curve added (the keyword is `mode`).
        self.plot_item.setClipToView(True)
        self.plot_item.setDownsampling(auto=True, mode="peak")
        self.view_box = self.plot_item.getViewBox()
        self.view_box.setMouseEnabled(x=True, y=False)
        self.view_box.enableAutoRange(x=False, y=False)  # see _fit_y
        self.plot_item.getAxis("left").setWidth(64)  # stacked plots line up
        self._cursor = PlotCrosshair(self.plot_item, self.legend)
        self.crosshair = self._cursor.line

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.legend)
        layout.addWidget(self.plot_widget, 1)

        self.view_box.sigXRangeChanged.connect(self._on_x_range_changed)
        self.view_box.sigResized.connect(self._on_x_range_changed)
        self.view_box.sigRangeChangedManually.connect(self._on_user_range_change)
        self.plot_widget.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.legend.seriesToggled.connect(self._on_series_toggled)
        self.apply_theme()
        self._show_axes(False)

    # -- data source -------------------------------------------------------
    def set_source(self, ring_buffer: RingBuffer, series_names: Sequence[str], unit: str,
                   labels: Mapping[str, str] | None = None, axis_label: str = "") -> None:
        """Plot ``series_names`` of ``ring_buffer``, all in ``unit``.

        ``labels`` maps a series name to its legend text (default: the name);
        ``axis_label`` names the quantity on the left axis ("Power" reads
        "Power (kW)", the prefix following the zoom).
        """
        missing = [n for n in series_names if n not in ring_buffer.series]
        if missing:
            raise KeyError(f"not in the ring buffer: {missing}")
        for curve in self._curves.values():
            self.plot_item.removeItem(curve)
        self._source, self._names, self._unit = ring_buffer, list(series_names), unit
        labels = dict(labels or {})
        self._curves = {}
        count = len(self._names)
        for i, name in enumerate(self._names):
            curve = pg.PlotDataItem(name=labels.get(name, name), antialias=False)
            # Traces that coincide (PV and inverter AC without a battery, inverter AC and house load while
            # the grid is at 0) stay apart: the first series are drawn wider and underneath (3, 2, then
            # 1 px), so each shows as a coloured casing around the next. Solid pens only, and at most two
            # wide ones: a 3 px pen on every series tripled the frame time (benchmarks/plot_frame.py).
            curve.setPen(pg.mkPen(theme.series_colour(i), width=max(1, min(count - 1, 3) - i)))
            curve.setZValue(i)
            self.plot_item.addItem(curve)
            self._curves[name] = curve
        self._cursor.set_source(ring_buffer, self._names, unit)
        self.legend.set_series([(n, labels.get(n, n), theme.series_colour(i)) for i, n in enumerate(self._names)])
        self.plot_item.setLabel("left", axis_label or None, units=unit)
        self._drawn_generation = -1
        self._range_dirty = True
        self.refresh()

    def series_names(self) -> list[str]:
        return list(self._names)

    def unit(self) -> str:
        return self._unit

    def curve(self, name: str) -> pg.PlotDataItem:
        """The PlotDataItem drawing series ``name``."""
        return self._curves[name]

    # -- redraw ------------------------------------------------------------
    def refresh(self) -> bool:
        """Redraw if the buffer has new samples or the view moved; True if it did."""
        source = self._source
        if source is None:
            return False
        new_data = source.generation != self._drawn_generation
        if not new_data and not self._range_dirty:
            return False
        span = source.time_span()
        self._show_axes(span is not None)
        self._drawn_generation = source.generation  # before moving: linked plots call back
        if new_data and self._follow and span is not None:
            self._set_x_range(span[1] - self._window_s, span[1])
        self._draw_curves()
        if self._cursor.time_s is None:
            self._cursor.show_latest()
        return True

    def _draw_curves(self) -> None:
        self._range_dirty = False
        t0, t1 = self.visible_range()
        columns = max(1, int(self.view_box.width()))
        source = self._source
        assert source is not None  # drawn only once a source is set
        i0, i1 = source.index_range(t0, t1)
        # pyqtgraph keeps the arrays it is given. A view into the buffer would
        # change under it when the next append overwrites the oldest slot, so
        # a slice small enough to be drawn as is gets copied (cheap: it is at
        # most two points per pixel column); decimation makes new arrays anyway.
        if i1 - i0 <= 2 * columns:
            t, ys = source.view(t0, t1, copy=True, margin=1)
        else:
            t, ys = self._envelope.envelope(source, self._names, t0, t1, columns)
        t, ys = break_gaps(t, ys, self._gap_threshold_s(t1 - t0, columns))
        for name, curve in self._curves.items():
            curve.setData(t, ys[name])
        self._fit_y(ys)
        # pyqtgraph applies a range change to the view's transform only when it
        # next paints, which dirties every item again and costs a second full
        # paint of a shown plot. Applying it now keeps it to one paint a frame.
        self.view_box.updateMatrix()

    def _fit_y(self, ys: Mapping[str, np.ndarray]) -> None:
        """Fit the value axis to the shown series (cheaper than pyqtgraph's
        auto-range, which walks every curve's bounds again at paint time)."""
        shown = [name for name, curve in self._curves.items() if curve.isVisible()]
        fitted = value_range(ys, shown, self.min_span if self.min_span is not None else self.MIN_SPAN.get(self._unit))
        if fitted is not None:
            self.view_box.setYRange(*fitted, padding=0)

    def y_range(self) -> tuple[float, float]:
        """The value axis's shown range."""
        lo, hi = self.view_box.viewRange()[1]
        return float(lo), float(hi)

    def _show_axes(self, has_data: bool) -> None:
        """No tick labels on an empty plot: pyqtgraph would label a 0..1 range ("00.100")."""
        if has_data != self._axes_shown:
            self._axes_shown = has_data
            for side in ("bottom", "left"):
                self.plot_item.getAxis(side).setStyle(showValues=has_data)

    def _gap_threshold_s(self, span_s: float, columns: int) -> float:
        assert self._source is not None  # drawn only once a source is set
        recent = self._source.view(t0=None, t1=None)[0][-64:] if self.max_gap_s is None else np.empty(0)
        return gap_threshold_s(recent, self.max_gap_s, span_s, columns)

    # -- view range: follow, pause, window ---------------------------------
    def visible_range(self) -> tuple[float, float]:
        """(t0, t1) of the visible time axis, seconds since the epoch."""
        x0, x1 = self.view_box.viewRange()[0]
        return float(x0), float(x1)

    def set_visible_range(self, t0: float, t1: float) -> None:
        """Show t0..t1 and pause following (as a user pan would)."""
        self.set_follow(False)
        self._set_x_range(t0, t1)
        self.refresh()

    def _set_x_range(self, t0: float, t1: float) -> None:
        self._moving_range = True
        try:
            self.view_box.setXRange(t0, t1, padding=0)
        finally:
            self._moving_range = False
        self._range_dirty = True

    def is_following(self) -> bool:
        return self._follow

    def set_follow(self, follow: bool) -> None:
        """Follow the newest sample (True) or keep the view where it is."""
        follow = bool(follow)
        if follow == self._follow:
            return
        self._follow = follow
        if follow:
            self._drawn_generation = -1
            self.refresh()
        self.followChanged.emit(follow)

    def window_s(self) -> float:
        return self._window_s

    def set_window(self, window_s: float) -> None:
        """Width of the view in seconds; paused views keep their right edge."""
        self._window_s = float(window_s)
        if self._follow:
            self._drawn_generation = -1
        else:
            right = self.visible_range()[1]
            self._set_x_range(right - self._window_s, right)
        self.refresh()
        self.windowChanged.emit(self._window_s)

    def reset_zoom(self) -> None:
        """Back to the chosen window at the newest sample, following."""
        self._drawn_generation = -1
        if self._follow:
            self.refresh()
        else:
            self.set_follow(True)

    def link_time_axis(self, other: "TimePlot") -> None:
        """Show exactly the same time range as ``other`` (pans and zooms move both)
        and the same crosshair time.

        Unlike pyqtgraph's setXLink, which aligns views by screen position,
        this copies the range itself, so linked plots export the same rows.
        """
        self.view_box.sigXRangeChanged.connect(other._on_linked_range)
        other.view_box.sigXRangeChanged.connect(self._on_linked_range)
        self.crosshairMoved.connect(other._on_linked_crosshair)
        other.crosshairMoved.connect(self._on_linked_crosshair)
        self._on_linked_range(other.view_box, other.view_box.viewRange()[0])

    def _on_linked_range(self, _view_box, x_range) -> None:
        t0, t1 = float(x_range[0]), float(x_range[1])
        if (t0, t1) == self.visible_range():
            return
        self._set_x_range(t0, t1)
        if self._source is not None:
            self.refresh()

    def _on_x_range_changed(self, *_args) -> None:
        self._range_dirty = True
        if not self._moving_range and self._source is not None:
            self.refresh()

    def _on_user_range_change(self, *_args) -> None:
        self.set_follow(False)

    # -- crosshair and readout ---------------------------------------------
    def _on_mouse_moved(self, scene_pos) -> None:
        if self._source is None or not self.view_box.sceneBoundingRect().contains(scene_pos):
            self.hide_crosshair()
            self.crosshairMoved.emit(None)
            return
        t_s = self.view_box.mapSceneToView(scene_pos).x()
        self.show_crosshair_at(t_s)
        self.crosshairMoved.emit(t_s)

    def _on_linked_crosshair(self, t_s: float | None) -> None:
        if t_s is None:
            self.hide_crosshair()
        else:
            self.show_crosshair_at(t_s)

    def show_crosshair_at(self, t_s: float) -> None:
        """Put the crosshair on the sample nearest ``t_s`` and read it out."""
        self._cursor.show_at(t_s)

    def hide_crosshair(self) -> None:
        """Hide the crosshair; the readout goes back to the newest values."""
        self._cursor.hide()

    def crosshair_time(self) -> float | None:
        return self._cursor.time_s

    def readout_text(self) -> str:
        """The readout as plain text: time, then "label value unit" per series."""
        return self.legend.text()

    def leaveEvent(self, event) -> None:  # Qt override
        self.hide_crosshair()
        self.crosshairMoved.emit(None)
        super().leaveEvent(event)

    def _on_series_toggled(self, name: str, visible: bool) -> None:
        self._curves[name].setVisible(visible)
        if self._source is not None:
            self._draw_curves()  # the value axis fits the series still shown

    # -- look --------------------------------------------------------------
    def apply_theme(self) -> None:
        """Take background, axis and grid colours from the current palette.

        The grid is drawn opaque, in a colour mixed from background and text,
        at the major and minor ticks only: pyqtgraph's own grid blends
        translucent lines and costs about 45 ms a frame on a full day.
        """
        palette = self.palette()
        self.plot_widget.setBackground(theme.plot_background(palette))
        fg = theme.plot_foreground(palette)
        grid = theme.grid_colour(palette)
        for side in ("left", "bottom"):
            axis = self.plot_item.getAxis(side)
            axis.setPen(pg.mkPen(grid))
            axis.setTickPen(pg.mkPen(grid))
            axis.setTextPen(pg.mkPen(fg))
            axis.setStyle(tickAlpha=255, maxTickLevel=1)
            axis.setGrid(255 if self._grid else False)
            axis.setZValue(-200)  # grid under the curves (the ViewBox sits at -100)
        self._cursor.set_colour(fg)

    def set_grid(self, on: bool) -> None:
        """Show (default) or hide the grid."""
        self._grid = bool(on)
        self.apply_theme()

    def changeEvent(self, event) -> None:  # Qt override
        if event.type() == QEvent.Type.PaletteChange:
            self.apply_theme()
        super().changeEvent(event)

    # -- export ------------------------------------------------------------
    def export_csv(self, path: str) -> int:
        """Write the samples in the visible range; return the number of rows.

        Columns: ``time_utc`` (ISO 8601, milliseconds, "Z") then one column
        per plotted series headed "label [unit]"; a missing value is empty.
        """
        t0, t1 = self.visible_range()
        t, ys = self._source.view(t0, t1, copy=True) if self._source is not None else (np.empty(0), {})
        return write_series_csv(path, t, {f"{self.legend.label(n)} [{self._unit}]": ys[n] for n in self._names})

    def export_png(self, path: str) -> None:
        """Save the plot with its legend as a PNG image."""
        if not self.grab().save(path, "PNG"):
            raise OSError(f"could not write {path}")
