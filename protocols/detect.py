"""Model auto-detection: which profile fits the device at a unit id.

Runs on the device I/O thread's asyncio loop. Map profiles are tried by
their identity rules (a model code, a model-name prefix); SunSpec devices are
found by the 'SunS' marker (see ``protocols.sunspec``). The user can always
override the choice by naming a profile.
"""

from __future__ import annotations

from .device import Device
from .errors import LinkError, ModbusExceptionReply, ModbusTimeout, PVDeskError
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
    """The profile of the device at ``unit``; NoProfileFound if none fits."""
    names = candidates or loader.available()
    tried = []
    silent: ModbusTimeout | None = None  # some devices stay silent at registers they do not have
    answered = False
    for name in names:
        profile = loader.load(name)
        if profile.kind != "map":
            continue
        tried.append(name)
        try:
            if await matches(session, profile, unit):
                return profile
            answered = True
        except ModbusTimeout as exc:
            silent = exc
        except LinkError:
            raise
        except PVDeskError:
            answered = True
            continue
    try:
        from . import sunspec  # noqa: PLC0415
        found = await sunspec.discover_profile(session, unit)
        if found is not None:
            return found
        tried.append("sunspec")
        answered = True
    except ImportError:
        pass
    except ModbusTimeout as exc:
        silent = exc
    if silent is not None and not answered:
        raise silent
    raise NoProfileFound(f"unit {unit}: no known profile matches (tried {', '.join(tried)})")
