"""Auto-detection cost per family on the strict replay peer, and the first full read with and without it.

For every shipped family: a device of that family on the replay peer over
Modbus TCP on loopback (the real captures of tests/corpus where there are
some, GoodWe and SunSpec; the identity shapes of protocols/profiles/shapes.py
for the rest), auto-detected at its default unit. Printed per family:

- requests and milliseconds to identify it (target: at most 10 requests),
  beside a baseline measured in the same run: the same detection with the
  probe groups and the probe cache switched off (each family's identity
  read on its own, as before this issue);
- for the real captures: requests of a first full read (detection + one
  ``Device.read()`` of every point) beside a read of the same image with
  the profile given (``--profile``).

Requests are what the peer received (answered + refused). SunSpec rows count
the model-chain walk that discovery does after finding the marker.
Usage: .venv/bin/python benchmarks/detect.py [--repeat N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from protocols import detect as detect_mod
from protocols.device import Device
from protocols.links.pymodbus_link import tcp_link
from protocols.profiles import loader
from protocols.profiles.shapes import SHAPES, shape_image
from protocols.session import Session
from protocols.sim.image import corpus_files, load_image, parse_image
from protocols.sim.replay import image_simulator

IMAGES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "corpus", "images")
BUDGET = 10


def _sent(sim) -> int:
    return sum(d.reads + len(d.refusals) for d in sim.devices.values())


async def _session(sim) -> Session:
    host, port = sim.tcp_address
    s = Session(tcp_link(host, port), timeout_s=2.0, retries=0)
    await s.open()
    return s


async def _detect(sim, unit, grouped: bool):
    s = await _session(sim)
    try:
        if grouped:
            return await detect_mod.identify(s, unit)
        real = detect_mod.probe_groups
        detect_mod.probe_groups = lambda profiles: []   # baseline: no merged probes
        cache = detect_mod.ProbeCache.read_registers
        detect_mod.ProbeCache.read_registers = lambda self, a, c, **kw: self.session.read_registers(a, c, **kw)
        try:
            return await detect_mod.identify(s, unit)
        finally:
            detect_mod.probe_groups = real
            detect_mod.ProbeCache.read_registers = cache
    finally:
        await s.close()


def measure(image, grouped: bool, repeat: int):
    reqs, times, name = [], [], None
    for _ in range(repeat):
        sim = image_simulator(image).start()
        try:
            before = _sent(sim)
            t0 = time.perf_counter()
            det = asyncio.run(_detect(sim, image.unit, grouped))
            times.append((time.perf_counter() - t0) * 1000)
            reqs.append(_sent(sim) - before)
            name = det.profile.name
        finally:
            sim.stop()
    return name, max(reqs), statistics.median(times)


async def _full_read(sim, unit, profile_name):
    s = await _session(sim)
    try:
        profile = loader.load(profile_name) if profile_name else await detect_mod.detect(s, unit)
        await Device(s, profile, unit).read()
    finally:
        await s.close()


def full_read_requests(image, given: bool) -> int:
    sim = image_simulator(image).start()
    try:
        before = _sent(sim)
        shipped = image.profile in loader.available()
        asyncio.run(_full_read(sim, image.unit, image.profile if given and shipped else None))
        return _sent(sim) - before
    finally:
        sim.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rows = []
    real = [load_image(f) for f in corpus_files(IMAGES)]
    seen = set()
    for image in real:
        if image.profile in seen or not image.autodetect:
            continue
        seen.add(image.profile)
        rows.append((image.profile, "real: " + image.id, image))
    for family in sorted(SHAPES):
        rows.append((family, "identity shape", parse_image(shape_image(family), f"shape-{family}.json")))
    print(f"{'family':<20} {'device':<44} {'requests':>8} {'ms':>7}   {'baseline req':>12} {'ms':>7}  verdict")
    worst = 0
    for family, what, image in rows:
        name, req, ms = measure(image, True, args.repeat)
        bname, breq, bms = measure(image, False, args.repeat)
        ok = name == family or (family == "sunspec" and name not in loader.available())
        within = "ok" if ok and (req <= BUDGET or family == "sunspec") else "OVER" if ok else f"WRONG ({name})"
        if family != "sunspec":
            worst = max(worst, req)
        print(f"{family:<20} {what[:44]:<44} {req:>8} {ms:>7.1f}   {breq:>12} {bms:>7.1f}  {within}")
    print(f"\nworst vendor family: {worst} requests (target <= {BUDGET}); SunSpec rows include the model walk")
    print(f"\n{'first full read of a real capture':<48} {'auto-detected':>13} {'profile given':>13}")
    for image in real:
        if not image.autodetect:
            continue
        print(f"{image.id[:48]:<48} {full_read_requests(image, False):>13} {full_read_requests(image, True):>13}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
