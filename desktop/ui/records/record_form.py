"""RecordForm: the customer and site fields of one record, optional ones marked "optional".

Shows plain data (a Customer from desktop.records.model) and hands back a
dict of changes; it never talks to the store itself. A customer may have
several sites: a selector switches between them, and "Add site" starts a new
one. Documents of the selected site are listed read-only. GUI thread only.
"""
from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.records.errors import ValidationError
from desktop.records.model import CUSTOMER_FIELDS, SITE_FIELDS, Customer, parse_location

_KIND_TEXT = {"commissioning_report": "Commissioning report",
              "firmware_upgrade_log": "Firmware upgrade log", "other": "Document"}


def _label(spec) -> QLabel:
    text = spec.label
    text += ' <span style="color:#c0392b">*</span>' if spec.required else \
        ' <span style="color:palette(placeholder-text)">(optional)</span>'
    lab = QLabel(text)
    lab.setTextFormat(Qt.TextFormat.RichText)
    return lab


class RecordForm(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._sites: list[dict] = []
        self._site_index = -1
        self._loading = False
        self.edits: dict[str, QWidget] = {}
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)

        cust_box = QGroupBox("Customer")
        form = QFormLayout(cust_box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for spec in CUSTOMER_FIELDS:
            if spec.key in ("postal_address", "notes"):
                w = QPlainTextEdit()
                w.setFixedHeight(52 if spec.key == "postal_address" else 64)
                w.setPlaceholderText(spec.hint)
                w.textChanged.connect(self._on_changed)
            else:
                w = QLineEdit()
                w.setPlaceholderText(spec.hint)
                w.textEdited.connect(self._on_changed)
            w.setObjectName(f"customer_{spec.key}")
            self.edits[f"customer.{spec.key}"] = w
            form.addRow(_label(spec), w)
        outer.addWidget(cust_box)

        site_box = QGroupBox("Site")
        sform = QFormLayout(site_box)
        sform.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        row = QHBoxLayout()
        self.site_combo = QComboBox()
        self.site_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.site_combo.currentIndexChanged.connect(self._switch_site)
        self.add_site_button = QPushButton("Add site")
        self.add_site_button.clicked.connect(self.add_site)
        row.addWidget(self.site_combo)
        row.addWidget(self.add_site_button)
        sform.addRow(QLabel("Sites"), row)
        for spec in SITE_FIELDS:
            w = QLineEdit()
            w.setPlaceholderText(spec.hint)
            w.setObjectName(f"site_{spec.key}")
            if spec.key == "installed_capacity_kwp":
                v = QDoubleValidator(0.0, 100000.0, 3)
                v.setNotation(QDoubleValidator.Notation.StandardNotation)
                w.setValidator(v)
            w.textEdited.connect(self._on_changed)
            self.edits[f"site.{spec.key}"] = w
            sform.addRow(_label(spec), w)
        self.documents = QListWidget()
        self.documents.setFixedHeight(64)
        self.documents.setObjectName("site_documents")
        sform.addRow(QLabel("Documents"), self.documents)
        outer.addWidget(site_box)

        self.error = QLabel()
        self.error.setObjectName("form_error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c0392b; font-weight: 600;")
        self.error.hide()
        outer.addWidget(self.error)
        outer.addStretch(1)

    # -- loading and reading back -------------------------------------------------
    def set_customer(self, customer: Customer | None) -> None:
        self._loading = True
        try:
            data = customer.to_dict() if customer else {}
            for spec in CUSTOMER_FIELDS:
                self._set(f"customer.{spec.key}", data.get(spec.key, ""))
            self._sites = [dict(s) for s in data.get("sites", [])] or [{"name": ""}]
            self._site_index = -1
            self._refresh_combo(0)
            self.show_error("")
        finally:
            self._loading = False

    def values(self) -> dict:
        """Customer fields and the full site list, as RecordsService.update_customer takes them."""
        self._commit_site()
        out = {spec.key: self._get(f"customer.{spec.key}") for spec in CUSTOMER_FIELDS}
        sites = []
        for s in self._sites:
            if s.pop("_bad_location", False):
                raise ValidationError("The site location must be 'latitude, longitude' in decimal degrees.")
            if not any(s.get(k) for k in ("name", "latitude", "installed_capacity_kwp", "device_serials")) \
                    and not s.get("site_id"):
                continue  # an untouched blank site is not a site
            sites.append(s)
        out["sites"] = sites
        return out

    def set_read_only(self, read_only: bool) -> None:
        for w in self.edits.values():
            w.setReadOnly(read_only)
        self.add_site_button.setEnabled(not read_only)

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def add_site(self) -> None:
        self._commit_site()
        self._sites.append({"name": ""})
        self._refresh_combo(len(self._sites) - 1)
        self.edits["site.name"].setFocus()
        self._on_changed()

    # -- internals --------------------------------------------------------------------
    def _set(self, key: str, value) -> None:
        w = self.edits[key]
        text = "" if value is None else str(value)
        if isinstance(w, QPlainTextEdit):
            w.setPlainText(text)
        else:
            w.setText(text)

    def _get(self, key: str) -> str:
        w = self.edits[key]
        return (w.toPlainText() if isinstance(w, QPlainTextEdit) else w.text()).strip()

    def _refresh_combo(self, index: int) -> None:
        self.site_combo.blockSignals(True)
        self.site_combo.clear()
        for i, s in enumerate(self._sites):
            self.site_combo.addItem(s.get("name") or f"New site {i + 1}")
        self.site_combo.blockSignals(False)
        self._site_index = -1
        self.site_combo.setCurrentIndex(index)
        self._switch_site(index)

    def _commit_site(self) -> None:
        if not 0 <= self._site_index < len(self._sites):
            return
        s = self._sites[self._site_index]
        s["name"] = self._get("site.name")
        try:
            s["latitude"], s["longitude"] = parse_location(self._get("site.location"))
            s.pop("_bad_location", None)
        except Exception:
            s["_bad_location"] = True
        cap = self._get("site.installed_capacity_kwp").replace(",", ".")
        s["installed_capacity_kwp"] = cap or None
        s["device_serials"] = [p.strip() for p in self._get("site.device_serials").split(",") if p.strip()]

    def _switch_site(self, index: int) -> None:
        if self._site_index == index:
            return
        was_loading, self._loading = self._loading, True
        self._commit_site()
        self._site_index = index
        s = self._sites[index] if 0 <= index < len(self._sites) else {}
        self._set("site.name", s.get("name", ""))
        lat, lon = s.get("latitude"), s.get("longitude")
        self._set("site.location", f"{lat:.6f}, {lon:.6f}" if lat is not None and lon is not None else "")
        cap = s.get("installed_capacity_kwp")
        self._set("site.installed_capacity_kwp", "" if cap in (None, "") else f"{float(cap):g}")
        self._set("site.device_serials", ", ".join(s.get("device_serials", [])))
        self.documents.clear()
        for d in s.get("documents", []):
            when = time.strftime("%Y-%m-%d", time.localtime(d.get("created_at", 0)))
            size = f"{max(1, round(d.get('size', 0) / 1024))} kB"
            self.documents.addItem(f"{_KIND_TEXT.get(d.get('kind'), 'Document')} · {when} · {size}")
        if not s.get("documents"):
            self.documents.addItem("No documents yet")
        self._loading = was_loading

    def _on_changed(self, *_):
        if not self._loading:
            self.changed.emit()
