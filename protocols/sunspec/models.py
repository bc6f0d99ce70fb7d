"""SunSpec model definitions (pysunspec2's) -> PVDesk profile points, for every model it defines.

Runs on any thread (pure functions). pysunspec2 ships the SunSpec model
definitions as JSON (``sunspec2.device.get_model_def``); ``layout.lay_out``
places every point instance of a model at the address where discovery found
it, nested repeating groups included, and this module makes a ``Point`` of
each: codec type, scale-factor point, unit, category and poll rate.

Naming: ``m<model id>[_<instance>]_[<group><index>_...]<point>``, lower case,
e.g. ``m103_w``, ``m160_module3_dca``, ``m705_crv1_pt2_v``, ``m203_2_w`` for
a second meter. Labels carry the group index too: "Module 3 DC current".
The canonical names the dashboard uses are aliases (see ``aliases.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sunspec2 import device as ss_device
from sunspec2 import mdef

from ..profiles.model import AlarmWord, FaultCode, Point
from .layout import Layout, Slot, lay_out

#: SunSpec point type -> codec type (None: not decoded, the registers stay a gap).
TYPES = {"uint16": "u16", "int16": "s16", "uint32": "u32", "int32": "s32", "uint64": "u64",
         "int64": "s64", "acc16": "acc16", "acc32": "acc32", "acc64": "acc64", "count": "u16",
         "enum16": "enum16", "enum32": "u32", "bitfield16": "bitfield16",
         "bitfield32": "bitfield32", "sunssf": "sunssf", "string": "string", "float32": "float32",
         "pad": None, "ipaddr": None, "float64": None, "eui48": None, "ipv6addr": None}

UNITS = {"C": "°C", "Pct": "%", "Secs": "s", "Tmp": "°C", "cos()": "", "Degrees": "°"}

#: Models whose points change every second (measurements); others are polled slowly.
_FAST_ROLES = ("inverter", "mppt", "ac_meter", "storage", "battery", "DERMeasure", "status",
               "irradiance", "string_combiner", "bom_temp", "base_met", "mini_met", "DERStorage")


@dataclass
class ModelPoints:
    """What one model instance contributes to a profile."""

    model_id: int
    address: int
    length: int
    prefix: str
    label: str = ""
    points: list[Point] = field(default_factory=list)
    alarms: list[AlarmWord] = field(default_factory=list)
    missing_registers: int = 0     # the device's model is this much shorter than its definition
    extra_registers: int = 0       # ... or this much longer
    unresolved: list[str] = field(default_factory=list)


def model_def(model_id: int) -> dict:
    """pysunspec2's definition of ``model_id`` (raises if it has none)."""
    return ss_device.get_model_def(model_id, mapping=False)


def has_definition(model_id: int) -> bool:
    try:
        model_def(model_id)
    except (mdef.ModelDefinitionError, OSError, ValueError):  # pysunspec2's errors for unknown ids
        return False
    return True


def _snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _unit(units: str) -> str:
    units = units.strip()
    if units.startswith("%"):
        return "%"
    return UNITS.get(units, units)


def _lower_first(label: str) -> str:
    """'DC Current' -> 'DC current': acronyms stay, other words start lower case."""
    return " ".join(w if (len(w) > 1 and w.isupper()) or any(c.isdigit() for c in w) else w[:1].lower() + w[1:]
                    for w in label.split(" "))


def _group_label(name: str) -> str:
    return name.replace("_", " ").replace("-", " ").capitalize() if name.islower() else name


def _category(model_id: int, role: str, pdef: dict) -> tuple[str, str]:
    """(category, rate) of a point by its model and definition."""
    name, ptype, access = pdef["name"].lower(), pdef["type"], pdef.get("access", "R")
    fast = role.startswith(_FAST_ROLES)
    if ptype == "sunssf":
        return "other", "slow"
    if model_id == 1 or ptype == "string" or (name in ("id", "n") and ptype in ("uint16", "count")):
        return "identity", "once"
    if ptype.startswith("bitfield") and (name.startswith(("evt", "dcevt")) or "alrm" in name):
        return "alarm", "fast"
    if access == "RW":
        return "setting", "slow"
    if name.startswith(("st", "dcst", "chast", "invst", "conn")) and ptype.startswith("enum"):
        return "status", "fast" if fast else "slow"
    if name.startswith("tmp"):
        return "temperature", "slow"
    if name.startswith(("wh", "totwh", "totvah", "totvarh", "dcwh", "actwh", "actvah", "actvarh")) \
            or ptype.startswith("acc"):
        return "energy", "slow"
    if role.startswith(("storage", "battery", "DERStorage", "lithium", "flow")):
        return "battery", "fast" if fast else "slow"
    if role.startswith(("mppt", "DERMeasureDC", "string_combiner")) or name.startswith("dc"):
        return "pv", "fast" if fast else "slow"
    if role.startswith("ac_meter"):
        return "meter", "fast"
    return ("ac", "fast") if fast else ("other", "slow")


def _symbols(pdef: dict) -> dict[int, str]:
    return {int(s["value"]): s.get("label") or s["name"] for s in pdef.get("symbols", [])}


def _limits(pdef: dict, unit: str) -> tuple[float | None, float | None]:
    """The engineering range of a writable number, where its unit says it (percent, power factor)."""
    signed = pdef["type"].startswith("int")
    if unit == "%":
        return (-100.0 if signed else 0.0), 100.0
    if pdef.get("units") == "cos()":
        return -1.0, 1.0
    return None, None


def _name_and_label(prefix: str, slot: Slot) -> tuple[str, str]:
    parts, labels = [], []
    for gname, idx in slot.path:
        parts.append(_snake(gname) + ("" if idx is None else str(idx)))
        labels.append(_group_label(gname) + ("" if idx is None else f" {idx}"))
    plabel = slot.pdef.get("label") or slot.pdef["name"]
    name = "_".join([prefix] + parts + [_snake(slot.pdef["name"])])
    label = " ".join(labels + [_lower_first(plabel) if labels else plabel])
    return name, label


def model_points(model_id: int, address: int, length: int, instance: int = 1, regs=None) -> ModelPoints:
    """Points of model ``model_id`` whose ID register is at ``address`` and whose L is ``length``.

    ``regs`` (address -> register) gives the count points nested groups repeat by.
    """
    mdef = model_def(model_id)
    role = mdef["group"]["name"]
    prefix = f"m{model_id}" if instance == 1 else f"m{model_id}_{instance}"
    lay: Layout = lay_out(mdef, address, length, regs)
    out = ModelPoints(model_id, address, length, prefix, mdef["group"].get("label", role),
                      missing_registers=lay.missing_registers, extra_registers=lay.extra_registers,
                      unresolved=lay.unresolved)
    named = {}
    for slot in lay.slots:
        named[slot.address, slot.pdef["name"]] = _name_and_label(prefix, slot)
    by_addr = {slot.address: named[slot.address, slot.pdef["name"]][0] for slot in lay.slots}
    for slot in lay.slots:
        pdef = slot.pdef
        ctype = TYPES.get(pdef["type"])
        if ctype is None or slot.address + slot.size > lay.end or (not slot.path and pdef["name"] in ("ID", "L")):
            continue
        name, label = named[slot.address, pdef["name"]]
        sf = pdef.get("sf")
        sf_name, scale = None, 1.0
        if isinstance(sf, str):
            sf_addr = next((names[sf] for names in slot.scope if sf in names), None)
            sf_name = by_addr.get(sf_addr, f"{prefix}_{_snake(sf)}") if sf_addr is not None else f"{prefix}_{_snake(sf)}"
        elif isinstance(sf, int):
            scale = 10.0 ** sf
        access = pdef.get("access", "R")
        category, rate = _category(model_id, role, pdef)
        unit = _unit(pdef.get("units", ""))
        sym = _symbols(pdef)
        writable = access == "RW" and ctype not in ("string", "sunssf")
        lo, hi = (min(sym), max(sym)) if writable and sym and pdef["type"].startswith("enum") else _limits(pdef, unit)
        point = Point(
            name=name, address=slot.address, type=ctype, function="holding",
            count=slot.size if ctype == "string" else None, scale=scale, scale_factor=sf_name, unit=unit,
            label=label, category=category, rate=rate,
            enum=sym if pdef["type"].startswith("enum") else {},
            bits=sym if pdef["type"].startswith("bitfield") else {},
            sentinel=pdef["type"] not in ("count", "pad"),
            writable=writable, min=lo if writable else None, max=hi if writable else None,
            confirm=access == "RW", description=pdef.get("desc") or "",
        )
        out.points.append(point)
        if category == "alarm" and sym:
            base = model_id * 1000 + len(out.alarms) * 100
            bits = {b: FaultCode(code=base + b, text=t.replace("_", " ").capitalize(),
                                 severity="warning" if model_id == 160 else "error")
                    for b, t in sym.items() if not t.upper().startswith("RESERVED")}
            if bits:
                out.alarms.append(AlarmWord(point=name, bits=bits))
    return out


def model_length(model_id: int, repeats: int = 0, counts: dict | None = None) -> int:
    """The L a device reports for ``model_id`` with ``repeats`` instances of its count-0 group."""
    from .layout import defined_length
    return defined_length(model_def(model_id), repeats, counts)
