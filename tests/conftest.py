"""Shared fixtures: the simulated inverter over loopback TCP and a real pseudo-terminal.

Qt runs offscreen; the app's logs go to a temporary folder; every test has a
timeout (pytest-timeout, see pyproject.toml).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest


@pytest.fixture(autouse=True)
def _app_dirs(tmp_path_factory, monkeypatch):
    """Logs and settings of the app under test never touch the user's folders."""
    base = tmp_path_factory.mktemp("pvdesk-home")
    monkeypatch.setenv("PVDESK_LOG_DIR", str(base / "logs"))
    monkeypatch.setenv("PVDESK_DATA_DIR", str(base / "data"))
    yield


@pytest.fixture(autouse=True)
def _collect_on_this_thread():
    """Cyclic garbage is collected here, on the test's (GUI) thread, never on a worker thread.

    A Qt object left in a reference cycle by an earlier test and collected by
    whichever thread next crosses the collector's threshold (a records sync
    worker, the device I/O thread) crashes the process, as the app guards
    against with desktop.ui.shell.application.collect_on_gui_thread.
    """
    import gc
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()
        # What survives a test (modules, profiles, session fixtures) is moved out of the collector's
        # sight, so each collection scans only what the next test makes: a full collection of the
        # whole process cost about 50 ms, twice a test, over a minute and a half of the suite.
        gc.freeze()


@pytest.fixture
def sim():
    """A simulated inverter (units 1 and 2) on loopback TCP and a pseudo-terminal, at late morning."""
    from protocols.sim.simulator import Simulator, demo_start_time
    simulator = Simulator(units=(1, 2), rtu=True, start_s=demo_start_time()).start()
    yield simulator
    simulator.stop()


@pytest.fixture
def session_to():
    """Factory: an open Session to a simulator over loopback TCP (closed by the test's coroutine)."""
    from protocols.links.pymodbus_link import tcp_link
    from protocols.session import Session

    async def open_(simulator):
        s = Session(tcp_link(*simulator.tcp_address), timeout_s=1.0, retries=1)
        await s.open()
        return s
    return open_


@pytest.fixture
def run():
    """Run a coroutine to completion on a fresh loop (the tests' stand-in for the I/O thread)."""
    import asyncio

    def runner(coro, timeout_s: float = 20.0):
        return asyncio.run(asyncio.wait_for(coro, timeout_s))
    return runner
