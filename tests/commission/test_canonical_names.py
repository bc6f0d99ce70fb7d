"""A device whose points have other names (aliases) gets its values in the CT check, the wizard and the recorder.

The device is the simulator over TCP, read through a copy of its profile in
which the powers, the state of charge and the serial number carry the names
a vendor map would give them, and ``extra["aliases"]`` says which canonical
quantity each one is (as SunSpec profiles do). Before every consumer asked
``Profile.resolve``, the CT check sampled nothing ("inconclusive"), the
wizard's final check listed no live value and the recorder kept no serial.
"""
from __future__ import annotations

import dataclasses
import time

from protocols.device import Device
from protocols.links.pymodbus_link import tcp_link
from protocols.profiles import loader
from protocols.session import Session

from desktop.commission.ct_check import run_ct_check
from desktop.commission.params import ParamSession
from desktop.commission.storage import WriteHistory
from desktop.commission.wizard import WizardRunner, WizardStore

RENAMED = {"pv_power_w": "dc_power_total", "inverter_power_w": "ac_out_w", "grid_power_w": "meter_active_w",
           "load_power_w": "house_w", "battery_power_w": "bat_w", "battery_soc_pct": "bat_soc",
           "serial_number": "sn"}


def aliased_profile():
    """pvdesk-hybrid with the RENAMED points under their vendor names, and the aliases that map them back."""
    base = loader.load("pvdesk-hybrid")

    def rename(name):
        return RENAMED.get(name, name)
    points = tuple(dataclasses.replace(p, name=rename(p.name)) for p in base.points)
    firmware = tuple(dataclasses.replace(c, serial_point=rename(c.serial_point) if c.serial_point else None)
                     for c in base.firmware)
    profile = dataclasses.replace(base, name="vendor-x", points=points, firmware=firmware,
                                  identity_points=tuple(rename(n) for n in base.identity_points),
                                  extra={**base.extra, "aliases": dict(RENAMED)})
    assert not profile.has("grid_power_w") and profile.resolve("grid_power_w") == "meter_active_w"
    return profile


async def _device(sim, profile):
    session = Session(tcp_link(*sim.tcp_address), timeout_s=1.0, retries=1)
    await session.open()
    return Device(session, profile, 1), session


def test_ct_check_reads_the_aliased_powers(exporting, run, tmp_path):
    async def go(profile):
        dev, session = await _device(exporting, profile)
        try:
            return await run_ct_check(dev, session=ParamSession(dev, "inst-7", WriteHistory(tmp_path)),
                                      duration_s=0.8, period_s=0.15, settle_s=0.4)
        finally:
            await session.close()
    renamed = run(go(aliased_profile()))
    plain = run(go(loader.load("pvdesk-hybrid")))
    assert plain.status == "ok"
    assert renamed.status == "ok" and renamed.informative == renamed.samples > 0
    assert renamed.measured_grid_w is not None and renamed.measured_grid_w < -1000   # exporting some 3 kW
    assert abs(renamed.measured_grid_w - plain.measured_grid_w) < 600


def test_wizard_final_check_lists_the_aliased_live_values(sim, run, tmp_path):
    async def go():
        dev, session = await _device(sim, aliased_profile())
        try:
            runner = WizardRunner(ParamSession(dev, "inst-7", WriteHistory(tmp_path / "h")), WizardStore(tmp_path / "w"))
            await runner.open()
            ident = await runner.identify()
            return ident, await runner.final_check()
        finally:
            await session.close()
    ident, final = run(go())
    live = {row["name"]: row["text"] for row in final["live"]}
    for canonical in ("pv_power_w", "inverter_power_w", "grid_power_w", "load_power_w", "battery_power_w",
                      "battery_soc_pct"):
        assert canonical in live and live[canonical] not in ("", "n/a"), (canonical, live)
    assert live["battery_soc_pct"].endswith("%")
    assert ident["serial"] == sim.device(1).value_of("serial_number")


def test_recorder_keeps_the_serial_and_the_aliases_of_a_renamed_profile(tmp_path):
    from protocols.sample import Sample

    from desktop.device.events import IdentityRead, LinkOpened, SampleReady, StateChanged
    from desktop.diag.profile_doc import from_doc
    from desktop.diag.recorder import Recorder, RecorderSettings
    from desktop.diag.sessionlog import SessionLog

    profile = aliased_profile()

    class FakeDevice:
        unit = 1
        session = type("S", (), {"link": type("L", (), {"frame_listeners": []})()})()

        def __init__(self):
            self.profile = profile

        async def write_point(self, name, value):
            return value

    class FakeService:
        device = FakeDevice()

        def add_listener(self, fn):
            self.fn = fn

        def remove_listener(self, fn):
            pass

    service = FakeService()
    recorder = Recorder(service, tmp_path, RecorderSettings(capture_on_connect=False))
    try:
        service.fn(LinkOpened("tcp 127.0.0.1:502 unit 1", profile))
        service.fn(IdentityRead({"sn": "VX-000123", "model_name": "X8"}))
        t0 = time.time()
        service.fn(SampleReady(Sample(t0, {"dc_power_total": 4200.0, "meter_active_w": -1500.0})))
        service.fn(StateChanged("disconnected"))
        assert recorder.flush(5)
    finally:
        recorder.stop()
    log = SessionLog(tmp_path, readonly=True)
    try:
        (info,) = log.sessions()
        assert info.serial == "VX-000123"          # found through resolve("serial_number")
        assert "dc_power_total" in info.columns and "pv_power_w" not in info.columns
        recorded = from_doc(info.profile)
    finally:
        log.close()
    assert recorded.resolve("pv_power_w") == "dc_power_total"   # the review resolves the canonical names again
