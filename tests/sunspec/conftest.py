"""Fixtures for the SunSpec tests: simulated SunSpec devices on loopback TCP, time frozen."""

from __future__ import annotations

import pytest


@pytest.fixture
def sunspec_sim():
    """Factory: a started SunSpec simulator with 'SunS' at ``base`` (time frozen at late morning)."""
    from protocols.sim.simulator import demo_start_time
    from protocols.sim.sunspec_device import sunspec_simulator
    started = []

    def make(base: int = 40000, **kw):
        kw.setdefault("start_s", demo_start_time())
        kw.setdefault("speed", 0.0)
        sim = sunspec_simulator(base=base, **kw).start()
        started.append(sim)
        return sim
    yield make
    for sim in started:
        sim.stop()

