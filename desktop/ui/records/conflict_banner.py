"""ConflictBanner: "this record was also changed on another laptop" -- which fields differ, and the choice.

GUI thread. Shows plain data: the two versions of a Customer the records
service hands over (``conflict_versions``); the choice comes back as
``keepChosen("local" | "remote")`` and the page resolves it.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

HEADLINE = "This record was also changed on another laptop. Choose the version to keep."
_FIELDS = {"name": "Name", "phone": "Phone", "email": "E-mail", "postal_address": "Postal address", "notes": "Notes"}


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(str(text).split()) or "(empty)"
    return escape(text if len(text) <= limit else text[:limit - 1] + "…")


def conflict_text(local, remote) -> str:
    """The headline, then one line per field that differs between this laptop's and the other's version."""
    lines = []
    for key, label in _FIELDS.items():
        a, b = getattr(local, key), getattr(remote, key)
        if a != b:
            lines.append(f"<b>{label}</b>: here “{_short(a)}” · other laptop “{_short(b)}”")
    if [s.__dict__ for s in local.sites] != [s.__dict__ for s in remote.sites]:
        lines.append("<b>Sites</b> differ")
    if local.consents != remote.consents:
        lines.append("<b>Consent entries</b> differ")
    return HEADLINE + ("<br>" + "<br>".join(lines) if lines else "")


class ConflictBanner(QFrame):
    """A red banner with the differences and two buttons: keep this laptop's, or take the other's."""

    keepChosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet("QFrame { background: #FDECEA; border: 1px solid #D0343A; border-radius: 4px; }"
                           "QLabel { color: #7A1A1D; border: none; }")
        bl = QHBoxLayout(self)
        self.text = QLabel(HEADLINE)
        self.text.setWordWrap(True)
        self.keep_local = QPushButton("Keep this laptop's")
        self.keep_remote = QPushButton("Take the other laptop's")
        self.keep_local.clicked.connect(lambda: self.keepChosen.emit("local"))
        self.keep_remote.clicked.connect(lambda: self.keepChosen.emit("remote"))
        bl.addWidget(self.text, 1)
        bl.addWidget(self.keep_local)
        bl.addWidget(self.keep_remote)
        self.hide()

    def show_versions(self, versions) -> None:
        """Show the differences of ``(local, remote)``, or only the headline when ``versions`` is None."""
        self.text.setText(HEADLINE if versions is None else conflict_text(*versions))
