"""Batch upgrades: unit ids on one bus one at a time, separate TCP devices side by side, a summary."""
from __future__ import annotations

import pytest
from fw_helpers import FAST, make_package, run, start_sim

from protocols.device import Device
from protocols.firmware.batch import upgrade_many
from protocols.links.pymodbus_link import tcp_link
from protocols.profiles.loader import load
from protocols.session import Session

pytestmark = pytest.mark.timeout(40)


def test_batch_over_one_bus_and_a_second_device(tmp_path):
    bus = start_sim(units=(1, 2, 3))
    other = start_sim(units=(7,))
    bus.inject_fault(120, unit=2)  # unit 2 is faulted: refused, the others go on
    events = []
    try:
        async def go():
            profile = load("pvdesk-hybrid")
            s1 = Session(tcp_link(*bus.tcp_address), timeout_s=0.3, retries=1, backoff_s=0.05)
            s2 = Session(tcp_link(*other.tcp_address), timeout_s=0.3, retries=1, backoff_s=0.05)
            await s1.open()
            await s2.open()
            devices = [Device(s1, profile, 1), Device(s1, profile, 2), Device(s1, profile, 3), Device(s2, profile, 7)]
            def progress(e):
                events.append(e["unit"])
            summary = await upgrade_many(devices, make_package(), options=FAST, progress=progress, log_dir=tmp_path)
            return summary
        summary = run(go(), timeout_s=35)
    finally:
        bus.stop()
        other.stop()
    outcomes = [r.outcome for _, r in summary.results]
    assert outcomes == ["upgraded", "refused", "upgraded", "upgraded"]
    assert not summary.ok and len(summary.succeeded) == 3 and len(summary.not_succeeded) == 1
    assert "unit 2" in summary.not_succeeded[0]
    text = summary.text()
    assert text.startswith("3 of 4 devices upgraded") and "refused" in text and "fault 120" in text
    for unit in (1, 3):
        assert bus.device(unit).bootloader.last_result.name == "CONFIRMED"
    assert bus.device(2).bootloader.writes == 0
    # One at a time on the bus: unit 1 ended before unit 2 began, unit 2 before unit 3.
    firsts = {u: events.index(u) for u in (1, 2, 3, 7)}
    lasts = {u: len(events) - 1 - events[::-1].index(u) for u in (1, 2, 3, 7)}
    assert lasts[1] < firsts[2] <= lasts[2] < firsts[3]
    # The other TCP device is upgraded at the same time as the bus, not after it.
    assert firsts[7] < lasts[1]
    logs = sorted(p.name for p in tmp_path.glob("*.jsonl"))
    assert logs == ["unit001-0.jsonl", "unit002-1.jsonl", "unit003-2.jsonl", "unit007-3.jsonl"]
