"""The dashboard, fault page and raw registers over Bluetooth LE (two MTUs) and a V5 logger.

Each test reads the same frozen simulator over the wireless link and over
Modbus TCP, and compares: the wireless links must deliver exactly what the
device holds.
"""

from __future__ import annotations

import pytest
from wireless_helpers import link_of, session, tcp_session

from protocols.device import Device
from protocols.reader import plan_reads

KINDS = ["ble-247", "ble-23", "v5"]


@pytest.mark.timeout(20)
@pytest.mark.parametrize("kind", KINDS)
def test_snapshot_matches_the_device(kind, wsim, profile, arun):
    async def go():
        ref = tcp_session(wsim)
        await ref.open()
        expected = await Device(ref, profile).read()
        await ref.close()
        s = session(link_of(kind, wsim))
        await s.open()
        try:
            sample = await Device(s, profile).read()
        finally:
            await s.close()
        return expected, sample, s
    expected, sample, s = arun(go())
    assert sample.values == expected.values
    assert sample.flags == expected.flags
    assert sample.reads == len(plan_reads(profile.points, profile.max_read_registers, profile.unreadable))
    assert s.stats.failures == 0 and s.stats.retries == 0
    # And against the simulator's own state, for the values an installer looks at first.
    dev = wsim.device(1)
    assert sample.values["pv_power_w"] == pytest.approx(dev.values["pv_power_w"], abs=1)
    assert sample.values["battery_soc_pct"] == pytest.approx(dev.values["battery_soc_pct"], abs=0.1)
    assert sample.values["model_name"] == "PVD-H8K"


@pytest.mark.timeout(20)
@pytest.mark.parametrize("kind", KINDS)
def test_fault_page_and_raw_registers(kind, wsim, profile, arun):
    wsim.inject_fault(101)
    holding = wsim.call(wsim.device(1).read, "holding", 0, 40)

    async def go():
        s = session(link_of(kind, wsim))
        await s.open()
        try:
            d = Device(s, profile)
            return await d.alarms(), await d.fault_history(), await d.read_raw("holding", 0, 40), \
                await d.firmware()
        finally:
            await s.close()
    alarms, history, raw, firmware = arun(go())
    assert 101 in [a.code for a in alarms]
    assert profile.fault_codes[101].text in [a.text for a in alarms if a.code == 101]
    assert history and history[0].code == 101
    assert raw == holding
    assert firmware and all(c["version"] for c in firmware)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("kind", KINDS)
def test_settings_write_and_read_back(kind, wsim, profile, arun):
    async def go():
        s = session(link_of(kind, wsim))
        await s.open()
        try:
            return await Device(s, profile).write_point("export_limit_w", 3200)
        finally:
            await s.close()
    assert arun(go()) == 3200
    assert wsim.call(wsim.device(1).value_of, "export_limit_w") == 3200
