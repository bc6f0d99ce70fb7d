"""Four units on one 9600-baud RS-485 bus, each polled at 1 Hz: achieved sample period per unit, bus utilisation.

One link, one owner: the site service (desktop/site_service.py, the Site
page's) opens four units on the simulator's pseudo-terminal (9600 baud 8N1
line timing emulated, every unit a reference hybrid inverter): one Session
per link, a sibling per unit on its request lock, which queues requests
first come, first served, so the units take turns. Figures: per
unit the samples taken, the median and 95th-percentile interval between its
samples (target 1 s), and the bus utilisation (wire time of every byte sent
and received, 10 bits a character, plus the 3.5-character silence ending
each frame, over the wall time). Beside them, measured in the same run: one
unit alone on the same bus at 1 Hz. A third run powers one unit off: the
others keep their period while it times out (1 s timeout, no retry once
it failed, then the poller's backoff up to 30 s).

Runs the simulator in its own thread and the pollers on the device service's I/O thread.
Usage: .venv/bin/python benchmarks/poll_bus.py [--seconds S] [--units N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from protocols.links.factory import LinkSpec
from protocols.sim.simulator import Simulator, demo_start_time

from desktop.device.connect import Target
from desktop.device.service import DeviceService
from desktop.device.site_service import SiteService

BAUD = 9600
BITS_PER_CHAR = 10


def measure(path: str, units: list[int], seconds: float, silent: int | None = None, sim=None) -> dict:
    """Poll ``units`` through the site service for ``seconds``; ``silent`` is powered off first."""
    service = DeviceService(fast_period_s=1.0, slow_period_s=10.0)
    site = SiteService(service, fast_period_s=1.0, slow_period_s=10.0)
    stamps: dict[str, list[float]] = {}
    wire = {"chars": 0, "frames": 0}

    def on_event(event) -> None:   # I/O thread (desktop/device/events.py)
        if event.kind.value != "site":
            return
        for d in event.devices:
            seen = stamps.setdefault(d["key"], [])
            if d["last_s"] and (not seen or seen[-1] != d["last_s"]):
                seen.append(d["last_s"])
    service.add_listener(on_event)
    try:
        keys = site.add_units(Target(spec=LinkSpec(kind="serial", serial_port=path, baud=BAUD)), units).result(60)
        link = next(iter(site.members.values())).device.session.link

        def on_frame(direction: str, data: bytes, t: float) -> None:
            wire["chars"] += len(data)
            wire["frames"] += 1
        link.frame_listeners.append(on_frame)
        if silent is not None:
            sim.power_cycle(seconds + 60, unit=silent)
        time.sleep(2.0)             # past the identity reads and the first cycle
        for k in keys:
            stamps[k] = []
        wire["chars"] = wire["frames"] = 0
        errors0 = {k: site.members[k].poller.failures for k in keys}
        t0 = time.monotonic()
        time.sleep(seconds)
        wall = time.monotonic() - t0
        errors = {k: site.members[k].poller.failures - errors0[k] for k in keys}
    finally:
        site.close().result(30)
        service.shutdown()
    wire_s = (wire["chars"] * BITS_PER_CHAR + wire["frames"] * 3.5 * BITS_PER_CHAR) / BAUD
    out = {"wall_s": wall, "utilisation": wire_s / wall, "units": {}}
    for k, unit in zip(keys, units):
        gaps = sorted(b - a for a, b in zip(stamps[k], stamps[k][1:]))
        out["units"][unit] = {"samples": len(stamps[k]), "errors": errors[k],
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
    print("load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    sim = Simulator(units=tuple(units), tcp=False, rtu=True, line_baud=BAUD, start_s=demo_start_time()).start()
    try:
        fast = sim.profile.points_by_rate("fast")
        regs = sum(p.width for p in fast)
        print(f"{len(units)} units x {len(fast)} fast points ({regs} registers) at 1 Hz on one {BAUD} baud bus")
        show("baseline, one unit alone", measure(sim.rtu_path, units[:1], args.seconds))
        show(f"{len(units)} units on the bus", measure(sim.rtu_path, units, args.seconds))
        show(f"{len(units)} units, unit {units[-1]} silent (powered off)",
             measure(sim.rtu_path, units, args.seconds, silent=units[-1], sim=sim))
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
