"""Capture a device's state for a bundle: the raw register image, fault history, settings.

Runs on the device I/O thread's asyncio loop (the coroutines go through the
device's Session like every other request). The register image covers every
holding and input range the profile reads -- the same blocks the poller's
read plan uses, so a PVDesk connected to a replay of the image reads exactly
what it read from the real device -- plus the fault history ring and, for
SunSpec devices, the whole model chain from the 'SunS' marker. Ranges the
device refuses are narrowed down by halving and recorded, never guessed.
"""

from __future__ import annotations

import logging
import time

from protocols.device import Device
from protocols.errors import IllegalValue, LinkError, ModbusExceptionReply, PointNotSupported, PVDeskError
from protocols.reader import plan_reads

from . import secrets

log = logging.getLogger(__name__)

FUNCTIONS = ("holding", "input")


def image_spans(device: Device) -> dict[str, list[tuple[int, int]]]:
    """Merged [start, end) spans per function that the image covers."""
    profile = device.profile
    spans: dict[str, list[tuple[int, int]]] = {f: [] for f in FUNCTIONS}
    for block in plan_reads(profile.points, profile.max_read_registers, profile.unreadable):
        spans[block.function].append((block.address, block.end))
    hist = profile.fault_history
    if hist is not None:
        spans[hist.function].append((hist.address, hist.address + hist.entries * hist.entry_registers))
    base = (profile.extra.get("sunspec") or {}).get("base")
    if profile.kind == "sunspec" and isinstance(base, int):
        chain = (profile.extra.get("sunspec") or {}).get("chain") or []
        end = max((p.end for p in profile.points if p.function == "holding"), default=base + 2)
        if chain:  # the whole map, models PVDesk does not decode included, to the end model
            end = max(end, chain[-1][1] + 2 + chain[-1][2])
        spans["holding"].append((base, min(end + 2, 65536)))  # marker .. the end model
    out = {}
    for fn, items in spans.items():
        merged: list[list[int]] = []
        for lo, hi in sorted(items):
            if merged and lo <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        out[fn] = [(lo, hi) for lo, hi in merged]
    return out


class _Reader:
    def __init__(self, device: Device) -> None:
        self.device = device
        self.refused: dict[str, list[list]] = {f: [] for f in FUNCTIONS}
        self.link_failures = 0
        self.reads = 0

    async def read(self, fn: str, lo: int, hi: int, image: dict[int, int]) -> None:
        if self.link_failures >= 3:
            self.refused[fn].append([lo, hi - 1, "not read: link lost"])
            return
        try:
            self.reads += 1
            regs = await self.device.session.read_registers(lo, hi - lo, function=fn, unit=self.device.unit)
            self.link_failures = 0
        except (PointNotSupported, IllegalValue) as exc:
            if hi - lo == 1:
                self.refused[fn].append([lo, lo, f"exception {exc.code:02d}"])
                return
            mid = (lo + hi) // 2
            await self.read(fn, lo, mid, image)
            await self.read(fn, mid, hi, image)
            return
        except ModbusExceptionReply as exc:  # 04 failure, 05/06 busy, gateway errors
            self.refused[fn].append([lo, hi - 1, f"exception {exc.code:02d}"])
            return
        except LinkError as exc:
            self.link_failures += 1
            self.refused[fn].append([lo, hi - 1, f"not read: {exc.one_line()}"])
            return
        for i, value in enumerate(regs):
            image[lo + i] = int(value)


async def capture_register_image(device: Device) -> dict:
    """``{"holding": {address: value}, "input": {...}, "refused": {...}, ...}``, addresses as ints."""
    t0 = time.time()
    reader = _Reader(device)
    step = device.profile.max_read_registers
    image: dict = {f: {} for f in FUNCTIONS}
    spans = image_spans(device)
    for fn in FUNCTIONS:
        for lo, hi in spans[fn]:
            for start in range(lo, hi, step):
                await reader.read(fn, start, min(start + step, hi), image[fn])
    return {"unit": device.unit, "profile": device.profile.name, "captured_s": t0,
            "duration_s": round(time.time() - t0, 3), "reads": reader.reads,
            "spans": {f: [list(s) for s in spans[f]] for f in FUNCTIONS},
            "holding": image["holding"], "input": image["input"], "refused": reader.refused,
            "complete": not any(r for f in FUNCTIONS for r in reader.refused[f] if str(r[2]).startswith("not read"))}


async def capture_state(device: Device) -> dict:
    """Register image, fault history and settings of ``device`` (each part may carry an error instead)."""
    out: dict = {}
    image = await capture_register_image(device)
    for address in secrets.secret_registers(device.profile):  # a device may read the code back
        if address in image["holding"]:
            image["holding"][address] = 0
    out["register_image"] = image
    try:
        out["fault_history"] = [a.as_dict() for a in await device.fault_history()]
    except PVDeskError as exc:
        out["fault_history_error"] = exc.one_line()
    hidden = secrets.secret_names(device.profile)
    params = [p for p in device.profile.parameters if p.name not in hidden]
    if params:
        try:
            sample = await device.read(params)
            out["settings"] = {k: (None if not isinstance(v, (int, float, str)) else v)
                               for k, v in sample.values.items() if k in {p.name for p in params}}
        except PVDeskError as exc:
            out["settings_error"] = exc.one_line()
    return out


async def capture_live(device: Device) -> dict:
    """``capture_state`` with identity and firmware, the image in its JSON form: a bundle's live state."""
    state = await capture_state(device)
    state["identity"] = await device.identity()
    state["firmware"] = await device.firmware()
    state["register_image"] = image_to_json(state["register_image"])
    return state


def image_to_json(image: dict) -> dict:
    """JSON form: addresses become strings."""
    return {**image, **{f: {str(a): v for a, v in image.get(f, {}).items()} for f in FUNCTIONS}}


def image_from_json(doc: dict) -> dict:
    """Back from JSON, checked: addresses 0..65535, values 0..65535 (ValueError names the bad entry)."""
    out = dict(doc)
    for fn in FUNCTIONS:
        regs = {}
        for key, value in (doc.get(fn) or {}).items():
            address = int(key)
            if not 0 <= address <= 65535 or not isinstance(value, int) or not 0 <= value <= 0xFFFF:
                raise ValueError(f"register image: {fn} register {key!r} = {value!r} is not a 16-bit register")
            regs[address] = value
        out[fn] = regs
    return out
