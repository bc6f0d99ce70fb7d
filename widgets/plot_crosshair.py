"""PlotCrosshair: a time plot's vertical line at the sample under the mouse, and the legend's readout.

GUI thread. The line sits on the sample nearest the time asked for (never
between samples) and the legend reads that sample out; with the line
hidden, the readout shows the newest sample ("latest ..."). It reads plain
numpy data from a RingBuffer and knows nothing of Modbus. TimePlot
(time_plot.py) owns one and feeds it the mouse position and its source.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pyqtgraph as pg
from PySide6.QtCore import Qt

from widgets.plot_legend import PlotLegend
from widgets.ring_buffer import RingBuffer
from widgets.value_tile import format_with_unit


class PlotCrosshair:
    """The crosshair line on ``plot_item`` and the readout in ``legend``."""

    def __init__(self, plot_item: pg.PlotItem, legend: PlotLegend) -> None:
        self.legend = legend
        self.line = pg.InfiniteLine(angle=90, movable=False)
        self.line.setVisible(False)
        self.line.setZValue(10)
        plot_item.addItem(self.line, ignoreBounds=True)
        self.time_s: float | None = None    # the sample under the line; None while hidden
        self._source: RingBuffer | None = None
        self._names: list[str] = []
        self._unit = ""

    def set_source(self, source: RingBuffer, names: Sequence[str], unit: str) -> None:
        """Read out ``names`` of ``source``, each value in ``unit``."""
        self._source, self._names, self._unit = source, list(names), unit

    def show_at(self, t_s: float) -> bool:
        """Put the line on the sample nearest ``t_s`` and read it out; False when there is no sample."""
        sample = self._source.nearest(t_s) if self._source is not None else None
        if sample is None:
            return False
        self.time_s = sample[0]
        self.line.setPos(sample[0])
        self.line.setVisible(True)
        self._read_out(sample, at_cursor=True)
        return True

    def hide(self) -> None:
        """Hide the line; the readout goes back to the newest values."""
        self.time_s = None
        self.line.setVisible(False)
        self.show_latest()

    def show_latest(self) -> None:
        """Read out the newest sample (a no-op on an empty buffer)."""
        sample = self._source.last() if self._source is not None else None
        if sample is not None:
            self._read_out(sample, at_cursor=False)

    def set_colour(self, colour) -> None:
        """Draw the line dashed, 1 px, in ``colour`` (the plot's foreground)."""
        self.line.setPen(pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine))

    def _read_out(self, sample: tuple[float, dict[str, float]], at_cursor: bool) -> None:
        t_s, values = sample
        when = datetime.fromtimestamp(t_s).strftime("%Y-%m-%d %H:%M:%S")
        texts = {n: format_with_unit(values[n], self._unit) for n in self._names}
        self.legend.set_readout(when if at_cursor else f"latest {when}", texts)
