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
from .errors import ConsentRequired, PassphraseRequired, RecordCorrupt, RecordsError, RecordNotFound, RecordRestricted, ValidationError
from .keys import KEYFILE_NAME, KeyringSecrets, PassphraseSecrets
from .model import DOCUMENT_KINDS, Customer, Site, new_id
from .store import DB_NAME, RecordStore
from .rights import RightsMixin
from .sync_config import SyncConfigMixin

log = logging.getLogger(__name__)


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


class RecordsService(RightsMixin, SyncConfigMixin):
    def __init__(self, data_dir: Path | None = None, installer: str = "installer",
                 keyring_service_name: str = "PVDesk", *, passphrase: str | None = None,
                 policy_version: str = consent_mod.CURRENT_POLICY_VERSION, clock=time.time,
                 scrypt_n: int | None = None) -> None:
        if not installer or len(installer) > 64:
            raise ValidationError("The installer id must have 1 to 64 characters.")
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self.installer = installer
        self.policy_version = policy_version
        self.clock = clock
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        keyfile = self.data_dir / KEYFILE_NAME
        if passphrase is not None:
            if (self.data_dir / DB_NAME).exists() and not keyfile.exists():
                raise RecordsError("This customer records store keeps its key in the keyring, not "
                                   "under a passphrase: open it without a passphrase.")
            kw = {"scrypt_n": scrypt_n} if scrypt_n else {}
            secrets = PassphraseSecrets(keyfile, passphrase,
                                        create=not (self.data_dir / DB_NAME).exists(), **kw)
        elif keyfile.exists():
            raise PassphraseRequired()
        else:
            secrets = KeyringSecrets(keyring_service_name)
        self.secrets = secrets
        self.store = RecordStore(self.data_dir, secrets)
        self.lock = self.store.lock
        self.audit = AuditTrail(self.store)
        self.records, self.corrupt = self.store.load_all()
        self._haystack: dict[str, str] = {}
        self._static: dict[str, tuple] = {}
        for c in self.records.values():
            self._index(c)
        self.audit.append("store_open", installer, count=len(self.records), corrupt=len(self.corrupt))
        log.info("records store open: %d records, %d failed their check", len(self.records), len(self.corrupt))

    # -- internal ------------------------------------------------------------
    def _get(self, rid: str) -> Customer:
        c = self.records.get(rid)
        if c is None:
            if rid in self.corrupt:
                raise RecordCorrupt(rid)
            raise RecordNotFound(rid)
        return c

    def _writable(self, rid: str) -> Customer:
        c = self._get(rid)
        if c.restricted:
            raise RecordRestricted(rid)
        return c

    def _save(self, c: Customer, action: str, *, dirty: bool = True, **detail) -> None:
        c.updated_at = self.clock()
        with self.store.transaction():
            self.store.put(c, dirty=dirty)
            self.audit.append(action, self.installer, c.id, **detail)
        self.records[c.id] = c
        self._index(c)

    def _index(self, c: Customer) -> None:
        """Search text and list row of a record, kept in memory (rebuilt on every change)."""
        s = c.sites[0] if c.sites else None
        self._haystack[c.id] = c.search_text()
        self._static[c.id] = (c.name.casefold(), c.id, c.name, c.email or c.phone, s.name if s else "",
                              s.installed_capacity_kwp if s else None, c.restricted, c.updated_at,
                              consent_mod.status(c.consents, "cloud_sync", self.policy_version))

    def _unindex(self, rid: str) -> None:
        self._haystack.pop(rid, None)
        self._static.pop(rid, None)

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
            with self.store.transaction():
                self.store.put(c)
                self.store.db.execute("INSERT INTO documents(doc_id, record_id, blob) VALUES (?,?,?)",
                                      (doc_id, rid, self.store.seal_for(rid, content, "doc:" + doc_id)))
                self.audit.append("document_add", self.installer, rid, kind=kind, size=len(content))
            self.records[rid] = c
            self._index(c)
            return doc_id

    def get_document(self, rid: str, doc_id: str) -> bytes:
        with self.lock:
            self._get(rid)
            row = self.store.db.execute("SELECT blob FROM documents WHERE doc_id=? AND record_id=?",
                                        (doc_id, rid)).fetchone()
            if row is None:
                raise RecordNotFound(f"{rid}/{doc_id}")
            data = self.store.open_for(rid, row[0], "doc:" + doc_id)
            self.audit.append("document_access", self.installer, rid)
            return data

    def _documents(self, rid: str) -> dict[str, bytes]:
        rows = self.store.db.execute("SELECT doc_id, blob FROM documents WHERE record_id=?", (rid,)).fetchall()
        return {d: self.store.open_for(rid, b, "doc:" + d) for d, b in rows}

    # -- listing and search ---------------------------------------------------
    def _summaries(self, rids, rows: dict) -> list[CustomerSummary]:
        """List rows sorted by name; the static part is precomputed by _index."""
        static = sorted(self._static[rid] for rid in rids)
        default = (1, None, "local")
        return [CustomerSummary(rid, name, contact, site, kwp,
                                self._status_of(restricted, cloud, rows.get(rid, default)), restricted, upd)
                for _, rid, name, contact, site, kwp, restricted, upd, cloud in static]

    def list_customers(self) -> list[CustomerSummary]:
        with self.lock:
            out = self._summaries(self.records, self._sync_rows())
            self.audit.append("list", self.installer, count=len(out))
        return out

    def search(self, query: str) -> list[CustomerSummary]:
        """Records whose fields contain every word of `query` (case-insensitive, substring)."""
        terms = query.casefold().split()
        with self.lock:
            if not terms:
                hits = list(self.records)
            else:
                hits = [rid for rid, text in self._haystack.items() if all(t in text for t in terms)]
            out = self._summaries(hits, self._sync_rows(hits))
            self.audit.append("search", self.installer, count=len(out))
        return out

    # -- consent ---------------------------------------------------------------
    def grant_consent(self, rid: str, purpose: str, method: str, policy_version: str | None = None) -> None:
        with self.lock:
            c = copy.deepcopy(self._writable(rid))
            pv = policy_version or self.policy_version
            consent_mod.grant(c.consents, purpose, method, self.installer, pv, at=self.clock())
            self._save(c, "consent_grant", purpose=purpose, method=method, policy_version=pv)

    def withdraw_consent(self, rid: str, purpose: str, *, remove_remote: bool = True) -> bool:
        """Withdraw in one action; for cloud sync the remote copy is removed at once (or queued).

        remove_remote=False only queues the removal (the GUI then runs a sync on a worker).
        """
        with self.lock:
            c = copy.deepcopy(self._get(rid))
            if not consent_mod.withdraw(c.consents, purpose, self.installer, at=self.clock()):
                return False
            self._save(c, "consent_withdraw", purpose=purpose)
            if purpose == "cloud_sync":
                self._queue_remote_removal(rid, "withdrawn")
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

    def record_support_share(self, rid: str) -> None:
        """Call when a diagnostics bundle carrying this record's unmasked data is made."""
        with self.lock:
            if not self.has_support_consent(rid):
                raise consent_mod_error(rid)
            self.audit.append("share_support", self.installer, rid)

    # -- audit -------------------------------------------------------------------
    def audit_entries(self, rid: str | None = None, limit: int = 500) -> list[dict]:
        return self.audit.entries(rid, limit)

    def verify_audit(self) -> int:
        return self.audit.verify()

    def close(self) -> None:
        self.store.close()


def consent_mod_error(rid: str):
    return ConsentRequired(f"Customer record {rid} has no current consent to share with support; "
                           "send masked data or ask the customer for consent first.")
