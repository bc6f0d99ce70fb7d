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

Thread: a worker thread (network I/O). Local state is changed under the
store's lock, never held across a network call.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from . import consent as consent_mod
from .errors import RecordsError, RemoteCorrupt, SyncOffline
from .model import Customer
from .remote import PreconditionFailed

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


def remove_pending(svc, bucket, only: str | None = None) -> list[str]:
    """Remove queued remote copies and leave tombstones. Returns the ids done."""
    with svc.lock:
        rows = svc.store.db.execute("SELECT record_id, reason, at FROM pending_remote").fetchall()
    done = []
    for rid, reason, at in rows:
        if only is not None and rid != only:
            continue
        bucket.delete_record(rid)
        bucket.put_tombstone(rid, reason, at)
        with svc.store.transaction():
            svc.store.db.execute("DELETE FROM pending_remote WHERE record_id=?", (rid,))
            if rid in svc.records:
                svc.store.set_sync(rid, remote_etag=None, dirty=True, sync_state="local")
            svc.audit.append("sync_remote_delete", svc.installer, rid, reason=reason)
        done.append(rid)
    return done


def _snapshot(svc, rid: str):
    with svc.lock:
        c = svc.records.get(rid)
        row = svc.store.db.execute("SELECT version, dirty, remote_etag, sync_state FROM records WHERE id=?",
                                   (rid,)).fetchone()
    return (c.to_dict() if c else None), row


def _store_remote(svc, payload: dict, etag: str, action: str) -> None:
    c = Customer.from_dict(payload)
    with svc.lock:
        with svc.store.transaction():
            svc.store.put(c, dirty=False, remote_etag=etag, sync_state="synced")
            svc.audit.append(action, svc.installer, c.id)
        svc.records[c.id] = c
        svc._index(c)


def _keep_conflict(svc, bucket, rid: str, report: SyncReport) -> None:
    payload, etag = bucket.get_record(rid)
    with svc.store.transaction():
        blob = svc.store.seal_for(rid, json.dumps(payload).encode(), "conflict")
        svc.store.db.execute("INSERT OR REPLACE INTO conflicts(record_id, remote_etag, blob) VALUES (?,?,?)",
                             (rid, etag, blob))
        svc.store.set_sync(rid, sync_state="conflict")
        svc.audit.append("sync_conflict", svc.installer, rid)
    report.conflicts.append(rid)
    log.warning("sync conflict on record %s: kept both versions", rid)


def _upload(svc, bucket, rid: str, payload: dict, version: int, if_match: str | None,
            tombstoned: bool) -> str:
    etag = bucket.put_record(rid, payload, if_match=if_match)
    if tombstoned:
        bucket.delete_tombstone(rid)
    with svc.store.transaction():
        cur = svc.store.db.execute("UPDATE records SET dirty=0, remote_etag=?, sync_state='synced', ever_synced=1 "
                                   "WHERE id=? AND version=?", (etag, rid, version))
        if cur.rowcount == 0:  # edited again meanwhile: stays dirty, base moves on
            svc.store.set_sync(rid, remote_etag=etag)
            svc.store.db.execute("UPDATE records SET ever_synced=1 WHERE id=?", (rid,))
        svc.audit.append("sync_upload", svc.installer, rid)
    return etag


def _apply_tombstone(svc, rid: str, tomb: dict) -> None:
    c = svc.records.get(rid)
    if c is None:
        return
    reason, at = tomb.get("reason"), float(tomb.get("at", 0))
    if reason == "deleted":
        svc._destroy([rid], "delete", remove_remote=False)
        return
    if reason == "restricted" and c.restricted:
        return
    if reason == "withdrawn" and consent_mod.status(c.consents, "cloud_sync", svc.policy_version) != "granted":
        return
    entry = consent_mod.latest(c.consents, "cloud_sync")
    if entry and entry.get("granted_at", 0) > at:
        return  # consent given again here after the tombstone: this laptop's view wins
    changed = Customer.from_dict(c.to_dict())
    changed.updated_at = at
    if reason == "withdrawn":
        consent_mod.withdraw(changed.consents, "cloud_sync", svc.installer, at=at)
    elif reason == "restricted":
        changed.restricted = True
    with svc.lock:
        with svc.store.transaction():
            svc.store.put(changed, dirty=False, sync_state="local")
            svc.store.set_sync(rid, remote_etag=None)
            svc.audit.append("consent_withdraw" if reason == "withdrawn" else "restrict", svc.installer,
                             rid, via="sync")
        svc.records[rid] = changed
        svc._index(changed)


def run_sync(svc, *, pull: bool = True) -> SyncReport:
    report = SyncReport()
    with svc.lock:
        eligible = [rid for rid in svc.records if svc._eligible(rid)]
        pending = svc.store.db.execute("SELECT COUNT(*) FROM pending_remote").fetchone()[0]
    if not eligible and not pending and not pull:
        return report
    bucket = svc._bucket()
    try:
        bucket.check_key()
        report.connected = True
        report.removed += remove_pending(svc, bucket)
        remote = bucket.list_records()
        tombs = bucket.list_tombstones()
        with svc.lock:
            local = set(svc.records)
        for rid in tombs:
            if rid in local:
                try:
                    _apply_tombstone(svc, rid, bucket.get_tombstone(rid))
                except RemoteCorrupt:
                    report.failed.append(rid)
        for rid in eligible:
            if not svc._eligible(rid):
                continue
            payload, row = _snapshot(svc, rid)
            if payload is None or row is None or row[3] == "conflict":
                continue
            version, dirty, base, _ = row
            r_etag = remote.get(rid)
            try:
                if dirty or r_etag is None:
                    if r_etag is not None and base is None:
                        raise PreconditionFailed()
                    _upload(svc, bucket, rid, payload, version, r_etag and base, rid in tombs)
                    report.uploaded.append(rid)
                elif r_etag != base:
                    data, etag = bucket.get_record(rid)
                    if data.get("id") != rid:
                        raise RemoteCorrupt(f"records/{rid}")
                    _store_remote(svc, data, etag, "sync_download")
                    report.downloaded.append(rid)
            except PreconditionFailed:
                try:
                    _keep_conflict(svc, bucket, rid, report)
                except RemoteCorrupt:
                    report.failed.append(rid)
            except RemoteCorrupt:
                report.failed.append(rid)
            except KeyError:  # vanished between list and write: next pass sees the tombstone
                continue
        if pull:
            with svc.lock:
                local = set(svc.records) | set(svc.corrupt)
            for rid in sorted(set(remote) - local - set(tombs)):
                try:
                    data, etag = bucket.get_record(rid)
                except RemoteCorrupt:
                    report.failed.append(rid)
                    continue
                if data.get("id") != rid:
                    report.failed.append(rid)
                    continue
                _store_remote(svc, data, etag, "sync_download")
                report.downloaded.append(rid)
    except SyncOffline as exc:
        report.offline, report.message = True, str(exc)
    log.info("sync: %s", report.summary())
    return report


def resolve(svc, rid: str, keep: str) -> None:
    with svc.lock:
        row = svc.store.db.execute("SELECT remote_etag, blob FROM conflicts WHERE record_id=?",
                                   (rid,)).fetchone()
    if row is None:
        raise RecordsError(f"Customer record {rid} has no sync conflict to resolve.")
    r_etag, blob = row
    if keep == "remote":
        data = json.loads(svc.store.open_for(rid, blob, "conflict"))
        _store_remote(svc, data, r_etag, "conflict_resolved")
    else:
        payload, srow = _snapshot(svc, rid)
        bucket = svc._bucket()
        try:
            _upload(svc, bucket, rid, payload, srow[0], r_etag, False)
        except PreconditionFailed:
            report = SyncReport()
            _keep_conflict(svc, bucket, rid, report)
            raise RecordsError(f"Customer record {rid} changed again on another laptop; "
                               "compare the versions once more.") from None
        svc.audit.append("conflict_resolved", svc.installer, rid, keep="local")
    with svc.store.transaction():
        svc.store.db.execute("DELETE FROM conflicts WHERE record_id=?", (rid,))
        svc.store.set_sync(rid, sync_state="synced")
