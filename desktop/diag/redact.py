"""Personal data in a bundle: exactly the consented fields, masked without consent, nothing if restricted.

Any thread. ``customer_share(records, customer_id)`` asks the records service
whether the customer consented to sharing with support (purpose
"support_sharing", current policy version, record not restricted) and gives
the customer section of one bundle:

  consent     exactly the fields the consent text names
              (desktop.records.consent.SUPPORT_*_FIELDS) -- not the postal
              address, the notes, the site names or the consent history;
  no consent  the masked record (desktop.records.masking.mask_customer);
  restricted  nothing at all: no customer section, not even masked.

Every bundle gets a new pseudonym for the customer (the record's own id never
leaves), and a bundle id; once written, the bundle's id, SHA-256 and
recipient go to the audit trail (``RecordsService.record_bundle_share``).
The share also carries matchers for every personal value that must not
appear in the free-text members (app log, upgrade logs, events), so
``scrub`` removes a slip however it is spelled.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from desktop.records.consent import SUPPORT_CUSTOMER_FIELDS, SUPPORT_SITE_FIELDS
from desktop.records.masking import REDACTED, mask_customer, pseudonym, scrub, scrub_patterns

PURPOSE = "support_sharing"
__all__ = ["PURPOSE", "REDACTED", "CustomerShare", "customer_share", "consented_fields", "scrub"]


@dataclass
class CustomerShare:
    """The customer section of one bundle and how it was decided."""

    customer_id: str             # the pseudonym used in this bundle only
    consent: str                 # granted | renew | withdrawn | none | restricted
    masked: bool
    record: dict | None          # what goes into customer.json; None: no customer section at all
    scrub_terms: list = field(default_factory=list)  # compiled patterns removed from text members
    record_id: str = ""          # the local record id (never written into the bundle)
    bundle_id: str = field(default_factory=lambda: "bundle-" + secrets.token_hex(8))


def consented_fields(record: dict, pseudonym_id: str) -> dict:
    """The record cut down to exactly what the support-sharing consent names."""
    out = {"id": pseudonym_id, **{k: record.get(k, "") for k in SUPPORT_CUSTOMER_FIELDS}}
    out["sites"] = [{k: s.get(k) for k in SUPPORT_SITE_FIELDS} for s in record.get("sites", [])]
    return out


def _leftovers(record: dict) -> dict:
    """The personal values the consent does not cover (to scrub from the text members)."""
    return {"postal_address": record.get("postal_address"), "notes": record.get("notes"),
            "sites": [{"name": s.get("name")} for s in record.get("sites", [])]}


def customer_share(records, customer_id: str) -> CustomerShare:
    """The customer section for one bundle (see the module docstring)."""
    if records.is_restricted(customer_id):
        record = records.get_customer(customer_id).to_dict()
        return CustomerShare(pseudonym(), "restricted", True, None, scrub_patterns(record), customer_id)
    record = records.get_customer(customer_id).to_dict()
    consent = records.consent_status(customer_id, PURPOSE)
    alias = pseudonym()
    if records.has_support_consent(customer_id):
        return CustomerShare(alias, consent, False, consented_fields(record, alias),
                             scrub_patterns(_leftovers(record)), customer_id)
    return CustomerShare(alias, consent, True, mask_customer(record, alias), scrub_patterns(record), customer_id)
