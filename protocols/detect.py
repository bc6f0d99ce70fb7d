"""Model auto-detection: which profile fits the device at a unit id.

Runs on the device I/O thread's asyncio loop. The SunSpec marker is probed
first at 40000 (one request, which is also the first sweep of the map, so a
SunSpec device is not asked the vendor profiles' identity questions); if the
device answers there without a map, at 0 and 50000 too; then map profiles
are tried by their identity rules (a model code, a model-name prefix). A
device silent at 40000 is asked the vendor profiles first and the other
SunSpec bases last, since it may be silent at every register it lacks.
The user can always override the choice by naming a profile, or give the
SunSpec base.
"""

from __future__ import annotations

import time

from .device import Device
from .errors import GatewayNoDevice, LinkError, ModbusExceptionReply, ModbusTimeout, PVDeskError
from .profiles import loader
from .profiles.model import Profile
from .session import Session


class NoProfileFound(PVDeskError):
    hint = "name the profile with --profile, or check the unit id"


async def matches(session: Session, profile: Profile, unit: int) -> bool:
    """Whether the device at ``unit`` passes every identity rule of ``profile``."""
    if not profile.identity:
        return False
    dev = Device(session, profile, unit)
    try:
        values = await dev.read_names([r.point for r in profile.identity])
    except GatewayNoDevice:
        raise
    except ModbusExceptionReply:
        return False
    for rule in profile.identity:
        v = values.get(rule.point)
        if rule.equals is not None and v != rule.equals:
            return False
        if rule.prefix is not None and not (isinstance(v, str) and v.startswith(rule.prefix)):
            return False
    return True


async def _sunspec_probe(session: Session, unit: int, base: int):
    """(base, reader) if 'SunS' is at ``base``; a silent device costs one timeout, not the retries."""
    from . import sunspec  # noqa: PLC0415
    retries, session.retries = session.retries, 0
    try:
        found = await sunspec.probe(session, unit, base)
    finally:
        session.retries = retries
    return (base, found) if found is not None else None


async def detect(session: Session, unit: int = 1, candidates: list[str] | None = None,
                 sunspec_bases=None, sunspec_cache=None) -> Profile:
    """The profile of the device at ``unit``; NoProfileFound if none fits.

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
    try:
        return await _detect(session, unit, candidates, retries, sunspec_bases, sunspec_cache)
    finally:
        session.retries = retries


def _over_budget(session: Session, asked_s: float) -> bool:
    """Whether one more timeout would run past four timeouts' worth of asking (50 ms of slack)."""
    return asked_s + session.timeout_s > 4 * session.timeout_s + 0.05


async def _detect(session: Session, unit: int, candidates: list[str] | None, retries: int,
                  sunspec_bases=None, sunspec_cache=None) -> Profile:
    from . import sunspec  # noqa: PLC0415
    bases = tuple(sunspec_bases or sunspec.BASES)
    cache = sunspec_cache if sunspec_cache is not None else sunspec.DEFAULT_CACHE
    asked_s = 0.0   # time spent asking the device (loading profiles does not count)
    names = candidates or loader.available()
    tried = []
    silent: ModbusTimeout | None = None  # some devices stay silent at registers they do not have
    answered = False
    first = None
    rest = bases[1:]
    t0 = time.monotonic()
    try:
        first = await _sunspec_probe(session, unit, bases[0])
        answered = True
        # the device answers (no map at the first base): its other SunSpec bases cost a quick
        # exception reply each, so they are asked before the vendor profiles' identity reads
        for base in rest:
            first = first or await _sunspec_probe(session, unit, base)
        rest = ()
    except ModbusTimeout as exc:
        silent = exc  # silent where it has no registers (or a lost frame): vendor profiles first,
        rest = bases  # then every SunSpec base again
        session.retries = 0
    finally:
        asked_s += time.monotonic() - t0
    if first is not None:
        session.retries = retries
        return await sunspec.discover_profile(session, unit, first=first, cache=cache)
    for name in names:
        profile = loader.load(name)
        if profile.kind != "map":
            continue
        if silent is not None and not answered and _over_budget(session, asked_s):
            raise silent
        if answered:
            session.retries = retries
        tried.append(name)
        t0 = time.monotonic()
        try:
            if await matches(session, profile, unit):
                return profile
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
    for base in rest:  # a device silent at 40000: its other SunSpec bases, one timeout each at most
        if silent is not None and not answered and _over_budget(session, asked_s):
            raise silent
        t0 = time.monotonic()
        try:
            found = await _sunspec_probe(session, unit, base)
            answered = True
        except ModbusTimeout as exc:
            silent = exc
            continue
        finally:
            asked_s += time.monotonic() - t0
        if found is not None:
            session.retries = retries
            return await sunspec.discover_profile(session, unit, first=found, cache=cache)
    tried.append("sunspec")
    if silent is not None and not answered:
        raise silent
    raise NoProfileFound(f"unit {unit}: no known profile matches (tried {', '.join(tried)})")
