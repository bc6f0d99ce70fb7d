"""A loaded profile back to the entries of a profile file (the inverse of ``loader``).

Runs on any thread (pure functions). Recordings and diagnostic bundles carry
the profile they were read with as a profile-file dict and load it again
through ``loader.from_dict``; the schema's newer parts must survive that
round trip: computed points (``compute``/``of``), bit fields (emitted as the
parent's ``fields``, not as points of their own), codec options, identity
rule groups and the link defaults. Addresses are emitted as on the wire
(``address_base`` 0), whatever the original document counted from.
"""

from __future__ import annotations

import dataclasses

from .model import IdentityRule, Point, Profile


def _default(f: dataclasses.Field):
    if f.default is not dataclasses.MISSING:
        return f.default
    factory = f.default_factory
    return factory() if callable(factory) else dataclasses.MISSING


_DEFAULTS = {f.name: _default(f) for f in dataclasses.fields(Point)
             if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING}
_SKIP = {"compute", "function", "address", "type"}


def rule_dict(rule: IdentityRule) -> dict:
    """An identity rule as the file writes it."""
    if rule.any_of or rule.all_of:
        key = "any_of" if rule.any_of else "all_of"
        d: dict = {key: [rule_dict(r) for r in getattr(rule, key)]}
    else:
        d = {"point": rule.point}
        for key in ("equals", "prefix", "contains", "regex"):
            if getattr(rule, key) is not None:
                d[key] = getattr(rule, key)
        if rule.one_of:
            d["one_of"] = list(rule.one_of)
        if rule.range is not None:
            d["range"] = list(rule.range)
    if rule.negate:
        d["negate"] = True
    return d


def _entry(p: Point) -> dict:
    if p.compute is not None:
        d: dict = {"name": p.name, "compute": p.compute.op, "of": list(p.compute.inputs)}
        if p.compute.missing != "na":
            d["missing"] = p.compute.missing
    else:
        d = {"name": p.name, "address": p.address, "type": p.type}
        if p.function != "holding":
            d["function"] = p.function
    for key, default in _DEFAULTS.items():
        if key in _SKIP or key in d:
            continue
        value = getattr(p, key)
        if value is None or value == default:
            continue
        if key in ("enum", "bits"):
            value = {str(k): v for k, v in value.items()}
        elif isinstance(value, tuple):
            value = list(value)
        d[key] = value
    return d


def point_entries(profile: Profile) -> list[dict]:
    """The ``points`` list of a profile file; bit fields folded back into their parent's ``fields``."""
    fields: dict[str, dict] = {}
    for p in profile.points:
        if p.compute is not None and p.compute.op == "field":
            parent = p.compute.inputs[0]
            f: dict = {"bits": [p.compute.shift, p.compute.shift + p.compute.width - 1]}
            if p.label:
                f["label"] = p.label
            if p.enum:
                f["enum"] = {str(k): v for k, v in p.enum.items()}
            if p.unit:
                f["unit"] = p.unit
            if p.sentinels:
                f["sentinels"] = list(p.sentinels)
            fields.setdefault(parent, {})[p.name[len(parent) + 1:]] = f
    out = []
    for p in profile.points:
        if p.compute is not None and p.compute.op == "field":
            continue
        d = _entry(p)
        if p.name in fields:
            d["fields"] = fields[p.name]
        out.append(d)
    return out


def link_dict(profile: Profile) -> dict:
    """The ``[link]`` table."""
    d = dataclasses.asdict(profile.defaults)
    d["units"], d["tcp_ports"] = list(d["units"]), list(d["tcp_ports"])
    if not d["notes"]:
        del d["notes"]
    if not d["exclusive"]:
        del d["exclusive"]
    return d
