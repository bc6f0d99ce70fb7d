"""Render the connection doctor and the site page into docs/screenshots/ (doctor.png, site.png).

Runs the real window, device service and simulators offscreen at 1400x900:
the doctor searches a loopback host whose inverter answers at unit 247 on an
unusual port (a refused port beside it), and the site page holds three units
on one pseudo-terminal bus and one over TCP.

Run:  .venv/bin/python scripts/screenshots_site.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication


def spin(app, seconds: float, until=None) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        app.processEvents()
        if until is not None and until():
            return
        time.sleep(0.01)
    if until is not None:
        raise TimeoutError(f"gave up waiting after {seconds:.0f} s")


def free_port(kind=socket.SOCK_STREAM) -> int:
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    from protocols.doctor import DoctorOptions
    from protocols.links.factory import LinkSpec
    from protocols.sim.simulator import Simulator, demo_start_time

    from desktop.device.connect import Target
    from desktop.device.service import DeviceService
    from desktop.ui.shell.bridge import Bridge
    from desktop.ui.shell.main_window import MainWindow
    from desktop.ui.site.overview_page import install_site

    app = QApplication.instance() or QApplication([])
    tmp = tempfile.mkdtemp()
    service = DeviceService()
    bridge = Bridge(service)
    window = MainWindow(bridge, settings=QSettings(os.path.join(tmp, "s.ini"), QSettings.Format.IniFormat),
                        watch_ports=False)
    window.resize(1400, 900)
    window.show()
    install_site(window, service, runner=bridge)
    target_sim = Simulator(units=(247,), start_s=demo_start_time()).start()
    bus = Simulator(units=(1, 2, 3), tcp=False, rtu=True, start_s=demo_start_time(), seed=4).start()
    bus.call(lambda: bus.device(1).write(219, [1]))   # a parallel pair: unit 1 master, unit 2 slave
    bus.call(lambda: bus.device(2).write(219, [2]))
    lan = Simulator(units=(7,), start_s=demo_start_time(), seed=5).start()
    try:
        panel = window.connection_panel
        panel.set_kind("tcp")
        panel.host_edit.setText(f"127.0.0.1:{target_sim.tcp.port}")
        options = DoctorOptions(ports=(free_port(), target_sim.tcp.port), only_ports=True,
                                v5_discovery_port=free_port(socket.SOCK_DGRAM), v5_port=free_port(),
                                udp_port=free_port(socket.SOCK_DGRAM))
        dialog = panel.find_inverter(options)
        dialog.resize(760, 620)
        dialog.start()
        spin(app, 30, lambda: dialog.report is not None)
        spin(app, 0.3)
        dialog.grab().save(str(args.out / "doctor.png"))
        dialog.close()
        page = window.page("Site")
        window.show_page("Site")
        panel.set_target(Target(spec=LinkSpec(kind="serial", serial_port=bus.rtu_path)))
        page.units_edit.setText("1-3")
        page.add_from_panel()
        host, port = lan.tcp_address
        panel.set_target(Target(spec=LinkSpec(kind="tcp", host=host, port=port)))
        page.units_edit.setText("7")
        page.add_from_panel()
        spin(app, 30, lambda: page.table.rowCount() == 5 and all(page.cell(r, "PV") != "n/a" for r in range(5)))
        spin(app, 10, lambda: all(d["role"] for d in window.site.snapshot()))
        page.refresh()
        page.tree.select_keys([d["key"] for d in window.site.snapshot()][:3])
        page.message.setText("")
        spin(app, 1.0)
        window.grab().save(str(args.out / "site.png"))
        window.site.close().result(10)
    finally:
        window.close()
        bridge.detach()
        service.shutdown()
        for s in (target_sim, bus, lan):
            s.stop()
    print(f"wrote {args.out / 'doctor.png'} and {args.out / 'site.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
