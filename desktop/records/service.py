"""RecordsService: the one object the GUI, the CLI and the diagnostics use.

It opens the encrypted store (keyring, or an explicit passphrase), decrypts
every record once into memory and searches there (see docs/records.md: the
plaintext is in memory anyway when the list is shown, and an in-memory scan of
10,000 records takes a few milliseconds, while a blind index on disk would
only find whole tokens and would leak which records share a word). Every
access, change, export, share and deletion is written to the audit trail in
the same transaction as the change. Logs and exceptions name record ids only.

Thread: any thread, one call at a time per object in practice; an RLock (the
store's) guards the in-memory state, and `sync` holds it only between network
calls, so the GUI runs `sync` on a worker thread and stays responsive.
"""
from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from . import consent as consent_mod
from .audit import AuditTrail
from .cache import RecordCache
from .errors import ValidationError
from .keys import open_secrets
from .model import DOCUMENT_KINDS, Customer, Site, new_id
from .privacy import PrivacyAPI
from .requests import RequestsRegister
from .rights import RightsMixin
from .service_sync import SyncAPI
from .store import RecordStore
from .sync import SyncEngine
from .sync_config import SyncSetup, status_of

log = logging.getLogger(__name__)
VISIT_KINDS = ("commissioning_report", "firmware_upgrade_log")


def default_data_dir() -> Path:
    """PVDesk's data folder (desktop/core/paths.py: $PVDESK_DATA_DIR or the platform's), subfolder records."""
    from desktop.core.paths import records_dir
    return records_dir()


@dataclass(frozen=True)
class CustomerSummary:
    id: str
    name: str
    contact: str
    site: str
    capacity_kwp: float | None
    sync_status: str
    restricted: bool
    updated_at: float


class RecordsService(RightsMixin, SyncAPI, PrivacyAPI):
    def __init__(self, data_dir: Path | None = None, installer: str = "installer",
                 keyring_service_name: str = "PVDesk", *, passphrase: str | None = None,
                 policy_version: str | None = None, clock=time.time,
                 scrypt_n: int | None = None, discard_missing: bool = False) -> None:
        if not installer or len(installer) > 64:
            raise ValidationError("The installer id must have 1 to 64 characters.")
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self.installer = installer
        self.policy_version = policy_version
        self.clock = clock
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        secrets = open_secrets(self.data_dir, passphrase, keyring_service_name, scrypt_n)
        self.secrets = secrets
        self.store = RecordStore(self.data_dir, secrets, discard_missing=discard_missing)
        self.lock = self.store.lock
        self.audit = AuditTrail(self.store)
        records, corrupt, erased = self.store.load_all()
        if policy_version is None:  # the controller's setting, else the built-in version
            policy_version = self.store.meta("policy_version") or consent_mod.CURRENT_POLICY_VERSION
        self.policy_version = policy_version
        self.cache = RecordCache(records, corrupt, policy_version)
        self.erased = erased  # rows of a copy made before their deletion: keys destroyed
        self.problems = [p for p in (self.store.structure_problem(),
                                     self.store.count_problem(self.store.rows_found)) if p]
        self.sync_setup = SyncSetup(self.store, secrets)
        self.engine = SyncEngine(self.store, self.audit, self.cache, self.sync_setup,
                                 installer=installer, clock=clock, destroy=self._destroy)
        self.register = RequestsRegister(self.store, self.audit, installer, clock)
        self.audit.check_on_open()
        self.audit.append("store_open", installer, count=len(records), corrupt=len(corrupt))
        log.info("records store open: %d records, %d failed their check", len(records), len(corrupt))

    # -- read-only views (copies or ids: the window never holds the service's objects) ----------
    @property
    def records(self) -> dict[str, Customer]:
        """The decrypted records by id (the cache's dict: read it, never change it)."""
        return self.cache.records

    @property
    def corrupt(self) -> list[str]:
        """Ids of stored records that failed their integrity check (reported, never hidden)."""
        return list(self.cache.corrupt)

    def integrity_report(self) -> list[str]:
        """One line per problem found when the store was opened: damaged records (by id), rows
        missing from the database, erased rows of an old copy. Empty when all is well."""
        lines = list(self.problems)
        lines += [f"Customer record {rid} failed its integrity check (the file was altered or damaged); "
                  "it is kept untouched: restore it from a backup or the sync bucket." for rid in self.cache.corrupt]
        lines += [f"Customer record {rid} was deleted after this copy was made: its key is destroyed and it "
                  "cannot be opened." for rid in self.erased]
        if self.audit.broken is not None:
            lines.append(str(self.audit.broken))
        return lines

    def set_policy_version(self, version: str) -> None:
        """Consents given for another version read as "renew" from now on (asked again)."""
        with self.lock:
            self.policy_version = version
            self.cache.policy_version = version
            for c in list(self.cache.records.values()):
                self.cache.put(c)

    def count(self) -> int:
        with self.lock:
            return len(self.cache.records)

    def contains(self, rid: str) -> bool:
        with self.lock:
            return rid in self.cache.records

    def is_restricted(self, rid: str) -> bool:
        with self.lock:
            return self.cache.get(rid).restricted

    def display_names(self, rids: list[str]) -> list[str]:
        """Names of the given records, for a confirmation the installer reads (no audit entry)."""
        with self.lock:
            return [self.cache.records[r].name for r in rids if r in self.cache.records]

    def consent_entry(self, rid: str, purpose: str) -> dict | None:
        """The newest consent entry of one purpose (a copy), for the consent dialog."""
        with self.lock:
            entry = consent_mod.latest(self.cache.get(rid).consents, purpose)
            return copy.deepcopy(entry)

    # -- internal ------------------------------------------------------------
    def _get(self, rid: str) -> Customer:
        return self.cache.get(rid)

    def _writable(self, rid: str) -> Customer:
        return self.cache.writable(rid)

    def _save(self, c: Customer, action: str, *, dirty: bool = True, **detail) -> None:
        c.updated_at = self.clock()
        with self.store.transaction():
            self.store.put(c, dirty=dirty)
            self.audit.append(action, self.installer, c.id, **detail)
        self.cache.put(c)

    # -- customers and sites --------------------------------------------------
    def add_customer(self, data: dict) -> str:
        c = Customer.from_dict({**data, "id": None, "consents": [], "restricted": False,
                                "created_at": self.clock()})
        c.validate()
        with self.lock:
            known = {"name", "phone", "email", "postal_address", "notes", "sites"}
            self._save(c, "create", fields=sorted(k for k, v in data.items() if v and k in known))
        return c.id

    def update_customer(self, rid: str, changes: dict) -> Customer:
        with self.lock:
            old = self._writable(rid)
            allowed = {"name", "phone", "email", "postal_address", "notes", "sites"}
            bad = set(changes) - allowed
            if bad:
                raise ValidationError(f"These fields cannot be changed here: {sorted(bad)}.")
            merged = Customer.from_dict({**old.to_dict(), **changes})
            merged.validate()
            changed = sorted(k for k in changes if getattr(old, k) != getattr(merged, k))
            if not changed:
                return copy.deepcopy(old)
            self._save(merged, "update", fields=changed)
            return copy.deepcopy(merged)

    def get_customer(self, rid: str) -> Customer:
        with self.lock:
            c = self._get(rid)
            self.audit.append("access", self.installer, rid)
            return copy.deepcopy(c)

    def add_site(self, rid: str, data: dict) -> str:
        with self.lock:
            c = copy.deepcopy(self._writable(rid))
            site = Site.from_dict({**data, "site_id": None, "documents": []})
            site.validate()
            c.sites.append(site)
            self._save(c, "update", fields=["sites"])
            return site.site_id

    def update_site(self, rid: str, site_id: str, changes: dict) -> None:
        with self.lock:
            c = copy.deepcopy(self._writable(rid))
            s = c.site(site_id)
            merged = Site.from_dict({**s.__dict__, **changes, "site_id": site_id, "documents": s.documents})
            merged.validate()
            c.sites[c.sites.index(s)] = merged
            self._save(c, "update", fields=["sites"])

    def attach_document(self, rid: str, site_id: str, kind: str, content: bytes,
                        filename: str = "") -> str:
        if kind not in DOCUMENT_KINDS:
            raise ValidationError(f"Unknown document kind {kind!r}; expected one of {list(DOCUMENT_KINDS)}.")
        with self.lock:
            c = copy.deepcopy(self._writable(rid))
            site = c.site(site_id)
            doc_id = new_id("doc")
            site.documents.append({"doc_id": doc_id, "kind": kind, "filename": filename,
                                   "size": len(content), "created_at": self.clock()})
            c.updated_at = self.clock()
            if kind in VISIT_KINDS:  # a report or upgrade log means someone was at the site
                c.last_visit_at = self.clock()
            with self.store.transaction():
                self.store.put(c)
                self.store.add_document(rid, doc_id, content)
                self.audit.append("document_add", self.installer, rid, kind=kind, size=len(content))
            self.cache.put(c)
            return doc_id

    def record_visit(self, rid: str, at: float | None = None) -> None:
        """A service visit at the customer's site: the retention period starts again from it."""
        with self.lock:
            c = copy.deepcopy(self._writable(rid))
            c.last_visit_at = self.clock() if at is None else float(at)
            self._save(c, "update", fields=["last_visit_at"])

    def get_document(self, rid: str, doc_id: str) -> bytes:
        with self.lock:
            self._get(rid)
            data = self.store.document(rid, doc_id)
            self.audit.append("document_access", self.installer, rid)
            return data

    def _documents(self, rid: str) -> dict[str, bytes]:
        return self.store.documents(rid)

    # -- listing and search ---------------------------------------------------
    def _summaries(self, rids, rows: dict) -> list[CustomerSummary]:
        """List rows sorted by name; the static part is precomputed by the cache."""
        static = sorted(self.cache.static[rid] for rid in rids)
        default = (1, None, "local")
        return [CustomerSummary(rid, name, contact, site, kwp,
                                status_of(restricted, cloud, rows.get(rid, default)), restricted, upd)
                for _, rid, name, contact, site, kwp, restricted, upd, cloud in static]

    def list_customers(self) -> list[CustomerSummary]:
        with self.lock:
            out = self._summaries(self.cache.records, self.store.sync_rows())
            self.audit.append("list", self.installer, count=len(out))
        return out

    def search(self, query: str) -> list[CustomerSummary]:
        """Records whose fields contain every word of `query` (case-insensitive, substring)."""
        terms = query.casefold().split()
        with self.lock:
            if not terms:
                hits = list(self.cache.records)
            else:
                hits = [rid for rid, text in self.cache.haystack.items() if all(t in text for t in terms)]
            out = self._summaries(hits, self.store.sync_rows(hits))
            self.audit.append("search", self.installer, count=len(out))
        return out

    # -- consent ---------------------------------------------------------------
    def grant_consent(self, rid: str, purpose: str, method: str, policy_version: str | None = None,
                      installer: str | None = None) -> None:
        """Record consent. ``installer``: who obtained it, as typed where it was recorded (default: the
        configured installer); kept in the encrypted record's consent entry, the audit names the app's user."""
        name = self.installer if installer is None else installer.strip()
        if not name or len(name) > 64:
            raise ValidationError("The installer who obtained the consent must be named (1 to 64 characters).")
        with self.lock:
            c = copy.deepcopy(self._writable(rid))
            pv = policy_version or self.policy_version
            consent_mod.grant(c.consents, purpose, method, name, pv, at=self.clock())
            self._save(c, "consent_grant", purpose=purpose, method=method, policy_version=pv)

    def withdraw_consent(self, rid: str, purpose: str, *, remove_remote: bool = True) -> bool:
        """Withdraw in one action; for cloud sync the remote copy is removed at once (or queued).

        remove_remote=False only queues the removal (the GUI then runs a sync on a worker).
        """
        with self.lock:
            c = copy.deepcopy(self._get(rid))
            if not consent_mod.withdraw(c.consents, purpose, self.installer, at=self.clock()):
                return False
            with self.store.transaction():
                self._save(c, "consent_withdraw", purpose=purpose)
                if purpose == "cloud_sync":
                    self.engine.queue_removal(rid, "withdrawn")
        if purpose == "cloud_sync" and remove_remote:
            self.remove_remote_now(rid)
        return True

    def consent_status(self, rid: str, purpose: str) -> str:
        with self.lock:
            return consent_mod.status(self._get(rid).consents, purpose, self.policy_version)

    def has_support_consent(self, rid: str) -> bool:
        with self.lock:
            c = self._get(rid)
            return not c.restricted and consent_mod.allowed(c.consents, "support_sharing", self.policy_version)

    # -- audit -------------------------------------------------------------------
    def audit_entries(self, rid: str | None = None, limit: int = 500) -> list[dict]:
        return self.audit.entries(rid, limit)

    def verify_audit(self) -> int:
        """Verify the whole trail and both heads; a failure also stops writes until acknowledged."""
        try:
            return self.audit.verify()
        except Exception as exc:
            from .errors import AuditTampered
            if isinstance(exc, AuditTampered):
                self.audit.broken = exc
            raise

    @property
    def audit_break(self) -> str | None:
        """What is wrong with the audit trail (writes are stopped), or None."""
        return None if self.audit.broken is None else str(self.audit.broken)

    def acknowledge_audit_break(self) -> int:
        """The installer saw the break: record it and allow changes again. Returns the entry's seq."""
        return self.audit.acknowledge_break(self.installer)

    def close(self) -> None:
        self.store.close()

