"""A device profile as a profile-file dict, so recordings and bundles carry the profile they were read with.

Any thread. ``to_doc(profile)`` gives the same dict shape as a TOML profile
file; ``from_doc(doc)`` goes back through ``loader.from_dict``, so a profile
from a bundle (which may come from anywhere) is validated by the profile
schema like any file. SunSpec profiles keep their aliases.
"""

from __future__ import annotations

import dataclasses

from protocols.profiles import export, loader
from protocols.profiles.model import Profile


def _code(fc) -> dict:
    return {"text": fc.text, "severity": fc.severity, "code": fc.code}


def to_doc(profile: Profile) -> dict:
    """The profile-file dict of ``profile``."""
    head = {"name": profile.name, "title": profile.title, "vendor": profile.vendor, "kind": profile.kind,
            "max_read_registers": profile.max_read_registers,
            "unreadable": [list(r) for r in profile.unreadable], "source": profile.source}
    if not profile.verified:
        head["verified"] = False
        if profile.extra.get("verification"):
            head["verification"] = profile.extra["verification"]
    doc: dict = {"profile": head, "points": export.point_entries(profile), "link": export.link_dict(profile)}
    ident = {}
    if profile.identity_points:
        ident["points"] = list(profile.identity_points)
    if profile.identity:
        ident["match"] = [export.rule_dict(r) for r in profile.identity]
    if profile.priority:
        ident["priority"] = profile.priority
    if ident:
        doc["identity"] = ident
    if profile.alarms:
        doc["alarms"] = [{"point": a.point, "bits": {str(b): _code(fc) for b, fc in a.bits.items()}}
                         for a in profile.alarms]
    if profile.fault_codes:
        doc["fault_codes"] = {str(c): {"text": fc.text, "severity": fc.severity}
                              for c, fc in profile.fault_codes.items()}
    gate = profile.extra.get("fault_code_valid")
    if gate:
        doc["fault_code_valid"] = {"point": gate["point"], "values": list(gate["values"])}
    if profile.fault_history:
        h = profile.fault_history
        doc["fault_history"] = {k: v for k, v in dataclasses.asdict(h).items() if v is not None}
    if profile.firmware:
        doc["firmware"] = [{k: v for k, v in dataclasses.asdict(c).items() if v is not None} for c in profile.firmware]
    if profile.upgrade_method:
        up = {"method": profile.upgrade_method}
        if profile.upgrade_base is not None:
            up["base_address"] = profile.upgrade_base
        doc["firmware_upgrade"] = up
    if profile.ble:
        doc["ble"] = dict(profile.ble)
    sunspec = dict(profile.extra.get("sunspec") or {})
    if profile.extra.get("aliases"):
        sunspec["_aliases"] = dict(profile.extra["aliases"])
    if sunspec:
        doc["sunspec"] = sunspec
    return doc


def from_doc(doc: dict) -> Profile:
    """A checked Profile from a profile-file dict (ProfileError names what is wrong)."""
    doc = dict(doc)
    sunspec = dict(doc.get("sunspec") or {})
    aliases = sunspec.pop("_aliases", None)
    if "sunspec" in doc:
        doc["sunspec"] = sunspec
    head = doc.get("profile") if isinstance(doc.get("profile"), dict) else {}
    profile = loader.from_dict(doc, source=str(head.get("source") or "recorded profile"))
    if aliases:
        profile = dataclasses.replace(profile, extra={**profile.extra, "aliases": dict(aliases)})
    return profile
