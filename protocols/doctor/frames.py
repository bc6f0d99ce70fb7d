"""Raw Modbus frames for the connection doctor: MBAP, RTU (with echo), Solarman V5 and GoodWe AA55.

Runs on any thread (pure functions, no I/O). The doctor frames its probes
itself rather than through pymodbus so that it sees every byte: an echo of
its own request, garbage at a wrong baud rate, a V5 answer naming another
logger serial, an AA55-wrapped answer. It only ever builds *read* requests
(function 3 or 4); nothing here can build a write.

Framing facts: Modbus Application Protocol v1.1b3 and the Modbus serial line
guide (MBAP header, RTU CRC-16 polynomial 0xA001, low byte first); GoodWe's
UDP answers are ``AA 55`` + the RTU answer, CRC over the RTU part (as the
MIT-licensed marcelblijleven/goodwe library reads them, goodwe/modbus.py at
commit 10aa1481a943d6c6a8447b14cf3db1113cea707c); Solarman V5 as in
protocols/sim/v5_server.py.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass


def _crc_table() -> tuple[int, ...]:
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _crc_table()


def crc16(data: bytes) -> int:
    """Modbus RTU CRC-16 of ``data`` (sent low byte first)."""
    crc = 0xFFFF
    for b in data:
        crc = (crc >> 8) ^ _TABLE[(crc ^ b) & 0xFF]
    return crc


def with_crc(body: bytes) -> bytes:
    return body + struct.pack("<H", crc16(body))


@dataclass(frozen=True)
class Answer:
    """A decoded answer: registers, or a Modbus exception code."""

    unit: int
    function: int
    registers: tuple[int, ...] = ()
    exception: int | None = None

    @property
    def is_exception(self) -> bool:
        return self.exception is not None


def read_pdu(function: int, address: int, count: int) -> bytes:
    if function not in (3, 4):
        raise ValueError("the doctor only reads (function 3 or 4)")
    return struct.pack(">BHH", function, address, count)


def _parse_pdu(unit: int, pdu: bytes, function: int, count: int) -> Answer | None:
    """The Answer in ``pdu`` when it answers a read of ``count`` with ``function``; else None."""
    if len(pdu) >= 2 and pdu[0] == function | 0x80:
        return Answer(unit, function, exception=pdu[1])
    if len(pdu) < 2 or pdu[0] != function or pdu[1] != 2 * count or len(pdu) != 2 + 2 * count:
        return None
    return Answer(unit, function, struct.unpack(f">{count}H", pdu[2:]))


# ------------------------------------------------------------------ MBAP
def mbap_read(transaction: int, unit: int, function: int, address: int, count: int) -> bytes:
    pdu = read_pdu(function, address, count)
    return struct.pack(">HHHB", transaction & 0xFFFF, 0, len(pdu) + 1, unit) + pdu


def mbap_length(buf: bytes) -> int | None:
    """Total length of the MBAP frame starting ``buf``, once its header is in; None before."""
    if len(buf) < 7:
        return None
    return 6 + struct.unpack(">H", buf[4:6])[0]


def parse_mbap(buf: bytes, transaction: int, unit: int, function: int, count: int) -> Answer | None:
    """The answer to our MBAP request, or None when ``buf`` is not one (protocol id, tid, unit checked)."""
    total = mbap_length(buf)
    if total is None or len(buf) < total or total < 9:
        return None
    tid, proto, _, uid = struct.unpack(">HHHB", buf[:7])
    if proto != 0 or tid != transaction & 0xFFFF or uid != unit:
        return None
    return _parse_pdu(unit, buf[7:total], function, count)


# ------------------------------------------------------------------- RTU
def rtu_read(unit: int, function: int, address: int, count: int) -> bytes:
    return with_crc(bytes([unit]) + read_pdu(function, address, count))


def rtu_answer_length(function: int, count: int) -> int:
    return 5 + 2 * count


def parse_rtu(buf: bytes, unit: int, function: int, count: int) -> Answer | None:
    """The first valid RTU answer from ``unit`` anywhere in ``buf`` (garbage before it is skipped)."""
    sizes = (rtu_answer_length(function, count), 5)
    for start in range(len(buf)):
        if buf[start] != unit:
            continue
        for size in sizes:
            frame = buf[start:start + size]
            if len(frame) == size and crc16(frame[:-2]) == struct.unpack("<H", frame[-2:])[0]:
                answer = _parse_pdu(unit, frame[1:-2], function, count)
                if answer is not None:
                    return answer
    return None


def split_echo(buf: bytes, request: bytes) -> tuple[bool, bytes]:
    """(echoed, rest): whether ``buf`` starts with our own request, and what follows it."""
    if len(buf) >= len(request) and buf.startswith(request):
        return True, buf[len(request):]
    return False, buf


# --------------------------------------------------------------- GoodWe
AA55 = b"\xaa\x55"


def parse_aa55(buf: bytes, unit: int, function: int, count: int) -> Answer | None:
    """A GoodWe UDP answer: ``AA 55`` + RTU answer (the CRC covers the RTU part only)."""
    if not buf.startswith(AA55):
        return None
    return parse_rtu(buf[2:], unit, function, count)


# ----------------------------------------------------------- Solarman V5
V5_START, V5_END = 0xA5, 0x15
V5_REQUEST, V5_RESPONSE = 0x4510, 0x1510


def v5_checksum(frame: bytes | bytearray) -> int:
    return sum(frame[1:-2]) & 0xFF


def v5_request(sequence: int, logger_serial: int, rtu: bytes) -> bytes:
    """A V5 request frame carrying ``rtu`` to the logger ``logger_serial``."""
    payload = bytes([0x02, 0, 0]) + bytes(12) + rtu
    frame = bytearray(struct.pack("<BHHH", V5_START, len(payload), V5_REQUEST, sequence & 0xFFFF)
                      + struct.pack("<I", logger_serial & 0xFFFFFFFF) + payload + b"\x00" + bytes([V5_END]))
    frame[-2] = v5_checksum(frame)
    return bytes(frame)


@dataclass(frozen=True)
class V5Frame:
    """A V5 response: which logger sent it, and the RTU bytes inside."""

    logger_serial: int
    rtu: bytes


def parse_v5(buf: bytes) -> V5Frame | None:
    """The first whole, valid V5 response frame in ``buf``; None if there is none yet."""
    start = buf.find(bytes([V5_START]))
    while start >= 0 and len(buf) - start >= 13:
        length = struct.unpack("<H", buf[start + 1:start + 3])[0]
        frame = buf[start:start + 13 + length]
        if len(frame) == 13 + length and frame[-1] == V5_END and frame[-2] == v5_checksum(frame):
            code = struct.unpack("<H", frame[3:5])[0]
            if code == V5_RESPONSE:
                serial = struct.unpack("<I", frame[7:11])[0]
                return V5Frame(serial, frame[11 + 14:-2])
        start = buf.find(bytes([V5_START]), start + 1)
    return None
