"""Hostile or careless writes and settings files: refused with the setting and its range, nothing sent; typed units meant."""
from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys

import pytest
from hostile_cases import (
    MEANT_CASES,
    SETTINGS_CASES,
    WRITE_CASES,
    clear,
    try_settings,
    try_write,
)

from tests.firmware.fw_helpers import open_device

pytestmark = pytest.mark.timeout(120)


def _session(device, tmp_path):
    from desktop.commission.params import ParamSession
    from desktop.commission.storage import WriteHistory
    return ParamSession(device, "inst-h", WriteHistory(tmp_path / "history"))


def test_hostile_writes_are_refused_clearly_and_nothing_reaches_the_device(hsim, tmp_path):
    async def go():
        device = await open_device(hsim)
        session = _session(device, tmp_path)
        out = [(case, await try_write(session, hsim, name, value)) for case, name, value in WRITE_CASES]
        await device.session.close()
        return out
    outcomes = asyncio.run(asyncio.wait_for(go(), 100))
    assert [c.name for c, o in outcomes if not o.refused] == []
    assert [(c.name, o.message) for c, o in outcomes if not clear(c, o)] == []
    assert [(c.name, o.device_bytes) for c, o in outcomes if o.device_bytes] == []
    # a range refusal names the allowed range
    by = {c.name: o.message for c, o in outcomes}
    assert "outside 0..10000 W" in by["above the profile's range"]
    assert "outside 0..4294967294 s" in by["u32 without a profile range: 2**40"]
    assert "not a multiple of the step 0.1 A" in by["a 0.1 A step setting given 0.05 A"]


def test_typed_units_are_written_as_meant(hsim, tmp_path):
    async def go():
        device = await open_device(hsim)
        session = _session(device, tmp_path)
        out = []
        for case, name, typed, want in MEANT_CASES:
            outcome = await try_write(session, hsim, name, typed)
            held = (await device.read_names([name]))[name]
            out.append((case, outcome, held, want))
        await device.session.close()
        return out
    for case, outcome, held, want in asyncio.run(asyncio.wait_for(go(), 60)):
        assert not outcome.refused, (case.name, outcome.message)
        assert math.isclose(held, want), (case.name, held, want)
        assert outcome.device_bytes > 0


def test_cli_params_set_5_kw_writes_5000_w_and_refuses_true(hsim, tmp_path):
    host, port = hsim.tcp_address
    env = {**__import__("os").environ, "PVDESK_DATA_DIR": str(tmp_path)}

    def pvdesk(*args):
        return subprocess.run([sys.executable, "-m", "desktop.cli", "params", "set", "--tcp", f"{host}:{port}",
                               "--yes", *args], capture_output=True, text=True, timeout=60, env=env)
    r = pvdesk("export_limit_w", "5 kW")
    assert r.returncode == 0, r.stderr
    assert "-> 5000 W" in r.stdout and hsim.call(hsim.device(1).value_of, "export_limit_w") == 5000
    before = hsim.call(lambda: hsim.device(1).hostile_bytes)
    for typed, word in (("true", "yes/no"), ("1_000", "not a plain number"), ("٥٠٠٠", "ASCII"), ("nan", "not a number"),
                        ("5 kWh", "not a unit")):
        r = pvdesk("export_limit_w", typed)
        assert r.returncode != 0 and word in r.stderr and "export_limit_w" in r.stderr, (typed, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert hsim.call(lambda: hsim.device(1).hostile_bytes) == before


def test_hostile_settings_files_are_refused_before_any_write(hsim, tmp_path):
    from desktop.commission import settings_file

    async def go():
        device = await open_device(hsim)
        doc = await settings_file.capture(device, "inst-h")
        doc["settings"]["export_limit_w"]["value"] = 4321  # so a file that got through would change something
        session = _session(device, tmp_path)
        out = []
        for i, (case, change) in enumerate(SETTINGS_CASES):
            bad = json.loads(json.dumps(doc))
            change(bad)
            out.append((case, await try_settings(bad, tmp_path / f"s{i}.json", session, hsim)))
        good = await try_settings(doc, tmp_path / "good.json", session, hsim)  # the control
        await device.session.close()
        return out, good
    outcomes, good = asyncio.run(asyncio.wait_for(go(), 100))
    assert [(c.name, o.message) for c, o in outcomes if not clear(c, o)] == []
    assert [(c.name, o.device_bytes) for c, o in outcomes if o.device_bytes] == []
    assert not good.refused and good.device_bytes > 0, good.message
