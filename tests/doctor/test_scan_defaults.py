"""`pvdesk scan`: the vendors' unit ids first, then 1-247 with a progress line and a time estimate; --fast."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from protocols.sim.simulator import Simulator

pytestmark = pytest.mark.timeout(120)


def _scan(*args):
    return subprocess.run([sys.executable, "-m", "desktop.cli", "scan", *args], capture_output=True, text=True,
                          timeout=100)


def test_scan_finds_vendor_and_odd_unit_ids_and_fast_keeps_to_the_defaults():
    from protocols.doctor.plan import unit_ids
    with Simulator(units=(3, 57, 100, 247)) as sim:
        tcp = "{}:{}".format(*sim.tcp_address)
        full = _scan("--tcp", tcp, "--json", "--scan-timeout", "0.2")
        assert full.returncode == 0, full.stderr
        assert [d["unit"] for d in json.loads(full.stdout)] == [3, 57, 100, 247]
        assert "(1/247)" in full.stderr and "about" in full.stderr and "left" in full.stderr
        fast = _scan("--tcp", tcp, "--json", "--fast", "--scan-timeout", "0.2")
        # 100 is no vendor fact of the plan: it comes from the Victron GX profiles' [link] units
        assert [d["unit"] for d in json.loads(fast.stdout)] == [3, 100, 247]
        assert f"(1/{len(unit_ids())})" in fast.stderr and 57 not in unit_ids()


def test_scan_time_estimate_uses_the_per_unit_timeout_then_the_pace():
    from desktop.cli.device import ScanProgress
    p = ScanProgress(247, 0.3, io.StringIO())
    assert p.left_s() == pytest.approx(247 * 0.3)
    assert "about 1 min 14 s left" in p.line(1)
