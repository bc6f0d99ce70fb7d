"""The connection panel: where the inverter is (serial, TCP or the demo), unit id, profile, connect.

Runs on the GUI thread. It builds a ``Target`` from the form and emits
``connectRequested(Target)``; the main window hands it to the device
service, which never blocks this thread. Serial ports refresh by themselves
(``PortWatcher``, off the GUI thread) when an adapter is plugged in. A
connection that opened (the bridge's ``linkOpened``) goes to the top of the
recent list; picking a recent entry fills the form, activating it connects.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (QComboBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget,
                               QListWidgetItem, QPushButton, QSpinBox, QStackedWidget, QVBoxLayout, QWidget)

from desktop.connect import Target, parse_host_port
from protocols.links.factory import LinkSpec

from .recent import RecentConnections
from .serial_ports import PortWatcher

KINDS = (("serial", "Serial (RS-485)"), ("tcp", "Modbus TCP"), ("demo", "Demo inverter"))
BAUDS = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
PARITIES = (("N", "None"), ("E", "Even"), ("O", "Odd"))


def _profiles() -> list[str]:
    from protocols.profiles import loader  # noqa: PLC0415
    return loader.available()


class ConnectionPanel(QWidget):
    """Form + Connect/Disconnect + recent list. Signals: connectRequested(Target), disconnectRequested()."""

    connectRequested = Signal(object)
    disconnectRequested = Signal()

    def __init__(self, bridge, settings: QSettings, parent: QWidget | None = None, watch_ports: bool = True):
        super().__init__(parent)
        self.setObjectName("ConnectionPanel")
        self.settings = settings
        self.recent = RecentConnections(settings)
        self._pending: Target | None = None
        self._state = "disconnected"

        title = QLabel("Connection")
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setWeight(QFont.Weight.DemiBold)
        title.setFont(font)
        self.kind_box = QComboBox()
        for key, text in KINDS:
            self.kind_box.addItem(text, key)
        self.kind_box.setAccessibleName("Link type")
        self.stack = QStackedWidget()
        self.stack.addWidget(self._serial_form())
        self.stack.addWidget(self._tcp_form())
        demo = QLabel("Starts the built-in simulated hybrid inverter on this computer. "
                      "No hardware needed: use it to learn PVDesk or to train.")
        demo.setWordWrap(True)
        demo.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.stack.addWidget(demo)
        self.kind_box.currentIndexChanged.connect(self._on_kind)

        self.unit_spin = QSpinBox()
        self.unit_spin.setRange(0, 247)
        self.unit_spin.setValue(1)
        self.unit_spin.setAccessibleName("Unit ID")
        self.unit_spin.setToolTip("Modbus unit (slave) id of the inverter, 1 unless it was changed")
        self.profile_box = QComboBox()
        self.profile_box.addItem("Auto-detect", "auto")
        for name in _profiles():
            self.profile_box.addItem(name, name)
        self.profile_box.setAccessibleName("Device profile")
        self.profile_box.setToolTip("Auto-detect reads the identity registers (and SunSpec); override it "
                                    "when a device is not recognised")
        common = QFormLayout()
        self.kind_label = QLabel("&Link")
        self.kind_label.setBuddy(self.kind_box)
        common.addRow(self.kind_label, self.kind_box)
        self.unit_label = QLabel("&Unit ID")
        self.unit_label.setBuddy(self.unit_spin)
        common.addRow(self.unit_label, self.unit_spin)
        profile_label = QLabel("&Profile")
        profile_label.setBuddy(self.profile_box)
        common.addRow(profile_label, self.profile_box)

        self.connect_button = QPushButton("&Connect")
        self.connect_button.setDefault(True)
        self.connect_button.clicked.connect(self.request_connect)
        self.disconnect_button = QPushButton("&Disconnect")
        self.disconnect_button.clicked.connect(self.disconnectRequested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.connect_button)
        buttons.addWidget(self.disconnect_button)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Connection message")
        self.message.setVisible(False)

        recent_title = QLabel("Recent connections")
        recent_title.setFont(font)
        self.recent_list = QListWidget()
        self.recent_list.setAccessibleName("Recent connections")
        self.recent_list.setToolTip("Select to fill in the form; double-click or press Enter to connect")
        self.recent_list.currentRowChanged.connect(self._on_recent_selected)
        self.recent_list.itemActivated.connect(lambda _item: self.request_connect())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(8)
        layout.addWidget(title)
        layout.addLayout(common)
        layout.addWidget(self.stack)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addSpacing(6)
        layout.addWidget(recent_title)
        layout.addWidget(self.recent_list, 1)

        self.setTabOrder(self.kind_box, self.serial_box)
        for a, b in ((self.serial_box, self.baud_box), (self.baud_box, self.parity_box),
                     (self.parity_box, self.host_edit), (self.host_edit, self.port_spin),
                     (self.port_spin, self.unit_spin), (self.unit_spin, self.profile_box),
                     (self.profile_box, self.connect_button), (self.connect_button, self.disconnect_button),
                     (self.disconnect_button, self.recent_list)):
            self.setTabOrder(a, b)

        self.ports = PortWatcher(parent=self)
        self.ports.portsChanged.connect(self._on_ports)
        if watch_ports:
            self.ports.start()
        bridge.stateChanged.connect(self._on_state)
        bridge.linkOpened.connect(self._on_link_opened)
        self.restore_state()
        self._on_kind(self.kind_box.currentIndex())
        self._reload_recent()
        self._on_state("disconnected", "")

    # -- forms -------------------------------------------------------------
    def _serial_form(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        self.serial_box = QComboBox()
        self.serial_box.setEditable(True)
        self.serial_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.serial_box.lineEdit().setPlaceholderText("No adapter found: plug it in")
        self.serial_box.setAccessibleName("Serial port")
        self.baud_box = QComboBox()
        for baud in BAUDS:
            self.baud_box.addItem(str(baud), baud)
        self.baud_box.setCurrentIndex(BAUDS.index(9600))
        self.baud_box.setAccessibleName("Baud rate")
        self.parity_box = QComboBox()
        for key, text in PARITIES:
            self.parity_box.addItem(text, key)
        self.parity_box.setAccessibleName("Parity")
        for text, widget in (("Serial &port", self.serial_box), ("&Baud rate", self.baud_box),
                             ("Pa&rity", self.parity_box)):
            label = QLabel(text)
            label.setBuddy(widget)
            form.addRow(label, widget)
        return page

    def _tcp_form(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        self.host_edit = QLineEdit()
        self.host_edit.setPlaceholderText("192.168.1.50")
        self.host_edit.setAccessibleName("Host")
        self.host_edit.returnPressed.connect(self.request_connect)
        self.port_spin = QSpinBox()
        self.port_spin.setRange(1, 65535)
        self.port_spin.setValue(502)
        self.port_spin.setAccessibleName("TCP port")
        for text, widget in (("&Host", self.host_edit), ("P&ort", self.port_spin)):
            label = QLabel(text)
            label.setBuddy(widget)
            form.addRow(label, widget)
        return page

    def kind(self) -> str:
        return self.kind_box.currentData()

    def set_kind(self, kind: str) -> None:
        self.kind_box.setCurrentIndex(max(0, self.kind_box.findData(kind)))

    def _on_kind(self, index: int) -> None:
        self.stack.setCurrentIndex(index)
        demo = self.kind() == "demo"
        self.unit_label.setVisible(not demo)
        self.unit_spin.setVisible(not demo)
        self._show_message("")

    def _on_ports(self, ports: list) -> None:
        current = self.serial_port()
        self.serial_box.blockSignals(True)
        self.serial_box.clear()
        for port in ports:
            self.serial_box.addItem(port.text(), port.device)
        index = self.serial_box.findData(current)
        if index >= 0:
            self.serial_box.setCurrentIndex(index)
        else:
            self.serial_box.setEditText(current)
        self.serial_box.blockSignals(False)

    def serial_port(self) -> str:
        """The chosen device path: the selected port's device, or what was typed."""
        text = self.serial_box.currentText().strip()
        index = self.serial_box.findText(text)
        return self.serial_box.itemData(index) if index >= 0 else text

    # -- building the target -----------------------------------------------
    def target(self) -> Target:
        """The Target the form describes; ValueError says what to fill in."""
        kind = self.kind()
        profile = self.profile_box.currentData() or "auto"
        if kind == "demo":
            return Target(demo=True, profile=profile)
        spec = LinkSpec(kind=kind)
        if kind == "tcp":
            text = self.host_edit.text().strip()
            if not text:
                raise ValueError("Enter the inverter's IP address or host name (e.g. 192.168.1.50).")
            try:
                spec.host, spec.port = parse_host_port(text, self.port_spin.value())
            except ValueError:
                raise ValueError(f"{text!r} is not a host or host:port.") from None
        else:
            spec.serial_port = self.serial_port()
            if not spec.serial_port:
                raise ValueError("Choose the serial port of the RS-485 adapter (plug it in if the list is empty).")
            spec.baud = self.baud_box.currentData()
            spec.parity = self.parity_box.currentData()
        return Target(spec=spec, unit=self.unit_spin.value(), profile=profile)

    def set_target(self, target: Target) -> None:
        """Fill the form from ``target`` (a recent entry)."""
        if target.demo:
            self.set_kind("demo")
        else:
            self.set_kind("tcp" if target.spec.kind in ("tcp", "rtu-tcp") else "serial")
            if target.spec.kind == "serial":
                index = self.serial_box.findData(target.spec.serial_port)
                if index >= 0:
                    self.serial_box.setCurrentIndex(index)
                else:
                    self.serial_box.setEditText(target.spec.serial_port)
                self.baud_box.setCurrentIndex(max(0, self.baud_box.findData(target.spec.baud)))
                self.parity_box.setCurrentIndex(max(0, self.parity_box.findData(target.spec.parity)))
            else:
                self.host_edit.setText(target.spec.host)
                self.port_spin.setValue(target.spec.port)
            self.unit_spin.setValue(target.unit)
        self.profile_box.setCurrentIndex(max(0, self.profile_box.findData(target.profile)))

    def request_connect(self) -> None:
        """Connect to what the form says, or say what is missing."""
        try:
            target = self.target()
        except ValueError as exc:
            self._show_message(str(exc), error=True)
            (self.host_edit if self.kind() == "tcp" else self.serial_box).setFocus()
            return
        self._show_message("")
        self._pending = target
        self.save_state()
        self.connectRequested.emit(target)

    def connect_demo(self) -> None:
        self.set_kind("demo")
        self.request_connect()

    # -- state and recent --------------------------------------------------
    def _on_state(self, state: str, detail: str) -> None:
        self._state = state
        self.connect_button.setEnabled(state != "connecting")
        self.disconnect_button.setEnabled(state != "disconnected")
        if state == "disconnected" and detail and self._pending is not None:
            self._show_message(f"Could not connect: {detail}", error=True)
        elif state in ("connected", "connecting"):
            self._show_message("")

    def _on_link_opened(self, info: dict) -> None:
        if self._pending is not None:
            self.recent.remember(self._pending, info.get("label"))
            self._pending = None
            self._reload_recent()

    def _reload_recent(self) -> None:
        self.recent_list.blockSignals(True)
        self.recent_list.clear()
        for label, target in self.recent.targets():
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, target)
            self.recent_list.addItem(item)
        self.recent_list.setCurrentRow(-1)
        self.recent_list.blockSignals(False)

    def _on_recent_selected(self, row: int) -> None:
        item = self.recent_list.item(row)
        if item is not None:
            self.set_target(item.data(Qt.ItemDataRole.UserRole))

    def _show_message(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        self.message.setStyleSheet("color: #D0343A;" if error else "")

    # -- settings ----------------------------------------------------------
    def save_state(self) -> None:
        s = self.settings
        s.setValue("connection/kind", self.kind())
        s.setValue("connection/host", self.host_edit.text())
        s.setValue("connection/port", self.port_spin.value())
        s.setValue("connection/serial_port", self.serial_port())
        s.setValue("connection/baud", self.baud_box.currentData())
        s.setValue("connection/parity", self.parity_box.currentData())
        s.setValue("connection/unit", self.unit_spin.value())
        s.setValue("connection/profile", self.profile_box.currentData())

    def restore_state(self) -> None:
        s = self.settings
        self.set_kind(str(s.value("connection/kind", "demo")))
        self.host_edit.setText(str(s.value("connection/host", "")))
        self.port_spin.setValue(int(s.value("connection/port", 502)))
        self.serial_box.setEditText(str(s.value("connection/serial_port", "")))
        self.baud_box.setCurrentIndex(max(0, self.baud_box.findData(int(s.value("connection/baud", 9600)))))
        self.parity_box.setCurrentIndex(max(0, self.parity_box.findData(str(s.value("connection/parity", "N")))))
        self.unit_spin.setValue(int(s.value("connection/unit", 1)))
        self.profile_box.setCurrentIndex(max(0, self.profile_box.findData(str(s.value("connection/profile", "auto")))))

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.ports.stop()
        super().closeEvent(event)
