"""Parameter writes against the simulator: listing, validation before sending, confirmation,
installer login, device refusal and read-back mismatch reported, and the write history."""

from __future__ import annotations

import pytest

from protocols.device import WriteRefused

from desktop.commission.params import ConfirmationNeeded, LoginFailed, LoginNeeded, ParamSession, parameter_points
from desktop.commission.storage import WriteHistory


def test_every_writable_parameter_listed_with_value_unit_range_and_description(sim, run, open_device):
    async def go():
        dev, s = await open_device(sim)
        try:
            return dev.profile, await ParamSession(dev, "inst-7").read_all()
        finally:
            await s.close()
    profile, infos = run(go())
    names = [p.name for p in infos]
    assert names == [p.name for p in profile.parameters if p.name != "installer_login"]
    assert "installer_login" not in names and len(names) == len(parameter_points(profile)) == 16   # parallel_role included
    sim_dev = sim.device(1)
    by = {p.name: p for p in infos}
    for name in ("export_limit_w", "battery_charge_limit_a", "battery_min_soc_pct", "ct_ratio", "grid_code"):
        assert by[name].value == sim_dev.value_of(name)
        assert by[name].description
    assert by["export_limit_w"].unit == "W" and by["export_limit_w"].allowed_text() == "0 … 10000 W"
    assert by["battery_charge_limit_a"].text == "50.0 A" and by["battery_charge_limit_a"].decimals == 1
    assert by["grid_code"].kind == "choice" and by["grid_code"].choices[3] == "GB G98/G99"
    assert by["grid_code"].text == "DE VDE-AR-N 4105 (1)"
    assert by["grid_code"].confirm and by["grid_code"].protected
    assert by["export_limit_w"].confirm and not by["export_limit_w"].protected
    assert not by["device_time_unix_s"].readback


def test_bad_values_are_refused_before_anything_is_sent(sim, run, open_device, tmp_path):
    sim_dev = sim.device(1)
    before = (sim.dispatcher.requests, len(sim_dev.write_log))

    async def go():
        dev, s = await open_device(sim)
        ps = ParamSession(dev, "inst-7", WriteHistory(tmp_path))
        errors = []
        for name, value in (("export_limit_w", 12000), ("battery_min_soc_pct", "80"), ("ct_ratio", "lots"),
                            ("work_mode", "Turbo"), ("grid_code", 42), ("pv_power_w", 1), ("nonsense", 1)):
            with pytest.raises(WriteRefused) as info:
                await ps.write(name, value, confirmed=True)
            errors.append(info.value)
        await s.close()
        return errors
    requests_during = sim.dispatcher.requests
    errors = run(go())
    assert all(e.reason == "rule" for e in errors)
    texts = [str(e) for e in errors]
    assert "12000 W is outside 0..10000 W" in texts[0]
    assert "80 % is outside 5..50 %" in texts[1]
    assert "'lots' is not a number" in texts[2]
    assert "'Turbo' is not one of Self consumption" in texts[3]
    assert "42 is not one of" in texts[4]
    assert "read-only" in texts[5] and "not a parameter" in texts[6]
    assert len(sim_dev.write_log) == before[1]            # not a single write reached the device
    assert sim.dispatcher.requests == requests_during     # nor any request at all
    assert WriteHistory(tmp_path).entries("PVD8K001A0042") == []


def test_confirmation_then_login_kept_for_the_session_only(sim, run, open_device, tmp_path):
    sim_dev = sim.device(1)
    sim.call(setattr, sim_dev, "require_login", True)
    hist = WriteHistory(tmp_path)

    async def go():
        dev, s = await open_device(sim)
        ps = ParamSession(dev, "inst-7", hist)
        with pytest.raises(ConfirmationNeeded):
            await ps.write("export_limit_w", 3000)
        with pytest.raises(LoginNeeded):
            await ps.write("grid_code", "GB G98/G99", confirmed=True)
        assert ps.needs_login("grid_code") and not ps.needs_login("export_limit_w")
        with pytest.raises(LoginFailed):
            await ps.login("4321")
        assert not ps.logged_in
        # the device itself refuses a protected write while locked (exception 03)
        with pytest.raises(WriteRefused) as locked:
            await dev.write_point("grid_code", 3)
        await ps.login("1234")
        first = await ps.write("grid_code", "GB G98/G99", confirmed=True)
        sim.fast_forward(700)   # the device's login window (10 min) closes ...
        second = await ps.write("grid_code", 5, confirmed=True)   # ... the session logs in again by itself
        fresh = ParamSession(dev, "inst-7", hist)   # a new session knows no code
        needs = fresh.needs_login("grid_code")
        await s.close()
        return locked.value, first, second, needs
    locked, first, second, needs = run(go())
    assert locked.reason == "device" and locked.code == 3 and "log in with the installer code" in locked.hint
    assert first.ok and first.readback == 3, first.message
    assert second.ok and second.readback == 5, second.message
    assert sim_dev.value_of("grid_code") == 5 and sim_dev.value_of("export_limit_w") == 10000
    assert needs
    assert sim_dev.value_of("installer_login") == 0   # the code is never readable from the device


def test_device_refusal_and_readback_mismatch_are_reported_and_recorded(sim, run, open_device, tmp_path):
    sim_dev = sim.device(1)
    sim.call(sim_dev.refuse_writes.__setitem__, "battery_type", 3)
    sim.call(sim_dev.readback_skew.__setitem__, "ct_ratio", 1)
    hist = WriteHistory(tmp_path)

    async def go():
        dev, s = await open_device(sim)
        ps = ParamSession(dev, "inst-7", hist)
        out = [await ps.write("battery_type", "BYD HVS (CAN)"), await ps.write("ct_ratio", 200),
               await ps.write("battery_min_soc_pct", 20)]
        await s.close()
        return out
    refused, mismatch, good = run(go())
    assert not refused.ok and refused.result == "refused" and "exception 03" in refused.message
    assert refused.readback is None and sim_dev.value_of("battery_type") == 1
    assert not mismatch.ok and mismatch.result == "mismatch"
    assert mismatch.readback == 201 and "wrote 200, device holds 201" in mismatch.message
    assert good.ok and good.result == "ok" and good.old == 10 and good.readback == 20
    entries = hist.entries("PVD8K001A0042")
    assert [(e["point"], e["old"], e["new"], e["readback"], e["result"]) for e in entries] == [
        ("battery_type", 1, 3, None, "refused"), ("ct_ratio", 100, 200, 201, "mismatch"),
        ("battery_min_soc_pct", 10, 20, 20, "ok")]
    assert all(e["installer"] == "inst-7" and e["serial"] == "PVD8K001A0042" and e["time_s"] > 1e9
               for e in entries)
    assert set(entries[0]) == {"time_s", "serial", "profile", "point", "label", "old", "new", "readback",
                               "result", "installer", "message"}
    # the device's own history got a "Settings changed" entry for each real change
    assert [e.code for e in sim_dev.history].count(303) == 1 + 2
