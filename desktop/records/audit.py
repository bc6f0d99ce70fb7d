"""The audit trail: who did what to which record, when -- tamper-evident, no personal data.

Each entry holds a sequence number, a timestamp, the installer's id, an action
name, the record's random id and a small detail object whose values must be
short identifiers or numbers (field *names*, a purpose, a count -- never a
field's value; `append` refuses anything else). Entries form a hash chain
(SHA-256 over the previous hash and the entry) and each hash is HMAC'd with
the audit key held in the keyring.

The head of the chain (count and hash, HMAC'd) is kept twice: in the
database's meta table, and *outside* the database, in the keyring (or the
passphrase key file) -- written after each commit. So cutting entries off the
end, wiping the trail or putting back an older copy of the database is caught
on the next open: the keyring remembers a longer or different chain. A
database that is ahead of the keyring by the entries of the last commit is
what a crash between the commit and the keyring write leaves, and is fine.

The trail is verified on opening (`check_on_open`), before each append (the
newest entry must still be the one this process last wrote or verified: O(1))
and in full by `verify` (`pvdesk records audit verify`). A failed check puts
the trail in the broken state: write actions raise AuditBroken and change
nothing; reads go on but are not logged into a chain that cannot be trusted
until someone acknowledges the break (`acknowledge_break`), which appends an
entry naming where it broke and re-anchors verification from there.

An entry is written in the same SQLite transaction as the change it records.
Thread: the caller's, under the store's lock.
"""
from __future__ import annotations

import hmac
import json
import re
import time

from . import crypto
from .errors import AuditBroken, AuditTampered

ACTIONS = {
    "create", "access", "list", "search", "update", "export", "restrict", "unrestrict",
    "delete", "purge", "consent_grant", "consent_withdraw", "share_support", "sync_upload",
    "sync_download", "sync_remote_delete", "sync_conflict", "conflict_resolved",
    "document_add", "document_access", "store_open", "audit_break_acknowledged",
    "request_open", "request_close", "share_bundle", "erasure_receipt", "sync_key_rotate",
    "sync_key_revoke", "controller_settings", "policy_archive",
}
# Reads: while the trail is broken they go on but are not chained (a write is refused).
READ_ACTIONS = {"access", "list", "search", "document_access", "store_open", "export"}
_SAFE = re.compile(r"^[A-Za-z0-9_.:\-]{0,64}$")
# a bundle's recipient is the manufacturer's support address (never a customer's): '@' allowed there only
_RECIPIENT = re.compile(r"^[A-Za-z0-9_.:@+\-]{1,64}$")
_GENESIS = b"\x00" * 32


def _check_detail(value, path="detail"):
    if isinstance(value, (bool, int, float)) or value is None:
        return
    if isinstance(value, str):
        if path == "detail.recipient" and _RECIPIENT.match(value):
            return
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


def _same(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


def _canonical(seq, ts, installer, action, record_id, detail_json) -> bytes:
    return json.dumps([seq, ts, installer, action, record_id, detail_json],
                      separators=(",", ":"), ensure_ascii=True).encode()


class AuditTrail:
    def __init__(self, store) -> None:
        self.store = store
        self.broken: AuditTampered | None = None
        self._head: tuple[int, bytes] | None = None  # (seq, hash) last written or verified here
        self._ext_pending = False

    # -- the head, in the database and outside it ------------------------------------
    def _head_mac(self, seq: int, h: bytes, anchor: int = 1) -> bytes:
        label = b"head|%d|" % seq if anchor == 1 else b"head|%d|%d|" % (seq, anchor)
        return crypto.mac(self.store.audit_key, label + h)

    @property
    def _ext_name(self) -> str:
        return f"{self.store.store_id}/audit-head"

    def _anchor(self) -> int:
        return int(self.store.meta("audit_anchor") or 1)

    def external_head(self) -> dict | None:
        """{"count", "hash", "anchor"} as the keyring holds it, or None; AuditTampered if forged."""
        raw = self.store.secrets.get(self._ext_name)
        if raw is None:
            return None
        try:
            doc = json.loads(raw)
            count, h, anchor = int(doc["count"]), bytes.fromhex(doc["hash"]), int(doc["anchor"])
            ok = crypto.mac_ok(self.store.audit_key, b"ext|%d|%d|" % (count, anchor) + h,
                               bytes.fromhex(doc["mac"]))
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            raise AuditTampered(0, "the keyring's record of the trail's end is not authentic")
        return {"count": count, "hash": h, "anchor": anchor}

    def _write_external(self) -> None:
        self._ext_pending = False
        if self._head is None:
            return
        seq, h = self._head
        anchor = self._anchor()
        mac = crypto.mac(self.store.audit_key, b"ext|%d|%d|" % (seq, anchor) + h)
        self.store.secrets.put(self._ext_name, json.dumps(
            {"count": seq, "hash": h.hex(), "anchor": anchor, "mac": mac.hex()}).encode())

    # -- appending --------------------------------------------------------------------
    def append(self, action: str, installer: str, record_id: str | None = None, **detail) -> int:
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        _check_detail(detail)
        if not installer or len(installer) > 64:
            raise ValueError("the installer id must have 1 to 64 characters")
        detail_json = json.dumps(detail, sort_keys=True, separators=(",", ":"))
        with self.store.lock:
            if self.broken is None:
                self._check_head()
            if self.broken is not None and action != "audit_break_acknowledged":
                if action in READ_ACTIONS:
                    return 0
                raise AuditBroken(self.broken)
            if not self.store.in_transaction:
                with self.store.transaction():
                    return self.append(action, installer, record_id, **detail)
            row = self.store.audit_last()
            seq, prev = (row[0] + 1, row[1]) if row else (1, _GENESIS)
            ts = round(time.time(), 3)
            h = crypto.sha256(prev + _canonical(seq, ts, installer, action, record_id, detail_json))
            mac = crypto.mac(self.store.audit_key, h)
            self.store.audit_insert((seq, ts, installer, action, record_id, detail_json, prev, h, mac))
            anchor = self._anchor()
            self.store.set_meta("audit_head", f"{seq}:{h.hex()}:{self._head_mac(seq, h, anchor).hex()}")
            previous = self._head
            self._head = (seq, h)
            if not self._ext_pending:
                self._ext_pending = True
                self.store.after_commit(self._write_external)
                self.store.on_rollback(lambda: self._rolled_back(previous))
            return seq

    def _rolled_back(self, previous) -> None:
        self._head, self._ext_pending = previous, False

    def _check_head(self) -> None:
        """Before an append: the newest entry must be the one this process knows (O(1))."""
        if self._head is None:
            return
        row = self.store.audit_last()
        if row is None or (row[0], row[1]) != self._head:
            self.broken = AuditTampered(self._head[0], "entries were removed or changed while the store was open")

    # -- verification -------------------------------------------------------------------
    def check_on_open(self) -> AuditTampered | None:
        """Verify the trail; a failure is kept in `broken` (writes stop) and returned."""
        try:
            self.verify()
        except AuditTampered as exc:
            self.broken = exc
        return self.broken

    def verify(self) -> int:
        """Check the chain and both heads; returns the number of entries, or raises AuditTampered."""
        with self.store.lock:
            rows = self.store.audit_rows()
            head = self.store.meta("audit_head")
            anchor = self._anchor()
            external = self.external_head()
        prev, expected_seq = _GENESIS, 1
        for seq, ts, installer, action, rid, detail, prev_hash, h, mac in rows:
            if seq < anchor:  # before an acknowledged break: kept for inspection, not re-verified
                prev, expected_seq = h, seq + 1
                continue
            if seq != expected_seq and (seq > anchor or anchor == 1):
                raise AuditTampered(expected_seq, "an entry is missing")
            if seq >= anchor:
                if seq > anchor and prev_hash != prev or seq == anchor == 1 and prev_hash != _GENESIS:
                    raise AuditTampered(seq, "the chain to the previous entry is broken")
                if crypto.sha256(prev_hash + _canonical(seq, ts, installer, action, rid, detail)) != h:
                    raise AuditTampered(seq, "the entry's content does not match its hash")
                if not crypto.mac_ok(self.store.audit_key, h, mac):
                    raise AuditTampered(seq, "the entry's HMAC does not match the keyring's audit key")
            prev, expected_seq = h, seq + 1
        count = rows[-1][0] if rows else 0  # the last seq (a break acknowledged may leave gaps)
        by_seq = {r[0]: r[7] for r in rows}
        if external is not None:
            if external["count"] > count:
                raise AuditTampered(count + 1, f"the trail ends after {count} entries but the keyring "
                                    f"recorded {external['count']}: entries were cut off or an older "
                                    "copy of the database was put back")
            if external["count"] and by_seq.get(external["count"]) != external["hash"] \
                    or external["anchor"] != anchor:
                raise AuditTampered(external["count"], "the trail differs from the one the keyring "
                                    "recorded: it was rolled back or replaced")
        if rows or head:
            try:
                hseq, hhash, hmac_hex = head.split(":")
                ok = _same(self._head_mac(int(hseq), bytes.fromhex(hhash), anchor), bytes.fromhex(hmac_hex))
            except (AttributeError, ValueError):
                ok = False
            if not ok:
                raise AuditTampered(count, "the recorded end of the trail is not authentic")
            if int(hseq) != count or bytes.fromhex(hhash) != prev:
                raise AuditTampered(count + 1, "entries at the end were removed")
        with self.store.lock:
            self._head = (rows[-1][0], rows[-1][7]) if rows else None
            if rows and (external is None or external["count"] != count):
                self._write_external()  # catch up after a crash between commit and keyring write
        return len(rows)

    # -- signed checkpoints in the sync bucket ------------------------------------------------
    def checkpoint(self) -> dict:
        """The current head, HMAC'd with the audit key, for the bucket (checkpoints/<store id>)."""
        with self.store.lock:
            row = self.store.audit_last()
        count, h = (row[0], row[1]) if row else (0, _GENESIS)
        mac = crypto.mac(self.store.audit_key, b"checkpoint|%d|" % count + h)
        return {"count": count, "hash": h.hex(), "mac": mac.hex()}

    def check_checkpoint(self, doc: dict | None) -> None:
        """A checkpoint from the bucket must be authentic and a prefix of the local trail."""
        if not doc or self.broken is not None:
            return
        try:
            count, h = int(doc["count"]), bytes.fromhex(doc["hash"])
            ok = _same(crypto.mac(self.store.audit_key, b"checkpoint|%d|" % count + h), bytes.fromhex(doc["mac"]))
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok:
            self.broken = AuditTampered(0, "the checkpoint in the sync bucket is not authentic")
        elif count and self.store.audit_hash_at(count) != h:
            self.broken = AuditTampered(count, "the trail differs from the checkpoint this laptop left in "
                                        "the sync bucket: it was cut off or rolled back")

    def acknowledge_break(self, installer: str) -> int:
        """Someone looked at the break: record it, re-anchor the chain here, allow writes again."""
        if self.broken is None:
            return 0
        with self.store.lock:
            rows = self.store.audit_rows()
            at = self.broken.seq
            with self.store.transaction():
                last = rows[-1] if rows else None
                self._head = (last[0], last[7]) if last else None
                self.store.set_meta("audit_anchor", str((last[0] if last else 0) + 1))
                self.broken, broken = None, self.broken
                try:
                    seq = self.append("audit_break_acknowledged", installer, None, break_at=at,
                                      entries_found=len(rows))
                except BaseException:
                    self.broken = broken
                    raise
        return seq

    def entries(self, record_id: str | None = None, limit: int = 500) -> list[dict]:
        return self.store.audit_entries(record_id, limit)
