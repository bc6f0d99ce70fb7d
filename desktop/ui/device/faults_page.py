"""The faults page: active alarms and the device's fault log, filter by severity and text, export CSV.

Runs on the GUI thread. Active alarms come with every sample (the bridge's
``alarmsChanged``); the page remembers since when each one is active. The
log is read through ``bridge.call_device(lambda d: d.fault_history())`` when
a link opens, when a new alarm appears (the device logs it), and on
"Refresh"; the answer arrives as a callback, never by waiting.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime

from PySide6.QtCore import QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.core.errors import describe_error
from desktop.ui.device.faults_model import SEVERITY_COLOUR, FaultFilter, FaultRow, FaultTableModel, write_csv

SEVERITIES = (("All severities", None), ("Critical", "critical"), ("Error", "error"), ("Warning", "warning"),
              ("Info", "info"))


class FaultsPage(QWidget):
    """Summary line, filter row, the table, and Refresh / Export CSV."""

    def __init__(self, bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FaultsPage")
        self.bridge = bridge
        self._since: dict[tuple[int, str], float] = {}
        self._reading = False
        self.model = FaultTableModel()
        self.proxy = FaultFilter()
        self.proxy.setSourceModel(self.model)

        self.summary = QLabel("No device connected")
        font = QFont(self.summary.font())
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setWeight(QFont.Weight.DemiBold)
        self.summary.setFont(font)
        self.summary.setWordWrap(True)   # a long summary wraps on a narrow window
        self.summary.setAccessibleName("Fault summary")
        self.status = QLabel("")
        self.status.setAccessibleName("Faults page status")
        self.severity_box = QComboBox()
        for text, key in SEVERITIES:
            self.severity_box.addItem(text, key)
        self.severity_box.setAccessibleName("Severity filter")
        self.severity_box.currentIndexChanged.connect(
            lambda _i: self.proxy.set_severity(self.severity_box.currentData()))
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter by code or text, e.g. 101 or battery")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Text filter")
        self.search.textChanged.connect(self.proxy.set_text)
        self.refresh_button = QPushButton("&Refresh log")
        self.refresh_button.setToolTip("Read the device's fault log again")
        self.refresh_button.clicked.connect(self.refresh_history)
        self.export_button = QPushButton("&Export CSV…")
        self.export_button.setToolTip("Save the rows shown (after filtering) as CSV, times in UTC")
        self.export_button.clicked.connect(self.export_dialog)

        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setAccessibleName("Faults")
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        for col, mode in enumerate((QHeaderView.ResizeMode.ResizeToContents, QHeaderView.ResizeMode.ResizeToContents,
                                    QHeaderView.ResizeMode.Stretch, QHeaderView.ResizeMode.ResizeToContents,
                                    QHeaderView.ResizeMode.ResizeToContents)):
            header.setSectionResizeMode(col, mode)

        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.status)
        filters = QHBoxLayout()
        label = QLabel("&Severity")
        label.setBuddy(self.severity_box)
        filters.addWidget(label)
        filters.addWidget(self.severity_box)
        filters.addWidget(self.search, 1)
        filters.addWidget(self.refresh_button)
        filters.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(10)
        layout.addLayout(top)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        self.setTabOrder(self.severity_box, self.search)
        self.setTabOrder(self.search, self.refresh_button)
        self.setTabOrder(self.refresh_button, self.export_button)
        self.setTabOrder(self.export_button, self.table)

        self._history_soon = QTimer(self, singleShot=True, interval=300)
        self._history_soon.timeout.connect(self.refresh_history)
        self.drift_s: float | None = None   # device clock - laptop clock, from the device's clock point
        self.fixed_drift_s: float | None = None  # a recording's measured drift (the review window sets it)
        self._clock_point: str | None = None
        bridge.alarmsChanged.connect(self.on_alarms)
        bridge.linkOpened.connect(self.on_link_opened)
        bridge.sampleReady.connect(self.on_sample)
        self._show_summary()

    # -- bridge signals ----------------------------------------------------
    def on_link_opened(self, link) -> None:
        """``link``: the LinkOpened event, which carries the profile (for the device's clock point)."""
        profile = getattr(link, "profile", None)
        self._clock_point = profile.resolve("device_time_unix_s") if profile is not None else None
        self.drift_s = None
        self._since.clear()
        self.model.set_active([])
        self.model.set_history([])
        self.refresh_history()

    def on_sample(self, sample) -> None:
        """The device's clock against the sample's time (the laptop's): the drift the log is corrected by."""
        value = sample.values.get(self._clock_point) if self._clock_point and self.fixed_drift_s is None else None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            drift = float(value) - float(sample.timestamp_s)
            changed = self.drift_s is None or abs(drift - self.drift_s) >= 2.0
            self.drift_s = drift
            if changed and self.model.history:
                self.model.set_history([dataclasses.replace(r, drift_s=drift) for r in self.model.history])

    def on_alarms(self, alarms: list) -> None:
        """Active alarms of the latest sample; a new one also re-reads the log."""
        now = time.time()
        keys = {(a.code, a.source) for a in alarms}
        new = keys - set(self._since)
        for key in new:
            self._since[key] = now
        for key in set(self._since) - keys:
            del self._since[key]
        if new or len(keys) != len(self.model.active):
            self.model.set_active([FaultRow.from_alarm(a, self._since[(a.code, a.source)]) for a in alarms])
            self._show_summary()
        if new:
            self._history_soon.start()

    # -- the log -----------------------------------------------------------
    def refresh_history(self) -> None:
        if self._reading:
            return
        self._reading = True
        self.status.setText("Reading the fault log…")
        self.bridge.call_device(lambda device: device.fault_history(), self._on_history, self._on_history_error)

    def _on_history(self, alarms: list) -> None:
        self._reading = False
        drift = self.fixed_drift_s if self.fixed_drift_s is not None else self.drift_s
        self.model.set_history([FaultRow.from_alarm(a, drift_s=drift) for a in alarms])
        self.status.setText(f"Log read at {datetime.fromtimestamp(time.time()).strftime('%H:%M:%S')}")
        self._show_summary()

    def _on_history_error(self, exc: BaseException) -> None:
        self._reading = False
        self.status.setText("Could not read the log: " + describe_error(exc))

    def _show_summary(self) -> None:
        active, logged = len(self.model.active), len(self.model.history)
        worst = min((r.severity for r in self.model.active), key=lambda s: {"critical": 0, "error": 1,
                                                                              "warning": 2}.get(s, 3), default=None)
        if active:
            colour = SEVERITY_COLOUR.get(worst, "#E07B00")
            text = f"<span style='color:{colour}'>●</span> {active} active alarm{'s' if active != 1 else ''}"
        else:
            text = "<span style='color:#2E9E5B'>●</span> No active alarms"
        text += f" · {logged} entr{'ies' if logged != 1 else 'y'} in the device's fault log"
        self.summary.setText(text)
        self.summary.setAccessibleDescription(text.split("</span> ")[-1])

    # -- export ------------------------------------------------------------
    def export_csv(self, path: str) -> int:
        """Write the rows the filter shows; returns how many."""
        return write_csv(path, self.proxy.visible_rows())

    def export_dialog(self) -> None:
        """Ask where to save the rows shown, then write them (File ▸ Export… calls this too)."""
        name = f"pvdesk-faults-{datetime.now().strftime('%Y%m%d-%H%M%S')}.csv"
        path, _ = QFileDialog.getSaveFileName(self, "Export faults as CSV", name, "CSV files (*.csv)")
        if path:
            try:
                count = self.export_csv(path)
            except OSError as exc:
                self.status.setText(f"Could not write {path}: {exc.strerror or exc}")
                return
            self.status.setText(f"Exported {count} rows to {path}")
