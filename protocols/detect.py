"""Model auto-detection: which profile fits the device at a unit id, and why.

Runs on the device I/O thread's asyncio loop. Map profiles are tried in
identity order (``protocols.profiles.identity.order``: higher priority first)
by their identity rules; SunSpec devices are found by the 'SunS' marker (see
``protocols.sunspec``). Detection only reads, never writes. Reads go through
a ``ProbeCache`` so that a register block already read for one profile is not
asked again for the next one, and a span the device refused is not sent
twice: families that keep their identity in the same registers cost one
request between them. The user can always override the choice by naming a
profile.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import LinkError, ModbusExceptionReply, ModbusTimeout, PVDeskError
from .profiles import computed, identity, loader
from .profiles.model import Profile
from .reader import decode_points, engineering, plan_reads
from .session import Session


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

    def __init__(self, session: Session) -> None:
        self.session = session
        self.requests = 0
        self._answers: dict[tuple[int, str], list[tuple[int, list[int]]]] = {}
        self._refused: dict[tuple[int, str, int, int], PVDeskError] = {}

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
        self.requests += 1
        try:
            regs = await self.session.read_registers(address, count, function=function, unit=unit)
        except (ModbusExceptionReply, ModbusTimeout) as exc:
            self._refused[key] = exc
            raise
        self._answers.setdefault((unit, function), []).append((address, list(regs)))
        return regs

    async def write_registers(self, *args, **kwargs):
        raise PVDeskError("auto-detection never writes")


async def judge(session, profile: Profile, unit: int) -> tuple[bool, str]:
    """(matched, why) for the device at ``unit`` against ``profile``'s identity rules."""
    if not profile.identity:
        return False, "no identity rules"
    pts = computed.expand(profile, [profile.point(n) for n in profile.identity_rule_points()])
    raws: dict = {}
    # No per-point fallback here: a device that refuses a family's identity block is not of that family.
    for block in plan_reads(pts, profile.max_read_registers, profile.unreadable):
        try:
            regs = await session.read_registers(block.address, block.count, function=block.function, unit=unit)
        except ModbusExceptionReply as exc:
            return False, f"identity registers {block.address}+{block.count} refused ({exc})"
        raws.update(decode_points(block, regs))
    values, flags = engineering(profile, raws)
    computed.evaluate(profile, pts, values, flags)
    return identity.judge(profile, values)


async def matches(session: Session, profile: Profile, unit: int) -> bool:
    """Whether the device at ``unit`` passes every identity rule of ``profile``."""
    return (await judge(session, profile, unit))[0]


async def identify(session: Session, unit: int = 1, candidates: list[str] | None = None) -> Detection:
    """The profile of the device at ``unit`` with the reason; NoProfileFound if none fits."""
    probe = ProbeCache(session)
    profiles = identity.order([p for p in (loader.load(n) for n in candidates or loader.available())
                               if p.kind == "map"])
    tried = []
    silent: ModbusTimeout | None = None  # some devices stay silent at registers they do not have
    answered = False
    for profile in profiles:
        if profile.defaults.exclusive and unit not in profile.defaults.units:
            continue  # a family that only lives at fixed unit ids (Victron GX services) is not asked elsewhere
        tried.append(profile.name)
        try:
            ok, why = await judge(probe, profile, unit)
            if ok:
                return Detection(profile, why, probe.requests)
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
        profile = await sunspec.discover_profile(probe, unit)
        if profile is not None:
            return Detection(profile, "SunSpec marker 'SunS' found", probe.requests)
        tried.append("sunspec")
        answered = True
    except ImportError:
        pass
    except ModbusTimeout as exc:
        silent = exc
    if silent is not None and not answered:
        raise silent
    raise NoProfileFound(f"unit {unit}: no known profile matches (tried {', '.join(tried)})")


async def detect(session: Session, unit: int = 1, candidates: list[str] | None = None) -> Profile:
    """The profile of the device at ``unit``; NoProfileFound if none fits."""
    return (await identify(session, unit, candidates)).profile
