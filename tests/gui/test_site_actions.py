"""The Site page's actions on several units of one pseudo-terminal bus, in the real window: parallel roles in the
tree and the warning before a write to a slave, the batch firmware upgrade that stops at the first failure, a
settings file applied to each device with its own diff, one commissioning report listing every device, and the
site saved with the customer record and restored. Every dialog is answered through its hook."""

from __future__ import annotations

import io

import pytest

from protocols.firmware.upgrade import UpgradeOptions
from protocols.links.factory import LinkSpec
from protocols.sim.simulator import Simulator, demo_start_time

from desktop.commission import settings_file
from desktop.device.connect import Target
from desktop.ui.site.tree import COLUMNS

pytestmark = [pytest.mark.gui, pytest.mark.timeout(120)]

ROLE_COL = COLUMNS.index("Role")
ROLE_ADDRESS = 219   # parallel_role on the reference hybrid (resources/profiles/pvdesk-hybrid.toml)
FAST = UpgradeOptions(link_wait_s=6.0, reboot_wait_s=6.0, health_s=0.3, health_reads=3, poll_s=0.05,
                      progress_interval_s=0.0)


@pytest.fixture
def bus():
    sim = Simulator(units=(1, 2, 3), tcp=False, rtu=True, start_s=demo_start_time(), seed=4).start()
    for dev in sim.devices.values():
        def fast(bl=dev.bootloader):
            bl.reboot_s, bl.test_timeout_s = 0.3, 3.0
        sim.call(fast)
    sim.call(lambda: sim.device(1).write(ROLE_ADDRESS, [1]))   # master
    sim.call(lambda: sim.device(2).write(ROLE_ADDRESS, [2]))   # slave
    yield sim
    sim.stop()


def _site_page(qtbot, make_window, bus):
    window, _bridge, _service = make_window()
    page = window.page("Site")
    window.show_page("Site")
    spec = LinkSpec(kind="serial", serial_port=bus.rtu_path, baud=115200)
    keys = window.site.add_units(Target(spec=spec), [1, 2, 3]).result(30)
    qtbot.waitUntil(lambda: len(page.site.snapshot()) == 3 and all(
        d["state"] == "connected" and d["serial"] and d["role"] for d in page.site.snapshot()), timeout=30_000)
    page.refresh()
    return window, page, keys


def _value(bus, unit, name):
    return bus.call(lambda: bus.device(unit).value_of(name))


def test_roles_in_the_tree_and_a_settings_file_applied_to_each_with_its_diff(qtbot, make_window, bus, tmp_path):
    window, page, keys = _site_page(qtbot, make_window, bus)
    try:
        roles = {k: page.tree.unit_item(k).text(ROLE_COL) for k in keys}
        assert roles == {keys[0]: "Master", keys[1]: "Slave (follows the master)",
                         keys[2]: "Single"}
        # a file saved from unit 1, then edited: two settings change on every unit
        member = window.site.members[keys[0]]
        doc = window.site.service.submit(lambda: settings_file.capture(member.device)).result(10)
        assert "parallel_role" not in doc["settings"]          # a role is never carried to another device
        doc["settings"]["export_limit_w"]["value"] = 4000
        doc["settings"]["battery_min_soc_pct"]["value"] = 25
        path = tmp_path / "site.json"
        settings_file.save(doc, path)

        reviewed, warned = [], []
        apply = page.settings_apply
        apply.review = lambda key, preview: reviewed.append((key, preview)) or True
        apply.confirm_slave_write = lambda text: warned.append(text) or False    # the safe answer
        page.tree.select_keys(keys)
        page.apply_settings(str(path))
        qtbot.waitUntil(lambda: not apply.running, timeout=30_000)
        assert [k for k, _ in reviewed] == [keys[0]]                              # the slave's diff never shown
        assert {r.name for r in reviewed[0][1].changes} == {"export_limit_w", "battery_min_soc_pct"}
        assert len(warned) == 1 and keys[1] in warned[0] and f"the master ({keys[0]})" in warned[0]
        assert not apply.ok and apply.lines[-1] == f"Not touched: {keys[2]}"
        assert "written and verified" in apply.lines[0] and "parallel slave" in apply.lines[1]
        assert _value(bus, 1, "export_limit_w") == 4000 and _value(bus, 1, "battery_min_soc_pct") == 25
        for unit in (2, 3):
            assert _value(bus, unit, "export_limit_w") == 10000 and _value(bus, unit, "battery_min_soc_pct") == 10
        assert _value(bus, 1, "parallel_role") == 1

        reviewed.clear()
        apply.confirm_slave_write = lambda text: True
        page.apply_settings(str(path))
        qtbot.waitUntil(lambda: not apply.running, timeout=30_000)
        assert apply.ok, apply.lines
        # each device's own diff: unit 1 has nothing left to change, 2 and 3 show their own current values
        assert [k for k, _ in reviewed] == [keys[1], keys[2]]
        for _key, preview in reviewed:
            row = next(r for r in preview.changes if r.name == "export_limit_w")
            assert (row.current, row.new) == (10000, 4000)
        assert "nothing to change" in apply.lines[0]
        for unit in (1, 2, 3):
            assert _value(bus, unit, "export_limit_w") == 4000
        assert [_value(bus, u, "parallel_role") for u in (1, 2, 3)] == [1, 2, 0]
    finally:
        window.site.close().result(10)


def _package(tmp_path):
    from tests.firmware.fw_helpers import image_bytes, package_bytes
    path = tmp_path / "fw.pvfw"
    path.write_bytes(package_bytes(image_bytes(2400)))   # ten chunks: a quick upload on the bus
    return path


def test_batch_upgrade_goes_one_after_another_and_stops_at_the_first_failure(qtbot, make_window, bus, tmp_path):
    window, page, keys = _site_page(qtbot, make_window, bus)
    try:
        bus.call(lambda: setattr(bus.device(2).bootloader, "fail_health", True))   # unit 2's new image is sick
        page.upgrade_options, page.firmware_log_dir = FAST, tmp_path / "logs"
        (tmp_path / "logs").mkdir()
        asked = []
        page.confirm_upgrade = lambda text: asked.append(text) or True
        page.tree.select_keys(keys)
        dialog = page.upgrade_selected(str(_package(tmp_path)))
        qtbot.waitUntil(lambda: dialog.outcome is not None, timeout=90_000)
        out = dialog.outcome
        assert out.upgraded == [keys[0]] and out.failed == keys[1] and out.not_touched == [keys[2]]
        assert out.reason.startswith("reverted")
        assert [bus.device(u).identity["serial_number"] in q for u, q in zip((1, 2), asked)] == [True, True]
        assert len(asked) == 2                                                    # unit 3 was never asked
        text = dialog.summary.text()
        assert text.startswith("1 of 3 devices upgraded.") and f"{keys[1]} failed: reverted" in text
        assert text.endswith(f"Not touched: {keys[2]}.") and page.message.text() == text
        assert dialog.status(keys[2]) == "not touched"
        assert bus.call(lambda: bus.device(1).bootloader.last_result.name) == "CONFIRMED"
        assert bus.call(lambda: bus.device(3).bootloader.writes) == 0
        assert len(list((tmp_path / "logs").glob("*.jsonl"))) == 2
        # the other units kept being polled while one was upgraded, and all poll again afterwards
        qtbot.waitUntil(lambda: all(d["state"] == "connected" and d["values"].get("pv_power_w") is not None
                                    for d in window.site.snapshot()), timeout=20_000)
    finally:
        window.site.close().result(10)


def test_a_declined_confirmation_writes_nothing_anywhere(qtbot, make_window, bus, tmp_path):
    window, page, keys = _site_page(qtbot, make_window, bus)
    try:
        page.upgrade_options = FAST
        page.confirm_upgrade = lambda text: False
        page.tree.select_keys(keys[:2])
        dialog = page.upgrade_selected(str(_package(tmp_path)))
        qtbot.waitUntil(lambda: dialog.outcome is not None, timeout=30_000)
        assert dialog.outcome.upgraded == [] and dialog.outcome.failed == keys[0]
        assert dialog.outcome.not_touched == [keys[1]] and dialog.outcome.cancelled
        assert [bus.call(lambda u=u: bus.device(u).bootloader.writes) for u in (1, 2, 3)] == [0, 0, 0]
        page.tree.clearSelection()
        assert page.upgrade_selected(str(_package(tmp_path))) is None
        assert page.message.text().startswith("Select the devices to upgrade")
    finally:
        window.site.close().result(10)


def test_one_commissioning_report_lists_every_device_of_the_site(qtbot, make_window, bus, tmp_path):
    from pypdf import PdfReader
    window, page, keys = _site_page(qtbot, make_window, bus)
    try:
        out = tmp_path / "site-report.pdf"
        page.report.ask_path = lambda suggested: str(out)
        page.tree.clearSelection()                               # none selected: the whole site
        page.make_report()
        qtbot.waitUntil(lambda: page.report.path is not None, timeout=60_000)
        data = page.report.data
        serials = [bus.device(u).identity["serial_number"] for u in (1, 2, 3)]
        assert data.site and [d["serial"] for d in data.devices] == serials
        for d in data.devices:
            assert {c["component"] for c in d["firmware"]} >= {"control"} and all(c["version"] for c in d["firmware"])
            labels = {s["label"] for s in d["device_settings"]}
            assert {"Export limit", "Grid code"} <= labels and "Parallel role" not in labels
            assert [c["check"] for c in d["checks"]][:4] == ["Answers", "Active alarms", "Firmware read",
                                                            "Settings read"]
        slave = data.devices[1]
        assert slave["role"] == "Slave" and slave["checks"][-1] == {"check": "Parallel master", "ok": True,
                                                                    "detail": "a master on the same link"}
        text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(out.read_bytes())).pages)
        assert "Site of 3 devices" in text and all(s in text for s in serials)
        assert "Slave" in text and "Export limit" in text and data.report_id in text
        assert page.message.text().startswith(f"Site report {data.report_id}: 3 device(s)")
    finally:
        window.site.close().result(10)


def test_the_site_is_saved_with_the_record_and_restored_from_the_page(qtbot, make_window, bus, tmp_path):
    from desktop.records.service import RecordsService
    window, page, keys = _site_page(qtbot, make_window, bus)
    records = RecordsService(tmp_path / "records", "inst-1", passphrase="correct horse battery staple",
                             scrypt_n=2**12)
    try:
        rid = records.add_customer({"name": "Ada Lovelace"})
        sid = records.add_site(rid, {"name": "Home"})
        box = page.record_box
        box._records = lambda: records
        assert not box.restore_button.isEnabled() and not box.save_button.isEnabled()   # no customer chosen yet
        box.reload()
        box.select(rid, sid)
        box.restore_button.click()
        assert page.message.text().startswith("No site was saved")
        box.save_button.click()
        assert page.message.text() == "Saved the site (3 devices) with Ada Lovelace's record, site Home."
        before = {d["key"]: d["serial"] for d in window.site.snapshot()}
        window.site.close().result(10)
        qtbot.waitUntil(lambda: not window.site.snapshot(), timeout=5000)
        box.restore_button.click()
        qtbot.waitUntil(lambda: len(window.site.snapshot()) == 3 and all(
            d["state"] == "connected" and d["serial"] for d in window.site.snapshot()), timeout=30_000)
        assert {d["key"]: d["serial"] for d in window.site.snapshot()} == before
    finally:
        records.close()
        window.site.close().result(10)


def test_parameters_page_warns_before_writing_to_a_slave(qtbot, make_window):
    with Simulator(units=(2,), start_s=demo_start_time()) as sim:
        sim.call(lambda: sim.device(2).write(ROLE_ADDRESS, [2]))
        window, bridge, _service = make_window()
        host, port = sim.tcp_address
        bridge.connect_to(Target(spec=LinkSpec(kind="tcp", host=host, port=port), unit=2))
        page = window.page("Parameters")
        qtbot.waitUntil(lambda: page.role == "Slave", timeout=20_000)
        assert "parallel slave" in page.device_label.text()
        warned = []
        page.confirm_slave_write = lambda text: warned.append(text) or False
        page.request_write("work_mode", 1)
        assert len(warned) == 1 and "parallel slave" in warned[0] and "Changing Work mode" in warned[0]
        assert sim.call(lambda: sim.device(2).value_of("work_mode")) == 0
        assert not any(name == "work_mode" for _t, name, _v in sim.call(lambda: list(sim.device(2).write_log)))
        page.confirm_slave_write = lambda text: True
        page.request_write("work_mode", 1)
        qtbot.waitUntil(lambda: sim.call(lambda: sim.device(2).value_of("work_mode")) == 1, timeout=10_000)
        assert len(warned) == 1


def test_the_slave_warning_defaults_to_cancel(qtbot):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from desktop.ui.shell.confirm_dialogs import confirm_slave_write, slave_write_question
    text = slave_write_question("RTU /dev/ttyUSB0 9600 8N1 unit 2", "Applying a settings file",
                                "RTU /dev/ttyUSB0 9600 8N1 unit 1")
    assert text.startswith("RTU /dev/ttyUSB0 9600 8N1 unit 2 is a parallel slave: its settings follow the master "
                           "(RTU /dev/ttyUSB0 9600 8N1 unit 1).")
    seen = []

    def answer(key):
        box = QApplication.activeModalWidget()
        if box is None:
            QTimer.singleShot(20, lambda: answer(key))
            return
        assert isinstance(box, QMessageBox)
        seen.append(box.defaultButton().text())
        qtbot.keyClick(box, key)
    for key in ("\r", "\x1b"):   # Enter takes the default, Escape the escape button: both cancel
        QTimer.singleShot(20, lambda k=key: answer(k))
        assert confirm_slave_write(None, text) is False
    assert seen == ["Cancel", "Cancel"]


def test_a_protected_setting_asks_the_installer_code_once_for_the_site(qtbot, make_window, bus, tmp_path):
    for unit in (1, 2, 3):
        bus.call(lambda u=unit: setattr(bus.device(u), "require_login", True))
    window, page, keys = _site_page(qtbot, make_window, bus)
    try:
        member = window.site.members[keys[0]]
        doc = window.site.service.submit(lambda: settings_file.capture(member.device)).result(10)
        doc["settings"]["grid_code"]["value"] = 2            # protected: needs the installer login
        path = tmp_path / "grid.json"
        settings_file.save(doc, path)
        asked = []
        apply = page.settings_apply
        apply.review = lambda key, preview: True
        apply.confirm_slave_write = lambda text: True
        apply.ask_code = lambda what: asked.append(what) or "1234"
        page.tree.select_keys(keys)
        page.apply_settings(str(path))
        qtbot.waitUntil(lambda: not apply.running, timeout=30_000)
        assert apply.ok, apply.lines
        assert asked == ["Grid code"]                        # once, not once per inverter
        assert [_value(bus, u, "grid_code") for u in (1, 2, 3)] == [2, 2, 2]
        apply.ask_code = lambda what: asked.append(what) or None   # logged in already: not asked again
        doc["settings"]["grid_code"]["value"] = 3
        settings_file.save(doc, path)
        page.apply_settings(str(path))
        qtbot.waitUntil(lambda: not apply.running, timeout=30_000)
        assert apply.ok and asked == ["Grid code"]
        assert [_value(bus, u, "grid_code") for u in (1, 2, 3)] == [3, 3, 3]
    finally:
        window.site.close().result(10)
