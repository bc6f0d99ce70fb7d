"""A recording survives a SIGKILL: `pvdesk diag record --demo` is killed mid-session, and the file holds
every sample up to within a couple of seconds of the kill, passes SQLite's integrity check and exports."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from desktop.diag.bundle import export_bundle
from desktop.diag.open import open_bundle
from desktop.diag.sessionlog import SessionLog

ROOT = Path(__file__).resolve().parents[2]


def _samples(folder: Path) -> int:
    try:
        db = sqlite3.connect(f"file:{folder / 'session.db'}?mode=ro", uri=True, timeout=5)
        try:
            return db.execute("SELECT count(*) FROM samples").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def test_recording_survives_sigkill(tmp_path):
    folder = tmp_path / "rec"
    env = dict(os.environ, PVDESK_LOG_DIR=str(tmp_path / "logs"), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "desktop.cli", "diag", "record", "--demo", "--period", "0.2",
                             "--recording-dir", str(folder)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert "recording" in proc.stdout.readline()
        deadline = time.monotonic() + 20
        while _samples(folder) < 12:
            assert time.monotonic() < deadline, "the recorder wrote nothing"
            assert proc.poll() is None, "the recorder stopped by itself"
            time.sleep(0.1)
        time.sleep(1.3)
        killed_at = time.time()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL

    db = sqlite3.connect(folder / "session.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    log = SessionLog(folder, readonly=True)
    (session,) = log.sessions()
    assert session.ended_s is None  # killed: nobody closed the session
    first, last = log.time_span(session.id)
    count = log.sample_count(session.id)
    log.close()
    assert killed_at - last < 2.0, f"lost {killed_at - last:.1f} s before the kill"
    assert count >= (last - first) / 0.2 * 0.8  # no holes: about one sample every 0.2 s

    bundle = export_bundle(tmp_path / "after-kill.zip", recording_dir=folder)
    assert bundle.manifest["includes"]["telemetry_rows"] == count
    with open_bundle(bundle.path) as opened:
        assert opened.telemetry().num_rows == count
