"""How long the connection doctor needs to find a device, and a full 1-247 unit scan at 9600 baud.

Cases (each against the simulator, started in its own thread; the doctor runs
on this thread's loop with its default options: 0.3 s per probe, the
vendors' unit ids first):
- unit 247 on TCP port 1502 (a device that stays silent at other unit ids);
- 19200 8E1 on RTU (pseudo-terminal, 19200 baud line timing emulated);
- a Solarman V5 logger (Modbus TCP closed; found by discovery, then read);
- an echoing RS-485 adapter at 9600 baud;
- a full 1-247 unit scan at 9600 baud (`pvdesk scan --serial`, line timing
  emulated, the per-unit timeout it uses), devices at units 1, 100 and 247.
Beside each: the floor (one connect and read with the settings already
known, through the same link a user takes) and, for the first two, the same
search in plain numeric order (units 1-247 ascending, baud rates ascending),
measured in the same run and stopped at --baseline-budget seconds.

Usage: .venv/bin/python benchmarks/doctor.py [--baseline-budget S] [--no-scan]
Targets: the defaults found in under 10 s; the full scan under 2 minutes at 9600 baud.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from protocols.doctor import DoctorOptions, LineSettings, doctor_host, doctor_serial
from protocols.doctor.plan import BAUDS
from protocols.links.factory import LinkSpec, make_link
from protocols.session import Session
from protocols.sim.simulator import Simulator, demo_start_time


def free_port(kind=socket.SOCK_STREAM) -> int:
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def port_free(port: int) -> bool:
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def time_to_find(report, t0_wall: float) -> float | None:
    """Seconds from the start to the attempt that found the first device."""
    if not report.findings:
        return None
    best = report.best
    for a in report.attempts:
        if a.outcome in ("modbus", "answer") and a.what in ("unit", "serial", "v5", "goodwe-udp") \
                and f"unit {best.unit}" in a.target:
            return a.at_s - t0_wall
    return report.elapsed_s


async def floor_s(spec: LinkSpec, unit: int) -> float:
    t0 = time.perf_counter()
    session = Session(make_link(spec), timeout_s=1.0, retries=0)
    await session.open()
    try:
        await session.read_registers(0, 1, unit=unit)
    finally:
        await session.close()
    return time.perf_counter() - t0


def run(coro):
    return asyncio.run(coro)


def show(name: str, found_s, total_s, floor, baseline=None, note: str = "") -> None:
    f = f"{found_s:6.2f} s" if found_s is not None else "  not found"
    line = f"{name:<34} found in {f}  (doctor total {total_s:5.2f} s)  floor {floor * 1000:6.0f} ms"
    if baseline is not None:
        line += f"  numeric order: {baseline}"
    print(line + (f"  {note}" if note else ""), flush=True)


def baseline_text(report, t0_wall) -> str:
    t = time_to_find(report, t0_wall)
    if t is not None:
        return f"{t:.1f} s"
    return f"not found in {report.elapsed_s:.0f} s ({len(report.attempts)} probes)"


def case_tcp(budget: float) -> None:
    port = 1502 if port_free(1502) else free_port()
    sim = Simulator(units=(247,), tcp_port=port, start_s=demo_start_time()).start()
    sim.call(setattr, sim.tcp, "gateway", False)    # silent at other unit ids, as a direct device
    common = dict(v5_discovery_port=free_port(socket.SOCK_DGRAM), udp_port=free_port(socket.SOCK_DGRAM),
                  v5_port=free_port())
    try:
        o = DoctorOptions(ports=(port,), **common)
        t0 = time.time()
        report = run(doctor_host("127.0.0.1", o))
        found = time_to_find(report, t0)
        floor = run(floor_s(LinkSpec(kind="tcp", host="127.0.0.1", port=port), 247))
        b = DoctorOptions(ports=(port,), only_ports=True, units=tuple(range(1, 248)), budget_s=budget,
                          v5=False, goodwe_udp=False, identify=False, **common)
        t0b = time.time()
        base = run(doctor_host("127.0.0.1", b))
        note = "" if port == 1502 else f"(port 1502 busy here: served on {port})"
        show(f"TCP port {port}, unit 247", found, report.elapsed_s, floor, baseline_text(base, t0b), note)
    finally:
        sim.stop()


def case_rtu(budget: float) -> None:
    sim = Simulator(units=(1,), tcp=False, rtu=True, line="19200-8E1", line_baud=19200,
                    start_s=demo_start_time()).start()
    try:
        t0 = time.time()
        report = run(doctor_serial(sim.rtu_path, DoctorOptions()))
        found = time_to_find(report, t0)
        s = report.best.spec if report.best else None
        floor = run(floor_s(LinkSpec(kind="serial", serial_port=sim.rtu_path, baud=19200, parity="E"), 1))
        numeric = tuple(LineSettings(b, p, 1) for b in BAUDS for p in "NEO")
        t0b = time.time()
        base = run(doctor_serial(sim.rtu_path, DoctorOptions(units=tuple(range(1, 248)), lines=numeric,
                                                             budget_s=budget, identify=False)))
        got = f"as {s.baud} 8{s.parity}{s.stopbits}" if s else ""
        show("RTU 19200 8E1, unit 1", found, report.elapsed_s, floor, baseline_text(base, t0b), got)
    finally:
        sim.stop()


def case_v5() -> None:
    sim = Simulator(units=(1,), v5=True, start_s=demo_start_time()).start()
    port = sim.tcp.port
    sim.close_tcp()
    try:
        o = DoctorOptions(ports=(port,), only_ports=True, v5_port=sim.v5.port,
                          v5_discovery_port=sim.v5.discovery_port, udp_port=free_port(socket.SOCK_DGRAM))
        t0 = time.time()
        report = run(doctor_host("127.0.0.1", o))
        floor = run(floor_s(LinkSpec(kind="v5", host="127.0.0.1", port=sim.v5.port,
                                     logger_serial=sim.v5.logger_serial), 1))
        show("Solarman V5 logger", time_to_find(report, t0), report.elapsed_s, floor)
    finally:
        sim.stop()


def case_echo() -> None:
    sim = Simulator(units=(1,), tcp=False, rtu=True, echo=True, line_baud=9600, start_s=demo_start_time()).start()
    try:
        t0 = time.time()
        report = run(doctor_serial(sim.rtu_path, DoctorOptions()))
        floor = run(floor_s(LinkSpec(kind="serial", serial_port=sim.rtu_path, local_echo=True), 1))
        echo = "local echo found" if report.best and report.best.spec.local_echo else "echo NOT found"
        show("echoing adapter, 9600 8N1", time_to_find(report, t0), report.elapsed_s, floor, note=echo)
    finally:
        sim.stop()


def case_scan() -> None:
    sim = Simulator(units=(1, 100, 247), tcp=False, rtu=True, line_baud=9600, start_s=demo_start_time()).start()
    try:
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "desktop.cli", "scan", "--serial", sim.rtu_path, "--json"],
                             capture_output=True, text=True, timeout=600)
        wall = time.perf_counter() - t0
        import json
        units = [d["unit"] for d in json.loads(out.stdout)] if out.returncode == 0 else out.stderr.strip()
        print(f"{'full scan 1-247 at 9600 baud':<34} {wall:6.1f} s  per-unit timeout 0.3 s  found {units}  "
              f"(floor: 247 x 0.3 s = {247 * 0.3:.1f} s of silence)", flush=True)
    finally:
        sim.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline-budget", type=float, default=30.0)
    ap.add_argument("--no-scan", action="store_true")
    args = ap.parse_args()
    print("Connection doctor: time to find a device (target: defaults under 10 s)")
    print("load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    case_tcp(args.baseline_budget)
    case_rtu(args.baseline_budget)
    case_v5()
    case_echo()
    if not args.no_scan:
        case_scan()
    return 0


if __name__ == "__main__":
    sys.exit(main())
