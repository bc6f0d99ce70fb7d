"""The Bluetooth LE and Wi-Fi data logger parts of the connection panel.

Runs on the GUI thread. Scanning (BLE) and logger discovery (Solarman V5,
UDP) run on the device I/O loop through the bridge's ``submit``; results and
errors come back as callbacks on the GUI thread, so the window never waits
on the radio. An error (no adapter, adapter off, permission denied) is shown
under the form with what to do.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QWidget

from protocols.links.factory import LinkSpec

from desktop.core.errors import describe_error
from desktop.device.connect import parse_host_port

BARS = ("▁", "▂", "▄", "▆", "█")


def _hint_label() -> QLabel:
    label = QLabel("")
    label.setWordWrap(True)
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    return label


class BleForm(QWidget):
    """Device (address or name, filled by Scan) for a Bluetooth LE link."""

    def __init__(self, submit=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._submit = submit
        self.device_box = QComboBox()
        self.device_box.setEditable(True)
        self.device_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.device_box.lineEdit().setPlaceholderText("Scan, or type a name or address")
        self.device_box.setAccessibleName("Bluetooth device")
        self.scan_button = QPushButton("&Scan")
        self.scan_button.setAccessibleName("Scan for Bluetooth inverters")
        self.scan_button.setToolTip("Lists inverters a profile recognises, strongest signal first (5 s)")
        self.scan_button.clicked.connect(self.scan)
        self.status = _hint_label()
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        label = QLabel("De&vice")
        label.setBuddy(self.device_box)
        form.addRow(label, self.device_box)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.scan_button)
        row.addStretch(1)
        form.addRow(row)
        form.addRow(self.status)

    def set_submit(self, submit) -> None:
        self._submit = submit

    def scan(self, timeout_s: float = 5.0) -> None:
        """Scan on the I/O loop; the list fills when it ends."""
        if self._submit is None:
            return
        from protocols.links import ble  # bleak loads only when used
        self.scan_button.setEnabled(False)
        self.status.setText("Scanning…")
        self._submit(lambda: ble.scan(timeout_s), self._scanned, self._failed)

    def _scanned(self, devices) -> None:
        self.scan_button.setEnabled(True)
        typed = self.device_box.currentText()
        self.device_box.clear()
        for d in devices:
            rssi = f"{d.rssi_dbm} dBm" if d.rssi_dbm is not None else "signal unknown"
            self.device_box.addItem(f"{d.name}   {BARS[d.signal_bars]} {rssi}", d.address)
            self.device_box.setItemData(self.device_box.count() - 1,
                                        f"{d.name}\n{d.address}\nprofile {d.profile}\n{rssi}",
                                        Qt.ItemDataRole.ToolTipRole)
        if devices:
            self.device_box.setCurrentIndex(0)
            first = devices[0]
            more = f" and {len(devices) - 1} more" if len(devices) > 1 else ""
            self.status.setText(f"Found {first.name} ({first.address}, {first.profile}){more}.")
        else:
            self.device_box.setEditText(typed)
            self.status.setText("No inverter found. Is its Bluetooth on, and are you within a few metres?")

    def _failed(self, exc) -> None:
        self.scan_button.setEnabled(True)
        self.status.setText(describe_error(exc))

    def address(self) -> str:
        """The chosen device's address, or the name or address typed in."""
        text = self.device_box.currentText().strip()
        index = self.device_box.findText(text)
        return self.device_box.itemData(index) if index >= 0 else text

    def spec(self) -> LinkSpec:
        address = self.address()
        if not address:
            raise ValueError("Scan for the inverter, or type its Bluetooth name or address.")
        return LinkSpec(kind="ble", ble_address=address, timeout_s=2.0)


class V5Form(QWidget):
    """Host, port and logger serial for a Solarman V5 Wi-Fi data logger; Discover fills them."""

    def __init__(self, submit=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._submit = submit
        self.host_edit = QLineEdit()
        self.host_edit.setPlaceholderText("192.168.1.60")
        self.host_edit.setAccessibleName("Logger host")
        self.port_spin = QSpinBox()
        self.port_spin.setRange(1, 65535)
        self.port_spin.setValue(8899)
        self.port_spin.setAccessibleName("Logger port")
        self.serial_edit = QLineEdit()
        # Serials reach 10 digits (above a 32-bit signed int): checked in spec(), not by a validator.
        self.serial_edit.setPlaceholderText("printed on the stick, e.g. 2712345678")
        self.serial_edit.setAccessibleName("Logger serial number")
        self.discover_button = QPushButton("&Discover")
        self.discover_button.setAccessibleName("Discover Wi-Fi loggers on this network")
        self.discover_button.setToolTip("Asks loggers on the local network to answer (not every firmware does)")
        self.discover_button.clicked.connect(self.discover)
        self.status = _hint_label()
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        for text, widget in (("Logger &host", self.host_edit), ("Po&rt", self.port_spin),
                             ("Logger &serial", self.serial_edit)):
            label = QLabel(text)
            label.setBuddy(widget)
            form.addRow(label, widget)
        form.addRow(self.discover_button)
        form.addRow(self.status)

    def set_submit(self, submit) -> None:
        self._submit = submit

    def discover(self, address: str = "255.255.255.255", timeout_s: float = 2.0, port: int = 48899) -> None:
        """Ask loggers to answer (UDP, on the I/O loop); the first one found fills the form."""
        if self._submit is None:
            return
        from protocols.links import solarman
        self.discover_button.setEnabled(False)
        self.status.setText("Asking loggers to answer…")
        self._submit(lambda: solarman.discover(timeout_s, address, port), self._found, self._failed)

    def _found(self, loggers) -> None:
        self.discover_button.setEnabled(True)
        if not loggers:
            self.status.setText("No logger answered. Enter its IP address and the serial printed on the stick.")
            return
        first = loggers[0]
        self.host_edit.setText(first.ip)
        self.serial_edit.setText(str(first.serial))
        others = ", ".join(f"{lg.ip} (#{lg.serial})" for lg in loggers[1:])
        self.status.setText(f"Found {first.ip} (#{first.serial})" + (f"; also {others}" if others else "") + ".")

    def _failed(self, exc) -> None:
        self.discover_button.setEnabled(True)
        self.status.setText(describe_error(exc))

    def spec(self) -> LinkSpec:
        text = self.host_edit.text().strip()
        if not text:
            raise ValueError("Enter the Wi-Fi logger's IP address (or press Discover).")
        serial = self.serial_edit.text().strip()
        if not serial.isdigit() or not 0 < int(serial) < 2**32:
            raise ValueError("Enter the logger's serial number, as printed on the stick (digits only).")
        host, port = parse_host_port(text, self.port_spin.value())
        return LinkSpec(kind="v5", host=host, port=port, logger_serial=int(serial), timeout_s=2.0)

    def set_spec(self, spec: LinkSpec) -> None:
        self.host_edit.setText(spec.host)
        self.port_spin.setValue(spec.port or 8899)
        self.serial_edit.setText(str(spec.logger_serial or ""))
