"""The decrypted records held in memory: the records, the ids that failed their check, the search index.

RecordsService and the sync engine share one `RecordCache`; both change it
only under the store's lock and only after the matching SQLite transaction
has committed, so memory never shows what the disk does not hold. Search text
and the static part of each list row are rebuilt when a record changes.
Thread: any, under the store's RLock.
"""
from __future__ import annotations

from . import consent as consent_mod
from .errors import RecordCorrupt, RecordNotFound, RecordRestricted
from .model import Customer


class RecordCache:
    def __init__(self, records: dict[str, Customer], corrupt: list[str], policy_version: str) -> None:
        self.records = records
        self.corrupt = corrupt
        self.policy_version = policy_version
        self.haystack: dict[str, str] = {}
        self.static: dict[str, tuple] = {}
        for c in records.values():
            self._index(c)

    def get(self, rid: str) -> Customer:
        c = self.records.get(rid)
        if c is None:
            if rid in self.corrupt:
                raise RecordCorrupt(rid)
            raise RecordNotFound(rid)
        return c

    def writable(self, rid: str) -> Customer:
        c = self.get(rid)
        if c.restricted:
            raise RecordRestricted(rid)
        return c

    def put(self, c: Customer) -> None:
        self.records[c.id] = c
        self._index(c)

    def drop(self, rid: str) -> None:
        self.records.pop(rid, None)
        self.haystack.pop(rid, None)
        self.static.pop(rid, None)
        if rid in self.corrupt:
            self.corrupt.remove(rid)

    def known(self, rid: str) -> bool:
        return rid in self.records or rid in self.corrupt

    def eligible(self, rid: str) -> bool:
        """May this record go to the bucket: cloud-sync consent for the current policy, not restricted."""
        c = self.records.get(rid)
        return (c is not None and not c.restricted
                and consent_mod.allowed(c.consents, "cloud_sync", self.policy_version))

    def _index(self, c: Customer) -> None:
        s = c.sites[0] if c.sites else None
        self.haystack[c.id] = c.search_text()
        self.static[c.id] = (c.name.casefold(), c.id, c.name, c.email or c.phone, s.name if s else "",
                             s.installed_capacity_kwp if s else None, c.restricted, c.updated_at,
                             consent_mod.status(c.consents, "cloud_sync", self.policy_version))
