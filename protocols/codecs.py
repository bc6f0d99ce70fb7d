"""Register codecs: raw 16-bit registers <-> engineering values.

Runs on any thread (pure functions). Byte packing is pymodbus's
(``convert_from_registers``/``convert_to_registers``); this module adds what
a device profile needs on top: word order per point, scale (fixed or from a
SunSpec scale-factor point), the "not implemented" sentinels, bitfields and
enumerations. A sentinel decodes to ``NOT_IMPLEMENTED`` (shown as "n/a"),
never to a number.
"""

from __future__ import annotations

import math
import struct
from typing import Literal

from pymodbus.client.mixin import ModbusClientMixin

DT = ModbusClientMixin.DATATYPE

#: Registers each fixed-width type occupies.
WIDTH = {
    "u16": 1, "s16": 1, "u32": 2, "s32": 2, "u64": 4, "s64": 4,
    "float32": 2, "bitfield16": 1, "bitfield32": 2, "enum16": 1, "sunssf": 1,
    "acc16": 1, "acc32": 2, "acc64": 4, "time": 1,
}

_PYMODBUS_TYPE = {
    "u16": DT.UINT16, "s16": DT.INT16, "u32": DT.UINT32, "s32": DT.INT32,
    "u64": DT.UINT64, "s64": DT.INT64, "float32": DT.FLOAT32,
    "bitfield16": DT.UINT16, "bitfield32": DT.UINT32, "enum16": DT.UINT16,
    "sunssf": DT.INT16, "acc16": DT.UINT16, "acc32": DT.UINT32, "acc64": DT.UINT64,
}

#: Raw integer values that mean "not implemented" for each type (SunSpec convention).
SENTINELS = {
    "u16": 0xFFFF, "s16": -0x8000, "u32": 0xFFFFFFFF, "s32": -0x80000000,
    "u64": 0xFFFFFFFFFFFFFFFF, "s64": -0x8000000000000000,
    "bitfield16": 0xFFFF, "bitfield32": 0xFFFFFFFF, "enum16": 0xFFFF, "sunssf": -0x8000,
}

WordOrder = Literal["big", "little"] | str   # "big" or "little": the profile loader checks it

# Decoding is on the hot path of every poll: unpack with precompiled structs
# (pymodbus's generic converter is used for encoding, where speed does not matter).
_UNPACK = {t: struct.Struct(">" + dt.value[0]).unpack for t, dt in _PYMODBUS_TYPE.items()}
_WORDS = {n: struct.Struct(f">{n}H").pack for n in (1, 2, 4)}


class _NotImplemented:
    """The decoded value of a register that holds a "not implemented" sentinel."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "n/a"

    def __str__(self) -> str:
        return "n/a"

    def __bool__(self) -> bool:
        return False


NOT_IMPLEMENTED = _NotImplemented()


def width(type_: str, count: int | None = None) -> int:
    """Registers a value of ``type_`` occupies; strings and dates take their ``count``; computed points none."""
    if type_ in ("string", "datetime"):
        if not count:
            raise ValueError(f"a {type_} point needs a register count")
        return count
    if type_ == "computed":
        return 0
    return WIDTH[type_]


def decode_point(registers: list[int], point):
    """Raw value of ``point`` from its registers, with its codec options and sentinels.

    A point's own ``sentinels`` (raw register values meaning "not available",
    e.g. GoodWe's 0x7FFF for "no sensor") are compared with the registers as
    an unsigned number, whatever the point's type.
    """
    if point.sentinels:
        unsigned = 0
        for r in (reversed(registers) if point.word_order == "little" else registers):
            unsigned = unsigned << 16 | r
        if unsigned in point.sentinels:
            return NOT_IMPLEMENTED
    return decode_raw(registers, point.type, point.word_order, encoding=point.encoding,
                      layout=point.layout, year_offset=point.year_offset)


def encode_point(raw, point) -> list[int]:
    """Registers for ``raw`` (before scaling) of ``point``, with its codec options."""
    return encode_raw(raw, point.type, point.word_order, point.count, encoding=point.encoding,
                      layout=point.layout, year_offset=point.year_offset)


def decode_string(registers: list[int], word_order: WordOrder = "big", encoding: str = "ascii"):
    """Text of a string point, cut at the first NUL; NOT_IMPLEMENTED when empty or all 0xFFFF.

    ``ascii`` holds two characters a register (high byte first); ``utf16`` one
    character a register (UTF-16 big-endian, as some firmware strings are:
    0x0030 0x0034 is "04"); ``auto`` takes UTF-16 when every register's high
    byte is zero (an ASCII text never has a NUL before its last character), else ASCII.
    """
    regs = list(reversed(registers) if word_order == "little" else registers)
    if all(r in (0, 0xFFFF) for r in regs):
        return NOT_IMPLEMENTED
    raw = b"".join(r.to_bytes(2, "big") for r in regs)
    if encoding == "auto":  # one character a register (high bytes all zero) is UTF-16, else ASCII
        encoding = "utf16" if all(r < 0x100 for r in regs) else "ascii"
    if encoding == "utf16":
        text = raw.decode("utf-16-be", errors="replace")
    else:
        text = raw.decode("latin-1" if encoding == "latin1" else "ascii", errors="replace")
    text = text.split("\x00", 1)[0].rstrip(" \uffff\xff")
    return text if text else NOT_IMPLEMENTED


def decode_raw(registers: list[int], type_: str, word_order: WordOrder = "big", **opts):
    """Decode registers to the raw value: int, float, str; or NOT_IMPLEMENTED.

    ``opts`` carry a point's codec options: ``encoding`` (strings, dates and
    times), ``layout`` and ``year_offset`` (dates), see ``decode_point``.
    """
    regs = list(registers)
    if type_ == "string":
        return decode_string(regs, word_order, opts.get("encoding") or "ascii")
    if type_ in ("datetime", "time"):
        from . import codecs_time
        if type_ == "time":
            v = codecs_time.decode_time(regs[0], opts.get("encoding") or "bytes")
        else:
            v = codecs_time.decode_datetime(regs, opts.get("layout", ()), opts.get("encoding") or "binary",
                                            opts.get("year_offset", 0))
        return NOT_IMPLEMENTED if v is None else v
    n = WIDTH[type_]
    if n == 1 and len(regs) == 1 and type_ != "sunssf" and type_ != "s16":
        value = regs[0]  # fast path for the commonest case: one unsigned register
        return NOT_IMPLEMENTED if SENTINELS.get(type_) == value else value
    if len(regs) != n:
        raise ValueError(f"{type_} needs {n} registers, got {len(regs)}")
    if word_order == "little":
        regs.reverse()
    value = _UNPACK[type_](_WORDS[n](*regs))[0]
    if type_ == "float32":
        return NOT_IMPLEMENTED if math.isnan(value) else float(value)
    if type_ in ("acc16", "acc32", "acc64"):
        return value
    if SENTINELS.get(type_) == value:
        return NOT_IMPLEMENTED
    return int(value)


def encode_raw(value, type_: str, word_order: WordOrder = "big", count: int | None = None, **opts) -> list[int]:
    """Encode a raw value (before scaling) to registers (``opts`` as for ``decode_raw``)."""
    if type_ in ("datetime", "time"):
        from . import codecs_time
        if type_ == "time":
            return [codecs_time.encode_time(value, opts.get("encoding") or "bytes")]
        if count is None:
            raise ValueError("a date-and-time point needs its register count")
        return codecs_time.encode_datetime(value, count, opts.get("layout", ()), opts.get("encoding") or "binary",
                                           opts.get("year_offset", 0))
    if type_ == "string" and opts.get("encoding") == "utf16":
        size = width("string", count)
        text = str(value)
        if len(text) > size:
            raise ValueError(f"string of {len(text)} characters does not fit {size} registers")
        regs = [ord(c) for c in text.ljust(size, "\x00")]
        return list(reversed(regs)) if word_order == "little" else regs
    if type_ == "string":
        data = str(value).encode("ascii")
        size = width("string", count) * 2
        if len(data) > size:
            raise ValueError(f"string of {len(data)} bytes does not fit {size // 2} registers")
        data = data.ljust(size, b"\x00")
        regs = [int.from_bytes(data[i:i + 2], "big") for i in range(0, size, 2)]
        return list(reversed(regs)) if word_order == "little" else regs
    if value is NOT_IMPLEMENTED:
        if type_ == "float32":
            value = float("nan")
        else:
            value = SENTINELS[type_]
    if type_ != "float32":
        value = int(value)
    return ModbusClientMixin.convert_to_registers(value, _PYMODBUS_TYPE[type_],
                                                  word_order=word_order)  # type: ignore[arg-type]


def apply_scale(raw, scale: float = 1.0, scale_factor: object = None):
    """Engineering value from a raw number: raw * scale * 10**scale_factor.

    A scale factor that is not a number (NOT_IMPLEMENTED: not implemented or not read) makes it n/a.
    """
    if raw is NOT_IMPLEMENTED or isinstance(raw, str):
        return raw
    if scale_factor is not None:
        if not isinstance(scale_factor, (int, float)):
            return NOT_IMPLEMENTED
        scale = scale * (10.0 ** scale_factor)
    if scale == 1.0 and isinstance(raw, int):
        return raw
    return raw * scale


def bits_set(raw: int) -> list[int]:
    """Indices of the bits set in a bitfield value, lowest first."""
    if raw is NOT_IMPLEMENTED:
        return []
    return [i for i in range(raw.bit_length()) if raw >> i & 1]
