"""The sync algorithm: push consented changes, remove withdrawn ones, pull, detect conflicts.

One pass (`run_sync`):
 0. Nothing consented, nothing queued for removal and no pull asked for:
    return at once -- not a single connection is opened.
 1. Check the organisation key against the bucket's keycheck object
    (a wrong key stops here, before anything is written).
 2. Remove queued remote copies (consent withdrawn, record restricted or
    deleted) and leave a sealed tombstone so other laptops follow suit.
 3. Apply other laptops' tombstones to local records.
 4. For each record whose customer consented to cloud sync and that is not
    restricted: if it changed here, upload it conditionally (IfMatch on the
    ETag last seen, IfNoneMatch="*" for a first upload); a 412 means another
    laptop changed it meanwhile -- the remote version is kept aside as a
    conflict and nothing is overwritten. If it did not change here but the
    remote ETag moved on, download it.
 5. With pull, download records other laptops shared that are not here yet.
An unreachable endpoint ends the pass as "offline"; everything stays queued
(dirty flags, pending removals) and the next pass catches up.

`SyncEngine` works over the store (rows, via its named methods), the audit
trail, the shared in-memory RecordCache and the bucket that SyncSetup builds;
it knows nothing of RecordsService. A deletion tombstone from another laptop
is applied through the `destroy` callable it is given (the service's eraser).

Thread: a worker thread (network I/O). Local state is changed under the
store's lock, never held across a network call.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from . import consent as consent_mod
from . import receipt as receipt_mod
from .errors import AuditBroken, RecordsError, RemoteCorrupt, SyncOffline
from .model import Customer
from .remote import PreconditionFailed
from .sync_config import SyncSetup

log = logging.getLogger(__name__)


@dataclass
class SyncReport:
    connected: bool = False
    offline: bool = False
    uploaded: list[str] = field(default_factory=list)
    downloaded: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    message: str = ""

    def summary(self) -> str:
        if self.offline:
            return "Offline: " + self.message
        if not self.connected:
            return "Nothing to sync (no record has cloud-sync consent)."
        text = (f"{len(self.uploaded)} uploaded, {len(self.downloaded)} downloaded, "
                f"{len(self.removed)} removed, {len(self.conflicts)} conflict(s)")
        if self.failed:
            text += f", {len(self.failed)} remote object(s) failed their integrity check"
        return text


class SyncEngine:
    def __init__(self, store, audit, cache, setup: SyncSetup, *, installer: str, clock,
                 destroy) -> None:
        self.store, self.audit, self.cache, self.setup = store, audit, cache, setup
        self.lock = store.lock
        self.installer = installer
        self.clock = clock
        self.destroy = destroy  # destroy(rids, action, remove_remote=False)

    # -- removal of remote copies ---------------------------------------------------
    def queue_removal(self, rid: str, reason: str) -> None:
        """Queue removal of the bucket copy (inside a transaction) -- only if one ever existed:
        a record that was never shared causes no connection, not even to say it is gone."""
        if self.store.ever_synced(rid):
            self.store.queue_remote_removal(rid, reason, self.clock())

    def remove_pending(self, bucket, only: str | None = None) -> list[str]:
        """Remove queued remote copies and leave tombstones. Returns the ids done."""
        done = []
        for rid, reason, at in self.store.pending_removals():
            if only is not None and rid != only:
                continue
            versions = bucket.delete_record(rid)
            bucket.put_tombstone(rid, reason, at)
            with self.store.transaction():
                self.store.drop_pending_removal(rid)
                doc = self.store.receipt(rid)
                if doc is not None and reason == "deleted":
                    self.store.put_receipt(rid, receipt_mod.bucket_done(doc, versions, self.clock()))
                if rid in self.cache.records:
                    self.store.set_sync(rid, remote_etag=None, dirty=True, sync_state="local")
                self.audit.append("sync_remote_delete", self.installer, rid, reason=reason)
            done.append(rid)
        return done

    def remove_now(self, rid: str) -> bool:
        """Try to remove the remote copy at once; stays queued if offline. True if done."""
        if not self.setup.ready() or rid not in {r[0] for r in self.store.pending_removals()}:
            return False
        try:
            return bool(self.remove_pending(self.setup.bucket(), only=rid))
        except SyncOffline:
            log.info("remote removal of %s queued: endpoint offline", rid)
            return False

    # -- local side of a transfer -------------------------------------------------------
    def _snapshot(self, rid: str):
        with self.lock:
            c = self.cache.records.get(rid)
            row = self.store.version_row(rid)
        return (c.to_dict() if c else None), row

    def _store_remote(self, payload: dict, etag: str, action: str) -> None:
        c = Customer.from_dict(payload)
        with self.lock:
            with self.store.transaction():
                self.store.put(c, dirty=False, remote_etag=etag, sync_state="synced")
                self.audit.append(action, self.installer, c.id)
            self.cache.put(c)

    def _keep_conflict(self, bucket, rid: str, report: SyncReport) -> None:
        payload, etag = bucket.get_record(rid)
        with self.store.transaction():
            self.store.put_conflict(rid, etag, payload)
            self.audit.append("sync_conflict", self.installer, rid)
        report.conflicts.append(rid)
        log.warning("sync conflict on record %s: kept both versions", rid)

    def _upload(self, bucket, rid: str, payload: dict, version: int, if_match: str | None,
                tombstoned: bool) -> str:
        etag = bucket.put_record(rid, payload, if_match=if_match)
        if tombstoned:
            bucket.delete_tombstone(rid)
        with self.store.transaction():
            self.store.mark_uploaded(rid, version, etag)
            self.audit.append("sync_upload", self.installer, rid)
        return etag

    def _apply_tombstone(self, rid: str, tomb: dict) -> None:
        c = self.cache.records.get(rid)
        if c is None:
            return
        reason, at = tomb.get("reason"), float(tomb.get("at", 0))
        if reason == "deleted":
            self.destroy([rid], "delete", remove_remote=False)
            self._confirm_tombstone(rid)
            return
        pv = self.cache.policy_version
        if reason == "restricted" and c.restricted:
            return
        if reason == "withdrawn" and consent_mod.status(c.consents, "cloud_sync", pv) != "granted":
            return
        entry = consent_mod.latest(c.consents, "cloud_sync")
        if entry and entry.get("granted_at", 0) > at:
            return  # consent given again here after the tombstone: this laptop's view wins
        changed = Customer.from_dict(c.to_dict())
        changed.updated_at = at
        if reason == "withdrawn":
            consent_mod.withdraw(changed.consents, "cloud_sync", self.installer, at=at)
        elif reason == "restricted":
            changed.restricted = True
        with self.lock:
            with self.store.transaction():
                self.store.put(changed, dirty=False, sync_state="local")
                self.store.set_sync(rid, remote_etag=None)
                self.audit.append("consent_withdraw" if reason == "withdrawn" else "restrict",
                                  self.installer, rid, via="sync")
            self.cache.put(changed)

    def _confirm_tombstone(self, rid: str) -> None:
        bucket = self.setup.bucket()
        bucket.put_json("confirmations", f"{rid}/{self.store.store_id}", {"at": self.clock()})

    def _collect_confirmations(self, bucket) -> None:
        for doc in self.store.open_receipts():
            rid = doc["record_id"]
            laptops = {}
            for name in bucket.list_names(f"confirmations/{rid}"):
                c = bucket.get_json(f"confirmations/{rid}", name) or {}
                laptops[name] = float(c.get("at", 0))
            if laptops and len(laptops) != len(doc["laptops_confirmed"]):
                with self.store.transaction():
                    self.store.put_receipt(rid, receipt_mod.confirmed(doc, laptops))

    # -- one pass -------------------------------------------------------------------------
    def run(self, *, pull: bool = True) -> SyncReport:
        report = SyncReport()
        with self.lock:
            eligible = [rid for rid in self.cache.records if self.cache.eligible(rid)]
            pending = len(self.store.pending_removals())
        if not eligible and not pending and not pull:
            return report
        if self.audit.broken is not None:
            raise AuditBroken(self.audit.broken)
        bucket = self.setup.bucket()
        try:
            bucket.check_key()
            bucket.check_versions()  # a bucket that keeps versions it cannot delete is refused here
            self.audit.check_checkpoint(bucket.get_json("checkpoints", self.store.store_id))
            if self.audit.broken is not None:
                raise AuditBroken(self.audit.broken)
            report.connected = True
            report.removed += self.remove_pending(bucket)
            remote = bucket.list_records()
            tombs = bucket.list_tombstones()
            with self.lock:
                local = set(self.cache.records)
            for rid in tombs:
                if rid in local:
                    try:
                        self._apply_tombstone(rid, bucket.get_tombstone(rid))
                    except RemoteCorrupt:
                        report.failed.append(rid)
            for rid in eligible:
                self._push_or_fetch(bucket, rid, remote, tombs, report)
            if pull:
                self._pull_new(bucket, remote, tombs, report)
            self._collect_confirmations(bucket)
            bucket.put_json("checkpoints", self.store.store_id, self.audit.checkpoint())
            bucket.put_json("laptops", self.store.store_id, {"installer": self.installer, "last_seen": self.clock(),
                                                             "key": self.setup.fingerprint()})
        except SyncOffline as exc:
            report.offline, report.message = True, str(exc)
        log.info("sync: %s", report.summary())
        return report

    def _push_or_fetch(self, bucket, rid: str, remote: dict, tombs: dict, report: SyncReport) -> None:
        if not self.cache.eligible(rid):
            return
        payload, row = self._snapshot(rid)
        if payload is None or row is None or row[3] == "conflict":
            return
        version, dirty, base, _ = row
        r_etag = remote.get(rid)
        try:
            if dirty or r_etag is None:
                if r_etag is not None and base is None:
                    raise PreconditionFailed()
                self._upload(bucket, rid, payload, version, r_etag and base, rid in tombs)
                report.uploaded.append(rid)
            elif r_etag != base:
                data, etag = bucket.get_record(rid)
                if data.get("id") != rid:
                    raise RemoteCorrupt(f"records/{rid}")
                self._store_remote(data, etag, "sync_download")
                report.downloaded.append(rid)
        except PreconditionFailed:
            try:
                self._keep_conflict(bucket, rid, report)
            except RemoteCorrupt:
                report.failed.append(rid)
        except RemoteCorrupt:
            report.failed.append(rid)
        except KeyError:  # vanished between list and write: next pass sees the tombstone
            pass

    def _pull_new(self, bucket, remote: dict, tombs: dict, report: SyncReport) -> None:
        with self.lock:
            local = set(self.cache.records) | set(self.cache.corrupt)
        for rid in sorted(set(remote) - local - set(tombs)):
            try:
                data, etag = bucket.get_record(rid)
            except RemoteCorrupt:
                report.failed.append(rid)
                continue
            if data.get("id") != rid:
                report.failed.append(rid)
                continue
            self._store_remote(data, etag, "sync_download")
            report.downloaded.append(rid)

    # -- conflicts ------------------------------------------------------------------------
    def resolve(self, rid: str, keep: str) -> None:
        kept = self.store.conflict(rid)
        if kept is None:
            raise RecordsError(f"Customer record {rid} has no sync conflict to resolve.")
        r_etag, data = kept
        if keep == "remote":
            self._store_remote(data, r_etag, "conflict_resolved")
        else:
            payload, srow = self._snapshot(rid)
            bucket = self.setup.bucket()
            try:
                self._upload(bucket, rid, payload, srow[0], r_etag, False)
            except PreconditionFailed:
                self._keep_conflict(bucket, rid, SyncReport())
                raise RecordsError(f"Customer record {rid} changed again on another laptop; "
                                   "compare the versions once more.") from None
            self.audit.append("conflict_resolved", self.installer, rid, keep="local")
        with self.store.transaction():
            self.store.drop_conflict(rid)
