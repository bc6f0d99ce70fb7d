"""The doctor's time budget and progress: fraction done and time left, through a callback.

Runs on the doctor's asyncio loop. Work is planned as steps with an
estimated cost in seconds; the fraction done is the estimated cost spent
over the total planned, the time left the remaining estimate (never past the
budget). ``over()`` says when the budget is spent: the doctor then stops and
says how much it did not try.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

#: Called with (fraction done 0..1, seconds left, what is being tried now).
ProgressCallback = Callable[[float, float, str], None]


@dataclass
class Progress:
    fraction: float
    left_s: float
    doing: str


class Budget:
    """Seconds allowed, estimated work planned and spent, and the progress callback."""

    def __init__(self, budget_s: float, callback: ProgressCallback | None = None) -> None:
        self.budget_s = budget_s
        self.callback = callback
        self.t0 = time.monotonic()
        self.planned_s = 0.0
        self.spent_s = 0.0
        self.skipped = 0

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def left(self) -> float:
        return max(0.0, self.budget_s - self.elapsed())

    def over(self) -> bool:
        return self.elapsed() >= self.budget_s

    def plan(self, cost_s: float) -> None:
        """Add estimated work (seconds) to the plan."""
        self.planned_s += max(0.0, cost_s)

    def done(self, cost_s: float, doing: str = "") -> None:
        """Mark planned work (its estimate) as done and report progress."""
        self.spent_s = min(self.planned_s, self.spent_s + max(0.0, cost_s))
        self.report(doing)

    def report(self, doing: str = "") -> None:
        if self.callback is None:
            return
        fraction = 1.0 if self.planned_s <= 0 else min(1.0, self.spent_s / self.planned_s)
        left = min(self.left(), max(0.0, self.planned_s - self.spent_s))
        self.callback(fraction, left, doing)

    def finish(self, doing: str = "done") -> None:
        self.spent_s = self.planned_s
        if self.callback is not None:
            self.callback(1.0, 0.0, doing)
