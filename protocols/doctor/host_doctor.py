"""The connection doctor for a host: TCP ports, unit ids, SunSpec bases, Solarman V5 and GoodWe UDP.

Runs on the caller's asyncio loop (the CLI's, or the device service's I/O
thread). Every port is classified at once (concurrently), then the ports
that answer are asked unit by unit (profiles' defaults first, 1-247 when
asked), then the Wi-Fi logger protocols. It only reads; it stops at the
budget and reports progress through the callback.
"""

from __future__ import annotations

import time

from ..links.factory import LinkSpec
from . import plan, tcp_probe, wifi_probe
from .diagnose import diagnose_host
from .identify import identify
from .plan import DoctorOptions
from .progress import Budget, ProgressCallback
from .report import Attempt, Finding, Report


async def doctor_host(host: str, options: DoctorOptions | None = None,
                      progress: ProgressCallback | None = None) -> Report:
    """Find what answers at ``host`` and say why not where nothing does."""
    import asyncio
    o = options or DoctorOptions()
    report = Report(target=host, budget_s=o.budget_s)
    budget = Budget(o.budget_s, progress)
    ports = list(o.ports) if o.only_ports else plan.tcp_ports(o.ports)
    units = plan.unit_ids(o.all_units, o.units)
    budget.plan(o.connect_timeout_s + o.timeout_s)
    budget.plan(len(units) * o.timeout_s)
    if o.v5:
        budget.plan(2 * o.timeout_s + 1.0)
    if o.goodwe_udp:
        budget.plan(2 * o.timeout_s)
    budget.report(f"TCP ports {', '.join(map(str, ports))}")
    t0 = time.monotonic()
    try:
        await asyncio.get_running_loop().getaddrinfo(host, None)
    except OSError as exc:
        report.add(Attempt("name", host, "unresolved", exc.strerror or str(exc), time.monotonic() - t0))
        report.elapsed_s = budget.elapsed()
        report.diagnoses = diagnose_host(report, host)
        budget.finish()
        return report

    first = units[0]
    results = await asyncio.gather(*(tcp_probe.classify_port(host, p, o.connect_timeout_s, first, o.timeout_s)
                                     for p in ports))
    probes = {}
    for port, (attempt, probe, answer) in zip(ports, results):
        report.add(attempt)
        if probe is not None:
            probes[port] = (probe, answer)
    budget.done(o.connect_timeout_s + o.timeout_s, "unit ids")
    try:
        order = sorted(probes, key=lambda p: {"modbus": 0, "gateway": 1}.get(_outcome(report, host, p), 2))
        for port in order:
            probe, answer = probes[port]
            probe.timeout_s = o.timeout_s
            if answer is None or answer.outcome == "v5":
                continue
            await _sweep_units(report, budget, probe, answer, units, o)
            if report.findings:
                break
            if _outcome(report, host, port) == "no-answer":
                await _identity_pass(report, budget, probe, units[:len(plan.DEFAULT_UNITS)], o)
                if report.findings:
                    break
        if o.v5 and not budget.over() and not report.findings:
            await _v5(report, budget, host, units, o)
        if o.goodwe_udp and not budget.over() and not report.findings:
            for unit in (247, 127):
                attempt, ok = await wifi_probe.goodwe_udp_read(host, o.udp_port, unit, 2 * o.timeout_s)
                report.add(attempt)
                if ok:
                    report.findings.append(Finding(LinkSpec(kind="udp", host=host, port=o.udp_port), unit,
                                                   "GoodWe Wi-Fi/LAN dongle (UDP)"))
                    break
            budget.done(2 * o.timeout_s, "GoodWe UDP")
        if o.sunspec and report.findings:
            best = report.findings[0]
            probe = probes.get(best.spec.port, (None, None))[0] if best.spec.kind == "tcp" else None
            if probe is not None:
                for base in plan.SUNSPEC_BASES:
                    t0 = time.monotonic()
                    found = await tcp_probe.is_sunspec(probe, best.unit, base)
                    report.add(Attempt("sunspec", f"{probe.where} unit {best.unit} @{base}",
                                       "answer" if found else "no", "SunS marker" if found else "",
                                       time.monotonic() - t0))
                    if found:
                        best.sunspec_base = base
                        break
    finally:
        for probe, _ in probes.values():
            await probe.close()
    if o.identify and report.findings and not budget.over():
        await identify(report, report.findings[0], o, budget.left())
    report.not_tried = budget.skipped
    report.stopped_by_budget = budget.skipped > 0
    report.elapsed_s = budget.elapsed()
    report.diagnoses = diagnose_host(report, host)
    budget.finish()
    return report


def _outcome(report: Report, host: str, port: int) -> str:
    for a in report.attempts:
        if a.what == "tcp-port" and a.target == f"{host}:{port}":
            return a.outcome
    return ""


IMPROBABLE_UNIT = 239   # no vendor default: a device answering here too ignores the unit id


async def _sweep_units(report: Report, budget: Budget, probe, first_answer, units: list[int],
                       o: DoctorOptions) -> None:
    """Ask ``units`` on an open port; findings for the units that answer."""
    answered: list[int] = []
    for i, unit in enumerate(units):
        if budget.over():
            budget.skipped += len(units) - i
            break
        ans = await _ask(report, budget, probe, unit, o, first_answer if i == 0 else None)
        if ans.outcome in ("answer", "exception"):
            answered.append(unit)
        if ans.outcome == "closed":
            break
        if i == 2 and answered == units[:3]:
            # Three answers in a row: several devices, or one that answers at any unit id?
            check = await _ask(report, budget, probe, IMPROBABLE_UNIT, o)
            if check.outcome in ("answer", "exception"):
                note = f"answers at any unit id (also at {IMPROBABLE_UNIT}): it ignores the unit id"
                report.findings.append(Finding(LinkSpec(kind="tcp", host=probe.host, port=probe.port),
                                               answered[0], note))
                return
    for unit in answered:
        report.findings.append(Finding(LinkSpec(kind="tcp", host=probe.host, port=probe.port), unit))


async def _identity_pass(report: Report, budget: Budget, probe, units: list[int], o: DoctorOptions) -> None:
    """Units asked again at the profiles' identity registers (some devices are silent at register 0)."""
    for function, address in plan.identity_registers():
        for unit in units:
            if budget.over():
                budget.skipped += 1
                continue
            t0 = time.monotonic()
            ans = await probe.read_unit(unit, function, address, 1)
            ok = ans.outcome in ("answer", "exception")
            report.add(Attempt("unit", f"{probe.where} unit {unit} @{address}", "modbus" if ok else ans.outcome,
                               f"function {function} at {address}", time.monotonic() - t0))
            budget.done(o.timeout_s, f"{probe.where} unit {unit} @{address}")
            if ok:
                report.findings.append(Finding(LinkSpec(kind="tcp", host=probe.host, port=probe.port), unit,
                                               f"silent at register 0, answers at {address}"))
                return


async def _ask(report: Report, budget: Budget, probe, unit: int, o: DoctorOptions, given=None):
    """One unit id on an open port (reconnecting once if the port closed), logged."""
    t0 = time.monotonic()
    ans = given if given is not None else await probe.read_unit(unit)
    if ans.outcome == "closed" and given is None:
        await probe.close()
        outcome, _ = await probe.connect()
        ans = await probe.read_unit(unit) if outcome == "open" else ans
    outcome = {"answer": "modbus", "exception": "modbus", "gateway-empty": "gateway"}.get(ans.outcome, ans.outcome)
    detail = f"exception {ans.answer.exception:02d}" if ans.answer is not None and ans.answer.is_exception else ""
    report.add(Attempt("unit", f"{probe.where} unit {unit}", outcome, detail, time.monotonic() - t0))
    budget.done(o.timeout_s, f"{probe.where} unit {unit}")
    return ans


async def _v5(report: Report, budget: Budget, host: str, units: list[int], o: DoctorOptions) -> None:
    serials = [o.logger_serial] if o.logger_serial else []
    attempt, found = await wifi_probe.v5_discover(host, o.v5_discovery_port, 2 * o.timeout_s)
    report.add(attempt)
    serials += [i.serial for i in found if i.serial not in serials]
    budget.done(2 * o.timeout_s, "Solarman V5")
    port_state = _outcome(report, host, o.v5_port)
    if not serials or port_state in ("refused", "silent", "unreachable"):
        return
    tried: set[int] = set()
    while serials:
        serial = serials.pop(0)
        if serial in tried:
            continue
        tried.add(serial)
        for unit in units[:len(plan.DEFAULT_UNITS)]:
            if budget.over():
                return
            attempt, outcome, named = await wifi_probe.v5_read(host, o.v5_port, serial, unit, max(0.6, 2 * o.timeout_s))
            report.add(attempt)
            if outcome == "answer":
                report.findings.append(Finding(LinkSpec(kind="v5", host=host, port=o.v5_port, logger_serial=serial),
                                                  unit, f"Solarman V5 logger #{serial}"))
                return
            if outcome == "other-serial" and named:
                serials.insert(0, named)
                break
            if outcome in ("refused", "closed"):
                return
