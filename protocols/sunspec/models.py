"""SunSpec model definitions (pysunspec2's) -> PVDesk profile points.

Runs on any thread (pure functions). pysunspec2 ships the SunSpec model
definitions as JSON and loads them with ``sunspec2.device.get_model_def``;
this module walks one model's definition at the address where discovery
found it and makes a ``Point`` per register value: codec type, scale-factor
point, unit, category and poll rate. Repeating groups (the MPPT model's
modules) are laid out by the model length the device reports.

Naming: ``<prefix>_<sunspec point name, lower case>``, the prefix being the
model's role (``common``, ``inverter``, ``mppt``, ``storage``, ``meter``,
``der_*``); a repeating group numbers its instances (``mppt1_dcw``); a second
instance of a model gets a number (``meter2_w``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sunspec2 import device as ss_device

from ..profiles.model import AlarmWord, FaultCode, Point

#: Model id -> role prefix of its point names. Only these models become points.
PREFIXES = {1: "common", 101: "inverter", 102: "inverter", 103: "inverter",
            111: "inverter", 112: "inverter", 113: "inverter", 124: "storage", 160: "mppt",
            201: "meter", 202: "meter", 203: "meter", 204: "meter",
            701: "der_ac", 702: "der_capacity", 703: "der_enter_service", 704: "der_ctl_ac",
            705: "der_volt_var", 706: "der_volt_watt", 707: "der_trip_lv", 708: "der_trip_hv",
            709: "der_trip_lf", 710: "der_trip_hf", 711: "der_freq_droop", 712: "der_watt_var",
            713: "der_storage", 714: "der_dc"}

#: Repeating groups whose instances get their own short prefix.
GROUP_PREFIXES = {(160, "module"): "mppt"}

#: SunSpec point type -> codec type (None: skipped, the registers stay a gap).
TYPES = {"uint16": "u16", "int16": "s16", "uint32": "u32", "int32": "s32", "uint64": "u64",
         "int64": "s64", "acc16": "u16", "acc32": "acc32", "acc64": "acc64", "count": "u16",
         "enum16": "enum16", "enum32": "u32", "bitfield16": "bitfield16",
         "bitfield32": "bitfield32", "sunssf": "sunssf", "string": "string", "float32": "float32",
         "ipaddr": "u32", "pad": None, "float64": None, "eui48": None, "ipv6addr": None}

UNITS = {"C": "°C", "Pct": "%", "Secs": "s", "Tmp": "°C"}


@dataclass
class ModelPoints:
    """What one model instance contributes to a profile."""

    model_id: int
    address: int
    length: int
    prefix: str
    points: list[Point] = field(default_factory=list)
    alarms: list[AlarmWord] = field(default_factory=list)
    skipped_groups: list[str] = field(default_factory=list)


def model_def(model_id: int) -> dict:
    """pysunspec2's definition of ``model_id`` (raises ModelDefinitionError if unknown)."""
    return ss_device.get_model_def(model_id, mapping=False)


def group_length(group: dict) -> int:
    """Registers of one instance of ``group``'s own points (nested groups excluded)."""
    return sum(int(p.get("size", 1)) for p in group.get("points", []))


def _category(model_id: int, name: str, ptype: str, access: str) -> tuple[str, str]:
    """(category, rate) of a SunSpec point by its model and name."""
    n = name.lower()
    if ptype == "sunssf":
        return "other", "slow"
    if model_id == 1:
        return "identity", "once"
    if ptype == "string" or n in ("id", "n"):
        return "identity", "once"
    if ptype.startswith("bitfield") and n.startswith(("evt", "dcevt")):
        return "alarm", "fast"
    if access == "RW":
        return "setting", "slow"
    if n.startswith(("st", "dcst", "chast")) and ptype.startswith("enum"):
        return "status", "fast"
    if n.startswith(("tmp",)):
        return "temperature", "slow"
    if n.startswith(("wh", "totwh", "totvah", "totvarh", "dcwh", "actwh", "actvah", "actvarh")):
        return "energy", "slow"
    if model_id == 124 or model_id == 713:
        return "battery", "fast"
    if model_id == 160 or n.startswith("dc") or model_id == 714:
        return "pv", "fast"
    if 200 <= model_id < 300:
        return "meter", "fast"
    return "ac", "fast"


def _symbols(pdef: dict) -> dict[int, str]:
    return {int(s["value"]): s.get("label") or s["name"] for s in pdef.get("symbols", [])}


def _alarm_text(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _points_of(model_id: int, group: dict, start: int, prefix: str, scope: dict[str, str],
               out: ModelPoints, header: bool = False) -> int:
    """Append the points of one group instance at ``start``; returns the next address."""
    addr = start
    local: dict[str, str] = dict(scope)
    for pdef in group.get("points", []):
        local[pdef["name"]] = f"{prefix}_{pdef['name'].lower()}"
    for pdef in group.get("points", []):
        size = int(pdef.get("size", 1))
        ctype = TYPES.get(pdef["type"])
        if ctype is None or (header and pdef["name"] in ("ID", "L")):
            addr += size
            continue
        name = local[pdef["name"]]
        access = pdef.get("access", "R")
        category, rate = _category(model_id, pdef["name"], pdef["type"], access)
        sym = _symbols(pdef)
        sf = pdef.get("sf")
        sf_name = local.get(sf) if isinstance(sf, str) else None
        point = Point(
            name=name, address=addr, type=ctype, function="holding",
            count=size if ctype == "string" else None,
            scale_factor=sf_name, unit=UNITS.get(pdef.get("units", ""), pdef.get("units", "")),
            label=pdef.get("label", pdef["name"]), category=category, rate=rate,
            enum=sym if pdef["type"].startswith("enum") else {},
            bits=sym if pdef["type"].startswith("bitfield") else {},
            sentinel=pdef["type"] not in ("acc16", "count", "pad"),
            writable=access == "RW" and sf_name is None and ctype != "string",
            confirm=access == "RW",
            description=(pdef.get("desc") or "") + (
                " (writable on the device; PVDesk does not write scale-factor points yet)"
                if access == "RW" and sf_name else ""),
        )
        if point.writable and point.enum:
            point = replace(point, min=min(point.enum), max=max(point.enum))
        out.points.append(point)
        if category == "alarm" and sym:
            base = model_id * 1000 + len(out.alarms) * 100
            bits = {b: FaultCode(code=base + b, text=_alarm_text(t),
                                 severity="warning" if model_id == 160 else "error")
                    for b, t in sym.items() if not t.upper().startswith("RESERVED")}
            if bits:
                out.alarms.append(AlarmWord(point=name, bits=bits))
        addr += size
    return addr


def model_points(model_id: int, address: int, length: int, instance: int = 1) -> ModelPoints:
    """Points of model ``model_id`` whose ID register is at ``address`` and whose L is ``length``."""
    base_prefix = PREFIXES[model_id]
    prefix = base_prefix if instance == 1 else f"{base_prefix}{instance}"
    out = ModelPoints(model_id, address, length, prefix)
    top = model_def(model_id)["group"]
    end = address + 2 + length
    addr = _points_of(model_id, top, address, prefix, {}, out, header=True)
    scope = {p["name"]: f"{prefix}_{p['name'].lower()}" for p in top.get("points", [])}
    groups = top.get("groups", [])
    for gi, g in enumerate(groups):
        glen = group_length(g)
        count = g.get("count")
        if g.get("groups") or glen == 0:
            out.skipped_groups.append(g["name"])
            break
        if isinstance(count, int) and count > 0:
            n = count
        elif count is None:
            n = 1
        elif gi == len(groups) - 1:
            n = max(0, (end - addr) // glen)
        else:
            out.skipped_groups.append(g["name"])
            break
        gprefix = GROUP_PREFIXES.get((model_id, g["name"]), f"{prefix}_{g['name'].lower()}")
        if instance > 1 and (model_id, g["name"]) in GROUP_PREFIXES:
            gprefix = f"{prefix}_{gprefix}"
        for k in range(n):
            name = gprefix if count is None else f"{gprefix}{k + 1}"
            addr = _points_of(model_id, g, addr, name, scope, out)
    out.points = [p for p in out.points if p.end <= end]
    return out


def model_length(model_id: int, repeats: int = 0) -> int:
    """The L a device reports for ``model_id`` with ``repeats`` instances of its repeating group."""
    top = model_def(model_id)["group"]
    fixed = group_length(top) - 2
    for g in top.get("groups", []):
        count = g.get("count")
        n = 1 if count is None else (count if isinstance(count, int) and count > 0 else repeats)
        fixed += n * group_length(g)
    return fixed
