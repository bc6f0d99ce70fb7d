"""What stands out in a recording: alarms, link losses, implausible values, parameter changes.

Any thread, pure computation (numpy over the telemetry columns, so a week at
1 Hz with 60 points takes well under a second). Used by the review window's
summary tab and ``pvdesk diag summary``. Each Finding has a time, so the
review window can jump to it.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import numpy as np
import pyarrow as pa

from desktop.core.safe_text import terminal_text

SEVERITY_ORDER = {"critical": 0, "error": 1, "warning": 2, "info": 3}


@dataclass
class Finding:
    t_s: float
    kind: str          # alarm | link | gap | range | parameter | firmware | error
    severity: str      # critical | error | warning | info
    title: str
    detail: str = ""
    point: str | None = None
    end_s: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def _fmt_t(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


def _fmt_d(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def _times(table: pa.Table) -> np.ndarray:
    col = table.column("time")
    return col.cast(pa.int64()).to_numpy() / 1e6 if table.num_rows else np.empty(0)


def _values(table: pa.Table, name: str) -> np.ndarray:
    return table.column(name).to_numpy(zero_copy_only=False).astype(np.float64, copy=False)


def alarm_findings(events: list[dict]) -> list[Finding]:
    out: list[Finding] = []
    open_: dict[tuple, Finding] = {}
    for e in events:
        if e["kind"] != "alarms":
            continue
        for a in e["payload"].get("raised", []):
            f = Finding(e["t"], "alarm", a.get("severity", "warning"), f"Alarm {a['code']}: {a['text']}",
                        f"from {a.get('source', '?')}")
            open_[(a["code"], a.get("source"))] = f
            out.append(f)
        for c in e["payload"].get("cleared", []):
            f = open_.pop((c["code"], c.get("source")), None)
            if f is not None:
                f.end_s = e["t"]
                f.detail += f"; cleared after {_fmt_d(e['t'] - f.t_s)}"
    for f in open_.values():
        f.detail += "; still active at the end"
    return out


def link_findings(events: list[dict], t: np.ndarray, sessions: np.ndarray) -> list[Finding]:
    out: list[Finding] = []
    lost: Finding | None = None
    for e in events:
        if e["kind"] != "state":
            continue
        state, detail = e["payload"].get("state"), e["payload"].get("detail", "")
        if state == "reconnecting" and lost is None:
            lost = Finding(e["t"], "link", "warning", "Link lost", detail)
            out.append(lost)
        elif state == "connected" and lost is not None:
            lost.end_s = e["t"]
            lost.title = f"Link lost for {_fmt_d(e['t'] - lost.t_s)}"
            lost = None
    if len(t) > 2:
        dt = np.diff(t)
        same = sessions[1:] == sessions[:-1]
        typical = float(np.median(dt[same])) if same.any() else 1.0
        limit = max(5 * typical, 5.0)
        losses = [(f.t_s - limit, (f.end_s or math.inf) + limit) for f in out]
        for i in np.flatnonzero((dt > limit) & same)[:200]:
            if any(lo <= t[i] and t[i + 1] <= hi for lo, hi in losses):
                continue  # the link loss above explains it
            out.append(Finding(float(t[i]), "gap", "warning", f"No data for {_fmt_d(dt[i])}",
                               f"samples normally every {typical:.1f} s", end_s=float(t[i + 1])))
    return out


def range_findings(table: pa.Table, t: np.ndarray, points: dict[str, dict]) -> list[Finding]:
    out = []
    for name, p in points.items():
        rng = p.get("range")
        if not rng or name not in table.column_names:
            continue
        v = _values(table, name)
        with np.errstate(invalid="ignore"):
            bad = (v < rng[0]) | (v > rng[1])
        idx = np.flatnonzero(bad)
        if not len(idx):
            continue
        unit = p.get("unit", "")
        worst = float(np.nanmax(np.abs(v[idx])) * np.sign(v[idx][np.nanargmax(np.abs(v[idx]))]))
        out.append(Finding(float(t[idx[0]]), "range", "warning",
                           f"{p.get('label') or name} outside {rng[0]:g}..{rng[1]:g} {unit}".rstrip(),
                           f"{len(idx)} samples until {_fmt_t(float(t[idx[-1]]))}, extreme {worst:g} {unit}".rstrip(),
                           point=name, end_s=float(t[idx[-1]])))
    return out


def parameter_findings(table: pa.Table, t: np.ndarray, points: dict[str, dict], events: list[dict]) -> list[Finding]:
    out = []
    writes = [e for e in events if e["kind"] == "write"]
    for e in writes:
        w = e["payload"]
        if w.get("ok"):
            out.append(Finding(e["t"], "parameter", "info", f"{w['name']} set to {w.get('read_back', w['value'])}",
                               f"written by PVDesk (was {w.get('old')})", point=w["name"]))
        else:
            out.append(Finding(e["t"], "parameter", "warning", f"Writing {w['name']} = {w['value']} failed",
                               str(w.get("error", "")), point=w["name"]))
    for name, p in points.items():
        if not p.get("writable") or name not in table.column_names:
            continue
        v = _values(table, name)
        keep = ~np.isnan(v)
        tv, vv = t[keep], v[keep]
        changes = np.flatnonzero(np.diff(vv) != 0)
        if len(changes) > 20:  # a value that moves by itself (a clock, a counter), not a setting
            continue
        for i in changes:
            when = float(tv[i + 1])
            if any(x["payload"]["name"] == name and abs(x["t"] - when) < 30 for x in writes):
                continue
            title = f"{p.get('label') or name} changed {vv[i]:g} → {vv[i + 1]:g}"
            out.append(Finding(when, "parameter", "warning", title,
                               "not written by PVDesk: changed on the device or by another tool", point=name))
    return out


def other_findings(events: list[dict]) -> list[Finding]:
    out = []
    errors: dict[str, list[float]] = {}
    last_fw = None
    for e in events:
        if e["kind"] == "error":
            errors.setdefault(str(e["payload"])[:160], []).append(e["t"])
        elif e["kind"] == "firmware":
            versions = {c.get("component"): c.get("version") for c in e["payload"] or []}
            if last_fw is not None and versions != last_fw:
                changed = [f"{k} {last_fw.get(k)} → {v}" for k, v in versions.items() if last_fw.get(k) != v]
                out.append(Finding(e["t"], "firmware", "info", "Firmware changed", ", ".join(changed)))
            last_fw = versions
    for text, times in errors.items():
        out.append(Finding(times[0], "error", "warning", f"{text}",
                           f"{len(times)} time(s), last at {_fmt_t(times[-1])}", end_s=times[-1]))
    return out


def summarize(table: pa.Table, events: list[dict], profile_doc: dict | None) -> list[Finding]:
    """Every finding, in time order (severity breaks ties)."""
    points = {p["name"]: p for p in (profile_doc or {}).get("points", [])}
    t = _times(table)
    sessions = table.column("session").to_numpy() if table.num_rows else np.empty(0)
    found = (alarm_findings(events) + link_findings(events, t, sessions) + range_findings(table, t, points)
             + parameter_findings(table, t, points, events) + other_findings(events))
    found.sort(key=lambda f: (f.t_s, SEVERITY_ORDER.get(f.severity, 9)))
    return found


def summarize_bundle(bundle) -> list[Finding]:
    return summarize(bundle.telemetry(), bundle.events(), bundle.json("profile.json"))


def format_findings(findings: list[Finding]) -> str:
    """Plain text, one finding a line, for the CLI; bundle text has its control characters escaped."""
    if not findings:
        return "Nothing stands out: no alarms, link losses, implausible values or parameter changes."
    lines = []
    for f in findings:
        span = f" .. {_fmt_t(f.end_s)[11:]}" if f.end_s and not math.isclose(f.end_s, f.t_s) else ""
        lines.append(f"{_fmt_t(f.t_s)}{span}  {terminal_text(f.severity):<8} {terminal_text(f.kind):<9} "
                     f"{terminal_text(f.title)}" + (f" ({terminal_text(f.detail)})" if f.detail else ""))
    return "\n".join(lines)
