"""Settings files between two simulated devices: save, diff preview, apply, read back; refused for
another model, for damaged files and for values the device does not allow; login before protected ones."""

from __future__ import annotations

import json

import pytest

from protocols.profiles import loader

from desktop.commission import settings_file
from desktop.commission.params import LoginNeeded, ParamSession, transferable_points
from desktop.commission.storage import WriteHistory

CHANGES = {"grid_code": 3, "export_limit_w": 4200, "export_limit_enabled": 1, "battery_min_soc_pct": 20,
           "battery_charge_limit_a": 37.5, "work_mode": 1, "ct_ratio": 120}


def test_settings_round_trip_between_two_devices(sim, run, open_device, tmp_path):
    path = tmp_path / "site-a.json"
    hist = WriteHistory(tmp_path / "hist")

    async def go():
        dev1, s1 = await open_device(sim, 1)
        dev2, s2 = await open_device(sim, 2)
        ps1 = ParamSession(dev1, "inst-7", hist)
        await ps1.login("1234")
        await ps1.write_many(CHANGES, confirmed=True)
        settings_file.save(await settings_file.capture(dev1, "inst-7"), path)
        ps2 = ParamSession(dev2, "inst-7", hist)
        before = await settings_file.preview(settings_file.load(path), ps2)
        await ps2.login("1234")
        results = await settings_file.apply(settings_file.load(path), ps2)
        after = await settings_file.preview(settings_file.load(path), ps2)
        await s1.close()
        await s2.close()
        return before, results, after
    before, results, after = run(go())
    doc = json.loads(path.read_text())
    assert doc["format"] == "pvdesk-settings/1" and doc["profile"] == "pvdesk-hybrid"
    assert doc["model"] == {"model_code": 0x5048, "model_name": "PVD-H8K"} and doc["serial"] == "PVD8K001A0042"
    assert {c["component"]: c["version"] for c in doc["firmware"]}["control"] == "1.04.02"
    profile = loader.load("pvdesk-hybrid")
    assert set(doc["settings"]) == {p.name for p in transferable_points(profile)}
    assert "device_time_unix_s" not in doc["settings"] and "installer_login" not in doc["settings"]
    assert doc["settings"]["export_limit_w"] == {"value": 4200, "text": "4200 W", "label": "Export limit", "unit": "W"}
    # the preview shows exactly the changed settings, old and new side by side
    changed = {r.name: (r.current_text, r.new_text) for r in before.changes}
    assert set(changed) == set(CHANGES)
    assert changed["grid_code"] == ("DE VDE-AR-N 4105 (1)", "GB G98/G99 (3)")
    assert changed["battery_charge_limit_a"] == ("50.0 A", "37.5 A")
    assert [r.name for r in before.protected_changes] == ["grid_code"]
    assert all(r.ok and r.result == "ok" for r in results) and len(results) == len(CHANGES)
    assert not after.changes and not after.errors
    d1, d2 = sim.device(1), sim.device(2)
    for p in transferable_points(profile):
        assert d2.value_of(p.name) == d1.value_of(p.name), p.name
    assert d2.value_of("battery_charge_limit_a") == pytest.approx(37.5)
    assert [e["point"] for e in WriteHistory(tmp_path / "hist").entries("PVD8K002A0042")] == [
        "grid_code", "export_limit_w", "export_limit_enabled", "battery_charge_limit_a", "battery_min_soc_pct",
        "ct_ratio", "work_mode"]


def test_a_file_for_another_model_is_refused_before_any_write(sim, run, open_device, tmp_path, profile_sim):
    other = profile_sim("goodwe-et", {"model_name": "GW10K-ET", "serial_number": "9010KETU229W0123"})
    path = tmp_path / "goodwe.json"

    async def save_other():
        dev, s = await open_device(other, 1, profile="goodwe-et")
        settings_file.save(await settings_file.capture(dev), path)
        await s.close()
    run(save_other())
    writes = len(sim.device(1).write_log)

    async def apply_to(doc):
        dev, s = await open_device(sim, 1)
        try:
            return await settings_file.apply(doc, ParamSession(dev, "inst-7", WriteHistory(tmp_path)))
        finally:
            await s.close()
    with pytest.raises(settings_file.SettingsFileRefused, match="made for GoodWe"):
        run(apply_to(settings_file.load(path)))
    # same profile, another model name (a variant with other limits): refused as well
    mine = tmp_path / "mine.json"

    async def save_mine():
        dev, s = await open_device(sim, 2)
        settings_file.save(await settings_file.capture(dev), mine)
        await s.close()
    run(save_mine())
    doc = json.loads(mine.read_text())
    doc["model"]["model_name"] = "PVD-H5K"
    with pytest.raises(settings_file.SettingsFileRefused, match="'PVD-H5K' in the file, 'PVD-H8K' on the device"):
        run(apply_to(doc))
    # a value the device does not allow: nothing is written at all
    doc = json.loads(mine.read_text())
    doc["settings"]["export_limit_w"]["value"] = 50000
    doc["settings"]["ct_ratio"]["value"] = 150
    with pytest.raises(settings_file.SettingsFileError, match="export_limit_w: 50000 W is outside"):
        run(apply_to(doc))
    assert len(sim.device(1).write_log) == writes


@pytest.fixture
def profile_sim():
    from protocols.sim.device import SimDevice
    from protocols.sim.simulator import Simulator, demo_start_time
    started = []

    def make(name, identity):
        profile = loader.load(name)
        s = Simulator(profile=profile, start_s=demo_start_time())
        s.devices[1] = SimDevice(profile, 1, clock=s.clock, plant=s.devices[1].plant, identity=identity)
        started.append(s.start())
        return s
    yield make
    for s in started:
        s.stop()


def test_damaged_files_are_named_and_protected_changes_need_the_login(sim, run, open_device, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(settings_file.SettingsFileError, match="bad.json is not a PVDesk settings file"):
        settings_file.load(bad)
    bad.write_text(json.dumps({"format": "something-else/2"}))
    with pytest.raises(settings_file.SettingsFileError, match="format 'something-else/2'"):
        settings_file.load(bad)
    with pytest.raises(settings_file.SettingsFileError, match="no such file"):
        settings_file.load(tmp_path / "missing.json")
    sim.call(setattr, sim.device(2), "require_login", True)
    path = tmp_path / "a.json"

    async def go():
        dev1, s1 = await open_device(sim, 1)
        ps1 = ParamSession(dev1, "inst-7", WriteHistory(tmp_path))
        await ps1.login("1234")
        await ps1.write_many({"grid_code": 6, "ct_ratio": 300}, confirmed=True)
        settings_file.save(await settings_file.capture(dev1), path)
        dev2, s2 = await open_device(sim, 2)
        ps = ParamSession(dev2, "inst-7", WriteHistory(tmp_path))
        pv = await settings_file.preview(settings_file.load(path), ps)
        with pytest.raises(LoginNeeded):
            await settings_file.apply(settings_file.load(path), ps)
        untouched = sim.device(2).value_of("ct_ratio")
        await ps.login("1234")
        results = await settings_file.apply(settings_file.load(path), ps)
        await s1.close()
        await s2.close()
        return pv, untouched, results
    pv, untouched, results = run(go())
    assert [r.name for r in pv.protected_changes] == ["grid_code"]
    assert untouched == 100      # nothing was written before the login was given
    assert all(r.ok for r in results) and sim.device(2).value_of("grid_code") == 6
    assert sim.device(2).value_of("ct_ratio") == 300
