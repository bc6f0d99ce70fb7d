"""Active alarms and the fault history, decoded with the profile's tables.

Runs on the device I/O thread (the reads) and any thread (the decoding).
Every alarm keeps its raw code beside its text, and a timestamp: the time the
device logged it where it keeps one, else the time PVDesk saw it.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from . import codecs
from .profiles.model import Profile


@dataclass(frozen=True)
class Alarm:
    """One fault or alarm: raw code, text, severity, and where it came from."""

    code: int
    text: str
    severity: str
    time_s: float
    source: str
    active: bool = True
    cause: str = ""
    remedy: str = ""
    affects: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return asdict(self)


def _text(profile: Profile, code: int) -> tuple[str, str]:
    fc = profile.fault_codes.get(code)
    return (fc.text, fc.severity) if fc else (f"Unknown code {code}", "warning")


def active_alarms(profile: Profile, values: dict, seen_s: float | None = None) -> list[Alarm]:
    """Alarms active in a set of decoded values (alarm words and the active code)."""
    now = time.time() if seen_s is None else seen_s
    alarms: list[Alarm] = []
    codes_seen: set[int] = set()
    for word in profile.alarms:
        raw = values.get(word.point)
        if raw is None or raw is codecs.NOT_IMPLEMENTED:
            continue
        for bit in codecs.bits_set(int(raw)):
            fc = word.bits.get(bit)
            if fc is None:
                alarms.append(Alarm(bit, f"Undocumented alarm bit {bit} in {word.point}", "warning", now,
                                    f"{word.point} bit {bit}"))
                continue
            codes_seen.add(fc.code)
            table = profile.fault_codes.get(fc.code)  # the code's entry may carry the vendor's advice
            alarms.append(Alarm(fc.code, fc.text, fc.severity, now, f"{word.point} bit {bit}",
                                cause=fc.cause or (table.cause if table else ""),
                                remedy=fc.remedy or (table.remedy if table else ""),
                                affects=fc.affects or (table.affects if table else ())))
    code = values.get("active_fault_code")
    gate = profile.extra.get("fault_code_valid")
    if gate is not None and values.get(gate["point"]) not in gate["values"]:
        code = None  # the register keeps the last code while the device runs again: not an active alarm
    if isinstance(code, int) and code and code not in codes_seen:
        text, sev = _text(profile, code)
        fc = profile.fault_codes.get(code)
        alarms.append(Alarm(code, text, sev, now, "active_fault_code", cause=fc.cause if fc else "",
                            remedy=fc.remedy if fc else "", affects=fc.affects if fc else ()))
    return alarms


def decode_history(profile: Profile, registers: list[int], count: int | None = None) -> list[Alarm]:
    """Fault history entries, newest first, from the raw history registers."""
    hist = profile.fault_history
    if hist is None:
        return []
    out = []
    n = hist.entries if count is None else min(count, hist.entries)
    for i in range(n):
        base = i * hist.entry_registers
        code, t_hi, t_lo = registers[base], registers[base + 1], registers[base + 2]
        if code in (0, 0xFFFF):
            continue
        text, sev = _text(profile, code)
        out.append(Alarm(code, text, sev, float((t_hi << 16) | t_lo), "history", active=False))
    return out
