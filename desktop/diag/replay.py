"""Replay: the simulated inverter serving a bundle's raw register image.

A support engineer connects PVDesk, or any Modbus tool, to exactly the
register state the customer's device had when the bundle was made. The
``ReplayDevice`` answers reads from the captured image only: an address the
image does not hold, or one the device refused, gets exception 02 (illegal
data address), as the real device would have. Writes to captured holding
registers are accepted and read back (nothing else changes: there is no
plant behind the image).

Runs on the simulator's asyncio loop (``Simulator.start()`` starts it in
its own thread; ``pvdesk diag replay`` serves it in the foreground).
"""

from __future__ import annotations

from protocols.profiles.model import Profile
from protocols.sim.replay import ImageDevice
from protocols.sim.simulator import Simulator


class ReplayDevice(ImageDevice):
    """A bundle's captured image served by the one replay implementation (protocols/sim/replay.py).

    Registers the capture recorded as refused or not read are simply absent
    from the image, so they answer exception 02 as the device did.
    """

    def __init__(self, profile: Profile, unit: int, image: dict) -> None:
        registers = {fn: {int(a): int(v) for a, v in image.get(fn, {}).items()} for fn in ("holding", "input")}
        for fn in ("holding", "input"):
            for r in image.get("refused", {}).get(fn, []):
                for a in range(int(r[0]), int(r[1]) + 1):
                    registers[fn].pop(a, None)
        super().__init__(unit, registers)
        self.profile = profile


def replay_simulator(profile: Profile, image: dict, *, port: int = 0, host: str = "127.0.0.1",
                     rtu: bool = False) -> Simulator:
    """A Simulator (not started) whose unit serves ``image``; ``.start()`` it, or ``await .serve()``."""
    unit = int(image.get("unit", 1))
    sim = Simulator(profile=profile, units=(unit,), tcp=True, tcp_host=host, tcp_port=port, rtu=rtu)
    sim.devices[unit] = ReplayDevice(profile, unit, image)  # the dispatcher shares this dict
    sim.devices[unit].faults = sim.faults
    return sim


def replay_bundle(bundle, *, port: int = 0, host: str = "127.0.0.1", rtu: bool = False) -> Simulator:
    """A replay Simulator for an opened Bundle (ValueError when it has no register image)."""
    image = bundle.register_image()
    if not image:
        raise ValueError(f"{bundle.path.name} has no register image to replay (it was exported without one)")
    profile = bundle.profile()
    if profile is None:
        raise ValueError(f"{bundle.path.name} has no device profile")
    return replay_simulator(profile, image, port=port, host=host, rtu=rtu)
