"""The customer record: plain dataclasses, field rules, JSON form, search text.

A record is one customer with their sites; each site has its devices (by
serial) and the metadata of its documents (commissioning reports, firmware
upgrade logs; the bytes live encrypted in the documents table). The consent
entries and the restriction flag travel inside the record, so they are
encrypted with it and synced with it. Only the customer's name and a site's
name are required: everything else is optional (FIELDS says so for the form).
Pure data, any thread.
"""
from __future__ import annotations

import re
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import ValidationError

DOCUMENT_KINDS = ("commissioning_report", "firmware_upgrade_log", "other")


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    required: bool
    hint: str = ""


CUSTOMER_FIELDS = (
    FieldSpec("name", "Name", True, "as the customer wants to be addressed"),
    FieldSpec("phone", "Phone", False, "+49 30 1234567"),
    FieldSpec("email", "E-mail", False, "name@example.com"),
    FieldSpec("postal_address", "Postal address", False, "street, postcode, city"),
    FieldSpec("notes", "Notes", False, "access, dog, meter cupboard key..."),
)
SITE_FIELDS = (
    FieldSpec("name", "Site name", True, "e.g. Home, Barn roof"),
    FieldSpec("location", "Location (lat, lon)", False, "52.5200, 13.4050"),
    FieldSpec("installed_capacity_kwp", "Installed capacity (kWp)", False, "9.8"),
    FieldSpec("device_serials", "Device serials", False, "comma separated"),
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()/.\-]{4,24}$")


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


@dataclass
class Site:
    site_id: str
    name: str
    latitude: float | None = None
    longitude: float | None = None
    installed_capacity_kwp: float | None = None
    device_serials: list[str] = field(default_factory=list)
    documents: list[dict] = field(default_factory=list)  # {doc_id, kind, filename, size, created_at}

    @classmethod
    def from_dict(cls, d: dict) -> "Site":
        return cls(
            site_id=d.get("site_id") or new_id("site"), name=str(d.get("name", "")).strip(),
            latitude=_opt_float(d.get("latitude"), "latitude"),
            longitude=_opt_float(d.get("longitude"), "longitude"),
            installed_capacity_kwp=_opt_float(d.get("installed_capacity_kwp"), "installed capacity"),
            device_serials=[str(s).strip() for s in d.get("device_serials", []) if str(s).strip()],
            documents=list(d.get("documents", [])),
        )

    def validate(self) -> None:
        if not self.name:
            raise ValidationError("The site name is required.")
        if self.latitude is not None and not -90 <= self.latitude <= 90:
            raise ValidationError("The site latitude must be between -90 and 90.")
        if self.longitude is not None and not -180 <= self.longitude <= 180:
            raise ValidationError("The site longitude must be between -180 and 180.")
        if (self.latitude is None) != (self.longitude is None):
            raise ValidationError("The site location needs both latitude and longitude.")
        if self.installed_capacity_kwp is not None and not 0 <= self.installed_capacity_kwp <= 100_000:
            raise ValidationError("The installed capacity must be between 0 and 100000 kWp.")


@dataclass
class Customer:
    id: str
    name: str
    phone: str = ""
    email: str = ""
    postal_address: str = ""
    notes: str = ""
    sites: list[Site] = field(default_factory=list)
    consents: list[dict] = field(default_factory=list)
    restricted: bool = False
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    last_visit_at: float | None = None  # last service visit at a site: the retention clock's start

    @classmethod
    def from_dict(cls, d: dict) -> "Customer":
        return cls(
            id=d.get("id") or new_id("cust"), name=str(d.get("name", "")).strip(),
            phone=str(d.get("phone", "") or "").strip(), email=str(d.get("email", "") or "").strip(),
            postal_address=str(d.get("postal_address", "") or "").strip(),
            notes=str(d.get("notes", "") or ""),
            sites=[Site.from_dict(s) for s in d.get("sites", [])],
            consents=list(d.get("consents", [])), restricted=bool(d.get("restricted", False)),
            created_at=float(d.get("created_at", time.time())),
            updated_at=float(d.get("updated_at", time.time())),
            last_visit_at=None if d.get("last_visit_at") is None else float(d["last_visit_at"]),
        )

    def retention_start(self) -> float:
        """Retention counts from the last service visit (else the record's creation), not from edits."""
        return self.last_visit_at if self.last_visit_at is not None else self.created_at

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def validate(self) -> None:
        if not self.name:
            raise ValidationError("The customer name is required.")
        if self.email and not _EMAIL.match(self.email):
            raise ValidationError("The e-mail address is not valid (expected name@domain).")
        if self.phone and not _PHONE.match(self.phone):
            raise ValidationError("The phone number may hold only digits, spaces, + ( ) / . and -.")
        for site in self.sites:
            site.validate()

    def site(self, site_id: str) -> Site:
        for s in self.sites:
            if s.site_id == site_id:
                return s
        raise ValidationError(f"No site {site_id} in customer record {self.id}.")

    def personal_values(self) -> list[str]:
        """Every free-text personal value: what must never appear in plaintext."""
        vals = [self.name, self.phone, self.email, self.postal_address, self.notes]
        for s in self.sites:
            vals += [s.name, *s.device_serials]
        return [v for v in vals if v]

    def search_text(self) -> str:
        parts = self.personal_values()
        digits = re.sub(r"\D", "", self.phone)
        return "\n".join(p.casefold() for p in parts) + ("\n" + digits if digits else "")


def _opt_float(value: Any, what: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"The {what} must be a number.") from None


def parse_location(text: str) -> tuple[float | None, float | None]:
    """'52.52, 13.405' -> (52.52, 13.405); '' -> (None, None)."""
    text = text.strip()
    if not text:
        return None, None
    parts = [p for p in re.split(r"[,;\s]+", text) if p]
    if len(parts) != 2:
        raise ValidationError("The location must be 'latitude, longitude' in decimal degrees.")
    return _opt_float(parts[0], "latitude"), _opt_float(parts[1], "longitude")
