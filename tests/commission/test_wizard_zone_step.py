"""The wizard's clock step asks for the zone where the grid code's country has several (never the laptop's),
and the CT page's power step names the limit, its value, how long and what is restored, with a countdown."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QComboBox

from desktop.commission.wizard import STEP_IDS
from tests.commission.wizard_helpers import WAIT_MS, make_wizard

pytestmark = pytest.mark.gui


def wait_page(qtbot, wiz, step_id):
    qtbot.waitUntil(lambda: wiz.currentId() == STEP_IDS.index(step_id) and not wiz.currentPage().busy,
                    timeout=WAIT_MS)
    return wiz.currentPage()


def test_australia_asks_for_the_zone_and_writes_the_chosen_one(sim, connected_bridge, qtbot, auto_prompts,
                                                              laptop_in_new_york):
    dev = sim.device(1)
    before = dev.value_of("timezone_offset_min")
    wiz = make_wizard(qtbot, connected_bridge, auto_prompts)
    wiz.next()
    grid = wait_page(qtbot, wiz, "grid")
    qtbot.waitUntil(lambda: bool(grid.infos), timeout=WAIT_MS)
    country = grid.findChild(QComboBox, "country")
    country.setCurrentIndex(country.findData("AU"))
    grid.findChild(QComboBox, "edit_grid_code").setCurrentIndex(0)
    assert grid.findChild(QComboBox, "edit_grid_code").currentData() == 8
    wiz.next()
    page = wait_page(qtbot, wiz, "clock")
    qtbot.waitUntil(lambda: page.plan is not None and not page.busy, timeout=WAIT_MS)
    assert dev.value_of("grid_code") == 8

    zones = [page.tz.itemData(i) for i in range(page.tz.count())]
    assert zones[0] is None and "Australia/Perth" in zones and "Australia/Sydney" in zones and len(zones) == 8
    assert page.tz.currentData() is None      # nothing preselected: no guess, no laptop zone
    assert "Australia (AU), from the grid code: it has 7 time zones" in page.country.text()
    assert "choose the time zone first" in page.will_write.text()
    wiz.next()                                 # refused until a zone is chosen; nothing written
    qtbot.waitUntil(lambda: "Not written" in page.status.text(), timeout=WAIT_MS)
    assert "Australia/Darwin" in page.status.text() and wiz.currentId() == STEP_IDS.index("clock")
    assert dev.value_of("timezone_offset_min") == before

    page.tz.setCurrentIndex(page.tz.findData("Australia/Perth"))   # UTC+08:00, no daylight saving
    qtbot.waitUntil(lambda: not page.busy, timeout=WAIT_MS)
    assert "Australia/Perth" in page.will_write.text() and "UTC+08:00" in page.will_write.text()
    assert "(480 min)" in page.will_write.text()
    wiz.next()
    wait_page(qtbot, wiz, "export")
    assert dev.value_of("timezone_offset_min") == 480


def poll_texts(label, into: list) -> QTimer:
    """Collect every text ``label`` shows (QLabel has no change signal)."""
    timer = QTimer()

    def grab():
        if not into or into[-1] != label.text():
            into.append(label.text())
    timer.timeout.connect(grab)
    timer.start(20)
    return timer


def to_ct_page(qtbot, wiz):
    for step_id in ("grid", "clock", "export", "battery", "meter"):
        wiz.next()
        page = wait_page(qtbot, wiz, step_id)
        page.skip()
    return wait_page(qtbot, wiz, "ct")


def test_power_step_names_the_limit_the_time_and_the_restore(sim, connected_bridge, qtbot, auto_prompts, set_plant):
    dev = sim.device(1)
    set_plant(sim, 1, pv_override_w=7000.0, load_override_w=400.0)
    wiz = make_wizard(qtbot, connected_bridge, auto_prompts)
    page = to_ct_page(qtbot, wiz)
    page.duration.setValue(0.8)
    page.period_s, page.settle_s = 0.15, 0.3
    page.step_box.setChecked(True)
    texts: list[str] = []
    timer = poll_texts(page.status, texts)
    page.run_check()
    qtbot.waitUntil(lambda: page.result is not None and not page.busy, timeout=WAIT_MS)
    timer.stop()

    rows = auto_prompts.confirmed[-1]
    assert len(rows) == 1 and rows[0][0] == "Active power limit" and rows[0][1] == "100 % (8.0 kW)"
    m = re.fullmatch(r"(\d+) % \((\d+\.\d) kW\) for about (\d+) s, then back to 100 % \(8\.0 kW\)", rows[0][2])
    assert m, rows[0][2]
    pct, kw, hold_s = int(m[1]), float(m[2]), int(m[3])
    assert 0 < pct < 100 and kw == pytest.approx(8.0 * pct / 100, abs=0.05) and hold_s == 1   # 0.3 s + 1 s
    written = [v for _t, name, v in dev.write_log if name == "active_power_limit_pct"]
    assert written == [pct, 100]               # the limit named, then restored to what it was
    countdown = [t for t in texts if f"Power step: active power limit {pct} %" in t and " s left" in t]
    assert countdown, texts
    assert f"Power step:</b> active power limit {pct} % ({kw:.1f} kW) for about 1 s, then restored to 100 % " \
        "(8.0 kW)." in page.detail.text()
    assert page.result.step["status"] == "done" and page.result.step["limit_to_pct"] == pct


def test_power_step_not_confirmed_changes_nothing(sim, connected_bridge, qtbot, auto_prompts, set_plant):
    dev = sim.device(1)
    set_plant(sim, 1, pv_override_w=7000.0, load_override_w=400.0)
    auto_prompts.answer = False
    wiz = make_wizard(qtbot, connected_bridge, auto_prompts)
    page = to_ct_page(qtbot, wiz)
    page.step_box.setChecked(True)
    page.run_check()
    qtbot.waitUntil(lambda: "not confirmed" in page.status.text(), timeout=WAIT_MS)
    assert "for about" in auto_prompts.confirmed[-1][0][2]
    assert page.result is None and not [e for e in dev.write_log if e[1] == "active_power_limit_pct"]
