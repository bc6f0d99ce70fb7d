"""Read planning and decoding: points -> the fewest register reads -> values.

Runs on any thread (pure functions). Points are grouped per function into
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
        if not p.sentinel and not p.sentinels and raw is codecs.NOT_IMPLEMENTED \
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
        value = codecs.apply_scale(raw, p.scale, sf) if p.type != "sunssf" else raw
        if p.offset and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = value + p.offset
        if p.invert and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = -value
        if isinstance(value, float):
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
        decimals = max(0, min(3, len(str(point.scale).split('.')[-1]) if point.scale < 1 else 0))
        return f"{value:.{decimals}f} {point.unit}".strip()
    return f"{value} {point.unit}".strip()
