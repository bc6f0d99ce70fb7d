"""The CT direction check (reversed CT injected into the simulator; wrong phase and noise from
recorded-style samples) and the device clock against the laptop."""

from __future__ import annotations

import random
import time

import pytest

from desktop.commission.clock import drift_text, laptop_tz_offset_min, offset_text, read_clock, set_clock
from desktop.commission.ct_check import CtSample, analyse, run_ct_check
from desktop.commission.params import ParamSession
from desktop.commission.storage import WriteHistory

FAST = dict(duration_s=0.8, period_s=0.15, settle_s=0.4)


def _check(sim, run, open_device, tmp_path, **kw):
    async def go():
        dev, s = await open_device(sim)
        try:
            return await run_ct_check(dev, session=ParamSession(dev, "inst-7", WriteHistory(tmp_path)), **FAST, **kw)
        finally:
            await s.close()
    return run(go())


def test_correct_ct_passes_and_reversed_ct_is_found(exporting, run, open_device, tmp_path):
    sim = exporting
    good = _check(sim, run, open_device, tmp_path)
    assert good.status == "ok" and good.passed, good.summary
    assert good.gain == pytest.approx(1.0, abs=0.05) and good.measured_grid_w < -1500   # exporting
    assert good.ct_direction_setting == "Normal" and good.samples >= 5
    sim.set_ct_reversed(True)
    bad = _check(sim, run, open_device, tmp_path)
    assert bad.status == "reversed" and not bad.passed
    assert bad.gain == pytest.approx(-1.0, abs=0.05) and bad.measured_grid_w > 1500
    assert "Turn the clamp round" in bad.advice and "CT direction = Reversed" in bad.advice
    # the software correction makes the reversed clamp read right
    sim.call(sim.device(1).write, 217, [1])
    fixed = _check(sim, run, open_device, tmp_path)
    assert fixed.status == "ok" and "software correction" in fixed.summary, (fixed.summary, fixed.gain)
    sim.set_ct_reversed(False)   # a correct clamp with the correction set: told to set it back
    wrong_fix = _check(sim, run, open_device, tmp_path)
    assert wrong_fix.status == "reversed" and "set CT direction = Normal" in wrong_fix.advice


def test_power_step_decides_when_the_battery_keeps_the_grid_at_zero(sim, run, open_device, tmp_path, set_plant):
    # self consumption: the battery soaks up the surplus, the meter reads about 0 W
    set_plant(sim, 1, pv_override_w=2200.0, load_override_w=1500.0)
    plain = _check(sim, run, open_device, tmp_path)
    assert plain.status == "inconclusive" and "battery is balancing" in plain.summary
    stepped = _check(sim, run, open_device, tmp_path, step=True)
    assert stepped.status == "ok", stepped.summary
    assert stepped.step["status"] == "done" and stepped.step["restored"]
    assert stepped.step["inverter_step_w"] < -500 and stepped.step["grid_step_w"] > 500
    assert sim.device(1).value_of("active_power_limit_pct") == 100     # the old limit is back
    sim.set_ct_reversed(True)
    rev = _check(sim, run, open_device, tmp_path, step=True)
    assert rev.status == "reversed" and rev.step["grid_step_w"] < -500 and "Turn the clamp round" in rev.advice
    writes = [e["point"] for e in WriteHistory(tmp_path).entries("PVD8K001A0042")]
    assert writes == ["active_power_limit_pct"] * 4    # lowered and restored, twice, all recorded


def test_power_step_is_skipped_when_the_inverter_produces_too_little(sim, run, open_device, tmp_path, set_plant):
    set_plant(sim, 1, pv_override_w=0.0, load_override_w=300.0, soc_pct=9.0)   # night, empty battery
    res = _check(sim, run, open_device, tmp_path, step=True)
    assert res.step["status"] == "skipped" and "needs at least 600 W" in res.step["reason"]
    assert res.status == "ok"   # the house imports its load: the balance alone tells
    assert sim.device(1).value_of("active_power_limit_pct") == 100


def _samples(gain, n=12, noise_w=40.0, seed=3):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        load = 600 + rng.uniform(-80, 80)
        inverter = 3800 + rng.uniform(-300, 300)
        grid = gain * (load - inverter) + rng.gauss(0, noise_w)
        out.append(CtSample(i * 0.5, grid, load, inverter))
    return out


def test_analysis_tells_wrong_phase_unclamped_and_survives_noise():
    assert analyse(_samples(1.0, noise_w=150.0)).status == "ok"
    noisy = _samples(-1.0, noise_w=150.0)
    noisy[3].grid_w = -noisy[3].grid_w    # one sample taken mid-change
    assert analyse(noisy).status == "reversed"
    third = analyse(_samples(0.33))      # one phase of three
    assert third.status == "mismatch" and "33 %" in third.summary and "wrong phase" in third.advice
    none = analyse(_samples(0.0))
    assert none.status == "mismatch" and "almost none" in none.summary and "clamped" in none.advice
    flipped_third = analyse(_samples(-0.33))
    assert flipped_third.status == "mismatch" and "Turn the clamp round" in flipped_third.advice
    assert analyse([CtSample(0, None, None, 100.0)]).status == "inconclusive"


def test_clock_drift_shown_and_set_from_the_laptop(sim, run, open_device, tmp_path):
    dev1 = sim.device(1)

    def drift_125_s_behind():
        dev1.clock_offset_s = time.time() - sim.clock() - 125.0
        dev1.update_now()
    sim.call(drift_125_s_behind)

    async def go():
        dev, s = await open_device(sim)
        before = await read_clock(dev)
        results, after = await set_clock(ParamSession(dev, "inst-7", WriteHistory(tmp_path)), tz_offset_min=120)
        await s.close()
        return before, results, after
    before, results, after = run(go())
    assert before.drift_s == pytest.approx(-125.5, abs=1.5)   # whole seconds in the register
    assert drift_text(before.drift_s) in ("2 min 5 s behind the laptop", "2 min 6 s behind the laptop")
    assert [r.name for r in results] == ["timezone_offset_min", "device_time_unix_s"]
    assert all(r.ok for r in results) and after.in_step is False    # 120 min is not this laptop's zone here
    assert abs(after.drift_s) <= 2 and sim.device(1).value_of("timezone_offset_min") == 120
    device_now = sim.call(lambda: sim.clock() + sim.device(1).clock_offset_s)
    assert device_now == pytest.approx(time.time(), abs=2)
    assert offset_text(120) == "UTC+02:00" and offset_text(-210) == "UTC-03:30"
    assert drift_text(3 * 3600 + 61) == "3 h 1 min ahead of the laptop" and drift_text(1.0) == "in step with the laptop"
    assert isinstance(laptop_tz_offset_min(), int)
