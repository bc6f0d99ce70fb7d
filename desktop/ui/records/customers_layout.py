"""The Customers page's widgets: the customers list (and its table model) and the record panel.

GUI thread. ``build_list(page)`` and ``build_record(page)`` make the widgets
and set them on the page under the names the page's methods use
(``page.search``, ``page.table``, ``page.form``, ``page.save_button``, ...);
the behaviour is the page's own (customers_page.py).
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.records.consent import PURPOSES
from desktop.records.sync_config import STATUS_TEXT
from desktop.ui.records.record_form import RecordForm

STATUS_COLOUR = {"synced": "#2E9E5B", "pending": "#C27C00", "conflict": "#D0343A",
                  "renew": "#C27C00", "restricted": "#8E44AD"}
_COLUMNS = ("Name", "Contact", "Site", "kWp", "Cloud sync")


class CustomerTableModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list = []

    def set_rows(self, rows: list) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return len(_COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _COLUMNS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        r = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (r.name, r.contact, r.site,
                    "" if r.capacity_kwp is None else f"{r.capacity_kwp:.1f}",
                    STATUS_TEXT.get(r.sync_status, r.sync_status))[col]
        if role == Qt.ItemDataRole.ForegroundRole and col == 4 and r.sync_status in STATUS_COLOUR:
            return QColor(STATUS_COLOUR[r.sync_status])
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.UserRole:
            return r.id
        return None


def build_list(page) -> QWidget:
    """The left side: search, the customers list with its sync status, the buttons and the sync line."""
    # -- left: search and list ---------------------------------------------------
    left = QWidget()
    ll = QVBoxLayout(left)
    ll.setContentsMargins(0, 0, 6, 0)
    page.search = QLineEdit()
    page.search.setPlaceholderText("Search name, phone, e-mail, address, site or serial number")
    page.search.setClearButtonEnabled(True)
    page._search_timer = QTimer(page, singleShot=True, interval=150)
    page._search_timer.timeout.connect(page.refresh)
    page.search.textChanged.connect(lambda _: page._search_timer.start())
    ll.addWidget(page.search)
    page.model = CustomerTableModel()
    page.table = QTableView()
    page.table.setModel(page.model)
    page.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    page.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    page.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    page.table.setAlternatingRowColors(True)
    page.table.verticalHeader().hide()
    page.table.setShowGrid(False)
    page.table.setWordWrap(False)
    page.table.setTextElideMode(Qt.TextElideMode.ElideRight)
    page.table.verticalHeader().setDefaultSectionSize(28)
    hh = page.table.horizontalHeader()
    hh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    for col, width in ((1, 170), (2, 120), (3, 52), (4, 150)):
        hh.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
        hh.resizeSection(col, width)
    page.table.selectionModel().currentRowChanged.connect(page._row_changed)
    ll.addWidget(page.table, 1)
    bar = QHBoxLayout()
    page.count_label = QLabel()
    page.new_button = QPushButton("New customer")
    page.new_button.clicked.connect(page.new_customer)
    page.sync_button = QPushButton("Sync now")
    page.sync_button.clicked.connect(page.start_sync)
    page.review_button = QPushButton("Review expired…")
    page.review_button.setStyleSheet("QPushButton { color: #C27C00; }")
    page.review_button.clicked.connect(page.review_expired)
    bar.addWidget(page.count_label, 1)
    bar.addWidget(page.review_button)
    bar.addWidget(page.new_button)
    bar.addWidget(page.sync_button)
    ll.addLayout(bar)
    page.sync_label = QLabel("Not synced in this session")
    page.sync_label.setWordWrap(True)
    page.sync_label.setStyleSheet("color: palette(placeholder-text);")
    ll.addWidget(page.sync_label)
    return left


def build_record(page) -> QWidget:
    """The right side: title, conflict banner, consent per purpose, the form and the rights."""
    # -- right: the record ------------------------------------------------------------
    right = QWidget()
    rl = QVBoxLayout(right)
    rl.setContentsMargins(6, 0, 0, 0)
    page.title = QLabel("New customer")
    f = page.title.font()
    f.setPointSizeF(f.pointSizeF() * 1.4)
    f.setBold(True)
    page.title.setFont(f)
    page.badge = QLabel()
    head = QHBoxLayout()
    head.addWidget(page.title, 1)
    head.addWidget(page.badge)
    rl.addLayout(head)

    page.banner = QFrame()
    page.banner.setStyleSheet("QFrame { background: #FDECEA; border: 1px solid #D0343A; border-radius: 4px; }"
                              "QLabel { color: #7A1A1D; border: none; }")
    bl = QHBoxLayout(page.banner)
    page.banner_text = QLabel("This record was also changed on another laptop. Choose the version to keep.")
    page.banner_text.setWordWrap(True)
    page.keep_local = QPushButton("Keep this laptop's")
    page.keep_remote = QPushButton("Take the other laptop's")
    page.keep_local.clicked.connect(lambda: page.resolve_conflict("local"))
    page.keep_remote.clicked.connect(lambda: page.resolve_conflict("remote"))
    bl.addWidget(page.banner_text, 1)
    bl.addWidget(page.keep_local)
    bl.addWidget(page.keep_remote)
    page.banner.hide()
    rl.addWidget(page.banner)

    consent_box = QFrame()
    consent_box.setFrameShape(QFrame.Shape.StyledPanel)
    grid = QGridLayout(consent_box)
    grid.addWidget(QLabel("<b>Consent</b>"), 0, 0, 1, 3)
    page.consent_labels: dict[str, QLabel] = {}
    page.consent_buttons: dict[str, QPushButton] = {}
    for row, key in enumerate(PURPOSES, 1):
        grid.addWidget(QLabel(PURPOSES[key].title), row, 0)
        page.consent_labels[key] = QLabel()
        grid.addWidget(page.consent_labels[key], row, 1)
        btn = QPushButton("Consent…")
        btn.clicked.connect(lambda _=False, k=key: page.edit_consent(k))
        page.consent_buttons[key] = btn
        grid.addWidget(btn, row, 2)
    grid.setColumnStretch(1, 1)
    rl.addWidget(consent_box)

    page.form = RecordForm()
    page.form.changed.connect(lambda: page.save_button.setEnabled(True))
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(page.form)
    rl.addWidget(scroll, 1)

    actions = QHBoxLayout()
    page.save_button = QPushButton("Save")
    page.save_button.setDefault(True)
    page.save_button.clicked.connect(page.save)
    page.history_button = QPushButton("History…")
    page.history_button.setToolTip("Every access, change, export, share and sync of this record")
    page.history_button.clicked.connect(page.show_history)
    page.export_button = QPushButton("Export JSON…")
    page.export_button.clicked.connect(page.export_current)
    page.restrict_button = QPushButton("Restrict processing")
    page.restrict_button.clicked.connect(page.toggle_restriction)
    page.delete_button = QPushButton("Delete customer…")
    page.delete_button.setStyleSheet("QPushButton { color: #C0392B; }")
    page.delete_button.clicked.connect(page.delete_current)
    actions.addWidget(page.save_button)
    actions.addStretch(1)
    for b in (page.history_button, page.export_button, page.restrict_button, page.delete_button):
        actions.addWidget(b)
    rl.addLayout(actions)
    return right
