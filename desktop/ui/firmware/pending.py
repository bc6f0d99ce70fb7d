"""The Firmware page's offer for an image left in test mode: what it is, Confirm (after a health check), Revert.

Runs on the GUI thread. Plain data in (a ``protocols.firmware.testmode.PendingImage``
or None), two signals out; the page runs the action on the device I/O loop.
The text is shown as plain text: it comes from the device.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


class PendingImageBox(QWidget):
    """Hidden unless an image waits in test mode; ``confirmRequested`` / ``revertRequested``."""

    confirmRequested = Signal()
    revertRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pending = None
        self.label = QLabel("")
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.label.setAccessibleName("Image in test mode")
        self.confirm_button = QPushButton("Con&firm test image")
        self.confirm_button.setToolTip("Runs the health check, then keeps the new image")
        self.confirm_button.clicked.connect(self.confirmRequested)
        self.revert_button = QPushButton("Re&vert to previous image")
        self.revert_button.clicked.connect(self.revertRequested)
        row = QHBoxLayout()
        row.addWidget(self.confirm_button)
        row.addWidget(self.revert_button)
        row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.label)
        lay.addLayout(row)
        self.show_pending(None)

    def show_pending(self, pending) -> None:
        self.pending = pending
        if pending is not None:
            self.label.setText(f"{pending.text()}. Confirm it after a health check, or revert it.")
        self.setVisible(pending is not None)

    def set_busy(self, busy: bool) -> None:
        self.confirm_button.setEnabled(not busy)
        self.revert_button.setEnabled(not busy)
