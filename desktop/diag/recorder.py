"""The session recorder: a DeviceService listener that writes everything it sees to the session log.

Threads: ``on_event`` (the listener) and the bus-trace callback run ON THE
I/O THREAD and only put items on a queue -- never a disk write there. A
writer thread ("pvdesk-recorder") owns the SQLite connection: it takes what
is queued, writes it in one transaction and commits every
``commit_interval_s`` (1 s), so a killed process loses at most about a
second. It prunes the oldest data beyond the user's size and age limits.

Recorded: every sample (values per point), alarm changes (raised and
cleared), identity, firmware versions, link state and errors, parameter
writes (observed by wrapping the connected Device's ``write_point``: every
write through the Device API, whoever makes it), link statistics once a
minute, a register image, the fault history and the settings captured at
connect, and optionally the raw Modbus frames (trace.py).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from desktop.core import paths
from desktop.device.canonical import serial_of
from desktop.device.events import (
    AlarmsChanged,
    ErrorRaised,
    Event,
    FirmwareRead,
    IdentityRead,
    LinkOpened,
    SampleReady,
    StateChanged,
    StatsUpdated,
)
from desktop.version import __version__

from . import secrets
from .capture import capture_state, image_to_json
from .profile_doc import to_doc
from .sessionlog import SessionLog, encode_sample
from .trace import BusTrace

log = logging.getLogger(__name__)
SETTINGS_FILE = "recorder.json"


@dataclass
class RecorderSettings:
    """The user's limits: the oldest data goes first when either is exceeded."""

    max_bytes: int = 512 * 1024 * 1024
    max_age_s: float = 14 * 86400.0
    bus_trace: bool = False
    commit_interval_s: float = 1.0
    stats_interval_s: float = 60.0
    capture_on_connect: bool = True
    capture_interval_s: float = 3600.0   # register image again, so an offline export is recent

    def save(self, folder: Path) -> None:
        paths.ensure(folder)
        tmp = folder / (SETTINGS_FILE + ".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")
        tmp.replace(folder / SETTINGS_FILE)

    @classmethod
    def load(cls, folder: Path) -> "RecorderSettings":
        try:
            doc = json.loads((folder / SETTINGS_FILE).read_text(encoding="utf-8"))
            known = {k: v for k, v in doc.items() if k in cls.__dataclass_fields__}
            return cls(**known)
        except (OSError, ValueError, TypeError):
            return cls()


class Recorder:
    """Records one DeviceService's events into ``folder/session.db``."""

    def __init__(self, service=None, folder: str | Path | None = None,
                 settings: RecorderSettings | None = None) -> None:
        self.folder = paths.ensure(paths.recordings_dir(folder))
        self.settings = settings or RecorderSettings.load(self.folder)
        self.service = None
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._token = 0            # session token on the I/O thread
        self._columns: dict[str, int] = {}
        self._alarm_keys: frozenset = frozenset()
        self._last_values: dict = {}
        self._last_stats_s = 0.0
        self._captured_s: float | None = None
        self._capturing = False
        self._trace = BusTrace(self._on_frame)
        self._device = None
        self._secret_regs: frozenset[int] = frozenset()
        self.status: dict[str, Any] = {"recording": False, "session": None, "samples": 0, "frames": 0,
                                       "used_bytes": 0, "last_commit_s": None, "error": None}
        if service is not None:
            self.attach(service)

    @property
    def path(self) -> Path:
        return self.folder / "session.db"

    # ------------------------------------------------------------ lifecycle
    def attach(self, service) -> "Recorder":
        """Listen to ``service`` and start the writer thread."""
        self.service = service
        self.start()
        service.add_listener(self.on_event)
        if getattr(service, "loop", None) is not None:
            service.loop.call_soon_threadsafe(self._join_connected)
        return self

    def _join_connected(self) -> None:
        """I/O thread: attached while a device was already connected -- begin its session now."""
        service = self.service
        if self._device is not None or service is None or service.device is None or service.target is None:
            return
        device, target = service.device, service.target
        link = LinkOpened(target.label(), device.profile, target.unit, target.spec.to_dict(), target.demo, joined=True)
        self._begin(link, time.time())

        async def identity_and_firmware():
            return await device.identity(), await device.firmware()

        def done(result) -> None:
            self.on_event(IdentityRead(result[0]))
            self.on_event(FirmwareRead(result[1]))
        service.submit(identity_and_firmware, on_done=done)

    def start(self) -> "Recorder":
        """Create the session log now (an unwritable folder fails here, not later) and start writing."""
        if self._thread is None:
            SessionLog(self.folder).close()
            self._thread = threading.Thread(target=self._run, name="pvdesk-recorder", daemon=True)
            self._thread.start()
            self.status["recording"] = True
        return self

    def stop(self) -> None:
        """Stop listening, write what is queued, close the file."""
        if self.service is not None:
            self.service.remove_listener(self.on_event)
        if self._thread is not None:
            if self._device is not None:
                self._trace.detach()
                self._queue.put(("end", self._token, time.time()))
                self._device = None
            self._queue.put(("stop",))
            self._thread.join(timeout=10)
            self._thread = None
        self.status["recording"] = False

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until everything queued so far is committed (True) or the timeout passed."""
        if self._thread is None:
            return True
        done = threading.Event()
        self._queue.put(("flush", done))
        return done.wait(timeout_s)

    def set_limits(self, max_bytes: int | None = None, max_age_s: float | None = None) -> None:
        """Change the limits (saved; applied by the writer within a few seconds)."""
        if max_bytes is not None:
            if max_bytes < 1024 * 1024:
                raise ValueError("the recording size limit must be at least 1 MB")
            self.settings.max_bytes = int(max_bytes)
        if max_age_s is not None:
            if max_age_s < 60:
                raise ValueError("the recording age limit must be at least a minute")
            self.settings.max_age_s = float(max_age_s)
        self.settings.save(self.folder)
        self._queue.put(("prune",))

    def set_bus_trace(self, on: bool) -> None:
        """Record the raw Modbus frames from now on (or stop); saved as a setting."""
        self.settings.bus_trace = bool(on)
        self.settings.save(self.folder)
        self._event("recorder", {"bus_trace": bool(on)})
        service = self.service
        if service is None or getattr(service, "loop", None) is None:
            return
        fn = self._trace.attach if on else self._trace.detach

        def switch() -> None:  # I/O thread: the only place the live device is looked at
            if service.device is not None:
                fn(service.device.session.link)
        service.loop.call_soon_threadsafe(switch)

    # ------------------------------------------------- the listener (I/O thread)
    def on_event(self, event: Event) -> None:
        now = time.time()
        match event:
            case SampleReady(sample=sample):
                self._sample(sample)
            case AlarmsChanged(alarms=alarms):
                self._alarms(alarms, now)
            case LinkOpened():
                self._begin(event, now)
            case StatsUpdated(stats=stats):
                if now - self._last_stats_s >= self.settings.stats_interval_s:
                    self._last_stats_s = now
                    self._event("stats", stats, now)
            case StateChanged(state=state, detail=detail):
                self._event("state", {"state": state, "detail": detail}, now)
                if state == "disconnected" and self._device is not None:
                    self._trace.detach()
                    self._queue.put(("end", self._token, now))
                    self._device = None
            case IdentityRead(values=values):
                self._event("identity", values, now)
                profile = self._device.profile if self._device is not None else None
                serial = serial_of(profile, values or {})
                if serial:
                    self._queue.put(("serial", self._token, serial))
            case FirmwareRead(components=components):
                self._event("firmware", components, now)
            case ErrorRaised(text=text):
                self._event("error", text, now)

    def _event(self, kind: str, payload: Any, t: float | None = None) -> None:
        token = self._token if self._device is not None else None
        self._queue.put(("event", token, time.time() if t is None else t, kind,
                         json.dumps(payload, default=str)))

    def _begin(self, link: LinkOpened, now: float) -> None:
        device = self.service.device if self.service is not None else None
        if device is None:
            return
        self._token += 1
        self._device = device
        profile = device.profile
        self._secret_regs = secrets.secret_registers(profile)
        hidden = secrets.secret_names(profile)
        columns = [p.name for p in profile.points if p.type != "string" and p.name not in hidden]
        self._columns = {n: i for i, n in enumerate(columns)}
        self._alarm_keys = frozenset()
        self._last_values = {}
        self._captured_s = None
        self._queue.put(("begin", self._token, now, link.as_dict(), to_doc(profile), columns, device.unit))
        self._event("link", link, now)
        self._wrap_writes(device)
        if self.settings.bus_trace:
            self._trace.attach(device.session.link)

    def _sample(self, sample) -> None:
        if self._device is None:
            return
        values = secrets.redact_values(self._device.profile, sample.values)
        vals, present, extra = encode_sample(self._columns, values, sample.flags)
        self._last_values.update(values)
        self._queue.put(("sample", self._token, sample.timestamp_s, vals, present, extra))
        due = self._captured_s is None or (sample.timestamp_s - self._captured_s >= self.settings.capture_interval_s)
        if due and self.settings.capture_on_connect and not self._capturing:
            self._capture(self._device)  # first after identity and firmware were read, then hourly

    def _alarms(self, alarms: list, now: float) -> None:
        keys = frozenset((a.code, a.source) for a in alarms)
        if keys == self._alarm_keys:
            return
        raised = [a.as_dict() for a in alarms if (a.code, a.source) not in self._alarm_keys]
        cleared = [{"code": c, "source": s} for c, s in self._alarm_keys - keys]
        self._alarm_keys = keys
        self._event("alarms", {"active": [a.as_dict() for a in alarms], "raised": raised, "cleared": cleared}, now)

    def _wrap_writes(self, device) -> None:
        original = device.write_point
        recorder = self

        profile = device.profile

        async def write_point(name: str, value):
            old = recorder._last_values.get(name)
            secret = secrets.is_secret(profile, name)
            entry = {"name": name, "value": value, "old": old if isinstance(old, (int, float, str)) else None}
            try:
                back = await original(name, value)
            except Exception as exc:
                error = getattr(exc, "one_line", exc.__str__)()
                if secret:  # the message may quote what was typed
                    error = error.replace(str(value), secrets.REDACTED)
                recorder._event("write", {**secrets.redact_write(profile, entry), "ok": False, "error": error})
                raise
            if not secret:
                recorder._last_values[name] = back
            recorder._event("write", secrets.redact_write(profile, {**entry, "ok": True, "read_back": back}))
            recorder._captured_s = None  # the register image changed: capture it again
            return back

        device.write_point = write_point

    def _capture(self, device) -> None:
        self._capturing = True
        self._captured_s = time.time()

        def done(state: dict) -> None:
            self._capturing = False
            if "register_image" in state:
                state["register_image"] = image_to_json(state["register_image"])
            for kind, value in state.items():
                self._event(kind, value)

        def failed(exc: BaseException) -> None:
            self._capturing = False
            self._captured_s = time.time() - self.settings.capture_interval_s + 60.0  # try again in a minute
            self._event("error", f"register capture: {getattr(exc, 'one_line', exc.__str__)()}")

        self.service.submit(lambda: capture_state(device), on_done=done, on_error=failed)

    def _on_frame(self, direction: str, data: bytes, t: float) -> None:
        self._queue.put(("frame", self._token, t, direction, secrets.redact_frame(data, self._secret_regs)))

    # ------------------------------------------------------ the writer thread
    def _run(self) -> None:
        db = SessionLog(self.folder)
        ids: dict[int, int] = {}
        last_prune = 0.0
        try:
            db.prune(time.time(), self.settings.max_age_s, self.settings.max_bytes)
            while True:
                items = [self._queue.get()]
                deadline = time.monotonic() + self.settings.commit_interval_s
                while items[-1][0] not in ("stop", "flush") and time.monotonic() < deadline:
                    try:
                        items.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
                    except queue.Empty:
                        break
                stop = self._write(db, ids, items)
                now = time.time()
                if stop or now - last_prune > 30 or any(i[0] == "prune" for i in items):
                    db.prune(now, self.settings.max_age_s, self.settings.max_bytes)
                    self.status["used_bytes"] = db.used_bytes()
                    last_prune = now
                for item in items:
                    if item[0] == "flush":
                        item[1].set()
                if stop:
                    return
        except Exception as exc:  # disk full, folder removed: say so, stop recording
            log.exception("recorder stopped")
            self.status["error"] = f"recording stopped: {exc}"
            self.status["recording"] = False
        finally:
            db.close()

    def _write(self, db: SessionLog, ids: dict[int, int], items: list) -> bool:
        samples: dict[int, list] = {}
        events, frames, stop = [], [], False
        for item in items:
            kind = item[0]
            if kind == "sample":
                if item[1] in ids:
                    samples.setdefault(ids[item[1]], []).append(item[2:])
            elif kind == "event":
                events.append((ids.get(item[1]) if item[1] is not None else None, *item[2:]))
            elif kind == "frame":
                frames.append((ids.get(item[1]), *item[2:]))
            elif kind == "begin":
                token, t, link, profile, columns, unit = item[1:]
                ids[token] = db.begin_session(t, link, profile, columns, unit, __version__)
                self.status["session"] = ids[token]
            elif kind == "serial" and item[1] in ids:
                db.set_serial(ids[item[1]], item[2])
            elif kind == "end" and item[1] in ids:
                db.end_session(ids[item[1]], item[2])
            elif kind == "stop":
                stop = True
        for sid, rows in samples.items():
            db.add_samples(sid, rows)
            self.status["samples"] += len(rows)
        db.add_events(events)
        db.add_frames(frames)
        self.status["frames"] += len(frames)
        db.commit()
        self.status["last_commit_s"] = time.time()
        return stop
