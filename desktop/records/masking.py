"""Masking personal data for diagnostics exports made without support consent.

`mask_customer` takes a customer as a dict (Customer.to_dict() or a subset)
and returns a copy in which a support engineer can still tell records apart
and place a site roughly, but cannot identify the person:

  name      "John Smith"                  -> "J*** S****"
  phone     "+49 30 1234567"              -> "+49 *** ***67"
  e-mail    "john.smith@example.com"      -> "j***@example.com"
  address   "Hauptstr. 5, 10115 Berlin"   -> "Berlin"  (the city only)
  location  52.520008, 13.404954          -> 52.52, 13.40  (about 1 km)
  notes     free text                     -> removed
  consents  installer names               -> removed

Whether masking applies is decided by RecordsService.has_support_consent().
Pure functions, any thread.
"""
from __future__ import annotations

import copy
import re

__all__ = ["mask_customer", "mask_name", "mask_phone", "mask_email", "city_only", "round_location"]


def mask_name(name: str) -> str:
    return " ".join(w[0] + "*" * max(len(w) - 1, 3) for w in str(name).split())


def mask_phone(phone: str) -> str:
    phone = str(phone).strip()
    digits = re.sub(r"\D", "", phone)
    if not digits:
        return ""
    prefix = ""
    if phone.startswith("+"):
        first = phone.split()[0]
        prefix = first if 2 <= len(first) <= 4 else "+" + digits[:2]
    elif phone.startswith("00"):
        prefix = "+" + digits[2:4]
    return (prefix + " " if prefix else "") + "*** ***" + digits[-2:]


def mask_email(email: str) -> str:
    email = str(email).strip()
    if "@" not in email:
        return "***" if email else ""
    local, domain = email.rsplit("@", 1)
    return (local[:1] or "*") + "***@" + domain


def city_only(address: str) -> str:
    parts = [p.strip() for p in re.split(r"[,\n]", str(address)) if p.strip()]
    if not parts:
        return ""
    last = parts[-1]
    if re.fullmatch(r"[A-Za-z ]{2,}", last) and len(parts) >= 2 and re.search(r"\d", parts[-2]):
        last = parts[-2]  # "..., 10115 Berlin, Germany" -> "10115 Berlin"
    city = re.sub(r"(^|\s)[A-Z]{0,2}-?\d[\d\- ]*", " ", last).strip()
    return city or "***"


def round_location(value):
    return None if value is None else round(float(value), 2)


def mask_customer(customer: dict) -> dict:
    out = copy.deepcopy(customer)
    if out.get("name"):
        out["name"] = mask_name(out["name"])
    if out.get("phone"):
        out["phone"] = mask_phone(out["phone"])
    if out.get("email"):
        out["email"] = mask_email(out["email"])
    if out.get("postal_address"):
        out["postal_address"] = city_only(out["postal_address"])
    if "notes" in out:
        out["notes"] = ""
    if "consents" in out:
        out["consents"] = [{k: v for k, v in c.items() if k not in ("installer", "withdrawn_by")}
                           for c in out["consents"]]
    for i, site in enumerate(out.get("sites", []), 1):
        site["name"] = f"Site {i}"
        for key in ("latitude", "longitude"):
            if key in site:
                site[key] = round_location(site[key])
        if isinstance(site.get("location"), (list, tuple)):
            site["location"] = [round_location(v) for v in site["location"]]
        for doc in site.get("documents", []):
            doc.pop("filename", None)
    return out
