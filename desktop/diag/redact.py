"""Personal data in a bundle: masked by default, unmasked only with the customer's support consent.

Any thread. ``customer_share(records, customer_id)`` asks the records service
whether the customer consented to sharing with support (purpose
"support_sharing", current policy version, record not restricted) and gives
the customer section of the bundle: the masked record
(``desktop.records.masking.mask_customer``) without consent, the full record
with it. It also lists every personal string of the record, so that
``scrub`` can remove any of them from the free-text members (the app log,
upgrade logs, events) -- the app never logs personal data, and this makes
sure a slip cannot leak into a bundle made without consent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from desktop.records.masking import mask_customer

PURPOSE = "support_sharing"
REDACTED = "[redacted]"


@dataclass
class CustomerShare:
    """The customer section of one bundle and how it was decided."""

    customer_id: str
    consent: str                 # granted | renew | withdrawn | none | restricted
    masked: bool
    record: dict                 # what goes into customer.json
    scrub_terms: list[str] = field(default_factory=list)  # removed from text members when masked


def personal_terms(record: dict) -> list[str]:
    """Every personal string in a customer dict, longest first, with the fragments that identify too."""
    terms: set[str] = set()

    def add(value) -> None:
        text = str(value or "").strip()
        if len(text) >= 3:
            terms.add(text)

    for key in ("name", "phone", "email", "postal_address", "notes"):
        value = str(record.get(key) or "")
        add(value)
        if key == "name":
            for word in value.split():
                if len(word) >= 3:
                    add(word)
        elif key == "email" and "@" in value:
            add(value.rsplit("@", 1)[0])
        elif key == "phone":
            digits = re.sub(r"\D", "", value)
            if len(digits) >= 6:
                add(digits)
                add(digits[-7:])
        elif key == "postal_address":
            for part in re.split(r"[,\n]", value)[:-1]:  # street and number
                add(part)
            for code in re.findall(r"\b[A-Z]{0,2}-?\d[\d -]{2,}\d\b", value):  # postcodes, house numbers
                add(code.strip())
    for site in record.get("sites", []):
        add(site.get("name"))
        for key in ("latitude", "longitude"):
            v = site.get(key)
            if v is not None and round(float(v), 2) != float(v):
                add(repr(float(v)))
    return sorted(terms, key=len, reverse=True)


def customer_share(records, customer_id: str) -> CustomerShare:
    """The customer section for a bundle, masked unless support sharing is consented."""
    customer = records.get_customer(customer_id)
    record = customer.to_dict()
    consent = "restricted" if customer.restricted else records.consent_status(customer_id, PURPOSE)
    if records.has_support_consent(customer_id):
        return CustomerShare(customer_id, consent, False, record)
    masked = mask_customer(record)
    masked.pop("consents", None)  # who obtained consent is not support's business either
    return CustomerShare(customer_id, consent, True, masked, personal_terms(record))


def scrub(data: bytes, terms: list[str]) -> bytes:
    """``data`` with every occurrence of every term (case-insensitive) replaced by [redacted]."""
    if not terms:
        return data
    text = data.decode("utf-8", errors="replace")
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    return pattern.sub(REDACTED, text).encode("utf-8")
