"""Controller settings: organisation, data-protection contact, the policy text archived by hash,
a new version asks again, the bucket's region in the consent text; all of it in exports."""
from __future__ import annotations

import json

import pytest
from records_helpers import sample

from desktop.records.errors import ValidationError


def test_policy_versions_are_archived_and_ask_again(make_service):
    svc = make_service()
    svc.set_controller(organisation="Sonnenschein Solar GmbH", dpo_contact="dpo@sonnenschein.example",
                       policy_version="2026-03", policy_text="Policy text A")
    rid = svc.add_customer(sample())
    svc.grant_consent(rid, "cloud_sync", "paper")
    assert svc.consent_status(rid, "cloud_sync") == "granted"
    with pytest.raises(ValidationError):
        svc.set_controller(policy_version="2026-03", policy_text="Policy text A, quietly changed")
    with pytest.raises(ValidationError):
        svc.set_controller(policy_version="2026-09")  # a new version needs its text
    svc.set_controller(policy_version="2026-09", policy_text="Policy text B")
    assert svc.consent_status(rid, "cloud_sync") == "renew" and svc.sync_status(rid) == "renew"
    archive = svc.policy_archive()
    assert set(archive) == {"2026-03", "2026-09"} and archive["2026-03"]["text"] == "Policy text A"
    assert len(archive["2026-09"]["sha256"]) == 64
    svc.close()
    again = make_service()  # the version is a setting of the store, not of the code
    assert again.policy_version == "2026-09" and again.consent_status(rid, "cloud_sync") == "renew"
    doc = json.loads(again.export_json(rid))
    assert doc["controller"]["organisation"] == "Sonnenschein Solar GmbH"
    assert doc["controller"]["dpo_contact"] == "dpo@sonnenschein.example"
    assert doc["controller"]["policy_version"] == "2026-09"
    assert doc["policies"]["2026-03"]["text"] == "Policy text A"  # what the customer agreed to


def test_consent_text_names_the_bucket_region(make_service):
    svc = make_service()
    assert "not set up" in svc.consent_text("cloud_sync")["where"]
    svc.configure_sync("https://s3.eu-central-1.example.com", "pvdesk-org", region="eu-central-1")
    text = svc.consent_text("cloud_sync")
    assert "Region: eu-central-1." in text["where"] and text["controller"] == "(organisation not set)"
