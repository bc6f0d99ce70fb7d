"""The GoodWe and SOFAR profiles served by the simulator: recognised by their identity rules, decoded plausibly.

These tests prove BEHAVIOUR, NOT THE REGISTER MAP: the simulator encodes every
register from the very profile the reader decodes, so an address, scale, type
or sign that is wrong in the profile is wrong on both sides and passes here.
What they do prove: identity rules select the profile, sign conventions and
scaled settings round-trip through the write path, alarm bits and fault words
map to the profile's tables. The register maps themselves are proven on real
devices' captures in tests/corpus/test_golden.py (see docs/corpus.md).
"""

from __future__ import annotations

import pytest

from protocols import codecs
from protocols.detect import detect
from protocols.device import Device

IDENTITY = {
    "goodwe-et": {"model_name": "GW10K-ET", "serial_number": "9010KETU229W0123"},
    "sofar-hyd-g3": {"serial_number": "SP1ES120N4A123"},
}
# point -> (plant value key, tolerance: the register's resolution)
CHECKS = {
    "goodwe-et": {"pv1_voltage_v": 0.05, "pv1_current_a": 0.05, "pv1_power_w": 0.5, "pv_power_w": 0.5,
                  "inverter_power_w": 0.5, "ac_frequency_hz": 0.005, "battery_voltage_v": 0.05,
                  "battery_current_a": 0.05, "battery_power_w": 0.5, "battery_soc_pct": 0.5,
                  "grid_power_w": 0.5, "load_power_w": 0.5, "inverter_temperature_c": 0.05},
    "sofar-hyd-g3": {"pv1_voltage_v": 0.05, "pv1_current_a": 0.005, "pv1_power_w": 5, "pv_power_w": 50,
                     "inverter_power_w": 5, "ac_frequency_hz": 0.005, "battery_voltage_v": 0.05,
                     "battery_current_a": 0.005, "battery_power_w": 5, "battery_soc_pct": 0.5,
                     "grid_power_w": 5, "load_power_w": 5, "inverter_temperature_c": 0.5},
}


@pytest.mark.parametrize("name", ["goodwe-et", "sofar-hyd-g3"])
def test_vendor_profile_detected_and_decoded(name, profile_sim, session_to, run):
    sim = profile_sim(name, IDENTITY[name])
    # a house that imports: the grid sign convention is visible
    sim.call(lambda: (setattr(sim.device(1).plant, "load_override_w", 6500.0), sim.device(1).update_now()))
    plant = sim.call(lambda: dict(sim.device(1).plant.values))

    async def go():
        s = await session_to(sim)
        try:
            prof = await detect(s, 1)
            dev = Device(s, prof)
            sample = await dev.read()
            fw = await dev.firmware()
            ident = await dev.identity()
            raw_grid = await dev.read_raw("holding", prof.point("grid_power_w").address, 1)
            return prof, sample, fw, ident, raw_grid
        finally:
            await s.close()
    prof, sample, fw, ident, raw_grid = run(go())
    assert prof.name == name
    v = sample.values
    for point, tol in CHECKS[name].items():
        assert v[point] == pytest.approx(plant[point], abs=tol), point
    assert plant["grid_power_w"] > 1000 and v["grid_power_w"] > 1000  # importing, + = import
    # the device itself counts export positive: the raw register holds the negative number
    assert codecs.decode_raw(raw_grid, "s16") < 0
    assert not sample.flags, sample.flags
    assert ident["serial_number"] == IDENTITY[name]["serial_number"]
    assert [c["component"] for c in fw] == [c.component for c in prof.firmware]
    assert fw[0]["serial"] == IDENTITY[name]["serial_number"]


def test_goodwe_alarm_bits_and_settings(profile_sim, session_to, run):
    sim = profile_sim("goodwe-et", IDENTITY["goodwe-et"])
    sim.inject_fault(1013)  # error bit 13: over temperature

    async def go():
        s = await session_to(sim)
        try:
            dev = Device(s, await detect(s, 1))
            alarms = await dev.alarms()
            back = await dev.write_point("export_limit_w", 4600)
            mode = await dev.write_point("work_mode", "Eco")
            return alarms, back, mode
        finally:
            await s.close()
    alarms, back, mode = run(go())
    assert [(a.code, a.text) for a in alarms] == [(1013, "Over temperature")]
    assert back == 4600 and mode == 3
    assert ("export_limit_w", 4600) in [(n, v) for _, n, v in sim.device(1).write_log]


def test_sofar_fault_word_and_scaled_setting(profile_sim, session_to, run):
    sim = profile_sim("sofar-hyd-g3", IDENTITY["sofar-hyd-g3"])
    sim.inject_fault(42)  # ID042 low insulation impedance: fault word 3, bit 9

    async def go():
        s = await session_to(sim)
        try:
            dev = Device(s, await detect(s, 1))
            alarms = await dev.alarms()
            back = await dev.write_point("export_limit_w", 3700)
            raw = await dev.read_raw("holding", dev.profile.point("export_limit_w").address, 1)
            return alarms, back, raw
        finally:
            await s.close()
    alarms, back, raw = run(go())
    assert [(a.code, a.severity) for a in alarms] == [(42, "critical")]
    assert "fault_word_3 bit 9" in alarms[0].source
    assert back == 3700 and raw == [37]  # the register counts 100 W steps


def test_reference_device_is_not_taken_for_a_vendor_one(profile_sim, session_to, run):
    sim = profile_sim("pvdesk-hybrid")

    async def go():
        s = await session_to(sim)
        try:
            return (await detect(s, 1)).name
        finally:
            await s.close()
    assert run(go()) == "pvdesk-hybrid"
