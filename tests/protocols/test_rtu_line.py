"""The RTU line: late answers, noise, a decode that misbehaves, an adapter that echoes.

Pins these bugs of main (pymodbus's RTU framing):
- an answer arriving after the timeout was taken as the answer to the next
  request (0.2 degC written instead of 30 degC into ``monitor --csv``);
- 16 KB of noise blocked the I/O loop for minutes (quadratic CRC hunting),
  so the per-request watchdog could not fire;
- an adapter that echoes got "check the baud rate" instead of ``--local-echo``.
RTU is now framed by PVDesk over pyserial (``protocols/links/rtu_link.py``),
not by pymodbus: ``test_rtu_is_framed_by_pvdesk`` says so.
"""

import asyncio
import os
import random
import time

import pytest
from scripted_peers import Raw, RtuPeer, read_answer

from protocols.errors import FrameError, LinkError, ModbusTimeout
from protocols.links.pymodbus_link import serial_link
from protocols.session import Session


def by_address(pdu):
    """Register value = address x 10 (address 30 holds 300 = "30.0 degC", address 2 holds 20)."""
    address, count = int.from_bytes(pdu[1:3], "big"), int.from_bytes(pdu[3:5], "big")
    return read_answer(pdu[0], [address * 10 + i for i in range(count)])


def test_rtu_is_framed_by_pvdesk():
    """RTU is framed by our own linear framer over pyserial, not by pymodbus's quadratic one."""
    from protocols.links.rtu_link import RtuLink, SerialStream
    link = serial_link("/dev/ttyUSB0", 9600)
    assert isinstance(link, RtuLink) and isinstance(link.stream, SerialStream)
    assert link.silence_s == pytest.approx(3.5 * 10 / 9600)


def test_late_answers_are_never_taken_for_the_next_request(run):
    """Every answer comes 0.45 s after its request, the timeout is 0.3 s: no value may be another's."""
    async def go():
        peer = RtuPeer(good=by_address, delay_s=0.45)
        path = await peer.start()
        s = Session(serial_link(path, 115200), timeout_s=0.3, retries=1, backoff_s=0.01)
        await s.open()
        got = []
        for _ in range(4):
            for address in (30, 2):
                try:
                    got.append((address, await s.read_registers(address, 1)))
                except (ModbusTimeout, FrameError) as exc:
                    got.append((address, type(exc).__name__))
        await s.close()
        await peer.stop()
        return got, getattr(s.link, "stale_dropped", 0)
    got, dropped = run(go())
    values = [(a, v) for a, v in got if isinstance(v, list)]
    assert values, f"nothing was read at all: {got}"
    assert all(v == [a * 10] for a, v in values), f"a late answer was taken for another request: {got}"
    assert dropped >= 1


@pytest.mark.parametrize("kib", [16, 64])
def test_noise_is_rejected_in_linear_time_and_the_loop_stays_responsive(run, kib):
    noise = Raw(random.Random(kib).randbytes(kib * 1024))

    async def go():
        peer = RtuPeer([lambda pdu: noise], good=by_address)
        path = await peer.start()
        s = Session(serial_link(path, 115200), timeout_s=1.0, retries=0)
        await s.open()
        gaps = []

        async def ticker():
            last = time.monotonic()
            while True:
                await asyncio.sleep(0.01)
                now = time.monotonic()
                gaps.append(now - last)
                last = now
        tick = asyncio.ensure_future(ticker())
        cpu0 = time.process_time()
        with pytest.raises(FrameError) as err:
            await s.read_registers(30, 1)
        cpu = time.process_time() - cpu0
        tick.cancel()
        await asyncio.sleep(0.05)
        ok = await s.read_registers(30, 1)
        await s.close()
        await peer.stop()
        return err.value, max(gaps), ok, cpu
    err, worst_gap, ok, cpu = run(go(), timeout_s=30)
    assert "bytes came back" in str(err) and "baud rate" in err.hint
    assert worst_gap < 0.5, "the I/O loop was blocked while the noise was rejected"
    assert cpu < 5.0      # linear: about 0.1 s here; main's pymodbus framer took minutes
    assert ok == [300]


@pytest.mark.parametrize("kind", ["tcp", "rtu"])
def test_watchdog_fires_when_the_decoder_misbehaves(run, monkeypatch, kind):
    """A decoder raising inside the link gives a FrameError in time, not a hang or a crash."""
    from pymodbus.pdu import DecodePDU
    from scripted_peers import TcpPeer

    from protocols.links.pymodbus_link import tcp_link

    def broken(self, frame):
        raise RuntimeError("decoder bug")
    monkeypatch.setattr(DecodePDU, "decode", broken)

    async def go():
        peer = TcpPeer() if kind == "tcp" else RtuPeer()
        where = await peer.start()
        link = tcp_link(*where, timeout_s=0.3) if kind == "tcp" else serial_link(where, 115200)
        s = Session(link, timeout_s=0.3, retries=0)
        await s.open()
        t0 = time.monotonic()
        with pytest.raises((FrameError, ModbusTimeout)) as err:
            await s.read_registers(30, 1)
        elapsed = time.monotonic() - t0
        await s.close()
        await peer.stop()
        return err.value, elapsed
    err, elapsed = run(go(), timeout_s=10)
    assert elapsed < 1.0          # the watchdog: 1.5 x timeout + 0.2 s at most
    assert isinstance(err, FrameError) or "did not answer" in str(err)


def test_an_echoing_adapter_is_named_with_local_echo(run):
    """Bug: an adapter echoing our request (and no answer) read as 'check the baud rate'."""
    from protocols.errors import EchoReceived

    async def go():
        peer = RtuPeer(good=lambda pdu: Raw(peer.last_request))
        path = await peer.start()
        s = Session(serial_link(path, 115200), timeout_s=0.3, retries=0)
        await s.open()
        with pytest.raises(EchoReceived) as err:
            await s.read_registers(30, 1)
        await s.close()
        await peer.stop()
        return err.value
    err = run(go())
    assert "our own request" in str(err) and "--local-echo" in err.hint


def test_local_echo_is_dropped_and_the_answer_read(run):
    async def go():
        def echo_then_answer(pdu):
            frame = peer.last_request
            answer = by_address(pdu)
            from scripted_peers import crc
            body = bytes([frame[0]]) + answer
            return Raw(frame + body + crc(body))
        peer = RtuPeer(good=echo_then_answer)
        path = await peer.start()
        s = Session(serial_link(path, 115200, local_echo=True), timeout_s=0.3, retries=0)
        await s.open()
        regs = await s.read_registers(30, 2)
        await s.close()
        await peer.stop()
        return regs
    assert run(go()) == [300, 301]


def test_missing_port_and_lost_adapter_are_link_errors(run, tmp_path):
    async def go():
        s = Session(serial_link("/dev/nonexistent-ttyUSB9", 9600), timeout_s=0.3)
        with pytest.raises(LinkError) as err:
            await s.open()
        return err.value
    err = run(go())
    assert "does not exist" in str(err) and "pvdesk ports" in err.hint
    assert not os.path.exists("/dev/nonexistent-ttyUSB9")
