"""The window over Bluetooth LE (fake bleak backend wired to the simulator) and a Solarman V5 logger.

Scan fills the Bluetooth list with name, address and signal; connecting from
the panel gives live tiles, the faults page shows an injected fault with its
raw code, and the registers page reads raw registers -- as over any link.
"""

from __future__ import annotations

import pytest
from gui_helpers import freeze, wait_live
from PySide6.QtCore import Qt

from protocols.sim.simulator import Simulator, demo_start_time

pytestmark = pytest.mark.gui


@pytest.fixture
def wsim():
    simulator = Simulator(units=(1,), v5=True, start_s=demo_start_time()).start()
    yield simulator
    simulator.stop()


@pytest.fixture
def fake_radio(wsim, monkeypatch):
    from protocols.links import ble
    radio = wsim.ble_radio()
    monkeypatch.setattr(ble, "DEFAULT_BACKEND", radio.backend)
    return radio


def _values_and_faults(qtbot, window, sim):
    freeze(sim)
    seen = []
    window.bridge.sampleReady.connect(seen.append)
    qtbot.waitUntil(lambda: len(seen) >= 2, timeout=8000)
    dev = sim.device(1)
    tiles = window.dashboard.tiles
    assert tiles["pv"].value() == pytest.approx(dev.value_of("pv_power_w"))
    assert tiles["grid"].value() == pytest.approx(dev.value_of("grid_power_w"))
    assert tiles["battery"].value() == pytest.approx(dev.value_of("battery_soc_pct"))

    sim.inject_fault(204)
    page = window.faults_page
    qtbot.waitUntil(lambda: any(r.code == 204 and r.state == "Active" for r in page.model.rows), timeout=8000)
    row = next(r for r in page.model.rows if r.code == 204)
    assert row.text == "Battery over temperature" and row.severity == "error"

    regs = window.registers_page
    regs.set_request("holding", 1, 8)
    regs.read()
    qtbot.waitUntil(lambda: regs.model.rowCount() == 8, timeout=8000)
    raw = [regs.model.rows[i].raw for i in range(8)]
    assert bytes(b for r in raw for b in r.to_bytes(2, "big")).rstrip(b"\0") == b"PVD-H8K"


def test_bluetooth_scan_connect_values_faults_registers(qtbot, window, wsim, fake_radio):
    panel = window.connection_panel
    panel.set_kind("ble")
    form = panel.forms.ble_form
    form.scan(timeout_s=1.0)
    qtbot.waitUntil(lambda: form.device_box.count() == 1, timeout=8000)
    text = form.device_box.itemText(0)
    assert fake_radio.name in text and "dBm" in text
    assert fake_radio.address in form.status.text() and "pvdesk-hybrid" in form.status.text()
    assert form.address() == fake_radio.address
    qtbot.mouseClick(panel.connect_button, Qt.MouseButton.LeftButton)
    wait_live(qtbot, window, 15_000)
    assert window.connection_panel.recent_list.item(0).text().startswith("Bluetooth ")
    _values_and_faults(qtbot, window, wsim)


def test_bluetooth_without_adapter_says_what_to_do(qtbot, window, wsim, fake_radio):
    fake_radio.inject.adapter = "missing"
    panel = window.connection_panel
    panel.set_kind("ble")
    form = panel.forms.ble_form
    form.scan(timeout_s=0.5)
    qtbot.waitUntil(lambda: form.scan_button.isEnabled() and "Scanning" not in form.status.text(), timeout=8000)
    assert "Bluetooth" in form.status.text() and form.device_box.count() == 0


def test_wifi_logger_discover_connect_values_faults_registers(qtbot, window, wsim):
    panel = window.connection_panel
    panel.set_kind("v5")
    form = panel.forms.v5_form
    host, port = wsim.v5_address
    form.port_spin.setValue(port)
    form.discover(address="127.0.0.1", timeout_s=1.0, port=wsim.v5.discovery_port)  # loopback only
    qtbot.waitUntil(lambda: form.discover_button.isEnabled() and form.host_edit.text() == host, timeout=8000)
    assert form.serial_edit.text() == str(wsim.v5.logger_serial) and "Found" in form.status.text()
    form.serial_edit.setText("")
    qtbot.mouseClick(panel.connect_button, Qt.MouseButton.LeftButton)
    assert "serial number" in panel.message.text()  # says what is missing, connects nothing
    form.serial_edit.setText(str(wsim.v5.logger_serial))
    qtbot.mouseClick(panel.connect_button, Qt.MouseButton.LeftButton)
    wait_live(qtbot, window, 15_000)
    assert window.connection_panel.recent_list.item(0).text().startswith("Wi-Fi logger ")
    _values_and_faults(qtbot, window, wsim)
