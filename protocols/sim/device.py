"""One simulated device on the bus: its register image, settings, faults and firmware.

Runs on the simulator's asyncio loop. The register image is produced from the
device profile, so the simulator and the profile can never disagree: live
values come from the Plant by point name, settings live in holding registers
and feed back into the Plant, alarms and the fault history follow the
profile's tables. Extra register blocks (the bootloader) plug in with
``add_block``. Errors are raised as ``SimException(code)`` and become Modbus
exception replies.

Which registers exist (``implemented``): "banks" (default) is what a real
device of this profile implements: the register banks its points lie in (the
reads a client plans over them, reserved words inside read as 0) and the
fault log, and any register the image holds (markers, headers); a read
touching a register outside them is exception 02. "points" implements only
the registers the image holds (a strict device with gaps inside its banks);
"all" is the old lax behaviour (everything reads as 0).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from .. import codecs
from ..profiles.model import Point, Profile
from .physics import Plant, PlantSettings


class SimException(Exception):
    """A Modbus exception the simulated device answers with."""

    def __init__(self, code: int) -> None:
        super().__init__(f"exception {code}")
        self.code = code


class Block(Protocol):
    """A register range served by code instead of the register image."""

    def read(self, address: int, count: int) -> list[int]: ...

    def write(self, address: int, values: list[int]) -> None: ...


LOGIN_WINDOW_S = 600.0  # an installer login lasts 10 minutes of device time

DEFAULT_IDENTITY = {
    "model_code": 0x5048, "model_name": "PVD-H8K", "rated_power_w": 8000,
    "hardware_revision": 3, "battery_capacity_wh": 10240, "mppt_count": 2,
    "fw_control_version": "1.04.02", "fw_dsp_version": "2.11.0", "fw_comm_version": "0.9.7",
    "fw_bms_version": "3.2.1", "fw_meter_version": "1.0.5",
    "hw_control_revision": 3, "hw_dsp_revision": 2,
}

DEFAULT_SETTINGS = {
    "grid_code": 1, "export_limit_w": 10000, "export_limit_enabled": 0, "battery_type": 1,
    "battery_charge_limit_a": 50.0, "battery_discharge_limit_a": 50.0,
    "battery_min_soc_pct": 10, "battery_max_soc_pct": 100, "meter_type": 1, "ct_ratio": 100,
    "work_mode": 0, "timezone_offset_min": 60, "active_power_limit_pct": 100, "ct_direction": 0,
}


@dataclass
class FaultEntry:
    code: int
    time_s: int
    detail: int = 0


class SimDevice:
    """A device at one unit id, serving ``profile``."""

    def __init__(self, profile: Profile, unit: int = 1, *, serial: str | None = None,
                 plant: Plant | None = None, clock: Callable[[], float] = time.time,
                 identity: dict | None = None, settings: dict | None = None,
                 implemented: str = "banks") -> None:
        if implemented not in ("banks", "points", "all"):
            raise ValueError(f"implemented must be banks, points or all, not {implemented!r}")
        self.profile = profile
        self.unit = unit
        self.implemented = implemented
        self._exists: dict[str, set[int]] | None = None
        self.clock = clock
        self.plant = plant or Plant(seed=unit)
        self.identity = dict(DEFAULT_IDENTITY, serial_number=serial or f"PVD8K{unit:03d}A0042",
                             bms_serial=f"B10-{unit:02d}-7781", meter_serial=f"M1-{unit:02d}-0113")
        self.identity.update(identity or {})
        self.holding: dict[int, int] = {}
        self.input: dict[int, int] = {}
        self.blocks: list[tuple[str, int, int, Block]] = []
        self.active_faults: set[int] = set()
        self.history: list[FaultEntry] = []
        self.offline_until = 0.0
        self.power_listeners: list[Callable[[float], None]] = []  # called by power_off (the bootloader)
        self.bootloader: Any = None  # set by protocols.sim.bootloader.install
        self.clock_offset_s = -93.0  # the device's clock runs a little behind, as real ones do
        self.write_log: list[tuple[float, str, object]] = []
        self.refuse_writes: dict[str, int] = {}
        self.readback_skew: dict[str, int] = {}
        # Installer login (point "installer_login"): the right code unlocks protected points for
        # LOGIN_WINDOW_S; a wrong code is exception 03, and so is a protected write while locked
        # (01/02 would make clients file the register as "not implemented"). Opt-in (require_login) so
        # tools that write protected points without a login keep working against the default sim.
        self.installer_code = 1234
        self.require_login = False
        self.unlocked_until = 0.0
        self.last_step_t: float | None = None
        self.values: dict = {}
        for name, value in self.identity.items():
            if profile.has(name):
                self._store(profile.point(name), value)
        for name, value in dict(DEFAULT_SETTINGS, **(settings or {})).items():
            if profile.has(name):
                self._store(profile.point(name), value)
        now = int(clock())
        for days, code in ((9, 102), (4, 210), (2, 211), (1, 303)):
            self.history.append(FaultEntry(code, now - days * 86400 + 3600 * 5))
        self.update()

    # ------------------------------------------------------------- the image
    def _image(self, function: str) -> dict[int, int]:
        return self.holding if function == "holding" else self.input

    def _store(self, point: Point, value) -> None:
        if point.computed:
            return  # no registers of its own
        raw: object
        if value is None or value is codecs.NOT_IMPLEMENTED:
            raw = codecs.NOT_IMPLEMENTED
        elif point.type in ("string", "datetime", "time"):
            # a default identity longer than a vendor's field is cut to fit, as the device would show it
            raw = value if point.type != "string" else str(value)[: point.width * 2]
        elif point.type == "float32":
            raw = (-1 if point.invert else 1) * float(value) / point.scale
        else:
            raw = round((-1 if point.invert else 1) * float(value) / point.scale)
        if raw is codecs.NOT_IMPLEMENTED and point.type in ("datetime", "time"):
            regs = [0] * point.width
        else:
            regs = codecs.encode_point(raw, point)
        image = self._image(point.function)
        for i, r in enumerate(regs):
            image[point.address + i] = r

    def value_of(self, name: str):
        """Decode a point from the register image (what a client would read)."""
        p = self.profile.point(name)
        if p.computed:
            return codecs.NOT_IMPLEMENTED
        image = self._image(p.function)
        regs = [image.get(p.address + i, 0) for i in range(p.width)]
        value = codecs.apply_scale(codecs.decode_point(regs, p), p.scale)
        return -value if p.invert and isinstance(value, (int, float)) else value

    def settings(self) -> PlantSettings:
        def get(name, default):
            v = self.value_of(name) if self.profile.has(name) else default
            return default if v is codecs.NOT_IMPLEMENTED else v
        return PlantSettings(
            export_limit_w=get("export_limit_w", 10000), export_limit_enabled=bool(get("export_limit_enabled", 0)),
            battery_charge_limit_a=get("battery_charge_limit_a", 50.0),
            battery_discharge_limit_a=get("battery_discharge_limit_a", 50.0),
            battery_min_soc_pct=get("battery_min_soc_pct", 10), battery_max_soc_pct=get("battery_max_soc_pct", 100),
            active_power_limit_pct=get("active_power_limit_pct", 100), work_mode=get("work_mode", 0),
            battery_present=get("battery_type", 1) != 0)

    def update(self) -> None:
        """Step the plant to the device's current time and refresh the live registers."""
        now = self.clock()
        if self.last_step_t is None:
            self.plant.step(now, 1.0)
        else:
            dt = now - self.last_step_t
            if dt < 0.2:
                return
            while dt > 0:
                step = min(dt, 60.0 if dt > 600 else 1.0 if dt < 5 else 5.0)
                self.plant.step(now - dt + step, step)
                dt -= step
        self.last_step_t = now
        self.plant.settings = self.settings()
        self.plant.ct_software_reversed = (bool(self.value_of("ct_direction")) if self.profile.has("ct_direction")
                                           else False)
        self.plant.stopped = any(c in (101, 102, 103, 104, 105, 112, 120) for c in self.active_faults)
        self.values = dict(self.plant.values)
        if self.profile.has("ambient_temperature_c"):
            self.values["ambient_temperature_c"] = codecs.NOT_IMPLEMENTED
        self._refresh_status(now)
        for p in self.profile.points:
            if p.name in self.values and not p.writable:
                self._store(p, self.values[p.name])

    def _refresh_status(self, now: float) -> None:
        words = {}
        for alarm in self.profile.alarms:
            word = 0
            for bit, fc in alarm.bits.items():
                if fc.code in self.active_faults:
                    word |= 1 << bit
            words[alarm.point] = word
        self.values.update(words)
        worst = [c for c in self.active_faults if self.profile.fault_codes.get(c) and
                 self.profile.fault_codes[c].severity in ("error", "critical")]
        self.values["active_fault_code"] = (max(worst) if worst else
                                            (max(self.active_faults) if self.active_faults else 0))
        self.values["run_state"] = 4 if worst else (2 if not self.plant.stopped else 0)
        self.values["fault_history_count"] = len(self.history)
        if self.profile.has("device_time_unix_s"):
            self._store(self.profile.point("device_time_unix_s"), int(now + self.clock_offset_s))
        hist = self.profile.fault_history
        if hist:
            recent = list(reversed(self.history))[: hist.entries]
            image = self._image(hist.function)
            for i in range(hist.entries):
                base = hist.address + i * hist.entry_registers
                if i < len(recent):
                    e = recent[i]
                    regs = [e.code, (e.time_s >> 16) & 0xFFFF, e.time_s & 0xFFFF, e.detail]
                else:
                    regs = [0, 0, 0, 0]
                for j in range(hist.entry_registers):
                    image[base + j] = regs[j] if j < 4 else 0

    # ---------------------------------------------------------------- faults
    def inject_fault(self, code: int, detail: int = 0) -> None:
        """Raise fault ``code``: alarm bit set, history entry written."""
        self.active_faults.add(code)
        self.history.append(FaultEntry(code, int(self.clock()), detail))
        self.last_step_t = None if self.last_step_t is None else self.last_step_t
        self.update_now()

    def clear_fault(self, code: int | None = None) -> None:
        if code is None:
            self.active_faults.clear()
        else:
            self.active_faults.discard(code)
        self.update_now()

    def power_off(self, off_s: float) -> None:
        """Cut the power for ``off_s``: silent meanwhile; listeners (the bootloader) react."""
        self.offline_until = time.monotonic() + off_s
        for fn in list(self.power_listeners):
            fn(off_s)

    def update_now(self) -> None:
        """Refresh registers even if less than a tick has passed."""
        self.last_step_t = (self.last_step_t or self.clock()) - 1.0
        self.update()

    # ------------------------------------------------------------ bus access
    def add_block(self, function: str, start: int, length: int, block: Block) -> None:
        """Serve ``length`` registers from ``start`` by ``block`` (e.g. the bootloader)."""
        self.blocks.append((function, start, start + length, block))

    def _block_for(self, function: str, address: int, count: int):
        for fn, start, end, block in self.blocks:
            if fn == function and start <= address < end:
                if address + count > end:
                    raise SimException(2)
                return block
        return None

    def read(self, function: str, address: int, count: int) -> list[int]:
        """Answer a read: registers, or SimException(code)."""
        if not 1 <= count <= 125:
            raise SimException(3)
        block = self._block_for(function, address, count)
        if block is not None:
            return block.read(address, count)
        if function == "input":
            for lo, hi in self.profile.unreadable:
                if address <= hi and address + count - 1 >= lo:
                    raise SimException(2)
        if self.implemented != "all":
            exists, held = self._existing()[function], self._image(function)
            if any(a not in exists and a not in held for a in range(address, address + count)):
                raise SimException(2)
        self.update()
        image = self._image(function)
        return [image.get(a, 0) for a in range(address, address + count)]

    def _existing(self) -> dict[str, set[int]]:
        """The registers this device implements, by function (see the module docstring)."""
        if self._exists is None:
            from ..reader import plan_reads
            exists: dict[str, set[int]] = {"holding": set(), "input": set()}
            if self.implemented == "banks":
                for b in plan_reads(self.profile.points, self.profile.max_read_registers, self.profile.unreadable):
                    exists[b.function].update(range(b.address, b.end))
            for p in self.profile.points:
                if p.compute is None:   # computed points have no registers
                    exists[p.function].update(range(p.address, p.end))
            hist = self.profile.fault_history
            if hist is not None:
                exists[hist.function].update(range(hist.address, hist.address + hist.entries * hist.entry_registers))
            for lo, hi in self.profile.unreadable:
                exists["input"].difference_update(range(lo, hi + 1))
            self._exists = exists
        return self._exists

    def write(self, address: int, values: list[int]) -> None:
        """Apply a write of holding registers, as the device's firmware would."""
        block = self._block_for("holding", address, len(values))
        if block is not None:
            block.write(address, values)
            return
        end = address + len(values)
        touched = [p for p in self.profile.parameters if p.address < end and p.end > address]
        covered = sum(min(p.end, end) - max(p.address, address) for p in touched)
        if not touched or covered != len(values) or any(p.address < address or p.end > end for p in touched):
            raise SimException(2)
        new_image = dict(self.holding)
        for i, v in enumerate(values):
            new_image[address + i] = v
        decoded = {}
        for p in touched:
            if p.name in self.refuse_writes:
                raise SimException(self.refuse_writes[p.name])
            regs = [new_image[p.address + i] for i in range(p.width)]
            value = codecs.apply_scale(codecs.decode_point(regs, p), p.scale)
            if value is codecs.NOT_IMPLEMENTED and p.type in ("datetime", "time"):
                raise SimException(3)
            if p.enum and value not in p.enum:
                raise SimException(3)
            if (p.min is not None and value < p.min) or (p.max is not None and value > p.max):
                raise SimException(3)
            decoded[p.name] = value
        if self.require_login and self.clock() >= self.unlocked_until and any(p.protected for p in touched):
            raise SimException(3)  # locked (not 01/02: a client remembers those as "not implemented")
        for p in touched:
            if p.name == "device_time_unix_s":
                self.clock_offset_s = decoded[p.name] - self.clock()
                continue
            if p.name == "installer_login":
                self._login(int(decoded[p.name]))
                continue
            old = self.value_of(p.name)
            for i in range(p.width):
                self.holding[p.address + i] = new_image[p.address + i]
            if p.name in self.readback_skew:
                self.holding[p.address] = (self.holding[p.address] + self.readback_skew[p.name]) & 0xFFFF
            self.write_log.append((self.clock(), p.name, decoded[p.name]))
            if old != decoded[p.name]:
                self.history.append(FaultEntry(303, int(self.clock()), p.address))
        self.update_now()

    def _login(self, code: int) -> None:
        """A write of the login register: the installer code unlocks, 0 locks, anything else is 03."""
        if code == 0:
            self.unlocked_until = 0.0
        elif code == self.installer_code:
            self.unlocked_until = self.clock() + LOGIN_WINDOW_S
        else:
            raise SimException(3)
