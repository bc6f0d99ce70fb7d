"""The per-phase CT check: each clamp judged on its own; reversed and misplaced clamps named."""

from __future__ import annotations

import random

from protocols.profiles import loader

from desktop.commission.ct_check import CtResult, judge_phases
from desktop.commission.ct_phases import analyse_phases, phase_points, step_phases


def samples(meter_of, n=12, seed=3):
    """Per-phase samples of a house: loads and inverter output per phase vary; ``meter_of`` maps the
    true per-phase grid powers to what the three clamps read."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        load = [rnd.uniform(600, 2500), rnd.uniform(200, 1800), rnd.uniform(900, 3000)]
        inv = [rnd.uniform(0, 400)] * 3
        grid = [lo - iv for lo, iv in zip(load, inv)]
        out.append({"meter": meter_of(grid), "load": load, "inverter": inv})
    return out


def status(verdicts):
    return [v["status"] for v in verdicts]


def test_right_clamps_pass_on_every_phase():
    v = analyse_phases(samples(lambda g: list(g)))
    assert status(v) == ["ok", "ok", "ok"]
    assert all(abs(x["gain"] - 1) < 0.01 for x in v)


def test_a_reversed_clamp_is_named():
    v = analyse_phases(samples(lambda g: [g[0], -g[1], g[2]]))
    assert status(v) == ["ok", "reversed", "ok"]
    assert "turn the L2 clamp round" in v[1]["summary"]


def test_swapped_clamps_are_on_the_wrong_phase():
    v = analyse_phases(samples(lambda g: [g[0], g[2], g[1]]))   # L2 and L3 clamps exchanged
    assert status(v) == ["ok", "wrong_phase", "wrong_phase"]
    assert v[1]["measures"] == "L3" and v[2]["measures"] == "L2"
    v = analyse_phases(samples(lambda g: [g[0], g[1], -g[0]]))  # L3 clamp on L1, reversed too
    assert v[2]["status"] == "wrong_phase" and v[2]["measures"] == "L1" and "reversed" in v[2]["summary"]


def test_a_phase_without_flow_is_inconclusive_not_passed():
    rows = samples(lambda g: list(g))
    for r in rows:
        r["load"][2], r["inverter"][2] = 20.0, 0.0
        r["meter"][2] = 20.0
    assert status(analyse_phases(rows)) == ["ok", "ok", "inconclusive"]


def test_the_step_finds_the_phase_a_single_phase_inverter_feeds():
    before = [{"meter": [1500.0, 300.0, 800.0], "load": [None] * 3, "inverter": [2000.0, 0.0, 0.0]}] * 4
    # output on L1 lowered by 1000 W; the clamp labelled L2 sees it: the L1 and L2 clamps are exchanged
    after = [{"meter": [1500.0, 1300.0, 800.0], "load": [None] * 3, "inverter": [1000.0, 0.0, 0.0]}] * 4
    v = step_phases(before, after)
    assert v[1]["status"] == "wrong_phase" and v[1]["measures"] == "L1"
    assert v[0]["status"] == "mismatch"


def test_the_verdict_names_the_clamp_even_when_the_total_balances():
    res = CtResult("ok", "CT direction correct.", "Nothing to change", 1.0, 1.0, 10, 10, 500.0, 500.0)
    judge_phases(res, analyse_phases(samples(lambda g: [g[0], -g[1], g[2]])))
    assert res.status == "reversed" and "L2" in res.advice and "turn the L2 clamp round" in res.summary


def test_profiles_with_three_phase_meter_power_get_the_check():
    assert phase_points(loader.load("goodwe-et"))["inverter"] == ["inverter_l1_power_w", "inverter_l2_power_w",
                                                                   "inverter_l3_power_w"]
    assert phase_points(loader.load("deye-hybrid-3p"))["load"] == ["load_l1_power_w", "load_l2_power_w",
                                                                   "load_l3_power_w"]
    assert phase_points(loader.load("huawei-sun2000"))["meter"][2] == "meter_l3_power_w"
    assert phase_points(loader.load("pvdesk-hybrid")) is None


def test_run_ct_check_on_a_three_phase_profile_names_the_reversed_clamp():
    """End to end through run_ct_check: the GoodWe ET profile's own per-phase points are sampled, each
    clamp is judged, and the verdict and advice name L2 although the three-phase total looks plausible."""
    import asyncio
    import itertools

    from desktop.commission.ct_check import run_ct_check

    profile = loader.load("goodwe-et")
    phases = phase_points(profile)
    assert phases is not None
    house = itertools.cycle(samples(lambda g: [g[0], -g[1], g[2]], n=40))

    class ThreePhaseHouse:
        """Answers read_names as the Device does, in PVDesk's conventions (grid + import)."""

        def __init__(self):
            self.profile = profile
            self.asked: set[str] = set()

        async def read_names(self, names):
            self.asked |= set(names)
            s = next(house)
            v = {name: None for name in names}
            for kind in ("meter", "load", "inverter"):
                for name, watts in zip(phases[kind], s[kind]):
                    if name:
                        v[name] = watts
            for canonical, watts in (("grid_power_w", sum(s["meter"])), ("load_power_w", sum(s["load"])),
                                     ("inverter_power_w", sum(s["inverter"]))):
                if profile.resolve(canonical):
                    v[profile.resolve(canonical)] = watts
            return v

    device = ThreePhaseHouse()
    result = asyncio.run(run_ct_check(device, duration_s=0.3, period_s=0.01))
    assert set(phases["meter"]) <= device.asked and set(phases["load"]) <= device.asked
    assert [v["status"] for v in result.phases] == ["ok", "reversed", "ok"]
    assert result.status in ("reversed", "mismatch") and not result.passed
    assert result.advice.startswith("L2: ") and "turn the L2 clamp round" in result.advice
