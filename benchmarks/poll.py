"""Reads per snapshot and snapshot time: the planner against one read per point, over real links.

For the reference profile (the simulated hybrid inverter) and for a SunSpec
device (the simulated SunSpec inverter, discovered first): the points, the
reads one snapshot takes (``Device.read(...).reads``), the minimum possible
(computed here independently of the planner, see ``minimum_reads``), the
median snapshot time, and beside it a one-read-per-point baseline measured
in the same run, with the speed-up. Links: Modbus TCP on loopback, and
Modbus RTU on the simulator's pseudo-terminal with 9600 baud line timing
emulated, once with a device that answers at once and once with a device
turnaround per request (``--turnaround-ms``, 20 ms by default: an assumption,
real inverters take tens of milliseconds). On a 9600 baud line the planned
reads pay for the gap registers they carry (about 2 ms a register), so the
speed-up there is bounded by how densely the points are packed; per-request
costs (turnaround, TCP round trips) are what the planner saves most. BLE and Solarman V5 rows are added by
the hook ``EXTRA_LINKS`` when the simulator and those link modules offer them.

Then, for every SunSpec image of the corpus (tests/corpus/images, real captures
replayed by the strict peer over loopback TCP): registers in the map, requests
for discovery plus the first snapshot and per later snapshot, PVDesk's and
pysunspec2's (its own scan and a read of every model), measured in the same
run and counted by the peer (answers and refusals alike).

Runs the simulator in its own thread and the links on this thread's loop.
Usage: .venv/bin/python benchmarks/poll.py [--snapshots N] [--rtu-snapshots N] [--no-rtu] [--sunspec-only]
Target: reads per snapshot = the minimum; at least 10x faster than one read per point; on the SMA
image of 877 registers at most 9 requests for discovery and the first snapshot (pysunspec2: 54).
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
from protocols.links.pymodbus_link import serial_link, tcp_link
from protocols.session import Session
from protocols.sim.simulator import Simulator, demo_start_time
from protocols.sim.sunspec_device import sunspec_simulator
from protocols.sunspec import discover_profile


def minimum_reads(points, cap: int = 125, unreadable=()) -> int:
    """The fewest reads that cover ``points``, computed without the planner.

    Per function code, the points sorted by address are intervals; a read is
    one register range of at most ``cap`` registers that may not touch an
    unreadable range, so the unreadable ranges cut the address space into
    segments and each read serves a run of consecutive points of one segment.
    Greedy is optimal there (the "greedy stays ahead" exchange argument): any
    cover needs a read that starts at or before the first point; the greedy
    read starting exactly there and reaching as far as the cap allows serves
    every point that read could, so after k greedy reads at least as many
    points are served as after the first k reads of any other cover. Hence
    the greedy count is a lower bound for every plan, and the planner is at
    the minimum when it takes this many reads.
    """
    total = 0
    for fn in {p.function for p in points}:
        bad = list(unreadable) if fn == "input" else []
        spans = sorted((p.address, p.address + p.width) for p in points if p.function == fn)
        start = end = None
        for a, e in spans:
            crosses = any(start is not None and start <= hi and max(end, e) - 1 >= lo for lo, hi in bad)
            if start is None or max(end, e) - start > cap or crosses:
                total += 1
                start, end = a, e
            else:
                end = max(end, e)
    return total


async def one_read_per_point(device: Device) -> int:
    """A snapshot the naive way: every point with its own request (as many vendor tools do)."""
    for p in device.profile.points:
        await device.session.read_registers(p.address, p.width, function=p.function, unit=device.unit)
    return len(device.profile.points)


async def measure(make_link, sunspec: bool, snapshots: int, naive_snapshots: int) -> dict:
    session = Session(make_link(), timeout_s=3.0)
    await session.open()
    try:
        if sunspec:
            profile = await discover_profile(session, 1)
        else:
            from protocols.profiles.loader import load
            profile = load("pvdesk-hybrid")
        device = Device(session, profile)
        await device.read()  # warm up (connection, learned refusals)
        planned, reads = [], 0
        for _ in range(snapshots):
            t0 = time.perf_counter()
            reads = (await device.read()).reads
            planned.append(time.perf_counter() - t0)
        naive = []
        for _ in range(naive_snapshots):
            t0 = time.perf_counter()
            await one_read_per_point(device)
            naive.append(time.perf_counter() - t0)
        return {"points": len(profile.points), "reads": reads,
                "minimum": minimum_reads(profile.points, profile.max_read_registers, profile.unreadable),
                "median_ms": statistics.median(planned) * 1e3,
                "naive_ms": statistics.median(naive) * 1e3, "failures": session.stats.failures}
    finally:
        await session.close()


# ---------------------------------------------------------------------------------------------
# Hook for more links: (label, needs_rtu, factory(sim) -> link factory or None when unavailable).
# BLE and Solarman V5 come from protocols/links/ble.py and protocols/links/solarman.py, served by
# the simulator's fake radio and V5 logger when the simulator offers them.

def _ble(sim):
    try:
        from protocols.links.ble import BleLink
        radio = sim.ble_radio()
    except (ImportError, AttributeError, TypeError):
        return None
    return lambda: BleLink(radio.address, backend=radio.backend)


def _v5(sim):
    try:
        from protocols.links.solarman import V5Link
        host, port = sim.v5_address
        serial = sim.v5.logger_serial
    except (ImportError, AttributeError, TypeError, AssertionError):
        return None
    return lambda: V5Link(host, serial, port)


EXTRA_LINKS = [("BLE (fake radio)", _ble), ("Wi-Fi logger (Solarman V5)", _v5)]


class ProcessSim:
    """The simulator in its own process, as a real device is: no GIL shared with the client."""

    def __init__(self, sunspec: bool) -> None:
        import subprocess
        cmd = [sys.executable, "-m", "desktop.cli", "sim", "--port", "0", "--no-control", "--speed", "0"]
        if sunspec:
            cmd.append("--sunspec")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        self.tcp_address = None
        while time.monotonic() < deadline and self.tcp_address is None:
            line = self.proc.stdout.readline()
            if not line:
                break
            if "Modbus TCP :" in line:
                host, port = line.split("Modbus TCP :")[1].split()[0].rsplit(":", 1)
                self.tcp_address = (host, int(port))
        if self.tcp_address is None:
            self.stop()
            raise RuntimeError("the simulator process did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def _start(sunspec: bool, **kw) -> Simulator:
    kw.setdefault("start_s", demo_start_time())
    kw.setdefault("speed", 0.0)
    if sunspec:
        return sunspec_simulator(**kw).start()
    return Simulator(**kw).start()


async def _pvdesk_requests(sim, unit: int) -> tuple[int, int]:
    from protocols.detect import detect  # noqa: PLC0415
    from protocols.sunspec import ChainCache  # noqa: PLC0415

    from tests.sunspec.oracle import served_requests  # noqa: PLC0415
    session = Session(tcp_link(*sim.tcp_address), timeout_s=3.0, retries=1)
    await session.open()
    try:
        before = served_requests(sim)
        profile = await detect(session, unit, sunspec_cache=ChainCache())  # a device never seen before
        device = Device(session, profile, unit)
        await device.read()
        first = served_requests(sim) - before
        mid = served_requests(sim)
        await device.read()
        return first, served_requests(sim) - mid
    finally:
        await session.close()


def sunspec_corpus_rows() -> list[tuple]:
    """(image id, registers, PVDesk first, PVDesk later, pysunspec2 first, pysunspec2 later) per SunSpec image."""
    from pathlib import Path  # noqa: PLC0415

    from protocols.sim.image import corpus_files, load_image  # noqa: PLC0415
    from protocols.sim.replay import image_simulator  # noqa: PLC0415

    from tests.sunspec.oracle import oracle_read  # noqa: PLC0415
    root = Path(__file__).resolve().parents[1] / "tests" / "corpus" / "images"
    rows = []
    for path in corpus_files(root):
        image = load_image(path)
        if image.profile != "sunspec":
            continue
        size = sum(len(b.registers) for b in image.blocks)
        sim = image_simulator(image).start()
        try:
            first, later = asyncio.run(_pvdesk_requests(sim, image.unit))
            try:
                oracle = oracle_read(sim, image.unit)
                theirs = (oracle.scan_requests, oracle.snapshot_requests)
            except Exception as exc:  # noqa: BLE001 (pysunspec2 refuses some real devices outright, any way)
                theirs = (f"fails: {type(exc).__name__}", "")
        finally:
            sim.stop()
        rows.append((image.id, size, first, later) + theirs)
    return rows


def print_sunspec_corpus() -> None:
    rows = sunspec_corpus_rows()
    head = (f"{'SunSpec corpus image':34} {'registers':>9}   {'PVDesk: discovery+1st':>21} {'per later':>9}   "
            f"{'pysunspec2: scan+1st':>20} {'per later':>9}")
    print(head)
    print("-" * len(head))
    for ident, size, first, later, their_first, their_later in rows:
        print(f"{ident:34} {size:9d}   {first:21d} {later:9d}   {their_first!s:>20} {their_later!s:>9}")
    print("\nrequests counted by the replay peer (answered + refused); PVDesk with an empty chain cache. "
          "pysunspec2's 'scan+1st' is its scan(), which reads every model once.")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--snapshots", type=int, default=30, help="snapshots per row over TCP and the extra links")
    ap.add_argument("--rtu-snapshots", type=int, default=5, help="snapshots per row over RTU at 9600 baud")
    ap.add_argument("--no-rtu", action="store_true", help="skip the RTU rows")
    ap.add_argument("--sunspec-only", action="store_true", help="only the SunSpec corpus table (requests)")
    ap.add_argument("--turnaround-ms", type=float, default=20.0,
                    help="an extra RTU row where the device takes this long to answer each request "
                         "(real inverters take tens of ms; 0 to skip)")
    args = ap.parse_args()
    if args.sunspec_only:
        print_sunspec_corpus()
        return
    rows = []
    t_start = time.perf_counter()
    for sunspec, dev_label in ((False, "reference (pvdesk-hybrid)"), (True, "SunSpec (discovered)")):
        extra = {"v5": True} if not sunspec else {}
        try:
            sim = _start(sunspec, **extra)
        except TypeError:  # a simulator without the V5 option
            sim = _start(sunspec)
        try:
            cases = [("Modbus TCP (sim in-process)", lambda sim=sim: tcp_link(*sim.tcp_address), args.snapshots, 10)]
            for label, factory in EXTRA_LINKS:
                make = factory(sim) if not sunspec else None
                if make is not None:
                    cases.append((label, make, args.snapshots, 3))
            for label, make, n, n_naive in cases:
                rows.append((dev_label, label, asyncio.run(measure(make, sunspec, n, n_naive))))
        finally:
            sim.stop()
        proc_sim = ProcessSim(sunspec)
        try:
            rows.append((dev_label, "Modbus TCP (sim own process)",
                         asyncio.run(measure(lambda p=proc_sim: tcp_link(*p.tcp_address), sunspec, args.snapshots, 10))))
        finally:
            proc_sim.stop()
        turnarounds = [0.0] + ([args.turnaround_ms] if args.turnaround_ms else [])
        for turnaround_ms in ([] if args.no_rtu else turnarounds):
            sim = _start(sunspec, tcp=False, rtu=True, line_baud=9600)
            sim.set_delay(turnaround_ms / 1000.0)
            label = "RTU 9600 baud (pty)" + (f" +{turnaround_ms:g} ms" if turnaround_ms else "")
            try:
                rows.append((dev_label, label,
                             asyncio.run(measure(lambda sim=sim: serial_link(sim.rtu_path, 9600), sunspec,
                                                 args.rtu_snapshots, 1))))
            finally:
                sim.stop()
    head = (f"{'device':26} {'link':28} {'points':>6} {'reads':>5} {'minimum':>7} {'median ms':>9}   "
            f"{'1 read/point ms':>15} {'speed-up':>8}")
    print(head)
    print("-" * len(head))
    for dev_label, label, r in rows:
        ok = "" if r["reads"] == r["minimum"] else "  (above the minimum!)"
        print(f"{dev_label:26} {label:28} {r['points']:6d} {r['reads']:5d} {r['minimum']:7d} "
              f"{r['median_ms']:9.1f}   {r['naive_ms']:15.1f} {r['naive_ms'] / r['median_ms']:7.1f}x{ok}"
              + (f"  ({r['failures']} failures)" if r["failures"] else ""))
    print(f"\nmedian of {args.snapshots} snapshots per row ({args.rtu_snapshots} over RTU); the one-read-per-point "
          f"baseline is the median of a few rounds in the same run (one over RTU). A snapshot reads every point of "
          f"the profile, identity strings included. Total {time.perf_counter() - t_start:.0f} s.\n")
    print_sunspec_corpus()


if __name__ == "__main__":
    main()
