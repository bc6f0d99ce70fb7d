"""The link part of the connection panel: serial port and line settings, TCP host and port, or the demo.

Runs on the GUI thread. One page per link kind in a stacked widget; the
panel shows the page of the kind chosen and asks ``spec(kind)`` for the
LinkSpec, which names what is missing when the form is incomplete. The
network page also carries RTU frames over a serial server and the GoodWe
dongle's UDP; every option of the command line's connection arguments has
its input here (stop bits, local echo, the answer timeout).
"""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QStackedWidget,
    QWidget,
)

from protocols.links.factory import LinkSpec

from desktop.device.connect import parse_host_port
from desktop.ui.connection.wireless_forms import BleForm, V5Form

KINDS = (("serial", "Serial (RS-485)"), ("tcp", "Network (TCP, UDP)"), ("ble", "Bluetooth LE"),
         ("v5", "Wi-Fi data logger"), ("demo", "Demo inverter"))
BAUDS = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
PARITIES = (("N", "None"), ("E", "Even"), ("O", "Odd"))
# The network page's framings: (LinkSpec kind, text, default port).
FRAMINGS = (("tcp", "Modbus TCP", 502), ("rtu-tcp", "RTU over TCP (serial server)", 502),
            ("udp", "GoodWe dongle (UDP)", 8899))
NETWORK_KINDS = tuple(k for k, _, _ in FRAMINGS)


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _float(value, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _form(rows) -> QWidget:
    page = QWidget()
    form = QFormLayout(page)
    form.setContentsMargins(0, 0, 0, 0)
    for text, widget in rows:
        label = QLabel(text)
        label.setBuddy(widget)
        form.addRow(label, widget)
    return page


class LinkForms(QStackedWidget):
    """Pages in the order of KINDS: serial, TCP, Bluetooth LE, Wi-Fi logger, demo."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.serial_box = QComboBox()
        self.serial_box.setEditable(True)
        self.serial_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.serial_box.lineEdit().setPlaceholderText("No adapter found: plug it in")
        self.serial_box.setAccessibleName("Serial port")
        self.serial_box.setToolTip("The RS-485 adapter; the list follows what is plugged in")
        self.baud_box = QComboBox()
        for baud in BAUDS:
            self.baud_box.addItem(str(baud), baud)
        self.baud_box.setCurrentIndex(BAUDS.index(9600))
        self.baud_box.setAccessibleName("Baud rate")
        self.parity_box = QComboBox()
        for key, text in PARITIES:
            self.parity_box.addItem(text, key)
        self.parity_box.setAccessibleName("Parity")
        self.stopbits_box = QComboBox()
        for bits in (1, 2):
            self.stopbits_box.addItem(str(bits), bits)
        self.stopbits_box.setAccessibleName("Stop bits")
        self.stopbits_box.setToolTip("1 unless the inverter's manual says 2 (Modbus asks for 2 without parity, "
                                     "most inverters use 1)")
        self.echo_check = QCheckBox("Adapter echoes what it sends (local echo)")
        self.echo_check.setAccessibleName("Local echo")
        self.echo_check.setToolTip("Some RS-485 adapters hear their own transmission; PVDesk then skips the echo "
                                   "before reading the answer")
        self.framing_box = QComboBox()
        for kind, text, _port in FRAMINGS:
            self.framing_box.addItem(text, kind)
        self.framing_box.setAccessibleName("Framing")
        self.framing_box.setToolTip("Modbus TCP for inverters and most dongles; RTU over TCP for serial servers "
                                    "(RS-485 to Ethernet converters); UDP for GoodWe Wi-Fi/LAN dongles")
        self.framing_box.currentIndexChanged.connect(self._on_framing)
        self.timeout_spin = QDoubleSpinBox()
        self.timeout_spin.setRange(0.1, 30.0)
        self.timeout_spin.setDecimals(1)
        self.timeout_spin.setSingleStep(0.5)
        self.timeout_spin.setValue(1.0)
        self.timeout_spin.setSuffix(" s")
        self.timeout_spin.setAccessibleName("Answer timeout")
        self.timeout_spin.setToolTip("How long to wait for each answer; raise it for slow loggers and gateways")
        self.host_edit = QLineEdit()
        self.host_edit.setPlaceholderText("192.168.1.50")
        self.host_edit.setAccessibleName("Host")
        self.port_spin = QSpinBox()
        self.port_spin.setRange(1, 65535)
        self.port_spin.setValue(502)
        self.port_spin.setAccessibleName("TCP port")
        demo = QLabel("Starts the built-in simulated hybrid inverter on this computer. "
                      "No hardware needed: use it to learn PVDesk or to train.")
        demo.setWordWrap(True)
        demo.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.addWidget(_form((("Serial &port", self.serial_box), ("&Baud rate", self.baud_box),
                              ("Pa&rity", self.parity_box), ("Stop bi&ts", self.stopbits_box),
                              ("", self.echo_check))))
        self.addWidget(_form((("&Host", self.host_edit), ("P&ort", self.port_spin), ("&Framing", self.framing_box))))
        self.ble_form = BleForm()
        self.v5_form = V5Form()
        self.addWidget(self.ble_form)
        self.addWidget(self.v5_form)
        self.addWidget(demo)

    def set_submit(self, submit) -> None:
        """How the wireless forms run scans on the I/O loop (the bridge's ``submit``)."""
        self.ble_form.set_submit(submit)
        self.v5_form.set_submit(submit)

    def focus_widgets(self) -> list[QWidget]:
        """The inputs in tab order."""
        return [self.serial_box, self.baud_box, self.parity_box, self.stopbits_box, self.echo_check,
                self.host_edit, self.port_spin, self.framing_box,
                self.ble_form.device_box, self.ble_form.scan_button, self.v5_form.host_edit,
                self.v5_form.port_spin, self.v5_form.serial_edit, self.v5_form.discover_button]

    def network_kind(self) -> str:
        """The framing chosen on the network page: tcp, rtu-tcp or udp."""
        return self.framing_box.currentData() or "tcp"

    def _on_framing(self, _index: int) -> None:
        # The port follows the framing while it is still another framing's default (a typed port is kept).
        defaults = {port for _, _, port in FRAMINGS}
        if self.port_spin.value() in defaults:
            self.port_spin.setValue(FRAMINGS[self.framing_box.currentIndex()][2])

    # -- serial ports --------------------------------------------------------
    def set_ports(self, ports: list) -> None:
        """Offer ``ports`` (PortInfo), keeping the chosen or typed one."""
        current = self.serial_port()
        self.serial_box.blockSignals(True)
        self.serial_box.clear()
        for port in ports:
            self.serial_box.addItem(port.text(), port.device)
        index = self.serial_box.findData(current)
        if index >= 0 or (not current and ports):  # nothing chosen yet: offer the first adapter
            self.serial_box.setCurrentIndex(max(0, index))
        else:
            self.serial_box.setEditText(current)
        self.serial_box.blockSignals(False)

    def serial_port(self) -> str:
        """The chosen device path: the selected port's device, or what was typed."""
        text = self.serial_box.currentText().strip()
        index = self.serial_box.findText(text)
        return self.serial_box.itemData(index) if index >= 0 else text

    # -- spec ----------------------------------------------------------------
    def spec(self, kind: str) -> LinkSpec:
        """The LinkSpec of ``kind`` (serial, tcp, ble or v5); ValueError says what to fill in.

        For ``tcp`` the framing box decides the kind (tcp, rtu-tcp or udp); the timeout applies to every link.
        """
        spec = self._spec(kind)
        spec.timeout_s = round(self.timeout_spin.value(), 1)
        return spec

    def _spec(self, kind: str) -> LinkSpec:
        if kind == "ble":
            return self.ble_form.spec()
        if kind == "v5":
            return self.v5_form.spec()
        spec = LinkSpec(kind=self.network_kind() if kind in NETWORK_KINDS else kind)
        if kind in NETWORK_KINDS:
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
            spec.stopbits = self.stopbits_box.currentData()
            spec.local_echo = self.echo_check.isChecked()
        return spec

    def set_spec(self, spec: LinkSpec) -> None:
        self.timeout_spin.setValue(spec.timeout_s)
        if spec.kind == "ble":
            self.ble_form.device_box.setEditText(spec.ble_address)
        elif spec.kind == "v5":
            self.v5_form.set_spec(spec)
        elif spec.kind == "serial":
            index = self.serial_box.findData(spec.serial_port)
            if index >= 0:
                self.serial_box.setCurrentIndex(index)
            else:
                self.serial_box.setEditText(spec.serial_port)
            self.baud_box.setCurrentIndex(max(0, self.baud_box.findData(spec.baud)))
            self.parity_box.setCurrentIndex(max(0, self.parity_box.findData(spec.parity)))
            self.stopbits_box.setCurrentIndex(max(0, self.stopbits_box.findData(spec.stopbits)))
            self.echo_check.setChecked(spec.local_echo)
        else:
            self.framing_box.setCurrentIndex(max(0, self.framing_box.findData(spec.kind)))
            self.host_edit.setText(spec.host)
            self.port_spin.setValue(spec.port)

    # -- settings ------------------------------------------------------------
    def save(self, s: QSettings) -> None:
        s.setValue("connection/host", self.host_edit.text())
        s.setValue("connection/port", self.port_spin.value())
        s.setValue("connection/serial_port", self.serial_port())
        s.setValue("connection/baud", self.baud_box.currentData())
        s.setValue("connection/parity", self.parity_box.currentData())
        s.setValue("connection/stopbits", self.stopbits_box.currentData())
        s.setValue("connection/local_echo", self.echo_check.isChecked())
        s.setValue("connection/framing", self.network_kind())
        s.setValue("connection/timeout_s", self.timeout_spin.value())
        s.setValue("connection/ble_address", self.ble_form.address())
        s.setValue("connection/v5_host", self.v5_form.host_edit.text())
        s.setValue("connection/v5_serial", self.v5_form.serial_edit.text())

    def restore(self, s: QSettings) -> None:
        self.framing_box.setCurrentIndex(max(0, self.framing_box.findData(str(s.value("connection/framing", "tcp")))))
        self.host_edit.setText(str(s.value("connection/host", "")))
        self.port_spin.setValue(int(s.value("connection/port", 502)))
        self.serial_box.setEditText(str(s.value("connection/serial_port", "")))
        self.baud_box.setCurrentIndex(max(0, self.baud_box.findData(int(s.value("connection/baud", 9600)))))
        self.parity_box.setCurrentIndex(max(0, self.parity_box.findData(str(s.value("connection/parity", "N")))))
        self.stopbits_box.setCurrentIndex(max(0, self.stopbits_box.findData(_int(s.value("connection/stopbits"), 1))))
        self.echo_check.setChecked(str(s.value("connection/local_echo", "false")).lower() == "true")
        self.timeout_spin.setValue(_float(s.value("connection/timeout_s"), 1.0))
        self.ble_form.device_box.setEditText(str(s.value("connection/ble_address", "")))
        self.v5_form.host_edit.setText(str(s.value("connection/v5_host", "")))
        self.v5_form.serial_edit.setText(str(s.value("connection/v5_serial", "")))
