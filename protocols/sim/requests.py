"""Requests as the simulator receives them on the wire, checked as the Modbus specification says.

Runs on the simulator's asyncio loop (pure functions). The simulator parses
request PDUs itself instead of with pymodbus's lax decoder, so that it can
answer what the Modbus Application Protocol v1.1b3 prescribes: an unknown
function is exception 01; a quantity outside 1..125 (FC3/FC4) or 1..123
(FC16), or an FC16 byte count other than 2 x its quantity, is exception 03; an
address + quantity past 65536 is exception 02 (checked in that order, as the
specification's state diagrams do). RTU requests are split from the byte
stream by their function's length; an unknown function's frame is the whole
burst when its CRC fits (RTU frames are delimited by silence).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pymodbus.framer import FramerRTU

READ_FUNCTIONS = (3, 4)
MAX_READ, MAX_WRITE = 125, 123


@dataclass
class SimRequest:
    """One request: the attributes the Dispatcher reads (the same names as pymodbus's PDUs)."""

    function_code: int
    dev_id: int = 0
    transaction_id: int = 0
    address: int = 0
    count: int = 0
    registers: list[int] = field(default_factory=list)
    byte_count: int | None = None
    data: bytes = b""
    malformed: bool = False


def parse_pdu(pdu: bytes, unit: int, tid: int = 0) -> SimRequest:
    """The request in a PDU (function code first); a wrong length is marked ``malformed`` (03)."""
    fc = pdu[0]
    body = pdu[1:]
    req = SimRequest(fc, unit, tid, data=bytes(body))
    if fc in (3, 4, 6):
        if len(body) != 4:
            req.malformed = True
            return req
        req.address = int.from_bytes(body[0:2], "big")
        value = int.from_bytes(body[2:4], "big")
        if fc == 6:
            req.count, req.registers = 1, [value]
        else:
            req.count = value
    elif fc == 16:
        if len(body) < 5:
            req.malformed = True
            return req
        req.address = int.from_bytes(body[0:2], "big")
        req.count = int.from_bytes(body[2:4], "big")
        req.byte_count = body[4]
        values = body[5:]
        if len(values) != req.byte_count or len(values) % 2:
            req.malformed = True
        req.registers = [int.from_bytes(values[i:i + 2], "big") for i in range(0, len(values) - 1, 2)]
    return req


def check(req) -> int | None:
    """The exception code the specification prescribes before execution (01, 03, 02), or None."""
    fc = req.function_code
    if fc not in (3, 4, 6, 16):
        return 1
    if getattr(req, "malformed", False):
        return 3
    if fc in READ_FUNCTIONS:
        if not 1 <= req.count <= MAX_READ:
            return 3
        span = req.count
    elif fc == 16:
        byte_count = getattr(req, "byte_count", None)
        if not 1 <= req.count <= MAX_WRITE or (byte_count is not None and byte_count != 2 * req.count) \
                or len(req.registers) != req.count:
            return 3
        span = req.count
    else:
        span = 1
    if req.address + span > 65536:
        return 2
    return None


def rtu_request_length(buf) -> int | None:
    """Length of the RTU request at the start of ``buf`` by its function, None if unknown."""
    if len(buf) < 2:
        return None
    fc = buf[1]
    if fc in (1, 2, 3, 4, 5, 6):
        return 8
    if fc in (15, 16):
        return 9 + buf[6] if len(buf) >= 7 else None
    return None


def split_rtu(buf: bytes) -> tuple[bytes | None, int]:
    """(frame, bytes used) of the first request in ``buf``; (None, 0) to wait for more, (None, n) to drop n."""
    if len(buf) < 4:
        return None, 0
    size = rtu_request_length(buf)
    if size is None:
        # an unknown function: the whole burst is the frame if its CRC fits
        if FramerRTU.check_CRC(buf[:-2], int.from_bytes(buf[-2:], "big")):
            return bytes(buf), len(buf)
        return None, 0
    if len(buf) < size:
        return None, 0
    frame = bytes(buf[:size])
    if FramerRTU.check_CRC(frame[:-2], int.from_bytes(frame[-2:], "big")):
        return frame, size
    return None, 1   # a bad CRC: no answer (the serial line guide), hunt on from the next byte


def build_pdu(resp) -> bytes:
    """A pymodbus response PDU as bytes (function code first)."""
    return resp.function_code.to_bytes(1, "big") + resp.encode()
