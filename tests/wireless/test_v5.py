"""Solarman V5 logger link: wrong serial, bad checksum, dropped connection, delay, discovery on loopback.

Discovery is only ever sent to 127.0.0.1 here (never a broadcast onto the real network).
"""

from __future__ import annotations

import asyncio
import struct

import pytest
from pymodbus.pdu.register_message import ReadHoldingRegistersRequest
from wireless_helpers import LOGGER_SERIAL, session, v5_link

from protocols.errors import FrameError, LinkError, ModbusTimeout
from protocols.links.solarman import LoggerInfo, V5Link, discover
from protocols.sim.v5_server import build_response, checksum

pytestmark = pytest.mark.timeout(20)
READ = dict(address=0, count=10, dev_id=1)


def expected(sim, count=10):
    return sim.call(sim.device(1).read, "holding", 0, count)


def test_wrong_logger_serial_times_out_naming_the_serial(wsim, arun):
    async def go():
        s = session(v5_link(wsim, serial=1234567), timeout_s=0.3, retries=1)
        await s.open()
        try:
            with pytest.raises(ModbusTimeout) as err:
                await s.read_registers(0, 10)
        finally:
            await s.close()
        return err.value
    exc = arun(go())
    assert "#1234567" in str(exc) and "1234567" in exc.hint and "serial" in exc.hint
    assert wsim.v5.ignored == 2          # the logger saw both tries and stayed silent


def test_bad_v5_checksum_is_a_frame_error_then_recovers(wsim, arun):
    async def go():
        link = v5_link(wsim)
        await link.connect(1.0)
        wsim.v5.inject.bad_checksum = 1
        with pytest.raises(FrameError, match="checksum"):
            await link.exchange(ReadHoldingRegistersRequest(**READ), 1.0)
        wsim.corrupt("corrupt_crc")    # a bad RTU CRC inside a good V5 frame
        with pytest.raises(FrameError, match="no valid Modbus frame"):
            await link.exchange(ReadHoldingRegistersRequest(**READ), 1.0)
        good = list((await link.exchange(ReadHoldingRegistersRequest(**READ), 1.0)).registers)
        await link.close()
        s = session(v5_link(wsim))
        await s.open()
        wsim.v5.inject.bad_checksum = 1
        try:
            regs = await s.read_registers(0, 10)
        finally:
            await s.close()
        return good, regs, s.stats
    good, regs, stats = arun(go())
    assert good == regs == expected(wsim)
    assert stats.frame_errors == 1 and stats.retries == 1 and stats.failures == 0


def test_dropped_connection_is_a_link_error_then_reconnects(wsim, arun):
    async def go():
        link = v5_link(wsim)
        await link.connect(1.0)
        wsim.v5.inject.drop_connection = 1
        with pytest.raises(LinkError) as err:
            await link.exchange(ReadHoldingRegistersRequest(**READ), 2.0)
        still = link.connected
        await link.close()
        s = session(v5_link(wsim))
        await s.open()
        wsim.v5.inject.drop_connection = 1
        try:
            regs = await s.read_registers(0, 10)
        finally:
            await s.close()
        return err.value, still, regs, s.stats
    exc, still, regs, stats = arun(go())
    assert type(exc) is LinkError and "closed the connection" in str(exc) and not still
    assert regs == expected(wsim)
    assert stats.reconnects == 1 and stats.failures == 0


def test_slow_logger_times_out_then_the_retry_gets_the_answer(wsim, arun):
    async def go():
        s = session(v5_link(wsim), timeout_s=0.3, retries=2)
        await s.open()
        wsim.v5.inject.delay_s = 0.5
        try:
            s.retries = 0
            with pytest.raises(ModbusTimeout):
                await s.read_registers(0, 10)
            wsim.v5.inject.delay_s = 0.0
            s.retries = 2
            regs = await s.read_registers(0, 10)
            await asyncio.sleep(0.3)           # the late answer arrives between requests
            again = await s.read_registers(0, 4)
        finally:
            await s.close()
        return regs, again
    regs, again = arun(go())
    assert regs == expected(wsim) and again == expected(wsim, 4)


def test_unreachable_logger_says_what_to_check(arun):
    async def go():
        await V5Link("127.0.0.1", LOGGER_SERIAL, port=1).connect(0.5)
    with pytest.raises(LinkError, match="cannot reach the Wi-Fi logger at 127.0.0.1:1") as err:
        arun(go())
    assert "same network" in err.value.hint


def test_discovery_on_loopback(wsim, arun):
    found = arun(discover(0.3, address="127.0.0.1", port=wsim.v5.discovery_port))
    assert found == [LoggerInfo("127.0.0.1", "34EAE7A1B2C3", LOGGER_SERIAL)]


def test_discovery_with_nobody_answering_returns_empty(wsim, arun):
    wsim.drop_link(2.0)     # the logger is off the network
    assert arun(discover(0.2, address="127.0.0.1", port=wsim.v5.discovery_port)) == []


def test_response_frame_layout():
    """The simulated logger's frame matches the layout pysolarmanv5 decodes (facts from its source)."""
    rtu = bytes.fromhex("010302000a3843")
    frame = build_response(b"\x2a\x00", LOGGER_SERIAL, rtu)
    assert frame[0] == 0xA5 and frame[-1] == 0x15
    assert struct.unpack("<H", frame[1:3])[0] == len(frame) - 13
    assert frame[3:5] == b"\x10\x15" and frame[5] == 0x2a
    assert struct.unpack("<I", frame[7:11])[0] == LOGGER_SERIAL
    assert frame[11] == 0x02 and frame[25:-2] == rtu
    assert frame[-2] == checksum(frame)
    from pysolarmanv5 import PySolarmanV5Async
    client = PySolarmanV5Async("127.0.0.1", LOGGER_SERIAL)
    client.sequence_number = 0x2a
    assert client._v5_frame_decoder(frame) == rtu


def test_answer_split_across_tcp_segments_is_reassembled(wsim, arun):
    async def go():
        s = session(v5_link(wsim), timeout_s=0.5, retries=0)
        await s.open()
        wsim.v5.inject.split_frames = 3
        try:
            return [await s.read_registers(0, 10) for _ in range(3)], s.stats
        finally:
            await s.close()
    answers, stats = arun(go())
    assert answers == [expected(wsim)] * 3
    assert wsim.v5.inject.split_frames == 0 and stats.frame_errors == 0
