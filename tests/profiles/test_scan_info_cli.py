"""`pvdesk scan` says which profile each unit matched and why; `pvdesk info` marks an unverified profile."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from protocols.profiles.shapes import shape_image
from protocols.sim.image import parse_image
from protocols.sim.replay import image_simulator

ROOT = Path(__file__).resolve().parents[2]


def cli(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "desktop.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_scan_and_info_on_a_huawei_shape():
    sim = image_simulator(parse_image(shape_image("huawei-sun2000"), "huawei.json")).start()
    try:
        host, port = sim.tcp_address
        scan = cli("scan", "--tcp", f"{host}:{port}", "--units", "1-3", "--json")
        info = cli("info", "--tcp", f"{host}:{port}", "--unit", "1", "--json")
        text = cli("info", "--tcp", f"{host}:{port}", "--unit", "1")
    finally:
        sim.stop()
    assert scan.returncode == 0, scan.stderr
    found = json.loads(scan.stdout)
    assert [d["unit"] for d in found] == [1]
    assert found[0]["profile"] == "huawei-sun2000" and found[0]["verified"] is False
    assert "model_name starts with 'SUN2000'" in found[0]["why"] and "SUN2000-10KTL-M1" in found[0]["why"]
    data = json.loads(info.stdout)
    assert data["profile"] == "huawei-sun2000" and data["verified"] is False and data["verification"]
    assert data["identity"]["model_name"] == "SUN2000-10KTL-M1"
    assert "unverified on hardware" in text.stdout


def test_info_of_a_proven_profile_has_no_mark():
    from protocols.sim.image import load_image

    from tests.corpus.golden_helpers import IMAGES
    image = load_image(IMAGES / "goodwe" / "goodwe-et-gw10k-et-fw1023.json")
    sim = image_simulator(image).start()
    try:
        host, port = sim.tcp_address
        out = cli("info", "--tcp", f"{host}:{port}", "--unit", "247", "--json")
    finally:
        sim.stop()
    data = json.loads(out.stdout)
    assert data["profile"] == "goodwe-et" and data["verified"] is True
