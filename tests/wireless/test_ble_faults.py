"""Bluetooth LE link faults: fragmentation, a lost notification, a disconnect mid-frame, a bad CRC, late answers.

Each fault is injected in the fake radio; the link must report the right
error (so the Session retries or reconnects) and the Session must recover.
"""

from __future__ import annotations

import time

import pytest
from pymodbus.pdu.register_message import ReadHoldingRegistersRequest
from wireless_helpers import ble_link, session

from protocols.device import Device
from protocols.errors import FrameError, LinkError, ModbusTimeout

pytestmark = pytest.mark.timeout(20)

REQUEST = dict(address=0, count=60, dev_id=1)  # a 125-byte answer: 7 notifications at MTU 23


def expected_registers(sim):
    return sim.call(sim.device(1).read, "holding", 0, 60)


@pytest.mark.parametrize("mtu,max_piece", [(23, 20), (64, 61), (247, 244)])
def test_frames_are_cut_to_the_mtu_and_reassembled(mtu, max_piece, wsim, radio, arun):
    async def go():
        s = session(ble_link(radio, mtu=mtu))
        await s.open()
        try:
            regs = await s.read_registers(0, 60)
            return regs, s.link.quality
        finally:
            await s.close()
    regs, quality = arun(go())
    assert regs == expected_registers(wsim)
    answer_bytes = 1 + 1 + 1 + 120 + 2
    assert radio.stats["max_notification"] == min(max_piece, answer_bytes)
    assert radio.stats["notifications"] == -(-answer_bytes // max_piece)
    assert radio.stats["max_write"] <= max_piece
    assert quality.mtu == mtu and quality.frames_ok == 1


def test_long_write_is_split_into_mtu_sized_writes(wsim, radio, profile, arun):
    async def go():
        s = session(ble_link(radio, mtu=23))
        await s.open()
        try:
            await Device(s, profile).write_point("export_limit_w", 4100)
        finally:
            await s.close()
    arun(go())
    assert wsim.call(wsim.device(1).value_of, "export_limit_w") == 4100
    assert radio.stats["max_write"] <= 20


def test_lost_notification_times_out_then_the_session_retries(wsim, radio, arun):
    async def go():
        link = ble_link(radio, mtu=23)
        await link.connect(1.0)
        radio.inject.lose_notifications = 1
        t0 = time.monotonic()
        with pytest.raises(ModbusTimeout, match="notification was lost") as err:
            await link.exchange(ReadHoldingRegistersRequest(**REQUEST), 0.3)
        waited = time.monotonic() - t0
        await link.close()
        radio.inject.lose_notifications = 1
        s = session(ble_link(radio, mtu=23), timeout_s=0.3)
        await s.open()
        try:
            regs = await s.read_registers(0, 60)
        finally:
            await s.close()
        return err.value, waited, regs, s.stats, s.link.quality
    exc, waited, regs, stats, quality = arun(go())
    assert 0.25 <= waited < 1.0
    assert "closer" in exc.hint
    assert regs == expected_registers(wsim)
    assert stats.timeouts == 1 and stats.retries == 1 and stats.failures == 0
    assert quality.frames_lost == 1 and quality.frames_ok == 1
    assert radio.stats["lost"] == 2


def test_disconnect_mid_frame_is_a_link_error_then_reconnects(wsim, radio, arun):
    async def go():
        link = ble_link(radio, mtu=23)
        await link.connect(1.0)
        radio.inject.disconnect_mid_frame = 1
        t0 = time.monotonic()
        with pytest.raises(LinkError) as err:
            await link.exchange(ReadHoldingRegistersRequest(**REQUEST), 2.0)
        waited = time.monotonic() - t0
        was_connected = link.connected
        await link.close()
        states = []
        s = session(ble_link(radio, mtu=23), timeout_s=0.5)
        s.add_state_listener(lambda state, detail: states.append(state))
        await s.open()
        radio.inject.disconnect_mid_frame = 1
        try:
            regs = await s.read_registers(0, 60)
        finally:
            await s.close()
        return err.value, waited, was_connected, regs, s.stats, s.link.quality, states
    exc, waited, was_connected, regs, stats, quality, states = arun(go())
    assert type(exc) is LinkError and "lost" in str(exc)   # not a timeout: the link is down
    assert waited < 0.5 and not was_connected
    assert regs == expected_registers(wsim)
    assert stats.reconnects == 1 and stats.failures == 0
    assert quality.disconnects == 1
    assert states[:3] == ["connected", "reconnecting", "connected"]


def test_bad_crc_in_a_notification_is_a_frame_error_then_recovers(wsim, radio, arun):
    async def go():
        link = ble_link(radio, mtu=23)
        await link.connect(1.0)
        radio.inject.bad_crc = 1
        with pytest.raises(FrameError, match="bad CRC"):
            await link.exchange(ReadHoldingRegistersRequest(**REQUEST), 1.0)
        # The link stays usable: the next request gets a good answer.
        good = await link.exchange(ReadHoldingRegistersRequest(**REQUEST), 1.0)
        await link.close()
        s = session(ble_link(radio, mtu=23))
        await s.open()
        wsim.corrupt("corrupt_crc")   # the simulator's own corruption reaches BLE too
        try:
            regs = await s.read_registers(0, 60)
        finally:
            await s.close()
        return list(good.registers), regs, s.stats, link.quality
    good, regs, stats, quality = arun(go())
    assert good == regs == expected_registers(wsim)
    assert stats.frame_errors == 1 and stats.retries == 1 and stats.failures == 0
    assert quality.frames_bad == 1


def test_a_late_answer_is_not_taken_for_the_next_one(wsim, radio, arun):
    async def go():
        s = session(ble_link(radio, mtu=23), timeout_s=0.2, retries=0)
        await s.open()
        try:
            radio.inject.notify_delay_s = 0.05     # 7 pieces: the answer takes ~0.35 s, longer than the timeout
            with pytest.raises(ModbusTimeout):
                await s.read_registers(0, 60)
            # The late pieces keep arriving while the next request waits for its own answer.
            s.timeout_s = 1.0
            one = await s.read_registers(0, 2)
            radio.inject.notify_delay_s = 0.0
            two = await s.read_registers(0, 60)
        finally:
            await s.close()
        return one, two, s.link.quality
    one, two, quality = arun(go())
    assert one == expected_registers(wsim)[:2]
    assert two == expected_registers(wsim)
    assert quality.stale_dropped + quality.junk_bytes > 0   # the late pieces did arrive, and were set aside


def test_device_that_needs_pairing_says_so(wsim, radio, arun):
    radio.inject.needs_pairing = True

    async def go():
        link = ble_link(radio)
        with pytest.raises(LinkError) as err:
            await link.connect(1.0)
        radio.paired = True          # the user paired it in the system settings
        await link.connect(1.0)
        regs = list((await link.exchange(ReadHoldingRegistersRequest(address=0, count=2, dev_id=1), 1.0)).registers)
        await link.close()
        return err.value, regs
    exc, regs = arun(go())
    assert type(exc).__name__ == "BluetoothPairingRequired"
    assert "pair" in exc.one_line() and "PIN" in exc.hint
    assert regs == wsim.call(wsim.device(1).read, "holding", 0, 2)


def test_simulator_drop_link_drops_bluetooth_and_the_session_comes_back(wsim, radio, arun):
    async def go():
        s = session(ble_link(radio), timeout_s=0.3, retries=5)
        s.backoff_s = 0.1
        await s.open()
        try:
            wsim.drop_link(0.4)                 # the inverter's radio resets
            dropped = not s.link.connected
            t0 = time.monotonic()
            regs = await s.read_registers(0, 10)
            return dropped, time.monotonic() - t0, regs, s.stats, s.link.quality
        finally:
            await s.close()
    dropped, took, regs, stats, quality = arun(go())
    assert dropped and quality.disconnects == 1
    assert regs == expected_registers(wsim)[:10]
    assert stats.reconnects == 1 and took >= 0.3
