"""Rotating the organisation key after a lost laptop: nothing left in the bucket (any version) opens
with the lost laptop's key, the other laptops go on after importing the new code, and the customers
the lost laptop could read are listed."""
from __future__ import annotations

import uuid

import pytest
from records_helpers import sample

from desktop.records import crypto
from desktop.records.errors import WrongSyncKey


@pytest.fixture
def versioned(moto_endpoint, s3, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    name = f"pvdesk-rot-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def _laptop(make_service, name, endpoint, bucket, code=None):
    svc = make_service(name)
    svc.configure_sync(endpoint, bucket)
    code = svc.import_sync_key(code) if code else svc.create_sync_key()
    return svc, code


def test_revoking_a_lost_laptop(make_service, moto_endpoint, versioned, s3):
    a, code = _laptop(make_service, "a", moto_endpoint, versioned)
    shared = []
    for i in (0, 2):
        rid = a.add_customer(sample(i))
        a.grant_consent(rid, "cloud_sync", "paper")
        shared.append(rid)
    local_only = a.add_customer(sample(5))
    a.sync()
    b, _ = _laptop(make_service, "b", moto_endpoint, versioned, code)
    lost, _ = _laptop(make_service, "lost", moto_endpoint, versioned, code)
    b.sync()
    lost.sync()
    lost_key = lost.sync_setup.bucket()._key
    laptops = {x["laptop"] for x in a.laptops()}
    assert lost.store.store_id in laptops and b.store.store_id in laptops

    result = a.rotate_sync_key(revoked_laptop=lost.store.store_id)
    assert sorted(r["record_id"] for r in result["readable_by_revoked"]) == sorted(shared)
    assert local_only not in {r["record_id"] for r in result["readable_by_revoked"]}
    assert {r["name"] for r in result["readable_by_revoked"]} == {sample(0)["name"], sample(2)["name"]}
    # no version of anything in the bucket opens with the lost laptop's key
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=versioned):
        for v in page.get("Versions", []):
            body = s3.get_object(Bucket=versioned, Key=v["Key"], VersionId=v["VersionId"])["Body"].read()
            with pytest.raises(crypto.InvalidTag):
                crypto.open_sealed(lost_key, body, v["Key"].encode())
    with pytest.raises(WrongSyncKey):
        lost.sync()
    # the laptop that rotated and the one that imports the new code go on
    a.update_customer(shared[0], {"notes": "after the rotation"})
    assert a.sync().uploaded == [shared[0]]
    with pytest.raises(WrongSyncKey):
        b.sync()
    b.import_sync_key(result["recovery_code"])
    report = b.sync()
    assert report.downloaded == [shared[0]] and b.get_customer(shared[0]).notes == "after the rotation"
    assert any(e["action"] == "sync_key_revoke" for e in a.audit_entries())
