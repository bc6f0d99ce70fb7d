"""Helpers of the golden tests: read a replayed corpus image the ways a user does, compare with the source.

Test thread only. Each reader starts the replay peer (protocols/sim/replay.py)
in its own thread, reads through one user path, stops the peer and returns
``Read(profile, values)``; ``compare`` lists every published value PVDesk
does not reproduce within one least significant digit of the point's scale.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from protocols import codecs
from protocols.profiles import loader
from protocols.profiles.model import Profile
from protocols.sim.image import DeviceImage, Published
from protocols.sim.replay import image_simulator

ROOT = Path(__file__).resolve().parents[2]
IMAGES = Path(__file__).resolve().parent / "images"
PATHS = ("cli-profile", "cli-auto", "service")


@dataclass
class Read:
    profile: Profile | None     # the profile PVDesk used (None when it could not read at all)
    values: dict               # point name -> value (None = n/a)
    error: str = ""            # what PVDesk said when it could not read


def shipped(name: str) -> bool:
    """Whether ``name`` is a profile file PVDesk ships (SunSpec profiles are discovered, not shipped)."""
    return name in loader.available()


def nameable(name: str) -> bool:
    """Whether ``--profile name`` is accepted: a shipped profile, or ``sunspec`` (discovery forced)."""
    return shipped(name) or name == "sunspec"


async def _discover(host: str, port: int, unit: int) -> Profile:
    from protocols.detect import detect
    from protocols.links.pymodbus_link import tcp_link
    from protocols.session import Session
    s = Session(tcp_link(host, port), timeout_s=2.0, retries=1)
    await s.open()
    try:
        return await detect(s, unit)
    finally:
        await s.close()


def read_cli(image: DeviceImage, profile: str) -> Read:
    """``pvdesk read --json`` as a subprocess against the replay peer (``profile``: a name or auto)."""
    sim = image_simulator(image).start()
    try:
        host, port = sim.tcp_address
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        cmd = [sys.executable, "-m", "desktop.cli", "read", "--json", "--tcp", f"{host}:{port}",
               "--unit", str(image.unit), "--profile", profile, "--timeout", "2"]
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=120)
        if proc.returncode != 0:
            return Read(None, {}, (proc.stderr.strip().splitlines() or ["no output"])[-1])
        out = json.loads(proc.stdout)
        prof = loader.load(out["profile"]) if shipped(out["profile"]) else \
            asyncio.run(asyncio.wait_for(_discover(host, port, image.unit), 60))
        return Read(prof, {name: p["value"] for name, p in out["points"].items()})
    finally:
        sim.stop()


def read_service(image: DeviceImage, profile: str) -> Read:
    """The desktop DeviceService (what the window uses): connect, take its first poll sample."""
    from protocols.links.factory import LinkSpec

    from desktop.device.connect import Target
    from desktop.device.service import DeviceService
    sim = image_simulator(image).start()
    service = DeviceService(fast_period_s=0.5, slow_period_s=1.0)
    got: dict = {}
    done = threading.Event()

    def listener(event):  # desktop/device/events.py: one dataclass per event kind
        kind = event.kind.value
        if kind == "sample" and "sample" not in got:
            got["sample"] = event.sample
            done.set()
        elif kind == "error" and "error" not in got:
            got["error"] = event.text
        elif kind == "state" and event.state == "disconnected" and event.detail:
            got["error"] = event.detail
            done.set()
    service.add_listener(listener)
    try:
        host, port = sim.tcp_address
        target = Target(spec=LinkSpec(kind="tcp", host=host, port=port, timeout_s=2.0), unit=image.unit,
                        profile=profile)
        service.connect(target)
        done.wait(90)
        sample = got.get("sample")
        if sample is None:
            return Read(None, {}, got.get("error", "no sample within 90 s"))
        values = {k: (None if v is codecs.NOT_IMPLEMENTED else v) for k, v in sample.values.items()}
        return Read(service.device.profile, values)
    finally:
        service.remove_listener(listener)
        service.shutdown()
        sim.stop()


def read(image: DeviceImage, path: str) -> Read:
    """``path``: cli-profile (the image's profile named, as ``--profile``), cli-auto, or service (the
    window's DeviceService with the image's profile where it can be named, else auto-detection)."""
    forced = image.profile if nameable(image.profile) else "auto"
    if path == "cli-profile":
        return read_cli(image, image.profile)
    if path == "cli-auto":
        return read_cli(image, "auto")
    return read_service(image, forced)


def tolerance(profile: Profile, name: str, values: dict) -> float:
    """One least significant digit of the point's scale (a SunSpec point: 10 ** its live scale factor)."""
    point = profile.point(name)
    if point.scale_factor:
        sf = values.get(point.scale_factor)
        if isinstance(sf, (int, float)) and -10 <= sf <= 10:
            return abs(point.scale) * 10.0 ** sf
    return abs(point.scale) if point.scale else 1.0


def mismatch(entry: Published, result: Read) -> str | None:
    """Why PVDesk's value differs from the published one, or None when it is equal."""
    prof = result.profile
    want = entry.value
    factor = entry.factor
    label = f"{entry.point} (source {entry.source_name} = {want!r} {entry.unit})".replace(" )", ")")
    if prof is None:
        return f"{label}: PVDesk read nothing: {result.error}"
    name = prof.resolve(entry.point)
    if name is None:
        return f"{label}: profile {prof.name} has no such point"
    got = result.values.get(name)
    if got is None:
        if want == "":  # the source decodes an empty (zero-filled) string: PVDesk's n/a says the same
            return None
        return f"{label}: PVDesk shows n/a ({name})"
    if isinstance(want, str):
        if isinstance(got, str) and got.strip(" \x00") == want.strip(" \x00"):
            return None
        return f"{label}: PVDesk shows {got!r} ({name})"
    if isinstance(got, bool) or not isinstance(got, (int, float)) or isinstance(got, float) and math.isnan(got):
        return f"{label}: PVDesk shows {got!r} ({name})"
    expected = want * factor
    tol = tolerance(prof, name, result.values)
    if abs(got - expected) <= tol * (1 + 1e-6) + 1e-9:
        return None
    shown = f"{expected:g}" if factor != 1 else f"{want!r}"
    return f"{label}: PVDesk shows {got!r} ({name}), expected {shown} within {tol:g}"
