"""Modbus RTU answer framing in linear time: find the answer to one request in a byte stream.

Runs on any thread (pure, no I/O); the RTU link feeds it from the device I/O
thread's asyncio loop. pymodbus 3.11's ``FramerRTU`` re-checks the CRC at every
offset of its whole buffer on every read, so garbage costs time with the
square of its length (16 KB of noise: about two minutes of CPU, during which
the loop is blocked and no timeout can fire). PVDesk therefore frames RTU
answers itself: a frame can only start at a byte equal to the unit id asked,
followed by the function code asked (or the same with the exception bit), and
its length follows from the function (``expected_length``); each byte is
looked at once and the CRC is computed only at such candidates. The buffer is
bounded: bytes already ruled out are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

from pymodbus.framer import FramerRTU

MAX_FRAME = 256
_BYTE_COUNT_FUNCTIONS = (1, 2, 3, 4, 23)    # unit, fc, byte count, data, crc
_FIXED_8_FUNCTIONS = (5, 6, 15, 16)         # unit, fc, address, value/quantity, crc


def crc16(data: bytes) -> int:
    """The Modbus CRC of ``data`` as sent on the wire (high byte of the int first)."""
    return FramerRTU.compute_CRC(data)


def expected_length(buf, i: int) -> int | None:
    """Length of the answer frame starting at ``buf[i]`` (unit), or None while unknown/unknowable."""
    if len(buf) < i + 2:
        return None
    fc = buf[i + 1]
    if fc & 0x80:
        return 5
    if fc in _FIXED_8_FUNCTIONS:
        return 8
    if fc in _BYTE_COUNT_FUNCTIONS:
        if len(buf) < i + 3:
            return None
        return 5 + buf[i + 2]
    return None


@dataclass(frozen=True)
class Shape:
    """What an answer to one request looks like: unit, function and (for reads) registers asked."""

    unit: int
    function: int
    count: int | None = None

    def fits(self, frame: bytes) -> bool:
        """Whether a CRC-valid ``frame`` is a well-formed answer of this shape."""
        if frame[0] != self.unit:
            return False
        fc = frame[1]
        if fc & 0x80:
            return fc & 0x7F == self.function
        if fc != self.function:
            return False
        if self.count is not None and fc in (3, 4):
            return frame[2] == 2 * self.count
        return True


class RtuReceiver:
    """Accumulates received bytes and finds CRC-valid frames of the units/functions it looks for."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.scan = 0          # every offset before this one was ruled out as a frame start
        self.seen = 0          # bytes received since reset (for "garbage came back" messages)
        self.head = b""        # the first bytes received since reset (to recognise an echo)

    def reset(self) -> None:
        self.buf.clear()
        self.scan = 0
        self.seen = 0
        self.head = b""

    def feed(self, data: bytes) -> None:
        self.buf += data
        self.seen += len(data)
        if len(self.head) < MAX_FRAME:
            self.head += bytes(data[:MAX_FRAME - len(self.head)])

    def skip_prefix(self, prefix: bytes) -> bool:
        """Drop ``prefix`` (the adapter's echo) if the buffer starts with it; False while undecided."""
        if len(self.buf) < len(prefix):
            return prefix.startswith(bytes(self.buf)) is False
        if self.buf.startswith(prefix):
            del self.buf[:len(prefix)]
            self.scan = 0
        return True

    def next_frame(self, starts: set[tuple[int, int]]) -> bytes | None:
        """The next CRC-valid frame whose (unit, function & 0x7F) is in ``starts``; None for now.

        Offsets that cannot start such a frame are dropped for good, so the
        total work over a stream is linear in its length.
        """
        buf = self.buf
        i = self.scan
        units = {u for u, _ in starts}
        while i < len(buf):
            # jump to the next byte that is one of the units looked for (C speed)
            nxt = min((p for p in (buf.find(u, i) for u in units) if p >= 0), default=-1)
            if nxt < 0:
                i = len(buf)
                break
            i = nxt
            if len(buf) < i + 2:
                break
            if (buf[i], buf[i + 1] & 0x7F) not in starts:
                i += 1
                continue
            size = expected_length(buf, i)
            if size is None:
                if len(buf) < i + 3:
                    break          # the byte count has not arrived yet
                i += 1
                continue
            if len(buf) < i + size:
                break              # wait for the rest of this candidate
            frame = bytes(buf[i:i + size])
            if crc16(frame[:-2]) == int.from_bytes(frame[-2:], "big"):
                del buf[:i + size]
                self.scan = 0
                return frame
            i += 1
        self.scan = i
        if self.scan > 4096:       # bound the buffer: what was ruled out is gone
            del buf[:self.scan]
            self.scan = 0
        return None
