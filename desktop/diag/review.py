"""The data behind review mode: a bundle's recording as samples, alarms and a read-only device.

Any thread (no Qt); the review window builds it on a worker and then uses it
on the GUI thread. ``ReviewData`` answers "what did the device show at time
T" (``sample_at``, ``alarms_at``) and gives whole columns for the plots
(``series``). ``ReviewDevice`` has the methods of ``protocols.device.Device``
that the live pages call -- raw registers from the captured image, identity,
firmware and fault history from the bundle -- and refuses every write, so
the dashboard, device, faults and registers pages work unchanged and
read-only.
"""

from __future__ import annotations

import bisect

import numpy as np
import pyarrow as pa

from protocols import codecs
from protocols.errors import PointNotSupported, PVDeskError
from protocols.faults import Alarm
from protocols.sample import Sample

from . import layout


class ReadOnly(PVDeskError):
    hint = "review mode shows a recording; connect to the device to change it"


class NotCaptured(PointNotSupported):
    """A register the bundle's image does not hold (as exception 02 would say on the device)."""

    hint = "the bundle holds the ranges the profile reads; pick an address inside them"

    def __init__(self, function: str, address: int, unit: int, spans: list) -> None:
        super().__init__(2, 3 if function == "holding" else 4, address, unit)
        ranges = ", ".join(f"{lo}–{hi - 1}" for lo, hi in spans) or "none"
        self.args = (f"{function} register {address} is not in the captured image (captured {function} "
                     f"registers: {ranges})",)


class ReviewDevice:
    """A stand-in for Device that answers from a bundle (async methods, no I/O)."""

    def __init__(self, data: "ReviewData") -> None:
        self.data = data
        self.profile = data.profile
        self.unit = int(data.image.get("unit", 1)) if data.image else 1
        self.session = None

    async def read_raw(self, function: str, address: int, count: int) -> list[int]:
        image = (self.data.image or {}).get(function, {})
        missing = [a for a in range(address, address + count) if a not in image]
        if missing:
            raise NotCaptured(function, missing[0], self.unit, self.captured_spans(function))
        return [image[a] for a in range(address, address + count)]

    def captured_spans(self, function: str) -> list[tuple[int, int]]:
        """[start, end) ranges of ``function`` registers the image holds."""
        spans: list[list[int]] = []
        for a in sorted((self.data.image or {}).get(function, {})):
            if spans and a == spans[-1][1]:
                spans[-1][1] = a + 1
            else:
                spans.append([a, a + 1])
        return [(lo, hi) for lo, hi in spans]

    async def identity(self) -> dict:
        return dict(self.data.identity)

    async def firmware(self) -> list[dict]:
        return list(self.data.firmware)

    async def fault_history(self) -> list[Alarm]:
        return [Alarm(**{k: a[k] for k in ("code", "text", "severity", "time_s", "source", "active") if k in a})
                for a in self.data.alarms_doc.get("device_fault_history", [])]

    async def alarms(self, values: dict | None = None) -> list[Alarm]:
        return self.data.alarms_at(self.data.cursor_s)

    async def read(self, points=None) -> Sample:
        sample = self.data.sample_at(self.data.cursor_s)
        if points is not None:
            names = {p.name for p in points}
            sample.values = {k: v for k, v in sample.values.items() if k in names}
        return sample

    async def read_names(self, names) -> dict:
        return {k: v for k, v in self.data.sample_at(self.data.cursor_s).values.items() if k in set(names)}

    async def write_point(self, name: str, value) -> object:
        raise ReadOnly(f"cannot write {name}: this is a recording, opened read-only")

    async def write_registers(self, *_args, **_kw) -> None:
        raise ReadOnly("cannot write registers: this is a recording, opened read-only")


class ReviewData:
    """One opened bundle, ready for the review window."""

    def __init__(self, bundle) -> None:
        self.bundle = bundle
        self.manifest = bundle.manifest
        self.profile = bundle.profile()
        self.table: pa.Table = bundle.telemetry()
        self.t_s = self.table.column("time").cast(pa.int64()).to_numpy() / 1e6
        self.events = bundle.events()
        self.image = bundle.register_image()
        ident = bundle.json(layout.IDENTITY, {})
        self.identity: dict = dict(ident.get("identity") or {})
        self.link_info = {"label": f"Recording: {bundle.path.name}", "profile": ident.get("profile", ""),
                          "title": self.profile.title if self.profile else ident.get("title", ""),
                          "unit": ident.get("unit", 1), "spec": {"kind": ident.get("link_kind")},
                          "demo": False, "review": True, "recorded_link": ident.get("link")}
        self.firmware: list[dict] = list(bundle.json(layout.FIRMWARE, {}).get("latest") or [])
        self.alarms_doc: dict = bundle.json(layout.ALARMS, {}) or {}
        self._timeline = list(self.alarms_doc.get("timeline", []))
        self._timeline_t = [a["t"] for a in self._timeline]
        self._texts = sorted((e["t"], e["payload"]["point"], e["payload"]["value"])
                             for e in self.events if e["kind"] == "text")
        self._points = {p.name: p for p in self.profile.points} if self.profile else {}
        self._valid: dict[str, np.ndarray] = {}
        self.cursor_s = self.end_s

    # ------------------------------------------------------------- extent
    @property
    def start_s(self) -> float:
        return float(self.t_s[0]) if len(self.t_s) else float(self.manifest["time_range"].get("start_s") or 0)

    @property
    def end_s(self) -> float:
        return float(self.t_s[-1]) if len(self.t_s) else float(self.manifest["time_range"].get("end_s") or 0)

    def index_at(self, t_s: float) -> int:
        """The last row at or before ``t_s`` (0 before the first)."""
        return max(0, int(np.searchsorted(self.t_s, t_s, side="right")) - 1)

    # ------------------------------------------------------------- columns
    def column(self, name: str, dtype=np.float32) -> np.ndarray:
        """A whole point column; null (not read) and n/a are NaN."""
        if name not in self.table.column_names:
            return np.full(len(self.t_s), np.nan, dtype=dtype)
        return self.table.column(name).to_numpy(zero_copy_only=False).astype(dtype, copy=False)

    def clock_drift_s(self, point: str = "device_time_unix_s") -> float | None:
        """The device's clock minus the laptop's over the recording (median), or None if never read.

        Read in float64: a Unix time in float32 is only good to about two minutes.
        """
        values = self.column(point, dtype=np.float64)
        ok = np.isfinite(values) & (values > 0)
        if not ok.any():
            return None
        return float(np.median(values[ok] - self.t_s[ok]))

    def plausible(self, name: str, values: np.ndarray) -> np.ndarray:
        """``values`` with readings outside the point's plausibility range set to NaN."""
        point = self._points.get(name)
        if point is None or not point.range:
            return values
        with np.errstate(invalid="ignore"):
            bad = (values < point.range[0]) | (values > point.range[1])
        if bad.any():
            values = values.copy()
            values[bad] = np.nan
        return values

    # ------------------------------------------------------------- at a time
    def _last_valid(self, name: str, i: int) -> int | None:
        valid = self._valid.get(name)
        if valid is None:
            column = self.table.column(name)
            valid = self._valid[name] = np.flatnonzero(column.is_valid().to_numpy(zero_copy_only=False))
        k = int(np.searchsorted(valid, i, side="right")) - 1
        return int(valid[k]) if k >= 0 else None

    def sample_at(self, t_s: float) -> Sample:
        """What the device showed at ``t_s``: the last row, slow points carried forward, texts, flags."""
        if not len(self.t_s):
            return Sample(t_s, {}, {})
        i = self.index_at(t_s)
        row = self.table.slice(i, 1).to_pylist()[0]
        values: dict = {}
        flags: dict = {}
        for name in self.table.column_names[2:]:
            v = row[name]
            if v is None:
                j = self._last_valid(name, i)
                if j is None:
                    continue
                v = self.table.column(name)[j].as_py()
            if v != v:  # NaN: the device does not implement the point
                values[name] = codecs.NOT_IMPLEMENTED
                continue
            point = self._points.get(name)
            if point is not None and point.type not in ("float32",) and float(v).is_integer() and point.scale == 1:
                v = int(v)
            values[name] = v
            if point is not None and point.range and not point.range[0] <= v <= point.range[1]:
                flags[name] = "out_of_range"
        k = bisect.bisect_right(self._texts, (float(self.t_s[i]), "\uffff", ""))
        for _t, name, text in self._texts[:k]:
            values[name] = text
        return Sample(float(self.t_s[i]), values, flags, unit=int(self.link_info.get("unit") or 1))

    def alarms_at(self, t_s: float) -> list[Alarm]:
        """The alarms active at ``t_s``, each with the time it was raised."""
        k = bisect.bisect_right(self._timeline_t, t_s)
        if k == 0:
            return []
        raised: dict[tuple, float] = {}
        for entry in self._timeline[:k]:
            for a in entry.get("raised", []):
                raised[(a["code"], a.get("source"))] = entry["t"]
        out = []
        for a in self._timeline[k - 1].get("active", []):
            since = raised.get((a["code"], a.get("source")), a.get("time_s", t_s))
            out.append(Alarm(a["code"], a["text"], a.get("severity", "warning"), since, a.get("source", ""), True))
        return out
