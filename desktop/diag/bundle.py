"""Export diagnostics: one zip file for support, with a manifest that hashes every member.

Runs on a worker thread (GUI) or the main thread (CLI); never on the I/O
thread. Reads the session log (read-only, while the recorder may keep
writing), takes a live capture of the device when one is given, and writes
``<dest>.part`` before renaming it to ``dest``, so a crash never leaves a
half bundle under the real name. Members (see docs/diagnostics.md):

  manifest.json       format, app version, device identity, time range, what is
                      included, personal-data status, SHA-256 and size of every member
  telemetry.parquet   the samples (telemetry.py)
  events.jsonl        link states, errors, writes, alarm changes, identity, firmware...
  alarms.json         alarm timeline and the device's own fault history
  firmware.json       firmware versions, latest and every reading
  identity.json       device identity and profile, link used
  settings.json       device settings (writable points), parameter writes, recorder limits
  registers.json      the full raw register image {function: {address: value}}
  profile.json        the device profile as a profile-file dict
  bus_trace.parquet   raw Modbus frames, if the bus trace was on
  site/*              every device of the site, one folder each (site_capture.py), when the site has devices
  upgrade_logs/*      firmware upgrade logs (JSON lines)
  app_log/*           PVDesk's own log
  customer.json       the customer record, masked unless support sharing was consented
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import re
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from protocols.errors import PVDeskError

from desktop.core import paths, safe_files
from desktop.version import __version__

from . import layout, secrets
from .redact import CustomerShare, scrub
from .sessionlog import SessionInfo, SessionLog
from .site_capture import add_site
from .telemetry import write_parquet


def _STAMP() -> tuple:  # the zip entries' date: the export time
    return time.localtime()[:6]


class ExportError(PVDeskError):
    """The bundle could not be made; the message says why and what to do."""


@dataclass
class ExportOptions:
    since_s: float | None = None
    until_s: float | None = None
    serial: str | None = None          # default: the device of the newest session
    include_trace: bool = True
    include_app_log: bool = True
    include_upgrade_logs: bool = True


@dataclass
class ExportResult:
    path: Path
    manifest: dict
    size_bytes: int
    seconds: float
    warnings: list[str] = field(default_factory=list)

    def sha256(self) -> str:
        """SHA-256 of the bundle file as written (recorded in the audit trail with its recipient)."""
        h = hashlib.sha256()
        with open(self.path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()


class _HashingWriter:
    """A write-only stream that hashes and counts what passes through (for pyarrow)."""

    def __init__(self, raw) -> None:
        self.raw, self.sha, self.size, self.closed = raw, hashlib.sha256(), 0, False

    def write(self, data) -> int:
        data = bytes(data)
        self.sha.update(data)
        self.size += len(data)
        self.raw.write(data)
        return len(data)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        pass

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True


class _Writer:
    def __init__(self, zf: zipfile.ZipFile) -> None:
        self.zf = zf
        self.members: dict[str, dict] = {}

    def add(self, name: str, data: bytes, role: str) -> None:
        kind = zipfile.ZIP_DEFLATED if len(data) > 256 else zipfile.ZIP_STORED
        self.zf.writestr(zipfile.ZipInfo(name, date_time=_STAMP()), data, compress_type=kind)
        self.members[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "role": role}

    def add_json(self, name: str, doc, role: str) -> None:
        self.add(name, json.dumps(doc, indent=1, default=str).encode("utf-8"), role)

    def stream(self, name: str, role: str):
        info = zipfile.ZipInfo(name, date_time=_STAMP())
        info.compress_type = zipfile.ZIP_STORED  # Parquet is compressed already
        raw = self.zf.open(info, "w", force_zip64=True)
        return _Stream(self, name, role, raw)


class _Stream(_HashingWriter):
    def __init__(self, owner: _Writer, name: str, role: str, raw) -> None:
        super().__init__(raw)
        self.owner, self.name, self.role = owner, name, role

    def finish(self) -> None:
        self.raw.close()
        self.owner.members[self.name] = {"sha256": self.sha.hexdigest(), "size": self.size, "role": self.role}


def select_sessions(log: SessionLog, options: ExportOptions) -> list[SessionInfo]:
    """The sessions of one device that overlap the time range."""
    sessions = log.sessions()
    if not sessions:
        raise ExportError("nothing has been recorded yet: connect to a device, then export")
    serial = options.serial or next((s.serial for s in reversed(sessions) if s.serial), None)
    chosen = [s for s in sessions if (serial is None or s.serial == serial)]
    t0 = -math.inf if options.since_s is None else options.since_s
    t1 = math.inf if options.until_s is None else options.until_s
    chosen = [s for s in chosen if s.started_s <= t1 and (s.ended_s or math.inf) >= t0]
    if not chosen:
        raise ExportError(f"no recording of device {serial or '?'} in the chosen time range; widen the range")
    return chosen


def _last(events: list[dict], kind: str):
    found = [e for e in events if e["kind"] == kind]
    return found[-1]["payload"] if found else None


def _text_files(folder: Path | None, pattern: str, since_s: float, limit: int, cap_bytes: int) -> list[Path]:
    if folder is None or not folder.is_dir():
        return []
    files = [p for p in folder.glob(pattern) if p.is_file() and not p.is_symlink() and p.stat().st_mtime >= since_s]
    files.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return [p for p in files[:limit] if p.stat().st_size <= cap_bytes]


def export_bundle(dest: str | Path, *, recording_dir: str | Path | None = None,
                  options: ExportOptions | None = None, live_state: dict | None = None,
                  customer: CustomerShare | None = None, upgrade_logs: str | Path | None = None,
                  app_logs: str | Path | None = None, recorder_settings: dict | None = None,
                  progress: Callable[[str], None] | None = None, site: list[dict] | None = None) -> ExportResult:
    """Write the bundle to ``dest``; ExportError says what was missing."""
    t_start = time.perf_counter()
    options = options or ExportOptions()
    dest = Path(dest)
    say = progress or (lambda _msg: None)
    folder = paths.recordings_dir(recording_dir)
    try:
        log = SessionLog(folder, readonly=True)
    except (FileNotFoundError, OSError):
        raise ExportError(f"no recording in {folder}: connect to a device first (recording starts by itself)") from None
    terms = customer.scrub_terms if customer else []  # also what the consent does not cover
    part = dest.with_name(dest.name + ".part")
    warnings: list[str] = []
    try:
        sessions = select_sessions(log, options)
        t0 = -math.inf if options.since_s is None else options.since_s
        t1 = math.inf if options.until_s is None else options.until_s
        ids = [s.id for s in sessions]
        hidden = {s.id: secrets.session_secrets(s.profile) for s in sessions}
        names = frozenset().union(*(n for n, _ in hidden.values()))
        # redacted again here: a recording made before a point was known as secret must not carry its value
        events = [secrets.redact_event(e, names) for e in log.events(ids, max(t0, sessions[0].started_s - 600), t1)]
        dest.parent.mkdir(parents=True, exist_ok=True)
        safe_files.check_target(dest)  # never a device, a folder or a symlink (desktop/core/safe_files.py)
        with _owner_only(part) as raw, zipfile.ZipFile(raw, "w", allowZip64=True) as zf:
            w = _Writer(zf)
            say("telemetry")
            stream = w.stream(layout.TELEMETRY, "telemetry")
            stats = write_parquet(log, sessions, pa.PythonFile(stream, mode="w"), t0, t1)
            stream.finish()
            say("events")
            timeline = events + [{"t": c["t"], "session": c["session"], "kind": "text", "payload": c}
                                 for c in stats.text_changes] + \
                [{"t": c["t"], "session": c["session"], "kind": "flags", "payload": c["flags"]}
                 for c in stats.flag_changes]
            timeline.sort(key=lambda e: e["t"])
            w.add(layout.EVENTS, scrub("".join(json.dumps(e, default=str) + "\n" for e in timeline).encode(), terms),
                  "events")
            live = live_state or {}
            alarms = [e for e in events if e["kind"] == "alarms"]
            history = live.get("fault_history", _last(events, "fault_history"))
            w.add_json(layout.ALARMS, {"timeline": [{"t": e["t"], **e["payload"]} for e in alarms],
                                       "active_at_end": alarms[-1]["payload"]["active"] if alarms else [],
                                       "device_fault_history": history or []}, "alarms")
            firmware = [{"t": e["t"], "components": e["payload"]} for e in events if e["kind"] == "firmware"]
            latest = live.get("firmware") or (firmware[-1]["components"] if firmware else [])
            w.add_json(layout.FIRMWARE, {"latest": latest,
                                         "readings": firmware}, "firmware")
            newest = sessions[-1]
            identity = live.get("identity") or _last(events, "identity") or {}
            w.add_json(layout.IDENTITY, {"identity": identity, "profile": newest.profile_name,
                                         "title": newest.profile.get("profile", {}).get("title", ""),
                                         "unit": newest.unit, "link": newest.link.get("label"),
                                         "link_kind": newest.link.get("spec", {}).get("kind")}, "identity")
            writes = [{"t": e["t"], **e["payload"]} for e in events if e["kind"] == "write"]
            w.add_json(layout.SETTINGS, {"device_settings": live.get("settings") or _last(events, "settings") or {},
                                         "writes": writes, "recorder": recorder_settings or {}}, "settings")
            image = live.get("register_image") or _last(events, "register_image")
            if image:
                w.add_json(layout.REGISTERS, image, "register image")
            else:
                warnings.append("no register image was captured (the device was never read completely)")
            w.add_json(layout.PROFILE, newest.profile, "profile")
            site_folders = add_site(w, site, terms) if site else []
            frames = 0
            if options.include_trace:
                frames = _write_trace(w, log, ids, t0, t1, {k: regs for k, (_, regs) in hidden.items()})
            logs = []
            if options.include_upgrade_logs:
                logs += _add_files(w, _upgrade_logs(paths.upgrade_log_dir(upgrade_logs), newest.serial,
                                                    stats.start_s, stats.end_s), "upgrade log", terms)
            if options.include_app_log:
                from desktop.core.logs import log_dir
                logs += _add_files(w, [(p, "app_log/" + p.name) for p in _text_files(
                    Path(app_logs) if app_logs else log_dir(), "pvdesk.log*", 0, 4, 20_000_000)], "app log", terms)
            if customer is not None and customer.record is not None:  # a restricted record: nothing
                w.add_json(layout.CUSTOMER, customer.record, "customer")
            manifest = _manifest(w.members, sessions, stats, identity, customer, frames, bool(image), logs, warnings)
            manifest["includes"]["site_devices"] = site_folders
            zf.writestr(zipfile.ZipInfo(layout.MANIFEST, date_time=_STAMP()),
                        json.dumps(manifest, indent=1).encode(), compress_type=zipfile.ZIP_DEFLATED)
        safe_files.replace_into(part, dest)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    finally:
        log.close()
    return ExportResult(dest, manifest, dest.stat().st_size, time.perf_counter() - t_start, warnings)


def _owner_only(part: Path):
    """A new file at ``part`` (a stale one or a planted symlink is removed first, not followed), mode 0600."""
    try:
        os.unlink(part)
    except FileNotFoundError:
        pass
    return os.fdopen(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600), "wb")


def _write_trace(w: _Writer, log: SessionLog, ids: list[int], t0: float, t1: float,
                 secret_regs: dict[int, frozenset[int]]) -> int:
    schema = pa.schema([("time", pa.timestamp("us", tz="UTC")), ("session", pa.int32()),
                        ("direction", pa.string()), ("frame", pa.binary())])
    total = 0
    stream = None
    for rows in log.frame_chunks(ids, t0, t1):
        if stream is None:
            stream = w.stream(layout.TRACE, "bus trace")
            writer = pq.ParquetWriter(pa.PythonFile(stream, mode="w"), schema, compression="zstd")
        times = pa.array([round(r[1] * 1e6) for r in rows], pa.int64()).cast(schema.field("time").type)
        table = pa.table({"time": times,
                          "session": pa.array([r[0] or 0 for r in rows], pa.int32()),
                          "direction": [r[2] for r in rows],
                          "frame": pa.array([secrets.redact_frame(r[3], secret_regs.get(r[0], frozenset()))
                                             for r in rows], pa.binary())},
                         schema=schema)
        writer.write_table(table)
        total += len(rows)
    if stream is not None:
        writer.close()
        stream.finish()
    return total


def _upgrade_logs(root: Path, serial: str | None, start_s: float | None,
                  end_s: float | None) -> list[tuple[Path, str]]:
    """This device's upgrade logs: its own folder (named by serial) from the last 30 days, and logs of
    batch runs (folders not named by a serial) written while the recording ran; never another device's."""
    if not root.is_dir() or start_s is None:
        return []
    chosen = []
    for p in _text_files(root, "**/*.jsonl", start_s - 30 * 86400, 200, 20_000_000):
        folder = p.parent.name if p.parent != root else ""
        member = "upgrade_logs/" + (f"{folder}_{p.name}" if folder else p.name)
        this_device = bool(serial) and folder == serial
        batch_run = re.match(r"^\d{8}-\d{6}", folder) or not folder  # a batch run: only while recording
        if this_device or (batch_run and start_s - 86400 <= p.stat().st_mtime <= (end_s or start_s) + 86400):
            chosen.append((p, member))
    return chosen[:50]


def _add_files(w: _Writer, files: list[tuple[Path, str]], role: str, terms: list[str]) -> list[str]:
    """Add (path, member name) pairs, scrubbed; returns the member names added."""
    names = []
    for p, member in files:
        name = re.sub(r"[^A-Za-z0-9._/-]", "_", member)
        try:
            w.add(name, scrub(p.read_bytes(), terms), role)
        except OSError:
            continue
        names.append(name)
    return names


def _iso(t: float | None) -> str | None:
    return None if t is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _manifest(members, sessions, stats, identity, customer, frames, image, logs, warnings) -> dict:
    return {
        "format": layout.FORMAT,
        "created_s": time.time(), "created": _iso(time.time()),
        "app": {"name": "PVDesk", "version": __version__, "platform": platform.platform(),
                "python": platform.python_version()},
        "device": {"identity": identity, "profile": sessions[-1].profile_name, "unit": sessions[-1].unit,
                   "serial": sessions[-1].serial},
        "time_range": {"start_s": stats.start_s, "end_s": stats.end_s, "start": _iso(stats.start_s),
                       "end": _iso(stats.end_s)},
        "sessions": [{"id": s.id, "started_s": s.started_s, "ended_s": s.ended_s, "link": s.link.get("label"),
                      "profile": s.profile_name} for s in sessions],
        "includes": {"telemetry_rows": stats.rows, "telemetry_format": "parquet", "register_image": image,
                     "bus_trace_frames": frames, "logs": logs,
                     "customer": "none" if customer is None or customer.record is None
                     else ("masked" if customer.masked else "unmasked")},
        "personal_data": {"masked": customer is None or customer.masked,
                          "consent": None if customer is None or customer.record is None else customer.consent,
                          "customer_id": None if customer is None or customer.record is None
                          else customer.customer_id},
        "bundle_id": None if customer is None else customer.bundle_id,
        "warnings": warnings,
        "members": members,
    }


def default_name(serial: str | None, now_s: float | None = None) -> str:
    """pvdesk-diagnostics-<serial>-<UTC time>.zip"""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now_s or time.time()))
    safe = re.sub(r"[^A-Za-z0-9-]", "", serial or "device")[:32] or "device"
    return f"pvdesk-diagnostics-{safe}-{stamp}.zip"


__all__ = ["ExportError", "ExportOptions", "ExportResult", "export_bundle", "default_name"]
