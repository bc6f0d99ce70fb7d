"""Four units on one 9600-baud RS-485 bus, each polled at 1 Hz: achieved sample period per unit, bus utilisation.

One link, one owner: a single Session over the simulator's pseudo-terminal
(9600 baud 8N1 line timing emulated, every unit a reference hybrid inverter)
serves four Pollers, one per unit id; the Session's lock queues their
requests first come, first served, so the units take turns. Figures: per
unit the samples taken, the median and 95th-percentile interval between its
samples (target 1 s), and the bus utilisation (wire time of every byte sent
and received, 10 bits a character, plus the 3.5-character silence ending
each frame, over the wall time). Beside them, measured in the same run: one
unit alone on the same bus at 1 Hz.

Runs the simulator in its own thread and the pollers on this thread's loop.
Usage: .venv/bin/python benchmarks/poll_bus.py [--seconds S] [--units N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from protocols.device import Device  # noqa: E402
from protocols.links.pymodbus_link import serial_link  # noqa: E402
from protocols.poller import Poller  # noqa: E402
from protocols.session import Session  # noqa: E402
from protocols.sim.simulator import Simulator, demo_start_time  # noqa: E402

BAUD = 9600
BITS_PER_CHAR = 10


async def measure(path: str, profile, units: list[int], seconds: float) -> dict:
    link = serial_link(path, BAUD, timeout_s=1.0)
    wire = {"chars": 0, "frames": 0}

    def on_frame(direction: str, data: bytes, t: float) -> None:
        wire["chars"] += len(data)
        wire["frames"] += 1
    link.frame_listeners.append(on_frame)
    session = Session(link, timeout_s=1.0, retries=1)
    await session.open()
    stamps: dict[int, list[float]] = {u: [] for u in units}
    errors: dict[int, int] = {u: 0 for u in units}
    pollers = [Poller(Device(session, profile, u), lambda s, u=u: stamps[u].append(time.monotonic()),
                      lambda exc, n, u=u: errors.__setitem__(u, errors[u] + 1), fast_period_s=1.0)
               for u in units]
    for p in pollers:
        p._once_done = True   # identity was read at connect time; measure the steady state
    t0 = time.monotonic()
    for p in pollers:
        p.start()
    await asyncio.sleep(seconds)
    async with session._lock:   # stop between requests, never in the middle of one on the wire
        for p in pollers:
            await p.stop()
    wall = time.monotonic() - t0
    await session.close()
    wire_s = (wire["chars"] * BITS_PER_CHAR + wire["frames"] * 3.5 * BITS_PER_CHAR) / BAUD
    out = {"wall_s": wall, "utilisation": wire_s / wall, "units": {}}
    for u in units:
        gaps = [b - a for a, b in zip(stamps[u][1:], stamps[u][2:])]   # the first sample starts the clock
        gaps.sort()
        out["units"][u] = {"samples": len(stamps[u]), "errors": errors[u],
                           "median_s": statistics.median(gaps) if gaps else None,
                           "p95_s": gaps[int(0.95 * (len(gaps) - 1))] if gaps else None}
    return out


def show(title: str, result: dict) -> None:
    print(f"{title}: bus utilisation {result['utilisation'] * 100:.0f} % over {result['wall_s']:.0f} s")
    for u, r in result["units"].items():
        med = f"{r['median_s']:.2f} s" if r["median_s"] is not None else "n/a"
        p95 = f"{r['p95_s']:.2f} s" if r["p95_s"] is not None else "n/a"
        print(f"  unit {u}: {r['samples']:>3} samples, period median {med}, p95 {p95}, errors {r['errors']}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--units", type=int, default=4)
    args = ap.parse_args()
    units = list(range(1, args.units + 1))
    sim = Simulator(units=tuple(units), tcp=False, rtu=True, line_baud=BAUD, start_s=demo_start_time()).start()
    try:
        fast = sim.profile.points_by_rate("fast")
        regs = sum(p.width for p in fast)
        print(f"{len(units)} units x {len(fast)} fast points ({regs} registers) at 1 Hz on one {BAUD} baud bus")
        show("baseline, one unit alone", asyncio.run(measure(sim.rtu_path, sim.profile, units[:1], args.seconds)))
        show(f"{len(units)} units on the bus", asyncio.run(measure(sim.rtu_path, sim.profile, units, args.seconds)))
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
