"""What the connection doctor found: every attempt (the log), the findings and the diagnoses.

Runs on any thread (plain data). ``Report.as_dict()`` is what diagnostics
bundles keep and ``Report.log_lines()`` what the app log gets; neither holds
anything but addresses, ports, unit ids and line settings (no customer data,
no secrets).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from ..links.factory import LinkSpec


@dataclass
class Attempt:
    """One thing tried and what came of it (``outcome`` is a short keyword, ``detail`` words)."""

    what: str          # "tcp-port", "unit", "sunspec", "v5-discovery", "v5", "goodwe-udp", "serial"
    target: str        # e.g. "127.0.0.1:1502 unit 247" or "/dev/ttyUSB0 19200 8E1 unit 1"
    outcome: str       # refused, closed, silent, modbus, exception, answer, echo, garbage, ...
    detail: str = ""
    elapsed_s: float = 0.0
    at_s: float = field(default_factory=time.time)

    def line(self) -> str:
        extra = f": {self.detail}" if self.detail else ""
        return f"{self.what} {self.target} -> {self.outcome}{extra} ({self.elapsed_s * 1000:.0f} ms)"


@dataclass
class Finding:
    """A device that answered, with the exact settings to connect to it."""

    spec: LinkSpec
    unit: int
    note: str = ""
    sunspec_base: int | None = None

    def label(self) -> str:
        return f"{self.spec.label()} unit {self.unit}"

    def cli_args(self) -> list[str]:
        """The `pvdesk` connection options that reach this device."""
        s = self.spec
        if s.kind == "tcp":
            args = ["--tcp", f"{s.host}:{s.port}"]
        elif s.kind == "serial":
            args = ["--serial", s.serial_port, "--baud", str(s.baud), "--parity", s.parity,
                    "--stopbits", str(s.stopbits)]
            if s.local_echo:
                args.append("--local-echo")
        elif s.kind == "v5":
            args = ["--v5", f"{s.host}:{s.port}", "--logger-serial", str(s.logger_serial)]
        elif s.kind == "udp":
            args = ["--udp", f"{s.host}:{s.port}"]
        else:
            args = [f"--{s.kind}", f"{s.host}:{s.port}"]
        return args + ["--unit", str(self.unit)]

    def as_dict(self) -> dict:
        return {"spec": self.spec.to_dict(), "unit": self.unit, "note": self.note,
                "sunspec_base": self.sunspec_base, "connect": " ".join(self.cli_args())}


@dataclass
class Diagnosis:
    """One known cause in plain words, and the next step."""

    cause: str         # keyword: found, one-client, modbus-off, closed, silent-host, echo, wrong-line, ...
    text: str
    next_step: str

    def line(self) -> str:
        return f"{self.text} Next: {self.next_step}"


@dataclass
class Report:
    """The doctor's result for one host or one serial port."""

    target: str
    attempts: list[Attempt] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)
    elapsed_s: float = 0.0
    budget_s: float = 0.0
    stopped_by_budget: bool = False
    not_tried: int = 0

    @property
    def best(self) -> Finding | None:
        """The finding to connect with: the first one found."""
        return self.findings[0] if self.findings else None

    def add(self, attempt: Attempt) -> Attempt:
        self.attempts.append(attempt)
        return attempt

    def causes(self) -> list[str]:
        return [d.cause for d in self.diagnoses]

    def log_lines(self) -> list[str]:
        head = [f"doctor {self.target}: {len(self.attempts)} attempts in {self.elapsed_s:.1f} s"
                + (f" (stopped at the {self.budget_s:.0f} s budget, {self.not_tried} not tried)"
                   if self.stopped_by_budget else "")]
        return head + [a.line() for a in self.attempts] + [f"found {f.label()}" for f in self.findings] \
            + [d.line() for d in self.diagnoses]

    def as_dict(self) -> dict:
        return {"target": self.target, "elapsed_s": round(self.elapsed_s, 3), "budget_s": self.budget_s,
                "stopped_by_budget": self.stopped_by_budget, "not_tried": self.not_tried,
                "findings": [f.as_dict() for f in self.findings],
                "diagnoses": [asdict(d) for d in self.diagnoses],
                "attempts": [asdict(a) for a in self.attempts]}
