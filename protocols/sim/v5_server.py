"""The simulated inverter behind a Solarman V5 Wi-Fi data logger: V5 over TCP and UDP discovery.

Runs on the simulator's asyncio loop. A V5 request frame (start 0xA5, payload
length LE, control code 0x4510, sequence number, logger serial LE, payload,
checksum, end 0x15) carries a Modbus RTU frame; pymodbus's ``FramerRTU``
decodes it, the simulator's ``Dispatcher`` answers, and the answer goes back
wrapped in a 0x1510 response with the same sequence number. Frames addressed
to another logger serial are ignored, as a real logger does. The UDP
responder answers "WIFIKIT-214028-READ" with "ip,mac,serial".

Injections (``V5Server.inject``): delay, drop the connection on the next
request, bad V5 checksum, an answer split across two TCP segments. The simulator's own link faults (mute, delay,
corrupt, drop_link) apply too.

Options, as real loggers behave: ``foreign_serial_reply`` answers a frame
addressed to another serial with a response carrying this logger's own serial
(instead of ignoring it); ``inverter_silent`` makes the inverter behind the
logger not answer, and the logger then replies with an empty Modbus part.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass

from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU

from .faults import CountedFaults, LinkFaults
from .requests import parse_pdu, split_rtu
from .server import Dispatcher, SimConnection

START, END = 0xA5, 0x15
REQUEST_CODE, RESPONSE_CODE = 0x4510, 0x1510
REQUEST_PREFIX = 15   # frame type 1, sensor type 2, delivery time 4, power-on time 4, offset time 4
RESPONSE_PREFIX = 14  # frame type 1, status 1, total working time 4, power-on time 4, offset time 4
HEADER, TRAILER = 11, 2
DISCOVERY_MESSAGE = b"WIFIKIT-214028-READ"
DISCOVERY_PORT = 48899


def checksum(frame: bytes) -> int:
    """V5 checksum: the low byte of the sum of every byte but start, checksum and end."""
    return sum(frame[1:-2]) & 0xFF


@dataclass
class V5Injections(CountedFaults):
    """What the simulated logger does wrong now; counters are consumed one frame at a time."""

    delay_s: float = 0.0
    drop_connection: int = 0   # close the TCP connection instead of answering the next N requests
    bad_checksum: int = 0      # spoil the V5 checksum of the next N answers
    split_frames: int = 0      # send the next N answers in two TCP segments, 20 ms apart


def build_response(seq: bytes, logger_serial: int, rtu: bytes, uptime_s: int = 0) -> bytes:
    """A V5 response frame around the RTU answer ``rtu``."""
    payload = bytes([0x02, 0x01]) + struct.pack("<III", uptime_s, uptime_s, 0) + rtu
    frame = bytearray(struct.pack("<BHH", START, len(payload), RESPONSE_CODE) + seq
                      + struct.pack("<I", logger_serial) + payload + b"\x00" + bytes([END]))
    frame[-2] = checksum(frame)
    return bytes(frame)


class _V5Connection(SimConnection):
    def __init__(self, server: "V5Server") -> None:
        super().__init__(server)
        self.framer = FramerRTU(DecodePDU(is_server=True))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.buffer:
            start = self.buffer.find(bytes([START]))
            if start < 0:
                self.buffer = b""
                return
            self.buffer = self.buffer[start:]
            if len(self.buffer) < 3:
                return
            (length,) = struct.unpack("<H", self.buffer[1:3])
            total = HEADER + length + TRAILER
            if length > 300:          # not a frame start: skip this byte and hunt on
                self.buffer = self.buffer[1:]
                continue
            if len(self.buffer) < total:
                return
            frame, self.buffer = self.buffer[:total], self.buffer[total:]
            self.server.received += 1
            if frame[-1] != END or frame[-2] != checksum(frame):
                self.server.rejected += 1
                continue
            code, = struct.unpack("<H", frame[3:5])
            serial, = struct.unpack("<I", frame[7:11])
            if code != REQUEST_CODE or serial != self.server.logger_serial:
                self.server.ignored += 1   # another logger's frame: say nothing (or say who we are)
                if code == REQUEST_CODE and self.server.foreign_serial_reply and self.transport:
                    self.transport.write(build_response(frame[5:7], self.server.logger_serial, b""))
                continue
            asyncio.ensure_future(self.server.respond(self, frame[5:7], frame[HEADER + REQUEST_PREFIX:-2]))


class V5Server:
    """A Solarman V5 logger on ``host:port`` with serial ``logger_serial`` (port 0 picks a free one)."""

    def __init__(self, dispatcher: Dispatcher, faults: LinkFaults, host: str = "127.0.0.1", port: int = 0,
                 logger_serial: int = 2712345678, discovery_port: int | None = 0,
                 mac: str = "34EAE7A1B2C3", foreign_serial_reply: bool = False,
                 inverter_silent: bool = False) -> None:
        self.dispatcher = dispatcher
        self.faults = faults
        self.host = host
        self.port = port
        self.logger_serial = logger_serial
        self.discovery_port = discovery_port
        self.mac = mac
        self.inject = V5Injections()
        self.foreign_serial_reply = foreign_serial_reply
        self.inverter_silent = inverter_silent
        self.connections: set[_V5Connection] = set()
        self.received = self.rejected = self.ignored = 0
        self._server: asyncio.base_events.Server | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._t0 = 0.0

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._t0 = loop.time()
        self._server = await loop.create_server(lambda: _V5Connection(self), self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        if self.discovery_port is not None:
            self._udp, _ = await loop.create_datagram_endpoint(
                lambda: _Discovery(self), local_addr=(self.host, self.discovery_port))
            self.discovery_port = self._udp.get_extra_info("sockname")[1]

    async def respond(self, conn: _V5Connection, seq: bytes, rtu: bytes) -> None:
        if self.inject.take("drop_connection"):
            if conn.transport:
                conn.transport.abort()
            return
        if self.faults.muted():
            return
        raw, _used = split_rtu(rtu)
        if raw is None:
            return
        resp = None if self.inverter_silent else self.dispatcher.answer(parse_pdu(raw[1:-2], raw[0]), gateway=False)
        delay = self.faults.delay_s + self.inject.delay_s
        if delay:
            await asyncio.sleep(delay)
        if resp is None and self.inverter_silent and conn.transport and not conn.transport.is_closing():
            # a real logger waits for the inverter, then says "nothing came": an empty Modbus part
            conn.transport.write(build_response(seq, self.logger_serial, b""))
            return
        if resp is None or conn.transport is None or conn.transport.is_closing():
            return
        answer = self.faults.mangle(conn.framer.buildFrame(resp), rtu=True)
        if answer is None:
            return
        uptime = int(asyncio.get_running_loop().time() - self._t0)
        frame = build_response(seq, self.logger_serial, answer, uptime)
        if self.inject.take("bad_checksum"):
            frame = frame[:-2] + bytes([frame[-2] ^ 0xFF]) + frame[-1:]
        if self.inject.take("split_frames"):
            half = len(frame) // 2
            conn.transport.write(frame[:half])
            await asyncio.sleep(0.02)
            if conn.transport.is_closing():
                return
            frame = frame[half:]
        conn.transport.write(frame)

    def drop_all(self) -> None:
        """Close every open connection (the logger rebooted or Wi-Fi went away)."""
        for conn in list(self.connections):
            if conn.transport:
                conn.transport.abort()
        self.connections.clear()

    async def stop(self) -> None:
        self.drop_all()
        if self._udp:
            self._udp.close()
        if self._server:
            self._server.close()
            await self._server.wait_closed()


class _Discovery(asyncio.DatagramProtocol):
    """Answers the logger discovery broadcast with "ip,mac,serial"."""

    def __init__(self, server: V5Server) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        if data.strip() != DISCOVERY_MESSAGE or self.server.faults.link_down():
            return
        s = self.server
        self.transport.sendto(f"{s.host},{s.mac},{s.logger_serial}".encode(), addr)
