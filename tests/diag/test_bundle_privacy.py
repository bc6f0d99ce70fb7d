"""Support bundles share exactly what was consented, nothing of a restricted record, a new
pseudonym each time, and masking catches personal data however it is spelled."""
from __future__ import annotations

import json
import re

import pytest
from test_masking import CUSTOMER, PASSPHRASE, PERSONAL, _all_texts, _find

from desktop.diag import layout
from desktop.diag.bundle import export_bundle
from desktop.diag.redact import customer_share
from desktop.records.errors import ConsentRequired
from desktop.records.service import RecordsService

SPELLINGS = [
    # phones in any spacing, with the country code as +49, 0049 or a national 0
    "+49 (30) 123 45 67", "0049-30-1234567", "030/1234567", "+4930 1234567", "030 123 4567", "49 30 12 34 567",
    # e-mails in any case
    "JOHN.SMITH@EXAMPLE.COM", "John.Smith@Example.com", "john.smith",
    # name parts in any order and case
    "SMITH, John", "john smith", "Smith",
    # street and postcode
    "Hauptstr. 5", "10115",
    # the notes, in fragments
    "dog in the GARDEN", "key under the mat",
    # precise coordinates
    "52.520008", "13.40495", "52.5200",
    # the site name
    "Seeblick Cottage",
]


@pytest.fixture
def records(tmp_path):
    service = RecordsService(tmp_path / "records", "inst-042", passphrase=PASSPHRASE, scrypt_n=2**12)
    rid = service.add_customer(CUSTOMER)
    yield service, rid
    service.close()


def _plant(diag_dirs) -> None:
    diag_dirs["logs"].mkdir(parents=True, exist_ok=True)
    lines = [f"2026-01-01 INFO x: slip number {i}: {s}\n" for i, s in enumerate(SPELLINGS)]
    (diag_dirs["logs"] / "pvdesk.log").write_text("".join(lines))


def _export(live, share, path):
    return export_bundle(path, recording_dir=live.folder, customer=share)


def test_consented_bundle_carries_exactly_the_consented_fields(live, records, tmp_path, diag_dirs):
    service, rid = records
    service.grant_consent(rid, "support_sharing", "paper")
    _plant(diag_dirs)
    result = _export(live, customer_share(service, rid), tmp_path / "consented.zip")
    texts = _all_texts(result.path)
    customer = json.loads(texts[layout.CUSTOMER])
    assert set(customer) == {"id", "name", "phone", "email", "sites"}
    assert customer["name"] == "John Smith" and customer["email"] == "john.smith@example.com"
    assert [set(s) for s in customer["sites"]] == [{"latitude", "longitude", "device_serials"}]
    assert customer["sites"][0]["latitude"] == 52.520008
    # what the consent does not name is in no file of the bundle, not even in the planted log
    for needle in ("Hauptstr", "10115", "Dog in the garden", "key under the mat", "Seeblick", "inst-042",
                   "signed_on_screen", "paper"):
        assert _find(texts, needle) == [], needle
    from desktop.records.consent import PURPOSES
    what = PURPOSES["support_sharing"].what
    assert "Name, phone, e-mail, site location and device serial numbers" in what
    assert "Not the postal address, the notes" in what


def test_restricted_record_sends_nothing_at_all(live, records, tmp_path, diag_dirs):
    service, rid = records
    service.grant_consent(rid, "support_sharing", "paper")
    service.restrict(rid)
    _plant(diag_dirs)
    share = customer_share(service, rid)
    assert share.record is None and share.consent == "restricted"
    result = _export(live, share, tmp_path / "restricted.zip")
    texts = _all_texts(result.path)
    assert layout.CUSTOMER not in texts
    leaks = {n: _find(texts, n) for n in PERSONAL + SPELLINGS + [rid]}  # (the device serial is the session's)
    assert not any(leaks.values()), {k: v for k, v in leaks.items() if v}
    assert result.manifest["personal_data"]["customer_id"] is None
    with pytest.raises(ConsentRequired, match="restricted"):
        service.record_bundle_share(rid, share.bundle_id, result.sha256(), "support")


def test_masking_catches_every_spelling_and_pseudonyms_differ(live, records, tmp_path, diag_dirs):
    service, rid = records
    _plant(diag_dirs)
    first = _export(live, customer_share(service, rid), tmp_path / "one.zip")
    second = _export(live, customer_share(service, rid), tmp_path / "two.zip")
    texts = _all_texts(first.path)
    leaks = {n: _find(texts, n) for n in SPELLINGS + PERSONAL}
    assert not any(leaks.values()), {k: v for k, v in leaks.items() if v}
    log = texts["app_log/pvdesk.log"].decode()
    assert log.count("[redacted]") >= len(SPELLINGS) and log.count("slip number") == len(SPELLINGS)
    ids = [json.loads(_all_texts(p.path)[layout.CUSTOMER])["id"] for p in (first, second)]
    assert ids[0] != ids[1] and rid not in ids and all(re.fullmatch(r"cust-[0-9a-f]{12}", i) for i in ids)
    assert first.manifest["bundle_id"] != second.manifest["bundle_id"]


def test_withdrawal_lists_bundles_and_drafts_the_deletion_request(live, records, tmp_path):
    service, rid = records
    service.set_controller(organisation="Sonnenschein Solar GmbH", dpo_contact="dpo@sonnenschein.example")
    service.grant_consent(rid, "support_sharing", "paper")
    share = customer_share(service, rid)
    result = _export(live, share, tmp_path / "sent.zip")
    service.record_bundle_share(rid, share.bundle_id, result.sha256(), "support@inverter-maker.example")
    service.withdraw_consent(rid, "support_sharing")
    shared = service.bundles_shared(rid)
    assert [b["bundle_id"] for b in shared] == [share.bundle_id]
    draft = service.deletion_request_draft(rid)
    assert draft.startswith("To: support@inverter-maker.example")
    assert share.bundle_id in draft and result.sha256() in draft and "Sonnenschein Solar GmbH" in draft
    assert "John" not in draft and "Smith" not in draft and rid not in draft
    entry = [e for e in service.audit_entries(rid) if e["action"] == "share_bundle"][0]
    assert entry["detail"] == {"bundle": share.bundle_id, "sha256": result.sha256(), "masked": False,
                               "recipient": "support@inverter-maker.example"}
