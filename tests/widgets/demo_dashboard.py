"""A demo composition of the dashboard widgets over a synthetic day.

Role: shows the tiles, the toolbar and two linked plots together the way the
live dashboard uses them, fed by a made-up but plausible day of a hybrid
inverter (sun with clouds, a house load with a kettle, a battery, a grid
meter). The widget tests render it; run it to refresh the screenshot:

    .venv/bin/python -m tests.widgets.demo_dashboard docs/screenshots/widgets-demo.png [--dark]   (from the repository root)

GUI thread only, like the widgets it composes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QGridLayout, QVBoxLayout, QWidget

from widgets.plot_toolbar import PlotToolbar
from widgets.ring_buffer import RingBuffer
from widgets.time_plot import TimePlot
from widgets.value_tile import ValueTile, flow_subtitle, format_with_unit

SERIES = ["pv_power_w", "load_power_w", "battery_power_w", "grid_power_w", "battery_soc_pct"]
LABELS = {"pv_power_w": "PV", "load_power_w": "House load", "battery_power_w": "Battery (+ charging)",
          "grid_power_w": "Grid (+ import)", "battery_soc_pct": "State of charge"}
END_S = 1_763_820_600.0  # 2025-11-22 14:10 UTC


def synthetic_day(seconds: int = 86_400, seed: int = 4) -> RingBuffer:
    """A day at 1 Hz ending at END_S; hours are UTC hours of the day."""
    rng = np.random.default_rng(seed)
    t = END_S - seconds + 1 + np.arange(seconds, dtype=np.float64)
    hour = (t % 86_400) / 3600.0
    sun = np.clip(np.sin(np.pi * (hour - 7.0) / 10.0), 0, None) ** 1.4
    clouds = 1 - 0.55 * (np.convolve(rng.random(seconds) < 0.0009, np.ones(420), "same") > 0)
    pv = 5200 * sun * clouds * (1 + 0.006 * rng.standard_normal(seconds))
    load = 320 + 500 * np.exp(-((hour - 7.5) ** 2) / 0.6) + 900 * np.exp(-((hour - 19) ** 2) / 2.5)
    load = load + 25 * rng.standard_normal(seconds)
    for start in rng.integers(0, seconds - 200, 9):  # kettle, oven, washing machine
        load[start : start + rng.integers(60, 900)] += rng.choice([1800, 2200, 1200])
    soc = np.empty(seconds)
    battery = np.empty(seconds)
    level = 62.0  # %, 10 kWh battery
    for k in range(seconds):
        surplus = pv[k] - load[k]
        power = np.clip(surplus, -3000, 2500)
        if (power > 0 and level >= 100) or (power < 0 and level <= 10):
            power = 0.0
        level = min(100.0, max(10.0, level + power / 10_000 / 3600 * 100))
        battery[k], soc[k] = power, level
    grid = load + battery - pv
    buffer = RingBuffer(86_400, SERIES)
    for k in range(seconds):
        buffer.append(t[k], {"pv_power_w": pv[k], "load_power_w": load[k], "battery_power_w": battery[k],
                             "grid_power_w": grid[k], "battery_soc_pct": soc[k]})
    return buffer


def build_demo(buffer: RingBuffer) -> QWidget:
    page = QWidget()
    page.setWindowTitle("PVDesk — live")
    _, now = buffer.last()
    t_all, ys = buffer.view()
    tiles = [ValueTile("PV power", "W"), ValueTile("House load", "W"), ValueTile("Battery", "%"),
             ValueTile("Grid", "W"), ValueTile("Energy today", "kWh"), ValueTile("Heatsink", "°C"),
             ValueTile("Insulation resistance", "kΩ")]
    pv = now["pv_power_w"]
    strings = f"PV1 {format_with_unit(pv * 0.56, 'W')} · PV2 {format_with_unit(pv * 0.44, 'W')}"
    tiles[0].set_value(pv, subtitle=strings)
    tiles[1].set_value(now["load_power_w"], subtitle="meter L1 · L2 · L3")
    tiles[2].set_value(now["battery_soc_pct"], subtitle=flow_subtitle(now["battery_power_w"], "charging",
                                                                       "discharging"))
    tiles[3].set_value(now["grid_power_w"], subtitle=flow_subtitle(now["grid_power_w"], "importing", "exporting"))
    today = t_all >= t_all[-1] - (t_all[-1] % 86_400)
    tiles[4].set_value(float(np.sum(ys["pv_power_w"][today])) / 3600 / 1000, subtitle="PV yield since midnight")
    tiles[5].set_value(81.4, subtitle="derating above 75 °C", flagged=True)
    tiles[6].set_value(None, subtitle="not reported by this model")
    tiles[1].set_stale(True)

    power = TimePlot("Power")
    power.set_source(buffer, SERIES[:4], "W", labels=LABELS, axis_label="Power")
    soc = TimePlot("Battery state of charge")
    soc.set_source(buffer, ["battery_soc_pct"], "%", labels=LABELS, axis_label="SOC")
    toolbar = PlotToolbar([power, soc])
    toolbar.set_window_s(86_400)

    grid = QGridLayout()
    grid.setSpacing(10)
    for i, tile in enumerate(tiles):
        grid.addWidget(tile, 0, i)
    layout = QVBoxLayout(page)
    layout.setContentsMargins(14, 14, 14, 14)
    layout.setSpacing(8)
    layout.addLayout(grid)
    layout.addWidget(toolbar)
    layout.addWidget(power, 3)
    layout.addWidget(soc, 2)
    page.plots = (power, soc)  # for callers that want to point at a time
    return page


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, colour in ((QPalette.ColorRole.Window, "#202124"), (QPalette.ColorRole.WindowText, "#E8EAED"),
                         (QPalette.ColorRole.Base, "#17181A"), (QPalette.ColorRole.AlternateBase, "#2A2B2E"),
                         (QPalette.ColorRole.Text, "#E8EAED"), (QPalette.ColorRole.Button, "#2D2E31"),
                         (QPalette.ColorRole.ButtonText, "#E8EAED"), (QPalette.ColorRole.Mid, "#4A4B4F"),
                         (QPalette.ColorRole.PlaceholderText, "#9AA0A6"), (QPalette.ColorRole.Highlight, "#3A86E0")):
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6B6F75"))
    return palette


def main(argv: list[str]) -> None:
    out = Path(argv[1] if len(argv) > 1 else "widgets-demo.png")
    app = QApplication.instance() or QApplication([])
    app.setStyle("Fusion")
    if "--dark" in argv:
        app.setPalette(dark_palette())
    page = build_demo(synthetic_day())
    page.resize(1400, 860)
    page.show()
    app.processEvents()
    for plot in page.plots:  # as if the mouse rested on the power plot late in the morning
        plot.show_crosshair_at(END_S - 2.6 * 3600)
    app.processEvents()
    page.grab().save(str(out))
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv)
