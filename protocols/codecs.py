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
    "acc16": 1, "acc32": 2, "acc64": 4,
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

WordOrder = Literal["big", "little"]

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
    """Registers a value of ``type_`` occupies; strings take their ``count``."""
    if type_ == "string":
        if not count:
            raise ValueError("a string point needs a register count")
        return count
    return WIDTH[type_]


def decode_raw(registers: list[int], type_: str, word_order: WordOrder = "big"):
    """Decode registers to the raw value: int, float, str; or NOT_IMPLEMENTED."""
    regs = list(registers)
    if type_ == "string":
        if all(r in (0, 0xFFFF) for r in regs):
            return NOT_IMPLEMENTED
        raw = b"".join(r.to_bytes(2, "big") for r in (reversed(regs) if word_order == "little" else regs))
        raw = raw.split(b"\x00", 1)[0].rstrip(b" ")  # a string ends at its first NUL
        return raw.decode("ascii", errors="replace") if raw else NOT_IMPLEMENTED
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


def encode_raw(value, type_: str, word_order: WordOrder = "big", count: int | None = None) -> list[int]:
    """Encode a raw value (before scaling) to registers."""
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
    return ModbusClientMixin.convert_to_registers(value, _PYMODBUS_TYPE[type_], word_order=word_order)


def apply_scale(raw, scale: float = 1.0, scale_factor: int | None = None):
    """Engineering value from a raw number: raw * scale * 10**scale_factor."""
    if raw is NOT_IMPLEMENTED or isinstance(raw, str):
        return raw
    if scale_factor is not None:
        if scale_factor is NOT_IMPLEMENTED:
            return NOT_IMPLEMENTED
        scale = scale * (10.0 ** scale_factor)
    if scale == 1.0 and isinstance(raw, int):
        return raw
    return raw * scale


def unscale(value: float, scale: float = 1.0, scale_factor: int | None = None) -> int | float:
    """The raw number that encodes ``value`` (rounded for integer types)."""
    if scale_factor is not None:
        scale = scale * (10.0 ** scale_factor)
    return value / scale


def bits_set(raw: int) -> list[int]:
    """Indices of the bits set in a bitfield value, lowest first."""
    if raw is NOT_IMPLEMENTED:
        return []
    return [i for i in range(raw.bit_length()) if raw >> i & 1]
