"""Replay: the simulated inverter serves a bundle's register image, read back over Modbus TCP."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from protocols.detect import detect
from protocols.device import Device
from protocols.errors import PointNotSupported
from protocols.links.pymodbus_link import tcp_link
from protocols.session import Session

from desktop.diag.open import open_bundle
from desktop.diag.replay import replay_bundle

ROOT = Path(__file__).resolve().parents[2]


async def _read_image(host: str, port: int, image: dict) -> dict:
    session = Session(tcp_link(host, port), timeout_s=1.0)
    await session.open()
    try:
        out = {"holding": {}, "input": {}}
        for function in ("holding", "input"):
            for lo, hi in image["spans"][function]:
                for start in range(lo, hi, 125):
                    count = min(125, hi - start)
                    regs = await session.read_registers(start, count, function=function, unit=image["unit"])
                    out[function].update({start + i: v for i, v in enumerate(regs)})
        return out
    finally:
        await session.close()


def test_replay_serves_exactly_the_captured_registers(live_bundle):
    with open_bundle(live_bundle) as bundle:
        image = bundle.register_image()
        sim = replay_bundle(bundle).start()
    try:
        host, port = sim.tcp_address
        served = asyncio.run(asyncio.wait_for(_read_image(host, port, image), 20))
        assert served["holding"] == image["holding"] and served["input"] == image["input"]
        assert len(served["holding"]) + len(served["input"]) > 150

        async def as_pvdesk():
            session = Session(tcp_link(host, port), timeout_s=1.0, retries=0)
            await session.open()
            try:
                profile = await detect(session, 1)
                device = Device(session, profile, 1)
                sample = await device.read()
                with pytest.raises(PointNotSupported):  # not captured: exception 02, as the device would say
                    await session.read_registers(1000, 4, function="holding", unit=1)
                back = await device.write_point("export_limit_w", 4200)  # writes land in the image
                return profile.name, sample, back, await device.firmware()
            finally:
                await session.close()
        name, sample, back, firmware = asyncio.run(asyncio.wait_for(as_pvdesk(), 20))
    finally:
        sim.stop()
    assert name == "pvdesk-hybrid"
    assert sample.values["serial_number"] == "PVD8K001A0042"
    assert sample.values["export_limit_w"] == 3500  # the value the customer's device held (after the write)
    assert back == 4200
    assert {c["component"]: c["version"] for c in firmware}["dsp"] == "2.11.0"


def test_pvdesk_diag_replay_command(live_bundle, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), PVDESK_LOG_DIR=str(tmp_path / "logs"))
    proc = subprocess.Popen([sys.executable, "-m", "desktop.cli", "diag", "replay", str(live_bundle), "--port", "0"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        second = proc.stdout.readline()
        assert first.startswith("replaying live.zip: unit 1,"), first + proc.stderr.read()
        host, port = re.search(r"Modbus TCP on ([\d.]+):(\d+)", second).groups()
        with open_bundle(live_bundle) as bundle:
            image = bundle.register_image()
        served = asyncio.run(asyncio.wait_for(_read_image(host, int(port), image), 20))
        assert served["input"] == image["input"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert proc.returncode == 0


def test_a_sunspec_device_is_captured_and_replayed():
    """The image holds the SunS marker and the model chain, so PVDesk discovers the replay as SunSpec again."""
    from protocols.sim.sunspec_device import sunspec_simulator

    from desktop.diag.capture import capture_register_image
    from desktop.diag.profile_doc import from_doc, to_doc
    from desktop.diag.replay import replay_simulator

    async def read(sim):
        session = Session(tcp_link(*sim.tcp_address), timeout_s=1.0)
        await session.open()
        try:
            profile = await detect(session, 1)
            device = Device(session, profile, 1)
            return profile, await capture_register_image(device), (await device.read()).values
        finally:
            await session.close()

    original = sunspec_simulator().start()
    try:
        profile, image, values = asyncio.run(asyncio.wait_for(read(original), 20))
    finally:
        original.stop()
    assert profile.kind == "sunspec" and image["spans"]["holding"][0][0] == 40000 and image["complete"]
    replay = replay_simulator(from_doc(to_doc(profile)), image).start()
    try:
        again, image2, values2 = asyncio.run(asyncio.wait_for(read(replay), 20))
    finally:
        replay.stop()
    assert again.kind == "sunspec" and again.points == profile.points
    assert image2["holding"] == image["holding"]
    same = {k for k, v in values.items() if v == values2.get(k) or (v != v and values2.get(k) != values2.get(k))}
    assert same == set(values)
