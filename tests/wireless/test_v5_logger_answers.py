"""Solarman V5: a logger that answers with its own serial, and a logger whose inverter is silent.

Pins the bug "a Solarman logger given the inverter's serial instead of its own
is blamed on Wi-Fi": a logger that answers with its own serial now gives
"this logger's serial is N, not M", and a logger that answers with an empty
Modbus part says that the inverter behind it did not answer. The simulator's
V5 mode reproduces both (SimOptions v5_foreign_serial_reply, v5_inverter_silent).
"""

import asyncio

import pytest

from protocols.errors import ModbusTimeout, PVDeskError
from protocols.links.solarman import V5Link
from protocols.session import Session
from protocols.sim.simulator import Simulator

SERIAL = 2712345678
INVERTER_SERIAL = 1903051234   # what an installer might type instead: the inverter's own serial


def _run(coro):
    return asyncio.run(asyncio.wait_for(coro, 20))


def _sim(**kw):
    return Simulator(v5=True, v5_logger_serial=SERIAL, v5_discovery_port=None, **kw).start()


def test_logger_answering_with_its_own_serial_names_it():
    sim = _sim(v5_foreign_serial_reply=True)
    try:
        async def go():
            s = Session(V5Link(*sim.v5_address[:1], INVERTER_SERIAL, port=sim.v5_address[1]),
                        timeout_s=0.5, retries=2)
            await s.open()
            try:
                with pytest.raises(PVDeskError) as err:
                    await s.read_registers(0, 1)
                return err.value, s.stats.requests
            finally:
                await s.close()
        err, sent = _run(go())
    finally:
        sim.stop()
    assert f"this logger's serial is {SERIAL}, not {INVERTER_SERIAL}" in str(err)
    assert f"--logger-serial {SERIAL}" in err.hint
    assert "Wi-Fi" not in err.hint and sent == 1     # a configuration error: not retried


def test_logger_answering_while_the_inverter_is_silent_says_so():
    sim = _sim(v5_inverter_silent=True)
    try:
        async def go():
            s = Session(V5Link(sim.v5_address[0], SERIAL, port=sim.v5_address[1]), timeout_s=0.5, retries=1,
                        backoff_s=0.01)
            await s.open()
            try:
                with pytest.raises(ModbusTimeout) as err:
                    await s.read_registers(0, 1)
                return err.value
            finally:
                await s.close()
        err = _run(go())
    finally:
        sim.stop()
    assert "answered, but the inverter behind it did not" in str(err)
    assert "RS-485 cable to the inverter" in err.hint and "Wi-Fi signal" not in err.hint


def test_the_right_serial_still_reads():
    sim = _sim(v5_foreign_serial_reply=True)
    try:
        async def go():
            s = Session(V5Link(sim.v5_address[0], SERIAL, port=sim.v5_address[1]), timeout_s=0.5)
            await s.open()
            try:
                return await s.read_registers(0, 1)
            finally:
                await s.close()
        assert _run(go()) == [0x5048]
    finally:
        sim.stop()
