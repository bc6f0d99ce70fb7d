"""StoreAlert: the Customers page's banner for what the records store found wrong when it opened.

Shows, one line each, records that failed their integrity check, rows the
database lost, rows of an old copy whose key was destroyed, and a broken
audit trail. While the trail is broken the store refuses changes; the
"Acknowledge" button records that someone saw the break (an audit entry) and
lets changes go on. Hidden when all is well. Plain text only. GUI thread.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout


class StoreAlert(QFrame):
    acknowledged = Signal()

    def __init__(self, service, parent=None) -> None:
        super().__init__(parent)
        self.service = service
        self.setObjectName("store_alert")
        self.setStyleSheet("QFrame#store_alert { background: #FDECEA; border: 1px solid #D0343A; "
                           "border-radius: 4px; } QLabel { color: #7A1A1D; }")
        lay = QVBoxLayout(self)
        self.text = QLabel()
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.text)
        row = QHBoxLayout()
        row.addStretch(1)
        self.ack_button = QPushButton("Acknowledge the audit-trail break")
        self.ack_button.setToolTip("Records in the audit trail that you saw the break; changes are allowed again")
        self.ack_button.clicked.connect(self.acknowledge)
        row.addWidget(self.ack_button)
        lay.addLayout(row)
        self.refresh()

    def refresh(self) -> None:
        lines = self.service.integrity_report()
        self.text.setText("\n".join(f"• {line}" for line in lines))
        self.ack_button.setVisible(self.service.audit_break is not None)
        self.setVisible(bool(lines))

    def acknowledge(self) -> None:
        self.service.acknowledge_audit_break()
        self.refresh()
        self.acknowledged.emit()
