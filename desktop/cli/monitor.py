"""The monitor command of the CLI: live values of the canonical quantities, printed and appended to a CSV.

Runs on the main thread, one asyncio loop for its I/O. What is shown comes from
``Profile.resolve`` (PV, AC, grid and battery power of any profile, SunSpec
included); an outage is ridden through (backoff, gap rows, resume).
"""

from __future__ import annotations

import asyncio
import csv
import sys
import time

from protocols import codecs
from protocols.reader import describe

from desktop.cli.main import target_from_args
from desktop.device.connect import connected


def _show(v):
    return "n/a" if v is codecs.NOT_IMPLEMENTED or v is None else v


MONITOR_POINTS = ["pv_power_w", "inverter_power_w", "load_power_w", "grid_power_w", "battery_power_w",
                  "battery_soc_pct", "pv_energy_today_kwh", "inverter_temperature_c", "run_state"]

#: What monitor calls a canonical quantity when the profile's own label says something else (SunSpec: "Watts").
MONITOR_LABELS = {"pv_power_w": "PV power", "inverter_power_w": "AC power", "load_power_w": "House load",
                  "grid_power_w": "Grid power (+ import)", "battery_power_w": "Battery power (+ discharge)",
                  "battery_soc_pct": "Battery state of charge", "inverter_temperature_c": "Inverter temperature"}


def monitor_points(profile) -> list[tuple[str, object]]:
    """(label, point) of what ``monitor`` shows: the canonical quantities the profile resolves."""
    out = []
    for canon in MONITOR_POINTS:
        name = profile.resolve(canon)
        if name is not None:
            point = profile.point(name)
            label = point.label if name == canon and point.label else MONITOR_LABELS.get(canon, point.label or name)
            out.append((label, point))
    return out or [(p.label or p.name, p) for p in profile.points[:10]]


MONITOR_MAX_BACKOFF_S = 30.0


async def _monitor(args) -> int:
    async with connected(target_from_args(args)) as dev:
        shown = monitor_points(dev.profile)
        if not args.csv:
            return await _watch(args, dev, shown, None)
        with open(args.csv, "a+", newline="", encoding="utf-8") as fh:
            return await _watch(args, dev, shown, fh)


async def _watch(args, dev, shown, fh) -> int:
    """Read the points of ``shown`` ((label, point) pairs) every ``args.interval`` s (``args.count`` samples,
    or until stopped), print them, and append each sample to the open CSV file ``fh`` (None: print only).

    Rides through outages: keeps polling with backoff, writes gap rows, resumes. The CSV gets a last
    column ``status``: "ok", or "no data: <why>" on a gap row (every value empty). A file started
    without that column keeps its columns (gap rows then only leave the values empty).
    """
    from protocols.errors import PVDeskError
    points = [p for _, p in shown]
    writer = None
    with_status = True
    if fh is not None:
        fh.seek(0)
        first = fh.readline()
        fh.seek(0, 2)
        writer = csv.writer(fh)
        if not first:
            writer.writerow(["time_utc"] + [f"{p.name}" for p in points] + ["status"])
        else:
            with_status = first.rstrip("\r\n").endswith(",status")
    n = 0
    failures = 0
    interactive = sys.stdout.isatty()
    while not args.count or n < args.count:
        t0 = time.monotonic()
        try:
            sample = await dev.read(points)
        except PVDeskError as exc:
            failures += 1
            delay = min(MONITOR_MAX_BACKOFF_S, args.interval * 2 ** min(failures - 1, 6))
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            if writer:
                writer.writerow([stamp] + [""] * len(points) + ([f"no data: {exc.one_line()}"] if with_status else []))
                fh.flush()
            print(f"{stamp}  no data: {exc.one_line()}; trying again in {delay:.1f} s", flush=True)
            await asyncio.sleep(delay)
            continue
        if failures:
            print(f"resumed after {failures} failed attempt(s)", flush=True)
            failures = 0
        n += 1
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(sample.timestamp_s))
        if writer:
            writer.writerow([stamp] + [_show(sample.values.get(p.name)) for p in points]
                            + (["ok"] if with_status else []))
            fh.flush()
        if interactive:
            sys.stdout.write("\x1b[H\x1b[2J")
        print(f"{dev.profile.title}  {stamp}  (sample {n})")
        for label, p in shown:
            print(f"  {label:<30} {describe(p, sample.values.get(p.name))}")
        sys.stdout.flush()
        await asyncio.sleep(max(0.0, args.interval - (time.monotonic() - t0)))
    return 0


def cmd_monitor(args) -> int:
    return asyncio.run(_monitor(args))
