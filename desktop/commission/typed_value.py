"""What a typed setting value means: number and unit parsed strictly, checked against what the register holds.

Runs on any thread; pure functions, no Qt, no I/O. ``parse_setting(point,
value)`` turns what the installer typed (CLI, editor, a settings file's
value) into the engineering value the register will hold, or raises
``WriteRefused`` with one line naming the setting, what was wrong and the
allowed range. Rules:

- a number is ASCII: optional sign, digits, optional ``.`` fraction, optional
  exponent. Refused: ``true``/``false`` and other booleans (JSON ``true`` too),
  ``1_000``, ``1,5`` (ambiguous), non-ASCII digits (``٥٠٠٠``), NaN, infinity;
- a unit after the number must be the point's unit, with an optional
  k/M/m prefix: "5 kW" is 5000 on a W point, "500 W" is 0.5 on a kW point;
  a unit of another quantity ("5 kWh" for W, "5 A" for %) is refused;
- the value must be a whole multiple of the register's step (its scale) and
  within the profile's range and what the register type can hold (the
  "not implemented" sentinels such as 0xFFFF excluded).
"""

from __future__ import annotations

import math
import re

from protocols.device import WriteRefused
from protocols.profiles.model import Point

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_PREFIX = {"k": 1e3, "K": 1e3, "M": 1e6, "m": 1e-3}
_PREFIXABLE = {"w", "wh", "va", "var", "varh", "vah", "v", "a", "ah", "hz", "s", "ohm"}
# What the register type can hold once written, sentinels excluded (codecs.SENTINELS).
RAW_RANGE = {"u16": (0, 0xFFFE), "s16": (-0x7FFF, 0x7FFF), "u32": (0, 0xFFFFFFFE),
             "s32": (-0x7FFFFFFF, 0x7FFFFFFF), "u64": (0, 2**64 - 2), "s64": (-(2**63 - 1), 2**63 - 1),
             "acc32": (0, 0xFFFFFFFE), "acc64": (0, 2**64 - 2), "bitfield16": (0, 0xFFFE),
             "bitfield32": (0, 0xFFFFFFFE), "enum16": (0, 0xFFFE), "float32": (-3.4e38, 3.4e38)}
BOOLEAN_WORDS = {"true", "false", "yes", "no", "on", "off"}


def _fmt(x: float) -> str:
    return f"{x:.10g}"


def allowed_range(point: Point) -> tuple[float, float]:
    """The engineering values a write may take: the profile's range within what the register can hold."""
    lo, hi = RAW_RANGE.get(point.type, (-math.inf, math.inf))
    lo, hi = sorted((lo * point.scale, hi * point.scale))
    if point.invert:
        lo, hi = -hi, -lo
    if point.min is not None:
        lo = max(lo, point.min)
    if point.max is not None:
        hi = min(hi, point.max)
    return lo, hi


def range_text(point: Point) -> str:
    if point.enum:
        return "one of " + ", ".join(f"{k} {v}" for k, v in sorted(point.enum.items()))
    lo, hi = allowed_range(point)
    return f"{_fmt(lo)} … {_fmt(hi)} {point.unit}".rstrip()


def _refuse(point: Point, what: str, with_range: bool = True) -> WriteRefused:
    return WriteRefused(f"{point.name}: {what}" + (f"; allowed: {range_text(point)}" if with_range else ""))


def unit_factor(point: Point, unit: str) -> float:
    """How many of the point's unit one ``unit`` is (``kW`` on a W point: 1000); refuses another quantity."""
    want = point.unit.strip()
    if unit == want or unit.lower() == want.lower():
        return 1.0

    def split(u: str) -> tuple[float, str]:
        if len(u) > 1 and u[0] in _PREFIX and u[1:].lower() in _PREFIXABLE:
            return _PREFIX[u[0]], u[1:].lower()
        return 1.0, u.lower()
    got_f, got_base = split(unit)
    want_f, want_base = split(want)
    if not want or got_base != want_base:
        raise _refuse(point, f"{unit!r} is not a unit of this setting (it is in {want or 'no unit'})")
    return got_f / want_f


def _number(point: Point, text: str) -> float:
    if not text.isascii():
        raise _refuse(point, f"{text!r} holds characters other than ASCII digits, sign, point and unit")
    if text.lower() in BOOLEAN_WORDS:
        raise _refuse(point, f"{text!r} is a yes/no word, not a number")
    m = _NUMBER.match(text)
    if not m:
        raise _refuse(point, f"{text!r} is not a number")
    rest = text[m.end():].strip()
    if rest[:1] in ("_", ",", ".") or (rest and rest[0].isdigit()):
        raise _refuse(point, f"{text!r} is not a plain number (write digits with an optional decimal point, "
                             "no separators)")
    value = float(m.group(0))
    if rest:
        value *= unit_factor(point, rest)
    return value


def parse_setting(point: Point, value):
    """The engineering value for ``value`` on ``point``, checked; WriteRefused says why not."""
    if isinstance(value, bool):
        raise _refuse(point, f"{value!r} is a yes/no value, not a number or a choice")
    if point.type == "string":
        text = str(value)
        if not text.isascii() or not text.isprintable():
            raise _refuse(point, "text must be printable ASCII")
        return text
    if point.enum:
        if isinstance(value, str):
            text = value.strip()
            if text.isascii() and text.isdigit():
                value = int(text)
            elif any(label.lower() == text.lower() for label in point.enum.values()):
                return next(k for k, label in point.enum.items() if label.lower() == text.lower())
            else:
                raise _refuse(point, f"{text!r} is not one of {', '.join(point.enum.values())}")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or value not in point.enum:
            raise _refuse(point, f"{value!r} is not one of {', '.join(point.enum.values())}")
        return value
    if isinstance(value, str):
        number = _number(point, value.strip())
    elif isinstance(value, (int, float)):
        number = float(value)
    else:
        raise _refuse(point, f"a {type(value).__name__} is not a number")
    if not math.isfinite(number):
        raise _refuse(point, f"{value!r} is not a finite number")
    lo, hi = allowed_range(point)
    if not lo <= number <= hi:
        unit = f" {point.unit}" if point.unit else ""
        raise _refuse(point, f"{_fmt(number)}{unit} is outside {_fmt(lo)}..{_fmt(hi)}{unit}", with_range=False)
    if point.type != "float32":
        steps = number / point.scale
        if abs(steps - round(steps)) > 1e-6 * max(1.0, abs(steps)):
            raise _refuse(point, f"{_fmt(number)} is not a multiple of the step {_fmt(point.scale)} {point.unit}"
                          .rstrip())
        number = round(steps) * point.scale
        if point.scale >= 1 and float(number).is_integer():
            number = int(number)
    return number
