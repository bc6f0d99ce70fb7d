"""ParametersPage and SettingsDiffDialog against the simulator (pytest-qt, offscreen): the real confirm
and login dialogs, validation before sending, refusal and mismatch shown, settings files with the diff."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox

from desktop.commission import settings_file
from desktop.commission.context import CommissionContext
from desktop.commission.params import ParamSession
from desktop.commission.storage import WriteHistory
from desktop.ui.commissioning.param_model import STATUS_COL, VALUE_COL
from desktop.ui.commissioning.parameters_page import ParametersPage
from desktop.ui.commissioning.settings_diff_dialog import SettingsDiffDialog

pytestmark = pytest.mark.gui
WAIT_MS = 8000


def make_page(qtbot, bridge):
    page = ParametersPage(bridge, CommissionContext("inst-7"))
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.model.rowCount() == 16, timeout=WAIT_MS)   # with the parallel role
    return page


def cell(page, name, col):
    return page.model.index(page.model.row_of(name), col).data()


def answer_next_dialog(qtbot, act):
    """Run ``act(dialog)`` on the next modal dialog once it is open (from a timer: exec() blocks)."""
    def poll():
        w = QApplication.activeModalWidget()
        if w is None:
            QTimer.singleShot(20, poll)
        else:
            act(w)
    QTimer.singleShot(20, poll)


def test_table_shows_every_setting_and_writes_safely(sim, connected_bridge, qtbot):
    dev = sim.device(1)
    sim.call(setattr, dev, "require_login", True)
    page = make_page(qtbot, connected_bridge)
    assert cell(page, "export_limit_w", 0) == "Export limit"
    assert cell(page, "export_limit_w", VALUE_COL) == "10000" and cell(page, "export_limit_w", 2) == "W"
    assert cell(page, "export_limit_w", 3) == "0 … 10000 W" and cell(page, "grid_code", 4) == "confirm, login"
    assert "trip limits" in cell(page, "grid_code", 5)
    assert "PVD8K001A0042" in page.device_label.text()
    requests = sim.dispatcher.requests
    page.request_write("battery_min_soc_pct", 80)          # out of range: never sent
    assert "Not sent" in cell(page, "battery_min_soc_pct", STATUS_COL) and "outside 5..50" in page.status.text()
    assert dev.value_of("battery_min_soc_pct") == 10 and len(dev.write_log) == 0
    assert sim.dispatcher.requests - requests < 10          # only the poller's reads went out meanwhile

    # safety-relevant: the real confirmation dialog; "Cancel" leaves the device alone
    answer_next_dialog(qtbot, lambda box: box.button(QMessageBox.StandardButton.Cancel).click())
    page.request_write("export_limit_w", 4500)
    assert cell(page, "export_limit_w", STATUS_COL) == "Cancelled" and dev.value_of("export_limit_w") == 10000
    answer_next_dialog(qtbot, lambda box: [b for b in box.buttons() if b.text() == "Write to the device"][0].click())
    page.request_write("export_limit_w", 4500)
    qtbot.waitUntil(lambda: cell(page, "export_limit_w", STATUS_COL).startswith("Verified"), timeout=WAIT_MS)
    assert dev.value_of("export_limit_w") == 4500 and cell(page, "export_limit_w", VALUE_COL) == "4500"

    # protected: confirm, then the real login dialog; the code is kept for the session
    def login(dlg):
        dlg.findChild(QLineEdit, "installerCode").setText("1234")
        dlg.accept()

    def confirm_then_login(box):
        [b for b in box.buttons() if b.text() == "Write to the device"][0].click()
        answer_next_dialog(qtbot, login)
    answer_next_dialog(qtbot, confirm_then_login)
    page.request_write("grid_code", 6)
    qtbot.waitUntil(lambda: cell(page, "grid_code", STATUS_COL).startswith("Verified"), timeout=WAIT_MS)
    assert dev.value_of("grid_code") == 6 and cell(page, "grid_code", VALUE_COL) == "NL EN 50549 (6)"
    assert not page.ctx.session_for(connected_bridge._service.device).needs_login("grid_code")

    # a device refusal and a read-back mismatch are shown as such
    sim.call(dev.refuse_writes.__setitem__, "work_mode", 3)
    sim.call(dev.readback_skew.__setitem__, "ct_ratio", 1)
    page.request_write("work_mode", 2)
    page.request_write("ct_ratio", 250)
    qtbot.waitUntil(lambda: cell(page, "ct_ratio", STATUS_COL).startswith("Read-back mismatch")
                    and cell(page, "work_mode", STATUS_COL).startswith("Refused"), timeout=WAIT_MS)
    assert "exception 03" in cell(page, "work_mode", STATUS_COL)
    assert "wrote 250, device holds 251" in cell(page, "ct_ratio", STATUS_COL)
    assert cell(page, "ct_ratio", VALUE_COL) == "251"    # the table shows what the device really holds
    entries = WriteHistory().entries("PVD8K001A0042")
    assert [(e["point"], e["result"]) for e in entries] == [
        ("export_limit_w", "ok"), ("grid_code", "ok"), ("work_mode", "refused"), ("ct_ratio", "mismatch")]
    assert all(e["installer"] == "inst-7" for e in entries)


def test_editor_fits_the_setting(sim, connected_bridge, qtbot):
    page = make_page(qtbot, connected_bridge)
    view = page.table
    for name, kind, check in (("export_limit_w", "StrictSpinBox", lambda w: (w.allowed, w.suffix()) == ((0, 10000), " W")),
                              ("battery_charge_limit_a", "StrictDoubleSpinBox", lambda w: w.decimals() == 1 and w.value() == 50.0),
                              ("work_mode", "QComboBox", lambda w: w.count() == 4 and w.currentData() == 0),
                              ("device_time_unix_s", "QDateTimeEdit", lambda w: w.dateTime().isValid())):
        index = page.model.index(page.model.row_of(name), VALUE_COL)
        view.setCurrentIndex(index)
        view.edit(index)
        editor = view.indexWidget(index) or QApplication.focusWidget()
        assert type(editor).__name__ == kind and check(editor), name
        qtbot.keyClick(editor, Qt.Key.Key_Escape)   # closed without a write
    assert all(not s for s, _ in page.model.status.values()) and not sim.device(1).write_log


def test_settings_file_applied_with_a_diff_preview(sim, connected_bridge, qtbot, run, open_device, tmp_path):
    path = tmp_path / "unit2.json"

    async def from_unit_2():
        dev2, s = await open_device(sim, 2)
        ps = ParamSession(dev2, "inst-7", WriteHistory(tmp_path / "h"))
        await ps.login("1234")
        await ps.write_many({"export_limit_w": 2500, "battery_max_soc_pct": 90, "grid_code": 3}, confirmed=True)
        settings_file.save(await settings_file.capture(dev2), path)
        await s.close()
    run(from_unit_2())
    page = make_page(qtbot, connected_bridge)
    page.prompts.ask_code = lambda parent, what, refused=False: "1234"
    seen = []

    def review(preview):
        dlg = SettingsDiffDialog(preview, page)
        seen.append(dlg)
        assert not dlg.apply_button.isEnabled()       # nothing without ticking the agreement
        dlg.agree.setChecked(True)
        return dlg.apply_button.isEnabled()
    page.review = review
    page.apply_settings_file(str(path))
    qtbot.waitUntil(lambda: "applied and verified" in page.status.text(), timeout=WAIT_MS)
    dlg = seen[0]
    rows = {dlg.table.item(i, 0).text(): [dlg.table.item(i, j).text() for j in (1, 2, 3)]
            for i in range(dlg.table.rowCount())}
    assert rows["Export limit"] == ["10000 W", "2500 W", "changes · needs confirm"]
    assert rows["Grid code"] == ["DE VDE-AR-N 4105 (1)", "GB G98/G99 (3)", "changes · needs confirm, login"]
    assert rows["CT ratio"][2] == "same"
    assert "3 settings will change" in dlg.findChildren(type(page.status))[0].text()
    dev = sim.device(1)
    assert (dev.value_of("export_limit_w"), dev.value_of("battery_max_soc_pct"), dev.value_of("grid_code")) == (2500, 90, 3)
    assert cell(page, "export_limit_w", STATUS_COL).startswith("Verified (file)")

    doc = json.loads(path.read_text())
    doc["profile"], doc["profile_title"] = "sofar-hyd-g3", "SOFAR HYD-EP"
    other = tmp_path / "sofar.json"
    other.write_text(json.dumps(doc))
    page.apply_settings_file(str(other))
    qtbot.waitUntil(lambda: "made for SOFAR HYD-EP" in page.status.text(), timeout=WAIT_MS)
    assert len(seen) == 1                                   # refused before any preview was offered
    (tmp_path / "junk.json").write_text("[1, 2")
    page.apply_settings_file(str(tmp_path / "junk.json"))
    assert "not a PVDesk settings file" in page.status.text()


def test_guided_set_up_opens_from_the_page_and_shares_the_login(sim, connected_bridge, qtbot):
    page = make_page(qtbot, connected_bridge)
    session = page.ctx.session_for(connected_bridge._service.device)
    wiz = page.open_wizard()
    qtbot.addWidget(wiz)
    first = wiz.currentPage()
    qtbot.waitUntil(lambda: first.loaded, timeout=WAIT_MS)
    assert wiz.ctx is page.ctx and wiz.runner.session is session
    assert "PVD8K001A0042" in first.summary.text()


def test_a_value_typed_out_of_range_is_kept_marked_and_refused_with_the_range_never_altered(sim, connected_bridge, qtbot):
    page = make_page(qtbot, connected_bridge)
    view = page.table
    index = page.model.index(page.model.row_of("battery_min_soc_pct"), VALUE_COL)
    view.setCurrentIndex(index)
    view.edit(index)
    editor = view.indexWidget(index) or QApplication.focusWidget()
    editor.lineEdit().selectAll()
    qtbot.keyClicks(editor, "60")                   # range 5..50: a QSpinBox would have kept "6"
    assert editor.value() == 60 and editor.property("outOfRange") is True
    assert "60 % is outside 5 … 50 %" in editor.toolTip()
    qtbot.keyClick(editor, Qt.Key.Key_Return)       # committed: refused, nothing sent, value unchanged
    qtbot.waitUntil(lambda: "Not sent" in cell(page, "battery_min_soc_pct", STATUS_COL), timeout=3000)
    assert "outside 5..50" in page.status.text()
    assert sim.device(1).value_of("battery_min_soc_pct") == 10 and not sim.device(1).write_log


def test_last_write_follows_a_write_the_guided_set_up_made_with_the_same_session(sim, connected_bridge, qtbot):
    page = make_page(qtbot, connected_bridge)
    page.request_write("battery_max_soc_pct", 95)
    qtbot.waitUntil(lambda: (cell(page, "battery_max_soc_pct", STATUS_COL) or "").startswith("Verified"), timeout=WAIT_MS)
    assert "95" in cell(page, "battery_max_soc_pct", STATUS_COL)
    session = page.ctx.session_for(connected_bridge._service.device)   # the wizard shares it (test above)
    connected_bridge._service.call_device(lambda d: session.write("battery_max_soc_pct", 90)).result(timeout=5)
    page.refresh()                                                    # as when the wizard closes
    qtbot.waitUntil(lambda: "90" in (cell(page, "battery_max_soc_pct", STATUS_COL) or ""), timeout=WAIT_MS)
    assert cell(page, "battery_max_soc_pct", VALUE_COL) == "90"
    assert sim.device(1).value_of("battery_max_soc_pct") == 90
