"""Cloud sync against a real S3 endpoint (moto on 127.0.0.1): consent-gated, E2E encrypted."""
from __future__ import annotations

import logging

import pytest
from records_helpers import assert_no_plaintext, bucket_bytes, files_bytes, port_of, sample

from desktop.records.errors import BadRecoveryCode, InsecureEndpoint, SyncKeyMissing, WrongSyncKey


def _setup(svc, endpoint, bucket, code=None):
    svc.configure_sync(endpoint, bucket)
    return svc.import_sync_key(code) if code else svc.create_sync_key()


def _to_endpoint(conns, endpoint):
    port = port_of(endpoint)
    return [a for a in conns if len(a) >= 2 and a[1] == port]


def _keys(s3, bucket):
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_no_connection_without_consent(make_service, moto_endpoint, bucket, s3, connections):
    svc = make_service()
    _setup(svc, moto_endpoint, bucket)
    rid = svc.add_customer(sample())
    svc.update_customer(rid, {"notes": "changed"})
    report = svc.sync(pull=False)
    assert not report.connected
    assert _to_endpoint(connections, moto_endpoint) == []
    svc.grant_consent(rid, "support_sharing", "paper")  # another purpose does not count
    svc.sync(pull=False)
    assert _to_endpoint(connections, moto_endpoint) == []
    # restricting or deleting a never-shared record does not even announce it
    other = svc.add_customer(sample(11))
    svc.restrict(other)
    svc.delete(other)
    svc.sync(pull=False)
    assert _to_endpoint(connections, moto_endpoint) == []
    assert svc.pending_remote_removals() == []
    assert svc.sync_status(rid) == "local"
    # with consent, the record goes out (and only then a connection is opened)
    svc.grant_consent(rid, "cloud_sync", "signed_on_screen")
    report = svc.sync(pull=False)
    assert report.uploaded == [rid]
    assert len(_to_endpoint(connections, moto_endpoint)) >= 1
    assert f"pvdesk/v1/records/{rid}" in _keys(s3, bucket)
    assert svc.sync_status(rid) == "synced"


def test_only_consented_records_are_uploaded(make_service, moto_endpoint, bucket, s3):
    svc = make_service()
    _setup(svc, moto_endpoint, bucket)
    yes = svc.add_customer(sample())
    no = svc.add_customer(sample(7))
    svc.grant_consent(yes, "cloud_sync", "paper")
    svc.sync()
    keys = _keys(s3, bucket)
    assert f"pvdesk/v1/records/{yes}" in keys
    assert not any(no in k for k in keys)
    blob = bucket_bytes(s3, bucket)
    assert_no_plaintext(blob, sample(), "bucket")
    assert_no_plaintext(blob, sample(7), "bucket")
    head = s3.head_object(Bucket=bucket, Key=f"pvdesk/v1/records/{yes}")
    assert head.get("Metadata") == {}


def test_withdrawal_removes_the_remote_copy(make_service, moto_endpoint, bucket, s3):
    svc = make_service()
    _setup(svc, moto_endpoint, bucket)
    rid = svc.add_customer(sample())
    svc.grant_consent(rid, "cloud_sync", "verbal")
    svc.sync()
    assert f"pvdesk/v1/records/{rid}" in _keys(s3, bucket)
    svc.withdraw_consent(rid, "cloud_sync")
    keys = _keys(s3, bucket)
    assert f"pvdesk/v1/records/{rid}" not in keys
    assert f"pvdesk/v1/tombstones/{rid}" in keys
    assert svc.pending_remote_removals() == []
    assert svc.sync_status(rid) == "local"
    assert svc.get_customer(rid).name == "Margarethe Quellenbach"  # kept locally


def test_two_laptops_share_then_delete_propagates(make_service, moto_endpoint, bucket, s3):
    a = make_service("laptop-a", "inst-a")
    code = _setup(a, moto_endpoint, bucket)
    b = make_service("laptop-b", "inst-b")
    assert _setup(b, moto_endpoint, bucket, code) == a.sync_key_fingerprint()
    rid = a.add_customer(sample())
    a.grant_consent(rid, "cloud_sync", "paper")
    a.sync()
    report = b.sync()
    assert report.downloaded == [rid]
    assert b.get_customer(rid).email == "m.quellenbach@example.org"
    b.update_customer(rid, {"phone": "+49 30 55556666"})
    b.sync()
    a.sync()
    assert a.get_customer(rid).phone == "+49 30 55556666"
    a.delete(rid)
    assert f"pvdesk/v1/records/{rid}" not in _keys(s3, bucket)
    b.sync()
    assert rid not in b.records
    assert any(e["action"] == "delete" and e["record_id"] == rid for e in b.audit_entries())


def test_withdrawal_after_consent_was_withdrawn_elsewhere(make_service, moto_endpoint, bucket, s3):
    a = make_service("laptop-a", "inst-a")
    code = _setup(a, moto_endpoint, bucket)
    b = make_service("laptop-b", "inst-b")
    _setup(b, moto_endpoint, bucket, code)
    rid = a.add_customer(sample())
    a.grant_consent(rid, "cloud_sync", "paper")
    a.sync()
    b.sync()
    a.withdraw_consent(rid, "cloud_sync")
    b.sync()
    assert b.consent_status(rid, "cloud_sync") == "withdrawn"
    assert b.sync_status(rid) == "local"
    version = b.store.db.execute("SELECT version FROM records WHERE id=?", (rid,)).fetchone()[0]
    b.sync()  # applying the same tombstone again changes nothing
    assert b.store.db.execute("SELECT version FROM records WHERE id=?", (rid,)).fetchone()[0] == version
    assert f"pvdesk/v1/records/{rid}" not in _keys(s3, bucket)
    # erasure on A after the withdrawal still reaches B's copy
    a.delete(rid)
    b.sync()
    assert rid not in b.records


def test_concurrent_edit_is_a_conflict_never_an_overwrite(make_service, moto_endpoint, bucket, s3):
    a = make_service("laptop-a", "inst-a")
    code = _setup(a, moto_endpoint, bucket)
    b = make_service("laptop-b", "inst-b")
    _setup(b, moto_endpoint, bucket, code)
    rid = a.add_customer(sample())
    a.grant_consent(rid, "cloud_sync", "paper")
    a.sync()
    b.sync()
    a.update_customer(rid, {"notes": "edited on A"})
    b.update_customer(rid, {"notes": "edited on B"})
    assert a.sync().uploaded == [rid]
    report = b.sync()
    assert report.conflicts == [rid] and report.uploaded == []
    assert b.sync_status(rid) == "conflict"
    local, remote = b.conflict_versions(rid)
    assert (local.notes, remote.notes) == ("edited on B", "edited on A")
    # the bucket still holds A's version
    assert a.sync().downloaded == []
    b.resolve_conflict(rid, "local")
    assert b.sync_status(rid) == "synced"
    a.sync()
    assert a.get_customer(rid).notes == "edited on B"


def test_offline_then_catch_up(make_service, moto_endpoint, bucket, s3):
    svc = make_service()
    _setup(svc, moto_endpoint, bucket)
    rid = svc.add_customer(sample())
    svc.grant_consent(rid, "cloud_sync", "paper")
    assert svc.sync().uploaded == [rid]
    svc.configure_sync("http://127.0.0.1:9", bucket)  # nothing listens on port 9
    svc.update_customer(rid, {"notes": "changed while offline"})
    report = svc.sync()
    assert report.offline and "cannot be reached" in report.message
    assert svc.sync_status(rid) == "pending"
    svc.withdraw_consent(rid, "cloud_sync")  # cannot reach the bucket: queued
    assert svc.pending_remote_removals() == [rid]
    assert f"pvdesk/v1/records/{rid}" in _keys(s3, bucket)
    svc.grant_consent(rid, "cloud_sync", "paper")
    svc.configure_sync(moto_endpoint, bucket)
    report = svc.sync()
    assert not report.offline and report.removed == [rid] and report.uploaded == [rid]
    assert svc.pending_remote_removals() == []
    assert f"pvdesk/v1/records/{rid}" in _keys(s3, bucket)
    assert f"pvdesk/v1/tombstones/{rid}" not in _keys(s3, bucket)
    b = make_service("laptop-b")
    b.configure_sync(moto_endpoint, bucket)
    b.import_sync_key(svc.export_sync_key_file())
    b.sync()
    assert b.get_customer(rid).notes == "changed while offline"


def test_wrong_sync_key_is_refused_before_any_upload(make_service, moto_endpoint, bucket, s3):
    a = make_service("laptop-a")
    _setup(a, moto_endpoint, bucket)
    rid = a.add_customer(sample())
    a.grant_consent(rid, "cloud_sync", "paper")
    a.sync()
    before = _keys(s3, bucket)
    b = make_service("laptop-b")
    _setup(b, moto_endpoint, bucket)  # a different, freshly created key
    other = b.add_customer(sample(8))
    b.grant_consent(other, "cloud_sync", "paper")
    with pytest.raises(WrongSyncKey) as err:
        b.sync()
    assert "import the key file or recovery code" in str(err.value).lower()
    assert _keys(s3, bucket) == before


def test_sync_key_transfer_formats(make_service, moto_endpoint, bucket):
    a = make_service("laptop-a")
    code = _setup(a, moto_endpoint, bucket)
    b = make_service("laptop-b")
    with pytest.raises(SyncKeyMissing):
        b.export_sync_key_file()
    assert b.import_sync_key(a.export_sync_key_file()) == a.sync_key_fingerprint()
    typo = ("A" if code[0] != "A" else "B") + code[1:]
    with pytest.raises(BadRecoveryCode) as err:
        b.import_sync_key(typo)
    assert "checksum" in str(err.value)


@pytest.mark.parametrize("url", ["http://s3.example.com", "http://10.0.0.5:9000", "ftp://x"])
def test_plain_http_only_to_loopback(make_service, url):
    svc = make_service()
    with pytest.raises(Exception) as err:
        svc.configure_sync(url, "bucket-name")
    if url.startswith("http://"):
        assert isinstance(err.value, InsecureEndpoint) and "https://" in str(err.value)


def test_logs_and_files_hold_no_personal_data(make_service, moto_endpoint, bucket, s3, tmp_path):
    log_file = tmp_path / "pvdesk.log"
    handler = logging.FileHandler(log_file, encoding="utf-8")
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        svc = make_service()
        _setup(svc, moto_endpoint, bucket)
        rid = svc.add_customer(sample())
        svc.grant_consent(rid, "cloud_sync", "paper")
        svc.search("Quellenbach")
        svc.sync()
        svc.update_customer(rid, {"notes": "more notes here"})
        svc.sync()
        svc.export_json(rid)
        try:
            svc.update_customer(rid, {"email": "bad address"})
        except Exception as exc:
            logging.getLogger("test").exception("expected failure: %s", exc)
        svc.close()
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()
    text = log_file.read_bytes()
    assert b"records store open" in text and b"sync:" in text  # the log did get written
    assert_no_plaintext(text, sample(), "log file")
    d = tmp_path / "laptop-a"
    assert_no_plaintext(files_bytes(d / "records.db", d / "records.db-wal", d / "records.db-journal"),
                        sample(), "database")


def test_tampered_bucket_object_is_not_applied(make_service, moto_endpoint, bucket, s3):
    a = make_service("laptop-a")
    code = _setup(a, moto_endpoint, bucket)
    rid = a.add_customer(sample())
    a.grant_consent(rid, "cloud_sync", "paper")
    a.sync()
    b = make_service("laptop-b")
    _setup(b, moto_endpoint, bucket, code)
    b.sync()
    key = f"pvdesk/v1/records/{rid}"
    body = bytearray(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    body[30] ^= 0xFF
    s3.put_object(Bucket=bucket, Key=key, Body=bytes(body))
    report = b.sync()
    assert report.failed == [rid] and "integrity" in report.summary()
    assert b.get_customer(rid).name == "Margarethe Quellenbach"
    assert b.sync_status(rid) == "synced"


def test_records_package_imports_without_qt(tmp_path):
    import subprocess
    import sys
    code = ("import sys\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.startswith('PySide6') or name.startswith('shiboken6'):\n"
            "            raise ImportError('Qt blocked')\n"
            "sys.meta_path.insert(0, Block())\n"
            "import desktop.records, desktop.records.sync, desktop.records.remote, desktop.cli.records\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]))
    assert out.stdout.strip() == "ok", out.stderr
