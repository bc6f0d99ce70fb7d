"""The value axis and gap rules of a time plot: how far to scale, and where a line must break.

Pure functions on numpy arrays, any thread (TimePlot calls them on the GUI
thread, for each redraw). A small change must not fill the plot like a cliff,
so each unit has a smallest span (``MIN_SPAN``); a gap in the samples longer
than a few sample intervals is drawn as a gap, not as a straight line.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

#: The smallest span of the value axis per unit: a 1 % change of state of charge must not fill the
#: plot like a cliff. Units not listed get no minimum beyond a tenth of the value.
MIN_SPAN = {"W": 200.0, "kW": 0.2, "%": 10.0, "V": 10.0, "A": 2.0, "Hz": 0.5, "°C": 5.0, "kWh": 1.0,
            "Wh": 1000.0, "var": 200.0, "VA": 200.0}


def widen_to_span(lo: float, hi: float, min_span: float | None) -> tuple[float, float]:
    """``lo..hi`` widened about its middle to at least ``min_span`` (0 stays the floor of a positive range)."""
    if not min_span or hi - lo >= min_span:
        return lo, hi
    mid = (lo + hi) / 2.0
    lo2, hi2 = mid - min_span / 2.0, mid + min_span / 2.0
    if lo >= 0 > lo2:            # e.g. state of charge near 0 %: do not show negative values
        lo2, hi2 = 0.0, min_span
    return lo2, hi2


def value_range(ys: Mapping[str, np.ndarray], shown: Iterable[str],
                min_span: float | None) -> tuple[float, float] | None:
    """The value axis's range for the ``shown`` series of ``ys``: their extremes widened to ``min_span``
    and padded by 5 %; None when none of them has a value."""
    lows, highs = [], []
    for name in shown:
        y = ys[name]
        if len(y) and not np.isnan(y).all():
            lows.append(float(np.nanmin(y)))
            highs.append(float(np.nanmax(y)))
    if not lows:
        return None
    lo, hi = widen_to_span(min(lows), max(highs), min_span)
    pad = (hi - lo) * 0.05 if hi > lo else max(abs(hi) * 0.05, 1.0)
    return lo - pad, hi + pad


def gap_threshold_s(recent_t_s: np.ndarray, max_gap_s: float | None, span_s: float, columns: int) -> float:
    """The shortest time between two samples that is drawn as a gap.

    ``max_gap_s`` when given, else five typical intervals of ``recent_t_s``
    (the newest timestamps); never less than 2.5 pixel columns of the view,
    so a decimated view does not break at every column.
    """
    if max_gap_s is not None:
        typical = max_gap_s
    else:
        typical = 5.0 * float(np.median(np.diff(recent_t_s))) if len(recent_t_s) > 2 else math.inf
    return max(typical, 2.5 * span_s / columns)
