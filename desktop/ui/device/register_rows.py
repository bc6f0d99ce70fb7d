"""Rows of the registers page: address, raw value, and the profile point decoded beside it.

Runs on any thread (pure functions, no Qt). A point is decoded on the row
where it starts, from the registers just read (scale factors from the same
read when they are in it, else from the latest sample); the rows it also
covers say which point they continue. A point that runs past the end of the
read says how far to read instead of showing half a value.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocols import codecs
from protocols.reader import ReadBlock, decode_points, describe, engineering

MAX_COUNT = 2000


@dataclass(frozen=True)
class RegisterRow:
    address: int
    raw: int
    point: str = ""       # name of the point starting here, or "↳ name" on the registers it continues over
    decoded: str = ""
    label: str = ""       # the point's human label (tooltip)

    @property
    def hex(self) -> str:
        return f"0x{self.raw:04X}"


def check_request(function: str, address: int, count: int) -> None:
    """ValueError naming the field that is out of range."""
    if function not in ("holding", "input"):
        raise ValueError(f"function must be holding or input, not {function!r}")
    if not 0 <= address <= 0xFFFF:
        raise ValueError(f"start address {address} is outside 0..65535")
    if not 1 <= count <= MAX_COUNT:
        raise ValueError(f"count {count} is outside 1..{MAX_COUNT}")
    if address + count > 0x10000:
        raise ValueError(f"{count} registers from {address} run past address 65535")


def _values(profile, function: str, start: int, registers: list[int], points, known: dict | None) -> dict:
    """Engineering values of ``points`` (all inside the read), as the poller computes them.

    Scale factors come from the same read, else from the latest sample (``known``); a scale
    factor that is neither (or not implemented, or not in the device's model) leaves its
    points n/a. Decimals follow the live scale factor (``reader.Scaled``).
    """
    raws = {}
    for p in points:
        try:
            raws.update(decode_points(ReadBlock(function, p.address, p.width, [p]),
                                      registers[p.address - start: p.end - start]))
        except (ValueError, KeyError):
            raws[p.name] = codecs.NOT_IMPLEMENTED
    for p in points:
        sf = p.scale_factor
        if sf and sf not in raws and isinstance((known or {}).get(sf), int):
            raws[sf] = known[sf]
    return {k: v for k, v in engineering(profile, raws)[0].items() if k in {p.name for p in points}}


def decode_rows(profile, function: str, start: int, registers: list[int],
                known_values: dict | None = None) -> list[RegisterRow]:
    """One row per register; ``known_values`` (the latest sample) supplies scale factors not in the read."""
    end = start + len(registers)
    starts: dict[int, list] = {}
    if profile is not None:
        for p in profile.points:
            if p.function == function and start <= p.address < end:
                starts.setdefault(p.address, []).append(p)
    continues: dict[int, str] = {}
    decoded: dict[int, tuple[str, str, str]] = {}
    inside = [p for points in starts.values() for p in points if p.end <= end]
    values = _values(profile, function, start, registers, inside, known_values) if inside else {}
    for address, points in starts.items():
        names, texts, labels = [], [], []
        for p in points:
            names.append(p.name)
            labels.append(p.label or p.name)
            if p.end > end:
                texts.append(f"needs registers up to {p.end - 1}: read {p.end - start} or more")
                continue
            texts.append(_describe(profile, p, values.get(p.name)))
            for a in range(p.address + 1, min(p.end, end)):
                continues.setdefault(a, p.name)
        decoded[address] = (", ".join(names), "; ".join(texts), ", ".join(labels))
    rows = []
    for i, raw in enumerate(registers):
        a = start + i
        if a in decoded:
            name, text, label = decoded[a]
            rows.append(RegisterRow(a, raw, name, text, label))
        elif a in continues:
            rows.append(RegisterRow(a, raw, f"↳ {continues[a]}"))
        else:
            rows.append(RegisterRow(a, raw))
    return rows


def _describe(profile, point, value) -> str:
    """``reader.describe``, plus the profile's alarm and fault tables for alarm words and fault codes."""
    word = next((a for a in profile.alarms if a.point == point.name), None)
    if word is not None and isinstance(value, int):
        bits = codecs.bits_set(value)
        names = [f"{word.bits[b].text} ({word.bits[b].code})" if b in word.bits else f"bit {b}" for b in bits]
        return f"{', '.join(names) or 'no alarm'} (0x{value:04X})"
    if point.category == "alarm" and "fault_code" in point.name and isinstance(value, int) and value:
        fc = profile.fault_codes.get(value)
        return f"{value}: {fc.text}" if fc else f"{value}: unknown code"
    return describe(point, value)
