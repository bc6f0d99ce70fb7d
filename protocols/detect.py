"""Model auto-detection: which profile fits the device at a unit id, and why.

Runs on the device I/O thread's asyncio loop. At the unit ids SunSpec vendors
use (``SUNSPEC_UNITS``: 1, 2, 3, 126, 200, 240) the SunSpec marker is probed
first at 40000 (one request, which is also the first sweep of the map, so a
SunSpec device is not asked the vendor profiles' identity questions); if the
device answers there without a map, at 0 and 50000 too. Then map profiles are
tried in detection order (families at home at this unit id first, then by
identity priority, ``protocols.profiles.identity.order``) by their identity
rules; at other unit ids (GoodWe's 247) they come first and the SunSpec bases
last. A device silent at 40000 is asked the vendor profiles first and the
other SunSpec bases last, since it may be silent at every register it lacks.
Detection only reads, never writes. Reads go through a ``ProbeCache`` so that
a register block already read for one profile is not asked again for the next
one, and a span the device refused is not sent twice: families that keep their
identity in the same registers cost one request between them. The user can
always override the choice by naming a profile, or give the SunSpec base.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .errors import GatewayNoDevice, LinkError, ModbusExceptionReply, ModbusTimeout, PVDeskError
from .profiles import computed, identity, loader
from .profiles.model import Profile
from .reader import decode_points, engineering, plan_reads
from .session import Session
from .sunspec.discovery import MARKER


class NoProfileFound(PVDeskError):
    hint = "name the profile with --profile, or check the unit id"


@dataclass
class Detection:
    """The profile found, why it was chosen, and what finding it cost."""

    profile: Profile
    why: str
    requests: int


class ProbeCache:
    """A read-only stand-in for the session during detection: serves repeated spans from memory.

    A read inside a span already answered is served from it; a span the device
    refused (an exception reply) or did not answer raises the same error again
    without a request. ``requests`` counts what was really sent.
    """

    def __init__(self, session: Session, groups=()) -> None:
        self.session = session
        self._asked = 0
        self.groups = list(groups)  # (function, address, count): spans worth one read for several families
        self._answers: dict[tuple[int, str], list[tuple[int, list[int]]]] = {}
        self._refused: dict[tuple[int, str, int, int], PVDeskError] = {}
        self._tried: set[tuple[int, str, int, int]] = set()
        stats = getattr(session, "stats", None)
        self._start = stats.requests if stats is not None and isinstance(getattr(stats, "requests", None), int) else 0

    def __getattr__(self, name):
        return getattr(self.session, name)

    async def read_registers(self, address: int, count: int, *, function: str = "holding",
                             unit: int = 1) -> list[int]:
        for start, regs in self._answers.get((unit, function), ()):
            if start <= address and address + count <= start + len(regs):
                return regs[address - start: address - start + count]
        key = (unit, function, address, count)
        if key in self._refused:
            raise self._refused[key]
        for fn, start, n in self.groups:
            group = (unit, fn, start, n)
            if (fn == function and start <= address and address + count <= start + n and n > count
                    and group not in self._tried):
                self._tried.add(group)
                try:
                    return (await self.read_registers(start, n, function=fn, unit=unit))[
                        address - start: address - start + count]
                except ModbusExceptionReply:
                    break  # the device lacks part of the group: ask for this span alone
        self._asked += 1
        try:
            regs = await self.session.read_registers(address, count, function=function, unit=unit)
        except (ModbusExceptionReply, ModbusTimeout) as exc:
            self._refused[key] = exc
            raise
        self._answers.setdefault((unit, function), []).append((address, list(regs)))
        return regs

    @property
    def requests(self) -> int:
        """Requests really sent (the session's own count when it keeps one: it may answer a span it
        remembers as refused without sending it)."""
        stats = getattr(self.session, "stats", None)
        if stats is not None and isinstance(getattr(stats, "requests", None), int):
            return stats.requests - self._start
        return self._asked

    async def write_registers(self, *args, **kwargs):
        raise PVDeskError("auto-detection never writes")


async def judge(session, profile: Profile, unit: int) -> tuple[bool, str]:
    """(matched, why) for the device at ``unit`` against ``profile``'s identity rules."""
    if not profile.identity:
        return False, "no identity rules"
    pts = computed.expand(profile, [profile.point(n) for n in profile.identity_rule_points()])
    raws: dict = {}
    # No per-point fallback here: a device that refuses a family's identity block is not of that family.
    for block in identity_blocks(profile):
        try:
            regs = await session.read_registers(block.address, block.count, function=block.function, unit=unit)
        except GatewayNoDevice:
            raise
        except ModbusExceptionReply as exc:
            return False, f"identity registers {block.address}+{block.count} refused ({exc})"
        raws.update(decode_points(block, regs))
    values, flags = engineering(profile, raws)
    computed.evaluate(profile, pts, values, flags)
    return identity.judge(profile, values)


async def matches(session: Session, profile: Profile, unit: int) -> bool:
    """Whether the device at ``unit`` passes every identity rule of ``profile``."""
    return (await judge(session, profile, unit))[0]


def identity_blocks(profile: Profile) -> list:
    """The reads that fetch ``profile``'s identity-rule points."""
    pts = computed.expand(profile, [profile.point(n) for n in profile.identity_rule_points()])
    return plan_reads(pts, profile.max_read_registers, profile.unreadable)


def probe_groups(profiles: list[Profile], max_gap: int = 0) -> list[tuple[str, int, int]]:
    """Identity reads of several families that overlap or touch, merged into one span (<= 125 registers).

    The reference device's identity at holding 0 lies inside Deye's 0-7, Sungrow SH's inside SG's: one
    read answers both. A device that lacks part of a group refuses it and the family's own span is asked
    alone (one request more). Spans with a gap between them are not bridged by default: refusals are
    remembered by the exact span (a smaller span is really asked), so a strict device that lacks the gap
    would refuse the bridge and cost a request more exactly where it was meant to save one.
    """
    spans: dict[str, list[tuple[int, int]]] = {}
    for p in profiles:
        if p.defaults.exclusive:
            continue  # asked first and alone at its own unit id
        for b in identity_blocks(p):
            spans.setdefault(b.function, []).append((b.address, b.end))
    groups = []
    for fn, items in spans.items():
        items = sorted(set(items))  # families with the very same span need no group: the cache serves them
        lo, hi, n = items[0][0], items[0][1], 1
        for a, e in items[1:]:
            if a - hi <= max_gap and max(hi, e) - lo <= 125:
                hi, n = max(hi, e), n + 1
                continue
            if n > 1:
                groups.append((fn, lo, hi - lo))
            lo, hi, n = a, e, 1
        if n > 1:
            groups.append((fn, lo, hi - lo))
    return groups


def detection_order(profiles: list[Profile], unit: int) -> list[Profile]:
    """Families that live only at this unit id first, then those whose default unit it is, then the rest;
    within each, by identity priority (``identity.order``)."""
    return sorted(identity.order(profiles), key=lambda p: _rank(p, unit))


def _rank(p: Profile, unit: int) -> int:
    if unit in p.defaults.units:
        return 0 if p.defaults.exclusive else 1
    return 2


def _groups(profiles: list[Profile], unit: int) -> list[tuple[str, int, int]]:
    """Merged probes among families asked together (same rank): a group with a family asked only
    later would be read, and refused, on behalf of a family that may never be asked."""
    return [g for r in sorted({_rank(p, unit) for p in profiles})
            for g in probe_groups([p for p in profiles if _rank(p, unit) == r])]


def _marker_seen(probe: ProbeCache, unit: int, bases) -> int | None:
    """A SunSpec base whose marker is in registers already read (a vendor profile's read of holding 0)."""
    for start, regs in probe._answers.get((unit, "holding"), ()):
        for base in bases:
            if start <= base and base + 2 <= start + len(regs) and tuple(regs[base - start:base - start + 2]) == MARKER:
                return base
    return None


#: Unit ids SunSpec inverters, meters and gateways answer at: there the marker is asked before anything else.
SUNSPEC_UNITS = (1, 2, 3, 126, 200, 240)


async def _sunspec_probe(session: Session, reads, unit: int, base: int, short_map: bool = True):
    """(base, reader) if 'SunS' is at ``base``; a silent device costs one timeout, not the retries.

    ``reads`` is what the probe reads through (the detection's ProbeCache: a sweep answered
    here serves the vendor profiles' identity reads in the same registers).
    """
    from . import sunspec
    retries, session.retries = session.retries, 0
    try:
        found = await sunspec.probe(reads, unit, base, short_map)
    finally:
        session.retries = retries
    return (base, found) if found is not None else None


async def identify(session: Session, unit: int = 1, candidates: list[str] | None = None,
                   sunspec_bases=None, sunspec_cache=None) -> Detection:
    """The profile of the device at ``unit`` with the reason; NoProfileFound if none fits.

    ``sunspec_bases`` replaces the SunSpec base addresses tried (40000, 0, 50000);
    ``sunspec_cache`` (a ``sunspec.ChainCache``) remembers model chains across connections.

    ``sunspec_bases`` replaces the SunSpec base addresses tried (40000, 0, 50000);
    ``sunspec_cache`` (a ``sunspec.ChainCache``) remembers model chains across connections.

    A gateway saying nobody answers at ``unit`` (0x0A/0x0B) ends detection with
    that. While the device has said nothing at all, a timeout is retried once
    at most, later candidates are asked once each, and no candidate is started
    that would run past four timeouts' worth of silence: a clear error in
    seconds, not a full timeout-and-retries per profile.
    """
    retries = session.retries
    session.retries = min(retries, 1)     # full retries again once the device has answered
    # Exception replies to the probes are how a family is ruled out, not requests the device refused
    # the user: the link's ``refused`` count (the status bar's) leaves them out.
    stats = getattr(session, "stats", None)
    refused = getattr(stats, "refused", None)
    try:
        return await _identify(session, unit, candidates, retries, sunspec_bases, sunspec_cache)
    finally:
        session.retries = retries
        if stats is not None and isinstance(refused, int):
            stats.refused = refused


def _over_budget(session: Session, asked_s: float) -> bool:
    """Whether one more timeout would run past four timeouts' worth of asking (50 ms of slack)."""
    return asked_s + session.timeout_s > 4 * session.timeout_s + 0.05


async def _identify(session: Session, unit: int, candidates: list[str] | None, retries: int,
                    sunspec_bases=None, sunspec_cache=None) -> Detection:
    from . import sunspec
    bases = tuple(sunspec_bases or sunspec.BASES)
    cache = sunspec_cache if sunspec_cache is not None else sunspec.DEFAULT_CACHE
    asked_s = 0.0   # time spent asking the device (loading profiles does not count)
    profiles = [p for p in (loader.load(n) for n in candidates or loader.available()) if p.kind == "map"]
    profiles = detection_order([p for p in profiles if not p.defaults.exclusive or unit in p.defaults.units], unit)
    probe = ProbeCache(session, _groups(profiles, unit))
    tried: list[str] = []
    silent: ModbusTimeout | None = None  # some devices stay silent at registers they do not have
    answered = False

    async def found_sunspec(base: int, reader=None) -> Detection:
        session.retries = retries
        if reader is None:   # the marker was seen in a vendor profile's read: take the first sweep there
            found = await _sunspec_probe(session, probe, unit, base)
            if found is None:
                raise NoProfileFound(f"unit {unit}: a SunSpec marker at {base} but no map behind it")
            base, reader = found
        profile = await sunspec.discover_profile(session, unit, first=(base, reader), cache=cache)
        assert profile is not None   # a first sweep holding the marker was given: discovery returns a profile
        return Detection(profile, f"SunSpec marker 'SunS' found at {base}", probe.requests)

    if unit in SUNSPEC_UNITS:
        # The marker first, one sweep a base (a map shorter than a sweep is asked for at the end); the
        # base 0 is looked at in the vendor profiles' own read of holding 0, which is asked anyway.
        for base in [b for b in bases if b != 0][:2]:
            t0 = time.monotonic()
            try:
                found = await _sunspec_probe(session, probe, unit, base, short_map=False)
                answered = True
            except ModbusTimeout as exc:
                silent = exc  # silent where it has no registers (or a lost frame): vendor profiles first,
                session.retries = 0  # then every SunSpec base again
                break
            finally:
                asked_s += time.monotonic() - t0
            if found is not None:
                return await found_sunspec(*found)
    for profile in profiles:  # exclusive families (Victron GX services) were left out unless at their unit
        if silent is not None and not answered and _over_budget(session, asked_s):
            raise silent
        if answered:
            session.retries = retries
        tried.append(profile.name)
        t0 = time.monotonic()
        try:
            ok, why = await judge(probe, profile, unit)
            if ok:
                return Detection(profile, why, probe.requests)
            answered = True
        except ModbusTimeout as exc:
            silent = exc
            session.retries = 0 if not answered else session.retries
        except (LinkError, GatewayNoDevice):
            raise
        except PVDeskError:
            answered = True
        finally:
            asked_s += time.monotonic() - t0
        seen = _marker_seen(probe, unit, bases)
        if seen is not None:
            return await found_sunspec(seen)
    for base in bases:  # every SunSpec base in full (a silent device: one timeout each at most)
        if silent is not None and not answered and _over_budget(session, asked_s):
            raise silent
        t0 = time.monotonic()
        try:
            found = await _sunspec_probe(session, probe, unit, base)
            answered = True
        except ModbusTimeout as exc:
            silent = exc
            continue
        finally:
            asked_s += time.monotonic() - t0
        if found is not None:
            return await found_sunspec(*found)
    tried.append("sunspec")
    if silent is not None and not answered:
        raise silent
    raise NoProfileFound(f"unit {unit}: no known profile matches (tried {', '.join(tried)})")


async def detect(session: Session, unit: int = 1, candidates: list[str] | None = None,
                 sunspec_bases=None, sunspec_cache=None) -> Profile:
    """The profile of the device at ``unit``; NoProfileFound if none fits (see ``identify``)."""
    return (await identify(session, unit, candidates, sunspec_bases, sunspec_cache)).profile
