"""The session log on disk: an append-only SQLite file in WAL mode, pruned by size and age.

Role: keeps what the recorder saw, so that a crash loses at most the last
commit interval and an export can be made later, offline. One writer (the
recorder's thread) and any number of readers (export, CLI) may use the file
at once; WAL lets them read while it writes.

Layout (one file, ``session.db``):
  sessions  one row per connection: link, profile (as a profile-file dict),
            the sample columns (point names, in order), device serial.
  samples   one row per poll cycle: t, ``vals`` (float64 per column, NaN =
            not implemented), ``present`` (a bit per column: read this cycle),
            ``extra`` (JSON: text values and flags, only when there are any).
            Columns per point, packed, so a week at 1 Hz stays compact.
  events    one row per event: t, kind, JSON payload (alarms, link, writes...).
  frames    the optional bus trace: t, direction, raw bytes.

Threads: one SessionLog object per thread (sqlite3 connections are not shared).
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from protocols import codecs

DB_NAME = "session.db"
FORMAT = "pvdesk-session-log/1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS sessions(
  id INTEGER PRIMARY KEY, started_s REAL NOT NULL, ended_s REAL, link TEXT, profile TEXT,
  unit INTEGER, serial TEXT, columns TEXT NOT NULL, app_version TEXT);
CREATE TABLE IF NOT EXISTS samples(
  id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL, t REAL NOT NULL,
  vals BLOB NOT NULL, present BLOB NOT NULL, extra TEXT);
CREATE INDEX IF NOT EXISTS samples_session_t ON samples(session_id, t);
CREATE TABLE IF NOT EXISTS events(
  id INTEGER PRIMARY KEY, session_id INTEGER, t REAL NOT NULL, kind TEXT NOT NULL, payload TEXT);
CREATE INDEX IF NOT EXISTS events_t ON events(t);
CREATE TABLE IF NOT EXISTS frames(
  id INTEGER PRIMARY KEY, session_id INTEGER, t REAL NOT NULL, dir TEXT NOT NULL, data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS frames_t ON frames(t);
"""


@dataclass
class SessionInfo:
    """One recorded connection."""

    id: int
    started_s: float
    ended_s: float | None
    link: dict
    profile: dict
    unit: int
    serial: str | None
    columns: list[str]
    app_version: str

    @property
    def profile_name(self) -> str:
        return self.profile.get("profile", {}).get("name", "?")


def encode_sample(columns: dict[str, int], values: dict, flags: dict | None = None) -> tuple[bytes, bytes, str | None]:
    """(vals, present, extra) of one sample for the columns ``{name: index}``."""
    vals = np.full(len(columns), np.nan)
    present = np.zeros(len(columns), dtype=bool)
    texts = {}
    for name, v in values.items():
        i = columns.get(name)
        if v is None:
            continue
        if v is codecs.NOT_IMPLEMENTED:
            if i is not None:
                present[i] = True
            continue
        if isinstance(v, (int, float)) and i is not None:
            vals[i] = float(v)
            present[i] = True
        elif isinstance(v, str):
            texts[name] = v
    extra = {}
    if texts:
        extra["s"] = texts
    if flags:
        extra["f"] = dict(flags)
    return vals.tobytes(), np.packbits(present).tobytes(), json.dumps(extra) if extra else None


class SessionLog:
    """The session log file: writing (one thread) and reading."""

    def __init__(self, folder: str | Path, *, readonly: bool = False) -> None:
        self.folder = Path(folder)
        self.path = self.folder / DB_NAME
        if readonly:
            if not self.path.exists():
                raise FileNotFoundError(self.path)
            self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)
        else:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.db = sqlite3.connect(self.path, timeout=10)
            # auto_vacuum must be chosen before the first table exists.
            self.db.execute("PRAGMA auto_vacuum=INCREMENTAL")
            self.db.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL survives a killed process (only an OS crash can lose the last commit).
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA)
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?)", (FORMAT,))
            self.db.commit()
        self.db.execute("PRAGMA busy_timeout=10000")

    def close(self) -> None:
        self.db.close()

    # ---------------------------------------------------------------- writing
    def begin_session(self, started_s: float, link: dict, profile: dict, columns: list[str], unit: int,
                      app_version: str) -> int:
        cur = self.db.execute(
            "INSERT INTO sessions(started_s, link, profile, unit, columns, app_version) VALUES (?,?,?,?,?,?)",
            (started_s, json.dumps(link), json.dumps(profile), unit, json.dumps(columns), app_version))
        return int(cur.lastrowid)

    def end_session(self, session_id: int, ended_s: float) -> None:
        self.db.execute("UPDATE sessions SET ended_s=? WHERE id=?", (ended_s, session_id))

    def set_serial(self, session_id: int, serial: str) -> None:
        self.db.execute("UPDATE sessions SET serial=? WHERE id=?", (serial, session_id))

    def add_samples(self, session_id: int, rows: list[tuple[float, bytes, bytes, str | None]]) -> None:
        self.db.executemany("INSERT INTO samples(session_id, t, vals, present, extra) VALUES (?,?,?,?,?)",
                            [(session_id, *r) for r in rows])

    def add_events(self, rows: list[tuple[int | None, float, str, str]]) -> None:
        self.db.executemany("INSERT INTO events(session_id, t, kind, payload) VALUES (?,?,?,?)", rows)

    def add_frames(self, rows: list[tuple[int | None, float, str, bytes]]) -> None:
        self.db.executemany("INSERT INTO frames(session_id, t, dir, data) VALUES (?,?,?,?)", rows)

    def commit(self) -> None:
        self.db.commit()

    # ---------------------------------------------------------------- pruning
    def used_bytes(self) -> int:
        """Bytes in use: the file's pages minus the free ones, plus the WAL."""
        page = self.db.execute("PRAGMA page_size").fetchone()[0]
        count = self.db.execute("PRAGMA page_count").fetchone()[0]
        free = self.db.execute("PRAGMA freelist_count").fetchone()[0]
        wal = self.path.with_name(self.path.name + "-wal")
        return (count - free) * page + (wal.stat().st_size if wal.exists() else 0)

    def prune(self, now_s: float, max_age_s: float | None = None, max_bytes: int | None = None) -> int:
        """Drop the oldest data beyond the age or size limit; returns rows removed."""
        removed = 0
        if max_age_s:
            removed += self._drop_before(now_s - max_age_s)
        for _ in range(20):
            if not max_bytes or self.used_bytes() <= max_bytes:
                break
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            if self.used_bytes() <= max_bytes:
                break
            cut = self._time_cut(fraction=0.1)
            if cut is None:
                break
            removed += self._drop_before(cut)
        return removed

    def _time_cut(self, fraction: float) -> float | None:
        """A time before which about ``fraction`` of the stored rows lie."""
        best = None
        for table in ("samples", "frames"):
            n = self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            if n:
                row = self.db.execute(f"SELECT t FROM {table} ORDER BY id LIMIT 1 OFFSET ?",
                                      (max(1, int(n * fraction)),)).fetchone()
                if row and (best is None or row[0] > best):
                    best = row[0]
        if best is None:
            tenth = max(1, self.db.execute("SELECT count(*) FROM events").fetchone()[0] // 10)
            row = self.db.execute("SELECT t FROM events ORDER BY id LIMIT 1 OFFSET ?", (tenth,)).fetchone()
            best = row[0] if row else None
        return best

    def _drop_before(self, cut_s: float) -> int:
        n = 0
        for table in ("samples", "events", "frames"):
            n += self.db.execute(f"DELETE FROM {table} WHERE t < ?", (cut_s,)).rowcount
        self.db.execute("DELETE FROM sessions WHERE coalesce(ended_s, 1e300) < ? AND id NOT IN "
                        "(SELECT DISTINCT session_id FROM samples)", (cut_s,))
        self.db.commit()
        if n:
            # executescript steps the pragma to the end (execute() frees a single page)
            self.db.executescript("PRAGMA incremental_vacuum;")
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        return n

    # ---------------------------------------------------------------- reading
    def overview(self) -> dict:
        """first_s, last_s, samples, sessions, frames: what the recording holds now."""
        first, last = self.db.execute("SELECT min(t), max(t) FROM samples").fetchone()
        return {"first_s": first, "last_s": last,
                "samples": self.db.execute("SELECT max(id) - min(id) + 1 FROM samples").fetchone()[0] or 0,
                "sessions": self.db.execute("SELECT count(*) FROM sessions").fetchone()[0],
                "frames": self.db.execute("SELECT max(id) - min(id) + 1 FROM frames").fetchone()[0] or 0}

    def sessions(self) -> list[SessionInfo]:
        rows = self.db.execute("SELECT id, started_s, ended_s, link, profile, unit, serial, columns, app_version "
                               "FROM sessions ORDER BY id").fetchall()
        return [SessionInfo(r[0], r[1], r[2], json.loads(r[3] or "{}"), json.loads(r[4] or "{}"), r[5], r[6],
                            json.loads(r[7]), r[8] or "") for r in rows]

    def sample_count(self, session_id: int, t0: float = -math.inf, t1: float = math.inf) -> int:
        return self.db.execute("SELECT count(*) FROM samples WHERE session_id=? AND t BETWEEN ? AND ?",
                               (session_id, t0, t1)).fetchone()[0]

    def time_span(self, session_id: int) -> tuple[float, float] | None:
        row = self.db.execute("SELECT min(t), max(t) FROM samples WHERE session_id=?", (session_id,)).fetchone()
        return None if row[0] is None else (row[0], row[1])

    def sample_chunks(self, session_id: int, ncols: int, t0: float = -math.inf, t1: float = math.inf,
                      chunk_rows: int = 65536) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, list]]:
        """Samples in time order as (t[n], vals[n, ncols], present[n, ncols] bool, extras) chunks."""
        cur = self.db.execute("SELECT t, vals, present, extra FROM samples WHERE session_id=? AND t BETWEEN ? AND ? "
                              "ORDER BY t, id", (session_id, t0, t1))
        nbytes = (ncols + 7) // 8
        while True:
            rows = cur.fetchmany(chunk_rows)
            if not rows:
                return
            t = np.fromiter((r[0] for r in rows), dtype=np.float64, count=len(rows))
            vals = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float64).reshape(len(rows), ncols)
            packed = np.frombuffer(b"".join(r[2] for r in rows), dtype=np.uint8).reshape(len(rows), nbytes)
            present = np.unpackbits(packed, axis=1, count=ncols).astype(bool)
            extras = [(r[0], json.loads(r[3])) for r in rows if r[3]]
            del rows
            yield t, vals, present, extras

    def events(self, session_ids: list[int] | None = None, t0: float = -math.inf, t1: float = math.inf,
               kinds: list[str] | None = None) -> list[dict]:
        """Events in time order; ``session_ids`` also admits events outside any session in the range."""
        rows = self.db.execute("SELECT session_id, t, kind, payload FROM events WHERE t BETWEEN ? AND ? ORDER BY t, id",
                               (t0, t1)).fetchall()
        out = []
        for sid, t, kind, payload in rows:
            if session_ids is not None and sid is not None and sid not in session_ids:
                continue
            if kinds is not None and kind not in kinds:
                continue
            out.append({"t": t, "session": sid, "kind": kind, "payload": json.loads(payload) if payload else None})
        return out

    def frame_chunks(self, session_ids: list[int], t0: float = -math.inf, t1: float = math.inf,
                     chunk_rows: int = 65536) -> Iterator[list[tuple]]:
        marks = ",".join("?" * len(session_ids)) or "NULL"
        cur = self.db.execute(f"SELECT session_id, t, dir, data FROM frames WHERE session_id IN ({marks}) "
                              "AND t BETWEEN ? AND ? ORDER BY t, id", (*session_ids, t0, t1))
        while True:
            rows = cur.fetchmany(chunk_rows)
            if not rows:
                return
            yield rows
