"""`pvdesk records add|correct|consent|withdraw|restrict|unrestrict|requests|audit|login|new-store`.

The editing half of the records command line (desktop/cli/records.py has the
readers, delete/purge and sync, and opens the store through `_service`, which
takes the installer from the logged-in profile). Every leaf returns an exit
code; errors are one line (records._guard). Runs on the main thread.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from .records import EXIT_ERROR, _data_dir, _service

_FIELDS = (("name", "--name"), ("phone", "--phone"), ("email", "--email"),
           ("postal_address", "--address"), ("notes", "--notes"))


def register_edits(rsub, common, _guard) -> None:
    def fields(p, required_name: bool) -> None:
        for key, flag in _FIELDS:
            p.add_argument(flag, dest=key, required=required_name and key == "name", default=None)

    p = rsub.add_parser("login", help="set the installer this laptop account works as (for the audit trail)")
    p.add_argument("installer_id")
    p.add_argument("--name", default="")
    p.add_argument("--company", default="")
    p.add_argument("--data-dir", type=Path, default=None)
    p.set_defaults(func=_guard(cmd_login))

    p = rsub.add_parser("add", parents=[common], help="create a customer record (name required, the rest optional)")
    fields(p, True)
    p.add_argument("--site", default=None, help="site name (e.g. Home)")
    p.add_argument("--location", default="", help="site location 'lat, lon'")
    p.add_argument("--kwp", default=None, help="installed capacity in kWp")
    p.add_argument("--serial", action="append", default=[], help="device serial (repeat)")
    p.set_defaults(func=_guard(cmd_add))

    p = rsub.add_parser("correct", parents=[common], help="correct fields of a record (right to rectification)")
    p.add_argument("record_id")
    fields(p, False)
    p.set_defaults(func=_guard(cmd_correct))

    p = rsub.add_parser("consent", parents=[common], help="record the customer's consent to one purpose")
    p.add_argument("record_id")
    p.add_argument("purpose", choices=["cloud_sync", "support_sharing"])
    p.add_argument("--method", required=True, choices=["signed_on_screen", "paper", "verbal"])
    p.set_defaults(func=_guard(cmd_consent))

    p = rsub.add_parser("withdraw", parents=[common], help="withdraw a consent (the cloud copy is removed)")
    p.add_argument("record_id")
    p.add_argument("purpose", choices=["cloud_sync", "support_sharing"])
    p.set_defaults(func=_guard(cmd_withdraw))

    for name, helptext in (("restrict", "restrict processing (kept, frozen, not synced or shared)"),
                           ("unrestrict", "lift a restriction")):
        p = rsub.add_parser(name, parents=[common], help=helptext)
        p.add_argument("record_id")
        p.set_defaults(func=_guard(cmd_restrict if name == "restrict" else cmd_unrestrict))

    p = rsub.add_parser("requests", parents=[common], help="the register of customers' requests (30-day clock)")
    p.add_argument("action", nargs="?", default="list", choices=["list", "open", "close", "export"])
    p.add_argument("--kind", choices=["access", "correction", "export", "restriction", "deletion"])
    p.add_argument("--record", default=None, help="record id the request is about")
    p.add_argument("--identity-check", default="", help="how the requester's identity was checked")
    p.add_argument("--request", default=None, help="request id (close)")
    p.add_argument("--outcome", default="done", choices=["done", "refused", "withdrawn"])
    p.add_argument("-o", "--output", type=Path, default=None, help="export: file to write")
    p.set_defaults(func=_guard(cmd_requests))

    p = rsub.add_parser("audit", parents=[common], help="verify the audit trail, or acknowledge a break")
    p.add_argument("action", choices=["verify", "acknowledge"])
    p.set_defaults(func=_guard(cmd_audit))

    p = rsub.add_parser("controller", parents=[common],
                        help="the controller's settings: organisation, data-protection contact, policy version")
    p.add_argument("--organisation", default=None)
    p.add_argument("--dpo-contact", default=None, help="contact for data protection (e-mail or address)")
    p.add_argument("--policy-version", default=None, help="a new version asks every customer again")
    p.add_argument("--policy-file", type=Path, default=None, help="the policy text (archived by its SHA-256)")
    p.set_defaults(func=_guard(cmd_controller))

    p = rsub.add_parser("receipt", parents=[common], help="the erasure receipt of a deleted record (JSON, PDF)")
    p.add_argument("record_id")
    p.add_argument("-o", "--output", type=Path, default=None, help="JSON file (default: standard output)")
    p.add_argument("--pdf", type=Path, default=None, help="also write it as PDF")
    p.set_defaults(func=_guard(cmd_receipt))

    p = rsub.add_parser("new-store", parents=[common],
                        help="give up a store whose database is missing and start an empty one")
    p.add_argument("--discard-old-key", action="store_true", required=True,
                   help="destroy the old store's key: its records can never be opened again")
    p.set_defaults(func=_guard(cmd_new_store))


def _values(args) -> dict:
    return {k: getattr(args, k) for k, _ in _FIELDS if getattr(args, k, None) is not None}


def cmd_login(args) -> int:
    from desktop.records import profile
    doc = profile.login(_data_dir(args), args.installer_id, args.name, args.company)
    print(f"logged in as installer {doc['id']}", file=sys.stderr)
    return 0


def _run(args, fn) -> int:
    svc = _service(args)
    try:
        return fn(svc) or 0
    finally:
        svc.close()


def cmd_add(args) -> int:
    data = _values(args)
    if args.site:
        from desktop.records.model import parse_location
        lat, lon = parse_location(args.location)
        data["sites"] = [{"name": args.site, "latitude": lat, "longitude": lon,
                          "installed_capacity_kwp": args.kwp, "device_serials": args.serial}]
    return _run(args, lambda svc: print(svc.add_customer(data)))


def cmd_correct(args) -> int:
    changes = _values(args)
    if not changes:
        print("pvdesk: error: name at least one field to correct (--name, --phone, ...)", file=sys.stderr)
        return EXIT_ERROR

    def do(svc):
        svc.update_customer(args.record_id, changes)
        print(f"corrected {', '.join(sorted(changes))} of record {args.record_id}", file=sys.stderr)
    return _run(args, do)


def cmd_consent(args) -> int:
    def do(svc):
        svc.grant_consent(args.record_id, args.purpose, args.method)
        print(f"consent to {args.purpose} recorded (policy {svc.policy_version})", file=sys.stderr)
    return _run(args, do)


def cmd_withdraw(args) -> int:
    def do(svc):
        if not svc.withdraw_consent(args.record_id, args.purpose):
            print(f"no current consent to {args.purpose} to withdraw", file=sys.stderr)
            return 0
        print(f"consent to {args.purpose} withdrawn", file=sys.stderr)
        for b in svc.bundles_shared(args.record_id):
            print(f"bundle {b['bundle_id']} (sha256 {b['sha256'][:16]}...) was sent to {b['recipient']}")
        draft = svc.deletion_request_draft(args.record_id)
        if draft:
            print(draft)
    return _run(args, do)


def cmd_restrict(args) -> int:
    return _run(args, lambda svc: svc.restrict(args.record_id))


def cmd_unrestrict(args) -> int:
    return _run(args, lambda svc: svc.unrestrict(args.record_id))


def cmd_requests(args) -> int:
    def do(svc):
        if args.action == "open":
            if not args.kind:
                print("pvdesk: error: give --kind", file=sys.stderr)
                return EXIT_ERROR
            print(svc.open_request(args.kind, args.record, args.identity_check))
        elif args.action == "close":
            svc.close_request(args.request, args.outcome)
        elif args.action == "export":
            text = json.dumps(svc.requests_export(), indent=2, ensure_ascii=False)
            if args.output is None:
                print(text)
            else:
                from desktop.records.files import write_private
                write_private(args.output, text.encode())
        else:
            for r in svc.requests():
                left = "" if r["days_left"] is None else f", {r['days_left']} day(s) left"
                print(f"{r['request_id']}  {r['kind']:<11} {r['status']}{left}  record {r['record_id'] or '-'}")
    return _run(args, do)


def cmd_audit(args) -> int:
    svc = _service(args)
    try:
        if args.action == "acknowledge":
            seq = svc.acknowledge_audit_break()
            print("no break to acknowledge" if not seq else f"break acknowledged (entry {seq}); changes allowed again",
                  file=sys.stderr)
            return 0
        count = svc.verify_audit()
        print(f"audit trail verified: {count} entries, end matches the keyring's record")
        return 0
    finally:
        svc.close()


def cmd_new_store(args) -> int:
    svc = _service(args, discard_missing=True)
    svc.close()
    print("the old store's key is destroyed; an empty store is ready", file=sys.stderr)
    return 0


def cmd_controller(args) -> int:
    def do(svc):
        text = args.policy_file.read_text("utf-8") if args.policy_file else None
        if any(v is not None for v in (args.organisation, args.dpo_contact, args.policy_version, text)):
            svc.set_controller(organisation=args.organisation, dpo_contact=args.dpo_contact,
                               policy_version=args.policy_version, policy_text=text)
        print(json.dumps(svc.controller(), indent=2, ensure_ascii=False))
    return _run(args, do)


def cmd_receipt(args) -> int:
    from desktop.records import receipt as receipt_mod
    from desktop.records.files import write_private

    def do(svc):
        doc = svc.erasure_receipt(args.record_id)
        if doc is None:
            print(f"pvdesk: error: no erasure receipt for record {args.record_id}", file=sys.stderr)
            return EXIT_ERROR
        text = receipt_mod.to_json(doc)
        if args.output is None:
            print(text)
        else:
            write_private(args.output, text.encode())
        if args.pdf is not None:
            from desktop.ui.commissioning.report_pdf import render_html
            write_private(args.pdf, render_html(receipt_mod.receipt_html(doc), f"Erasure receipt {args.record_id}"))
        return 0
    return _run(args, do)
