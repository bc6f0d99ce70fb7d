"""How an upgrade is shown while it runs: its steps, phase, progress bar, throughput, time left, result and log.

Runs on the GUI thread. ``UpgradeBox`` is the Firmware page's "Upgrade" box
and the batch upgrade's view of the device being upgraded
(desktop/ui/firmware/batch.py): both feed it the Upgrader's progress events
(``show_progress``) and its result (``show_outcome``). ``UpgradeLogBox``
shows the upgrade's log entries (JSON lines in the log file) as text.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.firmware.pending import PendingImageBox
from desktop.ui.firmware.steps import FAIL_COLOUR, OUTCOME_TEXT, PASS_COLOUR, PHASE_TEXT, STEPS, fmt_bytes, log_line

LINK_LOST = "link lost — waiting"


class UpgradeBox(QGroupBox):
    """Steps, phase, progress, transferred / throughput / time left, result, the pending image, buttons."""

    def __init__(self, title: str = "Upgrade", parent: QWidget | None = None, *, buttons: bool = True) -> None:
        super().__init__(title, parent)
        self.phase_label = QLabel("Choose a package to upgrade a component.")
        self.phase_label.setAccessibleName("Upgrade phase")
        phase_font = QFont(self.phase_label.font())
        phase_font.setWeight(QFont.Weight.DemiBold)
        self.phase_label.setFont(phase_font)
        self.steps_label = QLabel("")
        self.steps_label.setAccessibleName("Upgrade steps")
        self.steps_label.setWordWrap(True)
        self.show_steps(None)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.progress.setAccessibleName("Upload progress")
        self.bytes_label, self.rate_label, self.eta_label = QLabel("–"), QLabel("–"), QLabel("–")
        self.upgrade_button = QPushButton("&Upgrade")
        self.upgrade_button.setEnabled(False)
        self.cancel_button = QPushButton("Ca&ncel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.setToolTip("Stops before activation; the old image keeps running")
        self.result_label = QLabel("")
        self.result_label.setWordWrap(True)
        self.result_label.setAccessibleName("Upgrade result")
        # An image a killed upgrade left in test mode: offered to confirm (after a health check) or revert.
        self.pending_box = PendingImageBox()
        stats = QFormLayout()
        stats.addRow("Transferred", self.bytes_label)
        stats.addRow("Throughput", self.rate_label)
        stats.addRow("Time left", self.eta_label)
        lay = QVBoxLayout(self)
        lay.addWidget(self.steps_label)
        lay.addWidget(self.phase_label)
        lay.addWidget(self.progress)
        lay.addLayout(stats)
        lay.addWidget(self.result_label)
        lay.addWidget(self.pending_box)
        lay.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.cancel_button)
        row.addWidget(self.upgrade_button)
        lay.addLayout(row)
        for b in (self.cancel_button, self.upgrade_button):
            b.setVisible(buttons)

    def clear(self, phase_text: str) -> None:
        self.progress.setValue(0)
        self.progress.setFormat("")
        for label in (self.result_label, self.steps_label):
            label.setText("")
        for label in (self.bytes_label, self.rate_label, self.eta_label):
            label.setText("–")
        self.phase_label.setText(phase_text)
        self.phase_label.setStyleSheet("")

    def show_progress(self, e: dict, cancellable: bool) -> None:
        """One progress event of the Upgrader (phase, bytes done / total, throughput, time left)."""
        total = e["bytes_total"] or 1
        link_lost = str(e.get("message", "")).startswith("link lost")
        self.phase_label.setStyleSheet("color: #C27C00; font-weight: 600;" if link_lost else "")
        if link_lost:  # nothing moves until the device answers again: no rate, no time left
            self.rate_label.setText("–")
            self.eta_label.setText("–")
            self.phase_label.setText("Link lost — waiting" + e["message"][len(LINK_LOST):])
            return
        self.progress.setValue(int(1000 * e["bytes_done"] / total))
        self.progress.setFormat(f"{100 * e['bytes_done'] / total:.0f} %")
        self.bytes_label.setText(f"{fmt_bytes(e['bytes_done'])} of {fmt_bytes(e['bytes_total'])}")
        if e.get("throughput_bps"):
            self.rate_label.setText(f"{e['throughput_bps'] / 1024:.1f} KiB/s")
        eta = e.get("eta_s")
        self.eta_label.setText("–" if eta is None else f"{eta:.0f} s" if eta < 120 else f"{eta / 60:.1f} min")
        phase_text = PHASE_TEXT.get(e["phase"], e["phase"])
        message = e["message"] if e["phase"] not in ("upload", "end") and e["message"] != phase_text else ""
        self.phase_label.setText(phase_text + (f": {message}" if message and e["phase"] != "checks" else ""))
        self.show_steps(e["phase"])
        self.cancel_button.setEnabled(cancellable)

    def show_steps(self, phase: str | None) -> None:
        keys = [k for k, _ in STEPS]
        at = keys.index(phase) if phase in keys else (len(keys) if phase in ("read-back", "end") else -1)
        parts = []
        for i, (_key, words) in enumerate(STEPS):
            text = words.replace(" ", "&nbsp;")   # a step wraps as a whole, never its mark apart from its name
            if i < at:
                parts.append(f"<span style='color:{PASS_COLOUR.name()}'>✔&nbsp;{text}</span>")
            elif i == at:
                parts.append(f"<b>●&nbsp;{text}</b>")
            else:
                parts.append(f"<span style='color:gray'>○&nbsp;{text}</span>")
        self.steps_label.setText(" &nbsp; ".join(parts))

    def show_outcome(self, result) -> None:
        """The Upgrader's result: outcome in colour, its message, the steps reached."""
        self.cancel_button.setEnabled(False)
        text = OUTCOME_TEXT.get(result.outcome, result.outcome)
        colour = PASS_COLOUR if result.ok else FAIL_COLOUR
        self.result_label.setText(f"<b style='color:{colour.name()}'>{text}</b> — {html.escape(result.message)}")
        self.phase_label.setText(text)
        if result.outcome != "upgraded":
            self.show_steps(None)
        self.eta_label.setText("–")

    def show_error(self, text: str) -> None:
        self.cancel_button.setEnabled(False)
        self.result_label.setText(f"<b style='color:{FAIL_COLOUR.name()}'>Error</b> — {html.escape(text)}")


class UpgradeLogBox(QGroupBox):
    """The upgrade's log entries as text, and where the log file is."""

    def __init__(self, title: str = "Upgrade log", parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.log_view.setAccessibleName("Upgrade log")
        self.log_view.setPlaceholderText("Every step of an upgrade appears here and in the log file.")
        self.log_path_label = QLabel("")
        self.log_path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay = QVBoxLayout(self)
        lay.addWidget(self.log_view, 1)
        lay.addWidget(self.log_path_label)

    def append(self, entry: dict) -> None:
        self.log_view.appendPlainText(log_line(entry))

    def clear(self) -> None:
        self.log_view.clear()
        self.log_path_label.setText("")


__all__ = ["UpgradeBox", "UpgradeLogBox"]
