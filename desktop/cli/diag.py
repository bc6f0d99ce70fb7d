"""`pvdesk diag ...` and `pvdesk review`: record, export, summarise, convert and replay diagnostics.

desktop/cli/main.py registers this module; every leaf sets ``func(args) -> int``.
Runs on the main thread; ``diag record`` starts the device service's I/O
thread and the recorder's writer thread like the GUI does. Errors print one
line and return 2 (the bundle checks explain what is wrong and what to do).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

from desktop.cli.main import EXIT_ERROR, add_connection_args, target_from_args
from desktop.core.errors import PVDeskError, describe_error


def register(subparsers) -> None:
    diag = subparsers.add_parser("diag", help="diagnostics: record sessions, export a bundle for support, replay")
    sub = diag.add_subparsers(dest="diag_cmd", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("record", help="record a device session to the session log (until Ctrl-C or --duration)")
    add_connection_args(p)
    p.add_argument("--duration", type=float, default=0.0, metavar="S", help="stop after S seconds (default: never)")
    p.add_argument("--period", type=float, default=1.0, metavar="S", help="seconds between samples (default 1)")
    p.add_argument("--bus-trace", action="store_true", help="also record every raw Modbus frame")
    _recording_dir(p)
    p.set_defaults(func=_guard(cmd_record))

    from desktop.cli.records import _common  # --data-dir, --installer, --passphrase-file
    p = sub.add_parser("export", parents=[_common()],
                       help="make a diagnostics bundle from the recording (personal data masked)",
                       description="Bundle the recorded telemetry, alarms, firmware, settings, register image, "
                                   "upgrade logs and app log. With connection options the device is read now "
                                   "for a fresh register image, fault history and settings.")
    add_connection_args(p)
    p.add_argument("-o", "--output", type=Path, default=None, help="bundle file (default: ./pvdesk-diagnostics-...zip)")
    p.add_argument("--since-h", type=float, default=None, metavar="H", help="only the last H hours")
    p.add_argument("--device-serial", dest="device_serial", default=None,
                   help="device serial number (default: the most recently recorded device)")
    p.add_argument("--no-trace", action="store_true", help="leave out the bus trace")
    p.add_argument("--no-app-log", action="store_true", help="leave out PVDesk's own log")
    p.add_argument("--customer", default=None, metavar="RECORD_ID",
                   help="add this customer's record: masked unless they consented to sharing with support")
    p.add_argument("--recipient", default="manufacturer-support",
                   help="who the bundle goes to (recorded with the bundle's id and hash in the audit trail)")
    _recording_dir(p)
    p.set_defaults(func=_guard(cmd_export))

    p = sub.add_parser("summary", help="what stands out in a bundle: alarms, link losses, implausible values, changes")
    p.add_argument("bundle", type=Path)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_guard(cmd_summary))

    p = sub.add_parser("csv", help="a bundle's telemetry (and bus trace) as CSV for a spreadsheet")
    p.add_argument("bundle", type=Path)
    p.add_argument("-o", "--output", type=Path, default=None, help="CSV file (default: BUNDLE name with .csv)")
    p.add_argument("--trace", action="store_true", help="write the bus trace instead (analyser lines)")
    p.set_defaults(func=_guard(cmd_csv))

    p = sub.add_parser("replay", help="serve a bundle's register image from the simulated inverter")
    p.add_argument("bundle", type=Path)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=5020, help="Modbus TCP port (default 5020)")
    p.add_argument("--rtu", action="store_true", help="also serve Modbus RTU on a pseudo-terminal")
    p.set_defaults(func=_guard(cmd_replay))

    p = subparsers.add_parser("review", help="open a diagnostics bundle in the review window (read-only)")
    p.add_argument("bundle", type=Path)
    p.set_defaults(func=cmd_review)


def _recording_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--recording-dir", type=Path, default=None,
                   help="session log folder (default: PVDesk's data folder; $PVDESK_RECORDINGS_DIR)")


def _guard(fn):
    def run(args) -> int:
        try:
            return fn(args)
        except (PVDeskError, ValueError, OSError) as exc:
            if getattr(args, "debug", False):
                raise
            from desktop.core.safe_text import terminal_text
            print(f"pvdesk: {terminal_text(describe_error(exc))}", file=sys.stderr)
            return EXIT_ERROR
    run.__name__ = fn.__name__
    return run


def cmd_record(args) -> int:
    from desktop.device.service import DeviceService
    from desktop.diag.recorder import Recorder
    target = target_from_args(args)
    service = DeviceService(fast_period_s=args.period)
    recorder = Recorder(service, args.recording_dir)
    if args.bus_trace:
        recorder.settings.bus_trace = True
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    try:
        service.connect(target).result(timeout=60)
        print(f"recording {target.label()} to {recorder.path}", flush=True)
        t_end = time.monotonic() + args.duration if args.duration > 0 else float("inf")
        while not stop["now"] and time.monotonic() < t_end:
            time.sleep(0.2)
            if recorder.status["error"]:
                raise OSError(recorder.status["error"])
    except KeyboardInterrupt:
        pass
    finally:
        recorder.stop()
        service.shutdown()
    print(f"recorded {recorder.status['samples']} samples", flush=True)
    return 0


def _live_state(args) -> dict | None:
    if not (args.demo or args.tcp or args.rtu_tcp or args.serial or args.ble or args.v5):
        return None
    import asyncio

    from desktop.device.connect import connected
    from desktop.diag.capture import capture_live

    async def go():
        async with connected(target_from_args(args)) as device:
            return await capture_live(device)
    return json.loads(json.dumps(asyncio.run(go()), default=str))


def cmd_export(args) -> int:
    from desktop.core import paths
    from desktop.diag.bundle import ExportOptions, default_name, export_bundle
    from desktop.diag.recorder import RecorderSettings
    from desktop.diag.redact import customer_share
    live = _live_state(args)
    share = records = None
    if args.customer:
        from desktop.cli.records import _service
        records = _service(args)
        share = customer_share(records, args.customer)
    options = ExportOptions(since_s=time.time() - args.since_h * 3600 if args.since_h else None,
                            serial=args.device_serial, include_trace=not args.no_trace,
                            include_app_log=not args.no_app_log)
    serial = args.device_serial or (live or {}).get("identity", {}).get("serial_number")
    out = args.output or Path(default_name(serial))
    settings = RecorderSettings.load(paths.recordings_dir(args.recording_dir))
    try:
        result = export_bundle(out, recording_dir=args.recording_dir, options=options, live_state=live,
                               customer=share, recorder_settings=vars(settings))
        if share is not None and share.record is not None:
            records.record_bundle_share(share.record_id, share.bundle_id, result.sha256(), args.recipient,
                                        masked=share.masked)
    finally:
        if records is not None:
            records.close()  # releases the store's lock at once, not whenever the GC runs
    m = result.manifest
    print(f"wrote {result.path} ({result.size_bytes:,} bytes, {m['includes']['telemetry_rows']:,} samples, "
          f"{m['time_range']['start']} .. {m['time_range']['end']})")
    print("personal data: " + ("masked" if m["personal_data"]["masked"] else "unmasked (the customer consented)")
          + ("" if share and share.record is not None else "; no customer record included"))
    for w in result.warnings:
        print(f"note: {w}")
    return 0


def cmd_summary(args) -> int:
    from desktop.diag.open import open_bundle
    from desktop.diag.summary import format_findings, summarize_bundle
    with open_bundle(args.bundle) as bundle:
        findings = summarize_bundle(bundle)
        m = bundle.manifest
    if args.json:
        print(json.dumps({"manifest": {k: m[k] for k in ("app", "device", "time_range", "includes", "personal_data")},
                          "findings": [f.as_dict() for f in findings]}, indent=1, default=str))
        return 0
    from desktop.core.safe_text import terminal_text as t  # a bundle's text never reaches the terminal raw
    ident = m["device"].get("identity") or {}
    print(f"{t(ident.get('model_name') or m['device'].get('profile'))} serial {t(m['device'].get('serial') or '?')}, "
          f"{t(m['time_range']['start'])} .. {t(m['time_range']['end'])}, {m['includes']['telemetry_rows']:,} "
          f"samples, PVDesk {t(m['app']['version'])}, "
          f"personal data {'masked' if m['personal_data']['masked'] else 'unmasked'}")
    print(format_findings(findings))
    return 0


def cmd_csv(args) -> int:
    from desktop.core.safe_files import safe_output
    from desktop.diag import layout
    from desktop.diag.open import open_bundle
    from desktop.diag.telemetry import write_csv
    out = args.output or Path(args.bundle.stem + ("-bus-trace" if args.trace else "") + ".csv")
    with open_bundle(args.bundle) as bundle:
        if args.trace:
            if not bundle.has(layout.TRACE):
                raise ValueError(f"{args.bundle.name} has no bus trace (it was recorded without one)")
            with safe_output(out) as tmp:
                rows = _trace_csv(bundle.member_path(layout.TRACE), Path(tmp))
        else:
            with safe_output(out) as tmp:  # never through a symlink or onto a device; owner-only
                rows = write_csv(str(bundle.member_path(layout.TELEMETRY)), tmp)
    print(f"wrote {out} ({rows:,} rows)")
    return 0


def _trace_csv(source: Path, out: Path) -> int:
    import csv

    import pyarrow.parquet as pq

    from desktop.diag.trace import describe_frame
    rows = 0
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["time", "direction", "bytes", "frame_hex", "analyser"])
        for batch in pq.ParquetFile(source).iter_batches():
            for t, d, f in zip(batch.column("time").cast("int64").to_pylist(), batch.column("direction").to_pylist(),
                               batch.column("frame").to_pylist()):
                w.writerow([time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t / 1e6)) + f".{t % 1_000_000:06d}Z",
                            d, len(f), f.hex(), describe_frame(t / 1e6, d, f)])
                rows += 1
    return rows


def cmd_replay(args) -> int:
    from desktop.diag.open import open_bundle
    from desktop.diag.replay import replay_bundle
    bundle = open_bundle(args.bundle)
    try:
        sim = replay_bundle(bundle, port=args.port, host=args.host, rtu=args.rtu).start()
    except BaseException:
        bundle.close()
        raise
    image = bundle.register_image()
    host, port = sim.tcp_address
    print(f"replaying {args.bundle.name}: unit {image.get('unit', 1)}, "
          f"{len(image['holding'])} holding and {len(image['input'])} input registers", flush=True)
    print(f"Modbus TCP on {host}:{port}" + (f", RTU on {sim.rtu_path}" if args.rtu else "")
          + f"  (pvdesk info --tcp {host}:{port})   Ctrl-C stops", flush=True)
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    try:
        while not stop["now"]:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
        bundle.close()
    return 0


def cmd_review(args) -> int:
    from desktop.ui.diagnostics.review_window import run_review
    return run_review(args.bundle)
