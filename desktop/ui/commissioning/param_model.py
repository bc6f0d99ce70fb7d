"""The parameters table: a model of ParamInfo rows, a delegate that edits each with a fitting editor, and
the view that starts editing the selected row's value on double-click, Enter or F2.

GUI thread only. Editing a value does not change the model: the model emits
``editRequested(name, value)`` and the page decides (validate, confirm, log
in, write, read back); the row shows the device's value again once it is
read back, and the "Last write" column says what happened.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QStyledItemDelegate, QTableView

from desktop.commission.params import ParamInfo
from desktop.ui.commissioning.widgets import CLOCK_POINT, COLOURS, editor_for, editor_value, set_editor_value

COLUMNS = ("Setting", "Value", "Unit", "Allowed values", "Needs", "Description", "Last write")
VALUE_COL, STATUS_COL = 1, 6
STATUS_WIDTH_PX = 230   # "Last write" starts at this width (the user may drag it)


def value_only(info: ParamInfo) -> str:
    """The value without its unit (the unit has its own column)."""
    v = info.value
    if v is None:
        return "n/a"
    if info.kind == "choice":
        return info.text
    if info.name == CLOCK_POINT:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(v)))
    if isinstance(v, float):
        return f"{v:.{info.decimals}f}"
    return str(v)


def allowed_short(info: ParamInfo) -> str:
    """Range, or the choices when they are few and short (all of them are in the editor and tooltip)."""
    if info.name == CLOCK_POINT:
        return "date and time"
    if info.kind == "text":
        return ""
    if info.choices:
        labels = ", ".join(v for _, v in sorted(info.choices.items()))
        return labels if len(labels) <= 34 else f"{len(info.choices)} choices"
    return info.allowed_text()


class ParamTableModel(QAbstractTableModel):
    editRequested = Signal(str, object)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[ParamInfo] = []
        self.status: dict[str, tuple[str, str]] = {}   # name -> (text, kind)
        self.busy: set[str] = set()

    def set_rows(self, rows: list[ParamInfo]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def update_row(self, info: ParamInfo) -> None:
        for i, r in enumerate(self.rows):
            if r.name == info.name:
                self.rows[i] = info
                self.dataChanged.emit(self.index(i, 0), self.index(i, len(COLUMNS) - 1))

    def has_row(self, name: str) -> bool:
        return any(r.name == name for r in self.rows)

    def row_of(self, name: str) -> int:
        return next(i for i, r in enumerate(self.rows) if r.name == name)

    def info(self, name: str) -> ParamInfo:
        return self.rows[self.row_of(name)]

    def set_status(self, name: str, text: str, kind: str) -> None:
        self.status[name] = (text, kind)
        i = self.row_of(name)
        self.dataChanged.emit(self.index(i, 0), self.index(i, len(COLUMNS) - 1))

    # ------------------------------------------------------------ Qt model
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def flags(self, index):
        f = super().flags(index)
        if index.column() == VALUE_COL and self.rows[index.row()].name not in self.busy:
            f |= Qt.ItemFlag.ItemIsEditable
        return f

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        r = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            needs = ", ".join(x for x, on in (("confirm", r.confirm), ("login", r.protected)) if on)
            status = self.status.get(r.name, ("", ""))[0]
            return (r.label, value_only(r), "" if r.name == CLOCK_POINT else r.unit, allowed_short(r),
                    needs, r.description, status)[col]
        if role == Qt.ItemDataRole.EditRole:
            return r
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join(x for x in (f"{r.label} ({r.name})", r.allowed_text(), r.description) if x)
        if role == Qt.ItemDataRole.ForegroundRole and col == STATUS_COL and r.name in self.status:
            return QColor(COLOURS.get(self.status[r.name][1], "#000000"))
        if role == Qt.ItemDataRole.FontRole and col == VALUE_COL:
            f = QFont()
            f.setBold(True)
            return f
        if role == Qt.ItemDataRole.TextAlignmentRole and col == VALUE_COL and r.kind == "number":
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.UserRole:
            return r.name
        return None

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole):
        if role == Qt.ItemDataRole.EditRole and index.column() == VALUE_COL:
            self.editRequested.emit(self.rows[index.row()].name, value)
        return False   # the device's read-back, not the editor, sets the shown value


class ParamDelegate(QStyledItemDelegate):
    """Creates the editor that fits the parameter (choices, bounded number, clock, text)."""

    def createEditor(self, parent, option, index):
        return editor_for(index.data(Qt.ItemDataRole.EditRole), parent)

    def setEditorData(self, editor, index):
        set_editor_value(editor, index.data(Qt.ItemDataRole.EditRole).value)

    def setModelData(self, editor, model, index):
        model.setData(index, editor_value(editor), Qt.ItemDataRole.EditRole)


class ParamTableView(QTableView):
    """The table: double-click, Enter or F2 edits the value of the selected row, whichever cell is current.

    Rows are selected whole, so the current cell is often the setting's name; the keys go to the value.
    """

    EDIT_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_F2)
    #: Shown only where the table is wide enough; the line under the table gives them for the selected row.
    SIDE_COLS = (4, 5, STATUS_COL)   # Needs, Description, Last write
    SIDE_MIN_PX = 260                # the least width the description gets when the side columns show

    def fit_columns(self) -> bool:
        """Hide the side columns when the main ones and a readable description do not fit; True if hidden."""
        hh = self.horizontalHeader()
        main = sum(max(self.sizeHintForColumn(c), hh.sectionSizeHint(c)) for c in range(4))
        side = max(self.sizeHintForColumn(4), hh.sectionSizeHint(4)) + STATUS_WIDTH_PX
        narrow = main + side + self.SIDE_MIN_PX > self.viewport().width()
        for col in self.SIDE_COLS:
            if hh.isSectionHidden(col) != narrow:
                hh.setSectionHidden(col, narrow)
        # narrow: the setting's name gives way (elided, whole in its tooltip) so nothing scrolls sideways
        mode = QHeaderView.ResizeMode.Stretch if narrow else QHeaderView.ResizeMode.ResizeToContents
        if hh.sectionResizeMode(0) != mode:
            hh.setSectionResizeMode(0, mode)
        return narrow

    def resizeEvent(self, event) -> None:   # Qt override
        super().resizeEvent(event)
        self.fit_columns()

    def keyPressEvent(self, event) -> None:   # Qt override
        if event.key() in self.EDIT_KEYS and self.state() != QAbstractItemView.State.EditingState \
                and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            row = self.currentIndex().row()
            if row < 0 and self.selectionModel() is not None and self.selectionModel().selectedRows():
                row = self.selectionModel().selectedRows()[0].row()
            target = self.model().index(row, VALUE_COL) if row >= 0 else QModelIndex()
            if target.isValid() and target.flags() & Qt.ItemFlag.ItemIsEditable:
                self.setCurrentIndex(target)
                self.edit(target)
                event.accept()
                return
        super().keyPressEvent(event)
