"""Site operations without Qt: each unit's parallel role read from the device and kept fresh by its poller,
``paused`` stopping one unit's polling while the others on the bus go on, the per-device package check (a wrong
model is refused before anything is written), and the report's checks of a parallel system."""

from __future__ import annotations

import time

import pytest

from protocols.links.factory import LinkSpec
from protocols.sim.simulator import Simulator, demo_start_time

from desktop.commission.site_devices import site_checks
from desktop.device.connect import Target
from desktop.device.service import DeviceService
from desktop.device.site_firmware import check_one
from desktop.device.site_service import SiteError, SiteService, follows_master
from tests.site.site_helpers import wait

pytestmark = pytest.mark.timeout(90)
ROLE_ADDRESS = 219



@pytest.fixture
def site_on_bus():
    sim = Simulator(units=(1, 2, 3), tcp=False, rtu=True, start_s=demo_start_time(), seed=2).start()
    sim.call(lambda: sim.device(2).write(ROLE_ADDRESS, [2]))
    service = DeviceService(fast_period_s=0.2, slow_period_s=0.5)
    site = SiteService(service, fast_period_s=0.2, slow_period_s=0.5)
    keys = site.add_units(Target(spec=LinkSpec(kind="serial", serial_port=sim.rtu_path, baud=115200)),
                          [1, 2, 3]).result(30)
    wait(lambda: all(d["state"] == "connected" and d["last_s"] for d in site.snapshot()), what=site.snapshot)
    yield sim, service, site, keys
    site.close().result(10)
    service.shutdown()
    sim.stop()


def _row(site, key):
    return next(d for d in site.snapshot() if d["key"] == key)


def test_roles_are_read_and_follow_the_device(site_on_bus):
    sim, _service, site, keys = site_on_bus
    assert [_row(site, k)["role"] for k in keys] == ["Single (not in parallel)", "Slave", "Single (not in parallel)"]
    assert [follows_master(_row(site, k)["role"]) for k in keys] == [False, True, False]
    sim.call(lambda: sim.device(1).write(ROLE_ADDRESS, [1]))        # set on the device's own panel
    wait(lambda: _row(site, keys[0])["role"] == "Master", what=site.snapshot)   # the slow poll brings it


def test_paused_stops_one_unit_while_the_others_keep_their_turns(site_on_bus):
    _sim, service, site, keys = site_on_bus
    held = {}

    async def hold():
        async with site.paused(keys[1]) as device:
            assert device is site.members[keys[1]].device
            t0 = time.time()
            before = {k: site.members[k].last_s for k in keys}
            import asyncio
            await asyncio.sleep(1.5)
            held.update({k: (before[k], site.members[k].last_s, t0) for k in keys})
    service.submit(hold).result(20)
    paused_before, paused_after, t0 = held[keys[1]]
    assert paused_after == paused_before                           # not asked while paused
    for k in (keys[0], keys[2]):
        assert held[k][1] > t0                                     # the others were polled meanwhile
    wait(lambda: site.members[keys[1]].last_s > paused_after)     # and it polls again afterwards
    with pytest.raises(SiteError, match="not an open device"):
        async def missing():
            async with site.paused("TCP 10.0.0.9:502 unit 4"):
                pass
        service.submit(missing).result(5)


def test_the_package_is_checked_against_each_device_before_anything_is_written(site_on_bus, tmp_path):
    from tests.firmware.fw_helpers import image_bytes, package_bytes
    sim, service, site, keys = site_on_bus
    good, wrong = tmp_path / "good.pvfw", tmp_path / "wrong.pvfw"
    good.write_bytes(package_bytes(image_bytes(2400)))
    wrong.write_bytes(package_bytes(image_bytes(2400), models=["OTHER-5K"]))
    device = site.members[keys[0]].device
    ok = service.submit(lambda: check_one(device, keys[0], good)).result(20)
    assert ok.ok and ok.serial == sim.device(1).identity["serial_number"] and ok.facts.running_version
    refused = service.submit(lambda: check_one(device, keys[0], wrong)).result(20)
    assert not refused.ok and refused.first_failure().startswith("model:")
    assert sim.call(lambda: sim.device(1).bootloader.writes) == 0


def test_a_slave_without_a_master_on_its_link_fails_the_reports_check():
    base = {"state": "connected", "alarms": 0, "firmware": [{"label": "Control", "version": "1.0"}],
            "device_settings": [{"label": "Export limit", "text": "10000 W"}], "errors": []}
    devices = site_checks([{**base, "link": "RTU a", "role": "Slave"}, {**base, "link": "RTU b", "role": "Master"},
                           {**base, "link": "RTU b", "role": "Slave", "alarms": 2}])
    parallel = [next((c for c in d["checks"] if c["check"] == "Parallel master"), None) for d in devices]
    assert parallel[0]["ok"] is False and "no master" in parallel[0]["detail"]
    assert parallel[1] is None and parallel[2]["ok"] is True
    alarms = next(c for c in devices[2]["checks"] if c["check"] == "Active alarms")
    assert alarms == {"check": "Active alarms", "ok": False, "detail": "2 active"}
