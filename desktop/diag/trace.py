"""The optional bus trace: every raw Modbus frame sent and received, like a protocol analyser.

``BusTrace`` subscribes to a Link's ``frame_listeners`` (called ON THE I/O
THREAD with direction "tx"/"rx", the bytes as they went over the wire --
MBAP-framed for TCP, RTU with CRC for serial -- and the time) and hands each
frame to a sink (the recorder's queue). ``describe_frame`` gives the one-line
analyser view used by the CSV export and the review window. No Qt.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Sink = Callable[[str, bytes, float], None]

FUNCTION_NAMES = {1: "read coils", 2: "read discrete inputs", 3: "read holding", 4: "read input",
                  5: "write coil", 6: "write register", 15: "write coils", 16: "write registers",
                  43: "device identification"}


class BusTrace:
    """Attach to one link at a time; frames go to ``sink``."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.link = None

    def attach(self, link) -> None:
        """Start tracing ``link`` (I/O thread)."""
        self.detach()
        link.frame_listeners.append(self.sink)
        self.link = link

    def detach(self, _link=None) -> None:
        """Stop tracing (I/O thread); safe when not attached."""
        if self.link is not None and self.sink in self.link.frame_listeners:
            self.link.frame_listeners.remove(self.sink)
        self.link = None

    @property
    def active(self) -> bool:
        return self.link is not None


def pdu_of(frame: bytes, kind: str = "auto") -> tuple[int | None, bytes]:
    """(unit id, PDU) of a TCP (MBAP) or RTU frame; kind "auto" guesses from the MBAP length field."""
    if kind in ("auto", "tcp") and len(frame) >= 8 and frame[2:4] == b"\x00\x00" \
            and int.from_bytes(frame[4:6], "big") == len(frame) - 6:
        return frame[6], frame[7:]
    if len(frame) >= 4:
        return frame[0], frame[1:-2]  # RTU: unit, PDU, CRC
    return None, frame


def describe_frame(t_s: float, direction: str, frame: bytes) -> str:
    """One analyser line: time, direction, unit, function, detail, raw hex."""
    unit, pdu = pdu_of(frame)
    when = datetime.fromtimestamp(t_s, UTC).strftime("%H:%M:%S.%f")[:-3]
    text = ""
    if pdu:
        fc = pdu[0]
        if fc & 0x80:
            code = pdu[1] if len(pdu) > 1 else None
            text = f"exception {code} to {FUNCTION_NAMES.get(fc & 0x7F, f'function {fc & 0x7F}')}"
        elif direction == "tx" and fc in (3, 4) and len(pdu) >= 5:
            text = f"{FUNCTION_NAMES[fc]} {int.from_bytes(pdu[1:3], 'big')} x{int.from_bytes(pdu[3:5], 'big')}"
        elif fc in (6, 16) and len(pdu) >= 3:
            text = f"{FUNCTION_NAMES[fc]} at {int.from_bytes(pdu[1:3], 'big')}"
        else:
            text = FUNCTION_NAMES.get(fc, f"function {fc}")
    return f"{when}Z {direction} unit {unit} {text:<28} {frame.hex(' ')}"
