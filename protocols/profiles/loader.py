"""Load, validate and find device profiles.

Runs on any thread. Profiles are TOML files in ``resources/profiles``. An
invalid profile raises ProfileError naming the file, the entry and the field.
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any, overload

import jsonschema

from ..errors import ProfileError
from .model import (
    AlarmWord,
    Compute,
    FaultCode,
    FaultHistory,
    FirmwareComponent,
    IdentityRule,
    LinkDefaults,
    Point,
    Profile,
)
from .schema import PROFILE


def profiles_dir() -> Path:
    """The folder of the profiles shipped with PVDesk."""
    return Path(str(importlib_resources.files("resources"))) / "profiles"


def available() -> list[str]:
    """Names of the shipped profiles."""
    return sorted(p.stem for p in profiles_dir().glob("*.toml"))


def load(name_or_path: str | Path) -> Profile:
    """Load a shipped profile by name, or a profile file by path."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = profiles_dir() / f"{name_or_path}.toml"
        if not path.exists():
            raise ProfileError(f"no profile called {name_or_path!r}; known: {', '.join(available())}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path.name}: cannot read the file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path.name}: not valid TOML: {exc}") from None
    return from_dict(data, source=path.name)


def _where(data: dict, path: list) -> str:
    """Human words for a jsonschema error path: entry and field."""
    parts: list[str] = []
    node: Any = data
    for key in path:
        if isinstance(key, int) and isinstance(node, list):
            item = node[key] if key < len(node) else None
            name = item.get("name") or item.get("point") or item.get("component") if isinstance(item, dict) else None
            parts[-1] = f"{parts[-1]}[{key}]" + (f" ({name!r})" if name else "") if parts else f"[{key}]"
        else:
            parts.append(str(key))
        node = node[key] if isinstance(node, (dict, list)) and (isinstance(node, list) or key in node) else None
    return ", field ".join([parts[0], ".".join(parts[1:])]) if len(parts) > 1 else (parts[0] if parts else "top level")


def from_dict(data: dict, source: str = "<dict>") -> Profile:
    """Validate a parsed profile and build its Profile object."""
    validator = jsonschema.Draft202012Validator(PROFILE)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        raise ProfileError(f"{source}: {_where(data, list(err.absolute_path))}: {err.message}")
    head = data["profile"]
    points = _build_points(data["points"], head, source)
    _check_points(points, source)
    names = {p.name for p in points}

    @overload
    def ref(name: str, where: str) -> str: ...
    @overload
    def ref(name: None, where: str) -> None: ...

    def ref(name: str | None, where: str) -> str | None:
        if name is not None and name not in names:
            raise ProfileError(f"{source}: {where}: refers to unknown point {name!r}")
        return name

    for i, p in enumerate(points):
        ref(p.scale_factor, f"points[{i}] ({p.name!r}), field scale_factor")
        for n in (p.compute.inputs if p.compute else ()):
            ref(n, f"points[{i}] ({p.name!r}), field of")
    ident = data.get("identity", {})
    rules = tuple(_rule(r, f"identity.match[{i}]", ref) for i, r in enumerate(ident.get("match", [])))
    id_points = tuple(ref(n, "identity.points") for n in ident.get("points", []))
    alarms = tuple(
        AlarmWord(point=ref(a["point"], f"alarms[{i}], field point"),
                  bits={int(b): FaultCode(code=v.get("code", int(b)), text=v["text"],
                                          severity=v.get("severity", "error"), cause=v.get("cause", ""),
                                          remedy=v.get("remedy", ""), affects=tuple(v.get("affects", ())))
                        for b, v in a["bits"].items()})
        for i, a in enumerate(data.get("alarms", [])))
    codes = {int(c): FaultCode(code=int(c), text=v["text"], severity=v.get("severity", "error"),
                               cause=v.get("cause", ""), remedy=v.get("remedy", ""),
                               affects=tuple(v.get("affects", ())))
             for c, v in data.get("fault_codes", {}).items()}
    hist = None
    if "fault_history" in data:
        h = data["fault_history"]
        hist = FaultHistory(address=h["address"], entries=h["entries"],
                            function=h.get("function", "input"),
                            entry_registers=h.get("entry_registers", 4),
                            count_point=ref(h.get("count_point"), "fault_history, field count_point"))
    firmware = tuple(
        FirmwareComponent(component=f["component"], label=f["label"],
                          version_point=ref(f["version_point"], f"firmware[{i}], field version_point"),
                          hardware_point=ref(f.get("hardware_point"), f"firmware[{i}], field hardware_point"),
                          serial_point=ref(f.get("serial_point"), f"firmware[{i}], field serial_point"))
        for i, f in enumerate(data.get("firmware", [])))
    upgrade = data.get("firmware_upgrade", {})
    gate = data.get("fault_code_valid")
    if gate is not None:
        ref(gate["point"], "fault_code_valid, field point")
        ref("active_fault_code", "fault_code_valid (the code it gates)")
    return Profile(
        name=head["name"], title=head["title"], vendor=head["vendor"], source=source,
        points=tuple(points), identity=rules, identity_points=id_points,
        unreadable=tuple(tuple(r) for r in head.get("unreadable", [])),
        max_read_registers=head.get("max_read_registers", 125),
        alarms=alarms, fault_codes=codes, fault_history=hist, firmware=firmware,
        upgrade_method=upgrade.get("method"), upgrade_base=upgrade.get("base_address"),
        ble=data.get("ble", {}), kind=head.get("kind", "map"),
        extra={"sunspec": data.get("sunspec", {}), "verification": head.get("verification", ""),
               **({"fault_code_valid": {"point": gate["point"], "values": tuple(gate["values"])}} if gate else {})},
        priority=ident.get("priority", 0), defaults=_link(data.get("link", {})),
        verified=head.get("verified", True), address_base=head.get("address_base", 0),
    )


def _link(raw: dict) -> LinkDefaults:
    return LinkDefaults(units=tuple(raw.get("units", (1,))), tcp_ports=tuple(raw.get("tcp_ports", (502,))),
                        baud=raw.get("baud", 9600), parity=raw.get("parity", "N"),
                        stopbits=raw.get("stopbits", 1), exclusive=raw.get("exclusive", False),
                        notes=raw.get("notes", ""))


def _rule(raw: dict, where: str, ref) -> IdentityRule:
    """An identity rule (leaf or any_of/all_of group), its points checked and its regex compiled."""
    groups = [k for k in ("any_of", "all_of") if k in raw]
    tests = [k for k in ("equals", "one_of", "prefix", "contains", "regex", "range") if k in raw]
    if groups:
        if len(groups) > 1 or tests or "point" in raw:
            raise ProfileError(f"{where}: a rule is either a group (any_of or all_of) or one test on a point")
        subs = tuple(_rule(r, f"{where}.{groups[0]}[{i}]", ref) for i, r in enumerate(raw[groups[0]]))
        return IdentityRule(any_of=subs if groups[0] == "any_of" else (),
                            all_of=subs if groups[0] == "all_of" else (), negate=raw.get("negate", False))
    if "point" not in raw or len(tests) != 1:
        raise ProfileError(f"{where}: a rule names a point and exactly one of equals, one_of, prefix, "
                           f"contains, regex, range")
    if "regex" in raw:
        try:
            re.compile(raw["regex"])
        except re.error as exc:
            raise ProfileError(f"{where}, field regex: not a valid regular expression: {exc}") from None
    return IdentityRule(point=ref(raw["point"], f"{where}, field point"), equals=raw.get("equals"),
                        prefix=raw.get("prefix"), contains=raw.get("contains"), regex=raw.get("regex"),
                        one_of=tuple(raw.get("one_of", ())),
                        range=tuple(raw["range"]) if "range" in raw else None,
                        negate=raw.get("negate", False))


def _build_points(raws: list[dict], head: dict, source: str) -> list[Point]:
    """Point objects from the file's entries: defaults, address base, computed points, bit fields."""
    default_order = head.get("word_order", "big")
    base = head.get("address_base", 0)
    points = []
    for i, raw in enumerate(raws):
        where = f"{source}: points[{i}] ({raw['name']!r})"
        kw = dict(raw)
        fields = kw.pop("fields", {})
        op, of, missing = kw.pop("compute", None), kw.pop("of", None), kw.pop("missing", "na")
        if op:
            if "address" in kw or "type" in kw:
                raise ProfileError(f"{where}, field compute: a computed point has no address or type")
            if not of:
                raise ProfileError(f"{where}, field of: a computed point names the points it is made from")
            if op == "ratio" and len(of) != 2:
                raise ProfileError(f"{where}, field of: a ratio takes exactly two points")
            kw.update(address=0, type="computed", function="computed",
                      compute=Compute(op, tuple(of), missing))
        else:
            for key in ("address", "type"):
                if key not in kw:
                    raise ProfileError(f"{where}, field {key}: required (or make it a computed point)")
            if of:
                raise ProfileError(f"{where}, field of: only a computed point (compute = ...) has inputs")
            if kw["address"] < base:
                raise ProfileError(f"{where}, field address: below the document's first address {base}")
            kw["address"] -= base
        kw.setdefault("word_order", default_order)
        for key in ("range", "plausible"):
            if key in kw:
                kw[key] = tuple(kw[key])
        for key in ("sentinels", "layout"):
            if key in kw:
                kw[key] = tuple(kw[key])
        for key in ("enum", "bits"):
            if key in kw:
                kw[key] = {int(k): v for k, v in kw[key].items()}
        if kw["type"] in ("string", "datetime") and "count" not in kw and kw.get("encoding") != "epoch":
            raise ProfileError(f"{where}, field count: a {kw['type']} point needs a register count")
        if kw["type"] == "datetime":
            if kw.get("encoding") == "epoch":
                kw["count"] = 2
            elif not kw.get("layout") or len(kw["layout"]) not in (kw["count"], 2 * kw["count"]):
                raise ProfileError(f"{where}, field layout: a date-time names one field per register "
                                   f"or two per register ({kw['count']} registers)")
        point = Point(**kw)
        points.append(point)
        for fname, f in fields.items():
            lo, hi = f["bits"]
            if hi < lo:
                raise ProfileError(f"{where}, field fields.{fname}: bits run from low to high")
            points.append(Point(
                name=f"{point.name}_{fname}", address=0, type="computed", function="computed",
                label=f.get("label", f"{point.label or point.name} {fname}"), unit=f.get("unit", ""),
                category=point.category, rate=point.rate, sentinel=False,
                enum={int(k): v for k, v in f.get("enum", {}).items()},
                sentinels=tuple(f.get("sentinels", ())),
                compute=Compute("field", (point.name,), shift=lo, width=hi - lo + 1)))
    return points


def _check_points(points: list[Point], source: str) -> None:
    """Names unique, ranges ordered, points of one function do not overlap."""
    seen: dict[str, int] = {}
    for i, p in enumerate(points):
        where = f"{source}: points[{i}] ({p.name!r})"
        if p.name in seen:
            raise ProfileError(f"{where}, field name: duplicate of points[{seen[p.name]}]")
        seen[p.name] = i
        if p.range and p.range[0] > p.range[1]:
            raise ProfileError(f"{where}, field range: minimum above maximum")
        if p.min is not None and p.max is not None and p.min > p.max:
            raise ProfileError(f"{where}, field min: above max")
        if p.end > 65536:
            raise ProfileError(f"{where}, field address: runs past register 65535")
    by_fn: dict[str, list[tuple[int, int, str]]] = {}
    for p in points:
        if p.computed:
            continue
        by_fn.setdefault(p.function, []).append((p.address, p.end, p.name))
    for fn, spans in by_fn.items():
        spans.sort()
        for (_a0, e0, n0), (a1, _e1, n1) in zip(spans, spans[1:]):
            if a1 < e0:
                raise ProfileError(f"{source}: points {n0!r} and {n1!r} overlap in {fn} registers at {a1}")
