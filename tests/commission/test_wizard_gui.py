"""The commissioning wizard, driven through its widgets against the simulator (pytest-qt, offscreen):
the simulator's registers are checked after each step; refusal, skip and resume."""

from __future__ import annotations

import io
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QLabel, QPushButton

from desktop.commission.clock import laptop_tz_offset_min
from desktop.commission.context import CommissionContext
from desktop.commission.wizard import STEP_IDS, WizardStore
from desktop.ui.commissioning.wizard import CommissioningWizard
from tests.commission.wizard_helpers import WAIT_MS, make_wizard

pytestmark = pytest.mark.gui


def zone_offset_now_min(zone: str) -> int:
    """The zone's UTC offset now, from the standard library's zone database (the clock tests' oracle)."""
    return int(datetime.now(ZoneInfo(zone)).utcoffset().total_seconds() // 60)


def go_next(qtbot, wiz, step_id):
    """Press Next and wait until the wizard shows ``step_id`` with its data loaded."""
    wiz.next()
    target = STEP_IDS.index(step_id)
    qtbot.waitUntil(lambda: wiz.currentId() == target and not wiz.currentPage().busy, timeout=WAIT_MS)
    page = wiz.currentPage()
    if hasattr(page, "infos"):
        qtbot.waitUntil(lambda: bool(page.infos), timeout=WAIT_MS)
    return page


def pick(page, name, value):
    w = page.findChild(QComboBox, f"edit_{name}") or page.findChild(QAbstractSpinBox, f"edit_{name}")
    assert w is not None, name
    if isinstance(w, QComboBox):
        w.setCurrentIndex(w.findData(value))
        assert w.currentData() == value
    else:
        w.setValue(value)


def test_whole_wizard_against_the_simulator(sim, connected_bridge, qtbot, auto_prompts, tmp_path,
                                           laptop_in_new_york):
    dev = sim.device(1)
    sim.call(setattr, dev, "require_login", True)
    sim.call(lambda: setattr(dev, "clock_offset_s", time.time() - dev.clock() - 95.0))   # 1 min 35 s behind
    sim.call(lambda: (setattr(dev.plant, "pv_override_w", 7000.0), setattr(dev.plant, "load_override_w", 400.0)))
    sim.set_ct_reversed(True)   # the installer mounted the clamp the wrong way round
    wiz = make_wizard(qtbot, connected_bridge, auto_prompts)
    assert "PVD8K001A0042" in wiz.currentPage().summary.text()
    assert wiz.currentPage().firmware.item(3, 3).text() == "B10-01-7781"

    page = go_next(qtbot, wiz, "grid")
    country = page.findChild(QComboBox, "country")
    country.setCurrentIndex(country.findData("GB"))
    pick(page, "grid_code", 3)
    page = go_next(qtbot, wiz, "clock")
    assert dev.value_of("grid_code") == 3
    assert auto_prompts.confirmed[-1] == [("Grid code", "DE VDE-AR-N 4105 (1)", "GB G98/G99 (3)")]
    assert auto_prompts.asked_code == ["Grid code"]

    # the zone is the grid code's country's (GB: one zone), not the laptop's (New York), shown before the write
    qtbot.waitUntil(lambda: page.plan is not None and not page.busy, timeout=WAIT_MS)
    london = zone_offset_now_min("Europe/London")
    assert page.country.text() == "United Kingdom (GB), from the grid code"
    assert page.tz.count() == 1 and page.tz.currentData() == "Europe/London"
    will = page.will_write.text()
    assert "Europe/London" in will and f"({london} min)" in will and "laptop" in will
    assert "1 min 3" in page.drift.text() and "behind" in page.drift.text()
    page = go_next(qtbot, wiz, "export")
    assert dev.value_of("timezone_offset_min") == london and london != laptop_tz_offset_min()
    assert sim.call(lambda: dev.clock() + dev.clock_offset_s) == pytest.approx(time.time(), abs=3)
    clock_step = WizardStore().load("PVD8K001A0042").result("clock")
    assert clock_step["zone"] == "Europe/London" and clock_step["before"]["drift_s"] == pytest.approx(-95, abs=3)
    assert abs(clock_step["after"]["drift_s"]) <= 2

    pick(page, "export_limit_enabled", 1)
    pick(page, "export_limit_w", 3800)
    page = go_next(qtbot, wiz, "battery")
    assert dev.value_of("export_limit_enabled") == 1 and dev.value_of("export_limit_w") == 3800

    pick(page, "battery_min_soc_pct", 15)
    pick(page, "battery_charge_limit_a", 37.5)
    page = go_next(qtbot, wiz, "meter")
    assert dev.value_of("battery_min_soc_pct") == 15 and dev.value_of("battery_charge_limit_a") == pytest.approx(37.5)

    pick(page, "meter_type", 2)
    pick(page, "ct_ratio", 120)
    page = go_next(qtbot, wiz, "ct")
    assert dev.value_of("meter_type") == 2 and dev.value_of("ct_ratio") == 120

    page.duration.setValue(0.8)
    page.period_s, page.settle_s = 0.15, 0.3
    qtbot.mouseClick(page.run_button, qtbot_button())
    qtbot.waitUntil(lambda: page.result is not None and not page.busy, timeout=WAIT_MS)
    assert page.result.status == "reversed" and "CT reversed" in page.verdict.text()
    assert "Turn the clamp round" in page.detail.text()
    assert not page.isComplete() and page.fix_button.isVisibleTo(page)
    page.result = None
    qtbot.mouseClick(page.fix_button, qtbot_button())   # software correction, then the check runs again
    qtbot.waitUntil(lambda: page.result is not None and not page.busy, timeout=WAIT_MS)
    assert page.result.status == "ok" and page.isComplete(), page.result
    assert dev.value_of("ct_direction") == 1

    page = go_next(qtbot, wiz, "final")
    qtbot.waitUntil(lambda: page.result is not None, timeout=WAIT_MS)
    assert page.result["all_match"] and page.settings.rowCount() >= 9
    assert all(page.settings.item(i, 2).text().startswith("✔") for i in range(page.settings.rowCount()))

    page = go_next(qtbot, wiz, "report")
    page.customer_name.setText("Margarethe Quellenbach")
    page.site_name.setText("Wohnhaus")
    for bad, why in (("", "missing"), ("neun", "'neun' is not a number"), ("-3", "outside 0"),
                     ("250000", "outside 0")):
        page.capacity.setText(bad)
        qtbot.mouseClick(page.make_button, qtbot_button())
        assert page.pdf is None and not page.isComplete() and why in page.status.text(), (bad, page.status.text())
        assert "No report made: the installed PV capacity" in page.status.text()
    page.capacity.setText("9,86")
    qtbot.mouseClick(page.make_button, qtbot_button())
    assert page.isComplete() and page.pdf.startswith(b"%PDF")
    out = tmp_path / "report.pdf"
    page.export_pdf(str(out))
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(out.read_bytes())).pages).split())
    for needle in ("PVD8K001A0042", "B10-01-7781", "GB G98/G99 (3)", "3800 W", "37.5 A", "CT direction",
                   "Reversed (corrected in software)", "Passed", "Sonnenschein Solartechnik", "inst-042",
                   "Installed PV capacity 9.86 kWp", "Time zone written Europe/London",
                   "Before setting 1 min 3", "After setting in step with the laptop"):
        assert needle in text, needle
    state = WizardStore().load("PVD8K001A0042")
    assert state.pv_capacity_kwp == 9.86
    assert state.finished and all(state.status(s) == "done" for s in STEP_IDS)
    wiz.close()
    again = make_wizard(qtbot, connected_bridge, auto_prompts)   # opened again: completed, not "stopped"
    first = again.currentPage()
    assert "was completed on" in first.resume_label.text() and "stopped" not in first.resume_label.text()
    assert not first.findChild(QPushButton, "resumeButton").isVisibleTo(first)


def qtbot_button():
    from PySide6.QtCore import Qt
    return Qt.MouseButton.LeftButton


def test_refusal_keeps_the_page_skip_moves_on_and_a_closed_wizard_resumes(sim, connected_bridge, qtbot,
                                                                           auto_prompts):
    dev = sim.device(1)
    sim.call(dev.refuse_writes.__setitem__, "battery_type", 3)
    wiz = make_wizard(qtbot, connected_bridge, auto_prompts)
    for step_id in ("grid", "clock", "export"):
        page = go_next(qtbot, wiz, step_id)
        wiz.currentPage().skip()
    page = wiz.currentPage()
    qtbot.waitUntil(lambda: wiz.currentId() == STEP_IDS.index("battery") and bool(page.infos), timeout=WAIT_MS)
    page = wiz.currentPage()
    qtbot.waitUntil(lambda: bool(page.infos) and not page.busy, timeout=WAIT_MS)
    pick(page, "battery_type", 3)
    pick(page, "battery_max_soc_pct", 90)
    wiz.next()
    results = page.findChild(QLabel, "results_battery")
    qtbot.waitUntil(lambda: "✘ Battery type" in results.text() and not page.busy, timeout=WAIT_MS)
    assert wiz.currentId() == STEP_IDS.index("battery")   # the page stays
    assert "Refused by" not in results.text() and "exception 03" in results.text()
    assert dev.value_of("battery_type") == 1 and dev.value_of("battery_max_soc_pct") == 90
    assert "did not take" in page.status.text()
    wiz.close()
    state = WizardStore().load("PVD8K001A0042")
    assert state.current == "battery" and state.status("grid") == "skipped" and state.status("battery") == "pending"
    assert [a["name"] for a in state.applied if not a["ok"]] == ["battery_type"]

    again = make_wizard(qtbot, connected_bridge, auto_prompts)   # opened again later: resumes at the battery
    first = again.currentPage()
    resume = first.findChild(QPushButton, "resumeButton")
    assert resume.isVisibleTo(first) and "Battery" in first.resume_label.text()
    qtbot.mouseClick(resume, qtbot_button())
    qtbot.waitUntil(lambda: again.currentId() == STEP_IDS.index("battery"), timeout=WAIT_MS)
    page = again.currentPage()
    qtbot.waitUntil(lambda: bool(page.infos) and not page.busy, timeout=WAIT_MS)
    sim.call(dev.refuse_writes.pop, "battery_type")
    pick(page, "battery_type", 3)
    page = go_next(qtbot, again, "meter")
    assert dev.value_of("battery_type") == 3


def test_every_page_says_step_n_of_m(sim, connected_bridge, qtbot, auto_prompts):
    wiz = make_wizard(qtbot, connected_bridge, auto_prompts)
    titles = [wiz.page(i).title() for i in range(len(STEP_IDS))]
    assert titles[0] == "Step 1 of 9: Device and firmware"
    assert titles[2] == "Step 3 of 9: Date, time and time zone"
    assert titles[-1] == "Step 9 of 9: Commissioning report"
    assert all(t.startswith(f"Step {i + 1} of {len(STEP_IDS)}: ") for i, t in enumerate(titles))


def test_a_parallel_slave_is_warned_about_before_a_step_writes_and_cancel_writes_nothing(sim, connected_bridge,
                                                                                         qtbot, auto_prompts):
    dev = sim.device(1)
    sim.call(lambda: dev.write(219, [2]))            # parallel_role = slave (resources/profiles/pvdesk-hybrid.toml)
    wiz = make_wizard(qtbot, connected_bridge, auto_prompts)
    assert wiz.role == "Slave"
    for step_id in ("grid", "clock", "export"):
        go_next(qtbot, wiz, step_id)
        if step_id != "battery":
            wiz.currentPage().skip()
    page = wiz.currentPage()
    qtbot.waitUntil(lambda: wiz.currentId() == STEP_IDS.index("battery") and bool(page.infos), timeout=WAIT_MS)
    page = wiz.currentPage()
    qtbot.waitUntil(lambda: bool(page.infos) and not page.busy, timeout=WAIT_MS)
    before = sim.call(lambda: len(dev.write_log))
    pick(page, "battery_max_soc_pct", 90)
    wiz.next()                                        # the warning's default answer: Cancel
    assert len(auto_prompts.slave_questions) == 1
    question = auto_prompts.slave_questions[0]
    assert "parallel slave" in question and "PVD8K001A0042" in question
    assert "Writing Battery maximum state of charge on the slave" in question
    assert "Not written" in page.status.text() and wiz.currentId() == STEP_IDS.index("battery")
    assert sim.call(lambda: len(dev.write_log)) == before and dev.value_of("battery_max_soc_pct") != 90
    auto_prompts.slave_answer = True                  # the installer insists: written, as on any device
    go_next(qtbot, wiz, "meter")
    assert dev.value_of("battery_max_soc_pct") == 90 and len(auto_prompts.slave_questions) == 2


def test_closing_the_wizard_while_the_device_answers_is_harmless(sim, connected_bridge, qtbot, auto_prompts):
    wiz = CommissioningWizard(connected_bridge, CommissionContext("inst-042", "Sonnenschein Solartechnik"), None)
    wiz.prompts = auto_prompts
    qtbot.addWidget(wiz)
    wiz.show()
    page = wiz.currentPage()
    assert page.busy                 # reading the device's identity
    wiz.close()                      # the installer closes it before the answer: the answer lands on no page
    qtbot.waitUntil(lambda: not page.busy, timeout=WAIT_MS)   # pytest-qt fails the test on an exception in a slot
    assert not wiz.isVisible()
