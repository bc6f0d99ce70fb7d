"""Read planning and decoding: points -> the fewest register reads -> values, and their text.

Runs on any thread (pure functions). A value scaled by a live SunSpec scale
factor is a ``Scaled`` float that remembers its decimals (10**-2 -> 2), so
that 49.99 Hz is shown as "49.99 Hz", never rounded to the fixed scale's
decimals; a scale factor that is missing, not implemented or outside
-10..10 makes its points n/a (``SF_RANGE``). Points are grouped per function into
the fewest reads: greedy packing from the lowest address is optimal for
intervals under a length cap, so the plan is the minimum possible under the
constraints (at most ``max_registers`` a read, never across a range the
profile marks unreadable or an address the device refused). ``max_gap``
optionally stops bridging long gaps on slow serial lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import codecs
from .profiles.model import Point, Profile

#: Valid SunSpec scale factors (the specification's range); others make their points n/a.
SF_RANGE = (-10, 10)

#: Accumulators whose 0 means "not implemented" (SunSpec), when the point honours sentinels.
_ACC = ("acc16", "acc32", "acc64")


class Scaled(float):
    """A float that knows how many decimals its register resolves (from the live scale factor)."""

    decimals: int

    def __new__(cls, value: float, decimals: int):
        obj = super().__new__(cls, value)
        obj.decimals = max(0, decimals)
        return obj

    def __reduce__(self):
        return (Scaled, (float(self), self.decimals))


def scale_decimals(scale: float) -> int:
    """Decimals a fixed scale resolves: 0.1 -> 1, 0.01 -> 2, 1 or more -> 0 (at most 6)."""
    if scale >= 1:
        return 0
    text = f"{scale:.6f}".rstrip("0")
    return min(6, len(text.split(".")[1])) if "." in text else 0


@dataclass
class ReadBlock:
    """One register read and the points it serves."""

    function: str
    address: int
    count: int
    points: list[Point] = field(default_factory=list)

    @property
    def end(self) -> int:
        return self.address + self.count


def _crosses(lo: int, hi: int, ranges) -> bool:
    """Whether registers lo..hi-1 touch any (first, last) range."""
    return any(lo <= r_hi and hi - 1 >= r_lo for r_lo, r_hi in ranges)


def plan_reads(points, max_registers: int = 125, unreadable=(), max_gap: int | None = None,
               unreadable_by_function: dict | None = None) -> list[ReadBlock]:
    """Group ``points`` into the fewest reads under the constraints."""
    blocks: list[ReadBlock] = []
    by_fn: dict[str, list[Point]] = {}
    for p in points:
        if p.compute is None:  # computed points have no registers
            by_fn.setdefault(p.function, []).append(p)
    for fn in sorted(by_fn):
        bad = list(unreadable if fn == "input" else ())
        if unreadable_by_function:
            bad += list(unreadable_by_function.get(fn, ()))
        current: ReadBlock | None = None
        for p in sorted(by_fn[fn], key=lambda q: q.address):
            if p.width > max_registers:
                raise ValueError(f"point {p.name} is wider than one read")
            if current is not None:
                new_end = max(current.end, p.end)
                gap = p.address - current.end
                if (new_end - current.address <= max_registers
                        and not _crosses(current.address, new_end, bad)
                        and (max_gap is None or gap <= max_gap)):
                    current.count = new_end - current.address
                    current.points.append(p)
                    continue
            current = ReadBlock(fn, p.address, p.width, [p])
            blocks.append(current)
    return blocks


def decode_points(block: ReadBlock, registers: list[int]) -> dict[str, object]:
    """Raw values (before scale factors) of the block's points."""
    out: dict[str, object] = {}
    for p in block.points:
        off = p.address - block.address
        regs = registers[off:off + p.width]
        raw = codecs.decode_point(regs, p)
        if p.sentinel and raw == 0 and p.type in _ACC:
            raw = codecs.NOT_IMPLEMENTED   # SunSpec: an accumulator of 0 is not implemented
        elif not p.sentinel and not p.sentinels and raw is codecs.NOT_IMPLEMENTED \
                and p.type.startswith(("bitfield", "enum", "u")) and p.width <= 2:
            raw = regs[0] if p.width == 1 else (
                regs[1] << 16 | regs[0] if p.word_order == "little" else regs[0] << 16 | regs[1])
        out[p.name] = raw
    return out


def engineering(profile: Profile, raws: dict[str, object]) -> tuple[dict, dict]:
    """Apply scales and scale factors; flag values outside plausibility.

    Returns (values, flags) where flags maps a point name to "out_of_range"
    (outside the point's ``range``: shown, flagged) or "implausible" (outside
    its ``plausible`` range: an impossible value, shown as n/a).
    """
    values: dict[str, object] = {}
    flags: dict[str, str] = {}
    for name, raw in raws.items():
        p = profile.point(name)
        sf: object = None
        if p.scale_factor:
            sf = raws.get(p.scale_factor, codecs.NOT_IMPLEMENTED)
            if not isinstance(sf, int) or not SF_RANGE[0] <= sf <= SF_RANGE[1]:
                sf = codecs.NOT_IMPLEMENTED
        if p.type == "sunssf" and isinstance(raw, int) and not SF_RANGE[0] <= raw <= SF_RANGE[1]:
            raw = codecs.NOT_IMPLEMENTED
        value = codecs.apply_scale(raw, p.scale, sf) if p.type != "sunssf" else raw
        if p.offset and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = value + p.offset
        if p.invert and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = -value
        if isinstance(value, float):
            if isinstance(sf, int) and p.type != "float32":
                value = Scaled(round(value, max(6, -sf)), scale_decimals(p.scale) - sf if sf < 0 else
                               scale_decimals(p.scale))
            else:
                value = round(value, 6)
        if p.plausible and isinstance(value, (int, float)) and not isinstance(value, bool) \
                and not p.plausible[0] <= value <= p.plausible[1]:
            flags[name] = "implausible"
            value = codecs.NOT_IMPLEMENTED
        values[name] = value
        if (p.range and isinstance(value, (int, float)) and not isinstance(value, bool)
                and not p.range[0] <= value <= p.range[1]):
            flags[name] = "out_of_range"
    return values, flags


def describe(point: Point, value) -> str:
    """Human text of a value: enumeration label or bit names with the raw code beside."""
    if value is codecs.NOT_IMPLEMENTED or value is None:
        return "n/a"
    if point.enum and isinstance(value, int):
        return f"{point.enum.get(value, 'unknown')} ({value})"
    if point.bits and isinstance(value, int):
        names = [point.bits.get(b, f"bit {b}") for b in codecs.bits_set(value)]
        return f"{', '.join(names) or 'none'} (0x{value:04X})"
    if isinstance(value, float):
        decimals = getattr(value, "decimals", None)
        if decimals is None:
            decimals = min(3, scale_decimals(point.scale)) if point.type != "float32" else _float_decimals(value)
        return f"{value:.{decimals}f} {point.unit}".strip()
    return f"{value} {point.unit}".strip()


def _float_decimals(value: float) -> int:
    """A float32 register carries no resolution: show up to 3 decimals, without trailing zeros."""
    text = f"{value:.3f}".rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0
