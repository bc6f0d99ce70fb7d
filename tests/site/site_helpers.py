"""Shared by the site tests: a simulator whose plant stands still, and a bounded wait off the GUI thread."""

from __future__ import annotations

import time


def frozen(sim):
    """Stop ``sim``'s clock where it is, so every unit's values hold still while a test compares them."""
    def go():
        now = sim.clock()
        sim.clock.start_s, sim.clock.offset_s, sim.clock.speed = now, 0.0, 0.0
        for dev in sim.devices.values():
            dev.update_now()
    sim.call(go)
    return sim


def wait(cond, timeout_s: float = 20.0, what=lambda: "") -> None:
    """Until ``cond()`` holds; after ``timeout_s`` an AssertionError with ``what()``."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out; last: {what()}")
