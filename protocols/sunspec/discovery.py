"""SunSpec discovery in a handful of reads: find 'SunS', read the map in 125-register sweeps, build a Profile.

Runs on the device I/O thread's asyncio loop (``discover_profile``); the
profile building is pure and runs anywhere. A SunSpec device holds
0x5375 0x6E53 ('SunS') at a base address (40000, 0 or 50000, or the one the
user gives), then a chain of models, each ``ID, L`` followed by ``L``
registers, ended by ``0xFFFF``.

The map is read in sweeps of 125 registers from the base: the model headers
are taken from the data already read (no request per header), and the
registers read are kept (``extra["sunspec_snapshot"]``) so that the first
snapshot costs no request at all (``Device`` takes them once, while fresh).
A sweep past the end of the map is refused by most devices (exception 02):
it is then cut to what the chain says exists. A chain already seen for the
same manufacturer, model and serial (``ChainCache``) is read in exact sweeps
without that refused read, and checked against the headers read.

Every model pysunspec2 defines becomes points (``models.model_points``);
models it does not define are listed (id, address, length) in
``extra["sunspec"]["unmapped"]``, as are models shorter or longer than
their definition.
"""

from __future__ import annotations

import time

from .. import codecs
from ..errors import GatewayNoDevice, ModbusExceptionReply, ModbusTimeout, ProfileError
from ..profiles.model import Compute, FirmwareComponent, Point, Profile
from ..session import Session
from . import models
from .aliases import INVERTERS, aliases
from .cache import ChainCache

MARKER = (0x5375, 0x6E53)
BASES = (40000, 0, 50000)
END_ID = 0xFFFF
MAX_MODELS = 128
SWEEP = 125
SMALLEST_MAP = 2 + 2 + 65   # marker, model 1 header, model 1 without its pad


class MapReader:
    """Reads a SunSpec map in sweeps and remembers every register read (address -> value)."""

    def __init__(self, session: Session, unit: int) -> None:
        self.session = session
        self.unit = unit
        self.regs: dict[int, int] = {}
        self.requests = 0
        self.exact = False   # a full sweep was refused: the map ends within it, read only what is known

    async def read(self, address: int, count: int) -> list[int]:
        self.requests += 1
        regs = await self.session.read_registers(address, count, function="holding", unit=self.unit)
        self.regs.update(zip(range(address, address + count), regs))
        return regs

    async def sweep(self, start: int, need_end: int) -> int:
        """Read from ``start`` as far as one request may; at least to ``need_end``. Returns the new end."""
        want = min(SWEEP, 65536 - start)
        exact = min(SWEEP, need_end - start)
        if not self.exact or exact <= 0:
            try:
                await self.read(start, want)
                return start + want
            except GatewayNoDevice:
                raise
            except (ModbusExceptionReply, ModbusTimeout):
                if exact <= 0 or exact == want:
                    raise
                self.exact = True
            self._forget_refusal(start)
        await self.read(start, exact)
        return start + exact

    def _forget_refusal(self, address: int) -> None:
        """A refused sweep says nothing about the shorter read at the same address.

        (A session that remembers refusals by start address alone would refuse the
        shorter read unsent; one that remembers the exact span needs nothing here.)
        """
        remembered = getattr(self.session, "unsupported", None)
        if isinstance(remembered, set):
            remembered.discard((self.unit, 3, address))


async def probe(session: Session, unit: int, base: int, short_map: bool = True) -> MapReader | None:
    """A MapReader holding the first sweep at ``base`` if 'SunS' is there, else None.

    One request when the device has 125 registers there; an exception reply
    (nothing there, or a shorter map) costs a second one of ``SMALLEST_MAP``
    unless ``short_map`` is False (detection asks for a short map later).
    """
    reader = MapReader(session, unit)
    try:
        regs = await reader.read(base, min(SWEEP, 65536 - base))
    except GatewayNoDevice:
        raise  # nobody answers at this unit: not "no map here"
    except ModbusExceptionReply:
        if not short_map:
            return None
        # A map shorter than one sweep (SolarEdge at 0: 123 registers) is refused whole; the
        # smallest map there is (marker, common model of 65, end) still holds these 69 registers.
        reader._forget_refusal(base)
        try:
            regs = await reader.read(base, min(SMALLEST_MAP, 65536 - base))
        except ModbusExceptionReply:
            reader._forget_refusal(base)  # says nothing about the shorter reads other profiles make there
            return None
        reader.exact = True  # the map ends within the first sweep: read only what the chain says
    return reader if tuple(regs[:2]) == MARKER else None


async def find_base(session: Session, unit: int, bases=BASES) -> tuple[int, MapReader] | None:
    """(base, reader with the first sweep) of the first base holding 'SunS', or None.

    A timeout at every base is raised, since then the device did not answer at all.
    """
    timeouts = 0
    for base in bases:
        try:
            reader = await probe(session, unit, base)
        except ModbusTimeout:
            timeouts += 1
            if timeouts == len(bases):
                raise
            continue
        if reader is not None:
            return base, reader
    return None


async def walk(reader: MapReader, base: int) -> list[tuple[int, int, int]]:
    """The chain after the marker, (model id, address of its ID register, L), reading in sweeps."""
    chain: list[tuple[int, int, int]] = []
    have = base
    while have in reader.regs:
        have += 1
    pos = base + 2
    while len(chain) < MAX_MODELS:
        if pos + 2 > have:
            try:
                have = await reader.sweep(have, pos + 2)
            except ModbusExceptionReply:
                break  # some devices end the map without an end marker
            continue
        model_id, length = reader.regs[pos], reader.regs[pos + 1]
        if model_id in (END_ID, 0) or pos + 2 + length > 65536:
            break
        chain.append((model_id, pos, length))
        pos += 2 + length
    return chain


async def read_known(reader: MapReader, base: int, chain) -> bool:
    """Read a cached chain's map in exact sweeps; True if the headers still match."""
    end = chain[-1][1] + 2 + chain[-1][2] + 2 if chain else base + 4
    have = base
    while have in reader.regs:
        have += 1
    while have < end:
        count = min(SWEEP, end - have)
        await reader.read(have, count)
        have += count
    return all(reader.regs.get(a) == m and reader.regs.get(a + 1) == n for m, a, n in chain) \
        and reader.regs.get(end - 2) in (END_ID, 0)


def _string(regs: dict, address: int, count: int) -> str | None:
    if any(a not in regs for a in range(address, address + count)):
        return None
    v = codecs.decode_raw([regs[a] for a in range(address, address + count)], "string")
    return None if v is codecs.NOT_IMPLEMENTED else v


def identity_key(regs: dict, base: int) -> tuple | None:
    """(manufacturer, model, serial) from a model 1 right after the marker (the cache key), or None."""
    common = base + 2
    if regs.get(common) != 1:
        return None
    mn, md, sn = _string(regs, common + 2, 16), _string(regs, common + 18, 16), _string(regs, common + 50, 16)
    return (mn, md, sn) if mn and sn else None


def build_profile(chain: list[tuple[int, int, int]], base: int, regs: dict | None = None) -> Profile:
    """A Profile (kind "sunspec") for a discovered model chain; ``regs`` give the count points."""
    points, alarms, parts, unmapped = [], [], [], []
    seen: dict[int, int] = {}
    for model_id, addr, length in chain:
        if not models.has_definition(model_id):
            unmapped.append({"id": model_id, "address": addr, "length": length,
                             "reason": "pysunspec2 has no definition of this model"})
            continue
        seen[model_id] = seen.get(model_id, 0) + 1
        mp = models.model_points(model_id, addr, length, instance=seen[model_id], regs=regs)
        points += mp.points
        alarms += mp.alarms
        part = {"id": model_id, "address": addr, "length": length, "prefix": mp.prefix, "label": mp.label,
                "points": len(mp.points)}
        if mp.missing_registers:
            part["short_by"] = mp.missing_registers
        if mp.extra_registers:
            part["long_by"] = mp.extra_registers
        if mp.unresolved:
            part["unresolved"] = mp.unresolved
        parts.append(part)
    if not points:
        raise ProfileError(f"SunSpec device at base {base}: none of its models "
                           f"({', '.join(str(m) for m, _, _ in chain) or 'none'}) has a SunSpec definition")
    points += _pv_power_points(points, [m for m, _, _ in chain])
    names = {p.name for p in points}
    values = {}
    if regs is not None:
        for p in points:
            wanted = p.name in ("m1_mn",) or p.name.endswith("_prttyp")
            if wanted and all(a in regs for a in range(p.address, p.end)):
                values[p.name] = codecs.decode_raw([regs[a] for a in range(p.address, p.end)], p.type)
    firmware = []
    if "m1_vr" in names:
        firmware.append(FirmwareComponent("device", "Device (SunSpec common model)", "m1_vr",
                                          serial_point="m1_sn" if "m1_sn" in names else None))
    codes = {fc.code: fc for a in alarms for fc in a.bits.values()}
    ids = tuple(n for n in ("m1_mn", "m1_md", "m1_sn", "m1_vr", "m1_opt") if n in names)
    return Profile(
        name="sunspec", title="SunSpec device (" + ", ".join(str(m) for m, _, _ in chain) + ")",
        vendor=str(values.get("m1_mn") or "SunSpec"), source=f"SunSpec discovery at base {base}",
        points=tuple(points), identity_points=ids, alarms=tuple(alarms), fault_codes=codes,
        firmware=tuple(firmware), kind="sunspec",
        extra={"sunspec": {"base": base, "models": parts, "unmapped": unmapped,
                           "chain": [list(c) for c in chain]},
               "aliases": aliases([m for m, _, _ in chain], names, values)},
    )


def _pv_power_points(points: list[Point], model_ids: list[int]) -> list[Point]:
    """``pv_power_w``: the inverter model's DCW, else the sum of model 160's module DCW.

    SMA's Sunny Boy reports DCW of model 101 as "not implemented" and the DC power of each
    MPPT in model 160; PV power would be n/a although both strings produce. Modules that are
    themselves "not implemented" (SMA declares six, has two) add nothing; when every module is
    n/a, so is the sum.
    """
    names = {p.name for p in points}
    modules = []
    k = 1
    while f"m160_module{k}_dcw" in names:
        modules.append(f"m160_module{k}_dcw")
        k += 1
    inv = next((m for m in model_ids if m in INVERTERS), None)
    if not modules or inv is None or f"m{inv}_dcw" not in names or "pv_power_w" in names:
        return []

    def computed(name: str, label: str, compute: Compute, description: str) -> Point:
        return Point(name=name, address=0, type="computed", function="computed", unit="W", category="pv",
                     label=label, compute=compute, description=description)

    return [
        computed("m160_modules_dcw", "MPPT modules DC power", Compute("sum", tuple(modules), "skip"),
                 "The sum of model 160's module DCW (modules that are not implemented add nothing)"),
        computed("pv_power_w", "PV power", Compute("first", (f"m{inv}_dcw", "m160_modules_dcw")),
                 f"Model {inv} DCW, else the sum of model 160's module DCW"),
    ]


def alias_values(profile: Profile, values: dict) -> dict:
    """``values`` plus the canonical names of ``profile.extra["aliases"]``."""
    out = dict(values)
    for canon, name in profile.extra.get("aliases", {}).items():
        if name in values and canon not in values:
            out[canon] = values[name]
    return out


async def discover_from(reader: MapReader, base: int, unit: int, cache: ChainCache | None = None) -> Profile:
    """The profile of a device whose first sweep at ``base`` is in ``reader``."""
    chain = None
    key = identity_key(reader.regs, base)
    cached = cache.get(key) if cache is not None and key else None
    if cached and cached["base"] == base:
        known = [tuple(c) for c in cached["chain"]]
        if await read_known(reader, base, known):
            chain = known
    if chain is None:
        chain = await walk(reader, base)
        key = identity_key(reader.regs, base)
        if cache is not None and key and chain:
            cache.put(key, {"base": base, "chain": [list(c) for c in chain]})
    profile = build_profile(chain, base, reader.regs)
    profile.extra["sunspec_snapshot"] = {"unit": unit, "time": time.monotonic(), "holding": dict(reader.regs)}
    profile.extra["sunspec"]["discovery_requests"] = reader.requests
    return profile


async def discover_profile(session: Session, unit: int, bases=BASES, cache: ChainCache | None = None,
                           first: tuple[int, MapReader] | None = None) -> Profile | None:
    """The SunSpec profile of the device at ``unit``, or None if it has no 'SunS' marker."""
    found = first or await find_base(session, unit, bases)
    if found is None:
        return None
    base, reader = found
    return await discover_from(reader, base, unit, cache)
