"""The device page: model, serial numbers, ratings, and the firmware version of every component.

Runs on the GUI thread. It shows what the bridge reports when a link opens
(``linkOpened``, ``identityReady``, ``firmwareReady``); "Read again" asks the
device once more through ``bridge.call_device`` (the answer comes back as a
callback on this thread, never by waiting).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QBoxLayout,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from protocols import codecs

from widgets.value_tile import format_with_unit

from desktop.core.errors import describe_error

FIRMWARE_COLUMNS = ("Component", "Firmware version", "Hardware revision", "Serial number")
# Live values worth seeing beside the identity (those the profile has, canonical names or aliases).
STATUS_POINTS = ("run_state", "inverter_temperature_c", "heatsink_temperature_c", "ambient_temperature_c",
                 "battery_soh_pct", "battery_temperature_c", "grid_code", "work_mode", "export_limit_w")


def show_value(point, value) -> str:
    """Display text of an identity value: units scaled, codes in hex beside decimal, n/a."""
    if value is None or value is codecs.NOT_IMPLEMENTED:
        return "n/a"
    if point is None:
        return str(value)
    if point.unit in ("W", "Wh", "VA") and isinstance(value, (int, float)):
        return format_with_unit(float(value), point.unit)
    if point.name.endswith("_code") and not point.enum and isinstance(value, int):
        return f"0x{value:04X} ({value})"
    from protocols.reader import describe
    return describe(point, value)


class DevicePage(QWidget):
    """Identity form and firmware table of the connected device."""

    def __init__(self, bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DevicePage")
        self.bridge = bridge
        self.identity: dict = {}
        self.firmware: list[dict] = []
        self._profile = None
        self._export_limit_on = None   # the last export_limit_enabled read (a slow point)

        self.title = QLabel("No device connected")
        font = QFont(self.title.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setWeight(QFont.Weight.DemiBold)
        self.title.setFont(font)
        self.title.setAccessibleName("Device model")
        self.subtitle = QLabel("Connect to an inverter to see its model, serial numbers, ratings and the "
                               "firmware version of every component.")
        self.subtitle.setWordWrap(True)
        self.subtitle.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.reload_button = QPushButton("&Read again")
        self.reload_button.setToolTip("Read identity and firmware versions from the device again")
        self.reload_button.setEnabled(False)
        self.reload_button.clicked.connect(self.reload)
        self.status = QLabel("")
        self.status.setAccessibleName("Device page status")
        head = QHBoxLayout()
        titles = QVBoxLayout()
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        head.addLayout(titles, 1)
        head.addWidget(self.status)
        head.addWidget(self.reload_button, 0, Qt.AlignmentFlag.AlignTop)

        self.identity_box = QGroupBox("Identity and ratings")
        self.identity_form = QFormLayout(self.identity_box)
        self.identity_form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        self.link_box = QGroupBox("Connection")
        self.link_form = QFormLayout(self.link_box)
        self.status_box = QGroupBox("Live status")
        self.status_form = QFormLayout(self.status_box)
        self._status_labels: dict[str, QLabel] = {}
        self.table = QTableWidget(0, len(FIRMWARE_COLUMNS))
        self.table.setHorizontalHeaderLabels(FIRMWARE_COLUMNS)
        self.table.setAccessibleName("Firmware versions")
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        firmware_box = QGroupBox("Firmware")
        fw_layout = QVBoxLayout(firmware_box)
        fw_layout.addWidget(self.table)

        left = QVBoxLayout()
        left.addWidget(self.identity_box)
        left.addWidget(self.link_box)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(firmware_box)
        right.addWidget(self.status_box)
        right.addStretch(1)
        body = self._body = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        body.setSpacing(16)
        body.addLayout(left, 2)
        body.addLayout(right, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(12)
        layout.addLayout(head)
        layout.addLayout(body, 1)
        self.identity_box.setVisible(False)
        self.link_box.setVisible(False)
        self.status_box.setVisible(False)

        bridge.linkOpened.connect(self.on_link_opened)
        bridge.identityReady.connect(self.show_identity)
        bridge.firmwareReady.connect(self.show_firmware)
        bridge.stateChanged.connect(self.on_state)
        bridge.sampleReady.connect(self.on_sample)

    #: Below this width (logical px) the firmware and live-status column goes under the identity column.
    ONE_COLUMN_BELOW_PX = 1000

    def fit_width(self, width_px: int) -> None:
        """Two columns side by side on a wide window, one above the other on a narrow one."""
        direction = (QBoxLayout.Direction.TopToBottom if width_px < self.ONE_COLUMN_BELOW_PX
                     else QBoxLayout.Direction.LeftToRight)
        if self._body.direction() != direction:
            self._body.setDirection(direction)

    # -- bridge signals ----------------------------------------------------
    def on_link_opened(self, link) -> None:
        """``link``: the LinkOpened event (desktop/device/events.py), which carries the profile."""
        self._profile = link.profile
        self._export_limit_on = None
        self._status_labels.clear()
        _clear_form(self.status_form)
        self.status_box.setVisible(False)
        _clear_form(self.link_form)
        spec = link.spec
        unverified = link.profile is not None and not getattr(link.profile, "verified", True)
        rows = [("Profile", f"{link.title} ({link.profile_name})"
                 + (" — unverified on hardware: no real capture proves this map yet" if unverified else "")),
                ("Link", "Built-in simulator (demo)" if link.demo else link.label),
                ("Unit ID", str(link.unit))]
        if spec.get("kind") == "serial":
            rows.append(("Line", f"{spec.get('baud')} baud, 8{spec.get('parity')}{spec.get('stopbits')}"))
        rows += _sunspec_rows(self._profile)
        for label, text in rows:
            self.link_form.addRow(f"{label}:", _value_label(text))
        self.link_box.setVisible(True)
        self.reload_button.setEnabled(True)

    def on_state(self, state: str, _detail: str) -> None:
        self.reload_button.setEnabled(state in ("connected", "reconnecting"))
        if state == "disconnected":
            self.status.setText("Not connected: showing the last values read")

    def on_sample(self, sample) -> None:
        """Identity points the poller read once (ratings) join the identity; status values update."""
        profile = self._profile
        if profile is None:
            return
        extra = {p.name: sample.values[p.name] for p in profile.points
                 if p.category == "identity" and p.name in sample.values and p.name not in self.identity}
        if extra and self.identity:
            self.show_identity({**self.identity, **extra})
        for canonical in STATUS_POINTS:
            name = profile.resolve(canonical)
            if not name or name not in sample.values:
                continue
            text = show_value(profile.point(name), sample.values[name])
            if canonical == "export_limit_w":
                enabled = profile.resolve("export_limit_enabled")
                if enabled and enabled in sample.values:   # settings come with the slow reads: keep the last
                    self._export_limit_on = sample.values[enabled]
                flag = self._export_limit_on
                if flag is not None and flag is not codecs.NOT_IMPLEMENTED and not flag:
                    text += " (limit off: export is not limited)"
            label = self._status_labels.get(name)
            if label is None:
                label = self._status_labels[name] = _value_label(text)
                self.status_form.addRow(f"{profile.point(name).label or name}:", label)
                self.status_box.setVisible(True)
            elif label.text() != text:
                label.setText(text)

    def show_identity(self, identity: dict) -> None:
        profile = self._profile
        order = {p.name: i for i, p in enumerate(profile.points)} if profile is not None else {}
        self.identity = dict(sorted(identity.items(), key=lambda kv: order.get(kv[0], len(order))))
        identity = self.identity
        _clear_form(self.identity_form)
        for name, value in identity.items():
            point = profile.point(name) if profile is not None and profile.has(name) else None
            label = point.label if point is not None and point.label else name
            self.identity_form.addRow(f"{label}:", _value_label(show_value(point, value)))
        self.identity_box.setVisible(True)

        def canonical(name: str) -> str:  # the profile's own point for a canonical name (SunSpec: m1_md...)
            point = profile.resolve(name) if profile is not None else name
            return _text(identity.get(point or name))
        model = canonical("model_name")
        vendor = canonical("manufacturer") or (profile.vendor if profile is not None else "")
        if vendor and model.lower().startswith(vendor.lower()):
            vendor = ""
        serial = canonical("serial_number")
        self.title.setText(" ".join(t for t in (vendor, model) if t) or "Unknown model")
        self.subtitle.setText(f"Serial number {serial}" if serial else "The device does not report a serial number")
        self.status.setText("")

    def show_firmware(self, components: list) -> None:
        self.firmware = list(components)
        self.table.setRowCount(len(components))
        for row, c in enumerate(components):
            cells = (c.get("label") or c.get("component", ""), c.get("version"), c.get("hardware"), c.get("serial"))
            for col, value in enumerate(cells):
                text = "n/a" if value is None and col == 1 else ("—" if value is None else str(value))
                item = QTableWidgetItem(text)
                if col == 0:
                    item.setData(Qt.ItemDataRole.UserRole, c.get("component"))
                self.table.setItem(row, col, item)
        header = self.table.horizontalHeader().height()
        rows = sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
        self.table.setFixedHeight(header + rows + 2 * self.table.frameWidth() + 6)

    # -- actions -----------------------------------------------------------
    def reload(self) -> None:
        """Read identity and firmware again (results arrive as callbacks)."""
        self.status.setText("Reading…")
        self.reload_button.setEnabled(False)

        async def both(device):
            return await device.identity(), await device.firmware()

        def done(result) -> None:
            self.show_identity(result[0])
            self.show_firmware(result[1])
            self.reload_button.setEnabled(True)

        def failed(exc) -> None:
            self.status.setText(f"Could not read: {describe_error(exc)}")
            self.reload_button.setEnabled(True)

        self.bridge.call_device(both, done, failed)


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _value_label(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _clear_form(form: QFormLayout) -> None:
    while form.rowCount():
        form.removeRow(0)


def _sunspec_rows(profile) -> list[tuple[str, str]]:
    """(label, text) rows naming a SunSpec device's models: decoded ones, and those PVDesk cannot decode."""
    ss = (profile.extra.get("sunspec") or {}) if profile is not None and profile.kind == "sunspec" else {}
    if not ss:
        return []
    models = ", ".join(f"{m['id']}" + (" (short)" if m.get("short_by") else "") for m in ss.get("models", []))
    rows = [("SunSpec map", f"at {ss.get('base')}: models {models}")]
    for m in ss.get("unmapped", []):
        rows.append(("Not decoded", f"model {m['id']} at {m['address']}, {m['length']} registers"))
    return rows
