"""The window around the pages: settings kept, keyboard and accessibility, pages that cannot start, the entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from gui_helpers import connect_tcp
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QListWidget

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parents[2]


def test_geometry_page_form_and_recent_connections_are_kept(qtbot, make_window, sim, settings):
    window, _bridge, _service = make_window()
    connect_tcp(qtbot, window, sim, unit=2)
    window.resize(1200, 800)
    window.show_page("Faults")
    window.close()

    again, _b, _s = make_window(settings=QSettings(settings.fileName(), QSettings.Format.IniFormat))
    host, port = sim.tcp_address
    panel = again.connection_panel
    assert (panel.kind(), panel.host_edit.text(), panel.unit_spin.value()) == ("tcp", f"{host}:{port}", 2)
    assert panel.recent_list.item(0).text() == f"TCP {host}:{port} unit 2"
    assert again.tabs.tabText(again.tabs.currentIndex()) == "Faults"
    saved = QSettings(settings.fileName(), QSettings.Format.IniFormat).value("connection/recent")
    assert "unit" in saved and "serial_number" not in saved and "PVD8K" not in saved  # no device or customer data


def test_selecting_a_recent_entry_fills_the_form_and_activating_connects(qtbot, make_window, sim):
    window, _bridge, service = make_window()
    connect_tcp(qtbot, window, sim)
    panel = window.connection_panel
    panel.set_kind("demo")
    panel.recent_list.setCurrentRow(0)
    assert (panel.kind(), panel.host_edit.text(), panel.port_spin.value()) == ("tcp", *sim.tcp_address)
    window.disconnect_action.trigger()
    qtbot.waitUntil(lambda: window.status.state == "disconnected", timeout=5000)
    panel.recent_list.itemActivated.emit(panel.recent_list.item(0))
    qtbot.waitUntil(lambda: window.status.state == "connected", timeout=10_000)
    assert service.target.spec.port == sim.tcp_address[1]


def test_every_control_has_an_accessible_name_and_pages_have_shortcuts(qtbot, window):
    panel = window.connection_panel
    for kind in (QComboBox, QLineEdit, QAbstractSpinBox, QListWidget):
        for w in panel.findChildren(kind):
            if w.parent() is not None and isinstance(w.parent(), (QComboBox, QAbstractSpinBox)):
                continue  # the line edit inside an editable combo or spin box
            assert w.accessibleName(), f"{type(w).__name__} without an accessible name"
    for page in (window.dashboard, window.faults_page, window.registers_page):
        for w in page.findChildren(QAbstractButton):
            if not w.focusPolicy() & Qt.FocusPolicy.TabFocus:
                continue  # a line edit's clear button, a table's corner button
            assert w.text() or w.accessibleName() or w.toolTip(), f"unnamed button on {page.objectName()}"
    # Tab order through the connection form, then Ctrl+<n> to the pages
    panel.set_kind("tcp")
    order, w = [], panel.kind_box
    for _ in range(8):
        order.append(w)
        w = w.nextInFocusChain()
        while not (w.focusPolicy() & Qt.FocusPolicy.TabFocus) or not w.isVisibleTo(panel):
            w = w.nextInFocusChain()
    assert order.index(panel.host_edit) < order.index(panel.port_spin) < order.index(panel.unit_spin)
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is window.faults_page
    qtbot.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is window.registers_page


def test_add_page_for_other_authors(qtbot, window):
    from PySide6.QtWidgets import QLabel
    count = window.tabs.count()
    index = window.add_page("Diagnostics", QLabel("diagnostics"))
    assert index == count and window.page("Diagnostics").text() == "diagnostics"
    assert any(a.text().endswith("Diagnostics") for a in window.view_menu.actions())


def test_customers_page_without_a_keyring_explains_what_to_do(qtbot, window, monkeypatch):
    import keyring
    from keyring.backends import fail
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
        window.show_page("Customers")
        page = window.page("Customers")
    finally:
        keyring.set_keyring(previous)
    assert type(page).__name__ == "NoticePage"
    assert "keyring" in page.heading.text().lower()
    assert "passphrase" in page.body.text() and "GNOME Keyring" in page.body.text()
    assert window.tabs.count() >= 5  # the rest of the window is still there

    # the way out: open the records with a passphrase instead (a new store: typed twice in its dialog,
    # tests/gui/test_confirm_dialogs.py; cancelling it changes nothing)
    from desktop.ui.shell import confirm_dialogs
    answers = iter([None, "correct horse battery"])
    monkeypatch.setattr(confirm_dialogs, "ask_new_passphrase", lambda parent: next(answers))
    qtbot.mouseClick(page.action_button, Qt.MouseButton.LeftButton)
    assert window.page("Customers") is page
    qtbot.mouseClick(page.action_button, Qt.MouseButton.LeftButton)
    customers = window.page("Customers")
    assert type(customers).__name__ == "CustomersPage"
    assert type(customers.service.secrets).__name__ == "PassphraseSecrets"  # closed with the window


def test_no_display_says_so_in_one_line_and_exits_2(monkeypatch, capsys):
    from desktop import app
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(app.sys, "platform", "linux")
    assert app.run(demo=True) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no display" in err[0]
    assert "pvdesk monitor --demo" in err[0] and "xvfb-run pvdesk --demo" in err[0]


def _pvdesk(args, probe, tmp_path, timeout_s=30):
    """The app as installed: the platform's folders (under tmp_path), no PVDESK_DATA_DIR."""
    env = {k: v for k, v in os.environ.items() if k not in ("PVDESK_DATA_DIR", "PVDESK_LOG_DIR")}
    env.update(QT_QPA_PLATFORM="offscreen", PVDESK_STARTUP_PROBE=probe, HOME=str(tmp_path),
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"),
               XDG_STATE_HOME=str(tmp_path / "state"), XDG_CACHE_HOME=str(tmp_path / "cache"))
    return subprocess.run([sys.executable, "-m", "desktop.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout_s)


def test_pvdesk_opens_the_window_and_pvdesk_demo_opens_it_connected(tmp_path):
    shown = _pvdesk([], "1", tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "startup-probe shown_after_s=" in shown.stdout
    demo = _pvdesk(["--demo"], "sample", tmp_path)
    assert demo.returncode == 0, demo.stderr
    line = next(x for x in demo.stdout.splitlines() if x.startswith("startup-probe sample_after_s="))
    assert float(line.split("pv_power_w=")[1]) > 0  # live values from the simulated inverter, late morning
    assert (tmp_path / "config" / "PVDesk" / "PVDesk.conf").exists()  # QSettings under the app's name


def test_serial_ports_follow_what_is_plugged_in(qtbot, make_window):
    from desktop.ui.connection.serial_ports import PortInfo, PortWatcher
    window = make_window(watch_ports=False)[0]  # this test's watcher sees a scripted bus
    plugged = [[], [PortInfo("/dev/ttyUSB0", "USB-RS485 Cable", "0403:6001")]]
    watcher = PortWatcher(interval_ms=50, scanner=lambda: plugged[0])
    panel = window.connection_panel
    watcher.portsChanged.connect(panel.forms.set_ports)
    watcher.start()
    qtbot.waitUntil(lambda: watcher.ports == [], timeout=2000)
    assert panel.serial_box.count() == 0
    plugged[0] = plugged[1]  # the adapter is plugged in
    qtbot.waitUntil(lambda: panel.serial_box.count() == 1, timeout=2000)
    assert panel.serial_box.itemText(0) == "/dev/ttyUSB0 — USB-RS485 Cable (0403:6001)"
    panel.set_kind("serial")
    assert panel.target().spec.serial_port == "/dev/ttyUSB0"
    watcher.stop()


def test_profile_override_is_used_instead_of_detection(qtbot, window, sim):
    from gui_helpers import wait_live
    panel = window.connection_panel
    panel.set_kind("tcp")
    panel.host_edit.setText("{}:{}".format(*sim.tcp_address))
    panel.profile_box.setCurrentIndex(panel.profile_box.findData("goodwe-et"))
    qtbot.mouseClick(panel.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.status.state == "connected" and panel.connect_button.isEnabled(), timeout=10_000)
    assert window.bridge._service.device.profile.name == "goodwe-et"
    assert window.bridge._service.target.profile == "goodwe-et"
    panel.profile_box.setCurrentIndex(0)  # back to auto-detect, at once (identity may still be being read)
    qtbot.mouseClick(panel.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.bridge._service.device is not None
                    and window.bridge._service.device.profile.name == "pvdesk-hybrid", timeout=10_000)
    wait_live(qtbot, window)

    async def pollers_running():
        import asyncio
        return sum(1 for t in asyncio.all_tasks() if "Poller.run" in repr(t.get_coro()) and not t.done())
    assert window.bridge._service.submit(pollers_running).result(5) == 1  # the first link left nothing behind
