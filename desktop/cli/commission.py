"""`pvdesk params list|get|set|history` and `pvdesk settings save|apply FILE`: commissioning from the command line.

desktop/cli/main.py calls ``register(subparsers)``. Runs on the main thread; each
command runs one asyncio loop for its I/O. Safety-relevant changes ask
"[y/N]" on a terminal (``--yes`` answers for scripts); the installer code for
protected settings comes from PVDESK_INSTALLER_CODE or a hidden prompt, never
from the command line (other users could see it), and lives only as long as
the command. Every write is recorded in the device's write history.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import sys

from protocols.errors import PVDeskError

from desktop.cli.main import add_connection_args, target_from_args
from desktop.device.connect import connected

EXIT_FAILED = 1


def register(sub) -> None:
    params = sub.add_parser("params", help="list, read and change the device's settings")
    psub = params.add_subparsers(dest="params_cmd", metavar="COMMAND")
    psub.required = True
    p = psub.add_parser("list", help="every writable setting: value, unit, allowed values, description")
    add_connection_args(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_list)
    p = psub.add_parser("get", help="one setting's value")
    add_connection_args(p)
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_get)
    p = psub.add_parser("set", help="change a setting (validated, confirmed, read back, recorded)")
    add_connection_args(p)
    _write_args(p)
    p.add_argument("name")
    p.add_argument("value", help="a number, or a choice's number or text (quote text with spaces)")
    p.set_defaults(func=cmd_set)

    p = psub.add_parser("history", help="the writes PVDesk made to this device (old, new, read-back, who, when)")
    add_connection_args(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_history)

    settings = sub.add_parser("settings", help="save a device's settings to a file, or apply a file")
    ssub = settings.add_subparsers(dest="settings_cmd", metavar="COMMAND")
    ssub.required = True
    p = ssub.add_parser("save", help="save every setting to a JSON file (with profile, model and firmware)")
    add_connection_args(p)
    p.add_argument("--installer", default=None, help="installer id (default: $PVDESK_INSTALLER or login name)")
    p.add_argument("file")
    p.set_defaults(func=cmd_save)
    p = ssub.add_parser("apply", help="show what a file would change, then apply it (same model only)")
    add_connection_args(p)
    _write_args(p)
    p.add_argument("--dry-run", action="store_true", help="show the changes, write nothing")
    p.add_argument("file")
    p.set_defaults(func=cmd_apply)


def _write_args(p) -> None:
    p.add_argument("--yes", action="store_true", help="confirm safety-relevant changes without asking")
    p.add_argument("--installer", default=None, help="installer id (default: $PVDESK_INSTALLER or login name)")


def _installer(args) -> str:
    return args.installer or os.environ.get("PVDESK_INSTALLER") or getpass.getuser()


def _confirm(question: str, args) -> bool:
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise PVDeskError(f"{question} needs a confirmation", hint="run it on a terminal, or add --yes")
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


async def _login_if_needed(session, names) -> None:
    if not any(session.needs_login(n) for n in names):
        return
    code = os.environ.get("PVDESK_INSTALLER_CODE")
    if not code:
        if not sys.stdin.isatty():
            raise PVDeskError("this setting is protected by the installer login",
                              hint="set PVDESK_INSTALLER_CODE or run on a terminal to be asked")
        code = getpass.getpass("Installer code: ")
    await session.login(code)


def _session(device, args):
    from desktop.commission.params import ParamSession
    return ParamSession(device, _installer(args) if hasattr(args, "installer") else "installer")


# ------------------------------------------------------------------ params
def _info_dict(p) -> dict:
    return {"name": p.name, "label": p.label, "value": p.value, "text": p.text, "unit": p.unit,
            "allowed": p.allowed_text(), "choices": {str(k): v for k, v in p.choices.items()},
            "min": p.min, "max": p.max, "confirm": p.confirm, "protected": p.protected,
            "description": p.description}


async def _read(args, names=None):
    async with connected(target_from_args(args)) as dev:
        return dev.profile, await _session(dev, args).read_all(names)


def cmd_list(args) -> int:
    profile, infos = asyncio.run(_read(args))
    if args.json:
        print(json.dumps({"profile": profile.name, "parameters": [_info_dict(p) for p in infos]}, indent=2))
        return 0
    print(f"{profile.title}: {len(infos)} settings")
    for p in infos:
        flags = "".join((" [confirm]" if p.confirm else "", " [login]" if p.protected else ""))
        print(f"  {p.name:<28} {p.text:<26} {p.allowed_text()}{flags}")
        if p.description:
            print(f"  {'':<28} {p.description}")
    return 0


def cmd_get(args) -> int:
    profile, infos = asyncio.run(_read(args, [args.name]))
    if not infos:
        raise PVDeskError(f"{args.name!r} is not a setting of {profile.title}",
                          hint="list the settings with 'pvdesk params list'")
    p = infos[0]
    print(json.dumps(_info_dict(p), indent=2) if args.json else p.text)
    return 0


async def _set(args):
    from desktop.commission.params import value_text
    async with connected(target_from_args(args)) as dev:
        session = _session(dev, args)
        plan = session.check(args.name, args.value)
        label = plan.point.label or plan.point.name
        if plan.confirm:
            old = (await dev.read_names([plan.point.name]))[plan.point.name]
            if not _confirm(f"{label} is safety-relevant. Change it from {value_text(plan.point, old)} "
                            f"to {plan.text}?", args):
                return None
        await _login_if_needed(session, [plan.point.name])
        return await session.write(args.name, args.value, confirmed=True)


def cmd_set(args) -> int:
    res = asyncio.run(_set(args))
    if res is None:
        print("Not changed.")
        return EXIT_FAILED
    if res.ok:
        back = f"read back {res.readback_text}" if res.readback_text else res.message
        print(f"{res.label}: {res.old_text or '?'} -> {res.new_text} ({back})")
        return 0
    print(f"{res.label}: NOT SET: {res.message}", file=sys.stderr)
    return EXIT_FAILED


async def _serial(args) -> str:
    from desktop.commission.params import device_serial
    async with connected(target_from_args(args)) as dev:
        return await device_serial(dev)


def cmd_history(args) -> int:
    import time

    from desktop.commission.storage import WriteHistory
    serial = asyncio.run(_serial(args))
    entries = WriteHistory().entries(serial)
    if args.json:
        print(json.dumps({"serial": serial, "entries": entries}, indent=2))
        return 0
    print(f"Writes to {serial}: {len(entries)}")
    for e in entries:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e["time_s"]))
        back = "" if e.get("readback") is None else f", read back {e['readback']}"
        print(f"  {stamp}  {e['installer']:<12} {e['label']:<34} {e['old']} -> {e['new']}{back}  [{e['result']}]")
    return 0


# ---------------------------------------------------------------- settings
async def _save(args):
    from desktop.commission import settings_file
    async with connected(target_from_args(args)) as dev:
        doc = await settings_file.capture(dev, _installer(args))
    settings_file.save(doc, args.file)
    return doc


def cmd_save(args) -> int:
    doc = asyncio.run(_save(args))
    print(f"Saved {len(doc['settings'])} settings of {doc['profile_title']} (serial {doc['serial']}) "
          f"to {args.file}")
    return 0


def print_preview(pv) -> None:
    print(f"From {pv.source}:")
    for w in pv.warnings:
        print(f"  note: {w}")
    if not pv.changes and not pv.errors:
        print("  Nothing to change: the device already holds every setting of the file.")
    for r in pv.rows:
        if r.error:
            print(f"  ! {r.label:<34} {r.error}")
        elif r.changes:
            marks = "".join((" [confirm]" if r.confirm else "", " [login]" if r.protected else ""))
            print(f"  ~ {r.label:<34} {r.current_text} -> {r.new_text}{marks}")


async def _apply(args) -> int:
    from desktop.commission import settings_file
    doc = settings_file.load(args.file)
    async with connected(target_from_args(args)) as dev:
        session = _session(dev, args)
        pv = await settings_file.preview(doc, session)
        print_preview(pv)
        if pv.errors or not pv.changes or args.dry_run:
            return EXIT_FAILED if pv.errors else 0
        if not _confirm(f"Apply {len(pv.changes)} change(s)?", args):
            print("Nothing applied.")
            return EXIT_FAILED
        await _login_if_needed(session, [r.name for r in pv.changes])
        results = await settings_file.apply(doc, session)
    for r in results:
        state = f"read back {r.readback_text}" if r.ok else f"NOT SET: {r.message}"
        print(f"  {r.label:<36} {r.new_text:<24} {state}")
    failed = [r for r in results if not r.ok]
    print(f"{len(results) - len(failed)} of {len(results)} applied." if failed else f"All {len(results)} applied.")
    return EXIT_FAILED if failed else 0


def cmd_apply(args) -> int:
    return asyncio.run(_apply(args))
