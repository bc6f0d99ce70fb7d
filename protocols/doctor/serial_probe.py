"""Serial probes of the connection doctor: one read at one line setting and unit id, every byte watched.

Runs in a worker thread (``asyncio.to_thread`` from the doctor's loop):
pyserial's blocking calls never run on the loop. An exchange writes one RTU
read, collects what comes back until a valid answer arrived or the timeout
passed, and says what it was: "answer"/"exception" (perhaps after our own
request echoed: ``echo`` is set), "echo" (only our request came back),
"garbage" (bytes, but no valid frame: wrong baud rate or parity, A/B
swapped), "silent" (nothing at all). After each exchange the line is
drained until it has been quiet for 3.5 character times.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from . import frames
from .plan import LineSettings


@dataclass
class SerialResult:
    outcome: str
    echo: bool = False
    answer: frames.Answer | None = None
    rx_bytes: int = 0


class SerialProbe:
    """A serial port opened for probing; ``set_line`` changes its settings."""

    def __init__(self, port: str) -> None:
        self.port = port
        self._ser: Any = None   # a serial.Serial while open
        self.line: LineSettings | None = None

    def open(self, line: LineSettings) -> None:
        import serial
        parity = line.parity
        if parity != "N" and os.path.realpath(self.port).startswith("/dev/pts/"):
            parity = "N"   # a pseudo-terminal has no UART: Linux refuses the parity flag on it
        self._ser = serial.Serial(self.port, line.baud, parity=parity, stopbits=line.stopbits,
                                  bytesize=8, timeout=0.005, write_timeout=1.0)
        self.line = line

    def set_line(self, line: LineSettings) -> None:
        if self._ser is None:
            self.open(line)
            return
        if line != self.line:
            # Reopened rather than reconfigured: some drivers (Linux pseudo-terminals among them)
            # refuse a parity change on an open port.
            self.close()
            self.open(line)

    def close(self) -> None:
        if self._ser is not None:
            self._ser.close()
            self._ser = None

    def exchange(self, unit: int, timeout_s: float, function: int = 3, address: int = 0,
                 count: int = 1) -> SerialResult:
        ser = self._ser
        request = frames.rtu_read(unit, function, address, count)
        ser.reset_input_buffer()
        ser.write(request)
        ser.flush()
        buf = b""
        deadline = time.monotonic() + timeout_s
        result = None
        while time.monotonic() < deadline:
            chunk = ser.read(max(1, ser.in_waiting))
            if not chunk:
                continue
            buf += chunk
            echo, rest = frames.split_echo(buf, request)
            answer = frames.parse_rtu(rest, unit, function, count)
            if answer is not None:
                result = SerialResult("exception" if answer.is_exception else "answer", echo, answer, len(buf))
                break
        self._drain()
        if result is not None:
            return result
        echo, rest = frames.split_echo(buf, request)
        if echo and not rest:
            return SerialResult("echo", True, rx_bytes=len(buf))
        return SerialResult("garbage" if buf else "silent", echo, rx_bytes=len(buf))

    def _drain(self) -> None:
        """Read until the line has been quiet for 3.5 characters (so a late answer is not taken next)."""
        quiet_s = max(0.004, 3.5 * self.line.char_time_s()) if self.line is not None else 0.004
        last = time.monotonic()
        end = last + 0.5
        while time.monotonic() < end and time.monotonic() - last < quiet_s:
            if self._ser.read(max(1, self._ser.in_waiting)):
                last = time.monotonic()
