"""Device commands of the CLI: ports, scan, info, read, monitor (its own module), faults, registers.

Runs on the main thread; each command runs one asyncio loop for its I/O.
Output is a plain table, or JSON with ``--json``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from protocols import codecs
from protocols.reader import ReadBlock, decode_points, describe, engineering

from desktop.cli.main import add_connection_args, target_from_args
from desktop.cli.monitor import cmd_monitor
from desktop.device.connect import connected


def register(sub) -> None:
    p = sub.add_parser("ports", help="list serial ports with adapter description and VID:PID")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_ports)

    p = sub.add_parser("scan", help="find unit ids on a bus or gateway (and SunSpec devices)")
    add_connection_args(p)
    p.add_argument("--units", default=None,
                   help="unit ids to try, e.g. 1-247 or 1,2,5 (default: the vendors' unit ids, then 1-247)")
    p.add_argument("--fast", action="store_true", help="only the vendors' default unit ids (1, 2, 3, 126, 247, ...)")
    p.add_argument("--scan-timeout", type=float, default=0.3, help="seconds per unit id (default 0.3)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_scan)

    for name, helptext, fn in (
            ("info", "model, serial, ratings and the firmware of every component", cmd_info),
            ("read", "one snapshot of every point as a table", cmd_read),
            ("faults", "active alarms and the fault history", cmd_faults)):
        p = sub.add_parser(name, help=helptext)
        add_connection_args(p)
        p.add_argument("--json", action="store_true", help="machine-readable output")
        p.set_defaults(func=fn)

    p = sub.add_parser("monitor", help="live values in the terminal; --csv records them")
    add_connection_args(p)
    p.add_argument("--csv", metavar="FILE", help="append every sample to this CSV file")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between samples (default 1)")
    p.add_argument("--count", type=int, default=0, help="stop after this many samples (default: until Ctrl-C)")
    p.set_defaults(func=cmd_monitor)

    p = sub.add_parser("registers", help="read raw registers: address, hex and decoded value")
    add_connection_args(p)
    p.add_argument("--input", action="store_true", help="input registers (function 4) instead of holding")
    p.add_argument("address", type=int)
    p.add_argument("count", type=int, nargs="?", default=10)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_registers)


def _run(coro):
    return asyncio.run(coro)


def _show(v):
    return "n/a" if v is codecs.NOT_IMPLEMENTED or v is None else v


# ------------------------------------------------------------------ ports
def cmd_ports(args) -> int:
    from serial.tools import list_ports
    ports = [{"device": p.device, "description": p.description,
              "vid_pid": f"{p.vid:04X}:{p.pid:04X}" if p.vid is not None else "",
              "serial_number": p.serial_number or "", "manufacturer": p.manufacturer or ""}
             for p in sorted(list_ports.comports(), key=lambda p: p.device)]
    if args.json:
        print(json.dumps(ports, indent=2))
    elif not ports:
        print("No serial ports found. Plug in the RS-485 adapter; on Linux check `dmesg` and the 'dialout' group.")
    else:
        for p in ports:
            print(f"{p['device']:<20} {p['vid_pid']:<10} {p['description']}")
    return 0


# ------------------------------------------------------------------- scan
def _unit_list(text: str) -> list[int]:
    units: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        units += list(range(int(lo), int(hi or lo) + 1))
    if not units or any(not 0 <= u <= 247 for u in units):
        raise ValueError(f"unit ids must be 0..247, got {text!r}")
    return units


async def _scan(args) -> list[dict]:
    from desktop.device.bus_scan import scan_units
    from desktop.device.connect import start_demo_simulator
    target = target_from_args(args)
    sim = start_demo_simulator(units=(1, 2, 3)) if target.demo else None
    units = _scan_units(args)
    progress = ScanProgress(len(units), args.scan_timeout, sys.stderr)

    def on_progress(p) -> None:
        progress.n_found = p.found
        progress.step(p.unit)

    try:
        found = await scan_units(target, units, args.scan_timeout, sim, on_progress)
    finally:
        progress.end()
        if sim:
            sim.stop()
    return [f.to_dict() for f in found]


def _scan_units(args) -> list[int]:
    """--units as given; else the vendors' unit ids first, then the rest of 1-247 (not with --fast)."""
    from protocols.doctor.plan import unit_ids
    if args.units:
        return _unit_list(args.units)
    return unit_ids(all_units=not getattr(args, "fast", False))


def _scan_said(args, tried: list[int]) -> str:
    """The unit ids a scan tried, as the user would say them: --units as given, or the default order."""
    from protocols.doctor.plan import unit_ids
    if args.units:
        return args.units
    vendors = ", ".join(str(u) for u in unit_ids(all_units=False))
    return f"the vendors' ids {vendors}" + ("" if len(tried) <= len(vendors.split(", ")) else ", then 1-247")


class ScanProgress:
    """The scan's progress line on stderr: unit, count, devices found, time left (rewritten on a terminal)."""

    def __init__(self, total: int, per_unit_s: float, stream) -> None:
        self.total, self.per_unit_s, self.stream = total, per_unit_s, stream
        self.tty = stream.isatty()
        self.done = 0
        self.n_found = 0
        self.t0 = time.monotonic()
        self.last_print = 0.0

    def left_s(self) -> float:
        """Seconds left: the units to go at the pace so far (the per-unit timeout before any is done)."""
        pace = (time.monotonic() - self.t0) / self.done if self.done else self.per_unit_s
        return (self.total - self.done) * max(pace, 0.001)

    def line(self, unit: int) -> str:
        left = self.left_s()
        eta = f"{left / 60:.0f} min {left % 60:02.0f} s" if left >= 60 else f"{left:.0f} s"
        return (f"scan: unit {unit:>3} ({self.done + 1}/{self.total}), {self.n_found} found, "
                f"about {eta} left")

    def step(self, unit: int) -> None:
        now = time.monotonic()
        if self.tty:
            self.stream.write("\r" + self.line(unit).ljust(70))
            self.stream.flush()
        elif self.done == 0 or now - self.last_print >= 10.0:   # a pipe or a log: a line every 10 s
            self.stream.write(self.line(unit) + "\n")
            self.stream.flush()
            self.last_print = now
        self.done += 1

    def end(self) -> None:
        if self.tty:
            self.stream.write("\r" + " " * 70 + "\r")
            self.stream.flush()


def cmd_scan(args) -> int:
    if args.ble and not any((args.tcp, args.serial, args.demo)):
        return _ble_scan(args)
    found = _run(_scan(args))
    tried = _scan_units(args)
    if args.json:
        print(json.dumps(found, indent=2))
    elif not found:
        from desktop.device.bus_scan import nothing_found_advice
        print(f"{nothing_found_advice(target_from_args(args).spec)} Unit ids tried: {_scan_said(args, tried)}.")
    else:
        for d in found:
            mark = "  (unverified on hardware)" if d.get("verified") is False else ""
            print(f"unit {d['unit']:>3}  {d['profile'] or '-':<16} {d['model']}{mark}")
            if d.get("why"):
                print(f"          because {d['why']}")
        answered = ", ".join(str(d["unit"]) for d in found)
        print(f"{len(found)} of {len(tried)} unit ids answered ({answered}); tried {_scan_said(args, tried)}")
    return 0 if found else 1


def _ble_scan(args) -> int:
    from protocols.links import ble
    from protocols.profiles import loader
    profiles = [loader.load(n) for n in loader.available()]
    devices = _run(ble.scan(5.0, profiles))
    if getattr(args, "json", False):
        print(json.dumps([d.__dict__ if hasattr(d, "__dict__") else d for d in devices], indent=2, default=str))
        return 0
    for d in devices:
        bars = "▂▄▆█"[: getattr(d, "signal_bars", 0)]
        print(f"{d.address:<20} {d.name:<20} {d.rssi:>5} dBm {bars:<4} {getattr(d, 'profile', '')}")
    if not devices:
        print("No inverter found over Bluetooth. Is the inverter's Bluetooth on and nearby?")
    return 0


# ------------------------------------------------------------- info, read
async def _info(args) -> dict:
    async with connected(target_from_args(args)) as dev:
        ident = await dev.identity()
        fw = await dev.firmware()
        labels = {k: dev.profile.point(k).label or k for k in ident}
        units = {k: dev.profile.point(k).unit for k in ident}
        out = {"profile": dev.profile.name, "model": dev.profile.title, "unit": dev.unit,
               "verified": dev.profile.verified, "verification": dev.profile.extra.get("verification", ""),
               "identity": {k: _show(v) for k, v in ident.items()}, "labels": labels, "units": units,
               "firmware": fw}
        if dev.profile.kind == "sunspec":
            out["sunspec"] = sunspec_summary(dev.profile)
            out["sunspec_lines"] = sunspec_lines(dev.profile)
        return out


def cmd_info(args) -> int:
    info = _run(_info(args))
    if args.json:
        info.pop("sunspec_lines", None)
        print(json.dumps(info, indent=2, default=str))
        return 0
    print(f"{info['model']}  (profile {info['profile']}, unit {info['unit']})")
    if info.get("verified") is False:
        print(f"  Profile unverified on hardware: {info.get('verification') or 'no real capture proves this map yet'}")
    for k, v in info["identity"].items():
        print(f"  {info['labels'][k]:<28} {v} {info['units'][k]}".rstrip())
    print("Firmware:")
    for c in info["firmware"]:
        extra = "  ".join(x for x in (f"hw {c['hardware']}" if c["hardware"] is not None else "",
                                      f"serial {c['serial']}" if c["serial"] else "") if x)
        print(f"  {c['label']:<28} {c['version'] or 'n/a':<10} {extra}")
    for line in info.pop("sunspec_lines", []):
        print(line)
    return 0


async def _read(args):
    async with connected(target_from_args(args)) as dev:
        return dev.profile, await dev.read()


def cmd_read(args) -> int:
    profile, sample = _run(_read(args))
    if args.json:
        out = {"profile": profile.name, "unit": sample.unit, "timestamp_s": sample.timestamp_s,
               "reads": sample.reads, "points": {}}
        for p in profile.points:
            v = sample.values.get(p.name)
            out["points"][p.name] = {"value": None if v is codecs.NOT_IMPLEMENTED else v, "unit": p.unit,
                                     "label": p.label, "category": p.category,
                                     "flag": sample.flags.get(p.name)}
            if p.enum and isinstance(v, int):
                out["points"][p.name]["text"] = p.enum.get(v)
        if profile.kind == "sunspec":
            out["sunspec"] = sunspec_summary(profile)
        print(json.dumps(out, indent=2, default=str))
        return 0
    print(f"{profile.title}: {len(profile.points)} points in {sample.reads} reads, {sample.duration_s * 1000:.0f} ms")
    for p in profile.points:
        flag = "  OUT OF RANGE" if p.name in sample.flags else ""
        print(f"  {p.label or p.name:<34} {describe(p, sample.values.get(p.name)):<30}{flag}")
    for line in sunspec_lines(profile):
        print(line)
    return 0


def sunspec_summary(profile) -> dict:
    """The SunSpec map of a discovered profile: base, models decoded, models not decoded."""
    ss = profile.extra.get("sunspec", {})
    return {"base": ss.get("base"), "models": ss.get("models", []), "unmapped": ss.get("unmapped", [])}


def sunspec_lines(profile) -> list[str]:
    """Text lines naming every SunSpec model of the device, decoded or not, with address and length."""
    if profile.kind != "sunspec":
        return []
    ss = sunspec_summary(profile)
    lines = [f"SunSpec map at {ss['base']}:"]
    for m in ss["models"]:
        note = ""
        if m.get("short_by"):
            note += f"  shorter than its definition by {m['short_by']} registers"
        if m.get("long_by"):
            note += f"  {m['long_by']} registers past its definition not decoded"
        if m.get("unresolved"):
            note += "  not laid out: " + "; ".join(m["unresolved"])
        lines.append(f"  model {m['id']:>5} at {m['address']:>5}, L={m['length']:<4} {m.get('label', '')}{note}")
    for m in ss["unmapped"]:
        lines.append(f"  model {m['id']:>5} at {m['address']:>5}, L={m['length']:<4} not decoded: {m['reason']}")
    return lines


# ----------------------------------------------------------------- faults
async def _faults(args):
    async with connected(target_from_args(args)) as dev:
        return await dev.alarms(), await dev.fault_history()


def cmd_faults(args) -> int:
    active, history = _run(_faults(args))
    if args.json:
        print(json.dumps({"active": [a.as_dict() for a in active], "history": [a.as_dict() for a in history]},
                         indent=2))
        return 0
    print("Active alarms:" if active else "Active alarms: none")
    for a in active:
        print(f"  [{a.code:>4}] {a.severity:<8} {a.text}")
    print("Fault history (newest first):" if history else "Fault history: empty")
    for a in history:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(a.time_s))
        print(f"  {stamp} UTC  [{a.code:>4}] {a.severity:<8} {a.text}")
    return 0


# -------------------------------------------------------------- registers
async def _registers(args):
    fn = "input" if args.input else "holding"
    async with connected(target_from_args(args)) as dev:
        regs = await dev.read_raw(fn, args.address, args.count)
        by_addr = {p.address: p for p in dev.profile.points if p.function == fn}
        inside = [p for p in dev.profile.points
                  if p.function == fn and args.address <= p.address and p.end <= args.address + len(regs)]
        if inside:  # scale factors read in the same range apply (a SunSpec SF outside it: n/a, not a guess)
            values = engineering(dev.profile, decode_points(ReadBlock(fn, args.address, len(regs), inside), regs))[0]
        else:
            values = {}
        rows = []
        for i, r in enumerate(regs):
            addr = args.address + i
            p = by_addr.get(addr)
            decoded = f"{p.name} = {describe(p, values.get(p.name))}" if p and p.name in values else ""
            rows.append({"address": addr, "raw": r, "hex": f"0x{r:04X}", "decoded": decoded})
        return rows


def cmd_registers(args) -> int:
    rows = _run(_registers(args))
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            print(f"  {r['address']:>6}  {r['hex']}  {r['raw']:>6}  {r['decoded']}")
    return 0
