"""Rotating or revoking the organisation sync key (a laptop lost or stolen, a colleague gone).

`rotate_org_key` makes a new organisation key and re-seals, under it, every
object in the bucket that the old key opened: each record's bucket data key
(keys/<id>), the key check, tombstones, confirmations, checkpoints and the
laptop registry. Every old version of those objects is deleted first, so
the old key opens nothing that is left in the bucket. The records
themselves stay sealed under their own data keys and are not re-encrypted.

What it cannot undo is what the revoked laptop already read: the result
lists every customer whose record key that laptop could unwrap (every
record in the bucket while it held the key), for the controller's breach
assessment. The other laptops then get "wrong sync key" until they import
the new recovery code. The new key is kept in the keyring before the first
object is re-sealed, so a rotation cut short resumes where it stopped. Thread: a worker (network I/O).
"""
from __future__ import annotations

import logging

from . import crypto, synckey

log = logging.getLogger(__name__)
_KEEP_SEALED_BY_RECORD_KEY = "/records/"


def rotate_org_key(setup, audit, installer: str, names_of, *, revoked_laptop: str | None = None) -> dict:
    """New organisation key; returns {"recovery_code", "fingerprint", "resealed", "readable_by_revoked"}."""
    from .remote import Bucket
    old = setup.bucket()
    old.check_key()
    old.check_versions()
    readable = sorted(old.list_names("keys"))
    staged = setup.secrets.get(setup._name("sync-key-next"))
    new_key = staged or crypto.new_key()
    if staged is None:  # kept before the first object is re-sealed: a crash midway can resume
        setup.secrets.put(setup._name("sync-key-next"), new_key)
    access, secret = setup.credentials()
    new = Bucket(setup.target(), new_key, access, secret)
    new.versioned = old.versioned
    prefix = old.base + "/"
    resealed = 0
    for key in sorted(old._list_all()):
        if _KEEP_SEALED_BY_RECORD_KEY in key or key.endswith("/probe/version-delete"):
            continue
        body = old._call(old.s3.get_object, Key=key)["Body"].read()
        try:
            plain = crypto.open_sealed(old._key, body, key.encode())
        except crypto.InvalidTag:
            continue  # re-sealed already by an interrupted rotation (or damaged: left as it is)
        old.purge_versions(key)
        new._call(new.s3.put_object, Key=key, Body=new._seal(key, plain))
        resealed += 1
    setup.replace_key(new_key)
    setup.secrets.delete(setup._name("sync-key-next"))
    action = "sync_key_revoke" if revoked_laptop else "sync_key_rotate"
    detail = {"resealed": resealed, "records_exposed": len(readable)}
    if revoked_laptop:
        detail["laptop"] = revoked_laptop
    audit.append(action, installer, None, **detail)
    log.info("organisation sync key rotated: %d object(s) resealed", resealed)
    names = names_of(readable)
    return {"recovery_code": synckey.to_recovery_code(new_key), "fingerprint": synckey.fingerprint(new_key),
            "resealed": resealed, "prefix": prefix,
            "readable_by_revoked": [{"record_id": rid, "name": names.get(rid)} for rid in readable]}
