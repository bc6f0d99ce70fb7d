"""The audit trail: who did what to which record, when -- tamper-evident, no personal data.

Each entry holds a sequence number, a timestamp, the installer's id, an action
name, the record's random id and a small detail object whose values must be
short identifiers or numbers (field *names*, a purpose, a count -- never a
field's value; `append` refuses anything else). Entries form a hash chain
(SHA-256 over the previous hash and the entry) and each hash is HMAC'd with
the audit key held in the keyring; the newest (seq, hash) is kept, HMAC'd, in
the meta table, so removing entries at the end is detected too. Changing,
inserting, removing or reordering entries without the keyring's audit key
makes `verify` raise AuditTampered naming the first bad entry.

An entry is written in the same SQLite transaction as the change it records.
Thread: the caller's, under the store's lock.
"""
from __future__ import annotations

import json
import re
import time

from . import crypto
from .errors import AuditTampered

ACTIONS = {
    "create", "access", "list", "search", "update", "export", "restrict", "unrestrict",
    "delete", "purge", "consent_grant", "consent_withdraw", "share_support", "sync_upload",
    "sync_download", "sync_remote_delete", "sync_conflict", "conflict_resolved",
    "document_add", "document_access", "store_open",
}
_SAFE = re.compile(r"^[A-Za-z0-9_.:\-]{0,64}$")
_GENESIS = b"\x00" * 32


def _check_detail(value, path="detail"):
    if isinstance(value, bool) or isinstance(value, (int, float)) or value is None:
        return
    if isinstance(value, str):
        if not _SAFE.match(value):
            raise ValueError(f"audit {path} must be an identifier, not free text")
        return
    if isinstance(value, (list, tuple)):
        for v in value:
            _check_detail(v, path)
        return
    if isinstance(value, dict):
        for k, v in value.items():
            _check_detail(k, path)
            _check_detail(v, f"{path}.{k}")
        return
    raise ValueError(f"audit {path} has an unsupported type")


def _canonical(seq, ts, installer, action, record_id, detail_json) -> bytes:
    return json.dumps([seq, ts, installer, action, record_id, detail_json],
                      separators=(",", ":"), ensure_ascii=True).encode()


class AuditTrail:
    def __init__(self, store) -> None:
        self.store = store

    def _head_mac(self, seq: int, h: bytes) -> bytes:
        return crypto.mac(self.store.audit_key, b"head|%d|" % seq + h)

    def append(self, action: str, installer: str, record_id: str | None = None, **detail) -> int:
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        _check_detail(detail)
        if not installer or len(installer) > 64:
            raise ValueError("the installer id must have 1 to 64 characters")
        detail_json = json.dumps(detail, sort_keys=True, separators=(",", ":"))
        with self.store.lock:
            if not self.store.in_transaction:
                with self.store.transaction():
                    return self.append(action, installer, record_id, **detail)
            row = self.store.audit_last()
            seq, prev = (row[0] + 1, row[1]) if row else (1, _GENESIS)
            ts = round(time.time(), 3)
            h = crypto.sha256(prev + _canonical(seq, ts, installer, action, record_id, detail_json))
            mac = crypto.mac(self.store.audit_key, h)
            self.store.audit_insert((seq, ts, installer, action, record_id, detail_json, prev, h, mac))
            self.store.set_meta("audit_head", f"{seq}:{h.hex()}:{self._head_mac(seq, h).hex()}")
            return seq

    def verify(self) -> int:
        """Check the whole chain; returns the number of entries, or raises AuditTampered."""
        with self.store.lock:
            rows = self.store.audit_rows()
            head = self.store.meta("audit_head")
        prev, expected_seq = _GENESIS, 1
        for seq, ts, installer, action, rid, detail, prev_hash, h, mac in rows:
            if seq != expected_seq:
                raise AuditTampered(expected_seq, "an entry is missing")
            if prev_hash != prev:
                raise AuditTampered(seq, "the chain to the previous entry is broken")
            if crypto.sha256(prev + _canonical(seq, ts, installer, action, rid, detail)) != h:
                raise AuditTampered(seq, "the entry's content does not match its hash")
            if not crypto.mac_ok(self.store.audit_key, h, mac):
                raise AuditTampered(seq, "the entry's HMAC does not match the keyring's audit key")
            prev, expected_seq = h, seq + 1
        if rows or head:
            try:
                hseq, hhash, hmac_hex = head.split(":")
                ok = crypto.mac_ok(self.store.audit_key, b"head|%d|" % int(hseq) + bytes.fromhex(hhash),
                                   bytes.fromhex(hmac_hex))
            except (AttributeError, ValueError):
                ok = False
            if not ok:
                raise AuditTampered(len(rows), "the recorded end of the trail is not authentic")
            if int(hseq) != len(rows) or bytes.fromhex(hhash) != prev:
                raise AuditTampered(len(rows) + 1, "entries at the end were removed")
        return len(rows)

    def entries(self, record_id: str | None = None, limit: int = 500) -> list[dict]:
        return self.store.audit_entries(record_id, limit)
