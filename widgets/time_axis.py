"""TimeAxis: the time plots' bottom axis, local clock time with ticks that never crowd.

GUI thread (a pyqtgraph axis item). It shows plain timestamps; it knows nothing of Modbus.
"""

from __future__ import annotations

import pyqtgraph as pg


class TimeAxis(pg.DateAxisItem):
    """pyqtgraph's date axis (local time), reusing its tick choice while the
    view moves by less than a pixel: following a day at 1 Hz shifts the view
    by a hundredth of a pixel a frame, and choosing the ticks anew (zoom level,
    font metrics, time zone offsets) cost about half a millisecond a frame."""

    def __init__(self) -> None:
        super().__init__(orientation="bottom")
        self._ticks_key: tuple | None = None
        self._ticks: list = []
        self._strings_key: tuple | None = None
        self._strings: list[str] = []

    def tickValues(self, minVal, maxVal, size):  # pyqtgraph API
        per_px = (maxVal - minVal) / size if size > 0 else 0.0
        key = (round(minVal / per_px), round(maxVal / per_px), round(size)) if per_px > 0 else None
        if key is None or key != self._ticks_key:
            self._ticks = super().tickValues(minVal, maxVal, size)
            self._ticks_key = key
        return self._ticks

    def tickStrings(self, values, scale, spacing):  # pyqtgraph API
        key = (tuple(values), scale, spacing, id(self.zoomLevel))
        if key != self._strings_key:
            self._strings = super().tickStrings(values, scale, spacing)
            self._strings_key = key
        return self._strings
