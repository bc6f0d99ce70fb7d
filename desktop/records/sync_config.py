"""The sync half of RecordsService: target, organisation key, status, conflicts.

Mixed into RecordsService (see service.py for the state it relies on:
store, records, audit, lock, installer, policy_version). The target
(endpoint, bucket, region, prefix, optional CA bundle, access key id) is not
personal and sits in the meta table; the secret access key and the
organisation sync key sit in the keyring. The sync algorithm itself is in
sync.py. Thread: `sync`, `remove_remote_now` and `resolve_conflict` do
network I/O -- call them from a worker thread in the GUI.
"""
from __future__ import annotations

import json
import logging

from . import consent as consent_mod
from . import crypto, synckey
from .errors import RecordsError, SyncKeyMissing, SyncNotConfigured, SyncOffline, ValidationError
from .remote import Bucket, SyncTarget, check_endpoint

log = logging.getLogger(__name__)

STATUS_TEXT = {
    "synced": "Synced", "pending": "Waiting to sync", "conflict": "Conflict",
    "local": "On this laptop only", "renew": "Consent renewal needed",
    "restricted": "Restricted (not synced)",
}


class SyncConfigMixin:
    # -- configuration ----------------------------------------------------------
    def configure_sync(self, endpoint_url: str, bucket: str, *, region: str = "us-east-1",
                       prefix: str = "pvdesk", ca_bundle: str | None = None,
                       access_key_id: str | None = None, secret_access_key: str | None = None) -> None:
        check_endpoint(endpoint_url)
        if not bucket or len(bucket) < 3:
            raise ValidationError("The bucket name must have at least 3 characters.")
        with self.store.transaction():
            for k, v in (("endpoint_url", endpoint_url), ("bucket", bucket), ("region", region),
                         ("prefix", prefix), ("ca_bundle", ca_bundle or ""),
                         ("access_key_id", access_key_id or "")):
                self.store.set_meta(f"sync_{k}", v)
        if secret_access_key:
            self.secrets.put(f"{self.store.store_id}/s3-secret", secret_access_key.encode())

    def sync_target(self) -> SyncTarget | None:
        url = self.store.meta("sync_endpoint_url")
        if not url:
            return None
        return SyncTarget(url, self.store.meta("sync_bucket"), self.store.meta("sync_region"),
                          self.store.meta("sync_prefix"), self.store.meta("sync_ca_bundle") or None)

    def sync_key_fingerprint(self) -> str | None:
        key = self.secrets.get(f"{self.store.store_id}/sync-key")
        return synckey.fingerprint(key) if key else None

    def create_sync_key(self) -> str:
        """First laptop: make the organisation key; returns its recovery code (show it once)."""
        if self.secrets.get(f"{self.store.store_id}/sync-key"):
            raise RecordsError("This laptop already holds an organisation sync key; "
                               "export it instead of creating a second one.")
        key = crypto.new_key()
        self.secrets.put(f"{self.store.store_id}/sync-key", key)
        return synckey.to_recovery_code(key)

    def export_sync_key_file(self) -> str:
        key = self.secrets.get(f"{self.store.store_id}/sync-key")
        if key is None:
            raise SyncKeyMissing()
        return synckey.to_key_file(key)

    def import_sync_key(self, key_file_or_code: str) -> str:
        """Other laptops: import the key file's text or the recovery code. Returns the fingerprint."""
        key = synckey.parse(key_file_or_code)
        self.secrets.put(f"{self.store.store_id}/sync-key", key)
        return synckey.fingerprint(key)

    def _bucket(self) -> Bucket:
        target = self.sync_target()
        if target is None:
            raise SyncNotConfigured("Cloud sync is not set up: give the endpoint and bucket "
                                    "(`pvdesk sync --endpoint URL --bucket NAME`).")
        key = self.secrets.get(f"{self.store.store_id}/sync-key")
        if key is None:
            raise SyncKeyMissing()
        secret = self.secrets.get(f"{self.store.store_id}/s3-secret")
        access = self.store.meta("sync_access_key_id") or None
        ident = (target, crypto.sha256(key + (secret or b"")), access)
        cached = getattr(self, "_bucket_cache", None)
        if cached is None or cached[0] != ident:  # a boto3 client costs ~0.2 s to build: reuse it
            cached = (ident, Bucket(target, key, access, secret.decode() if secret else None))
            self._bucket_cache = cached
        return cached[1]

    # -- status -------------------------------------------------------------------
    def _sync_rows(self, ids: list[str] | None = None) -> dict:
        q = "SELECT id, dirty, remote_etag, sync_state FROM records"
        if ids is not None and len(ids) <= 500:
            rows = self.store.db.execute(q + f" WHERE id IN ({','.join('?' * len(ids))})", ids).fetchall() \
                if ids else []
        else:
            rows = self.store.db.execute(q).fetchall()
        return {r[0]: r[1:] for r in rows}

    @staticmethod
    def _status_of(restricted: bool, cloud_consent: str, row) -> str:
        dirty, etag, state = row
        if state == "conflict":
            return "conflict"
        if restricted:
            return "restricted"
        if cloud_consent == "renew":
            return "renew"
        if cloud_consent != "granted":
            return "local"
        return "pending" if dirty or etag is None else "synced"

    def _status_from(self, c, row) -> str:
        return self._status_of(c.restricted, consent_mod.status(c.consents, "cloud_sync", self.policy_version),
                               row)

    def sync_status(self, rid: str) -> str:
        with self.lock:
            return self._status_from(self._get(rid), self.store.sync_row(rid))

    def _eligible(self, rid: str) -> bool:
        c = self.records.get(rid)
        return (c is not None and not c.restricted
                and consent_mod.allowed(c.consents, "cloud_sync", self.policy_version))

    # -- removal of remote copies -------------------------------------------------
    def _queue_remote_removal(self, rid: str, reason: str) -> None:
        """Queue removal of the bucket copy -- only if one ever existed: a record that was never
        shared causes no connection, not even to say it is gone."""
        if not self.store.ever_synced(rid):
            return
        self.store.db.execute("INSERT OR REPLACE INTO pending_remote(record_id, reason, at) VALUES (?,?,?)",
                              (rid, reason, self.clock()))

    def pending_remote_removals(self) -> list[str]:
        with self.lock:
            return [r[0] for r in self.store.db.execute("SELECT record_id FROM pending_remote")]

    def remove_remote_now(self, rid: str) -> bool:
        """Try to remove the remote copy at once; stays queued if offline. True if done."""
        from .sync import remove_pending
        if self.sync_target() is None or self.secrets.get(f"{self.store.store_id}/sync-key") is None:
            return False
        if rid not in self.pending_remote_removals():
            return False
        try:
            return bool(remove_pending(self, self._bucket(), only=rid))
        except SyncOffline:
            log.info("remote removal of %s queued: endpoint offline", rid)
            return False

    # -- sync and conflicts ---------------------------------------------------------
    def sync(self, *, pull: bool = True):
        """Upload consented changes, remove withdrawn/deleted copies, fetch others' changes.

        Opens no connection at all when nothing is consented or queued and pull is False.
        """
        from .sync import run_sync
        return run_sync(self, pull=pull)

    def conflicts(self) -> list[str]:
        with self.lock:
            return [r[0] for r in self.store.db.execute("SELECT record_id FROM conflicts")]

    def conflict_versions(self, rid: str):
        """(local Customer, remote Customer) for the installer to compare."""
        from .model import Customer
        with self.lock:
            row = self.store.db.execute("SELECT blob FROM conflicts WHERE record_id=?", (rid,)).fetchone()
            if row is None:
                raise ValidationError(f"Customer record {rid} has no sync conflict.")
            remote = Customer.from_dict(json.loads(self.store.open_for(rid, row[0], "conflict")))
            return self.get_customer(rid), remote

    def resolve_conflict(self, rid: str, keep: str) -> None:
        from .sync import resolve
        if keep not in ("local", "remote"):
            raise ValidationError("keep must be 'local' or 'remote'.")
        resolve(self, rid, keep)
