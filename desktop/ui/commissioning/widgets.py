"""Editors for parameters, the confirmation and installer-login dialogs, and a result label.

GUI thread only. ``editor_for`` picks an editor by the parameter's kind: a
list of choices, a spin box bounded by the profile's range with its unit and
resolution, a date-time for the device clock, a line for text. ``Prompts``
bundles the two questions the commissioning pages ask (confirm a
safety-relevant change, give the installer code); a page holds one, and a
test can hand it another.
"""

from __future__ import annotations

from PySide6.QtCore import QDateTime, QRegularExpression
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.commission.params import ParamInfo

CLOCK_POINT = "device_time_unix_s"
COLOURS = {"ok": "#1e7b45", "bad": "#b3261e", "warn": "#9a5b00", "busy": "#3a6ea5"}
REFUSED_TEXT = "Installer code refused"   # the device answered the login with an exception: not a link error


class _AllowedRange:
    """A spin box that keeps what was typed and marks, never alters, a value outside the allowed range.

    A plain QSpinBox drops the keystroke that leaves its range ("60" in 5..50
    becomes "6"); this one spans its type's whole range, so the typed value
    reaches validation, which refuses it with the range named. The arrows and
    Page Up/Down step only inside the allowed range.
    """

    allowed: tuple[float, float]

    def set_allowed(self, lo: float, hi: float, unit: str) -> None:
        self.allowed = (lo, hi)
        self._unit = unit
        self.valueChanged.connect(self._mark)

    def in_range(self) -> bool:
        lo, hi = self.allowed
        return lo <= self.value() <= hi

    def stepBy(self, steps: int) -> None:  # Qt override
        lo, hi = self.allowed
        self.setValue(min(hi, max(lo, self.value() + steps * self.singleStep())))

    def stepEnabled(self):  # Qt override
        lo, hi = self.allowed
        flags = QAbstractSpinBox.StepEnabledFlag.StepNone
        if self.value() > lo:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepDownEnabled
        if self.value() < hi:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepUpEnabled
        return flags

    def _mark(self, _value) -> None:
        lo, hi = self.allowed
        outside = not self.in_range()
        self.setStyleSheet(f"border: 2px solid {COLOURS['bad']};" if outside else "")
        self.setProperty("outOfRange", outside)
        if outside:
            unit = f" {self._unit}" if self._unit else ""
            self.setToolTip(f"{self.value():g}{unit} is outside {lo:g} … {hi:g}{unit}: it will not be sent")


class StrictSpinBox(_AllowedRange, QSpinBox):
    pass


class StrictDoubleSpinBox(_AllowedRange, QDoubleSpinBox):
    pass


def editor_for(info: ParamInfo, parent: QWidget | None = None) -> QWidget:
    """An editor fit for ``info``, holding its current value."""
    if info.kind == "choice":
        w = QComboBox(parent)
        for code, label in sorted(info.choices.items()):
            w.addItem(f"{label} ({code})", code)
    elif info.name == CLOCK_POINT:
        w = QDateTimeEdit(parent)
        w.setDisplayFormat("yyyy-MM-dd HH:mm:ss")
        w.setCalendarPopup(True)
    elif info.kind == "number":
        lo = info.min if info.min is not None else -2.0 ** 31
        hi = info.max if info.max is not None else 2.0 ** 31 - 1
        w: StrictSpinBox | StrictDoubleSpinBox
        if info.decimals == 0 and lo >= -2 ** 31 and hi < 2 ** 31:
            w = StrictSpinBox(parent)
            w.setRange(-2 ** 31, 2 ** 31 - 1)   # typed values are kept, then refused with the range named
            w.setSingleStep(max(1, int(info.step)))
        else:
            w = StrictDoubleSpinBox(parent)
            w.setDecimals(info.decimals)
            w.setRange(-1e12, 1e12)
            w.setSingleStep(info.step)
        w.set_allowed(lo, hi, info.unit)
        if info.unit:
            w.setSuffix(f" {info.unit}")
        w.setAccelerated(True)
    else:
        w = QLineEdit(parent)
    w.setObjectName(f"edit_{info.name}")
    w.setToolTip(f"{info.label}: {info.allowed_text()}" + (f"\n{info.description}" if info.description else ""))
    set_editor_value(w, info.value)
    return w


def set_editor_value(w: QWidget, value) -> None:
    if value is None:
        return
    if isinstance(w, QComboBox):
        i = w.findData(int(value))
        if i >= 0:
            w.setCurrentIndex(i)
    elif isinstance(w, QDateTimeEdit):
        w.setDateTime(QDateTime.fromSecsSinceEpoch(int(value)))
    elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
        w.setValue(value)
    elif isinstance(w, QLineEdit):
        w.setText(str(value))


def editor_value(w: QWidget):
    if isinstance(w, QComboBox):
        return w.currentData()
    if isinstance(w, QDateTimeEdit):
        return int(w.dateTime().toSecsSinceEpoch())
    if isinstance(w, QSpinBox):
        return w.value()
    if isinstance(w, QDoubleSpinBox):
        return round(w.value(), w.decimals())
    return w.text()


class LoginDialog(QDialog):
    """Asks for the installer code; says it is kept in memory for this session only."""

    def __init__(self, what: str, parent: QWidget | None = None, refused: bool = False) -> None:
        """``refused``: the device refused the code given last time; the dialog says so under the field."""
        super().__init__(parent)
        self.setWindowTitle("Installer login")
        lay = QVBoxLayout(self)
        text = QLabel(f"<b>{what}</b> is protected by the device's installer login.<br>"
                      "Enter the installer code from the installation manual. PVDesk keeps it in memory "
                      "until you disconnect or close the app, never on disk.")
        text.setWordWrap(True)
        lay.addWidget(text)
        self.code = QLineEdit(self)
        self.code.setObjectName("installerCode")
        self.code.setEchoMode(QLineEdit.EchoMode.Password)
        self.code.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d{1,4}"), self))
        self.code.setPlaceholderText("4 digits")
        lay.addWidget(self.code)
        self.refused_label = QLabel(REFUSED_TEXT + ": the device did not accept the last code. "
                                    "Check it in the installation manual and enter it again.")
        self.refused_label.setObjectName("codeRefused")
        self.refused_label.setWordWrap(True)
        self.refused_label.setStyleSheet(f"color: {COLOURS['bad']};")
        self.refused_label.setVisible(refused)
        lay.addWidget(self.refused_label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Log in")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)


class Prompts:
    """The questions a commissioning page asks the installer (modal dialogs)."""

    def confirm(self, parent: QWidget, title: str, rows: list[tuple[str, str, str]]) -> bool:
        """Ask before safety-relevant changes; rows are (setting, now, new)."""
        lines = "".join(f"<tr><td>{a}</td><td>{b}</td><td>&#8594;</td><td><b>{c}</b></td></tr>" for a, b, c in rows)
        box = QMessageBox(QMessageBox.Icon.Warning, title,
                          "<p>These settings are safety-relevant. Check them against the grid operator's "
                          f"approval before writing:</p><table cellpadding='3'>{lines}</table>",
                          QMessageBox.StandardButton.Cancel, parent)
        write = box.addButton("Write to the device", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is write

    def confirm_slave(self, parent: QWidget, text: str) -> bool:
        """Write to a parallel slave anyway? (Cancel is the default.)"""
        from desktop.ui.shell.confirm_dialogs import confirm_slave_write
        return confirm_slave_write(parent, text)

    def ask_code(self, parent: QWidget, what: str, refused: bool = False) -> str | None:
        """The installer code, or None (cancelled); ``refused``: say that the last code was refused."""
        dlg = LoginDialog(what, parent, refused)
        return dlg.code.text() if dlg.exec() == QDialog.DialogCode.Accepted and dlg.code.text() else None


def show_result(label: QLabel, text: str, kind: str) -> None:
    """A status line: green for done, red for refused, amber for a warning, blue while busy."""
    label.setText(text)
    label.setStyleSheet(f"color: {COLOURS.get(kind, '')}; font-weight: {'600' if kind != 'busy' else '400'};")
    label.setProperty("kind", kind)


def html_escape(text) -> str:
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")) if text is not None else ""

