"""The automatic CT (current transformer) direction check.

Runs on the device I/O thread's asyncio loop (``run_ct_check``); ``analyse``
is pure and runs anywhere. No Qt.

Principle: at the grid connection, power balances. What the meter should
read is ``load - inverter AC`` (positive = import). On a hybrid inverter the
inverter's AC power already includes the battery, so the battery need not be
idle: it is accounted for. The check samples for several seconds, keeps the
samples where enough power flows to tell a sign (``MIN_FLOW_W``), takes the
median of measured / expected over them as the gain (robust against a
sample caught mid-change or a spike), and counts how many agree in sign. Gain near +1: the CT is right. Near -1: it is
reversed. Far from +-1 (or near 0): the magnitudes disagree -- the CT is on
another phase, not clamped round the conductor, the CT ratio is wrong, or
something else is connected between the CT and the inverter.

Many inverters compute the house load from the meter itself, which makes the
balance above circular (it always passes). The optional power step proves the
direction independently: the active-power limit is lowered for a few seconds,
so the inverter's output drops by a known amount; with the load unchanged the
meter must show more import by the same amount (a reversed CT shows more
export). The old limit is always restored; both writes go through the
ParamSession and land in the write history. The step needs the inverter to
produce at least ``STEP_MIN_W``; it is skipped otherwise and says so.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from protocols.device import Device

from . import ct_phases
from .params import ParamSession, plain

MIN_FLOW_W = 150.0        # smaller flows at the grid connection cannot be told from meter noise
GAIN_OK = (0.75, 1.33)    # |gain| inside this: the magnitudes agree
AGREE_SHARE = 0.66        # this share of samples must agree in sign (stale or mid-change ones may not)
STEP_MIN_W = 600.0        # the power step needs at least this much inverter output
STEP_LIMIT_POINT = "active_power_limit_pct"
REVERSED_ADVICE = ("Turn the clamp round (arrow towards the inverter/house, away from the grid) or set "
                   "CT direction = Reversed in the parameters")
MISMATCH_ADVICE = ("Check that the CT is clamped round one phase conductor of the grid supply (not the "
                   "neutral, not a cable after a sub-board), on the phase the inverter feeds, that the CT "
                   "ratio and meter type settings match the fitted CT, and that no other generator or "
                   "load is connected between the CT and the inverter")
POINTS = ("grid_power_w", "load_power_w", "inverter_power_w", "pv_power_w", "battery_power_w")


@dataclass
class CtSample:
    """One moment at the grid connection, watts (grid: + import)."""

    t_s: float
    grid_w: float | None
    load_w: float | None
    inverter_w: float | None
    pv_w: float | None = None
    battery_w: float | None = None
    phases: dict | None = None   # per-phase meter, load and inverter powers (ct_phases.sample_phases)

    @property
    def expected_grid_w(self) -> float | None:
        if self.load_w is None or self.inverter_w is None:
            return None
        return self.load_w - self.inverter_w


@dataclass
class CtResult:
    """The verdict, the evidence, and what to do."""

    status: str                  # "ok", "reversed", "mismatch", "inconclusive"
    summary: str
    advice: str
    gain: float | None
    agreement: float | None
    samples: int
    informative: int
    measured_grid_w: float | None
    expected_grid_w: float | None
    ct_direction_setting: str | None = None
    step: dict | None = None
    time_s: float = field(default_factory=time.time)
    phases: list | None = None   # one verdict per clamp where the meter reports L1-L3 (ct_phases)

    @property
    def passed(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict:
        return asdict(self)


def _num(v) -> float | None:
    v = plain(v)
    return float(v) if isinstance(v, (int, float)) else None


def analyse(samples: list[CtSample], *, min_flow_w: float = MIN_FLOW_W,
            software_reversed: bool = False) -> CtResult:
    """The verdict from balance samples (see the module docstring)."""
    pairs = [(s.grid_w, s.expected_grid_w) for s in samples
             if s.grid_w is not None and s.expected_grid_w is not None]
    useful = [(m, e) for m, e in pairs if abs(e) >= min_flow_w]
    med_m = statistics.median(m for m, _ in pairs) if pairs else None
    med_e = statistics.median(e for _, e in pairs) if pairs else None
    base = dict(samples=len(samples), informative=len(useful), measured_grid_w=med_m, expected_grid_w=med_e)
    if not pairs:
        return CtResult("inconclusive", "The device reports no grid meter power or no load and inverter "
                        "power, so the balance cannot be checked.",
                        "Run the check with the power step, or check the meter type setting", None, None, **base)
    if len(useful) < max(3, len(pairs) // 2):
        batt = _median(s.battery_w for s in samples)
        why = (" The battery is balancing the grid connection to zero (self consumption)."
               if batt is not None and abs(batt) >= min_flow_w else "")
        return CtResult("inconclusive", f"Too little power flows at the grid connection to tell the "
                        f"direction (under {min_flow_w:.0f} W in most samples).{why}",
                        "Switch on a large load (kettle, oven: more than the battery can deliver) and "
                        "check again, or run the check with the power step", None, None, **base)
    gain = statistics.median(m / e for m, e in useful)   # a median: one stale or mid-change sample cannot sway it
    agree = sum(1 for m, e in useful if (m > 0) == (e > 0)) / len(useful)
    lo, hi = GAIN_OK
    measured = f"the meter reads {med_m:+.0f} W where load minus inverter output gives {med_e:+.0f} W"
    if lo <= gain <= hi and agree >= AGREE_SHARE:
        note = " (with the software correction CT direction = Reversed)" if software_reversed else ""
        return CtResult("ok", f"CT direction correct{note}: {measured}.", "Nothing to change",
                        gain, agree, **base)
    if -hi <= gain <= -lo and agree <= 1 - AGREE_SHARE:
        if software_reversed:
            advice = ("CT direction is set to Reversed but the clamp is fitted the right way: set CT "
                      "direction = Normal in the parameters")
        else:
            advice = REVERSED_ADVICE
        return CtResult("reversed", f"CT reversed: {measured} (the sign is flipped).", advice,
                        gain, agree, **base)
    if lo <= abs(gain) <= hi:   # the typical sample fits, but too many others do not
        return CtResult("inconclusive", f"The readings were inconsistent ({agree * 100:.0f} % of the samples "
                        f"agree in sign): the power changed while sampling, or a setting was just changed.",
                        "Run the check again, for longer, while the power flow is steady", gain, agree, **base)
    if abs(gain) < 0.2:
        summary = f"The meter sees almost none of the expected power: {measured}."
    else:
        summary = (f"The magnitudes disagree: {measured} (the meter sees {abs(gain) * 100:.0f} % of it"
                   f"{', with the sign flipped' if gain < 0 else ''}).")
    advice = "CT on the wrong phase or not clamped? " + MISMATCH_ADVICE
    if gain < 0:
        advice += ". The sign is also flipped: " + REVERSED_ADVICE
    return CtResult("mismatch", summary, advice, gain, agree, **base)


def _names(profile) -> tuple[list[str], dict | None]:
    """The points to sample (resolved through the profile) and the per-phase ones, if any."""
    names = [n for n in (profile.resolve(c) for c in POINTS) if n]
    phases = ct_phases.phase_points(profile)
    if phases:
        names += [n for group in phases.values() for n in group if n and n not in names]
    return names, phases


async def _sample(device: Device, names: list[str], duration_s: float, period_s: float,
                  progress: Callable[[str], None] | None, what: str, phases: dict | None = None) -> list[CtSample]:
    out: list[CtSample] = []
    t_end = time.monotonic() + duration_s
    profile = device.profile

    def get(v, canonical):
        name = profile.resolve(canonical)
        return _num(v.get(name)) if name else None
    while True:
        t0 = time.monotonic()
        v = await device.read_names(names)
        out.append(CtSample(time.time(), get(v, "grid_power_w"), get(v, "load_power_w"),
                            get(v, "inverter_power_w"), get(v, "pv_power_w"), get(v, "battery_power_w"),
                            phases=ct_phases.sample_phases(v, phases) if phases else None))
        if progress:
            progress(f"{what}: {len(out)} samples, {max(0.0, t_end - time.monotonic()):.0f} s left")
        if time.monotonic() >= t_end:
            return out
        await asyncio.sleep(max(0.0, period_s - (time.monotonic() - t0)))


def _median(values) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


async def run_ct_check(device: Device, *, duration_s: float = 6.0, period_s: float = 0.5,
                       session: ParamSession | None = None, step: bool = False,
                       settle_s: float = 1.5, progress: Callable[[str], None] | None = None,
                       step_plan: PowerStepPlan | None = None) -> CtResult:
    """Sample for ``duration_s`` and judge; with ``step`` (and a session) also run the power step,
    as ``step_plan`` says when given (the plan the installer confirmed)."""
    profile = device.profile
    names, phases = _names(profile)
    software_reversed = False
    setting = None
    ct_point = profile.resolve("ct_direction")
    if ct_point is not None:
        raw = (await device.read_names([ct_point]))[ct_point]
        setting = profile.point(ct_point).enum.get(raw, str(raw)) if isinstance(raw, int) else None
        software_reversed = raw == 1
    samples = await _sample(device, names, duration_s, period_s, progress, "Sampling the grid balance", phases)
    result = analyse(samples, software_reversed=software_reversed)
    result.ct_direction_setting = setting
    if phases:
        judge_phases(result, ct_phases.analyse_phases([s.phases for s in samples]))
    if step and session is not None and profile.has(STEP_LIMIT_POINT):
        result.step = await _power_step(device, session, samples, duration_s, period_s, settle_s, progress,
                                        phases, step_plan)
        _combine(result, result.step, software_reversed)
        if phases and result.step.get("phases"):
            judge_phases(result, result.step["phases"])
    return result


def judge_phases(result: CtResult, verdicts: list[dict]) -> None:
    """Per-clamp verdicts into the result: a reversed or misplaced clamp is named even when the total fits."""
    result.phases = verdicts
    bad = [v for v in verdicts if v["status"] in ("reversed", "wrong_phase", "mismatch")]
    if not bad:
        return
    result.summary += " Per phase: " + "; ".join(v["summary"] for v in verdicts) + "."
    kinds = {v["status"] for v in bad}
    if result.status in ("ok", "inconclusive"):
        result.status = "reversed" if kinds == {"reversed"} else "mismatch"
    fixes = [v["summary"].split(": ", 1)[-1] for v in bad]
    result.advice = "; ".join(f"{v['phase']}: {fix}" for v, fix in zip(bad, fixes))


@dataclass
class PowerStepPlan:
    """What the power step will do, for the question before it: which limit, to what, how long, and back."""

    limit_point: str
    limit_label: str
    from_pct: int
    to_pct: int
    rated_w: float
    hold_s: float                 # how long the lowered limit holds: settling, then sampling
    inverter_w: float | None      # the output when planned

    def limit_text(self, pct: int) -> str:
        """'35 % (2.8 kW)'."""
        return f"{pct} % ({self.rated_w * pct / 100 / 1000:.1f} kW)"

    def text(self) -> str:
        """'active power limit 35 % (2.8 kW) for about 5 s, then restored to 100 % (8.0 kW)'."""
        return (f"{self.limit_label.lower()} {self.limit_text(self.to_pct)} for about {self.hold_s:.0f} s, "
                f"then restored to {self.limit_text(self.from_pct)}")


def step_hold_s(duration_s: float, settle_s: float) -> float:
    """How long the power step holds the lowered limit, seconds."""
    return settle_s + max(1.0, duration_s / 2)


async def plan_power_step(device: Device, duration_s: float = 6.0, settle_s: float = 1.5,
                          inverter_w: float | None = None) -> PowerStepPlan | str:
    """The power step's plan from the device's limit, rating and output now; or why it cannot run (a text)."""
    profile = device.profile
    limit_point = profile.resolve(STEP_LIMIT_POINT) or STEP_LIMIT_POINT
    if not profile.has(limit_point):
        return "the device has no active power limit setting"
    inv_point = profile.resolve("inverter_power_w")
    rated_point = profile.resolve("rated_power_w")
    values = await device.read_names([n for n in (limit_point, inv_point, rated_point) if n])
    old_pct = plain(values.get(limit_point))
    if not isinstance(old_pct, (int, float)):
        return "the device does not report its active power limit"
    inv = inverter_w if inverter_w is not None else (_num(values.get(inv_point)) if inv_point else None)
    if inv is None or inv < STEP_MIN_W:
        return (f"the inverter produces {inv or 0:.0f} W; the step needs at least {STEP_MIN_W:.0f} W "
                "(try when the sun is up)")
    rated = (_num(values.get(rated_point)) if rated_point else None) or 10000.0
    new_pct = max(0, min(int(old_pct) - 1, int(inv / 2 / rated * 100)))
    label = profile.point(limit_point).label or "Active power limit"
    return PowerStepPlan(limit_point, label, int(old_pct), new_pct, rated, step_hold_s(duration_s, settle_s), inv)


async def _countdown(seconds: float, progress, text: str) -> None:
    """Sleep ``seconds``, telling the seconds left every half second."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        if progress:
            progress(f"{text}, {left:.0f} s left")
        await asyncio.sleep(min(0.5, left))


async def _power_step(device, session, base, duration_s, period_s, settle_s, progress, phases=None,
                      plan: PowerStepPlan | None = None) -> dict:
    inv0 = _median(s.inverter_w for s in base)
    grid0 = _median(s.grid_w for s in base)
    if inv0 is None or grid0 is None or inv0 < STEP_MIN_W:
        return {"status": "skipped", "reason": f"the inverter produces {inv0 or 0:.0f} W; the step needs "
                f"at least {STEP_MIN_W:.0f} W (try when the sun is up)"}
    if plan is None:   # not confirmed with numbers beforehand (the command line): planned now
        planned = await plan_power_step(device, duration_s, settle_s, inverter_w=inv0)
        if isinstance(planned, str):
            return {"status": "skipped", "reason": planned}
        plan = planned
    limit_point, old_pct, new_pct = plan.limit_point, plan.from_pct, plan.to_pct
    names, _ = _names(device.profile)
    what = f"Power step: {plan.limit_label.lower()} {plan.limit_text(new_pct)}"
    first = await session.write(limit_point, new_pct, confirmed=True)
    end = time.monotonic() + plan.hold_s
    try:
        if not first.ok:
            return {"status": "failed", "reason": first.message}
        await _countdown(settle_s, progress, what + " (settling)")
        stepped = await _sample(device, names, max(1.0, end - time.monotonic()), period_s, progress, what, phases)
    finally:
        restore = await session.write(limit_point, old_pct, confirmed=True)
        if progress:
            progress(f"Power step over: {plan.limit_label.lower()} restored to {plan.limit_text(old_pct)}"
                     if restore.ok else f"Power step over, but restoring {plan.limit_text(old_pct)} failed: "
                     f"{restore.message}")
    inv1 = _median(s.inverter_w for s in stepped)
    grid1 = _median(s.grid_w for s in stepped)
    d_inv, d_grid = inv1 - inv0, grid1 - grid0
    out = {"status": "done", "limit_from_pct": old_pct, "limit_to_pct": new_pct, "inverter_step_w": d_inv,
           "grid_step_w": d_grid, "restored": restore.ok,
           "text": f"{plan.limit_label.lower()} {plan.limit_text(new_pct)} for about {plan.hold_s:.0f} s, "
                   + (f"then restored to {plan.limit_text(old_pct)}" if restore.ok else
                      f"restoring {plan.limit_text(old_pct)} failed: {restore.message}")}
    if abs(d_inv) < STEP_MIN_W / 4:
        out.update(status="inconclusive", reason=f"the output changed by only {d_inv:+.0f} W")
        return out
    out["gain"] = d_grid / -d_inv
    if phases:
        out["phases"] = ct_phases.step_phases([s.phases for s in base], [s.phases for s in stepped])
    return out


def _combine(result: CtResult, step: dict, software_reversed: bool) -> None:
    """The power step is independent evidence: it decides where the balance could not."""
    if step.get("status") != "done":
        result.summary += f" Power step {step['status']}: {step.get('reason', '')}."
        return
    g = step["gain"]
    lo, hi = GAIN_OK
    verdict = "ok" if lo <= g <= hi else ("reversed" if -hi <= g <= -lo else "mismatch")
    step["verdict"] = verdict
    seen = {"ok": "more import by the same amount, as it should",
            "reversed": "more export instead of more import: its sign is flipped",
            "mismatch": "a change that does not match"}[verdict]
    text = (f"When the inverter's output was lowered by {abs(step['inverter_step_w']):.0f} W, the meter showed "
            f"{step['grid_step_w']:+.0f} W: {seen}.")
    if verdict == result.status:
        result.summary += " " + text
        return
    before = result.summary
    result.status = verdict
    result.summary = text + f" (The grid balance alone: {before[0].lower()}{before[1:]})"
    if verdict == "ok":
        result.advice = "Nothing to change"
    elif verdict == "reversed":
        result.advice = ("CT direction is set to Reversed but the clamp is fitted the right way: set CT "
                         "direction = Normal in the parameters") if software_reversed else REVERSED_ADVICE
    else:
        result.advice = "CT on the wrong phase or not clamped? " + MISMATCH_ADVICE
