"""How long one redraw of a day of live data takes, TimePlot against plain pyqtgraph.

Eight series of 86,400 samples (a day at 1 Hz) in a 1200x400 plot. A frame is
what the dashboard timer does each tick: append one sample, hand the new data
to the plot, mark the whole widget for repainting and run the event loop
until the paints are done, exactly as the shown window does (offscreen
platform). The paints of each plot's view are counted and printed: plain
pyqtgraph paints twice a frame (once more after it applies the new range at
paint time), TimePlot once. Timed with time.perf_counter (wall clock; CPU time
of this process beside it) over 30 frames after 5 frames of warm-up; the
median is reported. The frames of the two contenders alternate, so load from
other processes falls on both alike; the load average is printed too.

"plain" is pyqtgraph as it comes: a PlotWidget of the same size with a date
axis, a legend and pyqtgraph's grid (showGrid, alpha 0.3), the same data and
the same 1 px pens, with no clip-to-view and no downsampling. TimePlot draws
its own opaque grid (--no-grid turns both grids off).

Run:  .venv/bin/python benchmarks/plot_frame.py [--frames N] [--no-grid]
Target: TimePlot at most 15 ms per frame and at least 4x faster than plain;
the exit status is 0 when both views meet it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication

from widgets.ring_buffer import RingBuffer
from widgets.time_plot import TimePlot

SERIES = [f"series_{i}_w" for i in range(8)]
DAY_S = 86_400
SIZE = (1200, 400)
T_START_S = 1_763_769_600.0  # 2025-11-22 00:00 UTC


def synthetic_day(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(t, values[8, n]): smooth daily curves with noise and a few spikes."""
    t = T_START_S + np.arange(DAY_S, dtype=np.float64)
    phase = np.linspace(0, 2 * np.pi, DAY_S)
    values = np.empty((len(SERIES), DAY_S), dtype=np.float32)
    for i in range(len(SERIES)):
        values[i] = 2000 * np.sin(phase + i) + 300 * i + rng.normal(0, 60, DAY_S)
        values[i, rng.integers(0, DAY_S, 20)] += 1500
    return t, values


def filled_buffer(t: np.ndarray, values: np.ndarray) -> RingBuffer:
    buffer = RingBuffer(DAY_S, SERIES)
    buffer.extend(t, {name: values[i] for i, name in enumerate(SERIES)})
    return buffer


class PaintCounter(QObject):
    """Counts the paint events of a plot's viewport."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, _obj, event) -> bool:  # Qt override
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def time_interleaved(app: QApplication, contenders: dict, count: int, warmup: int = 5) -> dict:
    """Median wall and CPU ms per frame, and paints per frame, for each contender.

    A contender is (frame function, viewport). The frames of the contenders
    alternate, so a load spike from another process hits both alike and the
    speed-up stays fair. CPU time (process_time) is what the redraw costs
    this process whatever else runs. After a frame the event loop runs until
    the paints it caused are done (twice: pyqtgraph may queue a second one).
    """
    counters = {}
    for name, (_frame, viewport) in contenders.items():
        counters[name] = PaintCounter()
        viewport.installEventFilter(counters[name])
    for _ in range(warmup):
        for frame, _viewport in contenders.values():
            frame()
            app.processEvents()
            app.processEvents()
    wall: dict = {name: [] for name in contenders}
    cpu: dict = {name: [] for name in contenders}
    for counter in counters.values():
        counter.count = 0
    for _ in range(count):
        for name, (frame, _viewport) in contenders.items():
            w0, c0 = time.perf_counter(), time.process_time()
            frame()
            app.processEvents()
            app.processEvents()
            wall[name].append((time.perf_counter() - w0) * 1000.0)
            cpu[name].append((time.process_time() - c0) * 1000.0)
    return {name: (statistics.median(wall[name]), statistics.median(cpu[name]), counters[name].count / count)
            for name in contenders}


class Feeder:
    """Appends one more sample per frame, continuing the synthetic day."""

    def __init__(self, buffer: RingBuffer, values: np.ndarray):
        self.buffer, self.values, self.k = buffer, values, 0

    def append(self) -> None:
        last_t = self.buffer.last()[0]
        col = self.k % DAY_S
        self.buffer.append(last_t + 1.0, {n: self.values[i, col] for i, n in enumerate(SERIES)})
        self.k += 1


def timeplot_frame(buffer, values, window_s: float, grid: bool):
    plot = TimePlot("Benchmark")
    plot.resize(*SIZE)
    plot.set_grid(grid)
    plot.set_source(buffer, SERIES, "W")
    plot.set_window(window_s)
    plot.show()
    feeder = Feeder(buffer, values)

    def frame():
        feeder.append()
        plot.refresh()
        plot.update()  # repaint all of it, legend included, not just what changed

    return plot, frame, plot.plot_widget.viewport()


def plain_frame(buffer, values, window_s: float, grid: bool):
    widget = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
    widget.resize(*SIZE)
    widget.showGrid(x=grid, y=grid, alpha=0.3)
    widget.addLegend()
    curves = [widget.plot(name=n, pen=pg.mkPen(pg.intColor(i), width=1)) for i, n in enumerate(SERIES)]
    widget.show()
    feeder = Feeder(buffer, values)

    def frame():
        feeder.append()
        t, ys = buffer.view()
        for curve, name in zip(curves, SERIES):
            curve.setData(t, ys[name])
        widget.setXRange(t[-1] - window_s, t[-1], padding=0)
        widget.viewport().update()

    return widget, frame, widget.viewport()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--no-grid", action="store_true", help="measure without the grid")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    t, values = synthetic_day(np.random.default_rng(7))
    buffer = filled_buffer(t, values)
    grid = not args.no_grid
    print(f"{len(SERIES)} series x {DAY_S:,} samples, {SIZE[0]}x{SIZE[1]} px, grid {'on' if grid else 'off'}; "
          f"median of {args.frames} frames (append + set data + full repaint), frames interleaved")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"{'view':<13}{'TimePlot ms':>12}{'(cpu)':>7}{'paints':>7}{'plain ms':>10}{'(cpu)':>7}{'paints':>7}"
          f"{'speed-up':>10}   target: <= 15 ms, >= 4x")
    ok = True
    for label, window_s in (("full day", float(DAY_S)), ("last 10 min", 600.0)):
        ours_widget, ours, ours_viewport = timeplot_frame(buffer, values, window_s, grid)
        plain_widget, plain, plain_viewport = plain_frame(buffer, values, window_s, grid)
        app.processEvents()
        result = time_interleaved(app, {"ours": (ours, ours_viewport), "plain": (plain, plain_viewport)},
                                  args.frames)
        (ours_ms, ours_cpu, ours_paints), (plain_ms, plain_cpu, plain_paints) = result["ours"], result["plain"]
        speedup = plain_ms / ours_ms
        met = ours_ms <= 15.0 and speedup >= 4.0
        ok &= met
        print(f"{label:<13}{ours_ms:>12.1f}{ours_cpu:>7.1f}{ours_paints:>7.1f}{plain_ms:>10.1f}{plain_cpu:>7.1f}"
              f"{plain_paints:>7.1f}{speedup:>9.1f}x   {'met' if met else 'MISSED'}")
        ours_widget.close()
        plain_widget.close()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
