"""`pvdesk firmware`: pack, check and upgrade as a technician runs them."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from fw_helpers import FAST, TEST_KEY, image_bytes, open_device, package_bytes, run

from protocols.firmware.package import pack_members

pytestmark = pytest.mark.timeout(40)

PVDESK = [sys.executable, "-m", "desktop.cli"]


def pvdesk(*args, timeout=30, input_text=None):
    return subprocess.run(PVDESK + list(args), capture_output=True, text=True, timeout=timeout, input=input_text)


def test_pack_then_check_offline_and_tampered(tmp_path):
    image = tmp_path / "control.bin"
    image.write_bytes(image_bytes(5000))
    out = tmp_path / "control-1.05.00.pvfw"
    r = pvdesk("firmware", "pack", str(image), "--key", str(TEST_KEY), "--model", "PVD-H8K", "--component",
               "control", "--version", "1.05.00", "--min-version", "1.00.00", "--hardware", "3", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "signed by pvdesk-dev" in r.stdout and "5000 bytes" in r.stdout
    r = pvdesk("firmware", "check", str(out), "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["ok"] and [c["check"] for c in data["checks"]] == ["package", "signature", "image size", "image hash"]
    good = out.read_bytes()
    from protocols.firmware.package import read_package
    pkg = read_package(good)
    bad = tmp_path / "bad.pvfw"
    bad.write_bytes(pack_members(pkg.manifest_bytes, pkg.signature, pkg.image[:-10]))
    r = pvdesk("firmware", "check", str(bad))
    assert r.returncode == 1
    assert "FAIL  image size" in r.stdout and "refused: image size: the image has 4990 bytes" in r.stdout


def test_pack_with_an_untrusted_key_needs_a_key_id(tmp_path):
    r = pvdesk("firmware", "keygen", str(tmp_path / "k.pem"), str(tmp_path / "k.pub"))
    assert r.returncode == 0 and (tmp_path / "k.pub").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    (tmp_path / "img").write_bytes(b"x" * 100)
    r = pvdesk("firmware", "pack", str(tmp_path / "img"), "--key", str(tmp_path / "k.pem"), "--model", "PVD-H8K",
               "--component", "control", "--version", "1.05.00", "-o", str(tmp_path / "p.pvfw"))
    assert r.returncode == 2 and "not among the keys this install trusts" in r.stderr and not (tmp_path / "p.pvfw").exists()


def test_upgrade_demo_refuses_a_downgrade_without_the_flag(tmp_path):
    pkg = tmp_path / "old.pvfw"
    pkg.write_bytes(package_bytes(version="1.03.00", min_version=None))
    r = pvdesk("firmware", "upgrade", str(pkg), "--demo", "--log-dir", str(tmp_path / "logs"))
    assert r.returncode == 1
    assert "0 of 1 devices upgraded" in r.stdout and "refused" in r.stdout and "downgrade" in r.stdout
    lines = (tmp_path / "logs" / "unit001-0.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["outcome"] == "refused"


def test_run_upgrade_on_an_open_session(sim, tmp_path):
    from desktop.cli.firmware import run_upgrade
    path = tmp_path / "fw.pvfw"
    path.write_bytes(package_bytes())

    async def go():
        device = await open_device(sim)
        try:
            return await run_upgrade(device.session, [1], str(path), options=FAST, log_dir=tmp_path / "logs")
        finally:
            await device.session.close()
    summary = run(go())
    assert summary.ok and summary.text().startswith("1 of 1 devices upgraded")
    assert (tmp_path / "logs" / "unit001-0.jsonl").exists()
    assert sim.call(sim.device(1).value_of, "fw_control_version") == "1.05.00"


def test_downgrade_not_confirmed_writes_nothing(sim, tmp_path):
    import dataclasses

    from desktop.cli.firmware import run_upgrade
    path = tmp_path / "old.pvfw"
    path.write_bytes(package_bytes(version="1.03.00", min_version=None))
    asked = []

    async def go():
        device = await open_device(sim)
        try:
            return await run_upgrade(device.session, [1], str(path),
                                     options=dataclasses.replace(FAST, allow_downgrade=True),
                                     confirm_downgrade=lambda text: asked.append(text) or False)
        finally:
            await device.session.close()
    with pytest.raises(ValueError, match="downgrade not confirmed"):
        run(go())
    assert asked == ["unit 1: 1.04.02 -> 1.03.00"]
    assert sim.device(1).bootloader.writes == 0


def test_parse_units():
    from desktop.cli.firmware import parse_units
    assert parse_units("1-3,7") == [1, 2, 3, 7]
    with pytest.raises(ValueError, match="1..247"):
        parse_units("0-2")
