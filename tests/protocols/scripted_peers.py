"""Misbehaving Modbus peers for the protocol tests, scripted answer by answer (TCP and RTU on a pty).

Runs on the test's asyncio loop (started inside the test's coroutine). Each
request is answered by the next function of ``script`` (request PDU, unit ->
answer bytes or None for silence), then by ``good``; every request is kept
in ``requests``. Nothing here comes from the code under test.
"""

from __future__ import annotations

import asyncio
import os
import struct
import tty

from pymodbus.framer import FramerRTU


def crc(frame: bytes) -> bytes:
    return FramerRTU.compute_CRC(frame).to_bytes(2, "big")


def read_answer(fc: int, values, byte_count: int | None = None) -> bytes:
    """A read answer PDU: fc, byte count, registers."""
    data = b"".join(v.to_bytes(2, "big") for v in values)
    return bytes([fc, len(data) if byte_count is None else byte_count]) + data


def good_answer(pdu: bytes, value: int = 1234) -> bytes:
    fc, count = pdu[0], int.from_bytes(pdu[3:5], "big")
    return read_answer(fc, [value + i for i in range(count)])


class ScriptedPeer:
    def __init__(self, script=(), good=good_answer, delay_s: float = 0.0) -> None:
        self.script = list(script)
        self.good = good
        self.delay_s = delay_s
        self.requests: list[bytes] = []

    def answer(self, pdu: bytes):
        self.requests.append(pdu)
        fn = self.script.pop(0) if self.script else self.good
        return fn(pdu)


class TcpPeer(ScriptedPeer):
    """Modbus TCP; an answer function may return (pdu, protocol_id, unit) to spoil the MBAP header."""

    async def start(self) -> tuple[str, int]:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return "127.0.0.1", self.server.sockets[0].getsockname()[1]

    async def _client(self, reader, writer) -> None:
        try:
            while True:
                head = await reader.readexactly(7)
                tid, _pid, length = struct.unpack(">HHH", head[:6])
                pdu = await reader.readexactly(length - 1)
                out = self.answer(pdu)
                if out is None:
                    continue
                pid, unit = 0, head[6]
                if isinstance(out, tuple):
                    out, pid, unit = out
                if self.delay_s:
                    await asyncio.sleep(self.delay_s)
                writer.write(struct.pack(">HHHB", tid, pid, len(out) + 1, unit) + out)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def stop(self) -> None:
        self.server.close()


class RtuPeer(ScriptedPeer):
    """Modbus RTU on a pseudo-terminal; an answer function may return raw bytes (``bytes`` subclass RAW)."""

    async def start(self) -> str:
        self.master, self.slave = os.openpty()
        tty.setraw(self.master)
        tty.setraw(self.slave)
        os.set_blocking(self.master, False)
        self.buf = b""
        self.out = b""
        self.last_request = b""
        asyncio.get_running_loop().add_reader(self.master, self._readable)
        return os.ttyname(self.slave)

    def _readable(self) -> None:
        try:
            self.buf += os.read(self.master, 4096)
        except BlockingIOError:
            return
        while len(self.buf) >= 8:           # the tests send FC3/FC4 requests only: 8 bytes
            frame, self.buf = self.buf[:8], self.buf[8:]
            self.last_request = frame
            out = self.answer(frame[1:-2])
            if out is None:
                continue
            raw = out.raw if isinstance(out, Raw) else bytes([frame[0]]) + out + crc(bytes([frame[0]]) + out)
            if self.delay_s:
                asyncio.get_running_loop().call_later(self.delay_s, self._send, raw)
            else:
                self._send(raw)

    def _send(self, raw: bytes) -> None:
        """Queue ``raw``; a pty takes a few KB at a time, the rest goes when it is writable."""
        first = not self.out
        self.out += raw
        if first:
            asyncio.get_running_loop().add_writer(self.master, self._writable)

    def _writable(self) -> None:
        try:
            n = os.write(self.master, self.out[:1024])
        except BlockingIOError:
            return
        except OSError:
            n = len(self.out)
        self.out = self.out[n:]
        if not self.out:
            asyncio.get_running_loop().remove_writer(self.master)

    async def stop(self) -> None:
        asyncio.get_running_loop().remove_reader(self.master)
        asyncio.get_running_loop().remove_writer(self.master)
        os.close(self.master)
        os.close(self.slave)


class Raw:
    """Bytes an RtuPeer sends exactly as given (no unit, no CRC added)."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
