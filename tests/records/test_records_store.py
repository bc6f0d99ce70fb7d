"""The encrypted store: round trip, nothing readable on disk, tamper and key handling."""
from __future__ import annotations

import shutil
import sqlite3

import pytest
from records_helpers import assert_no_plaintext, files_bytes, sample

from desktop.records import crypto
from desktop.records.errors import (
    KeyringUnavailable,
    MasterKeyMissing,
    PassphraseRequired,
    RecordCorrupt,
    RecordRestricted,
    ValidationError,
    WrongPassphrase,
)
from desktop.records.keys import KeyringSecrets
from desktop.records.service import RecordsService


def db_files(data_dir):
    return [data_dir / "records.db", data_dir / "records.db-wal", data_dir / "records.db-journal",
            data_dir / "records.db-shm"]


def test_round_trip_and_reopen(make_service, tmp_path):
    svc = make_service()
    rid = svc.add_customer(sample())
    site_id = svc.get_customer(rid).sites[0].site_id
    doc = svc.attach_document(rid, site_id, "commissioning_report", b"%PDF-1.7 report", "report.pdf")
    svc.close()
    again = make_service()
    c = again.get_customer(rid)
    assert c.name == "Margarethe Quellenbach"
    assert c.sites[0].installed_capacity_kwp == pytest.approx(9.86)
    assert c.sites[0].device_serials == ["HYB8K-2291-77A1", "BAT5-9981-X"]
    assert again.get_document(rid, doc) == b"%PDF-1.7 report"
    assert [s.id for s in again.search("quellen berlin")] == [rid]
    assert again.search("nobody-like-this") == []


def test_database_files_hold_no_plaintext(make_service, tmp_path):
    svc = make_service()
    data = sample()
    rid = svc.add_customer(data)
    svc.update_customer(rid, {"notes": data["notes"] + " (updated)"})
    site_id = svc.get_customer(rid).sites[0].site_id
    svc.attach_document(rid, site_id, "commissioning_report", b"%PDF Inbetriebnahmeprotokoll Quellenbach",
                        "Protokoll-Quellenbach.pdf")
    svc.search("Quellenbach")
    # WAL not yet checkpointed: check the -wal too, then after close
    assert_no_plaintext(files_bytes(*db_files(tmp_path / "laptop-a")), data, "database/WAL")
    assert b"Inbetriebnahmeprotokoll" not in files_bytes(*db_files(tmp_path / "laptop-a"))
    svc.close()
    assert_no_plaintext(files_bytes(*db_files(tmp_path / "laptop-a")), data, "database")


def test_deleted_record_cannot_be_recovered_from_an_old_copy(make_service, tmp_path, keyring_dir):
    svc = make_service()
    data = sample()
    victim = svc.add_customer(data)
    keeper = svc.add_customer(sample(1))
    svc.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    backup = tmp_path / "backup.db"
    shutil.copy(tmp_path / "laptop-a" / "records.db", backup)
    svc.delete(victim)
    assert victim not in [s.id for s in svc.list_customers()]
    # attacker: the old file and every key the keyring now holds
    old = sqlite3.connect(backup)
    blob, = old.execute("SELECT blob FROM records WHERE id=?", (victim,)).fetchone()
    wrapped, slot = old.execute("SELECT wrapped, slot FROM keys WHERE record_id=?", (victim,)).fetchone()
    old.close()
    assert svc.store.bag.secret(slot) is None and svc.store.bag.is_destroyed(slot)
    secrets = KeyringSecrets("PVDesk")
    store_id = svc.store.store_id
    master = secrets.get(f"{store_id}/master/1")
    assert master == svc.store.master, "the master key is never rotated by a deletion"
    chunk = secrets.get(f"{store_id}/shred/{slot // 32}")
    candidates = [chunk[i:i + 32] for i in range(0, len(chunk), 32)]
    for secret in candidates:
        with pytest.raises(crypto.InvalidTag):
            crypto.open_sealed(crypto.derive(master + secret, "records/wrap2/" + victim), wrapped,
                               b"dk|" + victim.encode())
    assert b"Quellenbach" not in blob
    svc.close()
    # the backup, put back in place of the live database, opens for the other customer only
    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copy(backup, restored / "records.db")
    from desktop.records.service import RecordsService
    old_copy = RecordsService(restored, "inst-1")
    try:
        assert old_copy.get_customer(keeper).name == "Kundin Nummer00001 Zebrafink"
        assert victim not in old_copy.records and old_copy.erased == [victim]
        assert old_copy.audit_break and "older copy" in old_copy.audit_break  # a rollback, and said so
        assert any(victim in line and "deleted" in line for line in old_copy.integrity_report())
    finally:
        old_copy.close()
    assert make_service().get_customer(keeper).name == "Kundin Nummer00001 Zebrafink"


def test_tampered_ciphertext_is_reported_and_nothing_is_lost(make_service, tmp_path):
    svc = make_service()
    bad = svc.add_customer(sample())
    good = svc.add_customer(sample(2))
    svc.close()
    db = sqlite3.connect(tmp_path / "laptop-a" / "records.db")
    blob, = db.execute("SELECT blob FROM records WHERE id=?", (bad,)).fetchone()
    flipped = bytearray(blob)
    flipped[20] ^= 0x01
    db.execute("UPDATE records SET blob=? WHERE id=?", (bytes(flipped), bad))
    db.commit()
    db.close()
    svc = make_service()
    assert svc.corrupt == [bad]
    with pytest.raises(RecordCorrupt) as err:
        svc.get_customer(bad)
    assert bad in str(err.value) and "integrity" in str(err.value) and "Quellenbach" not in str(err.value)
    assert svc.get_customer(good).email == "kundin2@example.net"
    # the damaged row is still there, byte for byte, for a restore attempt
    db = sqlite3.connect(tmp_path / "laptop-a" / "records.db")
    assert db.execute("SELECT blob FROM records WHERE id=?", (bad,)).fetchone()[0] == bytes(flipped)


def test_passphrase_mode(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    svc = RecordsService(tmp_path / "p", "inst-1", passphrase="correct horse battery", scrypt_n=2**12)
    rid = svc.add_customer(sample())
    svc.delete(svc.add_customer(sample(3)))
    svc.close()
    assert b"Quellenbach" not in (tmp_path / "p" / "master.key").read_bytes()
    with pytest.raises(WrongPassphrase) as err:
        RecordsService(tmp_path / "p", "inst-1", passphrase="wrong horse battery")
    assert "passphrase does not unlock" in str(err.value)
    with pytest.raises(PassphraseRequired):
        RecordsService(tmp_path / "p", "inst-1")
    again = RecordsService(tmp_path / "p", "inst-1", passphrase="correct horse battery")
    assert again.get_customer(rid).phone == "+49 30 98765432"
    again.close()


def test_no_keyring_backend_is_a_clear_error_never_plaintext(tmp_path, monkeypatch):
    import keyring
    from keyring.backends import fail

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    with pytest.raises(KeyringUnavailable) as err:
        RecordsService(tmp_path / "nokr", "inst-1")
    msg = str(err.value)
    assert "GNOME Keyring" in msg and "Windows Credential Manager" in msg and "passphrase" in msg
    assert not (tmp_path / "nokr" / "records.db").exists()


def test_plaintext_keyring_is_refused_unless_chosen(tmp_path, monkeypatch):
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
    with pytest.raises(KeyringUnavailable) as err:
        RecordsService(tmp_path / "x", "inst-1")
    assert "unencrypted" in str(err.value)


def test_missing_master_key_is_named(make_service, keyring_dir, tmp_path):
    svc = make_service()
    svc.add_customer(sample())
    store_id = svc.store.store_id
    svc.close()
    KeyringSecrets("PVDesk").delete(f"{store_id}/master/1")
    with pytest.raises(MasterKeyMissing) as err:
        RecordsService(tmp_path / "laptop-a", "inst-1")
    assert "keyring" in str(err.value)


def test_validation_and_optional_fields(make_service):
    svc = make_service()
    rid = svc.add_customer({"name": "Only Name"})
    assert svc.get_customer(rid).email == ""
    for bad, word in (({"name": ""}, "name"), ({"name": "A", "email": "not-an-email"}, "e-mail"),
                      ({"name": "A", "phone": "call me"}, "phone"),
                      ({"name": "A", "sites": [{"name": "S", "latitude": 95, "longitude": 1}]}, "latitude")):
        with pytest.raises(ValidationError) as err:
            svc.add_customer(bad)
        assert word in str(err.value)
        assert "not-an-email" not in str(err.value) and "call me" not in str(err.value)


def test_restricted_record_is_kept_but_frozen(make_service):
    svc = make_service()
    rid = svc.add_customer(sample())
    svc.restrict(rid)
    with pytest.raises(RecordRestricted):
        svc.update_customer(rid, {"notes": "x"})
    with pytest.raises(RecordRestricted):
        svc.grant_consent(rid, "cloud_sync", "paper")
    assert svc.get_customer(rid).name == "Margarethe Quellenbach"
    assert svc.sync_status(rid) == "restricted"
    assert svc.has_support_consent(rid) is False
    svc.unrestrict(rid)
    svc.update_customer(rid, {"notes": "ok"})
    assert svc.get_customer(rid).notes == "ok"


def test_passphrase_given_for_a_keyring_store_is_explained(make_service, tmp_path):
    make_service().close()
    from desktop.records.errors import RecordsError
    with pytest.raises(RecordsError) as err:
        RecordsService(tmp_path / "laptop-a", "inst-1", passphrase="whatever passphrase")
    assert "keyring" in str(err.value)


def test_damaged_database_file_is_named_and_left_alone(tmp_path):
    from desktop.records.errors import RecordsError
    d = tmp_path / "broken"
    d.mkdir()
    junk = b"this is not an sqlite file" * 100
    (d / "records.db").write_bytes(junk)
    with pytest.raises(RecordsError) as err:
        RecordsService(d, "inst-1")
    assert "damaged" in str(err.value) and "backup" in str(err.value)
    assert (d / "records.db").read_bytes() == junk


def test_a_store_opens_once_at_a_time(make_service, tmp_path):
    from desktop.records.errors import StoreBusy
    first = make_service()
    with pytest.raises(StoreBusy) as err:
        RecordsService(tmp_path / "laptop-a", "inst-2")
    assert "open in another PVDesk window" in str(err.value)
    first.close()
    RecordsService(tmp_path / "laptop-a", "inst-2").close()
