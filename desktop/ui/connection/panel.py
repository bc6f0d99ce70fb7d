"""The connection panel: where the inverter is (serial, TCP, Bluetooth, Wi-Fi logger or the demo), unit id, profile.

Runs on the GUI thread. It builds a ``Target`` from the form and emits
``connectRequested(Target)``; the main window hands it to the device
service, which never blocks this thread. Serial ports refresh by themselves
(``PortWatcher``, off the GUI thread) when an adapter is plugged in. A
connection that opened (the bridge's ``linkOpened``) goes to the top of the
recent list; picking a recent entry fills the form, activating it connects.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.device.connect import Target
from desktop.ui.connection.link_forms import KINDS, LinkForms
from desktop.ui.connection.recent import RecentConnections
from desktop.ui.connection.serial_ports import PortWatcher

ERROR_COLOUR = "#D0343A"


def _profiles() -> list[str]:
    from protocols.profiles import loader
    return loader.available()


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    font = QFont(label.font())
    font.setPointSizeF(font.pointSizeF() * 1.2)
    font.setWeight(QFont.Weight.DemiBold)
    label.setFont(font)
    return label


class ConnectionPanel(QWidget):
    """Form + Connect/Disconnect + recent list. Signals: connectRequested(Target), disconnectRequested()."""

    connectRequested = Signal(object)
    disconnectRequested = Signal()
    siteTargetsFound = Signal(list)   # [Target] the doctor found, for the site page

    def __init__(self, bridge, settings: QSettings, parent: QWidget | None = None, watch_ports: bool = True,
                 worker=None):
        super().__init__(parent)
        self.setObjectName("ConnectionPanel")
        self.settings = settings
        self.recent = RecentConnections(settings)
        self._pending: Target | None = None

        self.kind_box = QComboBox()
        for key, text in KINDS:
            self.kind_box.addItem(text, key)
        self.kind_box.setAccessibleName("Link type")
        self.forms = LinkForms()
        self.forms.set_submit(bridge.submit)
        f = self.forms  # the inputs, also as attributes of the panel
        self.serial_box, self.baud_box, self.parity_box = f.serial_box, f.baud_box, f.parity_box
        self.host_edit, self.port_spin = f.host_edit, f.port_spin
        self.host_edit.returnPressed.connect(self.request_connect)
        self.kind_box.currentIndexChanged.connect(self._on_kind)
        self.unit_spin = QSpinBox()
        self.unit_spin.setRange(0, 247)
        self.unit_spin.setValue(1)
        self.unit_spin.setAccessibleName("Unit ID")
        self.unit_spin.setToolTip("Modbus unit (slave) id of the inverter, 1 unless it was changed")
        self.profile_box = QComboBox()
        self.profile_box.addItem("Auto-detect", "auto")
        self.profile_box.addItem("SunSpec (discover the map)", "sunspec")
        for name in _profiles():
            self.profile_box.addItem(name, name)
        self.profile_box.setAccessibleName("Device profile")
        self.profile_box.setToolTip("Auto-detect reads the identity registers (and SunSpec); override it "
                                    "when a device is not recognised")
        self.sunspec_base_spin = QSpinBox()
        self.sunspec_base_spin.setRange(-1, 65534)
        self.sunspec_base_spin.setSpecialValueText("Auto (40000, 0, 50000)")
        self.sunspec_base_spin.setValue(-1)
        self.sunspec_base_spin.setAccessibleName("SunSpec base address")
        self.sunspec_base_spin.setToolTip("Register where the device's SunSpec map ('SunS') starts, when its "
                                          "documentation names another than 40000, 0 or 50000 (shown with the "
                                          "SunSpec profile)")
        common = QFormLayout()
        for attr, text, widget in (("kind_label", "&Link", self.kind_box), ("unit_label", "&Unit ID", self.unit_spin),
                                   ("profile_label", "&Profile", self.profile_box),
                                   ("timeout_label", "Answer &timeout", self.forms.timeout_spin),
                                   ("sunspec_base_label", "SunSpec &base", self.sunspec_base_spin)):
            label = QLabel(text)
            label.setBuddy(widget)
            setattr(self, attr, label)
            common.addRow(label, widget)
        # The base matters only with SunSpec discovery chosen: shown then, so the panel keeps its height
        # on a 1366x768 laptop at 150 % (auto-detection tries 40000, 0 and 50000 itself).
        self.profile_box.currentIndexChanged.connect(self._on_profile)
        self._on_profile()

        self.connect_button = QPushButton("&Connect")
        self.connect_button.setDefault(True)
        self.connect_button.clicked.connect(self.request_connect)
        self.disconnect_button = QPushButton("&Disconnect")
        self.disconnect_button.clicked.connect(self.disconnectRequested)
        self._submit = bridge.submit
        self.site_available = False   # a site page listens to siteTargetsFound (desktop/ui/site_overview_page.py)
        self.doctor_button = QPushButton("F&ind my inverter...")
        self.doctor_button.setToolTip("Search ports, unit ids, baud rates and Wi-Fi loggers, and say what is wrong "
                                      "(reads only)")
        self.doctor_button.clicked.connect(lambda: self.find_inverter())
        self.scan_button = QPushButton("Scan &bus...")
        self.scan_button.setToolTip("Ask every unit id on this link which devices answer (reads only)")
        self.scan_button.clicked.connect(lambda: self.scan_bus())
        self._state = "disconnected"
        buttons = QHBoxLayout()
        buttons.addWidget(self.connect_button)
        buttons.addWidget(self.disconnect_button)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Connection message")
        self.message.setVisible(False)
        self.recent_list = QListWidget()
        self.recent_list.setAccessibleName("Recent connections")
        self.recent_list.setToolTip("Select to fill in the form; double-click or press Enter to connect")
        self.recent_list.currentRowChanged.connect(self._on_recent_selected)
        self.recent_list.itemActivated.connect(lambda _item: self.request_connect())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(8)
        layout.addWidget(_heading("Connection"))
        layout.addLayout(common)
        layout.addWidget(self.forms)
        layout.addLayout(buttons)
        tools = QHBoxLayout()
        tools.addWidget(self.doctor_button)
        tools.addWidget(self.scan_button)
        layout.addLayout(tools)
        layout.addWidget(self.message)
        layout.addSpacing(6)
        layout.addWidget(_heading("Recent connections"))
        layout.addWidget(self.recent_list, 1)
        chain = [self.kind_box, *self.forms.focus_widgets(), self.unit_spin, self.profile_box, self.forms.timeout_spin,
                 self.sunspec_base_spin, self.connect_button, self.disconnect_button, self.recent_list]
        for a, b in zip(chain, chain[1:]):
            self.setTabOrder(a, b)

        self.ports = PortWatcher(parent=self, worker=worker)
        self.ports.portsChanged.connect(self.forms.set_ports)
        if watch_ports:
            self.ports.start()
        bridge.stateChanged.connect(self._on_state)
        bridge.linkOpened.connect(self._on_link_opened)
        self.restore_state()
        self._on_kind(self.kind_box.currentIndex())
        self._reload_recent()
        self._on_state("disconnected", "")

    # -- the form ----------------------------------------------------------
    def kind(self) -> str:
        return self.kind_box.currentData()

    def set_kind(self, kind: str) -> None:
        self.kind_box.setCurrentIndex(max(0, self.kind_box.findData(kind)))

    def _on_kind(self, index: int) -> None:
        self.forms.setCurrentIndex(index)
        demo = self.kind() == "demo"
        self.unit_label.setVisible(not demo)
        self.unit_spin.setVisible(not demo)
        self.timeout_label.setVisible(not demo)
        self.forms.timeout_spin.setVisible(not demo)
        self._show_message("")
        self._update_scan_button()

    def _on_profile(self, _index: int = 0) -> None:
        sunspec = self.profile_box.currentData() == "sunspec"
        self.sunspec_base_label.setVisible(sunspec)
        self.sunspec_base_spin.setVisible(sunspec)

    def serial_port(self) -> str:
        return self.forms.serial_port()

    def target(self) -> Target:
        """The Target the form describes; ValueError says what to fill in."""
        profile = self.profile_box.currentData() or "auto"
        if self.kind() == "demo":
            return Target(demo=True, profile=profile)
        base = self.sunspec_base_spin.value()
        return Target(spec=self.forms.spec(self.kind()), unit=self.unit_spin.value(), profile=profile,
                      sunspec_base=None if base < 0 or profile != "sunspec" else base)

    def set_target(self, target: Target) -> None:
        """Fill the form from ``target`` (a recent entry)."""
        if target.demo:
            self.set_kind("demo")
        else:
            self.set_kind(target.spec.kind if target.spec.kind in ("serial", "ble", "v5") else "tcp")
            self.forms.set_spec(target.spec)
            self.unit_spin.setValue(target.unit)
            self.sunspec_base_spin.setValue(-1 if target.sunspec_base is None else target.sunspec_base)
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

    def find_inverter(self, options=None):
        """Open the connection doctor on what the form names; its finding fills the form and connects."""
        from .doctor_dialog import DoctorDialog
        kind = self.kind()
        where = self.serial_port() if kind == "serial" else self.host_edit.text().strip() if kind == "tcp" else ""
        dialog = DoctorDialog(self._submit, where, options, parent=self)
        dialog.connectWith.connect(self.connect_found)
        self.doctor_dialog = self._show_finder(dialog)
        return dialog

    def _show_finder(self, dialog):
        """A dialog that finds devices: what it finds can go to the site page (when there is one)."""
        dialog.addToSite.connect(self.siteTargetsFound)
        dialog.site_available = self.site_available
        dialog.site_button.setVisible(self.site_available)
        dialog.show()
        return dialog

    def scan_bus(self, per_unit_s: float | None = None):
        """Open the bus scan on the link the form describes (not while that window's link is open)."""
        from .scan_dialog import DEFAULT_PER_UNIT_S, BusScanDialog
        try:
            target = self.target()
        except ValueError as exc:
            self._show_message(str(exc), error=True)
            return None
        dialog = BusScanDialog(self._submit, target, parent=self, per_unit_s=per_unit_s or DEFAULT_PER_UNIT_S)
        dialog.useUnit.connect(self.connect_found)
        self.scan_dialog = self._show_finder(dialog)
        return dialog

    def _update_scan_button(self) -> None:
        kind = self.kind()
        usable = kind in ("serial", "tcp", "v5") and self._state == "disconnected"
        self.scan_button.setEnabled(usable)
        self.scan_button.setToolTip(
            "Ask every unit id on this link which devices answer (reads only)" if usable else
            "Disconnect first: the scan needs the link to itself" if kind in ("serial", "tcp", "v5") else
            "A bus scan needs a serial, network or Wi-Fi logger link")

    def connect_found(self, target: Target) -> None:
        """Connect with the doctor's finding (the form is filled where it can show that kind of link)."""
        if target.spec.kind in ("serial", "tcp", "rtu-tcp", "udp", "v5"):
            self.set_target(target)
            self.request_connect()
            return
        self._pending = target
        self.connectRequested.emit(target)

    def connect_demo(self) -> None:
        self.set_kind("demo")
        self.request_connect()

    # -- state and recent --------------------------------------------------
    def _on_state(self, state: str, detail: str) -> None:
        self._state = state
        self._update_scan_button()
        self.connect_button.setEnabled(state != "connecting")
        self.disconnect_button.setEnabled(state != "disconnected")
        if state == "disconnected" and detail and self._pending is not None:
            self._show_message(f"Could not connect: {detail}. \"Find my inverter...\" can search for it.",
                               error=True)
        elif state in ("connected", "connecting"):
            self._show_message("")

    def _on_link_opened(self, link) -> None:
        if self._pending is not None:
            self.recent.remember(self._pending, link.label)
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
        self.message.setStyleSheet(f"color: {ERROR_COLOUR};" if error else "")

    # -- settings ----------------------------------------------------------
    def save_state(self) -> None:
        self.settings.setValue("connection/kind", self.kind())
        self.settings.setValue("connection/unit", self.unit_spin.value())
        self.settings.setValue("connection/profile", self.profile_box.currentData())
        self.settings.setValue("connection/sunspec_base", self.sunspec_base_spin.value())
        self.forms.save(self.settings)

    def restore_state(self) -> None:
        s = self.settings
        self.set_kind(str(s.value("connection/kind", "demo")))
        self.forms.restore(s)
        self.unit_spin.setValue(int(s.value("connection/unit", 1)))
        self.profile_box.setCurrentIndex(max(0, self.profile_box.findData(str(s.value("connection/profile", "auto")))))
        try:
            self.sunspec_base_spin.setValue(int(s.value("connection/sunspec_base", -1)))
        except (TypeError, ValueError):
            self.sunspec_base_spin.setValue(-1)

    def closeEvent(self, event) -> None:  # Qt override
        self.ports.stop()
        super().closeEvent(event)
