"""Model auto-detection: which profile fits the device at a unit id.

Runs on the device I/O thread's asyncio loop. Map profiles are tried by
their identity rules (a model code, a model-name prefix); SunSpec devices are
found by the 'SunS' marker (see ``protocols.sunspec``). The user can always
override the choice by naming a profile.
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


async def detect(session: Session, unit: int = 1, candidates: list[str] | None = None) -> Profile:
    """The profile of the device at ``unit``; NoProfileFound if none fits.

    A gateway saying nobody answers at ``unit`` (0x0A/0x0B) ends detection with
    that. While the device has said nothing at all, a timeout is retried once
    at most, later candidates are asked once each, and no candidate is started
    that would run past four timeouts' worth of silence: a clear error in
    seconds, not a full timeout-and-retries per profile.
    """
    retries = session.retries
    session.retries = min(retries, 1)     # full retries again once the device has answered
    try:
        return await _detect(session, unit, candidates, retries)
    finally:
        session.retries = retries


def _over_budget(session: Session, asked_s: float) -> bool:
    """Whether one more timeout would run past four timeouts' worth of asking (50 ms of slack)."""
    return asked_s + session.timeout_s > 4 * session.timeout_s + 0.05


async def _detect(session: Session, unit: int, candidates: list[str] | None, retries: int) -> Profile:
    asked_s = 0.0   # time spent asking the device (loading profiles does not count)
    names = candidates or loader.available()
    tried = []
    silent: ModbusTimeout | None = None  # some devices stay silent at registers they do not have
    answered = False
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
    if silent is not None and not answered and _over_budget(session, asked_s):
        raise silent
    try:
        from . import sunspec  # noqa: PLC0415
        profile = await sunspec.discover_profile(session, unit)
        if profile is not None:
            return profile
        tried.append("sunspec")
        answered = True
    except ImportError:
        pass
    except ModbusTimeout as exc:
        silent = exc
    if silent is not None and not answered:
        raise silent
    raise NoProfileFound(f"unit {unit}: no known profile matches (tried {', '.join(tried)})")
