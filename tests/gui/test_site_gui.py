"""The site page: three simulated units on one pseudo-terminal bus and one over TCP open at once; the tree
lists each under its link, and the overview shows each device's values and the site totals."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from protocols.links.factory import LinkSpec
from protocols.sim.simulator import Simulator, demo_start_time

from desktop.device.connect import Target
from desktop.ui.site.tree import STATE_COL
from tests.site.site_helpers import frozen

pytestmark = [pytest.mark.gui, pytest.mark.timeout(90)]



def _watts(text: str) -> float:
    assert text.endswith(" W"), text
    return float(text[:-2])


def test_three_units_on_a_bus_and_one_over_tcp_with_totals(qtbot, make_window):
    window, _bridge, _service = make_window()   # the composition root puts the Site page in the window
    page = window.page("Site")
    window.show_page("Site")
    panel = window.connection_panel
    with Simulator(units=(1, 2, 3), tcp=False, rtu=True, start_s=demo_start_time(), seed=4) as bus, \
            Simulator(units=(7,), start_s=demo_start_time(), seed=5) as lan:
        frozen(bus)
        frozen(lan)
        try:
            panel.set_target(Target(spec=LinkSpec(kind="serial", serial_port=bus.rtu_path)))
            page.units_edit.setText("1-3")
            qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
            host, port = lan.tcp_address
            panel.set_target(Target(spec=LinkSpec(kind="tcp", host=host, port=port)))
            page.units_edit.setText("7")
            qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: page.table.rowCount() == 5
                            and all(page.cell(r, "PV") != "n/a" for r in range(5)), timeout=30_000)
            assert sorted(page.tree.links()) == sorted([f"RTU {bus.rtu_path} 9600 8N1", f"TCP {host}:{port}"])
            rows = {page.cell(r, "Device"): r for r in range(4)}
            expected = {f"RTU {bus.rtu_path} 9600 8N1 unit {u}": bus.device(u) for u in (1, 2, 3)}
            expected[f"TCP {host}:{port} unit 7"] = lan.device(7)
            assert set(rows) == set(expected)
            for key, dev in expected.items():
                assert _watts(page.cell(rows[key], "PV")) == pytest.approx(dev.value_of("pv_power_w"), abs=1)
                item = page.tree.unit_item(key)
                assert item.text(2) == dev.identity["serial_number"] and item.text(STATE_COL) == "connected"
            pv_total = _watts(page.cell(4, "PV"))
            assert pv_total == pytest.approx(sum(d.value_of("pv_power_w") for d in expected.values()), abs=2)
            assert page.cell(4, "Device") == "Site total (4 of 4 live)"
            assert page.cell(4, "Grid (+ import)") == "n/a"       # four meters may be one: no guessed sum
        finally:
            window.site.close().result(10)


def test_the_doctors_findings_go_to_the_site_tree(qtbot, make_window):
    from tests.doctor.doctor_helpers import host_options
    window, _bridge, _service = make_window()
    page = window.page("Site")
    with Simulator(units=(1, 2, 3), start_s=demo_start_time()) as gw:
        try:
            dialog = window.connection_panel.find_inverter(host_options(gw, identify=False))
            dialog.target_edit.setText("127.0.0.1")
            dialog.start()
            qtbot.waitUntil(lambda: dialog.report is not None, timeout=30_000)
            assert dialog.site_button.isEnabled()
            qtbot.mouseClick(dialog.site_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: page.table.rowCount() == 4 and all(
                page.cell(r, "PV") != "n/a" for r in range(4)), timeout=30_000)
            host, port = gw.tcp_address
            assert page.tree.links() == [f"TCP {host}:{port}"]
            assert [page.cell(r, "Device") for r in range(3)] == [f"TCP {host}:{port} unit {u}" for u in (1, 2, 3)]
        finally:
            window.site.close().result(10)
