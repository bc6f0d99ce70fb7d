"""Damage to the store never loses or hides a record, and every case is one clear line.

Byte flips, a truncated or deleted database beside its key, damaged or deleted key files and
keyring entries, file keyrings outside the tests, and sync without credentials (no socket).
"""
from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from records_helpers import sample

from desktop.records.errors import KeyDamaged, MasterKeyMissing, RecordsError, StoreMissing
from desktop.records.service import RecordsService

REPO = Path(__file__).resolve().parents[2]
PASS = "damage test passphrase"


def _no_trace_one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and "Traceback" not in text
    assert type(exc).__name__ not in ("UnicodeDecodeError", "JSONDecodeError", "AttributeError", "KeyError")
    return text


def test_single_byte_flips_never_hide_a_record(make_service, tmp_path):
    svc = make_service("flip")
    ids = {svc.add_customer(sample(i)) for i in range(1, 13)}
    svc.close()
    original = (tmp_path / "flip" / "records.db").read_bytes()
    rng = random.Random(17)
    outcomes = {"refused": 0, "reported": 0, "intact": 0}
    for trial in range(30):
        d = tmp_path / f"f{trial}"
        d.mkdir()
        data = bytearray(original)
        pos = rng.randrange(100, len(data))  # past the header's magic string
        data[pos] ^= 1 << rng.randrange(8)
        (d / "records.db").write_bytes(bytes(data))
        # the copy belongs to the same store: reuse its keys through the same keyring
        try:
            s = RecordsService(d, "inst-1")
        except RecordsError as exc:
            _no_trace_one_line(exc)
            outcomes["refused"] += 1
            continue
        try:
            shown = set(s.records)
            report = s.integrity_report()
            lost = ids - shown
            if lost or report:
                assert report, f"flip at {pos}: {len(lost)} record(s) vanished without a word"
                for rid in set(s.corrupt) | lost:
                    if rid in s.corrupt:
                        assert any(rid in line for line in report)
                outcomes["reported"] += 1
            else:
                outcomes["intact"] += 1
        finally:
            s.close()
    assert sum(outcomes.values()) == 30 and outcomes["reported"] >= 1, outcomes


def test_listing_reports_a_damaged_record_cli_and_exit_status(make_service, tmp_path, capsys):
    from test_records_cli import run
    svc = make_service("cli-bad")
    bad, good = svc.add_customer(sample()), svc.add_customer(sample(2))
    svc.close()
    db = sqlite3.connect(tmp_path / "cli-bad" / "records.db")
    blob, = db.execute("SELECT blob FROM records WHERE id=?", (bad,)).fetchone()
    db.execute("UPDATE records SET blob=? WHERE id=?", (blob[:-1] + bytes([blob[-1] ^ 1]), bad))
    db.commit()
    db.close()
    code, out, err = run(["records", "list", "--data-dir", str(tmp_path / "cli-bad")], capsys)
    assert code == 1 and good in out
    assert bad in err and "integrity check" in err


@pytest.mark.parametrize("how", ["truncated", "deleted"])
def test_missing_or_empty_database_beside_its_key_is_refused(make_service, tmp_path, how):
    svc = make_service("gone")
    svc.add_customer(sample())
    svc.close()
    db = tmp_path / "gone" / "records.db"
    for extra in ("-wal", "-shm"):
        Path(str(db) + extra).unlink(missing_ok=True)
    if how == "truncated":
        db.write_bytes(b"")
    else:
        db.unlink()
    with pytest.raises(StoreMissing) as err:
        RecordsService(tmp_path / "gone", "inst-1")
    text = _no_trace_one_line(err.value)
    assert "restore records.db from a backup" in text and "--discard-old-key" in text
    assert (db.exists() and db.stat().st_size == 0) if how == "truncated" else not db.exists()
    # giving the old records up is an explicit act, and then a new store starts
    fresh = RecordsService(tmp_path / "gone", "inst-1", discard_missing=True)
    assert fresh.records == {}
    fresh.close()
    RecordsService(tmp_path / "gone", "inst-1").close()


def test_passphrase_store_with_missing_database_is_refused(tmp_path):
    svc = RecordsService(tmp_path / "p", "inst-1", passphrase=PASS, scrypt_n=2**10)
    svc.add_customer(sample())
    svc.close()
    (tmp_path / "p" / "records.db").unlink()
    with pytest.raises(StoreMissing):
        RecordsService(tmp_path / "p", "inst-1", passphrase=PASS)


def _keyfile_store(tmp_path) -> Path:
    d = tmp_path / "kf"
    svc = RecordsService(d, "inst-1", passphrase=PASS, scrypt_n=2**10)
    svc.add_customer(sample())
    svc.close()
    return d / "master.key"


DAMAGES = {
    "binary garbage": lambda b: b"\xff\xfe\x00garbage\x80",
    "not json": lambda b: b"{not json",
    "a json list": lambda b: b"[1, 2, 3]",
    "kdf missing": lambda b: json.dumps({k: v for k, v in json.loads(b).items() if k != "kdf"}).encode(),
    "salt not base64": lambda b: json.dumps({**json.loads(b), "kdf": {**json.loads(b)["kdf"], "salt": "%%%"}}).encode(),
    "cost not a number": lambda b: json.dumps({**json.loads(b), "kdf": {**json.loads(b)["kdf"], "n": "big"}}).encode(),
    "huge cost": lambda b: json.dumps({**json.loads(b), "kdf": {**json.loads(b)["kdf"], "n": 2**40}}).encode(),
    "secrets a string": lambda b: json.dumps({**json.loads(b), "secrets": "x"}).encode(),
    "empty": lambda b: b"",
    "truncated": lambda b: b[: len(b) // 2],
}


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_damaged_key_file_is_one_clear_line(tmp_path, damage):
    keyfile = _keyfile_store(tmp_path)
    keyfile.write_bytes(DAMAGES[damage](keyfile.read_bytes()))
    with pytest.raises(KeyDamaged) as err:
        RecordsService(keyfile.parent, "inst-1", passphrase=PASS)
    text = _no_trace_one_line(err.value)
    assert str(keyfile) in text and "backup" in text


def test_damaged_secret_inside_the_key_file_is_named(tmp_path):
    keyfile = _keyfile_store(tmp_path)
    doc = json.loads(keyfile.read_bytes())
    name = next(n for n in doc["secrets"] if n.endswith("/audit"))
    doc["secrets"][name] = "AAAA" + doc["secrets"][name][4:]
    keyfile.write_text(json.dumps(doc))
    with pytest.raises(KeyDamaged) as err:
        RecordsService(keyfile.parent, "inst-1", passphrase=PASS)
    assert "audit" in _no_trace_one_line(err.value)


def test_deleted_key_file_gives_the_right_advice(tmp_path):
    keyfile = _keyfile_store(tmp_path)
    keyfile.unlink()
    for kw in ({"passphrase": PASS}, {}):
        with pytest.raises(MasterKeyMissing) as err:
            RecordsService(keyfile.parent, "inst-1", **kw)
        text = _no_trace_one_line(err.value)
        assert "master.key" in text and "restore" in text and "keyring, not" not in text


def test_damaged_keyring_entry_is_one_clear_line(make_service, tmp_path):
    import keyring
    svc = make_service("kr")
    svc.add_customer(sample())
    store_id = svc.store.store_id
    svc.close()
    keyring.get_keyring().set_password("PVDesk", f"{store_id}/master/1", "not base64 at all!")
    with pytest.raises(KeyDamaged) as err:
        RecordsService(tmp_path / "kr", "inst-1")
    assert "master/1" in _no_trace_one_line(err.value) and store_id not in str(err.value)


def test_file_keyring_is_refused_outside_the_tests(tmp_path, monkeypatch):
    from desktop.records.errors import KeyringUnavailable
    monkeypatch.delenv("PVDESK_TEST_FILE_KEYRING")  # chosen explicitly, but not a test run
    with pytest.raises(KeyringUnavailable) as err:
        RecordsService(tmp_path / "x", "inst-1")
    assert "passphrase mode" in _no_trace_one_line(err.value)
    assert not (tmp_path / "x" / "records.db").exists()


_NO_EGRESS = r"""
import socket, sys
seen = []
def refuse(self, address, *a, **k):
    seen.append(address)
    raise OSError("test: no connection allowed")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
real_getaddrinfo = socket.getaddrinfo
def lookup(host, *a, **k):
    seen.append(("lookup", host))
    raise OSError("test: no lookup allowed")
socket.getaddrinfo = lookup
from desktop.records.errors import SyncNotConfigured
from desktop.records.service import RecordsService
svc = RecordsService(sys.argv[1], "inst-1", passphrase="no egress passphrase", scrypt_n=2**10)
svc.configure_sync("https://s3.eu-central-1.example.com", "pvdesk-org-bucket")
svc.create_sync_key()
rid = svc.add_customer({"name": "Egress Test"})
svc.grant_consent(rid, "cloud_sync", "paper")
try:
    svc.sync()
    print("SYNCED")
except SyncNotConfigured as exc:
    print("REFUSED", exc)
print("BOTO3", "boto3" in sys.modules or "botocore" in sys.modules)
print("SEEN", seen)
"""


def test_sync_without_credentials_touches_no_network_address(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(tmp_path),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    result = subprocess.run([sys.executable, "-c", _NO_EGRESS, str(tmp_path / "store")], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert "SYNCED" not in lines and "credentials" in lines["REFUSED"]
    assert lines["BOTO3"] == "False" and lines["SEEN"] == "[]"
