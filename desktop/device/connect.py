"""Open a device from command-line style options: link, session, profile, and the demo simulator.

Runs on whichever thread owns the asyncio loop it is awaited on (the CLI's
main loop, or the device service's I/O thread). Shared by the CLI and the
GUI so both connect in exactly the same way.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from protocols.detect import NoProfileFound, detect
from protocols.device import Device
from protocols.links.factory import LinkSpec, make_link
from protocols.profiles import loader
from protocols.profiles.model import Profile
from protocols.session import Session


@dataclass
class Target:
    """What to connect to: a link spec, a unit id, a profile choice, or the demo."""

    spec: LinkSpec = field(default_factory=LinkSpec)
    unit: int = 1
    profile: str = "auto"
    demo: bool = False
    retries: int = 2
    sunspec_base: int | None = None   # where the SunSpec map starts, if not at 40000, 0 or 50000

    def label(self) -> str:
        return "Demo inverter (simulated)" if self.demo else f"{self.spec.label()} unit {self.unit}"


def parse_host_port(text: str, default_port: int = 502) -> tuple[str, int]:
    """'host', 'host:port' or '[v6]:port' -> (host, port)."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else default_port
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, int(port)
    return text, default_port


def start_demo_simulator(units=(1,), rtu: bool = False):
    """The embedded simulated inverter, started in its own thread, showing daytime."""
    from protocols.sim.simulator import Simulator, demo_start_time
    return Simulator(units=tuple(units), rtu=rtu, start_s=demo_start_time()).start()


async def open_session(target: Target, sim=None) -> Session:
    """Open the link of ``target`` (starting nothing: the demo simulator is the caller's)."""
    spec = target.spec
    if target.demo:
        if sim is None:
            raise ValueError("the demo needs a running simulator")
        host, port = sim.tcp_address
        spec = LinkSpec(kind="tcp", host=host, port=port, timeout_s=spec.timeout_s)
    session = Session(make_link(spec), timeout_s=spec.timeout_s, retries=target.retries,
                      inter_frame_delay_s=spec.inter_frame_delay_s)
    await session.open()
    return session


_CHAIN_CACHE = None


def chain_cache():
    """The SunSpec model chains seen before, in the app's data folder (one walk per device, ever)."""
    global _CHAIN_CACHE
    from protocols.sunspec import ChainCache

    from desktop.core.paths import sunspec_chains_file
    path = sunspec_chains_file()
    if _CHAIN_CACHE is None or _CHAIN_CACHE.path != path:
        _CHAIN_CACHE = ChainCache(path)
    return _CHAIN_CACHE


async def choose_profile(session: Session, target: Target) -> Profile:
    """The named profile, SunSpec discovery (``sunspec``), or the auto-detected one."""
    from protocols import sunspec
    bases = (target.sunspec_base,) if target.sunspec_base is not None else sunspec.BASES
    if target.profile == "sunspec":
        profile = await sunspec.discover_profile(session, target.unit, bases, cache=chain_cache())
        if profile is None:
            raise NoProfileFound(
                f"unit {target.unit}: no SunSpec map ('SunS' marker) at {', '.join(str(b) for b in bases)}",
                hint="give the map's start with --sunspec-base N (see the device's Modbus documentation), "
                     "or check the unit id")
        return profile
    if target.profile and target.profile != "auto":
        return loader.load(target.profile)
    return await detect(session, target.unit, sunspec_bases=bases, sunspec_cache=chain_cache())


@contextlib.asynccontextmanager
async def connected(target: Target):
    """``async with connected(t) as device``: session opened, profile chosen, closed after."""
    sim = start_demo_simulator() if target.demo else None
    session = None
    try:
        session = await open_session(target, sim)
        profile = await choose_profile(session, target)
        yield Device(session, profile, target.unit)
    finally:
        if session is not None:
            await session.close()
        if sim is not None:
            sim.stop()
