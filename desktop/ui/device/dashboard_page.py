"""The live dashboard: value tiles, three plot groups (power, battery, meter) and their toolbar.

Runs on the GUI thread. Samples arrive through the bridge's ``sampleReady``;
each one updates the tiles and appends one row to a preallocated ring buffer
(24 h at 1 Hz, ``widgets.ring_buffer``). New data redraws the plots at most
once a second, and only those whose data or view changed (``TimePlot.refresh``). A tile whose
value is older than three poll periods of its point greys out; a link that
drops greys every tile at once. pyqtgraph is imported when the plots are
built, which the main window does right after it is first shown, so the
window appears sooner; samples arriving before that are kept and replayed.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from widgets.value_tile import ValueTile, flow_subtitle, format_with_unit

from desktop.ui.device import dashboard_points as dp

HISTORY_SAMPLES = 86_400  # 24 h at 1 Hz, per series
STALE_PERIODS = 3
MIN_REDRAW_INTERVAL_S = 1.0
# tile key -> (title, unit, canonical point shown, points it also depends on)
TILES = (
    ("pv", "PV power", "W", "pv_power_w", ("pv1_power_w", "pv2_power_w", "pv3_power_w", "pv4_power_w")),
    ("inverter", "Inverter AC power", "W", "inverter_power_w", ("ac_voltage_v", "ac_frequency_hz")),
    ("load", "House load", "W", "load_power_w", ("load_energy_today_kwh",)),
    ("grid", "Grid", "W", "grid_power_w", ()),
    ("battery", "Battery", "%", "battery_soc_pct", ("battery_power_w",)),
    ("energy", "PV energy today", "kWh", "pv_energy_today_kwh", ("import_energy_today_kwh",
                                                                "export_energy_today_kwh")),
)
# plot key -> (title, series, unit, axis label)
PLOTS = (
    ("power", "Power", ("pv_power_w", "inverter_power_w", "load_power_w", "grid_power_w"), "W", "Power"),
    ("soc", "Battery state of charge", ("battery_soc_pct",), "%", "SOC"),
    ("battery", "Battery power", ("battery_power_w",), "W", "Power"),
    ("meter", "Grid meter", ("grid_import_w", "grid_export_w"), "W", "Power"),
)


class DashboardPage(QWidget):
    """Tiles on top, the plot toolbar, then the plots. ``plotsReady`` once the plots exist."""

    plotsReady = Signal()

    def __init__(self, bridge, parent: QWidget | None = None, build_plots: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("DashboardPage")
        self.bridge = bridge
        self.fast_period_s = bridge.fast_period_s
        self.slow_period_s = bridge.slow_period_s
        self.points = dp.PointMap()
        self.buffer = None
        self.plots: dict = {}
        self.toolbar = None
        self._pending_rows: list[tuple[float, dict]] = []
        self._updated_s: dict[str, float] = {}
        self._last: dict[str, dp.Reading] = {}
        self._link_down = True
        self._link_label: str | None = None

        self.tiles: dict[str, ValueTile] = {}
        tile_grid = self._tile_grid = QGridLayout()
        tile_grid.setSpacing(10)
        self._tile_columns = len(TILES)
        for column, (key, title, unit, _point, _deps) in enumerate(TILES):
            tile = ValueTile(title, unit)
            tile.setObjectName(f"tile_{key}")
            tile.set_stale(True)
            self.tiles[key] = tile
            tile_grid.addWidget(tile, 0, column)
            tile_grid.setColumnStretch(column, 1)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(12, 12, 12, 8)
        self._layout.setSpacing(8)
        self._layout.addLayout(tile_grid)
        self._plots_placeholder = QLabel("Preparing plots…")
        self._layout.addWidget(self._plots_placeholder, 1)

        # New data redraws the plots at most once a second (pans and zooms redraw at once, in
        # TimePlot): a redraw of the four plots is the GUI thread's largest single job.
        self._redraw = QTimer(self, singleShot=True)
        self._redraw.timeout.connect(self.refresh_plots)
        self._last_redraw_s = 0.0
        self._stale_timer = QTimer(self)
        self._stale_timer.setInterval(500)
        self._stale_timer.timeout.connect(self.update_staleness)
        self._stale_timer.start()
        bridge.sampleReady.connect(self.on_sample)
        bridge.linkOpened.connect(self.on_link_opened)
        bridge.stateChanged.connect(self.on_state)
        if build_plots:
            self.build_plots()

    # -- layout --------------------------------------------------------------
    def tile_columns_for(self, width_px: int) -> int:
        """Six tiles a row on a wide window, three (two rows) on a laptop at a large scale factor, two below."""
        per_tile = max(self.tiles[k].minimumSizeHint().width() for k in self.tiles) + 10
        return len(TILES) if width_px >= per_tile * len(TILES) + 24 else 3 if width_px >= per_tile * 3 + 24 else 2

    def fit_width(self, width_px: int) -> None:
        """Reflow the tiles for ``width_px`` of room (the page's scroll area calls this as it resizes)."""
        columns = self.tile_columns_for(width_px)
        if columns != self._tile_columns:
            self._tile_columns = columns
            grid = self._tile_grid
            for key in self.tiles:
                grid.removeWidget(self.tiles[key])
            for c in range(len(TILES)):
                grid.setColumnStretch(c, 1 if c < columns else 0)
            for i, key in enumerate(self.tiles):
                grid.addWidget(self.tiles[key], i // columns, i % columns)

    # -- plots (pyqtgraph is loaded here) -----------------------------------
    def build_plots(self) -> None:
        """Create the ring buffer, the plots and the toolbar; replay early samples."""
        if self.toolbar is not None:
            return
        from widgets.plot_toolbar import PlotToolbar
        from widgets.ring_buffer import RingBuffer
        from widgets.time_plot import TimePlot

        self.buffer = RingBuffer(HISTORY_SAMPLES, dp.SERIES)
        for key, title, series, unit, axis in PLOTS:
            plot = TimePlot(title)
            plot.setObjectName(f"plot_{key}")
            plot.set_source(self.buffer, series, unit, labels=dp.LABELS, axis_label=axis)
            plot.setAccessibleName(f"{title} plot")
            self.plots[key] = plot
        self.toolbar = PlotToolbar(list(self.plots.values()))
        from desktop.core.safe_files import safe_output
        self.toolbar.output = safe_output  # CSV/PNG exports: regular files only, owner-only
        self.toolbar.exportFailed.connect(self._export_failed)
        self.toolbar.setAccessibleName("Plot controls")
        grid = QGridLayout()
        grid.setSpacing(10)
        grid.addWidget(self.plots["power"], 0, 0, 1, 3)
        grid.addWidget(self.plots["soc"], 1, 0)
        grid.addWidget(self.plots["battery"], 1, 1)
        grid.addWidget(self.plots["meter"], 1, 2)
        grid.setRowStretch(0, 3)
        grid.setRowStretch(1, 2)
        self._layout.removeWidget(self._plots_placeholder)
        self._plots_placeholder.hide()
        self._plots_placeholder.setParent(None)
        self._layout.addWidget(self.toolbar)
        self._layout.addLayout(grid, 1)
        for t, row in self._pending_rows:
            self.buffer.append(t, row)
        self._pending_rows.clear()
        self.refresh_plots()
        self.plotsReady.emit()

    def _export_failed(self, text: str) -> None:
        from PySide6.QtWidgets import QMessageBox
        QMessageBox.warning(self, "Export not written", text)

    def refresh_plots(self) -> None:
        """Redraw the plots that changed (cheap when nothing did)."""
        self._last_redraw_s = time.monotonic()
        if self.isVisible():
            for plot in self.plots.values():
                plot.refresh()

    def showEvent(self, event) -> None:  # Qt override
        super().showEvent(event)
        QTimer.singleShot(0, self.refresh_plots)  # catch up on what arrived while hidden

    def export_dialog(self) -> None:
        """File ▸ Export…: the visible range of every plot as CSV or PNG (one file per plot)."""
        if self.toolbar is None:
            return
        from datetime import datetime

        from PySide6.QtWidgets import QFileDialog
        name = f"pvdesk-dashboard-{datetime.now().strftime('%Y%m%d-%H%M%S')}.csv"
        path, chosen = QFileDialog.getSaveFileName(self, "Export the visible plots", name,
                                                   "CSV files (*.csv);;PNG images (*.png)")
        if path:
            png = path.lower().endswith(".png") or (chosen.startswith("PNG") and not path.lower().endswith(".csv"))
            (self.toolbar.export_png_to if png else self.toolbar.export_csv_to)(path)

    # -- bridge signals ----------------------------------------------------
    def on_link_opened(self, link) -> None:
        """``link``: the LinkOpened event, which carries the profile the points are resolved in."""
        self.points = dp.PointMap(link.profile)
        label = link.label
        if label != self._link_label:  # another device: its history starts afresh
            self._link_label = label
            self._updated_s.clear()
            self._last.clear()
            if self.buffer is not None:
                self.buffer.clear()
            self._pending_rows.clear()
        for key, _title, _unit, point, _deps in TILES:
            if not self.points.exists(point):
                self.tiles[key].set_value(None, subtitle="not reported by this device")

    def on_state(self, state: str, _detail: str) -> None:
        self._link_down = state == "disconnected"
        if self._link_down:  # nothing shown is live any more
            for tile in self.tiles.values():
                tile.set_stale(True)

    def on_sample(self, sample) -> None:
        """Update the tiles and append one row to the history."""
        now = time.monotonic()
        self._link_down = False
        readings = {name: self.points.read(sample.values, sample.flags, name) for name in dp.TILE_POINTS}
        # Slow points (energy, temperatures) are not in every sample: keep their last reading.
        self._last.update({name: r for name, r in readings.items() if r.present})
        for key, _title, _unit, point, _deps in TILES:
            if readings[point].present:
                self._show_tile(key, self._last)
                self._updated_s[key] = now
        row = dp.plot_row(readings)
        if self.buffer is None:
            self._pending_rows.append((sample.timestamp_s, row))
            del self._pending_rows[:-HISTORY_SAMPLES]
        else:
            self.buffer.append(sample.timestamp_s, row)
            if not self._redraw.isActive():
                wait_s = MIN_REDRAW_INTERVAL_S - (now - self._last_redraw_s)
                self._redraw.start(max(0, int(wait_s * 1000)))

    def _show_tile(self, key: str, readings: dict) -> None:
        fmt = format_with_unit
        tile = self.tiles[key]

        def r(name: str) -> dp.Reading:
            return readings.get(name, dp.ABSENT)

        if key == "pv":
            main, subtitle = r("pv_power_w"), dp.strings_subtitle(readings, fmt)
        elif key == "grid":
            main = r("grid_power_w")
            subtitle = _flow(main, "importing", "exporting")
        elif key == "battery":
            main, power = r("battery_soc_pct"), r("battery_power_w")
            subtitle = _flow(power, "discharging", "charging") if power.present else " "
            if power.flagged:
                main = dp.Reading(True, main.value, True)
        elif key == "energy":
            main, subtitle = r("pv_energy_today_kwh"), dp.energy_subtitle(readings, fmt)
        elif key == "inverter":
            main, subtitle = r("inverter_power_w"), dp.grid_subtitle(readings, fmt)
        else:
            main, energy = r("load_power_w"), r("load_energy_today_kwh").value
            subtitle = f"{fmt(energy, 'kWh')} today" if energy is not None else " "
        tile.set_value(main.value, subtitle=subtitle, flagged=main.flagged)

    def update_staleness(self) -> None:
        """Grey out tiles whose value is older than three poll periods of their point."""
        now = time.monotonic()
        for key, _title, _unit, point, _deps in TILES:
            if not self.points.exists(point):
                continue
            rate = self.points.rate(point)
            period = self.slow_period_s if rate == "slow" else self.fast_period_s
            updated = self._updated_s.get(key)
            stale = self._link_down or updated is None or now - updated > STALE_PERIODS * period
            tile = self.tiles[key]
            if stale != tile.is_stale():
                tile.set_stale(stale)


def _flow(reading: dp.Reading, positive: str, negative: str) -> str:
    if reading.value is None:
        return "n/a"
    if reading.flagged:
        return f"⚠ {format_with_unit(reading.value, 'W')} is outside the plausible range"
    return flow_subtitle(reading.value, positive, negative)
