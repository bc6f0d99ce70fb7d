"""SettingsDiffDialog: what a settings file would change on the connected device, before anything is written.

GUI thread; shows a settings_file.Preview (made on the I/O thread). One row
per setting of the file: on the device now, in the file, and whether it
changes; settings that need a confirmation or the installer login are
marked; values the device would not allow are shown in red and block the
apply button; notes (e.g. another firmware version) are listed above.
Accepting the dialog is the installer's confirmation of every change shown.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from widgets.screen_fit import fit_to_screen

from desktop.ui.commissioning.widgets import COLOURS, html_escape


class SettingsDiffDialog(QDialog):
    def __init__(self, preview, parent=None, device: str | None = None) -> None:
        """``device``: which device the changes are for (the site applies one file to several)."""
        super().__init__(parent)
        self.preview = preview
        self.setWindowTitle("Apply settings file" + (f" to {device}" if device else ""))
        fit_to_screen(self, 760, 520)
        lay = QVBoxLayout(self)
        n = len(preview.changes)
        where = html_escape(device) if device else "the connected device"
        head = QLabel(f"<b>{n} setting{'s' if n != 1 else ''} will change</b> on {where} "
                      f"(file from {html_escape(preview.source)}). Unchanged settings are shown in grey.")
        head.setWordWrap(True)
        lay.addWidget(head)
        for w in preview.warnings:
            note = QLabel(f"Note: {html_escape(w)}")
            note.setWordWrap(True)
            note.setStyleSheet(f"color: {COLOURS['warn']}")
            lay.addWidget(note)
        self.table = QTableWidget(len(preview.rows), 4, self)
        self.table.setObjectName("diffTable")
        self.table.setHorizontalHeaderLabels(["Setting", "On the device", "In the file", ""])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        bold = QFont()
        bold.setBold(True)
        grey = self.palette().color(self.palette().ColorRole.PlaceholderText)
        for i, r in enumerate(preview.rows):
            marks = ", ".join(x for x, on in (("confirm", r.confirm), ("login", r.protected)) if on and r.changes)
            note = r.error or ("changes" + (f" · needs {marks}" if marks else "") if r.changes else "same")
            cells = [r.label, r.current_text, r.new_text, note]
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if r.error:
                    item.setForeground(QColor(COLOURS["bad"]))
                elif r.changes:
                    if j in (2, 3):
                        item.setFont(bold)
                else:
                    item.setForeground(grey)
                item.setData(Qt.ItemDataRole.UserRole, r.name)
                self.table.setItem(i, j, item)
        hh = self.table.horizontalHeader()
        for col in range(3):
            hh.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        lay.addWidget(self.table, 1)
        self.agree = QCheckBox("I have checked these values against the site's approval and want them written")
        lay.addWidget(self.agree)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.apply_button = buttons.addButton(f"Apply {n} change{'s' if n != 1 else ''}",
                                              QDialogButtonBox.ButtonRole.AcceptRole)
        self.apply_button.setEnabled(False)
        if preview.errors:
            err = QLabel(f"{len(preview.errors)} value(s) in the file are not allowed on this device: "
                         "nothing can be applied.")
            err.setStyleSheet(f"color: {COLOURS['bad']}; font-weight: 600")
            lay.addWidget(err)
            self.agree.setEnabled(False)
        self.agree.toggled.connect(lambda on: self.apply_button.setEnabled(on and n > 0 and not preview.errors))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
