"""SunSpec discovery: find the 'SunS' marker, walk the model chain, build a Profile.

Runs on the device I/O thread's asyncio loop (``discover_profile``); the
profile building is pure and runs anywhere. A SunSpec device holds
0x5375 0x6E53 ('SunS') at a base address (40000, 0 or 50000), then a chain of
models, each ``ID, L`` followed by ``L`` registers, ended by ``0xFFFF``.
The models PVDesk knows (``models.PREFIXES``) become profile points through
pysunspec2's model definitions; others are walked past.

Canonical aliases (``profile.extra["aliases"]``) map the names the dashboard
uses to the SunSpec point that means the same, e.g. ``inverter_power_w ->
inverter_w``; see ``ALIASES`` and docs/profiles.md.
"""

from __future__ import annotations

from ..errors import ModbusExceptionReply, ModbusTimeout, ProfileError
from ..profiles.model import FirmwareComponent, Profile
from ..session import Session
from . import models

MARKER = (0x5375, 0x6E53)
BASES = (40000, 0, 50000)
END_ID = 0xFFFF
MAX_MODELS = 64

#: canonical name -> SunSpec point name (first one present wins).
ALIASES = {
    "manufacturer": ["common_mn"], "model_name": ["common_md"], "serial_number": ["common_sn"],
    "firmware_version": ["common_vr"],
    "inverter_power_w": ["inverter_w", "der_ac_w"], "ac_frequency_hz": ["inverter_hz", "der_ac_hz"],
    "ac_current_a": ["inverter_a", "der_ac_a"], "ac_voltage_v": ["inverter_phvpha", "der_ac_lnv"],
    "reactive_power_var": ["inverter_var", "der_ac_var"],
    "pv_power_w": ["inverter_dcw", "der_dc_dcw"],
    "inverter_temperature_c": ["inverter_tmpcab", "der_ac_tmpcab"],
    "heatsink_temperature_c": ["inverter_tmpsnk", "der_ac_tmpsnk"],
    "run_state": ["inverter_st", "der_ac_invst"],
    "battery_soc_pct": ["storage_chastate", "der_storage_soc"],
    "battery_voltage_v": ["storage_inbatv"],
    "grid_power_w": ["meter_w"], "meter_voltage_v": ["meter_phv", "meter_phvpha"],
    "meter_frequency_hz": ["meter_hz"],
}
for _i in range(1, 9):
    ALIASES[f"pv{_i}_voltage_v"] = [f"mppt{_i}_dcv"]
    ALIASES[f"pv{_i}_current_a"] = [f"mppt{_i}_dca"]
    ALIASES[f"pv{_i}_power_w"] = [f"mppt{_i}_dcw"]


async def find_base(session: Session, unit: int, bases=BASES) -> int | None:
    """The first base address holding 'SunS', or None.

    An exception reply (no such register) means "not here"; a timeout at
    every base is raised, since then the device did not answer at all.
    """
    timeouts = 0
    for base in bases:
        try:
            regs = await session.read_registers(base, 2, function="holding", unit=unit)
        except ModbusExceptionReply:
            continue
        except ModbusTimeout:
            timeouts += 1
            if timeouts == len(bases):
                raise
            continue
        if tuple(regs) == MARKER:
            return base
    return None


async def walk_models(session: Session, unit: int, base: int) -> list[tuple[int, int, int]]:
    """The chain after the marker: (model id, address of its ID register, L)."""
    chain: list[tuple[int, int, int]] = []
    addr = base + 2
    for _ in range(MAX_MODELS):
        try:
            model_id, length = await session.read_registers(addr, 2, function="holding", unit=unit)
        except ModbusExceptionReply:
            break  # some devices end the map without an end marker
        if model_id in (END_ID, 0) or addr + 2 + length > 65536:
            break
        chain.append((model_id, addr, length))
        addr += 2 + length
    return chain


def build_profile(chain: list[tuple[int, int, int]], base: int, include=None) -> Profile:
    """A Profile (kind "sunspec") for a discovered model chain."""
    include = set(models.PREFIXES if include is None else include)
    points, alarms, parts, skipped = [], [], [], {}
    seen: dict[str, int] = {}
    for model_id, addr, length in chain:
        if model_id not in include or model_id not in models.PREFIXES:
            skipped[model_id] = "not mapped"
            continue
        role = models.PREFIXES[model_id]
        seen[role] = seen.get(role, 0) + 1
        try:
            mp = models.model_points(model_id, addr, length, instance=seen[role])
        except Exception as exc:  # a model pysunspec2 does not define
            skipped[model_id] = f"no definition: {exc}"
            continue
        points += mp.points
        alarms += mp.alarms
        parts.append({"id": model_id, "address": addr, "length": length, "prefix": mp.prefix,
                      "skipped_groups": mp.skipped_groups})
    if not points:
        raise ProfileError(f"SunSpec device at base {base}: none of its models "
                           f"({', '.join(str(m) for m, _, _ in chain) or 'none'}) is one PVDesk maps")
    names = {p.name for p in points}
    aliases = {canon: next(n for n in cands if n in names)
               for canon, cands in ALIASES.items() if any(n in names for n in cands)}
    firmware = []
    if "common_vr" in names:
        firmware.append(FirmwareComponent("device", "Device (SunSpec common model)", "common_vr",
                                          serial_point="common_sn" if "common_sn" in names else None))
    codes = {fc.code: fc for a in alarms for fc in a.bits.values()}
    ids = tuple(n for n in ("common_mn", "common_md", "common_sn", "common_vr", "common_opt") if n in names)
    return Profile(
        name="sunspec", title="SunSpec device (" + ", ".join(str(p["id"]) for p in parts) + ")",
        vendor="SunSpec", source=f"SunSpec discovery at base {base}", points=tuple(points),
        identity_points=ids, alarms=tuple(alarms), fault_codes=codes, firmware=tuple(firmware),
        kind="sunspec",
        extra={"sunspec": {"base": base, "models": parts, "skipped": skipped}, "aliases": aliases},
    )


def alias_values(profile: Profile, values: dict) -> dict:
    """``values`` plus the canonical names of ``profile.extra["aliases"]``."""
    out = dict(values)
    for canon, name in profile.extra.get("aliases", {}).items():
        if name in values and canon not in values:
            out[canon] = values[name]
    return out


async def discover_profile(session: Session, unit: int, bases=BASES, include=None) -> Profile | None:
    """The SunSpec profile of the device at ``unit``, or None if it has no 'SunS' marker."""
    base = await find_base(session, unit, bases)
    if base is None:
        return None
    chain = await walk_models(session, unit, base)
    return build_profile(chain, base, include)
