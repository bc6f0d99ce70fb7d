"""Firmware transfer efficiency: image bytes per second against the link's byte rate.

A full upgrade (checks, backup, upload, verify, activate, health check,
confirm) of a random, incompressible image against the simulated inverter,
in this process (the simulator runs on its own thread):

- RTU on a real pseudo-terminal, the simulator emulating 115200 baud line
  timing (8N1: 11520 bytes/s; each exchange costs the request and answer
  bytes plus 3.5 character times of silence before each frame). Efficiency =
  image bytes / upload seconds / 11520.
- Modbus TCP on loopback, which has no line rate: throughput is reported, and
  the framing efficiency (image bytes / bytes on the wire) for both links,
  counted from the link's frame trace.

Only the upload phase is timed (first chunk to last acknowledgement), as the
progress bar's throughput is. The load average is printed: the machine's
other work shows up as time per exchange.

Run:  .venv/bin/python benchmarks/firmware.py [--rtu-kib 96] [--tcp-kib 1024]
Target: RTU efficiency at least 0.85; the exit status is 0 when it is met.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from protocols.device import Device
from protocols.firmware.keys import load_private_key
from protocols.firmware.package import build_package, read_package
from protocols.firmware.registers import CHUNK_DATA_MAX
from protocols.firmware.upgrade import UpgradeOptions, Upgrader
from protocols.links.pymodbus_link import serial_link, tcp_link
from protocols.profiles.loader import load
from protocols.session import Session
from protocols.sim.simulator import Simulator, demo_start_time

TEST_KEY = ROOT / "tests" / "firmware" / "data" / "TEST-ONLY-pvdesk-dev-signing-key.pem"
TARGET_RTU = 0.85
BAUD = 115200
OPTIONS = UpgradeOptions(reboot_wait_s=10, health_s=0.5, poll_s=0.05)


def package(size: int):
    return read_package(build_package(os.urandom(size), load_private_key(TEST_KEY), key_id="pvdesk-dev",
                                      vendor="PVDesk", models=["PVD-H8K"], component="control",
                                      version="1.05.00", hardware=[3]))


async def upgrade(make_link, pkg) -> dict:
    link = make_link()  # pymodbus clients are made on the loop that runs them
    wire = {"bytes": 0, "on": False}

    def count(direction, data, t):
        if wire["on"]:
            wire["bytes"] += len(data)

    def progress(e):
        wire["on"] = e["phase"] == "upload"
    link.frame_listeners.append(count)
    session = Session(link, timeout_s=1.0, retries=2)
    await session.open()
    try:
        result = await Upgrader(Device(session, load("pvdesk-hybrid")), pkg, options=OPTIONS,
                                progress=progress).run()
    finally:
        await session.close()
    if result.outcome != "upgraded":
        raise SystemExit(f"upgrade did not succeed: {result.outcome}: {result.message}")
    return {"bytes": result.bytes_sent, "seconds": result.upload_s, "wire_bytes": wire["bytes"],
            "requests": session.stats.requests, "line_rate_bps": link.info.line_rate_bps}


def run_case(rtu: bool, size: int) -> dict:
    sim = Simulator(start_s=demo_start_time(), tcp=not rtu, rtu=rtu, line_baud=BAUD if rtu else None).start()
    try:
        bl = sim.device(1).bootloader
        sim.call(setattr, bl, "reboot_s", 0.5)
        def make_link():
            return serial_link(sim.rtu_path, BAUD) if rtu else tcp_link(*sim.tcp_address)
        return asyncio.run(upgrade(make_link, package(size)))
    finally:
        sim.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rtu-kib", type=int, default=96)
    ap.add_argument("--tcp-kib", type=int, default=1024)
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; chunk {CHUNK_DATA_MAX} bytes", flush=True)
    rtu = run_case(True, args.rtu_kib * 1024)
    rate = rtu["bytes"] / rtu["seconds"]
    eff = rate / rtu["line_rate_bps"]
    per_exchange_ms = rtu["seconds"] / (rtu["bytes"] / CHUNK_DATA_MAX) * 1000
    wire_ms = (255 + 8 + 7) * 10 / BAUD * 1000
    print(f"RTU 115200 8N1: {rtu['bytes']} bytes in {rtu['seconds']:.2f} s = {rate:.0f} bytes/s of image; "
          f"line {rtu['line_rate_bps']:.0f} bytes/s; efficiency {eff:.3f} (target {TARGET_RTU})")
    print(f"  framing: image/wire bytes {rtu['bytes'] / rtu['wire_bytes']:.3f}; ceiling with 3.5-char gaps "
          f"{CHUNK_DATA_MAX / (255 + 8 + 7):.3f}; {per_exchange_ms:.2f} ms per chunk, of which "
          f"{wire_ms:.2f} ms on the line")
    tcp = run_case(False, args.tcp_kib * 1024)
    print(f"TCP loopback: {tcp['bytes']} bytes in {tcp['seconds']:.2f} s = {tcp['bytes'] / tcp['seconds']:.0f} "
          f"bytes/s of image; framing: image/wire bytes {tcp['bytes'] / tcp['wire_bytes']:.3f} "
          f"(no line rate on loopback)")
    return 0 if eff >= TARGET_RTU else 1


if __name__ == "__main__":
    sys.exit(main())
