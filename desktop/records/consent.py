"""Consent: per purpose, recorded with how, when, by whom and for which policy version.

A record keeps a list of consent entries (inside its ciphertext). An entry is
{purpose, granted_at, method, installer, policy_version, withdrawn_at,
withdrawn_by}. The status of a purpose is taken from the newest entry:

  granted   -- given for the current policy version and not withdrawn
  renew     -- given for an older policy version: ask again; nothing is shared
  withdrawn -- withdrawn (one action); nothing is shared from then on
  none      -- never asked

Only `granted` allows sharing. PURPOSES holds the plain-language text the
consent dialog shows: what is shared, with whom, where. Pure functions, any thread.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from .errors import ValidationError

CURRENT_POLICY_VERSION = "2026-01"
METHODS = {
    "signed_on_screen": "Signed on screen",
    "paper": "Signed on paper",
    "verbal": "Verbal (witnessed by the installer)",
}


# Exactly what a bundle made with support-sharing consent carries of the customer record: the
# consent text below is written from these lists, and desktop/diag/redact.py copies only these.
SUPPORT_CUSTOMER_FIELDS = ("name", "phone", "email")
SUPPORT_SITE_FIELDS = ("latitude", "longitude", "device_serials")
_LABELS = {"name": "name", "phone": "phone", "email": "e-mail", "latitude": "site location",
           "device_serials": "device serial numbers"}


def _support_what() -> str:
    named = [_LABELS[f] for f in SUPPORT_CUSTOMER_FIELDS + SUPPORT_SITE_FIELDS if f in _LABELS]
    return (", ".join(named[:-1]) + " and " + named[-1]).capitalize() + (
        " in diagnostic bundles, together with the device data (settings, fault logs, measurements). "
        "Not the postal address, the notes, the site names or the consent history.")


@dataclass(frozen=True)
class Purpose:
    key: str
    title: str
    what: str
    with_whom: str
    where: str


PURPOSES = {
    "cloud_sync": Purpose(
        "cloud_sync", "Cloud sync between the installer company's laptops",
        "The whole customer record: name, phone, e-mail, postal address, notes, sites with "
        "location, installed capacity, device serial numbers and consent entries.",
        "The installer company's own staff who use PVDesk. The storage provider only keeps "
        "encrypted data it cannot read.",
        "The installer company's object storage bucket, encrypted end to end with the "
        "company's sync key.",
    ),
    "support_sharing": Purpose(
        "support_sharing", "Sharing with the manufacturer's support",
        _support_what(),
        "The inverter manufacturer's technical support engineers.",
        "Sent as a diagnostic bundle to the manufacturer's support; each bundle is recorded with "
        "its recipient. Without this consent bundles carry masked data only, and nothing at all of a "
        "record whose processing is restricted.",
    ),
}


def _check(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise ValidationError(f"Unknown consent purpose {purpose!r}; expected one of {sorted(PURPOSES)}.")


def latest(consents: list[dict], purpose: str) -> dict | None:
    _check(purpose)
    if not consents:
        return None
    entries = [c for c in consents if c.get("purpose") == purpose]
    return max(entries, key=lambda c: c.get("granted_at", 0)) if entries else None


def status(consents: list[dict], purpose: str, policy_version: str = CURRENT_POLICY_VERSION) -> str:
    entry = latest(consents, purpose)
    if entry is None:
        return "none"
    if entry.get("withdrawn_at"):
        return "withdrawn"
    if entry.get("policy_version") != policy_version:
        return "renew"
    return "granted"


def allowed(consents: list[dict], purpose: str, policy_version: str = CURRENT_POLICY_VERSION) -> bool:
    return status(consents, purpose, policy_version) == "granted"


def grant(consents: list[dict], purpose: str, method: str, installer: str,
          policy_version: str = CURRENT_POLICY_VERSION, at: float | None = None) -> dict:
    _check(purpose)
    if method not in METHODS:
        raise ValidationError(f"Unknown consent method {method!r}; expected one of {sorted(METHODS)}.")
    if not installer:
        raise ValidationError("The installer who obtained the consent must be named.")
    entry = {"purpose": purpose, "granted_at": time.time() if at is None else at, "method": method,
             "installer": installer, "policy_version": policy_version,
             "withdrawn_at": None, "withdrawn_by": None}
    consents.append(entry)
    return entry


def withdraw(consents: list[dict], purpose: str, installer: str, at: float | None = None) -> bool:
    """Withdraw the current consent; returns False if there was none to withdraw."""
    entry = latest(consents, purpose)
    if entry is None or entry.get("withdrawn_at"):
        return False
    entry["withdrawn_at"] = time.time() if at is None else at
    entry["withdrawn_by"] = installer
    return True


def summary(consents: list[dict], policy_version: str = CURRENT_POLICY_VERSION) -> dict[str, str]:
    return {p: status(consents, p, policy_version) for p in PURPOSES}
