"""The `pvdesk` command line: the GUI when no subcommand is given, else one job and exit.

Runs on the main thread; device work runs in an asyncio loop started here
(the GUI starts its own I/O thread instead). Errors are one clear line on
stderr and a non-zero exit code; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import sys

from desktop.core.errors import describe_error
from desktop.version import __version__

EXIT_ERROR = 2


def add_connection_args(p: argparse.ArgumentParser) -> None:
    """The options every device command takes."""
    g = p.add_argument_group("connection")
    g.add_argument("--tcp", metavar="HOST[:PORT]", help="Modbus TCP device or gateway (port 502 by default)")
    g.add_argument("--rtu-tcp", metavar="HOST:PORT", help="Modbus RTU frames over a raw TCP socket (serial server)")
    g.add_argument("--serial", metavar="PORT", help="RS-485 adapter, e.g. /dev/ttyUSB0 or COM3")
    g.add_argument("--baud", type=int, default=9600, help="serial baud rate (default 9600)")
    g.add_argument("--parity", choices=["N", "E", "O"], default="N", help="serial parity (default N)")
    g.add_argument("--stopbits", type=int, choices=[1, 2], default=1, help="serial stop bits (default 1)")
    g.add_argument("--local-echo", action="store_true", help="the RS-485 adapter echoes what it sends")
    g.add_argument("--inter-frame-delay", type=float, default=0.0, metavar="S",
                   help="extra silence between requests, seconds (slow devices)")
    g.add_argument("--ble", metavar="ADDRESS|NAME", help="Bluetooth LE device")
    g.add_argument("--v5", metavar="HOST", help="Solarman V5 Wi-Fi data logger")
    g.add_argument("--logger-serial", type=int, default=0, metavar="N", help="the V5 logger's serial number")
    g.add_argument("--udp", metavar="HOST[:PORT]", help="GoodWe Wi-Fi/LAN dongle, Modbus over UDP (port 8899)")
    g.add_argument("--unit", type=int, default=1, help="Modbus unit id (default 1)")
    g.add_argument("--profile", default="auto",
                   help="device profile name or file, sunspec (SunSpec discovery), or auto (default)")
    g.add_argument("--sunspec-base", type=int, default=None, metavar="N",
                   help="register where the SunSpec map ('SunS') starts, if not 40000, 0 or 50000")
    g.add_argument("--timeout", type=float, default=1.0, help="seconds to wait for each answer (default 1)")
    g.add_argument("--demo", action="store_true", help="use the built-in simulated inverter")


def target_from_args(args):
    """A connection Target from parsed options; ValueError when none was given."""
    from protocols.links.factory import LinkSpec

    from desktop.device.connect import Target, parse_host_port
    spec = LinkSpec(timeout_s=args.timeout, inter_frame_delay_s=args.inter_frame_delay)
    base = getattr(args, "sunspec_base", None)
    if base is not None and not 0 <= base <= 65534:
        raise ValueError(f"--sunspec-base must be a register address 0..65534, got {base}")
    if args.demo:
        return Target(spec=spec, unit=args.unit, profile=args.profile, demo=True, sunspec_base=base)
    if args.tcp:
        spec.kind = "tcp"
        spec.host, spec.port = parse_host_port(args.tcp)
    elif args.rtu_tcp:
        spec.kind = "rtu-tcp"
        spec.host, spec.port = parse_host_port(args.rtu_tcp)
    elif args.serial:
        spec.kind, spec.serial_port = "serial", args.serial
        spec.baud, spec.parity, spec.stopbits = args.baud, args.parity, args.stopbits
        spec.local_echo = args.local_echo
    elif args.ble:
        spec.kind, spec.ble_address = "ble", args.ble
    elif args.v5:
        spec.kind = "v5"
        spec.host, spec.port = parse_host_port(args.v5, 8899)
        spec.logger_serial = args.logger_serial
        if not args.logger_serial:
            raise ValueError("a Solarman V5 logger needs --logger-serial (printed on the stick's label)")
    elif getattr(args, "udp", None):
        spec.kind = "udp"
        spec.host, spec.port = parse_host_port(args.udp, 8899)
    else:
        raise ValueError("say where the device is: --tcp HOST, --serial PORT, --ble NAME, --v5 HOST, "
                         "--udp HOST, or --demo")
    return Target(spec=spec, unit=args.unit, profile=args.profile, sunspec_base=base)


def build_parser() -> argparse.ArgumentParser:
    from desktop.cli import commission, device, diag, doctor, firmware, records, sim
    parser = argparse.ArgumentParser(
        prog="pvdesk", description="Commission, diagnose and upgrade solar and hybrid inverters.")
    parser.add_argument("--version", action="version", version=f"PVDesk {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    parser.add_argument("--demo", action="store_true", help="open the window connected to the simulated inverter")
    parser.add_argument("--self-test", action="store_true", help="check this installation and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in (sim, device, records, firmware, diag, commission, doctor):
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `pvdesk` console script."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    from desktop.core.logs import setup_logging
    setup_logging(debug=args.debug)
    try:
        if args.self_test:
            from desktop.cli.selftest import run_self_test
            return run_self_test()
        if not args.command:
            from desktop.app import run  # the window; Qt loads only now
            return run(demo=args.demo)
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: not an error of ours
        sys.stderr.close()
        return 0
    except Exception as exc:  # one clear line, the traceback only on request
        if args.debug:
            raise
        from desktop.core.safe_text import terminal_text  # messages may quote a file's contents
        print(f"pvdesk: {terminal_text(describe_error(exc, debug_hint=True))}", file=sys.stderr)
        return EXIT_ERROR
