"""Connection fault plays of the simulated inverter: what makes a real site hard to connect to.

Runs on the simulator's asyncio loop. The servers consult one ``FaultPlays``:
- ``max_clients``: Modbus TCP accepts that many clients; the next one is
  accepted and closed at once (an inverter with a single Modbus TCP session
  held by an energy manager). 0 closes every client (Modbus TCP "off").
- ``echo``: the RS-485 adapter echoes every byte the client sends, before
  the answer (a 2-wire adapter without echo suppression).
- ``line``: the line settings the device uses (baud, parity, stop bits). The
  client's settings are read from the pseudo-terminal with termios; a client
  at other settings gets garbage (``mismatch="garbage"``, as bytes sent at
  another rate look to a UART) or nothing (``"silent"``), and its request is
  not executed. Only the baud rate and the stop bits are judged: a Linux
  pseudo-terminal has no UART, refuses or clears the parity flag (kernel 6),
  so PVDesk opens it without parity and the parity cannot be seen here; a
  device set to 8E1 answers an 8N1 or 8O1 client at its baud rate too.
- ``swapped_ab``: every bit of the answers arrives inverted (A and B
  swapped), so no frame is valid at any setting.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, field

_BAUDS = (300, 600, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400)


def _speed_table() -> dict[int, int]:
    if sys.platform == "win32":  # pragma: no cover - the pty server is POSIX only
        return {}
    import termios
    return {getattr(termios, f"B{b}"): b for b in _BAUDS if hasattr(termios, f"B{b}")}


@dataclass
class LineExpect:
    """The device's own serial settings."""

    baud: int
    parity: str = "N"
    stopbits: int = 1
    mismatch: str = "garbage"   # or "silent"

    def label(self) -> str:
        return f"{self.baud} 8{self.parity}{self.stopbits}"


def client_line(fd: int) -> tuple[int | None, int]:
    """(baud, stop bits) the client set on the pseudo-terminal ``fd``."""
    import termios
    attrs = termios.tcgetattr(fd)
    cflag, ospeed = attrs[2], attrs[5]
    return _speed_table().get(ospeed), 2 if cflag & termios.CSTOPB else 1


def parse_line(text: str) -> tuple[int, str, int]:
    """'19200-8E1' or '19200 8E1' or '9600' -> (19200, 'E', 1)."""
    baud, _, framing = text.replace(" ", "-").partition("-")
    framing = (framing or "8N1").upper()
    if not baud.isdigit() or len(framing) != 3 or framing[0] != "8" or framing[1] not in "NEO" \
            or framing[2] not in "12":
        raise ValueError(f"line settings are BAUD-8P S, e.g. 19200-8E1; got {text!r}")
    return int(baud), framing[1], int(framing[2])


@dataclass
class FaultPlays:
    """The plays in force now (see the module docstring)."""

    max_clients: int | None = None
    echo: bool = False
    line: LineExpect | None = None
    swapped_ab: bool = False
    rng: random.Random = field(default_factory=lambda: random.Random(15))
    mismatches: int = 0

    def tcp_refuses(self, open_connections: int) -> bool:
        """Whether a new TCP client is to be accepted and closed at once."""
        return self.max_clients is not None and open_connections >= self.max_clients

    def line_verdict(self, fd: int) -> str:
        """"ok", "garbage" or "silent" for the client now on the pseudo-terminal ``fd``."""
        if self.line is None:
            return "ok"
        baud, stopbits = client_line(fd)
        want = self.line
        if baud == want.baud and stopbits == want.stopbits:
            return "ok"
        self.mismatches += 1
        return want.mismatch

    def garbage_for(self, frame: bytes, fd: int) -> bytes:
        """What an answer of ``frame`` looks like to a client at the wrong rate."""
        baud = client_line(fd)[0] or 9600
        n = max(1, round(len(frame) * baud / self.line.baud)) if self.line else len(frame)
        return bytes(self.rng.randrange(256) for _ in range(min(n, 4 * len(frame) + 4)))

    def on_wire(self, frame: bytes) -> bytes:
        """An answer as it arrives: inverted when A and B are swapped."""
        return bytes(b ^ 0xFF for b in frame) if self.swapped_ab else frame
