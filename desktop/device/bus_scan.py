"""Which unit ids answer on one link: the bus scan behind `pvdesk scan` and the window's "Scan bus...".

Qt-free; the coroutine runs on whichever asyncio loop calls it (the CLI's own
loop, or the device I/O thread's loop through the bridge). It only reads:
one register per unit id with a short timeout, then the profile detection for
each unit that answered. A gateway saying "nobody there" (exception 0x0A or
0x0B) or a timeout means no device at that id; any other answer, even an
exception, means a device is there. ``cancel()`` on the returned handle's
flag stops it between two units. The advice for an empty result fits the
link: RS-485 hints for a serial line, network hints for TCP.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from protocols.links.factory import LinkSpec

from desktop.device.connect import Target, open_session


@dataclass
class FoundUnit:
    """A unit id that answered, and what the profile detection made of it."""

    unit: int
    profile: str          # "" when no profile matched
    model: str
    why: str
    verified: bool | None

    def to_dict(self) -> dict:
        return {"unit": self.unit, "profile": self.profile, "model": self.model, "why": self.why,
                "verified": self.verified}


@dataclass
class ScanProgress:
    """Where a scan is: units done of total, the unit being asked, how many found, seconds left (estimate)."""

    done: int
    total: int
    unit: int
    found: int
    left_s: float


class Cancel:
    """Set by the caller (any thread) to stop a scan before its next unit."""

    def __init__(self) -> None:
        self.requested = False

    def cancel(self) -> None:
        self.requested = True


def time_left_s(done: int, total: int, elapsed_s: float, per_unit_s: float) -> float:
    """The units to go at the pace so far (the per-unit timeout before any unit is done)."""
    pace = elapsed_s / done if done else per_unit_s
    return (total - done) * max(pace, 0.001)


async def scan_units(target: Target, units: list[int], per_unit_timeout_s: float = 0.3, sim=None,
                     on_progress: Callable[[ScanProgress], None] | None = None,
                     cancel: Cancel | None = None) -> list[FoundUnit]:
    """Ask every id of ``units`` on ``target``'s link; the ones that answer, in unit order."""
    from protocols.detect import identify
    from protocols.errors import LinkError, ModbusExceptionReply, PVDeskError

    target.retries = 0
    target.spec.timeout_s = per_unit_timeout_s
    found: list[FoundUnit] = []
    session = await open_session(target, sim)
    t0 = time.monotonic()
    try:
        for done, unit in enumerate(units):
            if cancel is not None and cancel.requested:
                break
            if on_progress is not None:
                on_progress(ScanProgress(done, len(units), unit, len(found),
                                         time_left_s(done, len(units), time.monotonic() - t0, per_unit_timeout_s)))
            try:
                await session.read_registers(0, 1, unit=unit)
            except ModbusExceptionReply as exc:
                if exc.code in (10, 11):  # a gateway saying "nobody there"
                    continue
            except LinkError:
                continue
            session.timeout_s = max(per_unit_timeout_s, 1.0)   # detection reads more: a normal timeout
            try:
                det = await identify(session, unit)
                item = FoundUnit(unit, det.profile.name, det.profile.title, det.why, det.profile.verified)
            except PVDeskError as exc:
                item = FoundUnit(unit, "", "answers, profile unknown", str(exc), None)
            session.timeout_s = per_unit_timeout_s
            found.append(item)
    finally:
        await session.close()
    return sorted(found, key=lambda f: f.unit)


def nothing_found_advice(spec: LinkSpec) -> str:
    """What to check when no unit answered, in the words of this kind of link."""
    if spec.kind == "serial":
        return ("No device answered. Check the wiring (A and B may be swapped), the termination, the baud rate "
                "and parity, or let 'Find my inverter...' try them.")
    if spec.kind == "rtu-tcp":
        return ("No device answered through the serial server. Check the server's serial settings (baud rate, "
                "parity) and the RS-485 wiring behind it.")
    if spec.kind in ("tcp", "udp", "v5"):
        return ("No device answered at any unit id. Check that Modbus is switched on in the inverter or dongle, "
                "the host and port, and that no other program holds the inverter's only Modbus connection.")
    return "No device answered."
