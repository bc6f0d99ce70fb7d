"""Personal data in bundles: no byte of a masked field without consent; unmasked and audited with it."""

from __future__ import annotations

import json
import re
import zipfile
import zlib

import pyarrow.parquet as pq
import pytest

from desktop.cli import main
from desktop.diag import layout
from desktop.diag.bundle import export_bundle
from desktop.diag.open import open_bundle
from desktop.diag.redact import customer_share
from desktop.records.service import RecordsService

PASSPHRASE = "correct horse battery staple"
CUSTOMER = {"name": "John Smith", "phone": "+49 30 1234567", "email": "john.smith@example.com",
            "postal_address": "Hauptstr. 5, 10115 Berlin", "notes": "Dog in the garden, key under the mat",
            "sites": [{"name": "Seeblick Cottage", "latitude": 52.520008, "longitude": 13.404954,
                       "installed_capacity_kwp": 9.8, "device_serials": ["PVD8K001A0042"]}]}
# Every personal string, and the fragments that would identify the customer on their own.
PERSONAL = ["John Smith", "John", "Smith", "+49 30 1234567", "30 1234567", "1234567", "49301234567",
            "john.smith@example.com", "john.smith", "Hauptstr", "10115", "52.520008", "13.404954", "52.5200",
            "Dog in the garden", "key under the mat", "Seeblick"]


@pytest.fixture
def records(tmp_path):
    service = RecordsService(tmp_path / "records", "inst-042", passphrase=PASSPHRASE, scrypt_n=2**12)
    rid = service.add_customer(CUSTOMER)
    yield service, rid
    service.close()


def _plant_slips(diag_dirs) -> None:
    """Personal data where it must never be (a log line, an upgrade log): the export has to scrub it."""
    diag_dirs["logs"].mkdir(parents=True, exist_ok=True)
    (diag_dirs["logs"] / "pvdesk.log").write_text(
        "2026-01-01 INFO x: call John Smith on +49 30 1234567 (Hauptstr. 5, 10115 Berlin) at 52.520008,13.404954\n")
    diag_dirs["upgrades"].mkdir(parents=True, exist_ok=True)
    (diag_dirs["upgrades"] / "u.jsonl").write_text('{"event": "start", "note": "for john.smith@example.com"}\n')


def _all_texts(path) -> dict[str, bytes]:
    """The bundle file itself, every member decompressed, and every Parquet value and metadata decoded."""
    out = {"<zip file>": path.read_bytes()}
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            data = zf.read(info)
            out[info.filename] = data
            if info.filename.endswith(".parquet"):
                import io
                table = pq.read_table(io.BytesIO(data))
                out[info.filename + " (values)"] = repr(table.to_pylist()).encode()
                out[info.filename + " (schema)"] = repr(table.schema).encode() + repr(table.schema.metadata).encode()
            if info.compress_type == zipfile.ZIP_DEFLATED:  # the stored (compressed) form as well
                out[info.filename + " (deflated)"] = zlib.compress(data)
    return out


def _find(texts: dict[str, bytes], needle: str) -> list[str]:
    pattern = re.compile(re.escape(needle.encode()), re.IGNORECASE)
    return [name for name, data in texts.items() if pattern.search(data)]


def test_no_byte_of_a_masked_field_without_consent(live, records, tmp_path, diag_dirs):
    service, rid = records
    _plant_slips(diag_dirs)
    share = customer_share(service, rid)
    assert share.masked and share.consent == "none"
    result = export_bundle(tmp_path / "masked.zip", recording_dir=live.folder, customer=share)
    texts = _all_texts(result.path)
    assert "customer.json" in texts and "app_log/pvdesk.log" in texts and "upgrade_logs/u.jsonl" in texts
    leaks = {needle: _find(texts, needle) for needle in PERSONAL}
    assert not any(leaks.values()), {k: v for k, v in leaks.items() if v}
    customer = json.loads(texts["customer.json"])
    assert customer["name"] == "***"  # fixed length: neither initials nor length
    assert customer["phone"] == "+49 ***"
    assert customer["email"] == "***@***"
    assert customer["postal_address"] == "Berlin"
    assert customer["id"] != rid and customer["id"].startswith("cust-")
    assert (customer["sites"][0]["latitude"], customer["sites"][0]["longitude"]) == (52.52, 13.4)
    assert customer["notes"] == "" and "consents" not in customer
    assert customer["sites"][0]["device_serials"] == ["PVD8K001A0042"]  # device data stays
    assert texts["app_log/pvdesk.log"] == (  # the planted slip, scrubbed; the city stays
        b"2026-01-01 INFO x: call [redacted] on [redacted] ([redacted], [redacted] Berlin) at "
        b"[redacted],[redacted]\n")
    manifest = json.loads(texts[layout.MANIFEST])
    assert manifest["personal_data"] == {"masked": True, "consent": "none", "customer_id": customer["id"]}
    assert not service.bundles_shared(rid)  # a masked bundle carries no personal data to recall


def test_consent_unmasks_and_the_share_is_audited(live, records, tmp_path):
    service, rid = records
    service.grant_consent(rid, "support_sharing", "signed_on_screen")
    service.close()
    secret = tmp_path / "pass.txt"
    secret.write_text(PASSPHRASE)
    out = tmp_path / "consented.zip"
    assert main(["diag", "export", "--recording-dir", str(live.folder), "-o", str(out), "--customer", rid,
                 "--data-dir", str(tmp_path / "records"), "--passphrase-file", str(secret),
                 "--recipient", "support@inverter-maker.example"]) == 0
    with open_bundle(out) as bundle:
        customer = bundle.json(layout.CUSTOMER)
        pseudonym = customer["id"]
        assert bundle.manifest["personal_data"] == {"masked": False, "consent": "granted", "customer_id": pseudonym}
    assert pseudonym != rid
    assert customer["name"] == "John Smith" and customer["phone"] == "+49 30 1234567"
    assert customer["sites"][0]["latitude"] == 52.520008
    again = RecordsService(tmp_path / "records", "inst-042", passphrase=PASSPHRASE)
    try:
        shared = again.bundles_shared(rid)
        import hashlib
        assert [(b["recipient"], b["sha256"]) for b in shared] == [
            ("support@inverter-maker.example", hashlib.sha256(out.read_bytes()).hexdigest())]
        again.withdraw_consent(rid, "support_sharing")
        share = customer_share(again, rid)
    finally:
        again.close()
    assert share.masked and share.consent == "withdrawn" and share.record["name"] == "***"
