"""Fixtures for the profile tests: a vendor profile served by the simulator on loopback TCP."""

from __future__ import annotations

import pytest


@pytest.fixture
def profile_sim():
    """Factory: a started Simulator serving profile ``name`` at unit 1 with ``identity`` values (time frozen)."""
    from protocols.profiles.loader import load
    from protocols.sim.device import SimDevice
    from protocols.sim.simulator import Simulator, demo_start_time
    started = []

    def make(name: str, identity: dict | None = None):
        profile = load(name)
        sim = Simulator(profile=profile, start_s=demo_start_time(), speed=0.0)
        sim.devices[1] = SimDevice(profile, 1, clock=sim.clock, plant=sim.devices[1].plant,
                                   identity=identity)
        sim.start()
        started.append(sim)
        return sim
    yield make
    for sim in started:
        sim.stop()

