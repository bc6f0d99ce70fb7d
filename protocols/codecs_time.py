"""Date-time and time-of-day register codecs.

Runs on any thread (pure functions). Inverters keep their clock in one of a
few layouts, all described by a point's fields rather than by code:

* ``datetime`` over several registers: the ``layout`` names the fields in
  wire order (``year``, ``month``, ``day``, ``hour``, ``minute``, ``second``,
  ``weekday`` or ``skip``); with as many fields as registers each field is one
  register, with twice as many each register holds two (high byte first).
  ``encoding`` is ``binary`` (default) or ``bcd``; ``year_offset`` is added to
  the year as stored (GoodWe stores 24 for 2024: offset 2000). ``epoch``
  reads a u32 of seconds since 1970 (the device's local time, no zone).
* ``time`` (time of day, ``"HH:MM"``) in one register: ``bytes`` (high byte
  hour, low byte minute; default), ``decimal`` (hour x 100 + minute, e.g. 2230),
  ``minutes`` (minutes after midnight) or ``bcd`` (0x2230).

Values are strings (``"2024-05-01 13:45:00"``, ``"13:45"``), so they travel
through samples, JSON and CSV unchanged; an impossible date (month 13, all
zero registers) is "not available", never a made-up time.
"""

from __future__ import annotations

import datetime as _dt

DATE_FIELDS = ("year", "month", "day", "hour", "minute", "second", "weekday", "skip")
TIME_ENCODINGS = ("bytes", "decimal", "minutes", "bcd")
DATETIME_ENCODINGS = ("binary", "bcd", "epoch")


def _from_bcd(v: int) -> int | None:
    out, mul = 0, 1
    while v:
        d = v & 0xF
        if d > 9:
            return None
        out += d * mul
        mul *= 10
        v >>= 4
    return out


def _to_bcd(v: int) -> int:
    out, shift = 0, 0
    while True:
        out |= (v % 10) << shift
        v //= 10
        shift += 4
        if not v:
            return out


def _fields_of(registers: list[int], n_fields: int) -> list[int]:
    if n_fields == len(registers):
        return list(registers)
    if n_fields == 2 * len(registers):
        out = []
        for r in registers:
            out += [r >> 8, r & 0xFF]
        return out
    raise ValueError(f"a layout of {n_fields} fields does not fit {len(registers)} registers")


def decode_datetime(registers: list[int], layout=(), encoding: str = "binary", year_offset: int = 0):
    """``"YYYY-MM-DD HH:MM:SS"`` or None when the registers hold no valid date."""
    if encoding == "epoch":
        if len(registers) != 2 or registers in ([0, 0], [0xFFFF, 0xFFFF]):
            return None
        secs = registers[0] << 16 | registers[1]
        return _dt.datetime.fromtimestamp(secs, _dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    raw = _fields_of(registers, len(layout))
    got: dict[str, int] = {}
    for name, v in zip(layout, raw):
        if name == "skip":
            continue
        if encoding == "bcd":
            decoded = _from_bcd(v)
            if decoded is None:
                return None
            v = decoded
        got[name] = v
    try:
        when = _dt.datetime(got.get("year", 0) + year_offset, got.get("month", 1), got.get("day", 1),
                            got.get("hour", 0), got.get("minute", 0), got.get("second", 0))
    except ValueError:
        return None
    return when.strftime("%Y-%m-%d %H:%M:%S")


def parse_datetime(value) -> _dt.datetime:
    """A datetime from ``datetime``, ISO text (``2024-05-01 13:45[:00]``) or Unix seconds."""
    if isinstance(value, _dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, (int, float)):
        return _dt.datetime.fromtimestamp(value, _dt.UTC).replace(tzinfo=None)
    text = str(value).strip().replace("T", " ")
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return _dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(f"{value!r} is not a date and time (write it as YYYY-MM-DD HH:MM:SS)")


def encode_datetime(value, count: int, layout=(), encoding: str = "binary", year_offset: int = 0) -> list[int]:
    """Registers for a date and time (see ``decode_datetime``)."""
    when = parse_datetime(value)
    if encoding == "epoch":
        secs = int(when.replace(tzinfo=_dt.UTC).timestamp())
        return [secs >> 16 & 0xFFFF, secs & 0xFFFF]
    parts = {"year": when.year - year_offset, "month": when.month, "day": when.day, "hour": when.hour,
             "minute": when.minute, "second": when.second, "weekday": when.isoweekday() % 7, "skip": 0}
    limit = 0xFF if len(layout) == 2 * count else 0xFFFF
    raw = []
    for name in layout:
        v = parts[name]
        if v < 0 or v > (99 if encoding == "bcd" and name == "year" else limit):
            raise ValueError(f"{when:%Y} cannot be stored with a year offset of {year_offset}")
        raw.append(_to_bcd(v) if encoding == "bcd" else v)
    if len(layout) == count:
        return raw
    return [raw[i] << 8 | raw[i + 1] for i in range(0, len(raw), 2)]


def decode_time(register: int, encoding: str = "bytes"):
    """``"HH:MM"`` or None when the register holds no valid time of day."""
    if encoding == "bytes":
        h, m = register >> 8, register & 0xFF
    elif encoding == "decimal":
        h, m = divmod(register, 100)
    elif encoding == "minutes":
        h, m = divmod(register, 60)
    elif encoding == "bcd":
        bcd_h, bcd_m = _from_bcd(register >> 8), _from_bcd(register & 0xFF)
        if bcd_h is None or bcd_m is None:
            return None
        h, m = bcd_h, bcd_m
    else:
        raise ValueError(f"unknown time encoding {encoding!r}")
    if not (0 <= h <= 23 and 0 <= m <= 59) and not (h == 24 and m == 0):
        return None
    return f"{h:02d}:{m:02d}"


def encode_time(value, encoding: str = "bytes") -> int:
    """The register for ``"HH:MM"`` (also accepts ``datetime.time``)."""
    if isinstance(value, _dt.time):
        h, m = value.hour, value.minute
    else:
        text = str(value).strip()
        try:
            hs, ms = text.split(":")[:2]
            h, m = int(hs), int(ms)
        except ValueError:
            raise ValueError(f"{value!r} is not a time of day (write it as HH:MM)") from None
    if not (0 <= h <= 23 and 0 <= m <= 59) and not (h == 24 and m == 0):
        raise ValueError(f"{value!r} is not a time of day (00:00 to 23:59)")
    if encoding == "bytes":
        return h << 8 | m
    if encoding == "decimal":
        return h * 100 + m
    if encoding == "minutes":
        return h * 60 + m
    if encoding == "bcd":
        return _to_bcd(h) << 8 | _to_bcd(m)
    raise ValueError(f"unknown time encoding {encoding!r}")
