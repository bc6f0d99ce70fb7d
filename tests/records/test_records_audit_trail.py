"""The audit trail's end is kept outside the database: truncation, wiping and rollback are caught
on the next open, stop writes until acknowledged, and `pvdesk records audit verify` says so."""
from __future__ import annotations

import shutil
import sqlite3

import pytest
from records_helpers import sample

from desktop.records.errors import AuditBroken, AuditTampered
from desktop.records.service import RecordsService


def _store(make_service):
    svc = make_service("trail")
    rid = svc.add_customer(sample())
    for i in range(5):
        svc.update_customer(rid, {"notes": f"visit {i}"})
    count = svc.verify_audit()
    svc.close()
    return rid, count


def _sql(tmp_path, *statements):
    db = sqlite3.connect(tmp_path / "trail" / "records.db")
    for s in statements:
        db.execute(*s) if isinstance(s, tuple) else db.execute(s)
    db.commit()
    db.close()


def _last_meta_head(tmp_path, seq):
    """What an editor would write to make the in-database head agree with a shorter trail."""
    db = sqlite3.connect(tmp_path / "trail" / "records.db")
    row = db.execute("SELECT value FROM meta WHERE key='audit_head'").fetchone()
    db.close()
    return row


@pytest.mark.parametrize("damage", ["cut the last entries", "wipe the trail", "wipe trail and head"])
def test_truncation_and_wiping_are_caught_on_open(make_service, tmp_path, damage):
    rid, count = _store(make_service)
    if damage == "cut the last entries":
        _sql(tmp_path, ("DELETE FROM audit WHERE seq > ?", (count - 3,)))
    elif damage == "wipe the trail":
        _sql(tmp_path, "DELETE FROM audit")
    else:
        _sql(tmp_path, "DELETE FROM audit", "DELETE FROM meta WHERE key='audit_head'")
    svc = RecordsService(tmp_path / "trail", "inst-1")
    try:
        assert svc.audit_break is not None
        assert "cut off" in svc.audit_break or "removed" in svc.audit_break
        assert svc.get_customer(rid).name == "Margarethe Quellenbach"  # reading goes on
        with pytest.raises(AuditBroken) as err:
            svc.update_customer(rid, {"notes": "must not be written"})
        assert "acknowledge" in str(err.value).lower()
        with pytest.raises(AuditTampered):
            svc.verify_audit()
        assert any("audit trail" in line for line in svc.integrity_report())
        seq = svc.acknowledge_audit_break()
        assert seq > 0 and svc.audit_break is None
        svc.update_customer(rid, {"notes": "written after the acknowledgement"})
        assert svc.verify_audit() > 0
        ack = [e for e in svc.audit_entries() if e["action"] == "audit_break_acknowledged"]
        assert len(ack) == 1 and ack[0]["installer"] == "inst-1"
    finally:
        svc.close()
    again = RecordsService(tmp_path / "trail", "inst-1")
    assert again.audit_break is None and again.get_customer(rid).notes == "written after the acknowledgement"
    again.close()


def test_rollback_to_an_older_copy_is_caught(make_service, tmp_path):
    svc = make_service("trail")
    rid = svc.add_customer(sample())
    svc.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    svc.close()
    shutil.copy(tmp_path / "trail" / "records.db", tmp_path / "old.db")
    svc = make_service("trail")
    svc.update_customer(rid, {"notes": "after the copy"})
    svc.close()
    shutil.copy(tmp_path / "old.db", tmp_path / "trail" / "records.db")
    svc = RecordsService(tmp_path / "trail", "inst-1")
    try:
        assert svc.audit_break and "older copy" in svc.audit_break
        with pytest.raises(AuditBroken):
            svc.add_customer({"name": "Not Now"})
    finally:
        svc.close()


def test_a_forged_longer_trail_is_caught(make_service, tmp_path):
    """A rolled-back trail that was appended to again (same length or longer) differs in hash."""
    rid, count = _store(make_service)
    shutil.copy(tmp_path / "trail" / "records.db", tmp_path / "snapshot.db")
    svc = RecordsService(tmp_path / "trail", "inst-1")
    svc.close()
    # an older snapshot, brought forward by the same number of genuine opens elsewhere
    shutil.copy(tmp_path / "snapshot.db", tmp_path / "trail" / "records.db")
    svc = RecordsService(tmp_path / "trail", "inst-1")
    try:
        assert svc.audit_break is not None
    finally:
        svc.close()


def test_cli_audit_verify_reports_the_break(make_service, tmp_path, capsys):
    from test_records_cli import run
    rid, count = _store(make_service)
    code, out, _ = run(["records", "audit", "verify", "--data-dir", str(tmp_path / "trail")], capsys)
    assert code == 0 and "verified" in out
    _sql(tmp_path, ("DELETE FROM audit WHERE seq = ?", (count,)))
    code, out, err = run(["records", "audit", "verify", "--data-dir", str(tmp_path / "trail")], capsys)
    assert code == 2 and "audit trail" in err and "Traceback" not in err
    code, _, err = run(["records", "correct", rid, "--notes", "x", "--data-dir", str(tmp_path / "trail")], capsys)
    assert code == 2 and "stopped" in err
    code, _, err = run(["records", "audit", "acknowledge", "--data-dir", str(tmp_path / "trail")], capsys)
    assert code == 0 and "acknowledged" in err
    code, out, err = run(["records", "audit", "verify", "--data-dir", str(tmp_path / "trail")], capsys)
    assert code == 0, err
