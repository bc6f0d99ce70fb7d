"""Read planning is minimal and respects the limits; the device API decodes what the simulator holds.

Behaviour only: the simulator encodes from the profile the reader decodes, so
these tests cannot show that a register map is right; tests/corpus/test_golden.py
does, on real devices' captures.
"""

import pytest

from protocols import codecs
from protocols.device import Device, WriteRefused
from protocols.links.pymodbus_link import serial_link, tcp_link
from protocols.profiles import loader
from protocols.profiles.model import Point
from protocols.reader import plan_reads
from protocols.session import Session


def _pt(name, address, type_="u16", function="input", count=None):
    return Point(name=name, address=address, type=type_, function=function, count=count)


def test_plan_packs_under_the_cap_and_around_unreadable():
    points = [_pt(f"p{i}", i * 10) for i in range(40)]  # 0..390, one register each
    blocks = plan_reads(points, max_registers=125)
    assert [b.address for b in blocks] == [0, 130, 260, 390]
    assert all(b.count <= 125 for b in blocks)
    assert sum(len(b.points) for b in blocks) == 40
    blocks = plan_reads(points, max_registers=125, unreadable=[(41, 49)])
    assert all(not (b.address <= 49 and b.end - 1 >= 41) for b in blocks)
    assert [b.address for b in blocks][:2] == [0, 50]


def test_plan_separates_functions_and_respects_max_gap():
    points = [_pt("a", 0), _pt("b", 100), _pt("c", 0, function="holding")]
    assert len(plan_reads(points)) == 2
    assert len(plan_reads(points, max_gap=50)) == 3


def test_reference_profile_reads_in_minimum(sim, run):
    profile = loader.load("pvdesk-hybrid")

    async def go():
        s = Session(tcp_link(*sim.tcp_address))
        await s.open()
        sample = await Device(s, profile).read()
        await s.close()
        return sample
    sample = run(go())
    expected = len(plan_reads(profile.points, 125, profile.unreadable))
    assert sample.reads == expected == 5
    assert sample.values["model_name"] == "PVD-H8K"
    assert sample.values["ambient_temperature_c"] is codecs.NOT_IMPLEMENTED
    dev = sim.device(1)
    for name in ("battery_soc_pct", "rated_power_w", "export_limit_w"):
        assert sample.values[name] == pytest.approx(dev.value_of(name), abs=1)


def test_refused_point_is_learned_and_planned_around(sim, run):
    data = {"profile": {"name": "probe", "title": "Probe", "vendor": "t"},
            "points": [{"name": "pv_power_w", "address": 16, "type": "u32", "function": "input"},
                       {"name": "bogus", "address": 150, "type": "u16", "function": "input"},
                       {"name": "temp", "address": 130, "type": "s16", "function": "input", "scale": 0.1}]}
    profile = loader.from_dict(data, "probe.toml")

    async def go():
        s = Session(tcp_link(*sim.tcp_address))
        await s.open()
        dev = Device(s, profile)
        first = await dev.read()
        before = sim.dispatcher.requests
        second = await dev.read()
        return first, second, sim.dispatcher.requests - before
    first, second, sent = run(go())
    assert first.values["bogus"] is codecs.NOT_IMPLEMENTED
    assert isinstance(first.values["temp"], float)
    # The simulator implements input banks 0..117 and 130..132 only: 16..131 is refused (02) and split
    # into 16..17 and 130; the refused 150 and 16..131 are not asked again.
    assert second.reads == 2 and sent == 2


def test_physics_are_consistent_over_rtu(sim, run):
    async def go():
        s = Session(serial_link(sim.rtu_path, baud=115200))
        await s.open()
        return await Device(s, loader.load("pvdesk-hybrid")).read()
    v = run(go()).values
    ac, pv, batt, load, grid = (v[k] for k in ("inverter_power_w", "pv_power_w", "battery_power_w",
                                                "load_power_w", "grid_power_w"))
    assert pv > 500, "the demo clock is set to late morning"
    assert abs(grid - (load - ac)) <= max(0.05 * load, 3)
    losses = pv + batt - ac
    assert 0 <= losses <= 0.06 * (pv + max(batt, 0)) + 20


def test_write_is_validated_and_read_back(sim, run):
    async def go():
        s = Session(tcp_link(*sim.tcp_address))
        await s.open()
        dev = Device(s, loader.load("pvdesk-hybrid"))
        back = await dev.write_point("battery_min_soc_pct", 25)
        grid_code = await dev.write_point("grid_code", "GB G98/G99")
        with pytest.raises(WriteRefused, match="outside 5..50"):
            await dev.write_point("battery_min_soc_pct", 80)
        with pytest.raises(WriteRefused, match="read-only"):
            await dev.write_point("pv_power_w", 1)
        sim.call(sim.device(1).readback_skew.__setitem__, "ct_ratio", 1)
        with pytest.raises(WriteRefused, match="read-back mismatch"):
            await dev.write_point("ct_ratio", 200)
        return back, grid_code
    back, grid_code = run(go())
    assert back == 25 and grid_code == 3
    assert sim.device(1).value_of("battery_min_soc_pct") == 25


def test_alarms_and_history_decode_with_raw_codes(sim, run):
    async def go():
        s = Session(tcp_link(*sim.tcp_address))
        await s.open()
        dev = Device(s, loader.load("pvdesk-hybrid"))
        sim.inject_fault(204)
        sim.inject_fault(101)
        return await dev.alarms(), await dev.fault_history()
    active, history = run(go())
    codes = {a.code: a for a in active}
    assert set(codes) == {101, 204}
    assert codes[204].text == "Battery over temperature" and codes[204].source == "alarm_word_2 bit 3"
    assert [h.code for h in history[:2]] == [101, 204]
    assert history[0].time_s > history[-1].time_s
