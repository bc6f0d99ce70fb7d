"""Confirmations of dangerous actions, each with a safe default: firmware upgrade, a write to a parallel
slave, erasure, a new passphrase.

Runs on the GUI thread. Every question here defaults to the harmless answer:
Enter or Escape on the upgrade question means No; a deletion needs the
customer's name typed before its button works; a new records passphrase is
typed twice and must match (one typo would otherwise lock the records for
good). Pages keep the functions as replaceable hooks so tests can answer.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

#: The bootloader takes at most this many image bytes per chunk (registers.CHUNK_DATA_MAX).
_CHUNK_BYTES = 240
#: Seconds one chunk takes on the slowest link PVDesk supports (RS-485 at 9600 baud, with the answer).
_SLOW_CHUNK_S = 0.3
#: Reboot into the new image, health check, confirmation, settings restore.
_REBOOT_AND_CHECK_S = 90.0


def upgrade_minutes(image_size_bytes: int) -> int:
    """Whole minutes the inverter is out of service for an image of this size, on the slowest link."""
    chunks = math.ceil(max(0, image_size_bytes) / _CHUNK_BYTES)
    return max(1, math.ceil((chunks * _SLOW_CHUNK_S + _REBOOT_AND_CHECK_S) / 60.0))


def upgrade_question(serial: str, component: str, old: str, new: str, image_size_bytes: int) -> str:
    """The text of the upgrade confirmation (a function of its own so the wording is tested)."""
    minutes = upgrade_minutes(image_size_bytes)
    return (f"Upgrade {component} of the inverter with serial {serial or 'unknown'} from {old or 'unknown'} "
            f"to {new}?\n\nThe inverter stops feeding in while it upgrades: about {minutes} minute"
            f"{'s' if minutes != 1 else ''} (less on a fast link). Settings are backed up before and restored "
            f"after. Keep the laptop powered and the cable connected; an interrupted upload resumes.")


def confirm_upgrade(parent: QWidget, text: str) -> bool:
    """Yes/No with No as the default and Escape as No."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Upgrade the firmware?", text,
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, parent)
    box.button(QMessageBox.StandardButton.Yes).setText("Upgrade")
    box.setDefaultButton(QMessageBox.StandardButton.No)
    box.setEscapeButton(QMessageBox.StandardButton.No)
    return box.exec() == QMessageBox.StandardButton.Yes


def confirm_downgrade(parent: QWidget | None, text: str) -> bool:
    """Install an older (or the same) firmware? No is the default and Escape."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Install an older firmware?",
                      f"{text}\n\nSettings are backed up and restored. Go on?",
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, parent)
    box.button(QMessageBox.StandardButton.Yes).setText("Install the older firmware")
    box.setDefaultButton(QMessageBox.StandardButton.No)
    box.setEscapeButton(QMessageBox.StandardButton.No)
    return box.exec() == QMessageBox.StandardButton.Yes


def slave_write_question(device: str, what: str, master: str | None = None) -> str:
    """The text of the warning before a write to a parallel slave (a function of its own: tested wording)."""
    who = f"the master ({master})" if master else "the master of its parallel system"
    return (f"{device} is a parallel slave: its settings follow {who}.\n\n{what} on the slave may be "
            f"overwritten by the master, or leave the two disagreeing (the parallel system may stop). Change "
            f"the setting on the master instead, unless the manufacturer's manual says this one is set per unit.")


def confirm_slave_write(parent: QWidget | None, text: str) -> bool:
    """Write to the slave anyway? Cancel is the default and Escape."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Write to a parallel slave?", text,
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, parent)
    box.button(QMessageBox.StandardButton.Yes).setText("Write to the slave")
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.setEscapeButton(QMessageBox.StandardButton.Cancel)
    return box.exec() == QMessageBox.StandardButton.Yes


class TypeToConfirmDialog(QDialog):
    """An irreversible action: its button is enabled only once ``expected`` is typed; Cancel is the default."""

    def __init__(self, parent: QWidget | None, title: str, text: str, expected: str, action: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.expected = " ".join(expected.split()).casefold()
        lay = QVBoxLayout(self)
        label = QLabel(text)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        lay.addWidget(label)
        form = QFormLayout()
        self.entry = QLineEdit()
        self.entry.setAccessibleName("Type the name to confirm")
        form.addRow(f"Type “{expected}” to confirm:", self.entry)
        lay.addLayout(form)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.action_button = self.buttons.addButton(action, QDialogButtonBox.ButtonRole.DestructiveRole)
        self.action_button.setEnabled(False)
        self.action_button.setAutoDefault(False)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setDefault(True)
        self.action_button.clicked.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self.entry.textChanged.connect(self._on_text)

    def matches(self) -> bool:
        return bool(self.expected) and " ".join(self.entry.text().split()).casefold() == self.expected

    def _on_text(self, _text: str) -> None:
        self.action_button.setEnabled(self.matches())

    def accept(self) -> None:
        if self.matches():  # Enter in the field must not bypass the check
            super().accept()


def confirm_by_typing(parent: QWidget | None, title: str, text: str, expected: str, action: str) -> bool:
    dialog = TypeToConfirmDialog(parent, title, text, expected, action)
    return dialog.exec() == QDialog.DialogCode.Accepted and dialog.matches()


def passphrase_strength(passphrase: str) -> str:
    """A short hint: "too short", "weak", "fair" or "strong" (length and character classes)."""
    if len(passphrase) < 8:
        return "too short (at least 8 characters)"
    classes = sum(any(f(c) for c in passphrase) for f in (str.islower, str.isupper, str.isdigit,
                                                           lambda c: not c.isalnum()))
    score = len(passphrase) // 4 + classes
    return "strong" if score >= 7 else "fair" if score >= 5 else "weak: longer, or mix words, digits and signs"


class NewPassphraseDialog(QDialog):
    """A new records passphrase, typed twice; OK only when both match and it is at least 8 characters."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New customer records passphrase")
        lay = QVBoxLayout(self)
        note = QLabel("No records store exists yet: one is created with this passphrase. Without it the "
                      "records cannot be opened by anyone, so keep it safe.")
        note.setWordWrap(True)
        lay.addWidget(note)
        form = QFormLayout()
        self.first = QLineEdit()
        self.second = QLineEdit()
        for field, name in ((self.first, "Passphrase"), (self.second, "Passphrase again")):
            field.setEchoMode(QLineEdit.EchoMode.Password)
            field.setAccessibleName(name)
            field.textChanged.connect(self._check)
        self.hint = QLabel("")
        form.addRow("Passphrase:", self.first)
        form.addRow("Again:", self.second)
        form.addRow("", self.hint)
        lay.addLayout(form)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self._check()

    def problem(self) -> str | None:
        """Why the passphrase cannot be taken yet, or None."""
        first = self.first.text()
        if len(first) < 8:
            return "at least 8 characters"
        if first != self.second.text():
            return "the two entries differ"
        return None

    def _check(self, _text: str = "") -> None:
        problem = self.problem()
        strength = passphrase_strength(self.first.text()) if self.first.text() else ""
        self.hint.setText(f"Strength: {strength}" + (f" — {problem}" if problem and self.first.text() else ""))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(problem is None)

    def accept(self) -> None:
        if self.problem() is None:
            super().accept()

    def passphrase(self) -> str:
        return self.first.text()


def ask_new_passphrase(parent: QWidget | None) -> str | None:
    dialog = NewPassphraseDialog(parent)
    return dialog.passphrase() if dialog.exec() == QDialog.DialogCode.Accepted else None
