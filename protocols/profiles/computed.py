"""Computed points: values made from other points, with "not available" propagated.

Runs on any thread (pure functions). A computed point has no registers; it is
a point like any other for ``Profile.point``/``Profile.resolve``, the poller
and the window. ``Device.read`` asks ``expand`` which register points to read
for it and ``evaluate`` fills it in after decoding, inputs before the points
that use them (a computed point may use another). Operations:

* ``sum``, ``product`` of the inputs; ``difference``: first minus the rest;
  ``ratio``: first / second (n/a when the divisor is 0);
* ``first``: the first input that is available (a fallback chain, e.g. the
  PV total register, else the sum of the strings);
* ``field``: bits ``shift`` .. ``shift + width - 1`` of one input (a bit field
  split into several fields, e.g. one meter nibble per phase).

With ``missing = "na"`` (the default) any n/a input makes the result n/a;
with ``missing = "skip"`` n/a inputs are left out (a string that does not
exist adds nothing) and the result is n/a only when every input is. The
point's own ``scale``, ``invert``, ``sentinels`` and ``plausible`` range apply
to the result as for a register point.
"""

from __future__ import annotations

from .. import codecs
from .model import Point, Profile

NA = codecs.NOT_IMPLEMENTED


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _combine(op: str, inputs: list, missing: str):
    if op == "first":
        return next((v for v in inputs if v is not NA and v is not None), NA)
    present = [v for v in inputs if _number(v)]
    if missing == "na" and len(present) != len(inputs):
        return NA
    if not present or (op in ("difference", "ratio") and (not _number(inputs[0]))):
        return NA
    if op == "sum":
        return sum(present)
    if op == "difference":
        return present[0] - sum(present[1:])
    if op == "product":
        out = 1
        for v in present:
            out *= v
        return out
    if op == "ratio":
        if len(present) < 2 or present[1] == 0:
            return NA
        return present[0] / present[1]
    raise ValueError(f"unknown compute op {op!r}")


def value_of(point: Point, values: dict):
    """The computed value of ``point`` from the values already known (engineering units)."""
    c = point.compute
    assert c is not None
    inputs = [values.get(n, NA) for n in c.inputs]
    if c.op == "field":
        raw = inputs[0]
        if not isinstance(raw, int) or isinstance(raw, bool):
            return NA
        v = raw >> c.shift & ((1 << c.width) - 1)
        return NA if point.sentinels and v in point.sentinels else v
    v = _combine(c.op, inputs, c.missing)
    if not _number(v):
        return v
    if point.scale != 1.0:
        v = v * point.scale
    if point.invert:
        v = -v
    if isinstance(v, float):
        v = round(v, 6)
    return v


def expand(profile: Profile, points) -> list[Point]:
    """``points`` with every register point their computed points need, inputs first, no duplicates."""
    out: dict[str, Point] = {}

    def visit(p: Point, depth: int = 0) -> None:
        if p.name in out:
            return
        if depth > 16:
            raise ValueError(f"profile {profile.name}: computed point {p.name} refers to itself")
        if p.compute is not None:
            for n in p.compute.inputs:
                visit(profile.point(n), depth + 1)
        out[p.name] = p

    for p in points:
        visit(p)
    return list(out.values())


def evaluate(profile: Profile, points, values: dict, flags: dict) -> None:
    """Fill in the computed ones of ``points`` (ordered inputs first, as ``expand`` gives) in ``values``."""
    for p in points:
        if p.compute is None:
            continue
        v = value_of(p, values)
        if p.plausible and _number(v) and not p.plausible[0] <= v <= p.plausible[1]:
            flags[p.name] = "implausible"
            v = NA
        values[p.name] = v
        if p.range and _number(v) and not p.range[0] <= v <= p.range[1]:
            flags[p.name] = "out_of_range"


def dependencies(profile: Profile, name: str) -> list[str]:
    """The register points a point is made from (itself if it is one)."""
    return [p.name for p in expand(profile, [profile.point(name)]) if p.compute is None]
