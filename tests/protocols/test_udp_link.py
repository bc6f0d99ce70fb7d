"""GoodWe UDP link: RTU requests in datagrams, AA55 answers; lost datagrams resent, bad answers refused."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest
from pymodbus.pdu.register_message import ReadHoldingRegistersRequest

from protocols.doctor import frames
from protocols.errors import FrameError, LinkError, ModbusTimeout
from protocols.links.factory import LinkSpec, make_link
from protocols.links.udp import GoodWeUdpLink
from protocols.session import Session
from protocols.sim.simulator import Simulator, demo_start_time

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def usim():
    sim = Simulator(units=(247,), udp=True, speed=0.0, start_s=demo_start_time()).start()
    yield sim
    sim.stop()


async def _read(link, unit=247, address=0, count=10, timeout_s=1.0, retries=0):
    link = link() if callable(link) else link   # pymodbus clients are made on the running loop
    s = Session(link, timeout_s=timeout_s, retries=retries)
    await s.open()
    try:
        return await s.read_registers(address, count, unit=unit)
    finally:
        await s.close()


def test_udp_reads_what_tcp_reads(usim):
    from protocols.links.pymodbus_link import tcp_link
    udp = asyncio.run(_read(make_link(LinkSpec(kind="udp", host="127.0.0.1", port=usim.udp.port))))
    tcp = asyncio.run(_read(lambda: tcp_link(*usim.tcp_address)))
    assert udp == tcp and udp[0] == 0x5048
    assert LinkSpec(kind="udp", host="h", port=8899).label() == "GoodWe UDP h:8899"


def test_lost_datagrams_are_sent_again_within_the_timeout(usim):
    link = GoodWeUdpLink("127.0.0.1", usim.udp.port, resend_s=0.2)
    usim.call(setattr, usim.udp, "drop_next", 2)
    regs = asyncio.run(_read(link))
    assert regs[0] == 0x5048 and link.resends == 2 and usim.udp.dropped == 2


def test_a_dongle_that_stays_silent_times_out_with_goodwe_advice(usim):
    usim.mute(5)
    link = GoodWeUdpLink("127.0.0.1", usim.udp.port, resend_s=0.1)
    with pytest.raises(ModbusTimeout) as err:
        asyncio.run(_read(link, timeout_s=0.5))
    assert "247" in err.value.hint and "baud" not in err.value.hint and link.resends >= 3


class _Peer:
    """A loopback UDP peer that answers each request with ``reply(request) -> [datagrams]``."""

    def __init__(self, reply) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.reply = reply
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                data, addr = self.sock.recvfrom(2048)
            except OSError:
                return
            for d in self.reply(data):
                self.sock.sendto(d, addr)


def test_an_answer_split_across_datagrams_is_reassembled():
    answer = b"\xaa\x55" + frames.with_crc(bytes([247, 3, 4, 0, 7, 0, 9]))
    peer = _Peer(lambda req: [answer[:4], answer[4:]])
    try:
        assert asyncio.run(_read(GoodWeUdpLink("127.0.0.1", peer.port), count=2)) == [7, 9]
    finally:
        peer.sock.close()


def test_an_answer_that_does_not_fit_the_request_is_a_frame_error():
    wrong_count = b"\xaa\x55" + frames.with_crc(bytes([247, 3, 2, 0, 7]))
    peer = _Peer(lambda req: [wrong_count])
    try:
        with pytest.raises(FrameError):
            asyncio.run(_read(GoodWeUdpLink("127.0.0.1", peer.port), count=2))
    finally:
        peer.sock.close()


def test_a_closed_udp_port_is_not_called_a_silent_device():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    link = GoodWeUdpLink("127.0.0.1", port, resend_s=0.1)

    async def go():
        await link.connect(1.0)
        try:
            await link.exchange(ReadHoldingRegistersRequest(address=0, count=1, dev_id=247), 0.5)
        finally:
            await link.close()
    with pytest.raises(LinkError) as err:
        asyncio.run(go())
    assert not isinstance(err.value, ModbusTimeout) and "8899" in err.value.hint
