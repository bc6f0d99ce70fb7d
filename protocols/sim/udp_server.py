"""The simulated inverter behind a GoodWe Wi-Fi/LAN dongle: Modbus RTU requests over UDP, AA55 answers.

Runs on the simulator's asyncio loop. A datagram carries one Modbus RTU
request (unit, function, data, CRC); the answer is ``AA 55`` followed by the
RTU answer frame (its CRC covers the RTU part only), as GoodWe's dongles
answer on UDP port 8899 (framing as publicly documented, e.g. by the
MIT-licensed goodwe library). ``drop_next`` loses that many incoming
datagrams (Wi-Fi loses some), so clients' retries can be tested. The
simulator's link faults (mute, delay, corrupt, drop_link) apply too.
"""

from __future__ import annotations

import asyncio

from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU

from .faults import LinkFaults
from .server import Dispatcher

AA55 = b"\xaa\x55"


class UdpServer:
    """GoodWe-style Modbus over UDP on ``host:port`` (port 0 picks a free one)."""

    def __init__(self, dispatcher: Dispatcher, faults: LinkFaults, host: str = "127.0.0.1", port: int = 0) -> None:
        self.dispatcher = dispatcher
        self.faults = faults
        self.host = host
        self.port = port
        self.drop_next = 0
        self.received = 0
        self.dropped = 0
        self.framer = FramerRTU(DecodePDU(is_server=True))
        self._transport: asyncio.DatagramTransport | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(self),
                                                                 local_addr=(self.host, self.port))
        self.port = self._transport.get_extra_info("sockname")[1]

    def stop(self) -> None:
        if self._transport:
            self._transport.close()
            self._transport = None

    async def respond(self, data: bytes, addr) -> None:
        self.received += 1
        if self.drop_next > 0:
            self.drop_next -= 1
            self.dropped += 1
            return
        if self.faults.muted():
            return
        used, pdu = self.framer.handleFrame(data, 0, 0)
        if pdu is None:
            return
        resp = self.dispatcher.answer(pdu, gateway=False)
        if self.faults.delay_s:
            await asyncio.sleep(self.faults.delay_s)
        if resp is None or self._transport is None:
            return
        frame = self.faults.mangle(self.framer.buildFrame(resp), rtu=True)
        if frame is not None:
            self._transport.sendto(AA55 + frame, addr)


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, server: UdpServer) -> None:
        self.server = server

    def datagram_received(self, data: bytes, addr) -> None:
        asyncio.ensure_future(self.server.respond(bytes(data), addr))
