"""Link faults the simulated inverter can inject, as trainers and tests ask.

Runs on the simulator's asyncio loop. Each fault is a counter or a deadline
on the simulator's wall clock; the server consults it for every frame.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field


class CountedFaults:
    """Faults counted down one frame at a time (the fields named in ``take``)."""

    def take(self, name: str) -> bool:
        """Consume one occurrence of a counted fault; False when none is left."""
        left = getattr(self, name)
        if left > 0:
            setattr(self, name, left - 1)
            return True
        return False


@dataclass
class LinkFaults(CountedFaults):
    """What goes wrong on the link now."""

    delay_s: float = 0.0
    drop_until: float = 0.0
    mute_until: float = 0.0
    corrupt_crc: int = 0
    garbage: int = 0
    truncate: int = 0
    silent: int = 0
    noise: int = 0          # the next answer is replaced by this many bytes of line noise
    exception: dict[int, int] = field(default_factory=dict)  # code -> remaining answers
    line_baud: int | None = None
    bits_per_char: int = 10
    rng: random.Random = field(default_factory=lambda: random.Random(7))

    def link_down(self) -> bool:
        """True while the cable is "pulled": TCP connections are refused and closed."""
        return time.monotonic() < self.drop_until

    def muted(self) -> bool:
        """True while requests are received but not answered."""
        return time.monotonic() < self.mute_until or self.link_down()

    def take_exception(self) -> int | None:
        for code, left in list(self.exception.items()):
            if left > 0:
                self.exception[code] = left - 1
                return code
        return None

    def line_time_s(self, n_bytes: int) -> float:
        """Time ``n_bytes`` take on an emulated serial line (0 when not emulated)."""
        if not self.line_baud:
            return 0.0
        return n_bytes * self.bits_per_char / self.line_baud

    def mangle(self, frame: bytes, rtu: bool) -> bytes | None:
        """Apply the counted frame faults to an outgoing answer (None = say nothing)."""
        if self.take("silent"):
            return None
        if self.noise:
            size, self.noise = self.noise, 0
            return self.rng.randbytes(size)
        if self.take("garbage"):
            return bytes(self.rng.randrange(256) for _ in range(max(5, len(frame))))
        if self.take("truncate"):
            return frame[: max(1, len(frame) // 2)]
        if self.take("corrupt_crc"):
            if rtu:
                return frame[:-1] + bytes([frame[-1] ^ 0x5A])
            # Modbus TCP has no CRC: corrupt the MBAP length so the frame is invalid.
            return frame[:4] + b"\x00\x01" + frame[6:]
        return frame
