"""ConsentBox: one line per consent purpose -- its state, when it was given, and a button to change it.

GUI thread. Shows plain data: each purpose's status and entry as the
records service reports them; a click asks for the purpose's dialog with
``editRequested(purpose)`` (the page opens ConsentDialog).
"""

from __future__ import annotations

import time

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QPushButton, QWidget

from desktop.records.consent import PURPOSES

from .consent_dialog import STATUS_TEXT as CONSENT_TEXT

_COLOUR = {"granted": "#2E9E5B", "renew": "#C27C00", "withdrawn": "#D0343A"}


class ConsentBox(QFrame):
    """The consent of one record, per purpose of ``desktop.records.consent.PURPOSES``."""

    editRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        grid = QGridLayout(self)
        grid.addWidget(QLabel("<b>Consent</b>"), 0, 0, 1, 3)
        self.labels: dict[str, QLabel] = {}
        self.buttons: dict[str, QPushButton] = {}
        for row, key in enumerate(PURPOSES, 1):
            grid.addWidget(QLabel(PURPOSES[key].title), row, 0)
            self.labels[key] = QLabel()
            grid.addWidget(self.labels[key], row, 1)
            btn = QPushButton("Consent…")
            btn.clicked.connect(lambda _=False, k=key: self.editRequested.emit(k))
            self.buttons[key] = btn
            grid.addWidget(btn, row, 2)
        grid.setColumnStretch(1, 1)

    def show_purpose(self, key: str, status: str, entry: dict | None, editable: bool) -> None:
        """Show ``status`` of purpose ``key`` (with the day it was granted) and whether it may change."""
        text = CONSENT_TEXT[status]
        if entry and status == "granted":
            text += f" ({time.strftime('%Y-%m-%d', time.localtime(entry['granted_at']))})"
        colour = _COLOUR.get(status)
        self.labels[key].setText(f'<span style="color:{colour}">{text}</span>' if colour else text)
        self.buttons[key].setEnabled(editable)
        self.buttons[key].setText("Change…" if status in ("granted", "renew") else "Ask…")
