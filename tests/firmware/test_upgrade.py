"""Upgrades against the simulated inverter over loopback TCP: clean, corrupted, reverted, cancelled."""
from __future__ import annotations

import dataclasses

import pytest
from fw_helpers import FAST, IMAGE_BYTES, make_package, open_device, run, upload_and_activate

from protocols.firmware.registers import Result, State
from protocols.firmware.upgrade import CancelToken, Upgrader

pytestmark = pytest.mark.timeout(30)


def history_codes(sim, unit=1):
    return [e.code for e in sim.device(unit).history]


def version_on_sim(sim, unit=1):
    return sim.call(sim.device(unit).value_of, "fw_control_version")


async def upgrade(sim, pkg=None, *, options=FAST, progress=None, cancel=None, log_path=None, setup=None):
    device = await open_device(sim)
    if setup:
        await setup(device)
    result = await Upgrader(device, pkg or make_package(), options=options, progress=progress, cancel=cancel,
                            log_path=log_path).run()
    after = await device.firmware()
    await device.session.close()
    return result, after


async def change_settings(device):
    await device.write_point("grid_code", 3)
    await device.write_point("export_limit_w", 3000)


def test_clean_upgrade_restores_reset_settings_and_logs_every_step(sim, tmp_path):
    events = []
    log = tmp_path / "upgrade.jsonl"
    result, after = run(upgrade(sim, progress=events.append, log_path=log, setup=change_settings))
    assert result.outcome == "upgraded", result.message
    assert (result.from_version, result.running_version) == ("1.04.02", "1.05.00")
    assert after[0]["component"] == "control" and after[0]["version"] == "1.05.00"
    assert after[1]["version"] == "2.11.0"  # the other components are untouched
    assert version_on_sim(sim) == "1.05.00" and 301 in history_codes(sim)
    # The new image reset grid code and export limit; the host put them back.
    assert set(result.restored) == {"grid_code", "export_limit_w"}
    assert result.restored["export_limit_w"] == {"before": 3000, "after_upgrade": 10000}
    assert sim.call(sim.device(1).value_of, "export_limit_w") == 3000
    assert sim.call(sim.device(1).value_of, "grid_code") == 3
    bl = sim.device(1).bootloader
    assert bl.state == State.IDLE and bl.last_result == Result.CONFIRMED
    assert sum(n for _, n, s in bl.chunk_log if s == "ok") == IMAGE_BYTES
    assert [s for _, _, s in bl.chunk_log if s != "ok"] == []
    # Progress: bytes only grow, throughput and time left are reported while uploading.
    up = [e for e in events if e["phase"] == "upload" and e["bytes_done"]]
    assert [e["bytes_done"] for e in up] == sorted(e["bytes_done"] for e in up)
    assert up[-1]["bytes_done"] == up[-1]["bytes_total"] == IMAGE_BYTES
    assert all(e["throughput_bps"] > 0 and e["eta_s"] is not None for e in up)
    assert [e["cancellable"] for e in events if e["phase"] == "upload"][-1] is True
    assert all(not e["cancellable"] for e in events if e["phase"] in ("reboot", "health", "confirm"))
    # The log on disk holds every phase, in order.
    import json
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    phases = [x["message"] for x in lines if x["event"] == "phase"]
    assert [p.split()[0] for p in phases] == ["checking", "backing", "uploading", "the", "activating",
                                              "waiting", "watching", "confirming"]
    assert lines == result.log and lines[-1]["event"] == "end" and lines[-1]["outcome"] == "upgraded"


def test_corrupted_chunks_are_sent_again(sim):
    sim.call(setattr, sim.device(1).bootloader, "corrupt_chunks", 3)
    result, _ = run(upgrade(sim))
    assert result.outcome == "upgraded", result.message
    log = sim.device(1).bootloader.chunk_log
    bad = [(o, s) for o, _, s in log if s != "ok"]
    assert [s for _, s in bad] == ["CHUNK_CRC"] * 3
    for offset, _ in bad:  # each refused chunk was re-sent at the same offset and accepted
        assert (offset, "ok") in [(o, s) for o, _, s in log]
    assert sum(n for _, n, s in log if s == "ok") == IMAGE_BYTES
    assert sum(1 for e in result.log if e["event"] == "chunk refused") == 3


def test_lost_answers_resume_from_the_device_offset(sim):
    def spoil(e):
        if e["phase"] == "upload" and e["bytes_done"] in (4800, 24000):
            sim.corrupt("corrupt_crc", 1)  # the device takes the chunk; its answer is garbled
    result, _ = run(upgrade(sim, progress=spoil))
    assert result.outcome == "upgraded", result.message
    log = sim.device(1).bootloader.chunk_log
    assert sum(n for _, n, s in log if s == "ok") == IMAGE_BYTES
    # The session re-sent the chunk whose answer was lost; the device refused it (it had it) and the
    # host continued from the offset the device reported.
    stale = [o for o, _, s in log if s == "OFFSET_MISMATCH"]
    assert stale == [4800, 24000]
    assert [e["offset"] for e in result.log if e["event"] == "offset"] == [4800 + 240, 24000 + 240]


def test_bad_flash_write_fails_the_hash_and_uploads_again(sim):
    sim.call(setattr, sim.device(1).bootloader, "corrupt_flash", 1)
    result, _ = run(upgrade(sim))
    assert result.outcome == "upgraded", result.message
    assert any(e["event"] == "hash mismatch" for e in result.log)
    assert result.bytes_sent == 2 * IMAGE_BYTES


def test_power_loss_during_activation_boots_the_old_image(sim):
    def cut(e):
        if e["phase"] == "reboot" and e["message"].startswith("waiting") and not cut.done:
            cut.done = True
            sim.power_cycle(0.6)
    cut.done = False
    result, after = run(upgrade(sim, progress=cut, setup=change_settings))
    assert result.outcome == "reverted", result.message
    assert result.running_version == "1.04.02" and after[0]["version"] == "1.04.02"
    assert version_on_sim(sim) == "1.04.02"
    bl = sim.device(1).bootloader
    assert bl.last_result == Result.REVERTED_POWER_LOSS and history_codes(sim)[-1] in (302, 303)
    assert 302 in history_codes(sim) and 301 not in history_codes(sim)


def test_power_loss_in_test_mode_reverts(sim):
    def cut(e):
        if e["phase"] == "health" and not cut.done:
            cut.done = True
            sim.power_cycle(0.4)
    cut.done = False
    result, after = run(upgrade(sim, progress=cut, setup=change_settings))
    assert result.outcome == "reverted", result.message
    assert after[0]["version"] == "1.04.02" and "REVERTED_POWER_LOSS" in result.message
    # Settings the test image reset are restored on the way back too.
    assert sim.call(sim.device(1).value_of, "export_limit_w") == 3000
    assert sim.call(sim.device(1).value_of, "grid_code") == 3


def test_failed_health_check_reverts_and_restores(sim):
    sim.call(setattr, sim.device(1).bootloader, "fail_health", True)
    result, after = run(upgrade(sim, setup=change_settings))
    assert result.outcome == "reverted"
    assert "health check failed: fault 230" in result.message
    assert after[0]["version"] == "1.04.02" and result.running_version == "1.04.02"
    bl = sim.device(1).bootloader
    assert bl.last_result == Result.REVERTED_BY_HOST and 230 not in sim.device(1).active_faults
    assert 302 in history_codes(sim) and 301 not in history_codes(sim)
    assert sim.call(sim.device(1).value_of, "export_limit_w") == 3000


def test_version_mismatch_is_a_failure_not_a_success(sim):
    sim.call(setattr, sim.device(1).bootloader, "misreport_version", "1.05.01")
    result, after = run(upgrade(sim))
    assert result.outcome == "reverted" and not result.ok
    assert "reports version 1.05.01" in result.message and after[0]["version"] == "1.04.02"


def test_unconfirmed_image_reverts_by_itself(sim):
    """The host goes away after activation: the device brings the old image back alone."""
    import asyncio

    pkg = make_package()
    sim.call(setattr, sim.device(1).bootloader, "test_timeout_s", 1.5)

    async def go():
        device = await open_device(sim)
        client = await upload_and_activate(device, pkg)
        testing = await client.status()
        seen = (await device.firmware())[0]["version"]
        await device.session.close()  # the host disappears
        await asyncio.sleep(2.0)
        device = await open_device(sim)
        final = await client.__class__(device.session, 61440, 1).status()
        version = (await device.firmware())[0]["version"]
        await device.session.close()
        return testing, seen, final, version
    testing, seen, final, version = run(go())
    assert testing.state == State.TESTING and 0 < testing.test_left_s <= 2 and seen == "1.05.00"
    assert final.state == State.IDLE and final.last_result == Result.REVERTED_TIMEOUT
    assert version == "1.04.02" and 302 in history_codes(sim)


def test_cancel_before_activation_leaves_the_old_image(sim):
    token = CancelToken()

    def halfway(e):
        if e["bytes_done"] >= IMAGE_BYTES // 2:
            token.cancel()
    result, after = run(upgrade(sim, progress=halfway, cancel=token))
    assert result.outcome == "cancelled" and "cancelled by the user during upload" in result.message
    bl = sim.device(1).bootloader
    assert bl.activations == 0 and bl.state == State.IDLE and bl.last_result == Result.ABORTED
    assert after[0]["version"] == "1.04.02"
    assert IMAGE_BYTES // 2 <= result.bytes_sent < IMAGE_BYTES


def test_cancel_after_activation_is_ignored(sim):
    token = CancelToken()

    def late(e):
        if e["phase"] == "reboot":
            token.cancel()
    result, _ = run(upgrade(sim, progress=late, cancel=token))
    assert result.outcome == "upgraded"


def test_downgrade_with_the_flag(sim):
    pkg = make_package(version="1.03.00", min_version=None)
    result, after = run(upgrade(sim, pkg))
    assert result.outcome == "refused" and sim.device(1).bootloader.writes == 0
    result, after = run(upgrade(sim, pkg, options=dataclasses.replace(FAST, allow_downgrade=True)))
    assert result.outcome == "upgraded" and after[0]["version"] == "1.03.00"


def test_upload_progress_is_throttled_but_ends_at_the_total(sim):
    events = []
    result, _ = run(upgrade(sim, options=dataclasses.replace(FAST, progress_interval_s=0.05),
                            progress=events.append))
    up = [e for e in events if e["phase"] == "upload" and e["bytes_done"]]
    assert result.outcome == "upgraded"
    assert 1 <= len(up) < IMAGE_BYTES // 240 // 2 and up[-1]["bytes_done"] == IMAGE_BYTES
