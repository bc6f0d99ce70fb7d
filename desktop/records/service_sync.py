"""The sync entry points of RecordsService, for the window and the command line.

`SyncAPI` is mixed into RecordsService and uses only its public parts: the
SyncSetup (`sync_setup`), the SyncEngine (`engine`), the store and the record
cache. The work itself is in sync.py (the engine) and sync_config.py (target
and keys). Thread: `sync`, `remove_remote_now` and `resolve_conflict` do
network I/O -- the window calls them from a worker thread.
"""
from __future__ import annotations

from . import consent as consent_mod
from .errors import ValidationError
from .model import Customer
from .sync_config import status_of


class SyncAPI:
    def configure_sync(self, endpoint_url: str, bucket: str, **kw) -> None:
        self.sync_setup.configure(endpoint_url, bucket, **kw)

    def sync_target(self):
        return self.sync_setup.target()

    def sync_key_fingerprint(self) -> str | None:
        return self.sync_setup.fingerprint()

    def create_sync_key(self) -> str:
        return self.sync_setup.create_key()

    def export_sync_key_file(self) -> str:
        return self.sync_setup.export_key_file()

    def import_sync_key(self, key_file_or_code: str) -> str:
        return self.sync_setup.import_key(key_file_or_code)

    def sync_status(self, rid: str) -> str:
        with self.lock:
            c = self.cache.get(rid)
            cloud = consent_mod.status(c.consents, "cloud_sync", self.policy_version)
            return status_of(c.restricted, cloud, self.store.sync_row(rid))

    def pending_remote_removals(self) -> list[str]:
        return [r[0] for r in self.store.pending_removals()]

    def remove_remote_now(self, rid: str) -> bool:
        return self.engine.remove_now(rid)

    def sync(self, *, pull: bool = True):
        """Upload consented changes, remove withdrawn/deleted copies, fetch others' changes.

        Opens no connection at all when nothing is consented or queued and pull is False.
        """
        return self.engine.run(pull=pull)

    def conflicts(self) -> list[str]:
        return self.store.conflict_ids()

    def conflict_versions(self, rid: str):
        """(local Customer, remote Customer) for the installer to compare."""
        with self.lock:
            kept = self.store.conflict(rid)
            if kept is None:
                raise ValidationError(f"Customer record {rid} has no sync conflict.")
            return self.get_customer(rid), Customer.from_dict(kept[1])

    def resolve_conflict(self, rid: str, keep: str) -> None:
        if keep not in ("local", "remote"):
            raise ValidationError("keep must be 'local' or 'remote'.")
        self.engine.resolve(rid, keep)

    def rotate_sync_key(self, *, revoked_laptop: str | None = None) -> dict:
        """New organisation key, every bucket key re-sealed and old versions deleted (keyrotation.py)."""
        from .keyrotation import rotate_org_key
        with self.lock:
            if self.audit.broken is not None:
                from .errors import AuditBroken
                raise AuditBroken(self.audit.broken)

        def names_of(rids):
            with self.lock:
                return {r: self.cache.records[r].name for r in rids if r in self.cache.records}
        return rotate_org_key(self.sync_setup, self.audit, self.installer, names_of, revoked_laptop=revoked_laptop)

    def laptops(self) -> list[dict]:
        """The laptops that synced with the bucket (store id, installer, key fingerprint, last seen)."""
        bucket = self.sync_setup.bucket()
        bucket.check_key()
        return [{"laptop": name, **(bucket.get_json("laptops", name) or {})} for name in bucket.list_names("laptops")]
