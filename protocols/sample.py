"""A Sample: one poll cycle's decoded values, as handed to the GUI, CLI and recorder.

Runs on any thread; plain data, safe to pass between threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import codecs


@dataclass
class Sample:
    """Values of one cycle: ``values`` by point name, ``flags`` for doubtful ones."""

    timestamp_s: float
    values: dict[str, object]
    flags: dict[str, str] = field(default_factory=dict)
    unit: int = 1
    reads: int = 0
    duration_s: float = 0.0

    def number(self, name: str) -> float | None:
        """The value as a float, or None when absent, not implemented or flagged."""
        v = self.values.get(name)
        if v is None or v is codecs.NOT_IMPLEMENTED or isinstance(v, str) or name in self.flags:
            return None
        return float(v)  # type: ignore[arg-type]  # a number of any kind (int, float, numpy)

    def to_json(self) -> dict:
        """JSON-ready form: "n/a" for not implemented."""
        return {"timestamp_s": self.timestamp_s, "unit": self.unit,
                "values": {k: (None if v is codecs.NOT_IMPLEMENTED else v) for k, v in self.values.items()},
                "flags": dict(self.flags)}
