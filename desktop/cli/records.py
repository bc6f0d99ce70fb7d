"""`pvdesk records ...` and `pvdesk sync`: the customer records from the command line.

desktop/cli/main.py calls `register(subparsers)`; every leaf sets `func(args) -> int`.
Errors print one line to stderr and return a non-zero code, no traceback.
The passphrase (for a store opened in passphrase mode) is read from a file
(--passphrase-file) or the PVDESK_RECORDS_PASSPHRASE variable, never from the
command line, where other users could see it. Runs on the main thread.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from desktop.core.errors import PVDeskError, describe_error
from desktop.records.files import write_private

EXIT_ERROR = 2


def _common() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--data-dir", type=Path, default=None,
                   help="records folder (default: the user data folder of PVDesk)")
    p.add_argument("--installer", default=None,
                   help="must match the logged-in installer (`pvdesk records login ID`); the audit trail's id "
                        "is always the logged-in one")
    p.add_argument("--passphrase-file", type=Path, default=None,
                   help="open a passphrase-protected store; the file holds the passphrase "
                        "(or set PVDESK_RECORDS_PASSPHRASE)")
    return p


def register(subparsers) -> None:
    common = _common()
    rec = subparsers.add_parser("records", help="customer records: list, show, add, correct, consent, rights, audit")
    rsub = rec.add_subparsers(dest="records_cmd", metavar="COMMAND")
    rsub.required = True

    p = rsub.add_parser("list", parents=[common], help="list customers (optionally matching a search)")
    p.add_argument("--search", default="", help="words to look for in any field")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_guard(cmd_list))

    p = rsub.add_parser("show", parents=[common], help="show everything held about one customer")
    p.add_argument("record_id")
    p.set_defaults(func=_guard(cmd_show))

    p = rsub.add_parser("export", parents=[common], help="export one customer's data as JSON (portability)")
    p.add_argument("record_id")
    p.add_argument("-o", "--output", type=Path, default=None, help="file to write (default: standard output)")
    p.set_defaults(func=_guard(cmd_export))

    p = rsub.add_parser("delete", parents=[common], help="delete a customer irrecoverably")
    p.add_argument("record_id")
    p.add_argument("--receipt", type=Path, default=None, help="write the erasure receipt (JSON) to this file")
    p.add_argument("--yes", action="store_true", help="confirm: the record cannot be restored afterwards")
    p.set_defaults(func=_guard(cmd_delete))

    p = rsub.add_parser("purge-expired", parents=[common],
                        help="list records past the retention period, and purge them with --yes")
    p.add_argument("--yes", action="store_true", help="purge the listed records irrecoverably")
    p.add_argument("--retention-days", type=int, default=None, help="set the retention period first")
    p.set_defaults(func=_guard(cmd_purge))

    from .records_edit import register_edits
    register_edits(rsub, common, _guard)
    p = subparsers.add_parser(
        "sync", parents=[common], help="sync consented customer records with the organisation's bucket",
        description="Send the records whose customers consented to cloud sync (end-to-end encrypted), "
                    "remove withdrawn or deleted ones, fetch colleagues' changes. Exit status: 0 done, "
                    "1 offline or conflicts left to resolve, 2 error.")
    p.add_argument("--endpoint", help="S3-compatible endpoint URL (https://...)")
    p.add_argument("--bucket", help="bucket name")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--prefix", default="pvdesk")
    p.add_argument("--ca-bundle", default=None, help="CA certificate bundle for a private CA")
    p.add_argument("--create-key", action="store_true", help="first laptop: create the organisation sync key")
    p.add_argument("--import-key", type=Path, metavar="FILE",
                   help="import the organisation key from a key file, or a recovery code in a file ('-' reads stdin)")
    p.add_argument("--export-key", type=Path, metavar="FILE", help="write the organisation key file")
    p.add_argument("--access-key-id", default=None, help="S3 access key id (kept in the store's settings)")
    p.add_argument("--secret-key-file", type=Path, default=None,
                   help="file holding the S3 secret key (kept in the keyring, never on the command line)")
    p.add_argument("--rotate-key", action="store_true",
                   help="make a new organisation key; every bucket key is re-sealed, old versions deleted")
    p.add_argument("--revoke-laptop", metavar="LAPTOP_ID", default=None,
                   help="a lost laptop: rotate the key and list the customers it could read")
    p.add_argument("--laptops", action="store_true", help="list the laptops that synced with the bucket")
    p.add_argument("--no-pull", action="store_true", help="only send this laptop's changes")
    p.set_defaults(func=_guard(cmd_sync))


def _guard(fn):
    def run(args) -> int:
        try:
            return fn(args)
        except (PVDeskError, OSError, ValueError) as exc:
            print(f"pvdesk: error: {describe_error(exc)}", file=sys.stderr)
        except KeyboardInterrupt:
            print("pvdesk: interrupted", file=sys.stderr)
        return EXIT_ERROR
    run.__name__ = fn.__name__
    return run


def _passphrase(args) -> str | None:
    if getattr(args, "passphrase_file", None) is not None:
        return args.passphrase_file.read_text("utf-8").strip()
    return os.environ.get("PVDESK_RECORDS_PASSPHRASE") or None


def _data_dir(args) -> Path:
    from desktop.records.service import default_data_dir
    return args.data_dir if getattr(args, "data_dir", None) is not None else default_data_dir()


def _service(args, **kw):
    """Open the store as the logged-in installer; every integrity problem is printed, one line each."""
    from desktop.records import profile
    from desktop.records.service import RecordsService
    installer = profile.installer_id(_data_dir(args), getattr(args, "installer", None))
    svc = RecordsService(_data_dir(args), installer, passphrase=_passphrase(args), **kw)
    for line in svc.integrity_report():
        print(f"pvdesk: warning: {line}", file=sys.stderr)
    return svc


def cmd_list(args) -> int:
    svc = _service(args)
    try:
        rows = svc.search(args.search) if args.search else svc.list_customers()
        if args.json:
            print(json.dumps([{"id": r.id, "name": r.name, "site": r.site, "sync": r.sync_status,
                               "restricted": r.restricted} for r in rows], indent=2, ensure_ascii=False))
        else:
            for r in rows:
                flag = " [restricted]" if r.restricted else ""
                print(f"{r.id}  {r.name}{flag}  ({r.site or 'no site'}; sync: {r.sync_status})")
            print(f"{len(rows)} customer(s)", file=sys.stderr)
        return 1 if svc.integrity_report() else 0
    finally:
        svc.close()


def cmd_show(args) -> int:
    svc = _service(args)
    try:
        c = svc.get_customer(args.record_id)
        doc = c.to_dict()
        doc["sync_status"] = svc.sync_status(c.id)
        print(json.dumps(doc, indent=2, ensure_ascii=False))
        return 0
    finally:
        svc.close()


def cmd_export(args) -> int:
    svc = _service(args)
    try:
        text = svc.export_json(args.record_id)
        if args.output is None:
            print(text)
        else:
            from desktop.records.files import write_private
            write_private(args.output, text.encode("utf-8"))
            print(f"exported record {args.record_id} to {args.output}", file=sys.stderr)
        return 0
    finally:
        svc.close()


def cmd_delete(args) -> int:
    if not args.yes:
        print("pvdesk: error: deletion cannot be undone; add --yes to confirm", file=sys.stderr)
        return EXIT_ERROR
    svc = _service(args)
    try:
        receipt = svc.delete(args.record_id)
        print(f"deleted record {args.record_id} (its key is destroyed)", file=sys.stderr)
        _write_receipt(args, receipt)
        return 0
    finally:
        svc.close()


def cmd_purge(args) -> int:
    svc = _service(args)
    try:
        if args.retention_days is not None:
            svc.set_retention_days(args.retention_days)
        due = svc.expired()
        for rid in due:
            print(rid)
        if not due:
            print(f"no record is past the retention period ({svc.retention_days} days)", file=sys.stderr)
        elif args.yes:
            svc.purge_expired(due)
            print(f"purged {len(due)} record(s)", file=sys.stderr)
        else:
            print(f"{len(due)} record(s) past the retention period; review, then run again with --yes",
                  file=sys.stderr)
        return 0
    finally:
        svc.close()


def cmd_sync(args) -> int:
    svc = _service(args)
    try:
        if args.endpoint or args.bucket:
            if not (args.endpoint and args.bucket):
                print("pvdesk: error: give both --endpoint and --bucket", file=sys.stderr)
                return EXIT_ERROR
            secret = args.secret_key_file.read_text("utf-8").strip() if args.secret_key_file else None
            svc.configure_sync(args.endpoint, args.bucket, region=args.region, prefix=args.prefix,
                               ca_bundle=args.ca_bundle, access_key_id=args.access_key_id,
                               secret_access_key=secret)
        if args.create_key:
            code = svc.create_sync_key()
            print("Organisation sync key created. Recovery code (write it down, keep it safe):")
            print(code)
            print(f"Fingerprint: {svc.sync_key_fingerprint()}")
            return 0
        if args.import_key is not None:
            text = sys.stdin.read() if str(args.import_key) == "-" else args.import_key.read_text("utf-8")
            print(f"Organisation sync key imported; fingerprint {svc.import_sync_key(text)}")
            return 0
        if args.export_key is not None:
            # owner-only from its first byte, never through a symlink, onto a device or into an old
            # file's looser mode (desktop/records/files.py)
            write_private(args.export_key, svc.export_sync_key_file().encode("utf-8"))
            print(f"key file written to {args.export_key} (treat it like a password)", file=sys.stderr)
            return 0
        if args.laptops:
            for lap in svc.laptops():
                print(f"{lap['laptop']}  {lap.get('installer', '?')}  key {lap.get('key', '?')}")
            return 0
        if args.rotate_key or args.revoke_laptop:
            result = svc.rotate_sync_key(revoked_laptop=args.revoke_laptop)
            print("New organisation sync key. Recovery code for the other laptops (write it down):")
            print(result["recovery_code"])
            print(f"Fingerprint: {result['fingerprint']}; {result['resealed']} bucket object(s) re-sealed")
            if args.revoke_laptop:
                print(f"Customers whose records laptop {args.revoke_laptop} could read:")
                for r in result["readable_by_revoked"]:
                    print(f"  {r['record_id']}  {r['name'] or '(not on this laptop)'}")
            return 0
        report = svc.sync(pull=not args.no_pull)
        print(report.summary())
        if report.conflicts:
            print("conflicts (resolve in the Customers page): " + ", ".join(report.conflicts))
        return 1 if report.offline or report.conflicts else 0
    finally:
        svc.close()


def _write_receipt(args, receipt) -> None:
    if receipt is None or getattr(args, "receipt", None) is None:
        return
    from desktop.records.files import write_private
    write_private(args.receipt, json.dumps(receipt, indent=2).encode())
    print(f"erasure receipt written to {args.receipt}", file=sys.stderr)
