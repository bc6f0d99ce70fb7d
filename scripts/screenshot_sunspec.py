"""Render the dashboard and device page for a SunSpec inverter into docs/screenshots/ (dashboard-sunspec.png, ...).

Runs the real window and device service offscreen at 1400x900 against the
simulated SunSpec inverter (models 1, 103, 160, 124, 203 over Modbus TCP on
loopback), found by auto-detection like any device on site: the tiles and
plots are filled through ``Profile.resolve`` from the SunSpec points. The
clock and the six hours of history are prepared as in scripts/screenshots.py
(whose helpers this reuses; importing it sets the process clock to 13:00).

Run:  .venv/bin/python scripts/screenshot_sunspec.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import screenshots as shots  # noqa: E402  (sets the clock before PVDesk modules load)
from PySide6.QtCore import QSettings  # noqa: E402


def sunspec_simulator_with_history():
    """The SunSpec inverter at 13:00 today, its plant run through the six hours before; (sim, history)."""
    from protocols.sim.sunspec_device import sunspec_simulator
    sim = sunspec_simulator(start_s=shots.END_S)
    plant = sim.device(1).plant
    plant.soc_pct = 70.0
    history = [(float(t), dict(plant.step(float(t), 1.0)))
               for t in range(int(shots.END_S) - shots.HISTORY_S, int(shots.END_S))]
    return sim.start(), history


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=shots.ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="pvdesk-shots-"))
    os.environ.setdefault("PVDESK_DATA_DIR", str(scratch / "data"))
    os.environ.setdefault("PVDESK_RECORDINGS_DIR", str(scratch / "recordings"))

    from protocols.links.factory import LinkSpec

    from desktop.app import compose
    from desktop.device.connect import Target
    from desktop.ui.shell.application import make_application, settle_memory

    app = make_application()
    sim, history = sunspec_simulator_with_history()
    settings = QSettings(str(scratch / "pvdesk.ini"), QSettings.Format.IniFormat)
    composed = compose(settings, fast_period_s=1.0, slow_period_s=10.0, watch_ports=False)  # as in the app
    service = composed.service
    window = composed.window
    window.resize(1400, 900)
    window.show()
    host, port = sim.tcp_address
    target = Target(spec=LinkSpec(kind="tcp", host=host, port=port, timeout_s=2.0), unit=1)
    window.connection_panel.set_target(target)
    service.connect(target)
    dash = window.dashboard
    shots.spin(app, 30, lambda: window.status.state == "connected" and dash.buffer is not None
               and len(dash.buffer) >= 2)
    # the history holds only what this device reports: the plant's house load and battery power are
    # not SunSpec points of it (no alias resolves), so they stay gaps, as they do live
    profile = service.device.profile
    history = [(t, {n: (v if profile.resolve(n) else None) for n, v in values.items()}) for t, values in history]
    shots.preload(dash, history)
    settle_memory()
    shots.spin(app, 3.0)
    written = []
    for name, title in (("dashboard-sunspec", "Dashboard"), ("device-sunspec", "Device")):
        window.show_page(title)
        if title == "Dashboard":
            dash.toolbar.set_window_s(6 * 3600)
            shots.spin(app, 1.2)
            for plot in dash.plots.values():
                plot.show_crosshair_at(shots.END_S - 2.25 * 3600)
        shots.spin(app, 1.0)
        path = args.out / f"{name}.png"
        if not window.grab().save(str(path)):
            raise OSError(f"could not write {path}")
        written.append(path)
        print(f"wrote {path}")
    window.close()
    composed.close()
    sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
