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
from protocols.sim.device import SimDevice, SimException
from protocols.sim.simulator import Simulator


class ReplayDevice(SimDevice):
    """A simulated device whose registers are a captured image."""

    def __init__(self, profile: Profile, unit: int, image: dict) -> None:
        super().__init__(profile, unit)
        self.image = {"holding": dict(image.get("holding", {})), "input": dict(image.get("input", {}))}
        self.refused_ranges = {fn: [(int(r[0]), int(r[1])) for r in image.get("refused", {}).get(fn, [])]
                               for fn in ("holding", "input")}
        self.reads = 0

    def update(self) -> None:  # no plant: the image does not move
        return

    def _check(self, function: str, address: int, count: int) -> dict[int, int]:
        image = self.image[function]
        for lo, hi in self.refused_ranges[function]:
            if address <= hi and address + count - 1 >= lo:
                raise SimException(2)
        if any(a not in image for a in range(address, address + count)):
            raise SimException(2)
        return image

    def read(self, function: str, address: int, count: int) -> list[int]:
        if not 1 <= count <= 125:
            raise SimException(3)
        image = self._check(function, address, count)
        self.reads += 1
        return [image[a] for a in range(address, address + count)]

    def write(self, address: int, values: list[int]) -> None:
        image = self._check("holding", address, len(values))
        for i, v in enumerate(values):
            image[address + i] = int(v) & 0xFFFF
        self.write_log.append((self.clock(), f"registers {address}..{address + len(values) - 1}", list(values)))


def replay_simulator(profile: Profile, image: dict, *, port: int = 0, host: str = "127.0.0.1",
                     rtu: bool = False) -> Simulator:
    """A Simulator (not started) whose unit serves ``image``; ``.start()`` it, or ``await .serve()``."""
    unit = int(image.get("unit", 1))
    sim = Simulator(profile=profile, units=(unit,), tcp=True, tcp_host=host, tcp_port=port, rtu=rtu)
    sim.devices[unit] = ReplayDevice(profile, unit, image)  # the dispatcher shares this dict
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
