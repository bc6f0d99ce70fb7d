"""The cable pulled at every stage of an upgrade: it ends upgraded or on the old image, never bricked.

Over loopback TCP (drop_link closes the connection and refuses new ones for a
while) and over a real pseudo-terminal with RTU (the device goes silent).
"""
from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest
from fw_helpers import FAST, IMAGE_BYTES, make_package, open_device, run, start_sim

from protocols.errors import LinkError
from protocols.firmware.registers import State
from protocols.firmware.upgrade import Upgrader

pytestmark = pytest.mark.timeout(30)
LAST_CHUNK_AT = IMAGE_BYTES - 240


def accepted(sim, unit=1):
    return [(o, n) for o, n, s in sim.device(unit).bootloader.chunk_log if s == "ok"]


def stale(sim, unit=1):
    return [o for o, _, s in sim.device(unit).bootloader.chunk_log if s == "OFFSET_MISMATCH"]


async def upgrade_with(sim, trigger, options=FAST, rtu=False, pkg=None):
    device = await open_device(sim, rtu=rtu)
    result = await Upgrader(device, pkg or make_package(), options=options, progress=trigger).run()
    versions = await reachable_versions(device)
    await device.session.close()
    return result, versions


async def reachable_versions(device, wait_s: float = 4.0):
    """The firmware table once the link is back: the device must answer (never bricked)."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return await device.firmware()
        except LinkError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


def once(predicate, action):
    def trigger(e):
        if not trigger.fired and predicate(e):
            trigger.fired = True
            action()
    trigger.fired = False
    return trigger


@pytest.mark.parametrize("where, predicate", [
    ("start", lambda e: e["phase"] == "upload" and e["message"].startswith("uploading ")),
    ("middle", lambda e: e["phase"] == "upload" and e["bytes_done"] >= IMAGE_BYTES // 2),
    ("last chunk", lambda e: e["phase"] == "upload" and e["bytes_done"] >= LAST_CHUNK_AT),
    ("verification", lambda e: e["phase"] == "verify"),
    ("activation", lambda e: e["phase"] == "activate"),
    ("reboot", lambda e: e["phase"] == "reboot"),
])
def test_link_dropped_during_the_upgrade(sim, where, predicate):
    trigger = once(predicate, lambda: sim.drop_link(0.5))
    result, versions = run(upgrade_with(sim, trigger))
    assert trigger.fired, where
    assert result.outcome == "upgraded", (where, result.message)
    assert versions[0]["version"] == "1.05.00"
    # Every byte was accepted exactly once, in order; at most the chunk in flight was offered twice.
    got = accepted(sim)
    assert sum(n for _, n in got) == IMAGE_BYTES and [o for o, _ in got] == list(range(0, IMAGE_BYTES, 240))
    assert len(stale(sim)) <= 1
    assert result.bytes_sent <= IMAGE_BYTES + 240
    assert any(e["event"] == "link" or e["event"] == "activate unanswered" for e in result.log), where


def test_upgrade_resumes_in_a_second_run_without_resending(sim):
    """The link stays down longer than the upgrade waits: the run fails, the old image runs; the next
    run starts from the offset the device holds."""
    short = dataclasses.replace(FAST, link_wait_s=0.3)
    trigger = once(lambda e: e["bytes_done"] >= IMAGE_BYTES // 2, lambda: sim.drop_link(1.2))
    first, versions = run(upgrade_with(sim, trigger, options=short))
    assert first.outcome == "failed" and "unreachable" in first.message
    assert versions[0]["version"] == "1.04.02"  # reachable, old image
    held = sim.device(1).bootloader.chunk_log[-1]
    held_bytes = sum(n for _, n in accepted(sim))
    assert IMAGE_BYTES // 2 <= held_bytes < IMAGE_BYTES and sim.device(1).bootloader.state == State.RECEIVING
    second, versions = run(upgrade_with(sim, None))
    assert second.outcome == "upgraded" and versions[0]["version"] == "1.05.00"
    resume = [e for e in second.log if e["event"] == "resume"]
    assert resume and resume[0]["offset"] == held_bytes
    assert second.bytes_sent == IMAGE_BYTES - held_bytes
    assert sum(n for _, n in accepted(sim)) == IMAGE_BYTES and held[2] == "ok"


def test_answer_to_activate_lost_is_not_a_failure(sim):
    trigger = once(lambda e: e["phase"] == "activate", lambda: sim.corrupt("silent", 1))
    result, versions = run(upgrade_with(sim, trigger))
    assert result.outcome == "upgraded" and versions[0]["version"] == "1.05.00"
    bl = sim.device(1).bootloader
    # The session sent ACTIVATE again after the lost answer; the device activated once.
    assert bl.command_log.count("ACTIVATE") == 2 and bl.activations == 1


def test_rtu_link_dropped_mid_upload_resumes():
    sim = start_sim(tcp=False, rtu=True)
    try:
        pkg = make_package()
        small = make_package(pkg.image[:9600])
        trigger = once(lambda e: e["bytes_done"] >= 4800, lambda: sim.drop_link(0.7))
        result, versions = run(upgrade_with(sim, trigger, rtu=True, pkg=small))
        assert result.outcome == "upgraded", result.message
        assert versions[0]["version"] == "1.05.00"
        got = accepted(sim)
        assert sum(n for _, n in got) == 9600 and [o for o, _ in got] == list(range(0, 9600, 240))
        assert any(e["event"] == "link" for e in result.log)
    finally:
        sim.stop()
