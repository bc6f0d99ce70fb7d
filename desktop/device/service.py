"""The device service: owns the device I/O thread, its asyncio loop, and the one live connection.

Runs its own thread ("pvdesk-io") with one asyncio loop; every Modbus
request of the app goes through that loop. Methods may be called from any
thread: they schedule work on the loop and return at once. Events
(desktop/device/events.py dataclasses) go to plain listeners, called ON THE
I/O THREAD (the Qt bridge re-emits them as signals; the diagnostics recorder
writes them to disk). ``polling_paused()`` gives a coroutine the link to
itself (firmware upgrades, any exclusive use). No Qt here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Future
from typing import Any

from protocols.device import Device
from protocols.errors import PVDeskError
from protocols.faults import active_alarms
from protocols.poller import Poller
from protocols.sample import Sample

from desktop.core.errors import describe_error
from desktop.device.connect import Target, choose_profile, open_session, start_demo_simulator
from desktop.device.events import (
    AlarmsChanged,
    ErrorRaised,
    Event,
    FirmwareRead,
    IdentityRead,
    LinkOpened,
    Listener,
    SampleReady,
    StateChanged,
    StatsUpdated,
)

log = logging.getLogger(__name__)


class DeviceService:
    """One I/O thread, one connection at a time, events to listeners."""

    def __init__(self, fast_period_s: float = 1.0, slow_period_s: float = 10.0) -> None:
        self.fast_period_s = fast_period_s
        self.slow_period_s = slow_period_s
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="pvdesk-io", daemon=True)
        self._listeners: list[Listener] = []
        self.target: Target | None = None
        self.device: Device | None = None
        self.poller: Poller | None = None
        self.simulator = None
        self.state = "disconnected"
        self.last_sample: Sample | None = None
        self.last_good_s: float | None = None
        self._link_lock = asyncio.Lock()  # binds to self.loop on first use (Python >= 3.10)
        self._closed = False
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    # ---------------------------------------------------------------- events
    def add_listener(self, fn: Listener) -> None:
        """``fn(event)`` for every Event (desktop/device/events.py), called on the I/O thread."""
        self._listeners.append(fn)

    def remove_listener(self, fn: Listener) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def emit(self, event: Event) -> None:
        for fn in list(self._listeners):
            try:
                fn(event)
            except Exception:  # a broken listener must not stop the I/O thread
                log.exception("listener failed on %s", event.kind.value)

    def _set_state(self, state: str, detail: str = "") -> None:
        self.state = state
        self.emit(StateChanged(state, detail))

    # ------------------------------------------------------------- running
    def submit(self, coro_factory: Callable[[], Awaitable], on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None) -> Future:
        """Run ``coro_factory()`` on the I/O loop; callbacks run on the I/O thread."""
        async def wrapped():
            try:
                result = await coro_factory()
            except BaseException as exc:
                if on_error:
                    on_error(exc)
                raise
            if on_done:
                on_done(result)
            return result
        if self._closed:  # after shutdown: nothing runs any more (the loop has stopped)
            refused: Future = Future()
            refused.set_exception(PVDeskError("the app is closing", hint="nothing was sent to the device"))
            return refused
        return asyncio.run_coroutine_threadsafe(wrapped(), self.loop)

    def call_device(self, fn: Callable[[Device], Awaitable], on_done=None, on_error=None) -> Future:
        """Run ``fn(device)`` on the I/O loop against the connected device."""
        async def go():
            if self.device is None:
                raise PVDeskError("not connected", hint="connect to a device first")
            return await fn(self.device)
        return self.submit(go, on_done, on_error)

    # ----------------------------------------------------------- connection
    def connect(self, target: Target) -> Future:
        """Connect (disconnecting first if needed); events report progress."""
        return self.submit(lambda: self._one_at_a_time(lambda: self._connect(target)))

    async def _one_at_a_time(self, coro_factory: Callable[[], Awaitable]):
        """Connects and disconnects in turn: a second waits until the first (identity reads,
        poller start) has finished, instead of tearing its session down half-way."""
        async with self._link_lock:
            return await coro_factory()

    async def _connect(self, target: Target) -> Device:
        await self._disconnect()
        self.target = target
        self._set_state("connecting", target.label())
        try:
            if target.demo and self.simulator is None:
                self.simulator = await asyncio.get_running_loop().run_in_executor(None, start_demo_simulator)
            session = await open_session(target, self.simulator)
            session.add_state_listener(self._on_link_state)
            profile = await choose_profile(session, target)
        except BaseException as exc:
            line = describe_error(exc)
            log.warning("connect to %s failed: %s", target.label(), line)
            self._set_state("disconnected", line)
            self.emit(ErrorRaised(line))
            raise
        self.device = Device(session, profile, target.unit)
        self._set_state("connected", f"{target.label()}: {profile.title}")
        self.emit(LinkOpened(target.label(), profile, target.unit, target.spec.to_dict(), target.demo))
        try:
            self.emit(IdentityRead(await self.device.identity()))
            self.emit(FirmwareRead(await self.device.firmware()))
        except PVDeskError as exc:
            self.emit(ErrorRaised(exc.one_line()))
        self.poller = Poller(self.device, self._on_sample, self._on_poll_error,
                             fast_period_s=self.fast_period_s, slow_period_s=self.slow_period_s)
        self.poller.start()
        return self.device

    def _on_link_state(self, state: str, detail: str) -> None:
        if state in ("reconnecting", "connected") and self.device is not None:
            self._set_state(state, detail)

    def _on_sample(self, sample: Sample) -> None:
        self.last_sample = sample
        self.last_good_s = time.time()
        if self.state != "connected":
            self._set_state("connected", self.target.label() if self.target else "")
        self.emit(SampleReady(sample))
        self.emit(AlarmsChanged(active_alarms(self.device.profile, sample.values, sample.timestamp_s)))
        self.emit(StatsUpdated(self.stats()))

    def _on_poll_error(self, exc: PVDeskError, consecutive: int) -> None:
        if consecutive == 1:  # the first of a run; the rest are counted in the statistics
            log.warning("poll failed: %s", describe_error(exc))
        self.emit(ErrorRaised(exc.one_line()))
        if consecutive >= 2 and self.state == "connected":
            self._set_state("reconnecting", exc.one_line())
        self.emit(StatsUpdated(self.stats()))

    @contextlib.asynccontextmanager
    async def polling_paused(self) -> AsyncIterator[Device | None]:
        """``async with service.polling_paused() as device``: the link to yourself, on the I/O loop.

        The live poller stops before the block (its last read finishes first)
        and starts again after it, whatever happens inside; yields the
        connected Device (None when nothing is connected). For firmware
        upgrades and any other exclusive use of the link.
        """
        poller = self.poller
        if poller is not None:
            await poller.stop()
        try:
            yield self.device
        finally:
            if poller is not None and self.poller is poller:
                poller.start()

    def stats(self) -> dict:
        if self.device is None:
            return {}
        s = self.device.session.stats.as_dict()
        s["last_good_s"] = self.last_good_s
        s["poll_failures"] = self.poller.failures if self.poller else 0
        return s

    def disconnect(self) -> Future:
        return self.submit(lambda: self._one_at_a_time(self._disconnect))

    async def _disconnect(self) -> None:
        if self.poller:
            await self.poller.stop()
            self.poller = None
        if self.device:
            await self.device.session.close()
            self.device = None
            self._set_state("disconnected", "")

    def shutdown(self) -> None:
        """Disconnect, stop the demo simulator and the I/O thread (call once, at exit)."""
        try:
            self.disconnect().result(timeout=5)
        except Exception:
            pass
        try:  # work still running (a page's read) ends now, not half-way when the interpreter exits
            asyncio.run_coroutine_threadsafe(_cancel_the_rest(), self.loop).result(timeout=5)
        except Exception:
            pass
        self._closed = True
        if self.simulator is not None:
            self.simulator.stop()
            self.simulator = None
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)


async def _cancel_the_rest() -> None:
    """I/O thread: cancel every task but this one and wait until they have finished."""
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
