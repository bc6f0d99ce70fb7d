"""Errors fit the transport and say what happened: gateway without a device, refused port, no answer,
a connection accepted and then closed.

Pins the bugs "exception 0x0B from a gateway ends in 'no known profile
matches'", "TCP failures say check the baud rate and RS-485 termination" and
"a refused TCP port reads as 'no answer, check the cable'".
"""

import asyncio
import socket
import subprocess
import sys
import time

import pytest

from protocols.detect import detect
from protocols.errors import LinkError, ModbusExceptionReply, ModbusTimeout
from protocols.links.pymodbus_link import tcp_link
from protocols.session import Session

SERIAL_WORDS = ("baud", "parity", "RS-485", "termination", "A/B")


def _no_serial_advice(text):
    return not any(w in text for w in SERIAL_WORDS)


def test_gateway_without_device_is_retried_once_then_named(sim, run):
    """Unit 9 is not behind the simulator's TCP gateway: 0x0B, asked twice, then a clear line."""
    async def go():
        s = Session(tcp_link(*sim.tcp_address), timeout_s=0.5, retries=2, backoff_s=0.01)
        await s.open()
        before = sim.dispatcher.requests
        with pytest.raises(ModbusExceptionReply) as err:
            await s.read_registers(0, 1, unit=9)
        asked = sim.dispatcher.requests - before
        await s.close()
        return err.value, asked
    err, asked = run(go())
    assert asked == 2
    assert err.code == 11 and str(err).startswith(f"no device answers at unit 9 behind {sim.tcp_address[0]}")
    assert _no_serial_advice(str(err)) or "gateway and the inverter" in err.hint


def test_detection_reports_the_gateway_not_no_profile(sim, run):
    """Bug: auto-detection behind a gateway with nobody at the unit said "no known profile matches"."""
    async def go():
        s = Session(tcp_link(*sim.tcp_address), timeout_s=0.5, retries=1, backoff_s=0.01)
        await s.open()
        try:
            with pytest.raises(ModbusExceptionReply) as err:
                await detect(s, 9)
            return err.value
        finally:
            await s.close()
    err = run(go())
    assert "no device answers at unit 9 behind" in str(err) and "no known profile" not in str(err)


def test_cli_names_the_gateway(sim):
    host, port = sim.tcp_address
    out = subprocess.run([sys.executable, "-m", "desktop.cli", "read", "--tcp", f"{host}:{port}", "--unit", "9"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and len(out.stderr.strip().splitlines()) == 1
    assert f"no device answers at unit 9 behind {host}" in out.stderr


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_refused_port_is_told_apart_from_no_answer(run):
    """A refused port says so (and nothing about cables or baud rates); a silent peer is a timeout."""
    async def go():
        s = Session(tcp_link("127.0.0.1", _free_port(), timeout_s=0.3), timeout_s=0.3)
        with pytest.raises(LinkError) as refused:
            await s.open()

        async def mute(reader, writer):
            await reader.read(1000)
            await asyncio.sleep(5)
        server = await asyncio.start_server(mute, "127.0.0.1", 0)
        s2 = Session(tcp_link("127.0.0.1", server.sockets[0].getsockname()[1], timeout_s=0.3),
                     timeout_s=0.3, retries=0)
        await s2.open()
        with pytest.raises(ModbusTimeout) as silent:
            await s2.read_registers(0, 1)
        await s2.close()
        server.close()
        return refused.value, silent.value
    refused, silent = run(go())
    assert "connection refused" in str(refused) and "port number" in refused.hint
    assert not isinstance(refused, ModbusTimeout)
    assert "did not answer" in str(silent) and "unit id" in silent.hint
    assert _no_serial_advice(refused.one_line()) and _no_serial_advice(silent.one_line())


def test_accepted_then_closed_says_another_client_may_hold_the_session(run):
    async def go():
        async def close_at_once(reader, writer):
            writer.close()
        server = await asyncio.start_server(close_at_once, "127.0.0.1", 0)
        s = Session(tcp_link("127.0.0.1", server.sockets[0].getsockname()[1], timeout_s=0.3),
                    timeout_s=0.3, retries=1, backoff_s=0.05)
        t0 = time.monotonic()
        with pytest.raises(LinkError) as err:
            await s.open()
            await s.read_registers(0, 1)
        server.close()
        return err.value, time.monotonic() - t0
    err, elapsed = run(go())
    assert "accepted the connection, then closed it" in str(err)
    assert "another client" in err.hint and "only Modbus TCP session" in err.hint
    assert _no_serial_advice(err.one_line()) and elapsed < 5


def test_tcp_timeout_hint_has_no_serial_advice(sim, run):
    async def go():
        s = Session(tcp_link(*sim.tcp_address, timeout_s=0.3), timeout_s=0.3, retries=0)
        await s.open()
        sim.mute(1.0)
        with pytest.raises(ModbusTimeout) as err:
            await s.read_registers(0, 1)
        await s.close()
        return err.value
    err = run(go())
    assert _no_serial_advice(err.one_line()) and "unit id" in err.hint


def test_detection_on_a_silent_device_gives_up_in_a_few_timeouts(sim, run):
    """With nothing answering, detection stops after about four timeouts (not one per profile and retry)."""
    async def go():
        s = Session(tcp_link(*sim.tcp_address, timeout_s=0.3), timeout_s=0.3, retries=2, backoff_s=0.05)
        await s.open()
        sim.mute(30)
        t0 = time.monotonic()
        with pytest.raises(ModbusTimeout):
            await detect(s, 1)
        elapsed = time.monotonic() - t0
        sent = s.stats.requests
        await s.close()
        return elapsed, sent, s.retries
    elapsed, sent, retries = run(go())
    assert sent <= 5                 # three tries of the first candidate, then one or two more
    assert elapsed < 5 * 0.3 + 0.5
    assert retries == 2              # the session's own setting is restored


def test_gateway_path_unavailable_0x0a_is_named_as_the_gateway_not_a_refusal(run):
    """Exception 0x0A (a gateway that has no path to the serial side): a scripted gateway answers every
    request with it; the error names the gateway, not the register, and says nothing of RS-485 wiring
    on our side of the gateway."""
    from protocols.errors import GatewayNoDevice, PointNotSupported

    from tests.protocols.scripted_peers import TcpPeer

    async def go():
        peer = TcpPeer(good=lambda pdu: bytes([pdu[0] | 0x80, 0x0A]))
        s = Session(tcp_link(*await peer.start()), timeout_s=0.5, retries=2, backoff_s=0.01)
        await s.open()
        try:
            with pytest.raises(ModbusExceptionReply) as err:
                await s.read_registers(35000, 8, unit=247)
        finally:
            await s.close()
            await peer.stop()
        return err.value, len(peer.requests)
    err, asked = run(go())
    assert isinstance(err, GatewayNoDevice) and not isinstance(err, PointNotSupported)
    assert err.code == 10 and "unit 247" in str(err) and "gateway path unavailable" in str(err)
    assert asked == 2   # asked again once (a gateway may be starting), then reported
    assert _no_serial_advice(str(err))
