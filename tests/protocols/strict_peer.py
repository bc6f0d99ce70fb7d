"""A strict peer for the protocol tests: a simulated device whose only registers are its points' own.

Runs in the test's thread; the simulator runs in its own. The register
values are set here, by address, not encoded from the profile under test.
"""

from __future__ import annotations

from protocols.profiles import loader
from protocols.sim.device import SimDevice
from protocols.sim.simulator import Simulator

#: (name, address, type) of a block with several gaps inside it: 2..4, 7..8, 10..11, 13..19, 21..29
GAPPY_POINTS = [("p0", 0, "u16"), ("p1", 1, "u16"), ("p5", 5, "u32"), ("p9", 9, "u16"),
                ("p12", 12, "u16"), ("p20", 20, "u16"), ("p30", 30, "u16")]
#: the registers the peer serves (address -> raw value)
GAPPY_REGISTERS = {0: 11, 1: 22, 5: 0x0001, 6: 0x0002, 9: 99, 12: 1212, 20: 2020, 30: 3030}


def gappy_profile(function: str = "holding"):
    data = {"profile": {"name": "gappy", "title": "Gappy", "vendor": "test"},
            "points": [{"name": n, "address": a, "type": t, "function": function} for n, a, t in GAPPY_POINTS]}
    return loader.from_dict(data, "gappy.toml")


def start_gappy_sim(rtu: bool = False, function: str = "holding") -> Simulator:
    """A simulator whose unit 1 implements exactly GAPPY_REGISTERS (exception 02 for any other)."""
    sim = Simulator(units=(1,), rtu=rtu).start()
    profile = gappy_profile(function)

    def install():
        dev = SimDevice(profile, 1, clock=sim.clock, implemented="points")
        image = dev.holding if function == "holding" else dev.input
        image.clear()
        image.update(GAPPY_REGISTERS)
        sim.devices[1] = dev
    sim.call(install)
    return sim
