"""The installer code never reaches a file: recording, bus trace, bundle, write history, logs.

A real session: the DeviceService (its own I/O thread) on the demo simulator
over loopback TCP, the Recorder with the bus trace on, the app's log at DEBUG
(pymodbus logs every frame then), a wrong and a right installer login and a
protected write, then a diagnostics bundle. Every file written under the
session's folders is scanned, SQLite and zip members included, for the code
in decimal and in the hex forms a frame dump would show.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import time
import zipfile
from pathlib import Path

import pytest

from desktop.commission.params import ParamSession

CODE = 7391            # 0x1CDF: distinctive in decimal and in hex
WRONG = 6082           # 0x17C2


def _leaks(text: str, code: int) -> list[str]:
    """Where ``code`` shows in ``text``: as a decimal token, or as the login register's write in a frame dump.

    The decimal form is matched as a whole token (a timestamp such as 1764657391.2 holds the digits by
    chance); the hex forms carry the login register's address (218 = 0x00DA) before the value, as a
    write frame has them, so a reading that happens to equal the code is not taken for a leak.
    """
    hi, lo = code >> 8, code & 0xFF
    patterns = [rf"(?<![\d.]){code}(?![\d])", rf"00 da {hi:02x} {lo:02x}", rf"0x0 0xda 0x{hi:x} 0x{lo:x}",
                rf"00da{hi:02x}{lo:02x}"]
    low = text.lower()
    return [pat for pat in patterns if re.search(pat, low)]


def _texts(path: Path):
    """(where, text) of a file: SQLite rows (frames as hex), zip members, anything else decoded as bytes."""
    data = path.read_bytes()
    if data.startswith(b"SQLite format 3"):
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            for table, in con.execute("select name from sqlite_master where type='table'").fetchall():
                if table == "samples":
                    continue  # packed floats, not text; the login point is not a column (asserted below)
                for row in con.execute(f"select * from {table}"):  # table names from the file
                    yield f"{path}:{table}", " ".join(r.hex(" ") if isinstance(r, bytes) else str(r) for r in row)
        finally:
            con.close()
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                yield f"{path}!{name}", zf.read(name).decode("latin-1")
    else:
        yield str(path), data.decode("latin-1")


def _wait(pred, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not pred():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.05)


@pytest.mark.slow
def test_no_file_written_during_a_session_with_a_login_holds_the_code(tmp_path, monkeypatch, diag_dirs):
    from desktop.commission.params import LoginFailed
    from desktop.commission.storage import WriteHistory
    from desktop.device.connect import Target
    from desktop.device.service import DeviceService
    from desktop.diag.bundle import export_bundle
    from desktop.diag.recorder import Recorder, RecorderSettings

    monkeypatch.setenv("PVDESK_DATA_DIR", str(tmp_path / "data"))
    diag_dirs["logs"].mkdir(parents=True)
    handler = logging.FileHandler(diag_dirs["logs"] / "pvdesk.log")
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    service = DeviceService(fast_period_s=0.2, slow_period_s=1.0)
    recorder = Recorder(service, diag_dirs["recordings"], RecorderSettings(bus_trace=True))
    history = WriteHistory(tmp_path / "data" / "history")
    try:
        service.connect(Target(demo=True)).result(timeout=20)
        sim = service.simulator
        dev = sim.device(1)
        sim.call(setattr, dev, "installer_code", CODE)
        sim.call(setattr, dev, "require_login", True)
        _wait(lambda: recorder.status["samples"] >= 3, 10)
        session = service.call_device(lambda d: _login_and_write(d, history)).result(timeout=15)
        assert isinstance(session["wrong"], LoginFailed)
        assert session["result"].ok and dev.value_of("grid_code") == 2
        time.sleep(0.5)
        service.disconnect().result(timeout=5)
        assert recorder.flush(5)
    finally:
        recorder.stop()
        service.shutdown()
        root.removeHandler(handler)
        handler.close()
        root.setLevel(old_level)
    bundle = tmp_path / "bundle.zip"
    export_bundle(bundle, recording_dir=diag_dirs["recordings"], app_logs=diag_dirs["logs"],
                  upgrade_logs=diag_dirs["upgrades"])

    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" or p.name == "session.db" for p in files) and bundle in files
    leaks = [(where, found) for p in files for where, text in _texts(p)
             for found in _leaks(text, CODE) + _leaks(text, WRONG)]
    assert leaks == []
    # the login still shows as having happened, with its value redacted
    con = sqlite3.connect(diag_dirs["recordings"] / "session.db")
    writes = [json.loads(p) for (p,) in con.execute("select payload from events where kind = 'write'")]
    columns = json.loads(con.execute("select columns from sessions").fetchone()[0])
    frames = [bytes(d) for (d,) in con.execute("select data from frames")]
    con.close()
    assert "installer_login" not in columns and "grid_code" in columns
    logins = [w for w in writes if w["name"] == "installer_login"]
    # the wrong code, the right one, and the right one again just before the protected write
    assert [w["ok"] for w in logins] == [False, True, True]
    assert all(w["value"] == "(secret, not recorded)" for w in logins)
    # the trace keeps the login frames (that a login happened), with the value zeroed
    login_frames = [f for f in frames if len(f) >= 12 and f[7] == 6 and f[8:10] == (218).to_bytes(2, "big")]
    assert login_frames and all(f[10:12] == b"\x00\x00" for f in login_frames)
    assert any(w["name"] == "grid_code" and w["value"] == 2 and w["ok"] for w in writes)


async def _login_and_write(device, history):
    ps = ParamSession(device, installer="tester", history=history)
    out = {}
    try:
        await ps.login(str(WRONG))
    except Exception as exc:  # the test inspects it
        out["wrong"] = exc
    await ps.login(str(CODE))
    out["result"] = await ps.write("grid_code", 2, confirmed=True)
    return out

