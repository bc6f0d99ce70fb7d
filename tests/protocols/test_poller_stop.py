"""The poller stops even when a cancellation is lost inside a request.

On Python 3.11 ``asyncio.wait_for`` returns its inner result and drops a
cancellation that arrives as the inner request completes (CPython gh-86296);
the links wrap every request in it. A disconnect that cancelled the poller
once then waited for ever (the diagnostics fixture's disconnect timed out on
CI). The device here drops the first cancellation the same way, at a moment
the test chooses, so the race is hit every run.
"""

from __future__ import annotations

import asyncio
import time

from protocols.poller import Poller
from protocols.sample import Sample


class _Profile:
    def points_by_rate(self, rate: str) -> list:
        return []


class _DroppingDevice:
    """A device whose read swallows the first cancellation, as wait_for does on 3.11."""

    profile = _Profile()

    def __init__(self) -> None:
        self.reading = asyncio.Event()
        self.reads = 0
        self.dropped = 0

    async def read(self, points: list) -> Sample:
        self.reads += 1
        self.reading.set()
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            if self.dropped:
                raise
            self.dropped += 1     # the request "completed" as the cancel arrived: the result wins
        return Sample(time.time(), {})


def test_stop_ends_a_poller_whose_first_cancel_was_lost():
    async def scenario() -> tuple[int, int, int, bool]:
        device = _DroppingDevice()
        samples: list[Sample] = []
        poller = Poller(device, samples.append, fast_period_s=0.0)   # type: ignore[arg-type]
        task = poller.start()
        await device.reading.wait()
        stopping = asyncio.ensure_future(poller.stop())
        await asyncio.wait({stopping}, timeout=3.0)   # not wait_for: its own cancel would end the loop
        stopped = stopping.done()
        task.cancel()                 # clean-up for the failing case; a no-op when stop worked
        await asyncio.gather(stopping, task, return_exceptions=True)
        reads_at_stop = device.reads
        await asyncio.sleep(0.2)
        return device.dropped, reads_at_stop, device.reads, stopped

    dropped, reads_at_stop, reads_after, stopped = asyncio.run(scenario())
    assert dropped == 1            # the race really happened
    assert stopped                 # and stop still ended the task by itself
    assert reads_after == reads_at_stop   # nothing polls after stop returned


def test_stop_twice_and_before_start_are_harmless():
    async def scenario() -> int:
        device = _DroppingDevice()
        poller = Poller(device, lambda s: None, fast_period_s=0.01)   # type: ignore[arg-type]
        await asyncio.wait_for(poller.stop(), 3.0)
        poller.start()
        await device.reading.wait()
        await asyncio.wait_for(poller.stop(), 3.0)
        await asyncio.wait_for(poller.stop(), 3.0)
        poller.start()               # a poller can start again after a stop (polling_paused does)
        device.reading.clear()
        await asyncio.wait_for(device.reading.wait(), 2.0)
        await asyncio.wait_for(poller.stop(), 3.0)
        return device.reads

    assert asyncio.run(scenario()) >= 2
