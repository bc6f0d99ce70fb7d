"""Helpers for the firmware tests: the test-only signing key, packages, a simulator with a fast bootloader.

The simulator is the real one (Modbus TCP on loopback, RTU on a pseudo-terminal);
its bootloader reboots in 0.3 s and reverts an unconfirmed image after 3 s so
every scenario runs in about a second.
"""
from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from protocols.device import Device
from protocols.firmware.keys import load_private_key
from protocols.firmware.package import build_package, read_package
from protocols.firmware.upgrade import UpgradeOptions
from protocols.links.pymodbus_link import serial_link, tcp_link
from protocols.session import Session
from protocols.sim.simulator import Simulator, demo_start_time

DATA = Path(__file__).parent / "data"
TEST_KEY = DATA / "TEST-ONLY-pvdesk-dev-signing-key.pem"
IMAGE_BYTES = 48_000  # 200 chunks of 240 bytes


def image_bytes(n: int = IMAGE_BYTES, seed: int = 1) -> bytes:
    out, block = bytearray(), hashlib.sha256(str(seed).encode()).digest()
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:n])


def package_bytes(image: bytes | None = None, *, key=None, key_id="pvdesk-dev", **kw) -> bytes:
    fields = dict(vendor="PVDesk", models=["PVD-H8K"], component="control", version="1.05.00",
                  hardware=[3], min_version="1.00.00")
    fields.update(kw)
    return build_package(image_bytes() if image is None else image, key or load_private_key(TEST_KEY),
                         key_id=key_id, **fields)


def make_package(image: bytes | None = None, **kw):
    return read_package(package_bytes(image, **kw))


def run(coro, timeout_s: float = 40.0):
    async def guarded():
        return await asyncio.wait_for(coro, timeout_s)
    return asyncio.run(guarded())


FAST = UpgradeOptions(link_wait_s=6.0, reboot_wait_s=6.0, health_s=0.3, health_reads=3, poll_s=0.05,
                      progress_interval_s=0.0)


def start_sim(**kw) -> Simulator:
    sim = Simulator(start_s=demo_start_time(), **kw).start()
    for dev in sim.devices.values():
        sim.call(_fast_bootloader, dev.bootloader)
    return sim


def _fast_bootloader(bl) -> None:
    bl.reboot_s = 0.3
    bl.test_timeout_s = 3.0


async def open_device(sim: Simulator, unit: int = 1, rtu: bool = False, baud: int = 115200) -> Device:
    from protocols.profiles.loader import load
    link = serial_link(sim.rtu_path, baud) if rtu else tcp_link(*sim.tcp_address)
    session = Session(link, timeout_s=0.3, retries=1, backoff_s=0.05)
    await session.open()
    return Device(session, load("pvdesk-hybrid"), unit)


async def upload_and_activate(device: Device, pkg, settle_s: float = 0.5):
    """Stage, upload in 240-byte chunks, verify and activate ``pkg`` by hand (the bootloader's own steps,
    without the upgrade's checks); returns the BootloaderClient, the image now in test mode."""
    from protocols.firmware.client import BootloaderClient
    from protocols.firmware.registers import Command
    client = BootloaderClient(device.session, 61440, 1)
    await client.stage(len(pkg.image), bytes.fromhex(pkg.manifest.image_sha256), "control", "1.05.00")
    for off in range(0, len(pkg.image), 240):
        await client.write_chunk(off, pkg.image[off:off + 240])
    await client.command(Command.VERIFY)
    await client.command(Command.ACTIVATE)
    await asyncio.sleep(settle_s)
    return client
