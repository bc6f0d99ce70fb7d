"""An upgrade killed in test mode: a rerun reads the bootloader first and offers confirm or revert."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from fw_helpers import FAST, make_package, open_device, package_bytes, run, upload_and_activate

from protocols.firmware.registers import Result, State
from protocols.firmware.testmode import confirm_pending, read_pending, revert_pending
from protocols.firmware.upgrade import Upgrader

pytestmark = pytest.mark.timeout(90)


def pvdesk(*args, timeout=60, **popen):
    return subprocess.run([sys.executable, "-m", "desktop.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PVDESK_DATA_DIR": popen.pop("data")})


def kill_in_test_mode(sim, tmp_path) -> str:
    """Run `pvdesk firmware upgrade` in a process and SIGKILL it while the new image is in test mode."""
    pkg = tmp_path / "control-1.05.00.pvfw"
    pkg.write_bytes(package_bytes())
    host, port = sim.tcp_address
    logs = tmp_path / "logs"
    proc = subprocess.Popen([sys.executable, "-m", "desktop.cli", "firmware", "upgrade", str(pkg), "--tcp",
                             f"{host}:{port}", "--log-dir", str(logs)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, "PVDESK_DATA_DIR": str(tmp_path)})
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            lines = [json.loads(x) for f in logs.glob("*.jsonl") for x in f.read_text().splitlines() if x.strip()] \
                if logs.exists() else []
            if any(e.get("phase") == "health" for e in lines):
                break
            assert proc.poll() is None, "the upgrade ended before test mode"
            time.sleep(0.05)
        else:
            pytest.fail("the upgrade never reached the health check")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert sim.call(lambda: sim.device(1).bootloader.state) == State.TESTING
    return str(pkg)


def test_rerun_after_a_kill_in_test_mode_is_not_same_version_and_confirm_keeps_the_image(sim, tmp_path):
    sim.call(setattr, sim.device(1).bootloader, "test_timeout_s", 25.0)
    pkg = kill_in_test_mode(sim, tmp_path)
    host, port = sim.tcp_address

    r = pvdesk("firmware", "check", pkg, "--tcp", f"{host}:{port}", data=str(tmp_path))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "FAIL  bootloader state" in r.stdout and "control 1.05.00 runs in test mode" in r.stdout
    assert "same version" not in r.stdout and "pvdesk firmware confirm" in r.stdout

    writes_before = sim.call(lambda: sim.device(1).bootloader.writes)
    r = pvdesk("firmware", "upgrade", pkg, "--tcp", f"{host}:{port}", "--log-dir", str(tmp_path / "l2"),
               data=str(tmp_path))
    assert r.returncode == 1 and "refused" in r.stdout and "test mode" in r.stdout
    assert "same version" not in r.stdout and "nothing was written" in r.stdout
    assert sim.call(lambda: sim.device(1).bootloader.writes) == writes_before

    r = pvdesk("firmware", "confirm", "--tcp", f"{host}:{port}", data=str(tmp_path), timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "found: control 1.05.00 runs in test mode" in r.stdout and "confirmed: control 1.05.00" in r.stdout
    bl = sim.device(1).bootloader
    assert sim.call(lambda: (bl.state, bl.last_result)) == (State.IDLE, Result.CONFIRMED)
    sim.call(setattr, bl, "test_timeout_s", 0.5)
    time.sleep(1.0)  # past any test timer: a confirmed image stays
    assert sim.call(sim.device(1).value_of, "fw_control_version") == "1.05.00"


async def _leave_in_test_mode(sim):
    """Activate an image and drop the host before the confirm (the library path, not a process)."""
    pkg = make_package()
    device = await open_device(sim)
    await upload_and_activate(device, pkg, settle_s=0.6)
    await device.session.close()
    return pkg


def test_upgrader_refuses_on_the_state_and_revert_brings_the_old_image_back(sim):
    sim.call(setattr, sim.device(1).bootloader, "test_timeout_s", 20.0)

    async def go():
        pkg = await _leave_in_test_mode(sim)
        device = await open_device(sim)
        pending = await read_pending(device)
        result = await Upgrader(device, pkg, options=FAST).run()
        reverted = await revert_pending(device, poll_s=0.05, wait_s=5)
        again = await read_pending(device)
        await device.session.close()
        return pending, result, reverted, again
    pending, result, reverted, again = run(go())
    assert pending.component == "control" and pending.version == "1.05.00" and pending.state == State.TESTING
    assert result.outcome == "refused" and [c["check"] for c in result.checks if not c["ok"]] == ["bootloader state"]
    assert "same version" not in result.message
    assert reverted.outcome == "reverted" and reverted.running_version == "1.04.02" and again is None


def test_confirm_reverts_an_unhealthy_test_image(sim):
    sim.call(setattr, sim.device(1).bootloader, "test_timeout_s", 20.0)
    sim.call(setattr, sim.device(1).bootloader, "fail_health", True)

    async def go():
        await _leave_in_test_mode(sim)
        device = await open_device(sim)
        res = await confirm_pending(device, health_reads=2, health_s=0.2, poll_s=0.05, wait_s=5)
        await device.session.close()
        return res
    res = run(go())
    assert res.outcome == "reverted" and "fault 230" in res.message and res.running_version == "1.04.02"


def test_nothing_pending_is_said_plainly(sim):
    async def go():
        device = await open_device(sim)
        res = await confirm_pending(device, poll_s=0.05, wait_s=2)
        await device.session.close()
        return res
    res = run(go())
    assert res.outcome == "nothing pending" and "no image is in test mode" in res.message
