"""The command line on real SunSpec captures: monitor's canonical powers, --profile sunspec, --sunspec-base, scan, the model list."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from protocols.doctor.plan import unit_ids
from protocols.sim.image import load_image
from protocols.sim.replay import image_simulator

from tests.corpus.golden_helpers import IMAGES, ROOT


def _pvdesk(*args, timeout=90):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "desktop.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)


@pytest.fixture
def replay():
    started = []

    def start(name):
        image = load_image(IMAGES / name)
        sim = image_simulator(image).start()
        started.append(sim)
        host, port = sim.tcp_address
        return image, f"{host}:{port}"
    yield start
    for sim in started:
        sim.stop()


def _rows(stdout: str) -> dict[str, str]:
    return {line[2:32].strip(): line[32:].strip() for line in stdout.splitlines() if line.startswith("  ")}


def test_monitor_prints_pv_ac_and_grid_power_of_a_sunspec_inverter(sunspec_sim):
    sim = sunspec_sim(40000)  # models 1, 103, 160, 124, 203
    host, port = sim.tcp_address
    out = _pvdesk("monitor", "--tcp", f"{host}:{port}", "--count", "1")
    assert out.returncode == 0, out.stderr
    rows = _rows(out.stdout)
    assert {"PV power", "AC power", "Grid power (+ import)", "Battery state of charge"} <= set(rows), out.stdout
    assert rows["PV power"].endswith(" W") and rows["AC power"].endswith(" W") and rows["Grid power (+ import)"] != "n/a"
    assert "Manufacturer" not in rows  # no identity strings every second


def test_monitor_of_a_der_hybrid_shows_ac_grid_and_battery_power(replay):
    image, addr = replay("outback/outback-oghi8048a-der-7xx.json")  # 701, 202 meter, 714 with one ESS port
    out = _pvdesk("monitor", "--tcp", addr, "--unit", str(image.unit), "--count", "1")
    assert out.returncode == 0, out.stderr
    rows = _rows(out.stdout)
    assert rows["AC power"] == "0 W" and rows["Grid power (+ import)"] == "0 W"
    assert rows["Battery power (+ discharge)"] == "0 W" and rows["Battery state of charge"] == "100 %"
    assert "PV power" not in rows  # its only DC port is the battery: no PV power to show, not a guess


def test_monitor_of_an_sma_inverter_shows_its_ac_power(replay):
    image, addr = replay("sma/sma-sb3.6-1av-41-fw4.00.75-day.json")
    out = _pvdesk("monitor", "--tcp", addr, "--unit", str(image.unit), "--count", "1")
    assert out.returncode == 0, out.stderr
    ac = next(line for line in out.stdout.splitlines() if "AC power" in line)
    assert ac.split()[-2:] == ["1080", "W"]  # model 101 W = 108 with W_SF = 1, as the capture holds
    pv = next(line for line in out.stdout.splitlines() if "PV power" in line)
    # model 101 DCW is "not implemented" on this SMA; its two MPPTs in model 160 hold 67 and 48 with
    # DCW_SF = 1: PV power is their sum, 1150 W (modules 3-6, declared but absent, add nothing)
    assert pv.split()[-2:] == ["1150", "W"], pv


def test_read_names_every_model_decoded_or_not(replay):
    _image, addr = replay("outback/outback-oghi8048a-der-7xx.json")
    out = _pvdesk("read", "--tcp", addr, "--profile", "sunspec", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    models = [m["id"] for m in doc["sunspec"]["models"]]
    assert models == [1, 202] + list(range(701, 716))
    assert doc["sunspec"]["unmapped"] == [{"id": 64122, "address": 41274, "length": 45,
                                           "reason": "pysunspec2 has no definition of this model"}]
    assert doc["points"]["m705_crv1_pt1_v"]["label"].startswith("Crv 1 Pt 1")
    table = _pvdesk("read", "--tcp", addr, "--profile", "sunspec")
    assert "model 64122 at 41274, L=45   not decoded" in table.stdout


def test_sunspec_base_option_finds_a_map_elsewhere_and_says_when_it_is_not_there(replay):
    _image, addr = replay("accuenergy/accuenergy-acuvim-ii-204.json")  # the map is at 50000
    ok = _pvdesk("info", "--tcp", addr, "--profile", "sunspec", "--sunspec-base", "50000", "--json")
    assert ok.returncode == 0, ok.stderr
    info = json.loads(ok.stdout)
    assert info["identity"]["m1_sn"] == "AH17122035" and info["sunspec"]["base"] == 50000
    wrong = _pvdesk("info", "--tcp", addr, "--profile", "sunspec", "--sunspec-base", "40000")
    assert wrong.returncode != 0
    assert "no SunSpec map ('SunS' marker) at 40000" in wrong.stderr and "--sunspec-base" in wrong.stderr
    assert "baud" not in wrong.stderr and len(wrong.stderr.strip().splitlines()) == 1


def test_scan_tries_the_sunspec_unit_ids_and_says_which_answered(replay):
    _image, addr = replay("sma/sma-sb3.6-1av-41-fw4.00.75-day.json")  # answers at unit 126 only
    out = _pvdesk("scan", "--tcp", addr, "--fast", "--scan-timeout", "0.2", timeout=120)
    assert out.returncode == 0, out.stderr
    assert "unit 126  sunspec" in out.stdout
    tried = unit_ids(all_units=False)  # the profiles' own ids first, then the common vendor ids
    assert 126 in tried and len(tried) == len(set(tried))
    said = ", ".join(str(u) for u in tried)
    assert f"1 of {len(tried)} unit ids answered (126); tried the vendors' ids {said}" in out.stdout
