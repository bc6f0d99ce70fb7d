"""Modbus RTU over UDP to a GoodWe Wi-Fi/LAN dongle: RTU requests in datagrams, AA55-wrapped answers.

Runs on the device I/O thread's asyncio loop. A request is one datagram
holding a plain Modbus RTU frame (unit, function, data, CRC-16, low byte
first); the dongle answers with ``AA 55`` followed by the RTU answer, the CRC
covering the RTU part only (framing as publicly documented, e.g. by the
MIT-licensed marcelblijleven/goodwe library, goodwe/modbus.py at commit
10aa1481a943d6c6a8447b14cf3db1113cea707c: facts only, no code taken).
Datagrams get lost on Wi-Fi: a request is sent again after ``resend_s``
without an answer, within the timeout; an answer split across datagrams is
reassembled by its byte count; an answer that does not fit the request
(unit, function, byte count) is a FrameError. The Session above retries and
counts as for every link.
"""

from __future__ import annotations

import asyncio
import time

from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU, ModbusPDU

from ..errors import FrameError, LinkError, ModbusTimeout
from .base import Link, LinkInfo, answers

DEFAULT_PORT = 8899
AA55 = b"\xaa\x55"


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.lost = False

    def datagram_received(self, data, addr) -> None:
        self.queue.put_nowait(bytes(data))

    def error_received(self, exc) -> None:   # ICMP port unreachable and the like
        self.queue.put_nowait(None)

    def connection_lost(self, exc) -> None:
        self.lost = True


class GoodWeUdpLink(Link):
    """One UDP "connection" to a GoodWe dongle at host:port."""

    def __init__(self, host: str, port: int = DEFAULT_PORT, resend_s: float = 0.4) -> None:
        super().__init__()
        if not host:
            raise ValueError("a GoodWe UDP connection needs the dongle's IP address or host name")
        self.host, self.port, self.resend_s = host, port, resend_s
        self.info = LinkInfo("udp", f"{host}:{port}")
        self.resends = 0
        self._transport: asyncio.DatagramTransport | None = None
        self._proto: _Datagrams | None = None
        self._framer = FramerRTU(DecodePDU(is_server=False))

    @property
    def connected(self) -> bool:
        return (self._transport is not None and not self._transport.is_closing()
                and self._proto is not None and not self._proto.lost)

    async def connect(self, timeout_s: float) -> None:
        loop = asyncio.get_running_loop()
        try:
            self._transport, self._proto = await asyncio.wait_for(
                loop.create_datagram_endpoint(_Datagrams, remote_addr=(self.host, self.port)), timeout_s + 0.5)
        except (TimeoutError, OSError) as exc:
            raise LinkError(f"cannot reach the GoodWe dongle at {self.host}:{self.port}: {exc}",
                            hint="check the IP address and that this computer is on the dongle's network") from None

    async def close(self) -> None:
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()

    async def exchange(self, request: ModbusPDU, timeout_s: float) -> ModbusPDU:
        transport, proto = self._transport, self._proto
        if not self.connected or transport is None or proto is None:
            raise LinkError(f"{self.info} is not connected")
        frame = self._framer.buildFrame(request)
        queue = proto.queue
        while not queue.empty():          # a late answer to an earlier request is not ours
            queue.get_nowait()
        deadline = time.monotonic() + timeout_s
        buf, refused = b"", False
        while (left := deadline - time.monotonic()) > 0:
            self._trace("tx", frame)
            transport.sendto(frame)
            resend_at = time.monotonic() + min(self.resend_s, left)
            while (wait := resend_at - time.monotonic()) > 0:
                try:
                    data = await asyncio.wait_for(queue.get(), wait)
                except TimeoutError:
                    break
                if data is None:
                    refused = True
                    continue
                self._trace("rx", data)
                buf = data if data.startswith(AA55) else buf + data
                answer = self._decode(request, buf)
                if answer is not None:
                    return answer
            if time.monotonic() < deadline:
                self.resends += 1
        if buf:
            raise FrameError(f"unit {request.dev_id}: {len(buf)} bytes came back from the GoodWe dongle at "
                             f"{self.host}:{self.port} but formed no valid answer",
                             hint="a weak Wi-Fi signal or a busy dongle; PVDesk retries by itself")
        if refused:
            raise LinkError(f"nothing listens on UDP port {self.port} at {self.host}",
                            hint="check the address; GoodWe dongles answer on UDP port 8899")
        raise ModbusTimeout(f"no answer within {timeout_s:.1f} s from unit {request.dev_id} through the GoodWe "
                            f"dongle at {self.host}:{self.port}",
                            hint="check the IP address, the unit id (GoodWe inverters use 247) and that the "
                                 "dongle's LED shows a connection to the inverter")

    def _decode(self, request: ModbusPDU, buf: bytes) -> ModbusPDU | None:
        """The answer in ``buf`` (AA55 + RTU), None while incomplete; FrameError when it cannot fit."""
        if not buf.startswith(AA55):
            return None
        rtu = buf[2:]
        if len(rtu) < 5:
            return None
        exception = rtu[1] & 0x80
        size = 5 if exception else (3 + rtu[2] + 2 if rtu[1] in (3, 4) else 8)
        if len(rtu) < size:
            return None
        rtu = rtu[:size]
        if not FramerRTU.check_CRC(rtu[:-2], int.from_bytes(rtu[-2:], "big")):
            raise FrameError(f"unit {request.dev_id}: bad CRC in the GoodWe dongle's answer",
                             hint="a weak Wi-Fi signal; PVDesk retries by itself")
        pdu = self._framer.decoder.decode(rtu[1:-2])
        if pdu is None:
            raise FrameError(f"unit {request.dev_id}: the GoodWe dongle's answer is not a Modbus answer")
        pdu.dev_id = rtu[0]
        if not answers(request, pdu):
            raise FrameError(f"the GoodWe dongle returned an answer that does not match the request "
                             f"(unit {pdu.dev_id}, function {pdu.function_code})")
        return pdu


def udp_link_from_spec(spec) -> GoodWeUdpLink:
    """The GoodWeUdpLink for a LinkSpec of kind "udp" (host, port default 8899)."""
    port = spec.port if spec.port and spec.port != 502 else DEFAULT_PORT
    return GoodWeUdpLink(spec.host, port)


__all__ = ["GoodWeUdpLink", "udp_link_from_spec", "DEFAULT_PORT"]
