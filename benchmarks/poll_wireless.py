"""Reads per snapshot and snapshot time over the wireless links, against the simulator.

Prints, for Bluetooth LE (the fake radio at MTU 247 and 23, optionally with an
emulated connection interval) and a Solarman V5 logger on loopback: the
points in the profile, the reads one snapshot takes (the planner's fewest
reads) beside one read per point, and the minimum and median time of a
snapshot done both ways.

Runs the simulator in its own thread and the links on this thread's loop.
Usage: .venv/bin/python benchmarks/poll_wireless.py [--snapshots N] [--interval-ms MS]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from protocols.device import Device
from protocols.links.ble import BleLink
from protocols.links.solarman import V5Link
from protocols.session import Session
from protocols.sim.simulator import Simulator, demo_start_time


async def one_read_per_point(device: Device) -> int:
    """A snapshot the naive way: every point read on its own (as many vendor tools do)."""
    reads = 0
    for p in device.profile.points:
        if p.function == "input" and any(lo <= p.address <= hi for lo, hi in device.profile.unreadable):
            continue
        try:
            await device.session.read_registers(p.address, p.width, function=p.function, unit=device.unit)
        except Exception:  # a refused point still cost a round trip
            pass
        reads += 1
    return reads


async def measure(link, snapshots: int) -> dict:
    s = Session(link, timeout_s=2.0)
    await s.open()
    try:
        device = Device(s, link_profile)
        await device.read()  # warm up: learn refused addresses
        planned, naive = [], []
        reads = 0
        for _ in range(snapshots):
            t0 = time.perf_counter()
            sample = await device.read()
            planned.append(time.perf_counter() - t0)
            reads = sample.reads
        naive_reads = 0
        for _ in range(max(1, snapshots // 4)):
            t0 = time.perf_counter()
            naive_reads = await one_read_per_point(device)
            naive.append(time.perf_counter() - t0)
        return {"points": len(device.profile.points), "reads": reads, "naive_reads": naive_reads,
                "min_ms": min(planned) * 1e3, "median_ms": statistics.median(planned) * 1e3,
                "naive_min_ms": min(naive) * 1e3, "naive_median_ms": statistics.median(naive) * 1e3,
                "failures": s.stats.failures}
    finally:
        await s.close()


link_profile = None


def main() -> None:
    global link_profile
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--snapshots", type=int, default=20)
    ap.add_argument("--interval-ms", type=float, default=7.5,
                    help="emulated BLE connection interval for the extra rows (0 to skip them)")
    args = ap.parse_args()
    sim = Simulator(start_s=demo_start_time(), speed=0.0, v5=True).start()
    link_profile = sim.profile
    radio = sim.ble_radio()
    rows = []

    def ble(mtu: int, interval_ms: float = 0.0):
        def make():
            radio.inject.mtu = mtu
            radio.inject.notify_delay_s = interval_ms / 1000.0
            return BleLink(radio.address, backend=radio.backend)
        label = f"BLE MTU {mtu}" + (f", {interval_ms:g} ms interval" if interval_ms else "")
        return label, make

    cases = [ble(247), ble(23)]
    if args.interval_ms:
        cases += [ble(247, args.interval_ms), ble(23, args.interval_ms)]
    cases.append(("Wi-Fi logger (V5)", lambda: V5Link(sim.v5_address[0], sim.v5.logger_serial, sim.v5_address[1])))
    try:
        for label, make in cases:
            rows.append((label, asyncio.run(measure(make(), args.snapshots))))
    finally:
        sim.stop()
    head = (f"{'link':34} {'points':>6} {'reads':>5} {'min ms':>8} {'median ms':>9}   "
            f"{'1 read/point':>12} {'min ms':>8} {'median ms':>9}")
    print(head)
    print("-" * len(head))
    for label, r in rows:
        print(f"{label:34} {r['points']:6d} {r['reads']:5d} {r['min_ms']:8.1f} {r['median_ms']:9.1f}   "
              f"{r['naive_reads']:12d} {r['naive_min_ms']:8.1f} {r['naive_median_ms']:9.1f}"
              + (f"   ({r['failures']} failures)" if r["failures"] else ""))
    print(f"\n{args.snapshots} snapshots each (one-read-per-point: {max(1, args.snapshots // 4)}); "
          "simulator on loopback, BLE through the fake radio (no real air time unless an interval is set).")


if __name__ == "__main__":
    main()
