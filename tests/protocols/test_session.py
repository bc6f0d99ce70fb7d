"""The session against the simulator over loopback TCP and RTU on a real pseudo-terminal.

Each failure a real bus produces (timeout, wrong CRC, truncated frame,
garbage, exception reply, dropped link) gives its documented error and the
session recovers afterwards; nothing hangs (each test has a timeout).
"""

import asyncio
import time

import pytest

from protocols.errors import DeviceBusy, DeviceFailure, FrameError, LinkError, ModbusTimeout, PointNotSupported
from protocols.links.pymodbus_link import serial_link, tcp_link
from protocols.session import Session


def _session(sim, kind, **kw):
    if kind == "tcp":
        link = tcp_link(*sim.tcp_address, timeout_s=0.3)
    else:
        link = serial_link(sim.rtu_path, baud=115200, timeout_s=0.3)
    kw.setdefault("timeout_s", 0.3)
    kw.setdefault("backoff_s", 0.01)
    return Session(link, **kw)


@pytest.fixture(params=["tcp", "rtu"])
def kind(request):
    return request.param


def test_reads_identity_over_both_links(sim, run, kind):
    async def go():
        s = _session(sim, kind)
        await s.open()
        regs = await s.read_registers(1, 8, unit=2)
        text = b"".join(r.to_bytes(2, "big") for r in regs).rstrip(b"\0").decode()
        live = await s.read_registers(0, 4, function="input", unit=1)
        await s.close()
        return text, live, s.stats
    text, live, stats = run(go())
    assert text == "PVD-H8K"
    assert live[0] == 2  # run_state "On grid"
    assert stats.requests == 2 and stats.failures == 0
    assert stats.percentile_ms(50) is not None and stats.percentile_ms(95) >= stats.percentile_ms(50)


def test_unsupported_address_is_remembered(sim, run, kind):
    async def go():
        s = _session(sim, kind)
        await s.open()
        with pytest.raises(PointNotSupported) as first:
            await s.read_registers(150, 4, function="input")
        asked = sim.dispatcher.requests
        with pytest.raises(PointNotSupported):
            await s.read_registers(150, 4, function="input")
        return first.value, asked, sim.dispatcher.requests
    exc, before, after = run(go())
    assert exc.code == 2 and "illegal data address" in str(exc)
    assert before == after, "a refused address must not be asked again"


def test_busy_is_retried_and_failure_is_reported(sim, run, kind):
    async def go():
        s = _session(sim, kind, retries=2)
        await s.open()
        sim.exception_replies(6, 2)
        regs = await s.read_registers(0, 1)
        retries = s.stats.retries
        sim.exception_replies(4, 1)
        with pytest.raises(DeviceFailure) as failure:
            await s.read_registers(0, 1)
        sim.exception_replies(6, 5)
        with pytest.raises(DeviceBusy):
            await s.read_registers(0, 1)
        sim.exception_replies(6, 0)
        ok = await s.read_registers(0, 1)
        return regs, retries, failure.value, ok
    regs, retries, failure, ok = run(go())
    assert regs == [0x5048] and retries == 2
    assert failure.code == 4 and "fault log" in failure.hint
    assert ok == [0x5048]


@pytest.mark.parametrize("fault", ["garbage", "truncate", "corrupt_crc"])
def test_bad_frames_give_frame_error_then_recover(sim, run, kind, fault):
    async def go():
        s = _session(sim, kind, retries=1)
        await s.open()
        sim.corrupt(fault, 2)
        t0 = time.monotonic()
        with pytest.raises((FrameError, ModbusTimeout, LinkError)) as err:
            await s.read_registers(0, 4, function="input")
        elapsed = time.monotonic() - t0
        ok = await s.read_registers(1, 8)
        return err.value, elapsed, ok
    err, elapsed, ok = run(go())
    if kind == "rtu" or fault != "truncate":
        assert isinstance(err, FrameError), f"{fault} over {kind} gave {type(err).__name__}: {err}"
        if kind == "rtu":
            assert "baud rate" in err.hint
        else:  # no serial-line advice for a TCP problem
            assert "baud" not in err.hint and "termination" not in err.hint and "RS-485" not in err.hint
    assert elapsed < 3.0
    assert ok[0] == int.from_bytes(b"PV", "big")


def test_timeout_then_recovery(sim, run, kind):
    async def go():
        s = _session(sim, kind, retries=1)
        await s.open()
        sim.mute(0.8)
        with pytest.raises(ModbusTimeout) as err:
            await s.read_registers(0, 1)
        await asyncio.sleep(0.9)
        ok = await s.read_registers(0, 1)
        return err.value, s.stats.timeouts, ok
    err, timeouts, ok = run(go())
    assert "did not answer" in str(err) and "unit id" in err.hint
    assert timeouts >= 2
    assert ok == [0x5048]


def test_dropped_tcp_link_reconnects(sim, run):
    states = []

    async def go():
        s = _session(sim, "tcp", retries=1, backoff_s=0.2)
        s.add_state_listener(lambda state, detail: states.append(state))
        await s.open()
        sim.drop_link(0.6)
        await asyncio.sleep(0.05)
        with pytest.raises(LinkError):
            await s.read_registers(0, 1)
        await asyncio.sleep(0.7)
        ok = await s.read_registers(0, 1)
        return ok, s.stats.reconnects
    ok, reconnects = run(go())
    assert ok == [0x5048]
    assert reconnects >= 1
    assert "reconnecting" in states and states[-1] == "connected"


def test_closed_port_is_a_clear_error(run):
    async def go():
        s = Session(tcp_link("127.0.0.1", 1, timeout_s=0.3), timeout_s=0.3)
        await s.open()
    with pytest.raises(LinkError) as err:
        run(go())
    assert "127.0.0.1:1" in str(err.value) and "connection refused" in str(err.value)
    assert "port number" in err.value.hint and "baud" not in err.value.hint


def test_write_round_trip(sim, run, kind):
    async def go():
        s = _session(sim, kind)
        await s.open()
        await s.write_registers(201, [0, 4200])
        await s.write_registers(207, [20])
        return await s.read_registers(201, 2), await s.read_registers(207, 1)
    limit, soc = run(go())
    assert limit == [0, 4200] and soc == [20]
    assert sim.device(1).value_of("export_limit_w") == 4200
