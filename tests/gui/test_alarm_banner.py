"""An active alarm cannot be missed: a banner above every page, the Faults tab's badge, the status bar, the tile."""

from __future__ import annotations

import pytest
from gui_helpers import connect_tcp

pytestmark = pytest.mark.gui


def test_an_injected_error_shows_on_every_page_with_code_since_cause_and_remedy(qtbot, window, sim):
    connect_tcp(qtbot, window, sim)
    faults_index = window.tabs.indexOf(window.faults_page)
    assert window.tabs.tabText(faults_index) == "Faults" and window.alarm_banner.isHidden()
    sim.inject_fault(101)  # Grid overvoltage: the inverter stops feeding in
    banner = window.alarm_banner
    qtbot.waitUntil(banner.isVisible, timeout=5000)
    for title in ("Dashboard", "Device", "Registers"):   # the banner is above the tabs, not on one page
        window.show_page(title)
        assert banner.isVisible()
    text = banner.lines.text()
    assert "ERROR 101: Grid overvoltage" in text and "(laptop clock)" in text
    assert "Cause: The grid voltage is above" in banner.advice.text()
    assert "What to do: Measure the voltage" in banner.advice.text()
    assert banner.severity == "error"
    assert window.tabs.tabText(faults_index) == "Faults (1)"
    assert window.status.alarms_label.isVisible() and window.status.alarms_label.text() == "⚠ 1 alarm"
    grid, inverter, battery = (window.dashboard.tiles[k] for k in ("grid", "inverter", "battery"))
    assert grid.alarm() == "Error 101 Grid overvoltage" and inverter.alarm() == "Error 101 Grid overvoltage"
    assert battery.alarm() is None

    sim.inject_fault(221)  # a warning joins; the error stays the worst
    qtbot.waitUntil(lambda: window.tabs.tabText(faults_index) == "Faults (2)", timeout=5000)
    assert banner.lines.text().splitlines()[0].startswith("ERROR 101") and banner.severity == "error"
    assert window.status.alarms_label.text() == "⚠ 2 alarms"

    sim.clear_faults()
    qtbot.waitUntil(banner.isHidden, timeout=5000)
    assert window.tabs.tabText(faults_index) == "Faults" and not window.status.alarms_label.isVisible()
    assert grid.alarm() is None and inverter.alarm() is None
