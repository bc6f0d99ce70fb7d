"""The customer's rights: portable export, restriction, erasure, retention purge.

`export_document` builds the machine-readable JSON a customer receives for
the right of access and of portability: every field held, the sites with
their documents (base64), the consent history, the record's restriction state
and the non-personal audit entries about the record. The format is versioned
("pvdesk-customer-export/1") so another tool can read it.

`RightsMixin` is the rights half of RecordsService (see service.py for the
state it relies on). Erasure goes through RecordStore.destroy: the record's rows
and its shred secret destroyed (crypto-shred per record; every other record,
in the store and in its backups, keeps its key), the remote copy removed
(now, or queued while offline).
Thread: the caller's; `remove_remote=True` does network I/O, so the GUI passes
False and lets its sync worker remove the copy.
"""
from __future__ import annotations

import base64
import copy
import json
import logging
import time

from . import receipt as receipt_mod
from . import retention
from .consent import CURRENT_POLICY_VERSION, summary
from .errors import RecordNotFound
from .model import Customer

log = logging.getLogger(__name__)

EXPORT_FORMAT = "pvdesk-customer-export/1"


def export_document(customer: Customer, documents: dict[str, bytes], audit: list[dict],
                    policy_version: str = CURRENT_POLICY_VERSION, controller: dict | None = None) -> dict:
    data = customer.to_dict()
    for site in data["sites"]:
        for doc in site["documents"]:
            blob = documents.get(doc["doc_id"])
            doc["content_base64"] = base64.b64encode(blob).decode() if blob is not None else None
    return {
        "format": EXPORT_FORMAT,
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "controller_note": "Data held by the installer company in PVDesk about this customer.",
        "controller": controller or {},
        "customer": data,
        "consent_status": summary(customer.consents, policy_version),
        "processing_log": [
            {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(e["ts"])),
             "action": e["action"], "by": e["installer"]} for e in audit],
    }


def export_json(doc: dict) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False)


class RightsMixin:
    def export_json(self, rid: str) -> str:
        with self.lock:
            c = self._get(rid)
            doc = export_document(c, self._documents(rid), self.audit.entries(rid),
                                  self.policy_version, self.controller())
            archive = self.policy_archive()
            doc["policies"] = {v: archive[v] for v in sorted({e.get("policy_version") for e in c.consents})
                               if v in archive}  # the texts the customer agreed to
            self.audit.append("export", self.installer, rid)
        return export_json(doc)

    def restrict(self, rid: str, *, remove_remote: bool = True) -> None:
        with self.lock:
            c = copy.deepcopy(self._get(rid))
            if c.restricted:
                return
            c.restricted = True
            with self.store.transaction():
                self._save(c, "restrict")
                self.engine.queue_removal(rid, "restricted")
        if remove_remote:
            self.remove_remote_now(rid)

    def unrestrict(self, rid: str) -> None:
        with self.lock:
            c = copy.deepcopy(self._get(rid))
            c.restricted = False
            self._save(c, "unrestrict")

    def delete(self, rid: str, *, remove_remote: bool = True) -> None:
        """Erase irrecoverably: the record's key destroyed, remote copy removed (or queued).

        Returns the erasure receipt (see receipt.py)."""
        return self._destroy([rid], "delete", remove_remote)[0]

    def _destroy(self, rids: list[str], action: str, remove_remote: bool = True) -> None:
        with self.lock:
            for rid in rids:
                if not self.cache.known(rid):
                    raise RecordNotFound(rid)
            synced = [r for r in rids if self.store.ever_synced(r)]
            now, controller = self.clock(), self.controller()
            passphrase_mode = self.secrets.backend_name == "passphrase"
            receipts = {rid: receipt_mod.new(rid, action, now, self.installer, controller,
                                             documents=self.store.document_count(rid), shared=rid in synced,
                                             passphrase_mode=passphrase_mode) for rid in rids}

            def record() -> None:  # commits with the deletion itself
                for rid in rids:
                    self.audit.append(action, self.installer, rid)
                    self.store.put_receipt(rid, receipts[rid])
                    if rid in synced:
                        self.store.queue_remote_removal(rid, "deleted", now)

            self.store.destroy(rids, record)
            for rid in rids:
                self.cache.drop(rid)
        for rid in synced if remove_remote else ():
            self.remove_remote_now(rid)
        log.info("%s: %d record(s) destroyed", action, len(rids))
        return [self.store.receipt(rid) for rid in rids]

    def erasure_limits(self) -> list[str]:
        """What an erasure does and does not reach here, in words (for the dialog and receipts)."""
        return receipt_mod.limits(self.secrets.backend_name == "passphrase")

    def erasure_receipt(self, rid: str) -> dict | None:
        """The receipt of an erased record (updated as the bucket and other laptops confirm)."""
        return self.store.receipt(rid)

    # -- retention -------------------------------------------------------------
    @property
    def retention_days(self) -> int:
        return retention.parse_days(self.store.meta("retention_days"))

    def set_retention_days(self, days: int) -> None:
        retention.parse_days(days)
        self.store.set_settings({"retention_days": str(int(days))})

    def expired(self) -> list[str]:
        with self.lock:
            return retention.expired(self.cache.records.values(), self.retention_days, self.clock())

    def purge_expired(self, rids: list[str] | None = None, *, remove_remote: bool = True) -> list[str]:
        """Purge the reviewed ids (default: every expired record). Returns the purged ids."""
        due = self.expired()
        targets = due if rids is None else [r for r in rids if r in due]
        if targets:
            self._destroy(targets, "purge", remove_remote)
        return targets

