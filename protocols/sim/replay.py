"""The replay peer: a device on the simulated bus that answers from a captured register image.

Runs on the simulator's asyncio loop (the ``Dispatcher`` in server.py calls
``read``/``write`` as it does for a ``SimDevice``). It behaves as most real
inverters do, not as our own simulator does:

- a register the image does not hold does not exist: any read spanning one
  is refused whole with exception 02 (illegal data address);
- FC3/FC4 quantities outside 1..125, or above the image's
  ``max_registers_per_read`` quirk, get exception 03 (illegal data value);
- writes (FC6/FC16) land only on holding registers the image holds, and read back;
- quirks: ``zero_gaps`` (a read touching at least one image register reads
  the missing ones as 0 instead of 02; a read touching none is still 02),
  ``answer_delay_s`` on every answer, ``first_answer_delay_s`` added to the
  very first answer (a device waking up).

One implementation serves both corpus images (``image_simulator``) and the
diagnostics bundles' images (desktop/diag/replay.py builds on ``ImageDevice``).
"""

from __future__ import annotations

import time

from ..errors import ProfileError
from ..profiles.loader import load
from ..profiles.model import Profile
from .device import SimException
from .faults import LinkFaults
from .image import FUNCTIONS, DeviceImage, Quirks
from .simulator import SimOptions, Simulator


class ImageDevice:
    """One unit id answering from ``registers`` ({"holding": {addr: value}, "input": {...}})."""

    def __init__(self, unit: int, registers: dict[str, dict[int, int]], quirks: Quirks | None = None,
                 faults: LinkFaults | None = None, clock=time.time) -> None:
        self.unit = unit
        self.registers = {fn: dict(registers.get(fn, {})) for fn in ("holding", "input")}
        self.quirks = quirks or Quirks()
        self.faults = faults        # the link's faults: the answer delays are set there for the server
        self.clock = clock
        self.offline_until = 0.0    # read by the Dispatcher, as for a SimDevice
        self.values: dict = {}      # no plant: Simulator.status() shows nothing live
        self.active_faults: set[int] = set()
        self.write_log: list[tuple[float, str, list[int]]] = []
        self.reads = 0
        self.refusals: list[tuple[str, int, int, int]] = []  # (function, address, count, exception code)
        self._answered = False

    def update(self) -> None:  # the image does not move
        return

    def update_now(self) -> None:
        return

    def _pace(self) -> None:
        """Set the delay the server applies to the answer now being made."""
        if self.faults is None:
            return
        delay = self.quirks.answer_delay_s
        if not self._answered:
            delay += self.quirks.first_answer_delay_s
            self._answered = True
        self.faults.delay_s = delay

    def _refuse(self, function: str, address: int, count: int, code: int):
        self.refusals.append((function, address, count, code))
        raise SimException(code)

    def read(self, function: str, address: int, count: int) -> list[int]:
        self._pace()
        if not 1 <= count <= min(125, self.quirks.max_registers_per_read):
            self._refuse(function, address, count, 3)
        image = self.registers[function]
        span = range(address, address + count)
        present = [a in image for a in span]
        if address + count > 65536 or not all(present) and not (self.quirks.zero_gaps and any(present)):
            self._refuse(function, address, count, 2)
        self.reads += 1
        return [image.get(a, 0) for a in span]

    def write(self, address: int, values: list[int]) -> None:
        self._pace()
        if not 1 <= len(values) <= 123:
            self._refuse("holding", address, len(values), 3)
        image = self.registers["holding"]
        if any(a not in image for a in range(address, address + len(values))):
            self._refuse("holding", address, len(values), 2)
        for i, v in enumerate(values):
            image[address + i] = int(v) & 0xFFFF
        self.write_log.append((self.clock(), f"registers {address}..{address + len(values) - 1}", list(values)))


def devices_of(image: DeviceImage, faults: LinkFaults | None = None) -> dict[int, ImageDevice]:
    """One ImageDevice per unit id of the image."""
    return {u: ImageDevice(u, {name: image.registers(u, fc) for fc, name in FUNCTIONS.items()},
                           image.quirks, faults)
            for u in image.units}


def _serving_profile(name: str) -> Profile:
    """The profile the Simulator object carries (only its title is shown): the image's, if shipped."""
    try:
        return load(name)
    except ProfileError:  # a SunSpec image has no profile file: the title is the only use
        return load("pvdesk-hybrid")


def image_simulator(image: DeviceImage, *, tcp: bool = True, host: str = "127.0.0.1", port: int = 0,
                    rtu: bool = False, v5: bool = False, v5_port: int = 0,
                    v5_logger_serial: int = 2712345678) -> Simulator:
    """A Simulator (not started) whose bus holds the image's devices; ``.start()`` it or ``await .serve()``."""
    options = SimOptions(profile=_serving_profile(image.profile), units=tuple(image.units), tcp=tcp,
                         tcp_host=host, tcp_port=port, rtu=rtu, v5=v5, v5_port=v5_port,
                         v5_logger_serial=v5_logger_serial)
    sim = Simulator(options)
    sim.devices.clear()  # the dispatcher shares this dict: the image's devices replace the plant's
    sim.devices.update(devices_of(image, sim.faults))
    sim.image = image
    return sim
