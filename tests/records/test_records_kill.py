"""A SIGKILL at any moment of a write loop leaves a readable, consistent store."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop.records.service import RecordsService

REPO = Path(__file__).resolve().parents[2]


def _kill_after(data_dir: Path, mode: str, writes: int, extra_s: float) -> int:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join((str(REPO), str(Path(__file__).parent)))}
    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("records_kill_writer.py")),
                             str(data_dir), mode], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, text=True)
    last = 0
    deadline = time.monotonic() + 20
    try:
        while last < writes and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                raise AssertionError("writer died: " + proc.stderr.read()[-2000:])
            last = int(line)
        time.sleep(extra_s)  # land somewhere inside a later write
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(5)
    assert proc.returncode == -signal.SIGKILL
    return last


def _check(data_dir: Path, at_least: int, **kw) -> None:
    db = sqlite3.connect(data_dir / "records.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    svc = RecordsService(data_dir, "inst-check", **kw)
    try:
        assert svc.corrupt == []
        assert len(svc.records) >= at_least
        for c in svc.records.values():
            assert c.name.startswith("Writer Person")
        assert svc.verify_audit() > 0
        rid = svc.add_customer({"name": "After Crash"})  # still writable
        assert svc.get_customer(rid).name == "After Crash"
    finally:
        svc.close()


@pytest.mark.parametrize("extra_s", [0.0, 0.013, 0.031])
def test_sigkill_during_writes_keyring_mode(tmp_path, extra_s, atomic_keyring):
    data_dir = tmp_path / "store"
    done = _kill_after(data_dir, "keyring", 15, extra_s)
    _check(data_dir, done)


@pytest.mark.parametrize("extra_s", [0.0, 0.007, 0.021])
def test_sigkill_during_writes_and_key_rotations(tmp_path, extra_s):
    data_dir = tmp_path / "store"
    done = _kill_after(data_dir, "passphrase", 12, extra_s)
    _check(data_dir, done - done // 3 - 1, passphrase="kill-test-passphrase")
