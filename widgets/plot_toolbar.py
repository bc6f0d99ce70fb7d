"""Toolbar for a group of TimePlots: follow/pause, time window, reset, export.

Role: one row of controls above the plots of a dashboard page. The plots of
a group share their time axis: panning one pans all, pausing one pauses all.
The file dialogs live here; the exports themselves are TimePlot methods, so
tests and the command line can call them without a dialog.

Runs on the GUI thread.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QToolButton, QWidget

from widgets.flow_layout import flow_row, labelled
from widgets.time_plot import TimePlot

# (label, seconds) offered in the window box.
WINDOW_CHOICES_S: tuple[tuple[str, float], ...] = (
    ("1 min", 60.0),
    ("10 min", 600.0),
    ("1 h", 3600.0),
    ("6 h", 21600.0),
    ("24 h", 86400.0),
)


#: ``output(path)``: a context manager whose value is the path to write; when the block ends, the file is
#: where ``path`` names it (desktop.core.safe_files.safe_output checks the target and moves a temporary file).
OutputGuard = Callable[[str], contextlib.AbstractContextManager[str]]


def write_in_place(path: str) -> contextlib.AbstractContextManager[str]:
    """The default output guard: write straight to ``path``."""
    return contextlib.nullcontext(path)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "plot"


class PlotToolbar(QWidget):
    """Controls for ``plots`` (one or more TimePlots shown together).

    Signal ``exported(list)``: the paths just written by an export; ``exportFailed(str)``: why one was not.
    ``output`` (an ``OutputGuard``, set by the app, e.g. to desktop.core.safe_files.safe_output) is a
    context manager factory ``output(path) -> temporary path`` that checks the target and moves the
    finished file onto it; by default (``write_in_place``) a file is written where it is named.
    """

    exported = Signal(list)
    exportFailed = Signal(str)

    def __init__(self, plots: Sequence[TimePlot], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if not plots:
            raise ValueError("a PlotToolbar needs at least one TimePlot")
        self._plots = list(plots)
        self.output: OutputGuard = write_in_place
        for other in self._plots[1:]:
            other.link_time_axis(self._plots[0])

        self.follow_button = QToolButton(self)
        self.follow_button.setCheckable(True)
        self.follow_button.setChecked(self._plots[0].is_following())
        self.follow_button.toggled.connect(self.set_follow)
        self.window_box = QComboBox(self)
        for label, seconds in WINDOW_CHOICES_S:
            self.window_box.addItem(label, seconds)
        self.window_box.setAccessibleName("Time window")
        self.window_box.setToolTip("How much time the plots show")
        self.window_box.currentIndexChanged.connect(self._on_window_chosen)
        self.reset_button = QToolButton(self)
        self.reset_button.setText("Reset zoom")
        self.reset_button.setToolTip("Back to the chosen window at the newest data, following")
        self.reset_button.clicked.connect(self.reset_zoom)
        self.csv_button = QToolButton(self)
        self.csv_button.setText("Export CSV…")
        self.csv_button.setToolTip("Save the visible samples as CSV (UTC timestamps)")
        self.csv_button.clicked.connect(self._ask_export_csv)
        self.png_button = QToolButton(self)
        self.png_button.setText("Export PNG…")
        self.png_button.setToolTip("Save the plots as PNG images")
        self.png_button.clicked.connect(self._ask_export_png)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(6)
        window_label = QLabel("Window")
        window_label.setBuddy(self.window_box)
        # Two groups that wrap on a narrow window (1366 x 768 at 150 %) instead of widening the page.
        layout.addWidget(flow_row(self.follow_button, labelled(window_label, self.window_box), self.reset_button), 1)
        layout.addWidget(flow_row(self.csv_button, self.png_button))

        for plot in self._plots:
            plot.followChanged.connect(self._on_plot_follow_changed)
        self._select_window(self._plots[0].window_s())
        self._show_follow_state(self._plots[0].is_following())

    # -- public API --------------------------------------------------------
    def plots(self) -> list[TimePlot]:
        return list(self._plots)

    def set_follow(self, follow: bool) -> None:
        """Follow the newest data in every plot (True) or pause them all."""
        for plot in self._plots:
            plot.set_follow(follow)
        self._show_follow_state(follow)

    def set_window_s(self, window_s: float) -> None:
        """Show ``window_s`` seconds in every plot (and select it in the box)."""
        for plot in self._plots:
            plot.set_window(window_s)
        self._select_window(window_s)

    def reset_zoom(self) -> None:
        for plot in self._plots:
            plot.reset_zoom()
        self._show_follow_state(True)

    def export_csv_to(self, path: str | Path) -> list[str]:
        """Export every plot's visible samples; one file per plot after the first."""
        written = [str(p) for p in self._paths_for(Path(path))]
        for plot, target in zip(self._plots, written):
            with self.output(target) as tmp:
                plot.export_csv(tmp)
        self.exported.emit(written)
        return written

    def export_png_to(self, path: str | Path) -> list[str]:
        """Save every plot as a PNG; one file per plot after the first."""
        written = [str(p) for p in self._paths_for(Path(path))]
        for plot, target in zip(self._plots, written):
            with self.output(target) as tmp:
                plot.export_png(tmp)
        self.exported.emit(written)
        return written

    # -- helpers -----------------------------------------------------------
    def _paths_for(self, path: Path) -> list[Path]:
        """``day.csv`` for one plot; ``day-pv-power.csv``, ``day-battery.csv`` for more."""
        if len(self._plots) == 1:
            return [path]
        return [path.with_name(f"{path.stem}-{_slug(p.title)}{path.suffix}") for p in self._plots]

    def _default_name(self, suffix: str) -> str:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        return f"pvdesk-{_slug(self._plots[0].title)}-{stamp}.{suffix}"

    def _ask_export_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export visible data as CSV", self._default_name("csv"),
                                              "CSV files (*.csv)")
        if path:
            self._try(self.export_csv_to, path)

    def _ask_export_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export plots as PNG", self._default_name("png"),
                                              "PNG images (*.png)")
        if path:
            self._try(self.export_png_to, path)

    def _try(self, export, path: str) -> None:
        try:
            export(path)
        except Exception as exc:  # an export the app's output guard refused, or a disk error
            one_line = getattr(exc, "one_line", None)
            self.exportFailed.emit(one_line() if callable(one_line) else str(exc))

    def _on_window_chosen(self, index: int) -> None:
        seconds = self.window_box.itemData(index)
        if seconds is not None:
            for plot in self._plots:
                plot.set_window(float(seconds))

    def _select_window(self, window_s: float) -> None:
        index = self.window_box.findData(float(window_s))
        if index < 0:
            self.window_box.addItem(f"{window_s:g} s", float(window_s))
            index = self.window_box.count() - 1
        self.window_box.blockSignals(True)
        self.window_box.setCurrentIndex(index)
        self.window_box.blockSignals(False)

    def _on_plot_follow_changed(self, follow: bool) -> None:
        if not follow:  # a pan or zoom in one plot pauses the group
            for plot in self._plots:
                plot.set_follow(False)
        self._show_follow_state(follow)

    def _show_follow_state(self, follow: bool) -> None:
        self.follow_button.blockSignals(True)
        self.follow_button.setChecked(follow)
        self.follow_button.blockSignals(False)
        self.follow_button.setText("● Following" if follow else "❚❚ Paused")
        self.follow_button.setToolTip(
            "Following the newest data: click to pause" if follow else "Paused: click to follow the newest data"
        )
        self.follow_button.setAccessibleName("Follow newest data")
