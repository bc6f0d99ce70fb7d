"""Fixtures for the wireless links: a frozen-clock simulator with a V5 logger and a fake BLE radio.

The simulator runs in its own thread (as in the app's demo mode); the tests
drive the links from a fresh asyncio loop on the test thread, like the app's
device I/O thread. The clock is frozen (speed 0) so a snapshot over one link
can be compared value for value with a snapshot over Modbus TCP.
"""

from __future__ import annotations

import asyncio

import pytest
from wireless_helpers import LOGGER_SERIAL

from protocols.profiles.loader import load
from protocols.sim.simulator import Simulator, demo_start_time


@pytest.fixture
def wsim():
    """Simulated hybrid inverter (unit 1) on TCP and a V5 logger, time frozen at late morning."""
    sim = Simulator(start_s=demo_start_time(), speed=0.0, v5=True, v5_logger_serial=LOGGER_SERIAL).start()
    yield sim
    sim.stop()


@pytest.fixture
def radio(wsim):
    """The simulator's fake Bluetooth radio, advertising as PVD-SIM-0001."""
    return wsim.ble_radio()


@pytest.fixture(scope="session")
def profile():
    return load("pvdesk-hybrid")


@pytest.fixture
def arun():
    """Run a coroutine on a fresh loop with a watchdog well under the global test timeout."""
    def runner(coro, timeout_s: float = 15.0):
        return asyncio.run(asyncio.wait_for(coro, timeout_s))
    return runner
