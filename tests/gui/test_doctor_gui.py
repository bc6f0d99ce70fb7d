"""'Find my inverter...' in the connection panel: the doctor runs through the bridge, shows progress and the
diagnosis, and 'Connect with what was found' connects the window."""

from __future__ import annotations

import pytest
from gui_helpers import wait_live
from PySide6.QtCore import Qt

from protocols.sim.simulator import Simulator, demo_start_time

from tests.doctor.doctor_helpers import free_port, host_options

pytestmark = [pytest.mark.gui, pytest.mark.timeout(90)]


def test_find_my_inverter_finds_unit_247_and_connects_with_it(qtbot, make_window):
    window, _bridge, service = make_window()
    with Simulator(units=(247,), start_s=demo_start_time()) as sim:
        panel = window.connection_panel
        panel.set_kind("tcp")
        panel.host_edit.setText(f"127.0.0.1:{sim.tcp.port}")
        options = host_options(sim, ports=(free_port(),))
        dialog = panel.find_inverter(options)
        assert dialog.target_edit.text() == f"127.0.0.1:{sim.tcp.port}"
        progress = []
        dialog.progress.valueChanged.connect(progress.append)
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.report is not None, timeout=30_000)
        assert progress and progress == sorted(progress) and progress[-1] == 1000
        assert "unit 247" in dialog.diagnosis.text() and "--unit 247" in dialog.diagnosis.text()
        assert "refused" in dialog.log_view.toPlainText()
        assert dialog.connect_button.isEnabled()
        qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
        wait_live(qtbot, window, 15_000)
        assert service.target.unit == 247 and service.target.spec.port == sim.tcp.port
        assert panel.unit_spin.value() == 247
    window.close()
    assert not dialog.isVisible()  # the doctor goes with the window, not left on screen over what opens next


def test_a_failed_connection_offers_the_doctor_and_nothing_found_says_why(qtbot, make_window):
    window, _bridge, _service = make_window()
    panel = window.connection_panel
    panel.set_kind("tcp")
    port = free_port()
    panel.host_edit.setText(f"127.0.0.1:{port}")
    qtbot.mouseClick(panel.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.message.isVisible() and "Find my inverter" in panel.message.text(),
                    timeout=15_000)
    options = host_options(None, ports=(port,))
    dialog = panel.find_inverter(options)
    dialog.start()
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=30_000)
    assert "switch Modbus TCP on" in dialog.diagnosis.text()
    assert not dialog.connect_button.isEnabled() and dialog.found_target() is None
