"""The per-phase CT check: each clamp of a three-phase meter judged on its own.

``analyse_phases`` is pure and runs anywhere; ``phase_points`` and
``sample_phases`` are called from ``ct_check`` on the device I/O thread. No Qt.

Where a profile has the meter's power per phase (``meter_l1_power_w`` ..
``meter_l3_power_w``, + = import) and, per phase, the load and the
inverter's output (``load_lN_power_w``, ``inverter_lN_power_w``), each phase
balances on its own: meter_lN = load_lN - inverter_lN. For every clamp i and
every phase j the least-squares gain of measured_i against expected_j over the
samples with enough flow is computed, and kept only where it explains the
clamp's readings (a clamp does not follow a phase it is not on). Clamp i is:

* right when its gain against its own phase is near +1;
* reversed when it is near -1 (and no other phase fits better);
* on the wrong phase when its own gain is far from +-1 but its gain against
  another phase j is near +-1: "the L2 clamp measures L3" (reversed as well
  when that gain is near -1);
* inconclusive when too little power flows on its phase.

Many inverters compute their per-phase load from the meter, which makes this
balance circular (it passes however the clamps sit); the power step of
``ct_check`` is then the independent evidence, and ``step_phases`` judges
each clamp by how its phase answered the step.
"""

from __future__ import annotations

import statistics

PHASES = ("L1", "L2", "L3")
GAIN_OK = (0.75, 1.33)
MIN_FLOW_W = 100.0
FIT_MAX_RESIDUAL = 0.05   # share of the clamp's power the fit may leave unexplained


def phase_points(profile) -> dict | None:
    """{"meter": [...], "load": [...], "inverter": [...]} point names, or None without L1-L3 meter power."""
    def names(kind: str) -> list[str | None]:
        return [profile.resolve(f"{kind}_l{n}_power_w") for n in (1, 2, 3)]
    meter = names("meter")
    if not all(meter):
        return None
    return {"meter": meter, "load": names("load"), "inverter": names("inverter")}


def sample_phases(values: dict, points: dict) -> dict:
    """One sample's per-phase powers (None where not available)."""
    def num(v):
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
    return {kind: [num(values.get(n)) if n else None for n in names] for kind, names in points.items()}


def _near(g: float | None, sign: int) -> bool:
    lo, hi = GAIN_OK
    return g is not None and g == g and lo <= sign * g <= hi


def _gain(pairs) -> float | None:
    """The least-squares gain measured = g x expected over the samples with flow, or None when the fit
    is poor (the clamp does not follow that phase) or there are too few samples."""
    useful = [(m, e) for m, e in pairs if abs(e) >= MIN_FLOW_W]
    if len(useful) < 3:
        return None
    see = sum(e * e for _, e in useful)
    g = sum(m * e for m, e in useful) / see
    resid = sum((m - g * e) ** 2 for m, e in useful)
    total = sum(m * m for m, _ in useful) or 1.0
    return g if resid / total <= FIT_MAX_RESIDUAL else float("nan")


def analyse_phases(samples: list[dict]) -> list[dict]:
    """A verdict per clamp from per-phase samples (``sample_phases`` dicts)."""
    expected = []
    for s in samples:
        row = []
        for j in range(3):
            load, inv = s["load"][j], s["inverter"][j]
            row.append(None if load is None or inv is None else load - inv)
        expected.append(row)
    out = []
    for i, name in enumerate(PHASES):
        gains = []
        for j in range(3):
            pairs = [(s["meter"][i], e[j]) for s, e in zip(samples, expected)
                     if s["meter"][i] is not None and e[j] is not None]
            gains.append(_gain(pairs))
        out.append(_verdict(name, gains[i], gains, i))
    return out


def _verdict(name: str, own: float | None, gains: list, i: int, step: bool = False) -> dict:
    others_near = any(_near(g, 1) or _near(g, -1) for j, g in enumerate(gains) if j != i)
    if own is None and not (step and others_near):
        return {"phase": name, "status": "inconclusive", "gain": None,
                "summary": f"{name}: too little power flows on this phase to judge its clamp"}
    if _near(own, 1):
        return {"phase": name, "status": "ok", "gain": own, "summary": f"{name}: clamp right (gain {own:+.2f})"}
    others = sorted(((j, g) for j, g in enumerate(gains) if j != i and (_near(g, 1) or _near(g, -1))),
                    key=lambda jg: abs(abs(jg[1]) - 1))
    if others and not _near(own, -1):
        j, g = others[0]
        flipped = " and reversed" if g < 0 else ""
        return {"phase": name, "status": "wrong_phase", "gain": own, "measures": PHASES[j],
                "summary": f"{name}: the clamp measures {PHASES[j]}{flipped} (gain {g:+.2f} against {PHASES[j]}): "
                           f"move it to the {name} conductor"}
    if _near(own, -1):
        return {"phase": name, "status": "reversed", "gain": own,
                "summary": f"{name}: clamp reversed (gain {own:+.2f}): turn the {name} clamp round"}
    shown = f"{own:+.2f}" if isinstance(own, float) and own == own else "no fit"
    return {"phase": name, "status": "mismatch", "gain": own,
            "summary": f"{name}: the clamp sees another power than its phase carries (gain {shown}): check that it "
                       f"is round the {name} grid conductor and that the CT ratio fits"}


def step_phases(before: list[dict], after: list[dict], min_step_w: float = 150.0) -> list[dict]:
    """A verdict per clamp from the power step: each phase's meter must import what its inverter output lost."""
    def med(rows, kind, j):
        vals = [r[kind][j] for r in rows if r[kind][j] is not None]
        return statistics.median(vals) if vals else None
    d_inv = [None if med(before, "inverter", j) is None or med(after, "inverter", j) is None
             else med(after, "inverter", j) - med(before, "inverter", j) for j in range(3)]
    d_meter = [None if med(before, "meter", j) is None or med(after, "meter", j) is None
               else med(after, "meter", j) - med(before, "meter", j) for j in range(3)]
    out = []
    for i, name in enumerate(PHASES):
        gains = [None if d_meter[i] is None or d_inv[j] is None or abs(d_inv[j]) < min_step_w
                 else d_meter[i] / -d_inv[j] for j in range(3)]
        if all(g is None for g in gains):
            # a single-phase inverter on a three-phase meter steps one phase only
            moved = d_meter[i] is not None and abs(d_meter[i]) >= min_step_w
            out.append({"phase": name, "status": "wrong_phase" if moved else "inconclusive", "gain": None,
                        "summary": (f"{name}: this clamp moved by {d_meter[i]:+.0f} W although the inverter did not "
                                    f"change its {name} output: it sits on the phase the inverter feeds")
                        if moved else f"{name}: the inverter's {name} output did not change in the step"})
            continue
        out.append(_verdict(name, gains[i], gains, i, step=True))
    return out
