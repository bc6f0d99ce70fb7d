"""The simulated inverter: devices on a bus, their servers, a clock and the control interface.

Runs its own asyncio loop, either in a background thread (``start()``: the
embedded demo, tests) or in the caller's loop (``serve()``: ``pvdesk sim``).
Every control method is safe to call from any thread: it runs on the
simulator's loop and waits for it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..profiles.loader import load
from ..profiles.model import Profile
from .bootloader import install as install_bootloader
from .device import SimDevice

if TYPE_CHECKING:
    from .v5_server import V5Server
from .faults import LinkFaults
from .physics import Plant
from .plays import FaultPlays, LineExpect, parse_line
from .server import Dispatcher, PtyServer, TcpServer


class SimClock:
    """Simulated time: starts at ``start_s``, runs at ``speed``, can be fast-forwarded."""

    def __init__(self, start_s: float | None = None, speed: float = 1.0) -> None:
        self.start_s = time.time() if start_s is None else start_s
        self.speed = speed
        self._t0 = time.monotonic()
        self.offset_s = 0.0

    def __call__(self) -> float:
        return self.start_s + (time.monotonic() - self._t0) * self.speed + self.offset_s


def demo_start_time(hour_local: float = 11.0, tz_offset_h: float = 1.0) -> float:
    """Today at ``hour_local`` (so the demo shows sun), as Unix seconds."""
    now = time.time()
    midnight = now - (now % 86400) - tz_offset_h * 3600
    return midnight + hour_local * 3600


@dataclass
class SimOptions:
    profile: str | Profile = "pvdesk-hybrid"
    units: tuple[int, ...] = (1,)
    tcp: bool = True
    tcp_host: str = "127.0.0.1"
    tcp_port: int = 0
    rtu: bool = False
    start_s: float | None = None
    speed: float = 1.0
    line_baud: int | None = None
    seed: int = 1
    v5: bool = False              # a Solarman V5 Wi-Fi logger on tcp_host:v5_port
    v5_port: int = 0
    v5_logger_serial: int = 2712345678
    v5_discovery_port: int | None = 0   # UDP discovery responder (48899 on a real logger)
    # Connection fault plays (protocols/sim/plays.py)
    max_clients: int | None = None      # Modbus TCP clients at once; the next is accepted and closed
    echo: bool = False                  # the RS-485 adapter echoes the request (pty)
    line: str | None = None             # the device's line settings, e.g. "19200-8E1" (pty)
    line_mismatch: str = "garbage"      # what a client at other settings gets: garbage or silent
    swapped_ab: bool = False            # answers arrive bit-inverted (A/B swapped)
    udp: bool = False                   # GoodWe-style Modbus RTU over UDP (AA55 answers)
    udp_port: int = 0
    v5_foreign_serial_reply: bool = False  # answer frames for another serial with our own serial
    v5_inverter_silent: bool = False       # the inverter behind the logger does not answer


class Simulator:
    """A bus of simulated hybrid inverters served over TCP and/or RTU."""

    def __init__(self, options: SimOptions | None = None, **kw) -> None:
        self.options = options or SimOptions(**kw)
        o = self.options
        self.profile = o.profile if isinstance(o.profile, Profile) else load(o.profile)
        self.clock = SimClock(o.start_s, o.speed)
        self.faults = LinkFaults(line_baud=o.line_baud)
        # SimDevices by unit id; a replay (sim.replay) puts its ImageDevices here, which answer the same calls
        self.devices: dict[int, Any] = {
            u: SimDevice(self.profile, u, clock=self.clock, plant=Plant(seed=o.seed * 100 + u)) for u in o.units}
        for dev in self.devices.values():
            install_bootloader(dev)  # only where the profile names pvdesk-bootloader-v1
        self.dispatcher = Dispatcher(self.devices, self.faults)
        self.plays = FaultPlays(max_clients=o.max_clients, echo=o.echo, swapped_ab=o.swapped_ab)
        if o.line:
            self.plays.line = LineExpect(*parse_line(o.line), mismatch=o.line_mismatch)
        self.udp: Any = None  # a udp_server.UdpServer when options.udp (imported only then)
        self.image: Any = None  # the corpus image (sim.image.DeviceImage) a replay serves
        self.tcp: TcpServer | None = None
        self.pty: PtyServer | None = None
        self.v5: V5Server | None = None  # when options.v5
        self._ble = None  # SimBleRadio, made on first use by ble_radio()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()

    # ------------------------------------------------------------ lifecycle
    async def serve(self) -> None:
        """Start the servers on the running loop."""
        self.loop = asyncio.get_running_loop()
        o = self.options
        if o.tcp:
            self.tcp = TcpServer(self.dispatcher, self.faults, o.tcp_host, o.tcp_port)
            self.tcp.plays = self.plays
            await self.tcp.start()
        if o.rtu:
            self.pty = PtyServer(self.dispatcher, self.faults)
            self.pty.plays = self.plays
            await self.pty.start()
        if o.udp:
            from .udp_server import UdpServer
            self.udp = UdpServer(self.dispatcher, self.faults, o.tcp_host, o.udp_port)
            await self.udp.start()
        if o.v5:
            from .v5_server import V5Server
            self.v5 = V5Server(self.dispatcher, self.faults, o.tcp_host, o.v5_port, o.v5_logger_serial,
                               o.v5_discovery_port, foreign_serial_reply=o.v5_foreign_serial_reply,
                               inverter_silent=o.v5_inverter_silent)
            await self.v5.start()

    async def shutdown(self) -> None:
        if self.tcp:
            await self.tcp.stop()
        if self.pty:
            await self.pty.stop()
        if self.v5:
            await self.v5.stop()
        if self.udp:
            self.udp.stop()

    def start(self) -> "Simulator":
        """Run in a background thread; returns once the servers listen."""
        ready: Future = Future()

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.serve())
            except BaseException as exc:  # report to the starter, then leave
                ready.set_exception(exc)
                loop.close()
                return
            ready.set_result(True)
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.shutdown())
                loop.close()
                self._stopped.set()

        self._thread = threading.Thread(target=run, name="pvdesk-sim", daemon=True)
        self._thread.start()
        ready.result(timeout=10)
        return self

    def stop(self) -> None:
        if self.loop and self._thread and self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._stopped.wait(5)

    def __enter__(self) -> "Simulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def tcp_address(self) -> tuple[str, int]:
        assert self.tcp, "TCP server not enabled"
        return self.tcp.host, self.tcp.port

    @property
    def rtu_path(self) -> str:
        assert self.pty, "RTU server not enabled"
        return self.pty.path

    @property
    def v5_address(self) -> tuple[str, int]:
        """(host, port) of the simulated Solarman V5 logger."""
        assert self.v5, "V5 logger not enabled (SimOptions v5=True)"
        return self.v5.host, self.v5.port

    def ble_radio(self):
        """The fake Bluetooth LE radio of unit 1 (sim/ble_backend.py); ``.backend`` goes to BleLink."""
        if self._ble is None:
            from .ble_backend import SimBleRadio
            self._ble = SimBleRadio(self)
        return self._ble

    # -------------------------------------------------------------- control
    def call(self, fn, *args):
        """Run ``fn(*args)`` on the simulator's loop and return its result."""
        try:
            on_loop = asyncio.get_running_loop() is self.loop
        except RuntimeError:
            on_loop = False
        if self.loop is None or on_loop or not self.loop.is_running():
            return fn(*args)
        fut: Future = Future()

        def run():
            try:
                fut.set_result(fn(*args))
            except BaseException as exc:
                fut.set_exception(exc)
        self.loop.call_soon_threadsafe(run)
        return fut.result(timeout=10)

    def device(self, unit: int = 1) -> SimDevice:
        return self.devices[unit]

    def inject_fault(self, code: int, unit: int = 1) -> None:
        """Raise fault ``code`` on ``unit`` (alarm bit, active code, history entry)."""
        self.call(self.devices[unit].inject_fault, code)

    def clear_faults(self, unit: int = 1, code: int | None = None) -> None:
        self.call(self.devices[unit].clear_fault, code)

    def drop_link(self, duration_s: float) -> None:
        """Pull the cable for ``duration_s``: connections closed and refused, RTU silent."""
        def go():
            self.faults.drop_until = time.monotonic() + duration_s
            if self.tcp:
                self.tcp.drop_all()
            if self.v5:
                self.v5.drop_all()
        self.call(go)
        if self._ble is not None:
            self._ble.disconnect_all()

    def mute(self, duration_s: float) -> None:
        """Receive but do not answer for ``duration_s`` (timeouts, the link stays up)."""
        self.call(setattr, self.faults, "mute_until", time.monotonic() + duration_s)

    def set_delay(self, seconds: float) -> None:
        self.call(setattr, self.faults, "delay_s", seconds)

    def corrupt(self, kind: str, count: int = 1) -> None:
        """Spoil the next ``count`` answers: kind is corrupt_crc, garbage, truncate or silent."""
        if kind not in ("corrupt_crc", "garbage", "truncate", "silent"):
            raise ValueError(f"unknown corruption {kind!r}")
        self.call(setattr, self.faults, kind, count)

    def exception_replies(self, code: int, count: int = 1) -> None:
        """Answer the next ``count`` requests with Modbus exception ``code``."""
        self.call(self.faults.exception.__setitem__, code, count)

    def fast_forward(self, seconds: float) -> None:
        """Advance simulated time (energy counters, SOC and the sun follow)."""
        def go():
            self.clock.offset_s += seconds
            for dev in self.devices.values():
                dev.update()
        self.call(go)

    def set_ct_reversed(self, reversed_: bool, unit: int = 1) -> None:
        """Mount the CT clamp the wrong way round (the meter's sign flips)."""
        def go():
            self.devices[unit].plant.ct_reversed = reversed_
            self.devices[unit].update_now()
        self.call(go)

    def power_cycle(self, off_s: float, unit: int = 1) -> None:
        """Cut the device's power for ``off_s`` (it does not answer meanwhile)."""
        self.call(self.devices[unit].power_off, off_s)

    # ------------------------------------------------- connection fault plays
    def set_max_clients(self, n: int | None = None) -> None:
        """Modbus TCP clients at once (None: no limit; 0: every client accepted and closed)."""
        self.call(setattr, self.plays, "max_clients", None if n is None else int(n))

    def set_echo(self, on: bool = True) -> None:
        """The RS-485 adapter echoes every request (pseudo-terminal)."""
        self.call(setattr, self.plays, "echo", bool(on))

    def set_line(self, line: str | None = None, mismatch: str = "garbage") -> None:
        """The device's line settings, e.g. "19200-8E1" (None: any); ``mismatch`` garbage or silent."""
        if mismatch not in ("garbage", "silent"):
            raise ValueError(f"mismatch is garbage or silent, not {mismatch!r}")
        self.call(setattr, self.plays, "line", LineExpect(*parse_line(line), mismatch=mismatch) if line else None)

    def set_swapped_ab(self, on: bool = True) -> None:
        """Answers arrive bit-inverted, as with A and B swapped."""
        self.call(setattr, self.plays, "swapped_ab", bool(on))

    def close_tcp(self) -> None:
        """Stop listening on the Modbus TCP port (connections are refused), as a firmware update may."""
        async def go():
            if self.tcp and self.tcp._server:
                self.tcp.drop_all()
                self.tcp._server.close()
                self.tcp._server = None
        self._await(go)

    def open_tcp(self) -> None:
        """Listen on the Modbus TCP port again (the same port)."""
        async def go():
            if self.tcp and self.tcp._server is None:
                await self.tcp.start()
        self._await(go)

    def _await(self, coro_fn):
        if self.loop is None or not self.loop.is_running():
            raise RuntimeError("the simulator is not running")
        try:
            on_loop = asyncio.get_running_loop() is self.loop
        except RuntimeError:
            on_loop = False
        if on_loop:   # from the control port: runs right after this command's answer
            asyncio.ensure_future(coro_fn())
            return None
        return asyncio.run_coroutine_threadsafe(coro_fn(), self.loop).result(timeout=10)

    def status(self) -> dict:
        """What a trainer sees: addresses, faults, per-unit key values."""
        def go():
            return {
                "tcp": f"{self.tcp.host}:{self.tcp.port}" if self.tcp else None,
                "rtu": self.pty.path if self.pty else None,
                "sim_time_s": self.clock(),
                "requests": self.dispatcher.requests,
                "units": {u: {"faults": sorted(d.active_faults),
                              "pv_power_w": round(d.values.get("pv_power_w", 0)),
                              "battery_soc_pct": round(d.values.get("battery_soc_pct", 0), 1)}
                          for u, d in self.devices.items()},
            }
        return self.call(go)
