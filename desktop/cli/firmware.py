"""`pvdesk firmware`: pack (developers), keygen, check and upgrade (technicians).

Runs on the main thread; device work runs in one asyncio loop per command.
The command functions ``run_check`` and ``run_upgrade`` take an already open
Session, so the GUI, scripts and tests use the same code; the argparse glue
around them is thin. Upgrade logs (JSON lines) are kept per device serial
under the user data folder unless ``--log-dir`` says otherwise. Ctrl-C
cancels safely up to the activation and is refused after it.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from pathlib import Path

from protocols.device import Device
from protocols.firmware import keys as fwkeys
from protocols.firmware.batch import BatchSummary, upgrade_many
from protocols.firmware.check import CheckReport, TargetFacts, check_package, check_target, read_target
from protocols.firmware.package import build_package, parse_version, read_package
from protocols.firmware.testmode import confirm_pending, read_pending, revert_pending
from protocols.firmware.trust import load_trust
from protocols.firmware.upgrade import CancelToken, UpgradeOptions
from protocols.session import Session

from desktop.cli.main import add_connection_args, target_from_args
from desktop.core import safe_files
from desktop.device.connect import choose_profile, open_session, start_demo_simulator


def register(sub) -> None:
    fw = sub.add_parser("firmware", help="check, upgrade and (for developers) pack firmware packages")
    fsub = fw.add_subparsers(dest="firmware_command", metavar="ACTION", required=True)

    p = fsub.add_parser("pack", help="build and sign a firmware package from an image (developers)")
    p.add_argument("image", help="the firmware image file")
    p.add_argument("--key", required=True, help="Ed25519 signing key (PEM); production keys never enter the repo")
    p.add_argument("--key-id", help="name of the matching public key in resources/keys (found by itself if trusted)")
    p.add_argument("--vendor", default="PVDesk")
    p.add_argument("--model", action="append", required=True, help="target model, e.g. PVD-H8K (repeatable)")
    p.add_argument("--hardware", type=int, action="append", default=[],
                   help="hardware revision (repeatable; none = any)")
    p.add_argument("--component", required=True, help="component, e.g. control, dsp, comm, bms, meter")
    p.add_argument("--version", required=True, help="version of the image, e.g. 1.05.00")
    p.add_argument("--min-version", help="oldest version this package may upgrade from")
    p.add_argument("--notes", default="")
    p.add_argument("-o", "--output", required=True, help="package file to write")
    p.set_defaults(func=cmd_pack)

    p = fsub.add_parser("keygen", help="make an Ed25519 key pair for signing packages (developers)")
    p.add_argument("private", help="private key file to write (keep it out of the repository)")
    p.add_argument("public", help="public key file to write (ship it in resources/keys/<key id>.pub)")
    p.set_defaults(func=cmd_keygen)

    p = fsub.add_parser("check", help="check a package (signature, image), and against a device if one is given")
    p.add_argument("package")
    add_connection_args(p)
    p.add_argument("--allow-downgrade", action="store_true", help="accept an older or the same version")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_check)

    for action, text in (("confirm", "keep an image left in test mode, after a health check"),
                         ("revert", "go back from an image left in test mode to the previous one")):
        p = fsub.add_parser(action, help=text)
        add_connection_args(p)
        p.set_defaults(func=cmd_pending, pending_action=action)

    p = fsub.add_parser("upgrade", help="upgrade one or several devices; resumes, verifies and rolls back")
    p.add_argument("package")
    add_connection_args(p)
    p.add_argument("--units", help="several unit ids on the bus, e.g. 1-3 or 1,4 (one at a time)")
    p.add_argument("--more-tcp", action="append", default=[], metavar="HOST[:PORT]",
                   help="further Modbus TCP devices upgraded in the same run (repeatable)")
    p.add_argument("--allow-downgrade", action="store_true", help="install an older or the same version")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation of a downgrade")
    p.add_argument("--log-dir", help="folder for the upgrade logs (default: with the device records)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_upgrade)


# ----------------------------------------------------------------- pack
def cmd_pack(args) -> int:
    key = fwkeys.load_private_key(Path(args.key))
    key_id = args.key_id or _trusted_id(key)
    if key_id is None:
        raise ValueError("this key is not among the keys this install trusts (resources/keys); "
                         "name its public key with --key-id")
    image = Path(args.image).read_bytes()
    data = build_package(image, key, key_id=key_id, vendor=args.vendor, models=args.model, component=args.component,
                         version=args.version, hardware=args.hardware, min_version=args.min_version, notes=args.notes)
    safe_files.write_bytes(args.output, data)  # a regular file only, owner-only
    m = read_package(data).manifest
    print(f"wrote {args.output}: {m.component} {m.version} for {', '.join(m.models)}, {m.image_size} bytes, "
          f"SHA-256 {m.image_sha256[:16]}..., signed by {key_id}")
    return 0


def _trusted_id(key) -> str | None:
    mine = fwkeys.fingerprint(key.public_key())
    return next((k.key_id for k in load_trust().keys.values() if k.fingerprint == mine), None)


def cmd_keygen(args) -> int:
    fwkeys.generate_key_pair(Path(args.private), Path(args.public))
    print(f"wrote {args.private} (keep it secret, outside the repository) and {args.public}")
    return 0


# ---------------------------------------------------------------- check
async def run_check(session: Session, unit: int, package_path: str, profile=None, *,
                    allow_downgrade: bool = False) -> tuple[CheckReport, TargetFacts]:
    """Package and target checks against the device at ``unit`` on an open session."""
    target = _CliTarget(unit)
    profile = profile or await choose_profile(session, target)
    pkg, report = check_package(package_path)
    device = Device(session, profile, unit)
    pending = await read_pending(device)  # the bootloader's state before any version is compared
    facts = await read_target(device, pkg.manifest.component if pkg else "")
    if pkg is not None:
        check_target(pkg, facts, allow_downgrade=allow_downgrade, report=report, pending=pending)
    return report, facts


class _CliTarget:
    """What ``choose_profile`` needs of a Target: the unit, auto-detection, the SunSpec bases tried by default."""

    def __init__(self, unit: int, profile: str = "auto", sunspec_base: int | None = None) -> None:
        self.unit, self.profile, self.sunspec_base = unit, profile, sunspec_base


def cmd_check(args) -> int:
    device_given = any(getattr(args, k) for k in ("tcp", "rtu_tcp", "serial", "ble", "v5", "udp", "demo"))
    if not device_given:
        _, report = check_package(args.package)
        facts = None
    else:
        report, facts = asyncio.run(_with_session(args, lambda s, profile: run_check(
            s, args.unit, args.package, profile, allow_downgrade=args.allow_downgrade)))
    trust = report.trust or load_trust()
    if args.json:
        print(json.dumps({"ok": report.ok, "checks": report.as_dicts(), "trust": trust.as_dict(),
                          "device": facts.__dict__ if facts else None}, indent=2, default=str))
    else:
        print(f"  trust  {trust.describe()}")
        for r in report.results:
            print(f"  {'pass' if r.ok else 'FAIL'}  {r.check:<13} {r.detail}")
        print("the package may be installed" if report.ok else
              f"refused: {report.errors[0].one_line()}")
    return 0 if report.ok else 1


async def _with_session(args, fn, units=(1,)):
    target = target_from_args(args)
    sim = start_demo_simulator(units=units) if target.demo else None
    session = None
    try:
        session = await open_session(target, sim)
        profile = await choose_profile(session, target)
        return await fn(session, profile)
    finally:
        if session is not None:
            await session.close()
        if sim is not None:
            sim.stop()


# ------------------------------------------------------ test mode left over
def cmd_pending(args) -> int:
    """`firmware confirm` / `firmware revert`: what to do with an image a killed upgrade left in test mode."""
    async def go(session, profile):
        device = Device(session, profile, args.unit)
        pending = await read_pending(device)
        if pending is not None:
            print(f"found: {pending.text()}")
        if args.pending_action == "confirm":
            return await confirm_pending(device)
        return await revert_pending(device)
    result = asyncio.run(_with_session(args, go))
    print(f"{result.outcome}: {result.message}")
    return 0 if result.outcome in ("confirmed", "reverted") and not (
        args.pending_action == "confirm" and result.outcome == "reverted") else 1


# -------------------------------------------------------------- upgrade
async def run_upgrade(session: Session, units: list[int], package_path: str, *, profile=None,
                      more_sessions: tuple[Session, ...] = (), options: UpgradeOptions | None = None,
                      progress=None, cancel: CancelToken | None = None, log_dir: str | Path | None = None,
                      confirm_downgrade=None) -> BatchSummary:
    """Upgrade ``units`` on ``session`` (one at a time) and unit ``units[0]`` of each further session.

    ``confirm_downgrade(text) -> bool`` is asked once when the package is older than (or the same as)
    what a device runs and ``options.allow_downgrade`` is set; a "no" writes nothing.
    """
    options = options or UpgradeOptions()
    pkg = read_package(package_path)
    devices = []
    for s, us in [(session, units)] + [(extra, units[:1]) for extra in more_sessions]:
        for unit in us:
            prof = profile or await choose_profile(s, _CliTarget(unit))
            devices.append(Device(s, prof, unit))
    if options.allow_downgrade:
        older = []
        for dev in devices:
            if await read_pending(dev) is not None:
                continue  # the upgrade refuses it and offers confirm/revert: no downgrade question
            facts = await read_target(dev, pkg.manifest.component)
            if facts.running_version and parse_version(pkg.manifest.version) <= parse_version(facts.running_version):
                older.append(f"unit {dev.unit}: {facts.running_version} -> {pkg.manifest.version}")
        if older and not (confirm_downgrade and confirm_downgrade("; ".join(older))):
            raise ValueError("downgrade not confirmed; nothing was written")
    return await upgrade_many(devices, pkg, options=options, progress=progress, cancel=cancel, log_dir=log_dir)


def default_log_dir(package_path: str) -> Path:
    from desktop.core.paths import firmware_batch_dir
    m = read_package(package_path).manifest
    return firmware_batch_dir(m.component, m.version)


def parse_units(text: str) -> list[int]:
    units: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        units += list(range(int(lo), int(hi or lo) + 1))
    if not units or any(not 1 <= u <= 247 for u in units):
        raise ValueError(f"--units {text!r}: give unit ids 1..247, e.g. 1-3 or 1,4")
    return units


class ProgressLine:
    """One status line on stderr: bar, bytes, throughput, time left, phase."""

    def __init__(self, stream=sys.stderr) -> None:
        self.stream, self.last_t = stream, 0.0

    def __call__(self, e: dict) -> None:
        now = time.monotonic()
        if e["phase"] == "upload" and e["bytes_done"] < e["bytes_total"] and now - self.last_t < 0.1:
            return
        self.last_t = now
        total, done = e["bytes_total"] or 1, e["bytes_done"]
        bar = "#" * int(20 * done / total)
        eta = f"{e['eta_s']:.0f} s left" if e.get("eta_s") is not None else ""
        rate = f"{e['throughput_bps'] / 1000:.1f} kB/s" if e.get("throughput_bps") else ""
        text = (f"unit {e['unit']} [{bar:<20}] {done / 1000:.1f}/{total / 1000:.1f} kB {rate} {eta} "
                f"{e['phase']}: {e['message']}")
        self.stream.write("\r" + text[:110].ljust(110))
        self.stream.flush()


def cmd_upgrade(args) -> int:
    units = parse_units(args.units) if args.units else [args.unit]
    log_dir = Path(args.log_dir) if args.log_dir else default_log_dir(args.package)
    token = CancelToken()

    def ask(text: str) -> bool:
        if args.yes:
            return True
        return input(f"Downgrade {text}? Type yes to go on: ").strip().lower() == "yes"

    async def go(session, profile):
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGINT, _cancel_message, token)
        except (NotImplementedError, RuntimeError):
            pass  # Windows: Ctrl-C ends the process; the device keeps its old image until activation
        more = []
        try:
            for hostport in args.more_tcp:
                from protocols.links.factory import LinkSpec, make_link

                from desktop.device.connect import parse_host_port
                host, port = parse_host_port(hostport)
                s = Session(make_link(LinkSpec(kind="tcp", host=host, port=port, timeout_s=args.timeout)),
                            timeout_s=args.timeout)
                await s.open()
                more.append(s)
            return await run_upgrade(session, units, args.package, profile=None if args.profile == "auto" else profile,
                                     more_sessions=tuple(more),
                                     options=UpgradeOptions(allow_downgrade=args.allow_downgrade),
                                     progress=ProgressLine(), cancel=token, log_dir=log_dir, confirm_downgrade=ask)
        finally:
            for s in more:
                await s.close()
    summary = asyncio.run(_with_session(args, go, units=tuple(units)))
    sys.stderr.write("\n")
    if args.json:
        print(json.dumps({"ok": summary.ok, "log_dir": str(log_dir), "devices": [
            {"device": label, "outcome": r.outcome, "message": r.message, "from_version": r.from_version,
             "running_version": r.running_version, "restored": r.restored, "checks": r.checks}
            for label, r in summary.results]}, indent=2, default=str))
    else:
        print(summary.text())
        print(f"upgrade logs: {log_dir}")
    return 0 if summary.ok else 1


def _cancel_message(token: CancelToken) -> None:
    token.cancel()
    sys.stderr.write("\ncancel requested: stops before activation; after it the upgrade finishes or reverts\n")
