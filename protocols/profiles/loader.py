"""Load, validate and find device profiles.

Runs on any thread. Profiles are TOML files in ``resources/profiles``. An
invalid profile raises ProfileError naming the file, the entry and the field.
"""

from __future__ import annotations

import tomllib
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any, overload

import jsonschema

from ..errors import ProfileError
from .model import AlarmWord, FaultCode, FaultHistory, FirmwareComponent, IdentityRule, Point, Profile
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
    default_order = head.get("word_order", "big")
    points = []
    for i, raw in enumerate(data["points"]):
        kw = dict(raw)
        kw.setdefault("word_order", default_order)
        if "range" in kw:
            kw["range"] = tuple(kw["range"])
        for key in ("enum", "bits"):
            if key in kw:
                kw[key] = {int(k): v for k, v in kw[key].items()}
        if kw["type"] == "string" and "count" not in kw:
            raise ProfileError(f"{source}: points[{i}] ({raw['name']!r}), field count: "
                               "a string point needs a register count")
        points.append(Point(**kw))
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
    ident = data.get("identity", {})
    rules = tuple(IdentityRule(point=ref(r["point"], f"identity.match[{i}], field point"),
                               equals=r.get("equals"), prefix=r.get("prefix"))
                  for i, r in enumerate(ident.get("match", [])))
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
    return Profile(
        name=head["name"], title=head["title"], vendor=head["vendor"], source=source,
        points=tuple(points), identity=rules, identity_points=id_points,
        unreadable=tuple(tuple(r) for r in head.get("unreadable", [])),
        max_read_registers=head.get("max_read_registers", 125),
        alarms=alarms, fault_codes=codes, fault_history=hist, firmware=firmware,
        upgrade_method=upgrade.get("method"), upgrade_base=upgrade.get("base_address"),
        ble=data.get("ble", {}), kind=head.get("kind", "map"),
        extra={"sunspec": data.get("sunspec", {})},
    )


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
        by_fn.setdefault(p.function, []).append((p.address, p.end, p.name))
    for fn, spans in by_fn.items():
        spans.sort()
        for (_a0, e0, n0), (a1, _e1, n1) in zip(spans, spans[1:]):
            if a1 < e0:
                raise ProfileError(f"{source}: points {n0!r} and {n1!r} overlap in {fn} registers at {a1}")
