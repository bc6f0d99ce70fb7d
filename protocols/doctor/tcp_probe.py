"""TCP probes of the connection doctor: what each port does, and which unit ids answer Modbus there.

Runs on the doctor's asyncio loop. A port is refused (nothing listens),
silent (no TCP answer at all: filtered, or no such host), closed (accepted,
then closed without an answer: another client holds the only session, or
Modbus is off), or it answers: Modbus (an answer or an exception for our
read), Solarman V5 (a V5 frame), something else, or nothing in time. Only
reads are sent: function 3, one register.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass

from . import frames
from .report import Attempt

_tid = itertools.count(1)
GATEWAY_EMPTY = (0x0A, 0x0B)


@dataclass
class UnitAnswer:
    """What one unit id did: "answer", "exception", "gateway-empty", "silent", "closed" or "other"."""

    outcome: str
    answer: frames.Answer | None = None
    raw: bytes = b""


class TcpProbe:
    """One TCP connection to host:port for probing."""

    def __init__(self, host: str, port: int, timeout_s: float) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    async def connect(self) -> tuple[str, str]:
        """(outcome, detail): "open", "refused", "silent" or "unreachable"."""
        try:
            self.reader, self.writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), self.timeout_s)
        except ConnectionRefusedError:
            return "refused", "connection refused (nothing listens on this port)"
        except TimeoutError:
            return "silent", f"no TCP answer within {self.timeout_s:.1f} s"
        except OSError as exc:
            return "unreachable", exc.strerror or str(exc)
        return "open", ""

    async def closed_at_once(self, wait_s: float = 0.05) -> bool:
        """Whether the peer closes the connection right after accepting it."""
        if self.reader is None:
            return True
        try:
            data = await asyncio.wait_for(self.reader.read(512), wait_s)
        except TimeoutError:
            return False
        except (ConnectionError, OSError):
            return True
        return data == b""

    async def read_unit(self, unit: int, function: int = 3, address: int = 0, count: int = 1) -> UnitAnswer:
        """Send one MBAP read to ``unit`` and classify what comes back."""
        reader = self.reader
        if self.writer is None or self.writer.is_closing() or reader is None:
            return UnitAnswer("closed")
        tid = next(_tid) & 0xFFFF
        try:
            self.writer.write(frames.mbap_read(tid, unit, function, address, count))
            await self.writer.drain()
        except (ConnectionError, OSError):
            return UnitAnswer("closed")
        buf = b""
        deadline = time.monotonic() + self.timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return UnitAnswer("other" if buf else "silent", raw=buf)
            try:
                chunk = await asyncio.wait_for(reader.read(1024), left)
            except TimeoutError:
                return UnitAnswer("other" if buf else "silent", raw=buf)
            except (ConnectionError, OSError):
                return UnitAnswer("closed", raw=buf)
            if not chunk:
                return UnitAnswer("closed", raw=buf)
            buf += chunk
            total = frames.mbap_length(buf)
            if buf[:1] == bytes([frames.V5_START]) and frames.parse_v5(buf):
                return UnitAnswer("v5", raw=buf)
            if total is not None and len(buf) >= total:
                answer = frames.parse_mbap(buf, tid, unit, function, count)
                if answer is None:
                    if buf[2:4] == b"\x00\x00" and buf[6] == unit:
                        buf = buf[total:]      # an answer to an earlier request: wait for ours
                        continue
                    return UnitAnswer("other", raw=buf)
                if answer.is_exception and answer.exception in GATEWAY_EMPTY:
                    return UnitAnswer("gateway-empty", answer, buf)
                return UnitAnswer("exception" if answer.is_exception else "answer", answer, buf)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await asyncio.wait_for(self.writer.wait_closed(), 0.5)
            except (TimeoutError, ConnectionError, OSError):
                pass
            self.writer = None


async def classify_port(host: str, port: int, timeout_s: float, unit: int = 1,
                        read_timeout_s: float | None = None) -> tuple[Attempt, TcpProbe | None, UnitAnswer | None]:
    """Open ``port`` (``timeout_s`` to connect) and send one read to ``unit`` (``read_timeout_s``):
    the attempt, the open probe (or None), its answer."""
    t0 = time.monotonic()
    probe = TcpProbe(host, port, timeout_s)
    outcome, detail = await probe.connect()
    probe.timeout_s = read_timeout_s or timeout_s
    if outcome != "open":
        return Attempt("tcp-port", probe.where, outcome, detail, time.monotonic() - t0), None, None
    if await probe.closed_at_once():
        await probe.close()
        return Attempt("tcp-port", probe.where, "closed", "accepted the connection and closed it at once",
                       time.monotonic() - t0), None, None
    ans = await probe.read_unit(unit)
    words = {"answer": f"answers Modbus at unit {unit}", "exception": f"answers Modbus at unit {unit} "
             f"(exception {ans.answer.exception:02d})" if ans.outcome == "exception" and ans.answer else "",
             "gateway-empty": f"a Modbus gateway: nobody at unit {unit}",
             "silent": f"accepted; no answer to a Modbus read at unit {unit} within {probe.timeout_s:.1f} s",
             "closed": "accepted the connection and closed it after our request, without an answer",
             "v5": "answers with Solarman V5 frames", "other": f"answers, but not Modbus ({len(ans.raw)} bytes)"}
    outcome = {"answer": "modbus", "exception": "modbus", "gateway-empty": "gateway", "silent": "no-answer"}.get(ans.outcome, ans.outcome)
    attempt = Attempt("tcp-port", probe.where, outcome, words.get(ans.outcome, ""), time.monotonic() - t0)
    if ans.outcome == "closed":
        await probe.close()
        return attempt, None, ans
    return attempt, probe, ans


async def is_sunspec(probe: TcpProbe, unit: int, base: int) -> bool:
    """Whether the 'SunS' marker is at ``base`` of ``unit``."""
    ans = await probe.read_unit(unit, 3, base, 2)
    return ans.outcome == "answer" and ans.answer is not None and ans.answer.registers == (0x5375, 0x6E53)
