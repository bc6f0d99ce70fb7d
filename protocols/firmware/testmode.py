"""An image left in test mode: read it first, then confirm it (after a health check) or revert it.

Runs on the device I/O thread's asyncio loop. When the host dies while a new
image runs in test mode (killed, laptop closed, cable pulled), the device
reverts by itself when its test timer runs out. A rerun of the upgrade must
not compare versions first: the component already reports the new version,
so it would say "the same version ... nothing was written" and the device
would revert minutes later. So every check and upgrade reads the
bootloader's state before anything else (``read_pending``); an image in test
mode is offered to ``confirm_pending`` (the same health check as an upgrade,
then CONFIRM, the version read back) or ``revert_pending``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from ..device import Device
from ..errors import IllegalValue, LinkError
from . import registers as R
from .client import BootloaderClient, BootloaderError, BootStatus
from .registers import METHOD, Command, Result, State


@dataclass(frozen=True)
class PendingImage:
    """A new image running unconfirmed (TESTING) or booting into test mode (REBOOTING)."""

    component: str
    version: str
    state: State
    test_left_s: int

    def text(self) -> str:
        when = (f"it reverts to the previous image by itself in {self.test_left_s} s"
                if self.state == State.TESTING else "the device is restarting into it")
        return f"{self.component} {self.version} runs in test mode, not confirmed: {when}"


def client_for(device: Device) -> BootloaderClient | None:
    profile = device.profile
    if profile.upgrade_method != METHOD or profile.upgrade_base is None:
        return None
    return BootloaderClient(device.session, profile.upgrade_base, device.unit)


async def read_pending(device: Device) -> PendingImage | None:
    """The image in test mode, if any (None: nothing pending, or no PVDesk bootloader)."""
    client = client_for(device)
    if client is None:
        return None
    status = await client.status()
    if status.state not in (State.TESTING, State.REBOOTING):
        return None
    regs = await device.session.read_registers(client.base + R.COMPONENT, 8, unit=device.unit)
    return PendingImage(R.regs_text(regs[0:4]), R.regs_text(regs[4:8]), status.state, status.test_left_s)


@dataclass
class PendingResult:
    outcome: str        # "confirmed", "reverted", "nothing pending", "failed"
    message: str
    running_version: str | None = None


async def _status(client: BootloaderClient, wait_s: float, poll_s: float) -> BootStatus:
    """STATUS, waiting out a restart or a lost link for up to ``wait_s``."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            status = await client.status()
            if status.state != State.REBOOTING:
                return status
        except LinkError:
            if time.monotonic() >= deadline:
                raise
        if time.monotonic() >= deadline:
            raise BootloaderError(f"the device stayed in state REBOOTING for {wait_s:.0f} s")
        await asyncio.sleep(poll_s)


async def _command(client: BootloaderClient, cmd: Command) -> None:
    try:
        await client.command(cmd)
    except IllegalValue:
        pass  # already done (the commands are idempotent in the state they lead to); STATUS tells


async def _version(device: Device, component: str) -> str | None:
    comp = next((c for c in device.profile.firmware if c.component == component), None)
    if comp is None or not comp.version_point:
        return None
    v = (await device.read_names([comp.version_point]))[comp.version_point]
    return v.strip() if isinstance(v, str) else None


async def health_problem(device: Device, client: BootloaderClient, pending: PendingImage, *, reads: int = 3,
                         interval_s: float = 1.0) -> str | None:
    """None when the test image is healthy: still in test mode, reports its version, no error alarm."""
    for i in range(max(1, reads)):
        status = await client.status()
        if status.state != State.TESTING:
            return f"the device left test mode by itself ({status.last_result.name})"
        version = await _version(device, pending.component)
        if version is not None and version != pending.version:
            return f"the image in test mode reports version {version}, the bootloader staged {pending.version}"
        bad = [a for a in await device.alarms() if a.severity in ("error", "critical")]
        if bad:
            return "; ".join(f"fault {a.code} {a.text}" for a in bad)
        if i + 1 < reads:
            await asyncio.sleep(interval_s)
    return None


async def confirm_pending(device: Device, *, health_reads: int = 3, health_s: float = 3.0,
                          wait_s: float = 60.0, poll_s: float = 0.25) -> PendingResult:
    """Health check, then CONFIRM; an unhealthy image is reverted instead."""
    client = client_for(device)
    if client is None:
        raise BootloaderError(f"profile {device.profile.name} has no {METHOD} firmware upgrade")
    status = await _status(client, wait_s, poll_s)
    pending = await read_pending(device)
    if pending is None or status.state != State.TESTING:
        return PendingResult("nothing pending", f"no image is in test mode (state {status.state.name}, last "
                                                f"result {status.last_result.name})", None)
    problem = await health_problem(device, client, pending, reads=health_reads,
                                   interval_s=health_s / max(1, health_reads - 1))
    if problem:
        await _command(client, Command.REVERT)
        await asyncio.sleep(poll_s)
        await _status(client, wait_s, poll_s)
        return PendingResult("reverted", f"health check failed: {problem}; reverted to the previous image",
                             await _version(device, pending.component))
    await _command(client, Command.CONFIRM)
    after = await _status(client, wait_s, poll_s)
    running = await _version(device, pending.component)
    if after.last_result != Result.CONFIRMED or running != pending.version:
        return PendingResult("failed", f"the image was not confirmed ({after.last_result.name}); the device "
                                       f"reports {pending.component} {running}", running)
    return PendingResult("confirmed", f"{pending.component} {pending.version} confirmed after a health check",
                         running)


async def revert_pending(device: Device, *, wait_s: float = 60.0, poll_s: float = 0.25) -> PendingResult:
    """REVERT the image in test mode and wait for the previous image to run."""
    client = client_for(device)
    if client is None:
        raise BootloaderError(f"profile {device.profile.name} has no {METHOD} firmware upgrade")
    await _status(client, wait_s, poll_s)
    pending = await read_pending(device)
    if pending is None:
        return PendingResult("nothing pending", "no image is in test mode", None)
    await _command(client, Command.REVERT)
    await asyncio.sleep(poll_s)
    after = await _status(client, wait_s, poll_s)
    running = await _version(device, pending.component)
    if after.last_result != Result.REVERTED_BY_HOST:
        return PendingResult("failed", f"the device did not revert ({after.last_result.name})", running)
    return PendingResult("reverted", f"{pending.component} {pending.version} reverted; the previous image "
                                     f"{running} runs", running)

