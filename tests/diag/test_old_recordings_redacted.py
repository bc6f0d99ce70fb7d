"""A recording an older PVDesk made, which holds the installer code as it was typed, is redacted at export.

The recorder has redacted the login since issue 16; recordings made before, or with a profile whose
secret points changed since, still hold the code in their write events, settings and bus trace. The
bundle is what leaves the machine, so it redacts again from each session's own profile document.
"""
from __future__ import annotations

import json
import time
import zipfile

import pyarrow.parquet as pq

from protocols.profiles.loader import load

from desktop.diag import layout
from desktop.diag.bundle import export_bundle
from desktop.diag.profile_doc import to_doc
from desktop.diag.secrets import REDACTED
from desktop.diag.sessionlog import SessionLog

CODE = 7391  # 0x1CDF


def _old_recording(folder):
    profile = load("pvdesk-hybrid")
    login = profile.point("installer_login")
    log = SessionLog(folder)
    t = time.time() - 60
    sid = log.begin_session(t, {"label": "demo", "spec": {"kind": "tcp"}}, to_doc(profile), ["pv_power_w"], 1, "0.9")
    log.add_events([
        (sid, t + 1, "write", json.dumps({"name": "installer_login", "value": CODE, "old": None, "ok": True})),
        (sid, t + 2, "write", json.dumps({"name": "grid_code", "value": 2, "old": 1, "ok": True})),
        (sid, t + 3, "settings", json.dumps({"installer_login": CODE, "grid_code": 2})),
    ])
    # FC6 to the login register, as the old bus trace held it (MBAP header, unit 1)
    pdu = bytes([6]) + login.address.to_bytes(2, "big") + CODE.to_bytes(2, "big")
    frame = (1).to_bytes(2, "big") + b"\x00\x00" + (len(pdu) + 1).to_bytes(2, "big") + b"\x01" + pdu
    log.add_frames([(sid, t + 1, "tx", frame), (sid, t + 1.1, "rx", frame)])
    log.end_session(sid, t + 10)
    log.commit()
    log.close()
    return login.address


def test_a_bundle_of_an_old_recording_never_holds_the_code(tmp_path):
    address = _old_recording(tmp_path / "rec")
    bundle = tmp_path / "b.zip"
    export_bundle(bundle, recording_dir=tmp_path / "rec", app_logs=tmp_path / "nologs",
                  upgrade_logs=tmp_path / "noup")
    with zipfile.ZipFile(bundle) as zf:
        events = [json.loads(line) for line in zf.read(layout.EVENTS).decode().splitlines()]
        settings = json.loads(zf.read(layout.SETTINGS))
        trace = pq.read_table(zf.open(layout.TRACE)).column("frame").to_pylist()
        everything = b"".join(zf.read(n) for n in zf.namelist() if n != layout.TRACE)
    logins = [e["payload"] for e in events if e["kind"] == "write" and e["payload"]["name"] == "installer_login"]
    assert logins and all(p["value"] == REDACTED for p in logins)  # that a login happened stays
    assert any(e["kind"] == "write" and e["payload"] == {"name": "grid_code", "value": 2, "old": 1, "ok": True}
               for e in events)  # a protected setting is not a secret: support needs it
    assert all("installer_login" not in e["payload"] for e in events if e["kind"] == "settings")
    assert all(w["value"] == REDACTED for w in settings["writes"] if w["name"] == "installer_login")
    assert str(CODE).encode() not in everything
    login_frames = [f for f in trace if f[7] == 6 and f[8:10] == address.to_bytes(2, "big")]
    assert len(login_frames) == 2 and all(f[10:12] == b"\x00\x00" for f in login_frames)
