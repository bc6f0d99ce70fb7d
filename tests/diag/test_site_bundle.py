"""The diagnostics bundle covers every device of the site: one folder per device with its identity, register
snapshot and faults, read from the simulated units themselves; a unit that is not open is listed with why; and
the folders are masked like the rest of the bundle when the customer did not consent."""

from __future__ import annotations

import json
import time
import zipfile

import pytest
from test_masking import CUSTOMER, PASSPHRASE

from protocols.links.factory import LinkSpec
from protocols.sim.simulator import Simulator, demo_start_time

from desktop.device.connect import Target
from desktop.device.service import DeviceService
from desktop.device.site_service import SiteService
from desktop.diag.bundle import export_bundle
from desktop.diag.redact import customer_share
from desktop.diag.site_capture import SITE_INDEX, capture_site
from desktop.records.service import RecordsService

pytestmark = pytest.mark.timeout(90)


def _wait(cond, timeout_s=20.0):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end and not cond():
        time.sleep(0.05)
    assert cond()


def test_every_site_device_gets_its_folder_masked_per_consent(synth, tmp_path):
    sim = Simulator(units=(1, 2, 3), start_s=demo_start_time(), seed=6).start()
    sim.call(lambda: sim.device(3).inject_fault(120))
    service = DeviceService(fast_period_s=0.3, slow_period_s=1.0)
    site = SiteService(service, fast_period_s=0.3, slow_period_s=1.0)
    records = RecordsService(tmp_path / "records", "inst-042", passphrase=PASSPHRASE, scrypt_n=2**12)
    try:
        host, port = sim.tcp_address
        site.add_units(Target(spec=LinkSpec(kind="tcp", host=host, port=port)), [1, 2, 3]).result(30)
        site.add(Target(spec=LinkSpec(kind="tcp", host="127.0.0.1", port=9), unit=1)).result(30)  # refused
        _wait(lambda: sum(d["state"] == "connected" and bool(d["serial"]) for d in site.snapshot()) == 3)
        _wait(lambda: any(d["alarms"] for d in site.snapshot()))
        states = service.submit(lambda: capture_site(site)).result(60)
        assert len(states) == 4
        # an installer who named the inverter after its owner: personal data inside a device's own field
        states[0]["identity"]["model_name"] = f"{CUSTOMER['name']} garage"
        rid = records.add_customer(CUSTOMER)
        share = customer_share(records, rid)                       # no consent to sharing: masked
        result = export_bundle(tmp_path / "site.zip", recording_dir=synth.folder, customer=share, site=states,
                               app_logs=tmp_path / "none", upgrade_logs=tmp_path / "none")
    finally:
        site.close().result(10)
        service.shutdown()
        records.close()
        sim.stop()
    with zipfile.ZipFile(result.path) as zf:
        names = set(zf.namelist())
        index = json.loads(zf.read(SITE_INDEX))
        folders = [d["folder"] for d in index["devices"]]
        serials = [sim.device(u).identity["serial_number"] for u in (1, 2, 3)]
        assert folders[:3] == [f"site/{n:02d}-{s}" for n, s in enumerate(serials, 1)]
        assert result.manifest["includes"]["site_devices"] == folders
        for unit, folder in zip((1, 2, 3), folders):
            assert {f"{folder}/identity.json", f"{folder}/registers.json", f"{folder}/faults.json"} <= names
            ident = json.loads(zf.read(f"{folder}/identity.json"))
            assert ident["unit"] == unit and ident["identity"]["serial_number"] == serials[unit - 1]
            regs = json.loads(zf.read(f"{folder}/registers.json"))["holding"]
            assert regs["0"] == sim.device(unit).holding[0]         # model code, as the device holds it
            text = "".join(chr(regs[str(a)] >> 8) + chr(regs[str(a)] & 0xFF) for a in range(9, 17))
            assert text.rstrip("\x00 ") == serials[unit - 1]         # the serial's registers, raw
            faults = json.loads(zf.read(f"{folder}/faults.json"))
            assert {e["code"] for e in faults["fault_history"]} >= {102, 210, 211, 303}   # the device's own log
        assert json.loads(zf.read(f"{folders[2]}/faults.json"))["active_alarms"] >= 1
        refused = index["devices"][3]
        assert refused["folder"] == "site/04-unit001" and refused["errors"][0].startswith("not open")
        every = b"".join(zf.read(n) for n in names if n.startswith("site/"))
        assert b"Smith" not in every and b"[redacted]" in zf.read(f"{folders[0]}/identity.json")
        assert json.loads(zf.read("manifest.json"))["personal_data"]["masked"] is True


def test_the_diagnostics_page_exports_every_site_device(qtbot, synth, tmp_path):
    from desktop.diag.recorder import Recorder
    from desktop.ui.diagnostics.page import DiagnosticsPage
    from desktop.ui.shell.bridge import Bridge

    sim = Simulator(units=(4, 5), start_s=demo_start_time(), seed=8).start()
    service = DeviceService(fast_period_s=0.3, slow_period_s=1.0)
    site = SiteService(service, fast_period_s=0.3, slow_period_s=1.0)
    try:
        host, port = sim.tcp_address
        site.add_units(Target(spec=LinkSpec(kind="tcp", host=host, port=port)), [4, 5]).result(30)
        _wait(lambda: all(d["state"] == "connected" for d in site.snapshot()))
        page = DiagnosticsPage(Bridge(service), Recorder(folder=synth.folder), None, site=site)
        qtbot.addWidget(page)
        with qtbot.waitSignal(page.exported, timeout=30_000) as done:
            page.export_to(tmp_path / "page.zip", live=False)   # no window connection: the site alone is read
        with zipfile.ZipFile(done.args[0]) as zf:
            index = json.loads(zf.read(SITE_INDEX))
            assert [d["unit"] for d in index["devices"]] == [4, 5] and not any(d["errors"] for d in index["devices"])
            for d in index["devices"]:
                serial = json.loads(zf.read(d["folder"] + "/identity.json"))["identity"]["serial_number"]
                assert serial == sim.device(d["unit"]).identity["serial_number"]
    finally:
        site.close().result(10)
        service.shutdown()
        sim.stop()
