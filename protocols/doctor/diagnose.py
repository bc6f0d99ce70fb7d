"""The doctor's diagnoses: from what was observed to a known cause in plain words and the next step.

Runs on any thread (no I/O). Host and serial causes are kept apart so a TCP
problem never gets RS-485 advice and the other way round. Each rule reads
the attempts in the report; the first diagnosis is the most useful one.
"""

from __future__ import annotations

from .plan import LineSettings
from .report import Diagnosis, Report


def _outcomes(report: Report, what: str) -> dict[str, str]:
    return {a.target: a.outcome for a in report.attempts if a.what == what}


def diagnose_host(report: Report, host: str) -> list[Diagnosis]:
    out: list[Diagnosis] = []
    ports = _outcomes(report, "tcp-port")
    units = [a for a in report.attempts if a.what == "unit"]
    best = report.best
    if best is not None:
        out.append(Diagnosis("found", f"A device answers at {best.label()}" + (f" ({best.note})" if best.note else "")
                             + ".", "connect with: pvdesk read " + " ".join(best.cli_args())))
        if best.spec.kind == "tcp" and best.spec.port != 502:
            out.append(Diagnosis("port", f"It answers on TCP port {best.spec.port}, not on the Modbus default 502.",
                                 f"use port {best.spec.port} (--tcp {host}:{best.spec.port})."))
        if best.unit != 1:
            out.append(Diagnosis("unit", f"It answers at unit {best.unit}, not at unit 1.",
                                 f"set unit {best.unit} (--unit {best.unit})."))
    closed = [t for t, o in ports.items() if o == "closed"]
    for target in closed:
        out.append(Diagnosis(
            "one-client", f"{target} accepts a TCP connection and closes it without answering: the inverter "
            "takes only one Modbus TCP client and another one (an energy manager, home automation, the vendor's "
            "monitoring) probably holds it, or Modbus TCP is switched off.",
            "release the other client (stop it, or free its Modbus connection), or switch Modbus TCP on in the "
            "inverter's or dongle's app; then run the doctor again."))
    v5 = [a for a in report.attempts if a.what == "v5"]
    for a in v5:
        if a.outcome == "other-serial":
            out.append(Diagnosis("v5-serial", f"The Wi-Fi logger at {a.target.split()[0]} {a.detail}, not the "
                                 "serial asked for.", "use the logger's own serial (--logger-serial, printed on "
                                 "the stick), not the inverter's."))
        if a.outcome == "logger-only" and not any(b.outcome == "answer" for b in v5):
            out.append(Diagnosis("v5-no-inverter", "The Wi-Fi logger answers, but the inverter behind it does not.",
                                 "check the logger's RS-485 cable to the inverter, the inverter's Modbus address and "
                                 "that the inverter is on (PV or battery up)."))
    if best is not None:
        return out
    if any(a.what == "name" and a.outcome == "unresolved" for a in report.attempts):
        return [Diagnosis("bad-name", f"The name {host} does not resolve to an address.",
                          "check the spelling, or give the device's IP address (the router's list of clients "
                          "shows it).")]
    if ports and all(o == "refused" for o in ports.values()):
        out.append(Diagnosis("modbus-off", f"{host} is there but every Modbus port refuses the connection "
                             f"({', '.join(t.rsplit(':', 1)[1] for t in ports)}).",
                             "switch Modbus TCP on in the inverter's or dongle's app (a firmware update may have "
                             "switched it off or closed port 8899), or connect by RS-485."))
    elif ports and all(o in ("silent", "unreachable") for o in ports.values()) and not any(a.outcome == "answer" for a in report.attempts):
        out.append(Diagnosis("no-host", f"Nothing at {host} answers on any port tried.",
                             "check the IP address (the router's list of clients shows it), that the device is on, "
                             "and that this computer is on the same network."))
    gateway_units = [a for a in units if a.outcome == "gateway"]
    if gateway_units and not any(a.outcome == "modbus" for a in units):
        out.append(Diagnosis("gateway-empty", f"{host} is a Modbus gateway, but no device answers behind it at "
                             f"the {len(gateway_units)} unit ids tried.",
                             "check the gateway's serial settings and its RS-485 wiring to the inverter, or run "
                             "the doctor with --all-units."))
    silent_open = [t for t, o in ports.items() if o == "no-answer"]
    if silent_open and not gateway_units:
        out.append(Diagnosis("silent-units", f"TCP port {', '.join(silent_open)} accepts connections but no unit id "
                             "tried answers Modbus reads.", "run the doctor with --all-units, or read the Modbus "
                             "address in the inverter's menu and give it with --unit."))
    if report.stopped_by_budget:
        out.append(Diagnosis("budget", f"The doctor stopped at its {report.budget_s:.0f} s budget with "
                             f"{report.not_tried} probes not tried.", "run it again with a larger --budget."))
    if not out:
        out.append(Diagnosis("not-found", f"No Modbus device was found at {host}.",
                             "check the address and that Modbus TCP is switched on in the device's app."))
    return out


def diagnose_serial(report: Report, port: str, lines: list[LineSettings]) -> list[Diagnosis]:
    out: list[Diagnosis] = []
    tried = [a for a in report.attempts if a.what == "serial"]
    best = report.best
    echoed = any("echo" in a.outcome or "echoed" in a.detail for a in tried)
    if best is not None:
        s = best.spec
        out.append(Diagnosis("found", f"A device answers at {best.label()}" + (f" ({best.note})" if best.note else "")
                             + ".", "connect with: pvdesk read " + " ".join(best.cli_args())))
        if (s.baud, s.parity, s.stopbits) != (9600, "N", 1):
            out.append(Diagnosis("line", f"It answers at {s.baud} 8{s.parity}{s.stopbits}, not at 9600 8N1.",
                                 f"set {s.baud} 8{s.parity}{s.stopbits} (--baud {s.baud} --parity {s.parity} "
                                 f"--stopbits {s.stopbits})."))
        if best.unit != 1:
            out.append(Diagnosis("unit", f"It answers at unit {best.unit}, not at unit 1.",
                                 f"set unit {best.unit} (--unit {best.unit})."))
    if echoed:
        out.insert(1 if best else 0, Diagnosis(
            "echo", "The RS-485 adapter echoes every request back before the answer (a 2-wire adapter "
            "without echo suppression).", "use --local-echo."))
    if best is not None:
        return out
    opened = [a for a in report.attempts if a.what == "serial-port" and a.outcome == "error"]
    if opened:
        out.append(Diagnosis("port-error", f"The serial port {port} cannot be used: {opened[0].detail}.",
                             "check the port name (`pvdesk ports`), that no other program holds it, and on Linux "
                             "membership of the 'dialout' group."))
        return out
    garbage = [a for a in tried if a.outcome == "garbage"]
    if garbage:
        out.append(Diagnosis("wrong-line", f"Bytes arrive but no frame is valid ({len(garbage)} of {len(tried)} "
                             "probes): a baud rate or parity not tried, or A and B swapped.",
                             "swap the A and B (D+/D-) wires at one end and run the doctor again; check the "
                             "inverter's baud rate in its menu (try --slow-bauds for 4800/2400)."))
    elif tried and not echoed:
        out.append(Diagnosis("no-bytes", f"Nothing arrives at {port} at any of the {len(lines)} line settings "
                             "tried.", "check that the inverter is on, that the cable goes to its Modbus RS-485 "
                             "port (not the meter or BMS port), the bus termination, and that this is the right "
                             "serial port (`pvdesk ports`)."))
    elif echoed:
        out.append(Diagnosis("echo-only", "Only our own requests come back: the adapter echoes, and no device "
                             "answers.", "use --local-echo; check the wiring and the inverter's unit id."))
    if report.stopped_by_budget:
        out.append(Diagnosis("budget", f"The doctor stopped at its {report.budget_s:.0f} s budget with "
                             f"{report.not_tried} probes not tried.", "run it again with a larger --budget."))
    return out
