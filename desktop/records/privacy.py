"""Accountability pieces of RecordsService: controller settings, the policy archive, the requests
register, the record of support bundles shared, and the deletion request sent after a withdrawal.

`PrivacyAPI` is mixed into RecordsService and uses only its public parts (the
store's named methods, the audit trail, the requests register, the cache).
Controller settings (organisation, data-protection contact, policy version)
are not personal and sit in the meta table; each policy text is archived
under its SHA-256 the first time its version is set, so what a customer
agreed to can always be shown again. A new policy version makes every
consent "renew" (consent.py). Thread: the caller's.
"""
from __future__ import annotations

import json
import time

from . import consent as consent_mod
from . import crypto
from .errors import ConsentRequired, RecordsError, ValidationError

_CONTROLLER_KEYS = ("organisation", "dpo_contact")


def _day(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


class PrivacyAPI:
    # -- controller settings and the policy archive ------------------------------------------
    def controller(self) -> dict:
        """Organisation, data-protection contact, the current policy version and its text's hash."""
        doc = {k: self.store.meta(f"controller_{k}") or "" for k in _CONTROLLER_KEYS}
        archived = self.policy_archive().get(self.policy_version)
        doc["policy_version"] = self.policy_version
        doc["policy_sha256"] = archived["sha256"] if archived else None
        target = self.sync_target()
        doc["bucket_region"] = target.region if target else None
        return doc

    def set_controller(self, *, organisation: str | None = None, dpo_contact: str | None = None,
                       policy_version: str | None = None, policy_text: str | None = None) -> None:
        values = {}
        if organisation is not None:
            values["controller_organisation"] = organisation.strip()
        if dpo_contact is not None:
            values["controller_dpo_contact"] = dpo_contact.strip()
        if policy_version is not None:
            if not policy_version.strip() or len(policy_version) > 32:
                raise ValidationError("The policy version must have 1 to 32 characters.")
            archive = self.policy_archive()
            if policy_text is None and policy_version not in archive:
                raise ValidationError("Give the text of a new policy version, so it can be archived.")
            if policy_text is not None:
                digest = crypto.sha256(policy_text.encode("utf-8")).hex()
                old = archive.get(policy_version)
                if old and old["sha256"] != digest:
                    raise ValidationError(f"Policy version {policy_version} is archived with another "
                                          "text; give the changed text a new version.")
                archive[policy_version] = {"sha256": digest, "text": policy_text, "archived_at": self.clock()}
                values["policy_archive"] = json.dumps(archive)
            values["policy_version"] = policy_version
        with self.store.transaction():
            self.store.set_settings(values)
            self.audit.append("controller_settings", self.installer, None,
                              fields=sorted(k.replace("controller_", "") for k in values))
        if policy_version is not None:
            self.set_policy_version(policy_version)

    def policy_archive(self) -> dict:
        return json.loads(self.store.meta("policy_archive") or "{}")

    def consent_text(self, purpose: str) -> dict:
        """What the consent dialog shows: the purpose's text with the controller and bucket region."""
        p = consent_mod.PURPOSES[purpose]
        ctl = self.controller()
        where = p.where
        if purpose == "cloud_sync":
            where += (f" Region: {ctl['bucket_region']}." if ctl["bucket_region"]
                      else " Region: not set up yet.")
        return {"title": p.title, "what": p.what, "with_whom": p.with_whom, "where": where,
                "controller": ctl["organisation"] or "(organisation not set)",
                "dpo_contact": ctl["dpo_contact"] or "(not set)", "policy_version": self.policy_version}

    # -- the requests register ------------------------------------------------------------------
    def open_request(self, kind: str, record_id: str | None, identity_check: str,
                     received_at: float | None = None) -> str:
        if record_id is not None and not self.cache.known(record_id):
            raise RecordsError(f"No customer record with id {record_id}.")
        return self.register.open(kind, record_id, identity_check, received_at)

    def close_request(self, request_id: str, outcome: str = "done") -> None:
        self.register.close(request_id, outcome)

    def requests(self) -> list[dict]:
        return self.register.list()

    def requests_export(self) -> dict:
        return {**self.register.export_document(), "controller": self.controller()}

    # -- support bundles ----------------------------------------------------------------------------
    def record_bundle_share(self, rid: str, bundle_id: str, sha256_hex: str, recipient: str, *,
                            masked: bool = False) -> None:
        """A bundle with this record's consented fields (or its masked form) was made for `recipient`."""
        with self.lock:
            # restriction first: consent given before the restriction does not lift it, and "ask for
            # consent" would be the wrong advice for a restricted record
            if self.is_restricted(rid):
                raise ConsentRequired(f"Customer record {rid} is restricted: nothing of it goes into a bundle.")
            if not masked and not self.has_support_consent(rid):
                raise ConsentRequired(f"Customer record {rid} has no current consent to share with support; "
                                      "send device data only or ask the customer for consent first.")
            self.audit.append("share_bundle", self.installer, rid, bundle=bundle_id, sha256=sha256_hex[:64],
                              recipient=recipient, masked=masked)

    def bundles_shared(self, rid: str) -> list[dict]:
        """Bundles that carried this record's personal data unmasked (masked ones carry none)."""
        return [{"bundle_id": e["detail"]["bundle"], "sha256": e["detail"]["sha256"],
                 "recipient": e["detail"]["recipient"], "when": _day(e["ts"])}
                for e in reversed(self.store.audit_entries(rid, 10_000, action="share_bundle"))
                if not e["detail"].get("masked")]

    def deletion_request_draft(self, rid: str) -> str | None:
        """The message asking each recipient to delete the bundles already shared (no personal data)."""
        bundles = self.bundles_shared(rid)
        if not bundles:
            return None
        ctl = self.controller()
        lines = [f"To: {', '.join(sorted({b['recipient'] for b in bundles}))}",
                 "Subject: Request to delete diagnostic bundles (consent withdrawn)", "",
                 "The customer concerned has withdrawn consent to sharing their personal data with "
                 "support. Please delete these diagnostic bundles and every copy made of them, and "
                 "confirm the deletion:", ""]
        lines += [f"  - bundle {b['bundle_id']} (SHA-256 {b['sha256']}), sent {b['when']}" for b in bundles]
        lines += ["", f"Controller: {ctl['organisation'] or '(organisation)'}; data-protection contact: "
                  f"{ctl['dpo_contact'] or '(contact)'}."]
        return "\n".join(lines)
