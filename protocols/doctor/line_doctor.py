"""The connection doctor for a serial port: line settings x unit ids, echo, garbage or nothing.

Runs on the caller's asyncio loop; every exchange runs in a worker thread
(pyserial blocks). Settings are tried in plan order (profiles' defaults,
9600 8N1, the Modbus default 19200 8E1, then baud x parity x stop bits),
each with the default unit ids; once a device answers, the rest of the
units (1-247 when asked) are tried at that setting only. It only reads; it
stops at the budget and reports progress through the callback.
"""

from __future__ import annotations

import asyncio
import os
import time

from ..links.factory import LinkSpec
from . import plan
from .diagnose import diagnose_serial
from .identify import identify
from .plan import DoctorOptions, LineSettings
from .progress import Budget, ProgressCallback
from .report import Attempt, Finding, Report
from .serial_probe import SerialProbe


def probe_cost_s(o: DoctorOptions, line: LineSettings) -> float:
    return o.timeout_s + max(0.004, 3.5 * line.char_time_s())


async def doctor_serial(port: str, options: DoctorOptions | None = None,
                        progress: ProgressCallback | None = None) -> Report:
    """Find the line settings and unit ids that answer on ``port``; say why not where none does."""
    o = options or DoctorOptions()
    report = Report(target=port, budget_s=o.budget_s)
    budget = Budget(o.budget_s, progress)
    lines = plan.line_settings(o.slow_bauds, o.all_framings, o.lines)
    units = plan.unit_ids(False, o.units)
    for line in lines:
        budget.plan(len(units) * probe_cost_s(o, line))
    probe = SerialProbe(port)
    t0 = time.monotonic()
    try:
        if port.startswith("/") and not os.path.exists(port):   # a path (not COM3): name a missing one
            raise FileNotFoundError(f"{port} does not exist")
        await asyncio.to_thread(probe.open, lines[0])
    except Exception as exc:  # SerialException, OSError, ValueError: all say the same to a user
        text = str(exc.args[0]) if isinstance(exc, FileNotFoundError) and exc.args else str(exc)
        report.add(Attempt("serial-port", port, "error", text or type(exc).__name__, time.monotonic() - t0))
        report.elapsed_s = budget.elapsed()
        report.diagnoses = diagnose_serial(report, port, lines)
        budget.finish()
        return report
    echo = False
    found_line: LineSettings | None = None
    try:
        for li, line in enumerate(lines):
            if budget.over():
                budget.skipped += (len(lines) - li) * len(units)
                break
            await asyncio.to_thread(probe.set_line, line)
            for unit in units:
                if budget.over():
                    budget.skipped += 1
                    continue
                echo = await _probe(report, budget, probe, line, unit, o) or echo
            if report.findings:
                found_line = line
                break
        if found_line is not None and o.all_units:
            rest = [u for u in plan.unit_ids(True, o.units) if u not in units]
            budget.plan(len(rest) * probe_cost_s(o, found_line))
            for i, unit in enumerate(rest):
                if budget.over():
                    budget.skipped += len(rest) - i
                    break
                await _probe(report, budget, probe, found_line, unit, o)
        if found_line is not None and o.sunspec and not budget.over():
            await _sunspec(report, probe, o)
    finally:
        await asyncio.to_thread(probe.close)
    if o.identify and report.findings and not budget.over():
        await identify(report, report.findings[0], o, budget.left())
    report.not_tried = budget.skipped
    report.stopped_by_budget = budget.skipped > 0
    report.elapsed_s = budget.elapsed()
    report.diagnoses = diagnose_serial(report, port, lines)
    budget.finish()
    return report


async def _probe(report: Report, budget: Budget, probe: SerialProbe, line: LineSettings, unit: int,
                 o: DoctorOptions) -> bool:
    """One exchange, logged; a finding when it answered. Returns whether our request was echoed."""
    t0 = time.monotonic()
    res = await asyncio.to_thread(probe.exchange, unit, o.timeout_s)
    refused = f"answers (exception {res.answer.exception:02d})" if res.outcome == "exception" and res.answer else ""
    words = {"answer": "answers", "exception": refused,
             "echo": "only our own request came back", "garbage": f"{res.rx_bytes} bytes, no valid frame",
             "silent": "nothing arrived"}
    detail = words.get(res.outcome, "") + ("; our request echoed first" if res.echo and res.answer else "")
    report.add(Attempt("serial", f"{probe.port} {line.label()} unit {unit}", res.outcome, detail,
                       time.monotonic() - t0))
    budget.done(probe_cost_s(o, line), f"{line.label()} unit {unit}")
    if res.answer is not None:
        spec = LinkSpec(kind="serial", serial_port=probe.port, baud=line.baud, parity=line.parity,
                        stopbits=line.stopbits, local_echo=res.echo)
        report.findings.append(Finding(spec, unit, "adapter echoes" if res.echo else ""))
    return res.echo


async def _sunspec(report: Report, probe: SerialProbe, o: DoctorOptions) -> None:
    """Where the 'SunS' marker of the first device found is (40000, 0, 50000), if anywhere."""
    best = report.findings[0]
    for base in plan.SUNSPEC_BASES:
        t0 = time.monotonic()
        res = await asyncio.to_thread(probe.exchange, best.unit, max(o.timeout_s, 0.2), 3, base, 2)
        found = res.answer is not None and res.answer.registers == (0x5375, 0x6E53)
        report.add(Attempt("sunspec", f"{probe.port} unit {best.unit} @{base}", "answer" if found else "no",
                           "SunS marker" if found else "", time.monotonic() - t0))
        if found:
            best.sunspec_base = base
            return
