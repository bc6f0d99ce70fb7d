"""The poller: reads a device's points at their rates and emits one Sample per cycle.

Runs on the device I/O thread's asyncio loop. Fast points every
``fast_period_s``, slow points every ``slow_period_s``, identity once; all due
points of a cycle go in the fewest reads. A failure is counted and reported,
then retried with exponential backoff; the poller never stops by itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from .device import Device
from .errors import PVDeskError
from .sample import Sample

SampleCallback = Callable[[Sample], None]
ErrorCallback = Callable[[PVDeskError, int], None]


class Poller:
    """Periodic reads of one device."""

    def __init__(self, device: Device, on_sample: SampleCallback, on_error: ErrorCallback | None = None,
                 fast_period_s: float = 1.0, slow_period_s: float = 10.0, max_backoff_s: float = 10.0) -> None:
        self.device = device
        self.on_sample = on_sample
        self.on_error = on_error
        self.fast_period_s = fast_period_s
        self.slow_period_s = slow_period_s
        self.max_backoff_s = max_backoff_s
        self.failures = 0
        self.consecutive_failures = 0
        self.cycles = 0
        self._task: asyncio.Task | None = None
        self._stopping = False
        self._last_slow = -1e9
        self._once_done = False
        profile = device.profile
        self._fast = profile.points_by_rate("fast")
        self._slow = profile.points_by_rate("slow")
        self._once = profile.points_by_rate("once")

    def due_points(self, now: float) -> list:
        pts = list(self._fast)
        if now - self._last_slow >= self.slow_period_s:
            pts += self._slow
        if not self._once_done:
            pts += self._once
        return pts

    async def cycle(self) -> Sample:
        """One poll cycle: read what is due and emit the Sample."""
        now = time.monotonic()
        pts = self.due_points(now)
        sample = await self.device.read(pts)
        if any(p in pts for p in self._slow):
            self._last_slow = now
        self._once_done = True
        self.cycles += 1
        self.consecutive_failures = 0
        self.on_sample(sample)
        return sample

    async def run(self) -> None:
        """Poll until cancelled."""
        next_t = time.monotonic()
        while not self._stopping:
            try:
                await self.cycle()
                next_t += self.fast_period_s
                delay = next_t - time.monotonic()
                if delay < 0:
                    next_t = time.monotonic()
                    delay = 0
            except PVDeskError as exc:
                self.failures += 1
                self.consecutive_failures += 1
                if self.on_error:
                    self.on_error(exc, self.consecutive_failures)
                delay = min(self.max_backoff_s, 0.5 * 2 ** min(self.consecutive_failures - 1, 5))
                next_t = time.monotonic() + delay
            await asyncio.sleep(delay)

    def start(self) -> asyncio.Task:
        self._stopping = False
        self._task = asyncio.ensure_future(self.run())
        return self._task

    async def stop(self) -> None:
        """Cancel the polling task and wait until it has ended.

        One cancel is not always enough on Python 3.11: ``asyncio.wait_for`` returns its inner
        result and drops a cancellation that arrives just as the inner request completes (CPython
        gh-86296, fixed in 3.12), and the links wrap every request in it. The flag ends the loop at
        its next turn and the cancel is repeated until the task is done, so a disconnect never
        waits on a poller that missed its cancel.
        """
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=0.5)
        if not task.cancelled():
            task.exception()   # retrieved, so asyncio does not log it as never retrieved
