"""Fixed-size history of timestamped samples for the live plots.

Role: the GUI thread appends one sample per poll cycle (timestamp in seconds
since the epoch plus a value per series) and the plots read contiguous,
time-ordered numpy arrays back. Nothing here allocates after construction.

Runs on the GUI thread. It has no lock: samples arrive through the bridge's
Qt signals, so appends and reads never overlap.

Layout: every array is twice the capacity long and each sample is written to
slot ``i`` and to its mirror ``i + capacity``. The newest ``len(self)``
samples then always form one contiguous slice, so :meth:`view` hands out
numpy views (no copy of the day on every frame) in time order, even after
the buffer has wrapped.

Missing values (a series absent from the sample, ``None``, or a point the
device does not implement) are stored as NaN, which the plots draw as a gap.

The module also holds the array helpers a plot applies to a slice before
drawing it: :func:`peak_decimate` (a min/max envelope per pixel column),
:class:`PeakEnvelope` (the same, reusing the columns that can no longer
change) and :func:`break_gaps` (NaN where the link was silent).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

DAY_AT_1_HZ = 86_400


class RingBuffer:
    """Preallocated ring of ``capacity`` samples for the named ``series``.

    Timestamps are float64 seconds since the epoch (UTC), values float32.
    Timestamps must not go backwards: a sample older than the newest one is
    refused (``append`` returns False and ``rejected_count`` grows), which
    keeps the time axis sorted so range look-ups are binary searches.
    """

    def __init__(self, capacity: int = DAY_AT_1_HZ, series: Sequence[str] = ()) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        names = list(series)
        if len(set(names)) != len(names):
            raise ValueError(f"series names must be unique: {names}")
        self._capacity = int(capacity)
        self._names = names
        self._t_s = np.full(2 * self._capacity, np.nan, dtype=np.float64)
        self._values = {n: np.full(2 * self._capacity, np.nan, dtype=np.float32) for n in names}
        self._count = 0  # samples ever appended (not wrapped)
        self.generation = 0
        self.epoch = 0  # grows on clear(): what was derived from old samples is void
        self.rejected_count = 0

    # -- size and identity -------------------------------------------------
    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def series(self) -> list[str]:
        return list(self._names)

    def __len__(self) -> int:
        return min(self._count, self._capacity)

    def _start(self) -> int:
        """Physical index of the oldest kept sample."""
        return (self._count - len(self)) % self._capacity

    # -- writing -----------------------------------------------------------
    def append(self, timestamp_s: float, values: Mapping[str, float | None]) -> bool:
        """Store one sample in O(1); return False if it was refused.

        Series missing from ``values`` or given as None are stored as NaN.
        Keys that are not series of this buffer are ignored (a sample usually
        carries more points than one plot shows).
        """
        t = float(timestamp_s)
        if not math.isfinite(t):
            raise ValueError(f"timestamp must be finite, got {timestamp_s!r}")
        if self._count and t < self._t_s[(self._count - 1) % self._capacity]:
            self.rejected_count += 1
            return False
        slot = self._count % self._capacity
        mirror = slot + self._capacity
        self._t_s[slot] = self._t_s[mirror] = t
        for name, column in self._values.items():
            v = values.get(name)
            column[slot] = column[mirror] = np.nan if v is None else v
        self._count += 1
        self.generation += 1
        return True

    def extend(self, timestamps_s: np.ndarray, columns: Mapping[str, np.ndarray]) -> int:
        """Store many samples at once (a recording being loaded); return how many.

        ``columns`` maps series to arrays as long as ``timestamps_s``; a
        series left out is NaN, keys that are not series are ignored. The
        timestamps must be finite, non-decreasing and not older than the
        newest kept sample, else ValueError and nothing is stored. Only the
        newest ``capacity`` samples are kept. Vectorised: a day loads in
        milliseconds.
        """
        t = np.asarray(timestamps_s, dtype=np.float64)
        n = len(t)
        if not n:
            return 0
        if not np.isfinite(t).all() or (n > 1 and (np.diff(t) < 0).any()):
            raise ValueError("timestamps must be finite and non-decreasing")
        if self._count and t[0] < self._t_s[(self._count - 1) % self._capacity]:
            raise ValueError("timestamps older than the newest kept sample")
        for name, column in columns.items():
            if name in self._values and len(column) != n:
                raise ValueError(f"column {name!r} has {len(column)} values for {n} timestamps")
        keep = min(n, self._capacity)
        slots = (self._count + np.arange(n - keep, n)) % self._capacity
        self._t_s[slots] = self._t_s[slots + self._capacity] = t[n - keep :]
        for name, array in self._values.items():
            given = columns.get(name)
            part = np.nan if given is None else np.asarray(given, dtype=np.float32)[n - keep :]
            array[slots] = array[slots + self._capacity] = part
        self._count += n
        self.generation += 1
        return n

    def clear(self) -> None:
        """Forget every sample (the arrays stay allocated)."""
        self._count = 0
        self._t_s.fill(np.nan)
        for column in self._values.values():
            column.fill(np.nan)
        self.generation += 1
        self.epoch += 1

    # -- reading -----------------------------------------------------------
    def index_range(self, t0: float | None = None, t1: float | None = None) -> tuple[int, int]:
        """Physical slice [i0, i1) of the samples with t0 <= t <= t1."""
        start = self._start()
        stop = start + len(self)
        t = self._t_s[start:stop]
        i0 = 0 if t0 is None else int(np.searchsorted(t, t0, side="left"))
        i1 = len(t) if t1 is None else int(np.searchsorted(t, t1, side="right"))
        return start + i0, start + max(i0, i1)

    def view(
        self,
        t0: float | None = None,
        t1: float | None = None,
        copy: bool = False,
        margin: int = 0,
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Samples with ``t0 <= t <= t1`` (either bound optional), oldest first.

        ``margin`` adds up to that many kept samples on each side of the
        range (a plot uses one so its lines run to the edges of the view).
        Without ``copy`` the arrays are read-only views into the buffer: they
        cost nothing, and stay valid until the next ``append`` (which may
        overwrite the oldest slot). Pass ``copy=True`` to keep them longer.
        """
        i0, i1 = self.index_range(t0, t1)
        if margin:
            start = self._start()
            i0 = max(start, i0 - margin)
            i1 = min(start + len(self), i1 + margin)
        return self._slice(i0, i1, copy)

    def _slice(self, i0: int, i1: int, copy: bool) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        def out(a: np.ndarray) -> np.ndarray:
            part = a[i0:i1]
            if copy:
                return part.copy()
            part = part.view()
            part.flags.writeable = False
            return part

        return out(self._t_s), {n: out(a) for n, a in self._values.items()}

    def last(self) -> tuple[float, dict[str, float]] | None:
        """The newest sample as (timestamp_s, {series: value}), None if empty."""
        if not self._count:
            return None
        slot = (self._count - 1) % self._capacity
        return float(self._t_s[slot]), {n: float(a[slot]) for n, a in self._values.items()}

    def nearest(self, timestamp_s: float) -> tuple[float, dict[str, float]] | None:
        """The kept sample closest in time to ``timestamp_s``, None if empty."""
        n = len(self)
        if not n:
            return None
        start = self._start()
        t = self._t_s[start : start + n]
        i = int(np.searchsorted(t, timestamp_s))
        if i >= n or (i > 0 and timestamp_s - t[i - 1] <= t[i] - timestamp_s):
            i -= 1
        slot = start + i
        return float(t[i]), {name: float(a[slot]) for name, a in self._values.items()}

    def time_span(self) -> tuple[float, float] | None:
        """(oldest, newest) timestamp kept, None if empty."""
        n = len(self)
        if not n:
            return None
        start = self._start()
        return float(self._t_s[start]), float(self._t_s[start + n - 1])


# -- array helpers for the plots -----------------------------------------
Columns = tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]


def column_width_s(t0: float, t1: float, columns: int) -> float:
    """Seconds per pixel column, rounded so every frame of a window agrees."""
    return float(f"{(t1 - t0) / columns:.6g}")


def column_extremes(
    t: np.ndarray, ys: Mapping[str, np.ndarray], k_lo: int, k_hi: int, width_s: float
) -> Columns:
    """(first time, min, max) of columns k_lo..k_hi-1, column k = [k*w, (k+1)*w).

    Samples before the first column count in it, samples after the last in
    that one. Dense arrays: an empty column has NaN everywhere; NaN values are
    ignored unless a column holds nothing else.
    """
    count = k_hi - k_lo
    first = np.full(count, np.nan)
    mins = {n: np.full(count, np.nan, dtype=np.float32) for n in ys}
    maxs = {n: np.full(count, np.nan, dtype=np.float32) for n in ys}
    if count <= 0 or not len(t):
        return first, mins, maxs
    cuts = np.searchsorted(t, np.arange(k_lo + 1, k_hi, dtype=np.float64) * width_s)
    starts = np.concatenate(([0], cuts))
    used = np.concatenate((cuts, [len(t)])) > starts
    starts = starts[used]
    first[used] = t[starts]
    for name, y in ys.items():
        mins[name][used] = np.fmin.reduceat(y, starts)
        maxs[name][used] = np.fmax.reduceat(y, starts)
    return first, mins, maxs


def _pairs(first: np.ndarray, mins: Mapping, maxs: Mapping) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    used = ~np.isnan(first)
    t_out = np.repeat(first[used], 2)
    out = {}
    for name in mins:
        pair = np.empty(len(t_out), dtype=np.float32)
        pair[0::2], pair[1::2] = mins[name][used], maxs[name][used]
        out[name] = pair
    return t_out, out


def _column_range(t0: float, t1: float, width_s: float) -> tuple[int, int]:
    """Columns covering t0..t1 plus one each side (for the margin samples)."""
    return math.floor(t0 / width_s) - 1, math.floor(t1 / width_s) + 2


def peak_decimate(
    t: np.ndarray, ys: Mapping[str, np.ndarray], t0: float, t1: float, columns: int
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Reduce samples to a (min, max) pair per time column between t0 and t1.

    Columns are equal slices of time; empty ones are dropped. Every column
    keeps its extremes, so spikes survive at any zoom. NaN is ignored unless
    a column holds nothing else (then the pair is NaN: a gap stays a gap).

    Column edges sit on whole multiples of the column width, not at t0: when
    the view scrolls by a second, the columns stay put and the envelope does
    not shimmer from frame to frame.
    """
    if len(t) <= 2 * columns or columns < 1 or not t1 > t0:
        return t, dict(ys)
    width = column_width_s(t0, t1, columns)
    return _pairs(*column_extremes(t, ys, *_column_range(t0, t1, width), width))


class PeakEnvelope:
    """``peak_decimate`` of a RingBuffer's visible slice, reusing final columns.

    A column is final once the newest sample is at or past its end (samples
    arrive in time order) and while it starts after the oldest kept sample
    (the ring has dropped none of it). Final columns wholly inside the view
    are kept between frames,
    so following a day only reduces the newest column or two again instead
    of the whole day. The result equals ``peak_decimate`` on
    ``buffer.view(t0, t1, margin=1)``. GUI thread, one per plot.
    """

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._c_lo = self._c_hi = 0
        self._cached: Columns | None = None

    def envelope(
        self, buffer: "RingBuffer", names: Sequence[str], t0: float, t1: float, columns: int
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        t, ys_all = buffer.view(t0, t1, margin=1)
        ys = {n: ys_all[n] for n in names}
        span = buffer.time_span()
        if len(t) <= 2 * columns or columns < 1 or not t1 > t0 or span is None:
            return peak_decimate(t, ys, t0, t1, columns)
        width = column_width_s(t0, t1, columns)
        k_lo, k_hi = _column_range(t0, t1, width)
        key = (buffer, buffer.epoch, width, tuple(names))
        if key != self._key:
            self._key, self._c_lo, self._c_hi, self._cached = key, 0, 0, None
        # Reusable: wholly inside t0..t1 (the columns holding t0 and t1 show
        # only part of their samples), none evicted yet, and complete.
        f_lo = max(k_lo + 2, math.floor(span[0] / width) + 1)
        f_hi = min(k_hi - 2, math.floor(span[1] / width))
        r_lo, r_hi = max(f_lo, self._c_lo), min(f_hi, self._c_hi)
        if r_hi <= r_lo:
            r_lo = r_hi = k_lo + 1  # nothing to reuse
        a, b = np.searchsorted(t, [r_lo * width, r_hi * width])
        left = column_extremes(t[:a], {n: y[:a] for n, y in ys.items()}, k_lo, r_lo, width)
        right = column_extremes(t[b:], {n: y[b:] for n, y in ys.items()}, r_hi, k_hi, width)
        parts = [left]
        if r_hi > r_lo:
            i, j = r_lo - self._c_lo, r_hi - self._c_lo
            assert self._cached is not None  # r_hi > r_lo only within the cached range
            first, mins, maxs = self._cached
            parts.append((first[i:j], {n: m[i:j] for n, m in mins.items()}, {n: m[i:j] for n, m in maxs.items()}))
        parts.append(right)
        first = np.concatenate([p[0] for p in parts])
        mins = {n: np.concatenate([p[1][n] for p in parts]) for n in names}
        maxs = {n: np.concatenate([p[2][n] for p in parts]) for n in names}
        if f_hi > f_lo:
            i, j = f_lo - k_lo, f_hi - k_lo
            self._c_lo, self._c_hi = f_lo, f_hi
            self._cached = (first[i:j], {n: m[i:j] for n, m in mins.items()}, {n: m[i:j] for n, m in maxs.items()})
        else:
            self._c_lo = self._c_hi = 0
        return _pairs(first, mins, maxs)


def break_gaps(
    t: np.ndarray, ys: Mapping[str, np.ndarray], max_gap_s: float
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Insert a NaN point wherever samples are more than max_gap_s apart.

    A link that dropped for ten minutes then shows as a gap, not as a
    straight line pretending to be data.
    """
    if len(t) < 2:
        return t, dict(ys)
    gaps = np.flatnonzero(np.diff(t) > max_gap_s) + 1
    if not len(gaps):
        return t, dict(ys)
    t_out = np.insert(t, gaps, (t[gaps - 1] + t[gaps]) / 2)
    return t_out, {name: np.insert(y, gaps, np.nan) for name, y in ys.items()}
