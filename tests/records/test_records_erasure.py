"""Erasure that reaches the bucket's history: a real S3 endpoint (moto, 127.0.0.1) with versioning on.

After delete, withdraw and purge, no version of the record left in the bucket decrypts with any
key PVDesk still holds; the receipt lists what was destroyed; a bucket that keeps versions it
cannot delete is refused before anything is uploaded.
"""
from __future__ import annotations

import json
import time
import uuid

import pytest
from records_helpers import sample

from desktop.records import crypto
from desktop.records.errors import VersionsKept

OLD = time.time() - 4000 * 86400


@pytest.fixture
def versioned(moto_endpoint, s3, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    name = f"pvdesk-ver-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def _laptop(make_service, name, endpoint, bucket, code=None, **kw):
    svc = make_service(name, **kw)
    svc.configure_sync(endpoint, bucket)
    code = svc.import_sync_key(code) if code else svc.create_sync_key()
    return svc, code


def _every_version(s3, bucket):
    out = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for v in page.get("Versions", []):
            body = s3.get_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])["Body"].read()
            out.append((v["Key"], v["VersionId"], body))
    return out


def _readable(services, s3, bucket) -> list[bytes]:
    """Every plaintext any version of any object yields under any key the laptops still hold."""
    org_keys = [svc.sync_setup.bucket()._key for svc in services]
    versions = _every_version(s3, bucket)
    dks = [k for svc in services for k in svc.store.data_keys.values()]
    for name, _, body in versions:  # the record keys the organisation key still unwraps
        for key in org_keys:
            try:
                candidate = crypto.open_sealed(key, body, name.encode())
            except crypto.InvalidTag:
                continue
            if len(candidate) == 32:
                dks.append(candidate)
    plain = []
    for name, _, body in versions:
        for key in org_keys + dks:
            try:
                plain.append(crypto.open_sealed(key, body, name.encode()))
            except crypto.InvalidTag:
                pass
    return plain


def _share(svc, data) -> str:
    rid = svc.add_customer(data)
    svc.grant_consent(rid, "cloud_sync", "paper")
    return rid


@pytest.mark.parametrize("how", ["delete", "withdraw", "purge"])
def test_no_version_of_an_erased_record_decrypts(make_service, moto_endpoint, versioned, s3, how):
    a, code = _laptop(make_service, "a", moto_endpoint, versioned, clock=lambda: OLD)
    victim, _keeper = _share(a, sample()), _share(a, sample(4))
    a.sync()
    a.close()
    a, _ = _laptop(make_service, "a", moto_endpoint, versioned, code=code)
    a.update_customer(victim, {"notes": "second version of the notes"})
    a.sync()  # the bucket now holds two versions of the victim's record
    b, _ = _laptop(make_service, "b", moto_endpoint, versioned, code=code)
    b.sync()
    assert b.get_customer(victim).notes == "second version of the notes"
    versions_before = [k for k, _, _ in _every_version(s3, versioned) if victim in k]
    assert sum(k.endswith(f"records/{victim}") for k in versions_before) >= 2
    before = _readable([a, b], s3, versioned)
    assert any(b"Quellenbach" in p for p in before), "the checker must see the victim before"

    if how == "delete":
        receipt = a.delete(victim)
    elif how == "withdraw":
        a.withdraw_consent(victim, "cloud_sync")
        receipt = None
    else:
        assert victim in a.expired()
        a.purge_expired([victim])
        receipt = a.erasure_receipt(victim)
    b.sync()  # b applies the tombstone (deletion) or the withdrawal
    if how != "withdraw":
        assert victim not in b.records

    after = _readable([a, b], s3, versioned)
    assert not any(b"Quellenbach" in p or victim.encode() in p and b"Lindenweg" in p for p in after)
    assert [k for k, _, _ in _every_version(s3, versioned)
            if k.endswith(f"records/{victim}") or k.endswith(f"keys/{victim}")] == []
    assert any(b"Zebrafink" in p for p in after), "the other customer is still in the bucket"
    if receipt is not None:
        receipt = a.erasure_receipt(victim)
        deleted = {(v["key"].rsplit("/", 2)[-2], v["version"]) for v in receipt["bucket"]["versions_deleted"]}
        assert sum(1 for f, _ in deleted if f == "records") >= 2 and any(f == "keys" for f, _ in deleted)
        assert receipt["local"]["data_key"] == "destroyed" and "Quellenbach" not in json.dumps(receipt)
        a.sync()  # collects b's confirmation of the tombstone
        laptops = [x["laptop"] for x in a.erasure_receipt(victim)["laptops_confirmed"]]
        assert laptops == [b.store.store_id]


def test_bucket_that_keeps_versions_is_refused(make_service, moto_endpoint, s3, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    name = f"pvdesk-lock-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    a, _ = _laptop(make_service, "a", moto_endpoint, name)
    _share(a, sample())
    with pytest.raises(VersionsKept) as err:
        a.sync()
    assert "keeps old versions" in str(err.value) and "nothing was uploaded" in str(err.value)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=name).get("Contents", [])]
    assert not any("/records/" in k or "/keys/" in k for k in keys)
