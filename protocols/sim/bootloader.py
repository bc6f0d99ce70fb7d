"""The simulated device's bootloader: pvdesk-bootloader-v1 in a holding-register window.

Runs on the simulator's asyncio loop. Plugged into a SimDevice with
``add_block("holding", base, WINDOW, bootloader)`` by ``install``. It keeps the
staged image, its size, hash and the received offset across link drops and
power loss; takes chunks only at the offset it holds; checks the whole-image
SHA-256; on activation reboots (the unit goes silent for ``reboot_s``) into
the new image in test mode, where the component's version registers show the
new version and, like real devices, a few settings fall back to defaults; an
image that is not confirmed within ``test_timeout_s``, a host's REVERT or a
power loss during activation or test mode bring the previous image back. The
old image is never erased before the new one is confirmed, so the device
always boots something: it cannot be bricked. Fault history entries 301/302
record upgrades and reverts. Test knobs: ``fail_health``, ``corrupt_chunks``,
``corrupt_flash``, ``misreport_version``.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from typing import Any

from ..firmware import registers as R
from ..firmware.registers import Command, Error, Result, State
from .device import DEFAULT_SETTINGS, FaultEntry, SimDevice, SimException

MAX_IMAGE_BYTES = 16 * 1024 * 1024


class Bootloader:
    """The bootloader of one simulated device (one component upgraded at a time)."""

    def __init__(self, device: SimDevice, base: int, *, reboot_s: float = 3.0, test_timeout_s: float = 120.0,
                 reset_settings: tuple[str, ...] = ("export_limit_w", "grid_code")) -> None:
        self.device = device
        self.base = base
        self.reboot_s = reboot_s
        self.test_timeout_s = test_timeout_s
        self.reset_settings = reset_settings
        self.fail_health = False
        self.corrupt_chunks = 0
        self.corrupt_flash = 0
        self.misreport_version: str | None = None
        self.pending = [0] * (R.VERSION + 4 - R.IMAGE_SIZE)
        self.state = State.IDLE
        self.error = Error.NONE
        self.last_result = Result.NONE
        self.staged: Any = None  # (size, sha256 bytes, component, version) while an image is staged
        self.image = bytearray()
        self.boot_at = 0.0
        self.test_deadline = 0.0
        self.previous_version: Any = None
        # What the tests look at: every chunk write, accepted or not.
        self.chunk_log: list[tuple[int, int, str]] = []  # (offset, length, "ok"|error name)
        self.activations = 0
        self.command_log: list[str] = []
        self.writes = 0  # every write the bootloader received (refusal tests: none before the checks pass)
        device.power_listeners.append(self.on_power_off)

    # ------------------------------------------------------------------ bus
    def read(self, address: int, count: int) -> list[int]:
        self._tick()
        status = self._status()
        regs = status[:R.IMAGE_SIZE] + self.pending + status[R.RECEIVED:]
        regs += [0] * (R.WINDOW - len(regs))
        off = address - self.base
        return regs[off: off + count]

    def write(self, address: int, values: list[int]) -> None:
        self.writes += 1
        self._tick()
        off = address - self.base
        if off == R.CHUNK:
            self._chunk(values)
        elif off == R.COMMAND and len(values) == 1:
            self._command(values[0])
        elif off >= R.IMAGE_SIZE and off + len(values) <= R.VERSION + 4:
            for i, v in enumerate(values):
                self.pending[off - R.IMAGE_SIZE + i] = v
        else:
            self._refuse(Error.BAD_COMMAND, 2)

    def _status(self) -> list[int]:
        now = time.monotonic()
        left = math.ceil(self.test_deadline - now) if self.state == State.TESTING else 0
        return ([0, int(self.state), int(self.error), R.PROTOCOL_VERSION, R.CHUNK_DATA_MAX]
                + [0] * (R.RECEIVED - R.IMAGE_SIZE)
                + R.u32_regs(len(self.image)) + [max(0, left), int(self.last_result)])

    def _refuse(self, error: Error, code: int = 3) -> None:
        self.error = error
        raise SimException(code)

    # --------------------------------------------------------------- upload
    def _requested(self) -> tuple:
        p = self.pending
        size = R.regs_u32(p[0:2])
        digest = R.regs_bytes(p[2:18])
        return size, digest, R.regs_text(p[18:22]), R.regs_text(p[22:26])

    def _start(self) -> None:
        size, digest, component, version = req = self._requested()
        if not 0 < size <= MAX_IMAGE_BYTES:
            self._refuse(Error.TOO_LARGE)
        if self._component(component) is None:
            self._refuse(Error.UNKNOWN_COMPONENT)
        if self.state in (State.RECEIVING, State.RECEIVED, State.VERIFIED) and req == self.staged:
            return  # the same image: keep what we have, the host resumes from RECEIVED
        self.staged = req
        self.image = bytearray()
        self.state = State.RECEIVING

    def _chunk(self, values: list[int]) -> None:
        if len(values) < R.CHUNK_HEADER_REGS + 1:
            self._refuse(Error.BAD_LENGTH)
        offset, crc = R.regs_u32(values[0:2]), values[2]
        data_regs = values[R.CHUNK_HEADER_REGS:]
        if self.state != State.RECEIVING:
            self.chunk_log.append((offset, 2 * len(data_regs), "BAD_STATE"))
            self._refuse(Error.BAD_STATE)
        if offset != len(self.image):
            self.chunk_log.append((offset, 2 * len(data_regs), "OFFSET_MISMATCH"))
            self._refuse(Error.OFFSET_MISMATCH)
        size = self.staged[0]
        length = min(2 * len(data_regs), size - offset)
        if 2 * len(data_regs) - length >= 2 or len(data_regs) > R.CHUNK_DATA_REGS_MAX:
            self.chunk_log.append((offset, 2 * len(data_regs), "BAD_LENGTH"))
            self._refuse(Error.BAD_LENGTH)
        data = bytearray(R.regs_bytes(data_regs)[:length])
        if self.corrupt_chunks > 0:  # damaged on the way, after the frame check (e.g. by a gateway)
            self.corrupt_chunks -= 1
            data[len(data) // 2] ^= 0x40
        if R.crc16(bytes(data)) != crc:
            self.chunk_log.append((offset, length, "CHUNK_CRC"))
            self._refuse(Error.CHUNK_CRC)
        if self.corrupt_flash > 0:  # a bad flash write the chunk CRC cannot see
            self.corrupt_flash -= 1
            data[0] ^= 0x01
        self.image += data
        self.chunk_log.append((offset, length, "ok"))
        self.error = Error.NONE
        if len(self.image) == size:
            self.state = State.RECEIVED

    # ------------------------------------------------------------- commands
    def _command(self, value: int) -> None:
        try:
            cmd = Command(value)
        except ValueError:
            self._refuse(Error.BAD_COMMAND)
        self.command_log.append(cmd.name)
        s = self.state
        if cmd == Command.START:
            if s in (State.REBOOTING, State.TESTING):
                self._refuse(Error.BAD_STATE)
            self._start()
        elif cmd == Command.VERIFY:
            if s == State.VERIFIED:
                return
            if s != State.RECEIVED:
                self._refuse(Error.BAD_STATE)
            if hashlib.sha256(self.image).digest() != self.staged[1]:
                self.staged, self.image, self.state = None, bytearray(), State.ERROR
                self._refuse(Error.HASH_MISMATCH)
            self.state = State.VERIFIED
        elif cmd == Command.ACTIVATE:
            if s == State.TESTING:
                return
            if s != State.VERIFIED:
                self._refuse(Error.BAD_STATE)
            self.activations += 1
            self.state = State.REBOOTING
            self.boot_at = time.monotonic() + self.reboot_s
            self._go_offline(self.reboot_s)
            self._later(self.reboot_s)
        elif cmd == Command.CONFIRM:
            if s == State.IDLE and self.last_result == Result.CONFIRMED:
                return
            if s != State.TESTING:
                self._refuse(Error.BAD_STATE)
            self.state, self.last_result, self.staged, self.image = State.IDLE, Result.CONFIRMED, None, bytearray()
            self.device.history.append(FaultEntry(301, int(self.device.clock())))
            self.device.update_now()
        elif cmd == Command.ABORT:
            if s in (State.REBOOTING, State.TESTING):
                self._refuse(Error.BAD_STATE)
            self.state, self.last_result, self.staged, self.image = State.IDLE, Result.ABORTED, None, bytearray()
        elif cmd == Command.REVERT:
            if s == State.IDLE and self.last_result == Result.REVERTED_BY_HOST:
                return
            if s != State.TESTING:
                self._refuse(Error.BAD_STATE)
            self._revert(Result.REVERTED_BY_HOST, reboot=True)
        self.error = Error.NONE

    # ---------------------------------------------------------- boot & time
    def _component(self, name: str):
        return next((c for c in self.device.profile.firmware if c.component == name), None)

    def _set_version(self, version: str) -> None:
        comp = self._component(self.staged[2])
        self.device.identity[comp.version_point] = version
        self.device._store(self.device.profile.point(comp.version_point), version)

    def _go_offline(self, seconds: float) -> None:
        self.device.offline_until = max(self.device.offline_until, time.monotonic() + seconds)

    def _later(self, delay_s: float) -> None:
        try:
            asyncio.get_running_loop().call_later(delay_s + 0.01, self._tick)
        except RuntimeError:
            pass  # no loop: the next access catches up (_tick)

    def _tick(self) -> None:
        now = time.monotonic()
        if self.state == State.REBOOTING and now >= self.boot_at:
            self._boot_new()
        if self.state == State.TESTING and now >= self.test_deadline:
            self._revert(Result.REVERTED_TIMEOUT, reboot=True)

    def _boot_new(self) -> None:
        comp = self._component(self.staged[2])
        self.previous_version = self.device.identity.get(comp.version_point)
        self._set_version(self.misreport_version or self.staged[3])
        for name in self.reset_settings:
            if self.device.profile.has(name):
                self.device._store(self.device.profile.point(name), DEFAULT_SETTINGS[name])
        self.state = State.TESTING
        self.test_deadline = time.monotonic() + self.test_timeout_s
        self._later(self.test_timeout_s)
        if self.fail_health:
            self.device.inject_fault(230)
        self.device.update_now()

    def _revert(self, result: Result, reboot: bool) -> None:
        if self.previous_version is not None:
            self._set_version(self.previous_version)
        self.device.active_faults.discard(230)
        self.device.history.append(FaultEntry(302, int(self.device.clock()), int(result)))
        self.state, self.last_result, self.staged, self.image = State.IDLE, result, None, bytearray()
        if reboot:
            self._go_offline(self.reboot_s)
        self.device.update_now()

    def on_power_off(self, off_s: float) -> None:
        """Power cut: activation in progress or an unconfirmed test image -> the previous image."""
        if self.state == State.REBOOTING:
            # The swap never completed: the old image boots; the verified image stays staged.
            self.state, self.last_result = State.VERIFIED, Result.REVERTED_POWER_LOSS
            self.device.history.append(FaultEntry(302, int(self.device.clock()), int(Result.REVERTED_POWER_LOSS)))
            self.device.update_now()
        elif self.state == State.TESTING:
            self._revert(Result.REVERTED_POWER_LOSS, reboot=False)


def install(device: SimDevice, **options) -> Bootloader | None:
    """Give ``device`` a bootloader if its profile names pvdesk-bootloader-v1."""
    profile = device.profile
    if profile.upgrade_method != R.METHOD or profile.upgrade_base is None:
        return None
    bootloader = Bootloader(device, profile.upgrade_base, **options)
    device.add_block("holding", profile.upgrade_base, R.WINDOW, bootloader)
    device.bootloader = bootloader
    return bootloader
