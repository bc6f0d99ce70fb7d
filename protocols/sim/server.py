"""The simulated inverter's Modbus servers: TCP on loopback and RTU on a pseudo-terminal.

Runs on the simulator's asyncio loop. Requests are split from the byte
streams and checked by ``requests`` (as the Modbus specification says, not as
pymodbus's lax decoder would); answers are encoded by pymodbus's PDU classes
and framers. This module owns the byte streams so that link faults (drops,
delays, bad CRCs, garbage, noise, truncation) and serial line timing can be
injected exactly where a real bus would produce them. Broadcast writes (unit
0) are executed without an answer; an unknown unit is silent on RTU and gets
exception 0x0B from a TCP gateway.
"""

from __future__ import annotations

import asyncio
import os
import struct
import time
import tty
from collections.abc import Callable

from pymodbus.framer import FramerRTU, FramerSocket
from pymodbus.pdu import DecodePDU, ExceptionResponse, ModbusPDU
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersResponse,
    ReadInputRegistersResponse,
    WriteMultipleRegistersResponse,
    WriteSingleRegisterResponse,
)

from .device import SimDevice, SimException
from .faults import LinkFaults
from .plays import FaultPlays
from .requests import SimRequest, check, parse_pdu, split_rtu

#: Extra request handlers by function code: fn(device, request) -> response PDU.
Handler = Callable[[SimDevice, ModbusPDU | SimRequest], ModbusPDU]


class Dispatcher:
    """Turns a request PDU into the answer of the device at its unit id."""

    def __init__(self, devices: dict[int, SimDevice], faults: LinkFaults) -> None:
        self.devices = devices
        self.faults = faults
        self.handlers: dict[int, Handler] = {}
        self.requests = 0

    def answer(self, req: ModbusPDU | SimRequest, gateway: bool) -> ModbusPDU | None:
        """The answer PDU, or None when no device at that unit id would answer."""
        self.requests += 1
        fc = req.function_code
        if req.dev_id == 0:   # broadcast: writes are executed by every device, nobody answers
            if fc in (6, 16) and fc not in self.handlers and check(req) is None:
                for each in self.devices.values():
                    try:
                        each.write(req.address, list(req.registers))
                    except SimException:
                        pass
            return None
        dev = self.devices.get(req.dev_id)
        if dev is None or time.monotonic() < dev.offline_until:
            if gateway and dev is None:
                return ExceptionResponse(fc, 0x0B, device_id=req.dev_id, transaction=req.transaction_id)
            return None
        code = self.faults.take_exception()
        if code is not None:
            return ExceptionResponse(fc, code, device_id=req.dev_id, transaction=req.transaction_id)
        try:
            if fc in self.handlers:
                resp = self.handlers[fc](dev, req)
            elif (code := check(req)) is not None:
                raise SimException(code)
            elif fc in (3, 4):
                regs = dev.read("holding" if fc == 3 else "input", req.address, req.count)
                cls = ReadHoldingRegistersResponse if fc == 3 else ReadInputRegistersResponse
                resp = cls(registers=regs)
            elif fc == 6:
                dev.write(req.address, [req.registers[0]])
                resp = WriteSingleRegisterResponse(address=req.address, registers=[req.registers[0]])
            elif fc == 16:
                dev.write(req.address, list(req.registers))
                resp = WriteMultipleRegistersResponse(address=req.address, count=len(req.registers))
            else:
                raise SimException(1)
        except SimException as exc:
            resp = ExceptionResponse(fc, exc.code, device_id=req.dev_id, transaction=req.transaction_id)
        resp.dev_id = req.dev_id
        resp.transaction_id = req.transaction_id
        return resp


class SimConnection(asyncio.Protocol):
    """One client connection to a simulated server; refused while the cable is "pulled".

    ``server`` has ``faults`` (LinkFaults) and ``connections`` (a set).
    """

    def __init__(self, server) -> None:
        self.server = server
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        if self.server.faults.link_down():
            transport.close()
            return
        plays = getattr(self.server, "plays", None)
        if plays is not None and plays.tcp_refuses(len(self.server.connections)):
            transport.close()   # the one-client limit: accepted, then closed at once
            return
        self.server.connections.add(self)

    def connection_lost(self, exc) -> None:
        self.server.connections.discard(self)


class _TcpConnection(SimConnection):
    def __init__(self, server: "TcpServer") -> None:
        super().__init__(server)
        self.framer = FramerSocket(DecodePDU(is_server=True))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= 8:
            tid, pid, length = struct.unpack(">HHH", self.buffer[:6])
            if not 2 <= length <= 256:      # not an MBAP header (at most 254, some clients overshoot): drop
                self.buffer = b""
                return
            if len(self.buffer) < 6 + length:
                return
            frame, self.buffer = self.buffer[:6 + length], self.buffer[6 + length:]
            if pid != 0:                    # not the Modbus protocol: no answer
                continue
            asyncio.ensure_future(self.server.respond(self, parse_pdu(frame[7:], frame[6], tid)))


class TcpServer:
    """Modbus TCP on ``host:port`` (port 0 picks a free one)."""

    def __init__(self, dispatcher: Dispatcher, faults: LinkFaults, host="127.0.0.1", port=0,
                 gateway: bool = True) -> None:
        self.dispatcher = dispatcher
        self.faults = faults
        self.host = host
        self.port = port
        self.gateway = gateway
        self.plays = FaultPlays()
        self.connections: set[_TcpConnection] = set()
        self._server: asyncio.base_events.Server | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _TcpConnection(self), self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def respond(self, conn: _TcpConnection, pdu: ModbusPDU) -> None:
        if self.faults.muted():
            return
        resp = self.dispatcher.answer(pdu, self.gateway)
        if self.faults.delay_s:
            await asyncio.sleep(self.faults.delay_s)
        if resp is None or conn.transport is None or conn.transport.is_closing():
            return
        frame = self.faults.mangle(conn.framer.buildFrame(resp), rtu=False)
        if frame is not None:
            conn.transport.write(frame)

    def drop_all(self) -> None:
        """Close every open connection (a pulled cable)."""
        for conn in list(self.connections):
            if conn.transport:
                conn.transport.abort()
        self.connections.clear()

    async def stop(self) -> None:
        self.drop_all()
        if self._server:
            self._server.close()
            await self._server.wait_closed()


async def _sleep_until(deadline: float) -> None:
    """Sleep until ``deadline`` (monotonic) without asyncio's up-to-1 ms oversleep.

    The event loop rounds timeouts up to whole milliseconds; emulated serial
    timing needs better, so the last millisecond is yielded away in small steps.
    """
    remaining = deadline - time.monotonic()
    if remaining > 0.0015:
        await asyncio.sleep(remaining - 0.0015)
    while time.monotonic() < deadline:
        await asyncio.sleep(0)


class PtyServer:
    """Modbus RTU on a pseudo-terminal pair; clients open ``path``."""

    def __init__(self, dispatcher: Dispatcher, faults: LinkFaults) -> None:
        self.dispatcher = dispatcher
        self.faults = faults
        self.framer = FramerRTU(DecodePDU(is_server=True))
        self.buffer = b""
        self.last_rx = 0.0
        self.master_fd = -1
        self.slave_fd = -1
        self.path = ""
        self.plays = FaultPlays()
        self._queue: asyncio.Queue[tuple[bytes, SimRequest, float]] = asyncio.Queue()  # a new one each start
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self.master_fd, self.slave_fd = os.openpty()
        tty.setraw(self.master_fd)
        tty.setraw(self.slave_fd)
        os.set_blocking(self.master_fd, False)
        self.path = os.ttyname(self.slave_fd)
        self._queue = asyncio.Queue()
        asyncio.get_running_loop().add_reader(self.master_fd, self._on_readable)
        self._task = asyncio.ensure_future(self._serve())

    def _on_readable(self) -> None:
        try:
            data = os.read(self.master_fd, 4096)
        except (BlockingIOError, OSError):
            return
        now = time.monotonic()
        if self.plays.echo:   # an echoing adapter: every byte sent comes straight back
            os.write(self.master_fd, data)
        # RTU: a silence of more than 3.5 characters ends a frame; stale bytes are dropped.
        if now - self.last_rx > max(0.02, self.faults.line_time_s(4)):
            self.buffer = b""
        self.last_rx = now
        self.buffer += data
        while self.buffer:
            raw, used = split_rtu(self.buffer)
            if not used:
                return
            self.buffer = self.buffer[used:]
            if raw is not None:
                self._queue.put_nowait((raw, parse_pdu(raw[1:-2], raw[0]), now))

    async def _serve(self) -> None:
        while True:
            raw, pdu, arrived = await self._queue.get()
            if self.faults.muted():
                continue
            verdict = self.plays.line_verdict(self.slave_fd)
            if verdict != "ok":   # the client's line settings are not the device's: not understood
                try:
                    if verdict == "garbage":
                        os.write(self.master_fd, self.plays.garbage_for(raw, self.slave_fd))
                except OSError:
                    pass
                continue
            resp = self.dispatcher.answer(pdu, gateway=False)
            if resp is None:
                continue
            frame = self.framer.buildFrame(resp)
            # Line timing: the answer is complete one request-time, two 3.5-character
            # gaps and one answer-time after the request arrived. The simulator's own
            # processing happens inside that window, as a device's microcontroller
            # would do it in microseconds: it is not added on top.
            wire_s = self.faults.line_time_s(len(raw) + len(frame) + 7)
            deadline = arrived + self.faults.delay_s + wire_s if wire_s else time.monotonic() + self.faults.delay_s
            await _sleep_until(deadline)
            out = self.faults.mangle(frame, rtu=True)
            if out:
                out = self.plays.on_wire(out)
                try:
                    os.write(self.master_fd, out)
                except OSError:
                    pass

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        if self.master_fd >= 0:
            asyncio.get_running_loop().remove_reader(self.master_fd)
            os.close(self.master_fd)
            os.close(self.slave_fd)
            self.master_fd = self.slave_fd = -1
