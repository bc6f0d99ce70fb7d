"""Render the main window's pages into docs/screenshots/ (dashboard, device, faults, registers).

Runs the real window, the real device service and the embedded simulated
inverter (the demo), offscreen at 1400x900. So that the pictures show a
working day whatever the hour the script runs at, the process's clock is
set to 13:00 local time today (time.time is shifted, consistently for the
simulator, the samples and the status bar) and the simulated plant is first
run through the six hours before that at 1 Hz; those values fill the
dashboard's ring buffer as the history a real six-hour session would have
left, then the window connects to the demo inverter and polls live. The
fault log gets two entries from this morning, and one warning is raised live.

Run:  .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--pages dashboard,device,...]
Add "firmware", "customers", "parameters", "site" or "diagnostics" to --pages to render those tabs too
(not written by default: their own authors keep those images). --dialogs also renders the dialogs a
user meets: the confirmations, the login, the consent, the connection doctor, the bus scan and the
commissioning wizard's first step. Every file goes to a temporary data folder,
which the window shows as ~/PVDesk (PVDESK_DISPLAY_DATA_DIR), so no picture shows a temporary path.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HISTORY_S = 6 * 3600
END_S = datetime.now().replace(hour=13, minute=0, second=0, microsecond=0).timestamp()
_real_time = time.time
_OFFSET_S = END_S - _real_time()
time.time = lambda: _real_time() + _OFFSET_S  # before any PVDesk module binds it

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

DEFAULT_PAGES = ("dashboard", "device", "faults", "registers")
TITLES = {"dashboard": "Dashboard", "device": "Device", "faults": "Faults", "registers": "Registers",
          "firmware": "Firmware", "customers": "Customers", "parameters": "Parameters",
          "diagnostics": "Diagnostics", "site": "Site"}
SHOWN_DATA_DIR = "~/PVDesk"   # how the pictures show the (temporary) data folder: desktop.core.paths.display_path


def spin(app: QApplication, seconds: float, until=None) -> None:
    """Run the event loop for ``seconds`` or until ``until()`` is true."""
    deadline = _real_time() + seconds
    while _real_time() < deadline:
        app.processEvents()
        if until is not None and until():
            return
        time.sleep(0.01)
    if until is not None:
        raise TimeoutError(f"gave up waiting after {seconds:.0f} s")


def prepared_simulator():
    """The demo inverter at END_S, its plant already through the last six hours; returns (sim, history)."""
    from protocols.sim.device import FaultEntry
    from protocols.sim.simulator import Simulator
    sim = Simulator(units=(1,), start_s=END_S)
    plant = sim.device(1).plant
    plant.soc_pct = 70.0  # the battery after the night: full by late morning, then the surplus is exported
    history = []
    for t in range(int(END_S) - HISTORY_S, int(END_S)):
        history.append((float(t), dict(plant.step(float(t), 1.0))))
    dev = sim.device(1)
    dev.history.append(FaultEntry(210, int(END_S - 4.3 * 3600), 0))  # meter link lost for a moment
    dev.history.append(FaultEntry(303, int(END_S - 3.1 * 3600), 201))  # export limit changed
    return sim.start(), history


def preload(dashboard, history) -> None:
    """Put the six hours before the live samples into the dashboard's ring buffer."""
    from desktop.ui.device import dashboard_points as dp
    buffer = dashboard.buffer
    t_live, live = buffer.view(copy=True)
    buffer.clear()
    for t, values in history:
        if len(t_live) and t >= t_live[0]:
            break
        buffer.append(t, dp.plot_row({n: dp.Reading(True, values.get(n)) for n in dp.SERIES}))
    for i, t in enumerate(t_live):
        buffer.append(float(t), {n: float(live[n][i]) for n in dp.SERIES})


def render_dialogs(app, window, out: Path, suffix: str) -> list[Path]:
    """The confirmations a user meets before a dangerous action, as shown (not executed)."""
    from PySide6.QtWidgets import QMessageBox

    from desktop.ui.commissioning.widgets import LoginDialog
    from desktop.ui.shell.confirm_dialogs import NewPassphraseDialog, TypeToConfirmDialog, upgrade_question
    box = QMessageBox(QMessageBox.Icon.Warning, "Upgrade the firmware?",
                      upgrade_question("PVD8K001A0042", "control", "1.04.02", "1.05.00", 196_608),
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, window)
    box.setDefaultButton(QMessageBox.StandardButton.No)
    dialogs = {"dialog-upgrade": box,
               "dialog-delete": TypeToConfirmDialog(window, "Delete customer", "Delete this customer with all "
                                                    "sites, documents and consent entries? Its key is destroyed: "
                                                    "it cannot be restored, not even from a backup.",
                                                    "Margarethe Quellenbach", "Delete for good"),
               "dialog-passphrase": NewPassphraseDialog(window),
               "dialog-login": LoginDialog("Grid code", window)}
    dialogs.update(user_dialogs(app, window))
    written = []
    for name, dialog in dialogs.items():
        dialog.show()
        spin(app, 0.5)
        if name == "dialog-wizard":
            page = dialog.currentPage()
            spin(app, 10, lambda page=page: page.loaded and not page.busy)
        path = out / f"{name}{suffix}.png"
        if not dialog.grab().save(str(path)):
            raise OSError(f"could not write {path}")
        dialog.close()
        written.append(path)
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return written


def user_dialogs(app, window) -> dict:
    """The other dialogs of the window, each filled as a user meets it (nothing is run or written)."""
    from desktop.records.consent import CURRENT_POLICY_VERSION
    from desktop.ui.records.consent_dialog import ConsentDialog
    panel = window.connection_panel
    panel.set_kind("tcp")
    panel.host_edit.setText("192.168.178.40")
    doctor = panel.find_inverter()
    doctor.close()
    panel.disconnectRequested.emit()   # the scan needs the link to itself: as after Disconnect
    spin(app, 3, lambda: window.status.state == "disconnected")
    scan = panel.scan_bus()
    scan.close()
    consent = ConsentDialog("cloud_sync", "not asked", None, CURRENT_POLICY_VERSION, "Jana Vogt", window)
    window.connect_demo()
    spin(app, 20, lambda: window.status.state == "connected")
    wizard = window.page("Parameters").open_wizard()
    wizard.close()
    return {"dialog-doctor": doctor, "dialog-scan": scan, "dialog-consent": consent, "dialog-wizard": wizard}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--pages", default=",".join(DEFAULT_PAGES))
    parser.add_argument("--size", default="1400x900", help="screen size in device pixels, e.g. 1366x768")
    parser.add_argument("--scale", type=float, default=1.0, help="display scale factor, e.g. 1.5")
    parser.add_argument("--suffix", default="", help="added to each file name, e.g. -1366x768@1.5")
    parser.add_argument("--dialogs", action="store_true", help="also render the confirmation dialogs")
    args = parser.parse_args()
    os.environ["QT_SCALE_FACTOR"] = f"{args.scale:g}"   # read when the application is made
    width_px, height_px = (int(v) for v in args.size.lower().split("x"))
    scratch = Path(tempfile.mkdtemp(prefix="pvdesk-shots-"))
    if os.environ["QT_QPA_PLATFORM"] == "offscreen":   # a screen of that size, so dialogs fit it as on the laptop
        config = scratch / "offscreen.json"
        config.write_text(json.dumps({"screens": [{"name": "laptop", "x": 0, "y": 0, "width": width_px,
                                                   "height": height_px, "logicalDpi": 96, "dpr": 1}]}))
        os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"
    pages = [p.strip() for p in args.pages.split(",") if p.strip()]
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PVDESK_DATA_DIR", str(scratch / "data"))   # recordings, logs, ... all under it
    # What the pictures show of that folder: a plausible home folder, never the temporary one.
    os.environ.setdefault("PVDESK_DISPLAY_DATA_DIR", SHOWN_DATA_DIR)

    from protocols.links.factory import LinkSpec

    from desktop.app import compose
    from desktop.device.connect import Target
    from desktop.ui.connection.recent import RecentConnections
    from desktop.ui.shell.application import make_application, settle_memory

    app = make_application()
    sim, history = prepared_simulator()
    settings = QSettings(str(scratch / "pvdesk.ini"), QSettings.Format.IniFormat)
    recent = RecentConnections(settings)  # a laptop that has been used on site before
    recent.remember(Target(spec=LinkSpec(kind="serial", serial_port="/dev/ttyUSB0", baud=9600), unit=1))
    recent.remember(Target(spec=LinkSpec(kind="tcp", host="192.168.178.40", port=502), unit=1))
    composed = compose(settings, watch_ports=False)  # every page, as in the app
    composed.service.simulator = sim  # the demo connects to this one instead of starting its own
    window = composed.window
    window.resize(round(width_px / args.scale), round(height_px / args.scale))   # a maximised window
    window.show()
    window.connect_demo()
    dash = window.dashboard
    spin(app, 20, lambda: window.status.state == "connected" and dash.buffer is not None and len(dash.buffer) >= 2)
    preload(dash, history)
    settle_memory()
    sim.inject_fault(221)  # fan fault: a warning while the inverter keeps producing
    spin(app, 20, lambda: any(r.code == 221 and r.state == "Active" for r in window.faults_page.model.rows)
         and any(r.code == 221 for r in window.faults_page.model.history))
    spin(app, 2.5)  # a few more live samples; energy counters (slow points) read
    written = []
    for name in pages:
        window.show_page(TITLES[name])
        if name == "dashboard":
            dash.toolbar.set_window_s(6 * 3600)
            spin(app, 1.2)
            for plot in dash.plots.values():
                plot.show_crosshair_at(END_S - 2.25 * 3600)
        elif name == "registers":
            window.registers_page.set_request("input", 0, 80)
            window.registers_page.read()
            spin(app, 10, lambda: window.registers_page.model.rowCount() == 80)
            window.registers_page.table.selectRow(12)
        elif name == "parameters":
            page = window.page("Parameters")
            page.refresh()
            spin(app, 10, lambda page=page: page.model.rowCount() > 5)
        elif name in ("firmware", "customers", "diagnostics"):
            window.page(TITLES[name])
        spin(app, 1.0)
        path = args.out / f"{name}{args.suffix}.png"
        if not window.grab().save(str(path)):
            raise OSError(f"could not write {path}")
        written.append(path)
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    if args.dialogs:
        written += render_dialogs(app, window, args.out, args.suffix)
    window.close()
    composed.close()   # the service stops the demo simulator it was handed
    return 0


if __name__ == "__main__":
    sys.exit(main())
