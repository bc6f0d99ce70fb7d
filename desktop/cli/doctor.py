"""`pvdesk doctor`: find the inverter on a host or a serial port, and say why not where it is not.

Runs on the main thread with one asyncio loop for the doctor (serial I/O in
worker threads). A progress line (bar, percent, time left, what is tried)
goes to stderr while it runs; the diagnoses, the settings found and the
command that connects with them go to stdout (JSON with ``--json``). Every
attempt is written to the app log, which diagnostics bundles carry. The
doctor only reads; it stops at ``--budget`` seconds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys

log = logging.getLogger("pvdesk.doctor")


def register(sub) -> None:
    p = sub.add_parser("doctor", help="find the inverter on a host or serial port and say what is wrong")
    p.add_argument("target", nargs="?", help="a host name or IP address, or a serial port (/dev/ttyUSB0, COM3)")
    p.add_argument("--tcp", metavar="HOST", help="the host to diagnose")
    p.add_argument("--serial", metavar="PORT", help="the serial port to diagnose")
    p.add_argument("--budget", type=float, default=60.0, help="stop after this many seconds (default 60)")
    p.add_argument("--timeout", type=float, default=0.3, help="seconds to wait per probe (default 0.3)")
    p.add_argument("--all-units", action="store_true", help="after the vendors' unit ids, try 1-247")
    p.add_argument("--units", default="", help="unit ids to try first, e.g. 3,126")
    p.add_argument("--ports", default="", help="TCP ports to try first, e.g. 1502,5020")
    p.add_argument("--only-ports", action="store_true", help="try only the --ports given")
    p.add_argument("--slow-bauds", action="store_true", help="also 4800 and 2400 baud")
    p.add_argument("--all-framings", action="store_true", help="also 8E2 and 8O2")
    p.add_argument("--logger-serial", type=int, default=0, metavar="N", help="a Solarman logger's serial")
    p.add_argument("--v5-port", type=int, default=8899, help=argparse_suppress())
    p.add_argument("--v5-discovery-port", type=int, default=48899, help=argparse_suppress())
    p.add_argument("--udp-port", type=int, default=8899, help=argparse_suppress())
    p.add_argument("--no-identify", action="store_true", help="do not read the model of what was found")
    p.add_argument("--json", action="store_true", help="the whole report, every attempt included, as JSON")
    p.set_defaults(func=cmd_doctor)


def argparse_suppress():
    import argparse
    return argparse.SUPPRESS


def _ints(text: str, what: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise ValueError(f"{what} are numbers separated by commas, got {text!r}") from None


def _is_serial(target: str) -> bool:
    return target.startswith("/dev/") or target.upper().startswith("COM") or target.startswith("\\\\.\\")


def render_progress(fraction: float, left_s: float, doing: str, width: int = 20) -> str:
    """One progress line: ``[#######-------]  35%  12 s left  trying ...``."""
    filled = int(round(max(0.0, min(1.0, fraction)) * width))
    return f"[{'#' * filled}{'-' * (width - filled)}] {fraction * 100:3.0f}%  {left_s:4.0f} s left  {doing}"[:100]


class _ProgressLine:
    def __init__(self, stream) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.last_step = -1

    def __call__(self, fraction: float, left_s: float, doing: str) -> None:
        line = render_progress(fraction, left_s, doing)
        if self.tty:
            self.stream.write("\r" + line.ljust(100))
        else:   # a log or a pipe: one line every 10 %
            step = int(fraction * 10)
            if step == self.last_step:
                return
            self.last_step = step
            self.stream.write(line + "\n")
        self.stream.flush()

    def end(self) -> None:
        if self.tty:
            self.stream.write("\r" + " " * 100 + "\r")
            self.stream.flush()


def options_from_args(args):
    from protocols.doctor import DoctorOptions
    return DoctorOptions(budget_s=args.budget, timeout_s=args.timeout, all_units=args.all_units,
                         units=_ints(args.units, "unit ids"), ports=_ints(args.ports, "ports"),
                         only_ports=args.only_ports, slow_bauds=args.slow_bauds, all_framings=args.all_framings,
                         logger_serial=args.logger_serial, v5_port=args.v5_port,
                         v5_discovery_port=args.v5_discovery_port, udp_port=args.udp_port,
                         identify=not args.no_identify)


def cmd_doctor(args) -> int:
    from protocols.doctor import doctor_host, doctor_serial
    target = args.serial or args.tcp or args.target
    if not target:
        raise ValueError("say what to diagnose: pvdesk doctor HOST, or pvdesk doctor /dev/ttyUSB0 (see `pvdesk ports`)")
    if args.budget <= 0 or args.timeout <= 0:
        raise ValueError("--budget and --timeout are seconds above 0")
    options = options_from_args(args)
    serial = bool(args.serial) or (not args.tcp and _is_serial(target))
    progress = _ProgressLine(sys.stderr)
    run = doctor_serial(target, options, progress) if serial else doctor_host(target, options, progress)
    try:
        report = asyncio.run(run)
    finally:
        progress.end()
    for line in report.log_lines():
        log.info(line)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2, default=str))
        return 0 if report.findings else 1
    n = len(report.attempts)
    print(f"Doctor for {target}: {n} thing{'s' if n != 1 else ''} tried in {report.elapsed_s:.1f} s")
    for d in report.diagnoses:
        print(f"- {d.text}\n  Next: {d.next_step}")
    for f in report.findings[1:]:
        print(f"  Also answers: {f.label()}" + (f" ({f.note})" if f.note else ""))
    if report.best:
        print("Connect with what was found:\n  pvdesk read " + " ".join(report.best.cli_args()))
    return 0 if report.findings else 1
