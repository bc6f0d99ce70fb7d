"""The host's side of the pvdesk-bootloader-v1 registers: status, staging, commands, chunks.

Runs on the device I/O thread's asyncio loop, through the link's Session (so
requests are serialised with everything else on that bus). No policy here:
``upgrade.py`` decides what to do with what the device says.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import PVDeskError
from ..session import Session
from . import registers as R
from .registers import Command, Error, Result, State


class BootloaderError(PVDeskError):
    """The bootloader is missing, speaks another protocol, or refused a step."""

    hint = "the old image keeps running; read the upgrade log for the step that failed"


@dataclass(frozen=True)
class BootStatus:
    """One read of the bootloader's status registers."""

    state: State
    error: Error
    protocol: int
    max_chunk: int
    size: int
    received: int
    test_left_s: int
    last_result: Result

    def as_dict(self) -> dict:
        return {"state": self.state.name, "error": self.error.name, "received": self.received,
                "size": self.size, "test_left_s": self.test_left_s, "last_result": self.last_result.name}


def _enum(cls, value, default):
    try:
        return cls(value)
    except ValueError:
        return default


class BootloaderClient:
    """Registers of the bootloader of ``unit`` at ``base`` on ``session``."""

    def __init__(self, session: Session, base: int, unit: int = 1) -> None:
        self.session = session
        self.base = base
        self.unit = unit

    async def status(self) -> BootStatus:
        regs = await self.session.read_registers(self.base, R.STATUS_COUNT, unit=self.unit)
        return BootStatus(state=_enum(State, regs[R.STATE], State.ERROR),
                          error=_enum(Error, regs[R.ERROR], Error.BAD_STATE),
                          protocol=regs[R.PROTOCOL], max_chunk=regs[R.MAX_CHUNK],
                          size=R.regs_u32(regs[R.IMAGE_SIZE:R.IMAGE_SIZE + 2]),
                          received=R.regs_u32(regs[R.RECEIVED:R.RECEIVED + 2]),
                          test_left_s=regs[R.TEST_LEFT_S],
                          last_result=_enum(Result, regs[R.LAST_RESULT], Result.NONE))

    async def stage(self, size: int, sha256: bytes, component: str, version: str) -> None:
        """Write the image's size, hash, component and version, then START (resumes if unchanged)."""
        regs = R.u32_regs(size) + R.bytes_regs(sha256) + R.text_regs(component) + R.text_regs(version)
        await self.session.write_registers(self.base + R.IMAGE_SIZE, regs, unit=self.unit)
        await self.command(Command.START)

    async def command(self, cmd: Command) -> None:
        await self.session.write_registers(self.base + R.COMMAND, [int(cmd)], unit=self.unit)

    async def write_chunk(self, offset: int, data: bytes) -> None:
        """One chunk at ``offset``; the device refuses (IllegalValue) any offset but its own."""
        await self.session.write_registers(self.base + R.CHUNK, R.chunk_regs(offset, data), unit=self.unit)
