"""The connection panel offers what the command line's connection arguments offer: stop bits, local echo, the
answer timeout, RTU over TCP and the GoodWe dongle's UDP, and a bus scan. RTU over TCP is proven through socat,
a real serial-server stand-in, bridging a TCP port to the simulator's RTU pseudo-terminal."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
from gui_helpers import wait_live
from PySide6.QtCore import QSettings, Qt

from protocols.sim.simulator import Simulator, demo_start_time

pytestmark = [pytest.mark.gui, pytest.mark.timeout(90)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    """A socket listens on 127.0.0.1:``port`` (from /proc/net/tcp, without connecting to it)."""
    with open("/proc/net/tcp", encoding="ascii") as f:
        rows = [line.split() for line in f.readlines()[1:]]
    return any(r[1] == f"0100007F:{port:04X}" and r[3] == "0A" for r in rows)


def test_serial_line_options_reach_the_link_and_survive_a_restart(window, tmp_path):
    panel = window.connection_panel
    panel.set_kind("serial")
    forms = panel.forms
    forms.serial_box.setEditText("/dev/ttyUSB7")
    forms.baud_box.setCurrentIndex(forms.baud_box.findData(19200))
    forms.parity_box.setCurrentIndex(forms.parity_box.findData("E"))
    forms.stopbits_box.setCurrentIndex(forms.stopbits_box.findData(2))
    forms.echo_check.setChecked(True)
    forms.timeout_spin.setValue(2.5)
    spec = panel.target().spec
    assert (spec.kind, spec.serial_port, spec.baud, spec.parity, spec.stopbits, spec.local_echo, spec.timeout_s) == \
        ("serial", "/dev/ttyUSB7", 19200, "E", 2, True, 2.5)
    assert spec.label() == "RTU /dev/ttyUSB7 19200 8E2"

    settings = QSettings(str(tmp_path / "restart.ini"), QSettings.Format.IniFormat)
    forms.save(settings)
    settings.sync()
    forms.stopbits_box.setCurrentIndex(0)
    forms.echo_check.setChecked(False)
    forms.timeout_spin.setValue(1.0)
    forms.restore(QSettings(str(tmp_path / "restart.ini"), QSettings.Format.IniFormat))
    again = panel.target().spec
    assert (again.stopbits, again.local_echo, again.timeout_s) == (2, True, 2.5)


def test_framing_decides_the_link_kind_and_its_default_port(window):
    panel = window.connection_panel
    panel.set_kind("tcp")
    forms = panel.forms
    panel.host_edit.setText("192.168.1.77")
    assert panel.target().spec.kind == "tcp" and panel.target().spec.port == 502
    forms.framing_box.setCurrentIndex(forms.framing_box.findData("udp"))
    spec = panel.target().spec
    assert (spec.kind, spec.host, spec.port) == ("udp", "192.168.1.77", 8899)   # the dongle's port follows
    forms.framing_box.setCurrentIndex(forms.framing_box.findData("rtu-tcp"))
    assert panel.target().spec.kind == "rtu-tcp" and panel.target().spec.port == 502
    forms.port_spin.setValue(4196)                                                # a serial server's own port
    forms.framing_box.setCurrentIndex(forms.framing_box.findData("tcp"))
    assert panel.target().spec.port == 4196                                       # typed: kept
    # a recent entry of another framing fills the form with it
    forms.framing_box.setCurrentIndex(forms.framing_box.findData("rtu-tcp"))
    target = panel.target()
    panel.set_kind("serial")
    panel.set_target(target)
    assert panel.kind() == "tcp" and forms.network_kind() == "rtu-tcp" and forms.port_spin.value() == 4196


@pytest.mark.skipif(shutil.which("socat") is None, reason="socat is a Debian package scripts/bootstrap.sh installs")
def test_rtu_over_tcp_reads_the_inverter_behind_a_serial_server(qtbot, window):
    with Simulator(units=(1,), rtu=True, tcp=False, start_s=demo_start_time()) as sim:
        port = _free_port()
        bridge = subprocess.Popen(["socat", f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork",
                                   f"FILE:{sim.pty.path},raw,echo=0"], stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and not _listening(port):   # until socat listens (no probe
                assert bridge.poll() is None, "socat exited"               # connection: it would use the pty)
                time.sleep(0.05)
            assert _listening(port), "socat did not listen within 15 s"
            panel = window.connection_panel
            panel.set_kind("tcp")
            panel.host_edit.setText(f"127.0.0.1:{port}")
            panel.forms.framing_box.setCurrentIndex(panel.forms.framing_box.findData("rtu-tcp"))
            qtbot.mouseClick(panel.connect_button, Qt.MouseButton.LeftButton)
            wait_live(qtbot, window, 20_000)
            assert window.bridge._service.target.spec.kind == "rtu-tcp"
            assert "RTU over TCP" in window.status.detail_label.full_text()
        finally:
            window.connection_panel.disconnectRequested.emit()
            bridge.terminate()
            bridge.wait(5)


def test_bus_scan_lists_every_unit_and_connects_the_chosen_one(qtbot, window):
    with Simulator(units=(1, 2, 3), start_s=demo_start_time()) as sim:
        panel = window.connection_panel
        panel.set_kind("tcp")
        panel.host_edit.setText(f"127.0.0.1:{sim.tcp.port}")
        assert panel.scan_button.isEnabled()
        dialog = panel.scan_bus(per_unit_s=0.2)
        dialog.all_units.setChecked(False)      # the vendors' usual ids only (1, 2, 3, 126, 247, ...)
        seen = []
        dialog.progress.valueChanged.connect(seen.append)
        dialog.start()
        qtbot.waitUntil(lambda: dialog.found is not None, timeout=30_000)
        assert [f.unit for f in dialog.found] == [1, 2, 3]
        assert all(f.profile == "pvdesk-hybrid" for f in dialog.found)
        assert dialog.result_list.count() == 3 and "Unit 2:" in dialog.result_list.item(1).text()
        assert seen == sorted(seen) and seen[-1] == 1000
        assert dialog.checked_units() == [1, 2, 3]
        dialog.result_list.setCurrentRow(1)
        qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
        wait_live(qtbot, window, 15_000)
        assert window.bridge._service.target.unit == 2 and panel.unit_spin.value() == 2
        assert not panel.scan_button.isEnabled()   # the live link holds the bus: disconnect first
        window.connection_panel.disconnectRequested.emit()


def test_an_empty_network_scan_gives_network_advice_not_rs485_advice(qtbot, window):
    with Simulator(units=(5,), start_s=demo_start_time()) as sim:
        panel = window.connection_panel
        panel.set_kind("tcp")
        panel.host_edit.setText(f"127.0.0.1:{sim.tcp.port}")
        dialog = panel.scan_bus(per_unit_s=0.1)
        dialog.all_units.setChecked(False)      # unit 5 is not among the vendors' usual ids
        dialog.start()
        qtbot.waitUntil(lambda: dialog.found is not None, timeout=30_000)
        assert dialog.found == [] and dialog.result_list.count() == 0
        text = dialog.status.text()
        assert "Modbus is switched on" in text and "A and B" not in text and "baud" not in text
        assert not dialog.use_button.isEnabled()
