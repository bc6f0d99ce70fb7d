"""The registers page (advanced): read any range of holding or input registers on demand.

Runs on the GUI thread; the read runs on the device I/O loop through
``bridge.call_device(lambda dev: dev.read_raw(fn, addr, count))`` and the
rows arrive as a callback. Each row shows the address (decimal and hex), the
raw value (hex and decimal) and, where a profile point starts, its name and
decoded value. A refused read (e.g. exception 02, illegal data address) is
said on the page itself, once -- never a stack of dialogs.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from widgets.flow_layout import flow_row, labelled
from widgets.row_table import RowTableModel

from desktop.core.errors import describe_error
from desktop.ui.device.register_rows import MAX_COUNT, RegisterRow, check_request, decode_rows

COLUMNS = ("Address", "Hex address", "Raw (hex)", "Raw (decimal)", "Point", "Decoded value")


class AddressSpinBox(QSpinBox):
    """0..65535, typed in decimal or as 0x hex."""

    def __init__(self) -> None:
        super().__init__()
        self.setRange(0, 0xFFFF)

    def valueFromText(self, text: str) -> int:  # Qt override
        text = text.strip().lower()
        return int(text, 16) if text.startswith("0x") else int(text or 0)

    def validate(self, text: str, pos: int):
        from PySide6.QtGui import QValidator
        t = text.strip().lower()
        try:
            if t in ("", "0x"):
                return QValidator.State.Intermediate, text, pos
            value = int(t, 16) if t.startswith("0x") else int(t)
        except ValueError:
            return QValidator.State.Invalid, text, pos
        ok = 0 <= value <= 0xFFFF
        return (QValidator.State.Acceptable if ok else QValidator.State.Invalid), text, pos


class RegisterTableModel(RowTableModel):
    """One RegisterRow a row: the address (decimal and hex), the raw word, and the point it decodes to."""

    columns = COLUMNS

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[RegisterRow] = []
        self._mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        r = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (str(r.address), f"0x{r.address:04X}", r.hex, str(r.raw), r.point, r.decoded)[col]
        if role == Qt.ItemDataRole.FontRole and col in (1, 2):
            return self._mono
        if role == Qt.ItemDataRole.TextAlignmentRole and col < 4:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and col >= 4 and r.label:
            return r.label
        if role == Qt.ItemDataRole.ForegroundRole and col == 4 and r.point.startswith("↳"):
            return QPalette().color(QPalette.ColorRole.PlaceholderText)
        return None


class RegistersPage(QWidget):
    """Function, start address, count, Read; the table; one message line."""

    def __init__(self, bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("RegistersPage")
        self.bridge = bridge
        self._busy = False
        self.function_box = QComboBox()
        self.function_box.addItem("Holding registers (03)", "holding")
        self.function_box.addItem("Input registers (04)", "input")
        self.function_box.setAccessibleName("Register function")
        self.address_spin = AddressSpinBox()
        self.address_spin.setAccessibleName("Start address")
        self.address_spin.setToolTip("Decimal, or hex with 0x (e.g. 0x1000)")
        self.count_spin = QSpinBox()
        self.count_spin.setRange(1, MAX_COUNT)
        self.count_spin.setValue(64)
        self.count_spin.setAccessibleName("Register count")
        self.read_button = QPushButton("&Read")
        self.read_button.setDefault(True)
        self.read_button.clicked.connect(self.read)
        self.message = QLabel("Reads run on demand only; nothing is written.")
        self.message.setAccessibleName("Registers page message")
        self.message.setWordWrap(True)
        self.model = RegisterTableModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Registers")
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        for col in range(4):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(4, 220)
        header.setStretchLastSection(True)

        pairs = []
        for text, widget in (("&Function", self.function_box), ("&Start address", self.address_spin),
                             ("C&ount", self.count_spin)):
            label = QLabel(text)
            label.setBuddy(widget)
            pairs.append(labelled(label, widget))
        row = flow_row(*pairs, self.read_button)   # wraps on a narrow window instead of widening the page
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(10)
        layout.addWidget(row)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)
        self.address_spin.lineEdit().returnPressed.connect(self.read)
        self.count_spin.lineEdit().returnPressed.connect(self.read)

    def set_request(self, function: str, address: int, count: int) -> None:
        self.function_box.setCurrentIndex(max(0, self.function_box.findData(function)))
        self.address_spin.setValue(address)
        self.count_spin.setValue(count)

    def read(self) -> None:
        """Read what the fields say; the rows (or the error) arrive as a callback."""
        if self._busy:
            return
        function = self.function_box.currentData()
        address, count = self.address_spin.value(), self.count_spin.value()
        try:
            check_request(function, address, count)
        except ValueError as exc:
            self._say(str(exc), error=True)
            return
        self._busy = True
        self.read_button.setEnabled(False)
        self._say(f"Reading {count} {function} register{'s' if count != 1 else ''} from {address}…")
        started = time.perf_counter()

        def done(registers: list) -> None:
            self._done(function, address, registers, time.perf_counter() - started)

        self.bridge.call_device(lambda device: device.read_raw(function, address, count), done, self._failed)

    def _done(self, function: str, address: int, registers: list, elapsed_s: float) -> None:
        self._busy = False
        self.read_button.setEnabled(True)
        sample = self.bridge.last_sample
        rows = decode_rows(self.bridge.profile, function, address, list(registers),
                           sample.values if sample is not None else None)
        self.model.set_rows(rows)
        points = sum(1 for r in rows if r.point and not r.point.startswith("↳"))
        self._say(f"Read {len(rows)} {function} registers {address}–{address + len(rows) - 1} in "
                  f"{elapsed_s * 1000:.0f} ms; {points} profile point{'s' if points != 1 else ''} start in this range.")

    def _failed(self, exc: BaseException) -> None:
        self._busy = False
        self.read_button.setEnabled(True)
        self._say("The read failed: " + describe_error(exc), error=True)

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #D0343A;" if error else "")
