"""Connect from the panel over TCP and over RTU on a pseudo-terminal; tiles and the device page show the simulator's values."""

from __future__ import annotations

import pytest
from gui_helpers import connect_tcp, freeze, wait_live
from PySide6.QtCore import Qt

from widgets.value_tile import format_with_unit

pytestmark = pytest.mark.gui


def _tile_matches(window, sim, unit: int) -> None:
    """Tiles equal what the simulated device holds in its registers (clock frozen)."""
    dev = sim.device(unit)
    tiles = window.dashboard.tiles
    assert tiles["pv"].value() == pytest.approx(dev.value_of("pv_power_w"))
    assert tiles["inverter"].value() == pytest.approx(dev.value_of("inverter_power_w"))
    assert tiles["load"].value() == pytest.approx(dev.value_of("load_power_w"))
    assert tiles["grid"].value() == pytest.approx(dev.value_of("grid_power_w"))
    assert tiles["battery"].value() == pytest.approx(dev.value_of("battery_soc_pct"))
    # per-string powers and the battery's direction of flow in the subtitles
    for string in ("pv1", "pv2"):
        shown = f"{string.upper()} {format_with_unit(dev.value_of(f'{string}_power_w'), 'W')}"
        assert shown in tiles["pv"].subtitle_label.text()
    battery_w = dev.value_of("battery_power_w")
    word = "discharging" if battery_w > 20 else "charging" if battery_w < -20 else "idle"
    assert word in tiles["battery"].subtitle_label.text()


def _settled(qtbot, window, sim, unit: int) -> None:
    """Freeze the simulator, then wait for two samples taken after that."""
    freeze(sim)
    seen = []
    window.bridge.sampleReady.connect(seen.append)
    qtbot.waitUntil(lambda: len(seen) >= 2, timeout=5000)
    assert seen[-1].unit == unit


def test_tcp_connect_shows_the_simulators_values(qtbot, window, sim):
    assert window.status.state == "disconnected"
    connect_tcp(qtbot, window, sim, unit=1)
    _settled(qtbot, window, sim, 1)
    _tile_matches(window, sim, 1)
    assert "PVDesk H8K reference hybrid inverter" in window.windowTitle()
    assert window.status.state_label.accessibleDescription().startswith("Connected")
    assert "Latency" in window.status.latency_label.text() and "ms" in window.status.latency_label.text()
    # today's energy from the slow points, with import/export beside it
    energy = window.dashboard.tiles["energy"]
    qtbot.waitUntil(lambda: energy.value() is not None, timeout=5000)
    assert energy.value() == pytest.approx(sim.device(1).value_of("pv_energy_today_kwh"))
    assert "Import" in energy.subtitle_label.text() and "Export" in energy.subtitle_label.text()

    # device page: model, serial and every component's firmware version as the device holds them
    page = window.device_page
    qtbot.waitUntil(lambda: page.table.rowCount() == 5, timeout=5000)
    dev = sim.device(1)
    assert page.identity["serial_number"] == dev.value_of("serial_number")
    assert dev.value_of("model_name") in page.title.text()
    versions = {page.table.item(r, 0).data(Qt.ItemDataRole.UserRole): page.table.item(r, 1).text()
                for r in range(page.table.rowCount())}
    assert versions["control"] == dev.value_of("fw_control_version")
    assert versions["bms"] == dev.value_of("fw_bms_version")

    # the connection was remembered, without anything but link settings
    labels = [window.connection_panel.recent_list.item(i).text()
              for i in range(window.connection_panel.recent_list.count())]
    host, port = sim.tcp_address
    assert labels[0] == f"TCP {host}:{port} unit 1"


def test_rtu_on_a_pseudo_terminal_unit_2(qtbot, window, sim):
    panel = window.connection_panel
    panel.set_kind("serial")
    panel.serial_box.setEditText(sim.rtu_path)
    panel.baud_box.setCurrentIndex(panel.baud_box.findData(19200))
    panel.parity_box.setCurrentIndex(panel.parity_box.findData("N"))  # a pty refuses parity (EINVAL)
    panel.unit_spin.setValue(2)
    qtbot.mouseClick(panel.connect_button, Qt.MouseButton.LeftButton)
    wait_live(qtbot, window)
    target = window.bridge._service.target
    assert (target.spec.kind, target.spec.serial_port, target.spec.baud, target.spec.parity, target.unit) == \
        ("serial", sim.rtu_path, 19200, "N", 2)
    _settled(qtbot, window, sim, 2)
    _tile_matches(window, sim, 2)
    assert window.status.state_label.accessibleDescription().startswith(f"Connected — RTU {sim.rtu_path}")


def test_missing_fields_are_said_in_the_panel_not_sent(qtbot, window):
    panel = window.connection_panel
    panel.set_kind("tcp")
    panel.host_edit.clear()
    qtbot.mouseClick(panel.connect_button, Qt.MouseButton.LeftButton)
    assert panel.message.isVisible()
    assert "IP address or host name" in panel.message.text()
    assert window.bridge._service.target is None and window.status.state == "disconnected"


def test_refused_connection_is_reported_and_the_window_stays_usable(qtbot, window):
    import socket
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    panel = window.connection_panel
    panel.set_kind("tcp")
    panel.host_edit.setText(f"127.0.0.1:{port}")
    qtbot.mouseClick(panel.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.message.isVisible() and "Could not connect" in panel.message.text(),
                    timeout=10_000)
    assert window.status.state == "disconnected"
    assert panel.connect_button.isEnabled()
    assert all(t.is_stale() for t in window.dashboard.tiles.values())
