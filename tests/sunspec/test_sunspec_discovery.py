"""SunSpec discovery against the simulated SunSpec device over loopback TCP.

Behaviour only (discovery, scale factors, repeating groups): the simulated
device is laid out from the same pysunspec2 model definitions PVDesk decodes
with. Real SunSpec devices' captures are checked in tests/corpus/test_golden.py.
"""

from __future__ import annotations

import pytest

from protocols import codecs, sunspec
from protocols.detect import detect
from protocols.device import Device
from protocols.reader import plan_reads
from protocols.sim.sunspec_device import SCALE_FACTORS, layout


@pytest.mark.parametrize("base", [40000, 0, 50000])
def test_marker_found_at_each_base_and_chain_walked(base, sunspec_sim, session_to, run):
    sim = sunspec_sim(base)

    async def go():
        s = await session_to(sim)
        try:
            found, reader = await sunspec.find_base(s, 1)
            chain = await sunspec.walk(reader, found)
            profile = await sunspec.discover_profile(s, 1)
            return found, chain, profile
        finally:
            await s.close()
    found, chain, profile = run(go())
    assert found == base
    assert chain == layout(base)
    assert [m for m, _, _ in chain] == [1, 103, 160, 124, 203]
    assert chain[0][1] == base + 2 and chain[0][2] == 66  # the common model is 66 registers
    assert {m: n for m, _, n in chain}[160] == 8 + 2 * 20  # two MPPT modules
    assert profile.kind == "sunspec" and profile.extra["sunspec"]["base"] == base
    assert all(base <= p.address < base + 400 for p in profile.register_points)


def test_no_marker_means_no_sunspec_profile(sunspec_sim, session_to, run):
    from protocols.sim.simulator import Simulator
    plain = Simulator().start()  # the reference inverter: no 'SunS' anywhere
    try:
        async def go():
            s = await session_to(plain)
            try:
                return await sunspec.discover_profile(s, 1)
            finally:
                await s.close()
        assert run(go()) is None
    finally:
        plain.stop()


def test_marker_only_at_a_base_that_is_asked_for(sunspec_sim, session_to, run):
    sim = sunspec_sim(50000)

    async def go():
        s = await session_to(sim)
        try:
            return await sunspec.discover_profile(s, 1, bases=(40000, 0))
        finally:
            await s.close()
    assert run(go()) is None


def test_refused_bases_are_skipped(sunspec_sim, session_to, run):
    sim = sunspec_sim(50000)
    sim.exception_replies(2, count=2)  # 40000 and 0 answer "illegal data address"

    async def go():
        s = await session_to(sim)
        try:
            return (await sunspec.find_base(s, 1))[0]
        finally:
            await s.close()
    assert run(go()) == 50000


def test_values_match_the_physics_with_scale_factors(sunspec_sim, session_to, run):
    sim = sunspec_sim(40000)
    dev_sim = sim.device(1)
    plant = sim.call(lambda: dict(dev_sim.plant.values))

    async def go():
        s = await session_to(sim)
        try:
            profile = await sunspec.discover_profile(s, 1)
            sample = await Device(s, profile).read()
            return profile, sample
        finally:
            await s.close()
    profile, sample = run(go())
    v = sample.values
    for name, sf in SCALE_FACTORS.items():
        assert v[name] == sf, name
    close = {  # point: (plant value, resolution 10**sf)
        "m103_w": (plant["inverter_power_w"], 1), "m103_hz": (plant["ac_frequency_hz"], 0.01),
        "m103_phvpha": (plant["ac_voltage_v"], 0.1), "m103_dcw": (plant["pv_power_w"], 1),
        "m103_tmpcab": (plant["inverter_temperature_c"], 0.1),
        "m103_a": (abs(plant["inverter_power_w"]) / plant["ac_voltage_v"], 0.01),
        "m160_module1_dcv": (plant["pv1_voltage_v"], 0.1), "m160_module1_dca": (plant["pv1_current_a"], 0.01),
        "m160_module2_dcw": (plant["pv2_power_w"], 1), "m124_chastate": (plant["battery_soc_pct"], 0.1),
        "m124_inbatv": (plant["battery_voltage_v"], 0.1), "m203_w": (plant["grid_power_w"], 1),
        "m203_hz": (plant["meter_frequency_hz"], 0.01),
        "m203_totwhimp": (plant["import_energy_total_kwh"] * 1000, 1),
    }
    for name, (expected, res) in close.items():
        assert v[name] == pytest.approx(expected, abs=res / 2 + 1e-9), name
    assert plant["pv_power_w"] > 100  # late morning: there is sun to compare
    assert v["m1_mn"] == "PVDesk" and v["m1_sn"] == "PVS8K001B0007" and v["m160_module2_idstr"] == "PV2"
    assert v["m103_st"] == 4 and profile.point("m103_st").enum[4] == "MPPT"
    # aliases give the dashboard its canonical names
    canon = sunspec.alias_values(profile, v)
    assert canon["inverter_power_w"] == v["m103_w"] and canon["battery_soc_pct"] == v["m124_chastate"]
    assert canon["pv1_voltage_v"] == v["m160_module1_dcv"] and canon["grid_power_w"] == v["m203_w"]


def test_not_implemented_points_read_as_not_implemented(sunspec_sim, session_to, run):
    sim = sunspec_sim(40000)

    async def go():
        s = await session_to(sim)
        try:
            profile = await sunspec.discover_profile(s, 1)
            return (await Device(s, profile).read()).values
        finally:
            await s.close()
    v = run(go())
    for name in ("m103_tmptrns", "m103_stvnd", "m103_evtvnd1", "m124_vachamax",
                 "m124_outwrte", "m160_module1_tmp", "m203_totvahexp", "m203_vaphb"):
        assert v[name] is codecs.NOT_IMPLEMENTED, name
    assert str(v["m103_tmptrns"]) == "n/a"


def test_snapshot_takes_the_minimum_reads_and_alarms_decode(sunspec_sim, session_to, run):
    sim = sunspec_sim(40000)
    sim.inject_fault(103000 + 0)  # model 103 Evt1 bit 0: ground fault

    async def go():
        s = await session_to(sim)
        try:
            profile = await sunspec.discover_profile(s, 1)
            dev = Device(s, profile)
            first = await dev.read()  # served from the registers discovery read
            sample = await dev.read()
            return profile, first, sample, await dev.alarms(), await dev.firmware()
        finally:
            await s.close()
    profile, first, sample, alarms, fw = run(go())
    span = max(p.end for p in profile.register_points) - min(p.address for p in profile.register_points)
    assert first.reads == 0 and first.values == sample.values | {k: first.values[k] for k in ("m160_module1_tms",
                                                                                          "m160_module2_tms")}
    assert sample.reads == len(plan_reads(profile.register_points, 125)) == -(-span // 125) == 3
    assert [(a.code, a.text) for a in alarms] == [(103000, "Ground fault")]
    assert fw == [{"component": "device", "label": "Device (SunSpec common model)", "version": "2.3.1",
                   "hardware": None, "serial": "PVS8K001B0007"}]


def test_detect_picks_the_right_profile(sim, sunspec_sim, session_to, run):
    ss = sunspec_sim(40000)

    async def go(target):
        s = await session_to(target)
        try:
            return (await detect(s, 1)).name
        finally:
            await s.close()
    assert run(go(sim)) == "pvdesk-hybrid"
    assert run(go(ss)) == "sunspec"


def test_pysunspec2_reads_the_simulated_device_the_same_way(sunspec_sim):
    """An independent client (pysunspec2's own Modbus TCP scanner) sees the same models and values."""
    from sunspec2.modbus.client import SunSpecModbusClientDeviceTCP
    sim = sunspec_sim(40000)
    plant = sim.call(lambda: dict(sim.device(1).plant.values))
    host, port = sim.tcp_address
    d = SunSpecModbusClientDeviceTCP(slave_id=1, ipaddr=host, ipport=port, timeout=2)
    try:
        d.scan()
        assert [k for k in d.models if isinstance(k, int)] == [1, 103, 160, 124, 203]
        inv = d.models[103][0]
        assert inv.W.cvalue == round(plant["inverter_power_w"])
        assert inv.Hz.cvalue == pytest.approx(plant["ac_frequency_hz"], abs=0.006)
        assert inv.TmpTrns.value is None  # pysunspec2's "not implemented"
        mppt = d.models[160][0]
        assert len(mppt.module) == 2
        assert mppt.module[0].DCV.cvalue == pytest.approx(plant["pv1_voltage_v"], abs=0.06)
        assert d.models[124][0].ChaState.cvalue == pytest.approx(plant["battery_soc_pct"], abs=0.06)
        assert d.models[1][0].SN.value == "PVS8K001B0007"
    finally:
        d.close()


def test_detect_gets_past_a_device_that_is_silent_at_registers_it_lacks(sunspec_sim, run):
    """Many devices do not answer at all for registers they do not have; detection still finds SunSpec."""
    from protocols.links.pymodbus_link import tcp_link
    from protocols.session import Session
    sim = sunspec_sim(40000)
    answer = sim.dispatcher.answer

    def silent_outside_sunspec(req, gateway):
        if not 40000 <= req.address < 40400:
            return None
        return answer(req, gateway)
    sim.call(setattr, sim.dispatcher, "answer", silent_outside_sunspec)

    async def go():
        s = Session(tcp_link(*sim.tcp_address), timeout_s=0.2, retries=0)
        await s.open()
        try:
            return (await detect(s, 1)).name
        finally:
            await s.close()
    assert run(go()) == "sunspec"


def test_detect_on_a_silent_device_reports_the_timeout(sunspec_sim, run):
    from protocols.errors import ModbusTimeout
    from protocols.links.pymodbus_link import tcp_link
    from protocols.session import Session
    sim = sunspec_sim(40000)
    sim.mute(30.0)

    async def go():
        s = Session(tcp_link(*sim.tcp_address), timeout_s=0.2, retries=0)
        await s.open()
        try:
            return await detect(s, 1)
        finally:
            await s.close()
    with pytest.raises(ModbusTimeout):
        run(go())


def test_sunspec_settings_with_and_without_scale_factor_are_written_and_read_back(sunspec_sim, session_to, run):
    from protocols.device import WriteRefused
    sim = sunspec_sim(40000)

    async def go():
        s = await session_to(sim)
        try:
            dev = Device(s, await sunspec.discover_profile(s, 1))
            assert dev.profile.point("m124_chagriset").confirm
            back = await dev.write_point("m124_chagriset", "PV")
            with pytest.raises(WriteRefused):
                await dev.write_point("m124_chagriset", 7)
            with pytest.raises(WriteRefused, match="scale factor m124_wchamax_sf is not read yet"):
                await dev.write_point("m124_wchamax", 3000)  # never read: its scale is unknown
            await dev.read()
            watts = await dev.write_point("m124_wchamax", 3000)  # WChaMax_SF = 0 on the simulator
            soc = await dev.write_point("m124_minrsvpct", 15)
            with pytest.raises(WriteRefused, match="outside 0..100"):
                await dev.write_point("m124_minrsvpct", 150)
            return back, (await dev.read_names(["m124_chagriset"]))["m124_chagriset"], watts, soc
        finally:
            await s.close()
    assert run(go()) == (0, 0, 3000, 15)
    log = [(n, v) for _, n, v in sim.device(1).write_log]
    assert ("m124_chagriset", 0) in log and ("m124_wchamax", 3000) in log
