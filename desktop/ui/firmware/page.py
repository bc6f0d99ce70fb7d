"""The Firmware page: component versions, a package and its checks, the upgrade with progress, the log.

Runs on the GUI thread and never waits on the device: every read, check and
the upgrade itself run on the device I/O loop through ``runner.submit`` /
``runner.call_device`` (the app's Bridge), and come back as callbacks on this
thread. The Device object is only carried back and forth, never used here.
The upgrade is submitted ``exclusive``: the device service pauses its live
polling around it (``polling_paused``), so chunks are not delayed by
polling. Cancel is enabled only while the upgrade can still stop safely
(before activation). Logs are written as JSON lines
under the firmware-logs folder (desktop/core/paths.py), per device serial.
The upgrade's progress and log boxes are desktop/ui/firmware/progress_view.py
(shared with the site's batch upgrade, desktop/ui/firmware/batch.py).
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QCheckBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from protocols.firmware.check import check_package, check_target, read_target
from protocols.firmware.package import parse_version
from protocols.firmware.testmode import confirm_pending, read_pending, revert_pending
from protocols.firmware.upgrade import CancelToken, UpgradeOptions, Upgrader

from desktop.core import paths
from desktop.core.errors import describe_error
from desktop.device.canonical import serial_of
from desktop.ui.firmware.progress_view import UpgradeBox, UpgradeLogBox
from desktop.ui.firmware.steps import FAIL_COLOUR, PASS_COLOUR, Runner, default_log_path, fmt_bytes
from desktop.ui.shell.confirm_dialogs import confirm_downgrade, confirm_upgrade, upgrade_question


class FirmwarePage(QWidget):
    """``FirmwarePage(runner)``: see the module docstring."""

    def __init__(self, runner: Runner, parent: QWidget | None = None, *, options: UpgradeOptions | None = None,
                 log_dir: Path | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FirmwarePage")
        self.runner = runner
        self.options = options or UpgradeOptions()
        self.log_dir = log_dir
        self.device = None
        self._package_path = ""
        self.identity: dict = {}
        self.serial: str | None = None
        self.package = None
        self.report = None
        self.facts = None
        self.token: CancelToken | None = None
        self.running = False
        self.last_result = None
        self.confirm_downgrade: Callable[[str], bool] = self._ask_downgrade
        self.confirm_upgrade: Callable[[str], bool] = lambda text: confirm_upgrade(self, text)
        self._build()
        for name, slot in (("linkOpened", self._on_link_opened), ("firmwareReady", self.show_components)):
            signal = getattr(runner, name, None)
            if signal is not None:
                signal.connect(slot)
        self.refresh()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        title = QLabel("Firmware")
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setWeight(QFont.Weight.DemiBold)
        title.setFont(font)
        self.device_label = QLabel("No device connected")
        self.device_label.setTextFormat(Qt.TextFormat.PlainText)  # model and serial come from the device or a bundle
        self.device_label.setAccessibleName("Device")
        self.refresh_button = QPushButton("&Refresh versions")
        self.refresh_button.clicked.connect(self.refresh)
        head = QHBoxLayout()
        head.addWidget(title)
        head.addSpacing(16)
        head.addWidget(self.device_label, 1)
        head.addWidget(self.refresh_button)

        self.components = self._table(["Component", "Version", "Hardware", "Serial"], "Firmware components")
        self.components.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.components.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents)
        comp_box = QGroupBox("Components on the device")
        QVBoxLayout(comp_box).addWidget(self.components)

        self.path_edit = QLineEdit()
        self.path_edit.setReadOnly(True)
        self.path_edit.setPlaceholderText("No package chosen")
        self.path_edit.setAccessibleName("Package file")
        self.path_edit.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.choose_button = QPushButton("&Choose package…")
        self.choose_button.clicked.connect(self.choose_package)
        self.downgrade_box = QCheckBox("Allow an older or the same version (asks to confirm)")
        self.downgrade_box.toggled.connect(lambda _on: self.package_path and self.set_package(self.package_path))
        self.manifest_label = QLabel("")
        self.manifest_label.setWordWrap(True)
        self.checks = self._table(["Check", "Result", "Detail"], "Package checks")
        self.checks.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        pick = QHBoxLayout()
        pick.addWidget(self.path_edit, 1)
        pick.addWidget(self.choose_button)
        pkg_box = QGroupBox("Package")
        lay = QVBoxLayout(pkg_box)
        lay.addLayout(pick)
        lay.addWidget(self.manifest_label)
        lay.addWidget(self.downgrade_box)
        lay.addWidget(self.checks, 1)

        up_box = self.upgrade_box = UpgradeBox()
        # the box's parts under the names the page always had (tests and the batch read them)
        self.phase_label, self.steps_label, self.progress = up_box.phase_label, up_box.steps_label, up_box.progress
        self.bytes_label, self.rate_label, self.eta_label = up_box.bytes_label, up_box.rate_label, up_box.eta_label
        self.upgrade_button, self.cancel_button = up_box.upgrade_button, up_box.cancel_button
        self.result_label, self.pending_box = up_box.result_label, up_box.pending_box
        self.upgrade_button.clicked.connect(self.start_upgrade)
        self.cancel_button.clicked.connect(self.cancel)
        self.pending = None
        self.pending_box.confirmRequested.connect(lambda: self.resolve_pending("confirm"))
        self.pending_box.revertRequested.connect(lambda: self.resolve_pending("revert"))
        log_box = self.log_box = UpgradeLogBox()
        self.log_view, self.log_path_label = log_box.log_view, log_box.log_path_label

        grid = self._grid = QGridLayout()
        self._boxes = (comp_box, up_box, pkg_box, log_box)
        self._columns = 0
        self.fit_width(10_000)
        root = QVBoxLayout(self)
        root.addLayout(head)
        root.addLayout(grid, 1)

    #: Below this width (logical px) the four boxes stand in one column instead of two.
    ONE_COLUMN_BELOW_PX = 1000

    def fit_width(self, width_px: int) -> None:
        """Components, upgrade, package and log: a 2 x 2 grid on a wide window, one column on a narrow one."""
        columns = 1 if width_px < self.ONE_COLUMN_BELOW_PX else 2
        if columns == self._columns:
            return
        self._columns = columns
        grid = self._grid
        for box in self._boxes:
            grid.removeWidget(box)
        order = self._boxes if columns == 2 else (self._boxes[0], self._boxes[2], self._boxes[1], self._boxes[3])
        for i, box in enumerate(order):
            grid.addWidget(box, i // columns, i % columns)
        for c in range(2):
            grid.setColumnStretch(c, 5 if c < columns else 0)
        for r in range(4):
            grid.setRowStretch(r, 1 if (columns == 2 and r == 1) or (columns == 1 and r == 3) else 0)

    def _table(self, headers: list[str], name: str) -> QTableWidget:
        t = QTableWidget(0, len(headers))
        t.setHorizontalHeaderLabels(headers)
        t.setAccessibleName(name)
        t.verticalHeader().hide()
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.setAlternatingRowColors(True)
        t.setWordWrap(False)
        h = t.horizontalHeader()
        for col in range(len(headers)):
            h.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        h.setSectionResizeMode(len(headers) - 1, QHeaderView.ResizeMode.Stretch)
        return t

    # ------------------------------------------------------------ components
    def _on_link_opened(self, *_args) -> None:
        """Another (or the same) device: the previous run's progress, result and log belong to the old one."""
        if not self.running:
            self.clear_run()
        self.refresh()

    def clear_run(self) -> None:
        """Forget the last upgrade's progress, steps, result and log (shown for the device it ran on)."""
        self.last_result = None
        self.upgrade_box.clear("Choose a package to upgrade a component." if self.package is None
                               else "Ready: the package's checks are shown above.")
        self.log_box.clear()

    def refresh(self) -> None:
        """Read identity and every component's version (on the I/O loop)."""
        async def read(device):
            try:  # the bootloader's state first; a device without the PVDesk bootloader has none
                pending = await read_pending(device)
            except Exception:  # advisory here: the upgrade itself reads it again strictly
                pending = None
            return device, await device.identity(), await device.firmware(), pending
        self.runner.call_device(read, self._on_versions, self._on_read_error)

    def _on_versions(self, result) -> None:
        self.device, self.identity, rows = result[:3]
        self.show_pending(result[3] if len(result) > 3 else None)
        profile = self.device.profile
        self.serial = serial_of(profile, self.identity)
        model = self.identity.get(profile.resolve("model_name") or "model_name")
        self.device_label.setText(f"{model or '?'} · serial {self.serial or '?'} · unit {self.device.unit}")
        self.show_components(rows)
        self._update_buttons()
        if self.package_path:
            self.set_package(self.package_path)

    def _on_read_error(self, exc) -> None:
        if not self.running:
            self.device_label.setText(f"No device: {describe_error(exc)}")
        self._update_buttons()

    def show_components(self, rows: list[dict]) -> None:
        self.components.setRowCount(len(rows))
        for i, c in enumerate(rows):
            for col, value in enumerate((c["label"], c["version"], c["hardware"], c["serial"])):
                self.components.setItem(i, col, QTableWidgetItem("n/a" if value is None else str(value)))

    def show_pending(self, pending) -> None:
        self.pending = pending
        self.pending_box.show_pending(pending)
        self._update_buttons()

    def resolve_pending(self, action: str) -> None:
        """Confirm (health check first) or revert the image left in test mode, on the I/O loop."""
        device, o = self.device, self.options
        if device is None or self.pending is None:
            return
        self.running = True
        self._update_buttons()
        self.phase_label.setText("Health check of the image in test mode" if action == "confirm"
                                 else "Reverting to the previous image")

        async def go():
            if action == "confirm":
                return await confirm_pending(device, health_reads=o.health_reads, health_s=o.health_s,
                                             wait_s=o.reboot_wait_s, poll_s=o.poll_s)
            return await revert_pending(device, wait_s=o.reboot_wait_s, poll_s=o.poll_s)
        self.runner.submit(go, self._on_pending_done, self._on_upgrade_error)

    def _on_pending_done(self, result) -> None:
        self.running = False
        ok = result.outcome in ("confirmed", "reverted")
        colour = PASS_COLOUR if result.outcome == "confirmed" else FAIL_COLOUR
        self.result_label.setText(f"<b style='color:{colour.name()}'>{html.escape(result.outcome.capitalize())}"
                                  f"</b> — {html.escape(result.message)}")
        self.phase_label.setText("Finished" if ok else "Failed")
        self.show_pending(None)
        self.refresh()

    # --------------------------------------------------------------- package
    @property
    def package_path(self) -> str:
        return self._package_path

    def choose_package(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a firmware package", "",
                                              "PVDesk firmware (*.pvfw *.zip);;All files (*)")
        if path:
            self.set_package(path)

    def set_package(self, path: str) -> None:
        """Check ``path`` (offline checks, then against the device if connected)."""
        self._package_path = str(path)
        self.path_edit.setText(Path(path).name)
        self.path_edit.setToolTip(str(path))
        device, allow = self.device, self.downgrade_box.isChecked()

        async def check():
            pkg, report = check_package(path)
            facts = None
            if pkg is not None and device is not None:
                try:
                    pending = await read_pending(device)  # the bootloader's state before any version
                except Exception:  # a device without the PVDesk bootloader (the upgrade refuses it)
                    pending = None
                facts = await read_target(device, pkg.manifest.component)
                check_target(pkg, facts, allow_downgrade=allow, report=report, pending=pending)
            return pkg, report, facts
        self.runner.submit(check, self._on_checked, self._on_check_error)

    def _on_checked(self, result) -> None:
        self.package, self.report, self.facts = result
        m = self.package.manifest if self.package else None
        e = html.escape  # every text here comes from the package file: never markup
        self.manifest_label.setText(
            f"<b>{e(m.component)} {e(m.version)}</b> for {e(', '.join(m.models))}"
            f"{' (hardware ' + ', '.join(map(str, m.hardware)) + ')' if m.hardware else ''} · "
            f"{fmt_bytes(m.image_size)} · from {e(m.min_version or 'any version')} · signed by {e(m.key_id)}"
            + (f"<br>{e(m.notes)}" if m.notes else "") if m else "")
        trust = getattr(self.report, "trust", None)
        self.manifest_label.setToolTip(trust.describe() if trust is not None else "")
        if trust is not None and trust.mode == "development":
            self.manifest_label.setText(self.manifest_label.text() + "<br><i>" + e(trust.describe()) + "</i>")
        rows = self.report.results
        self.checks.setRowCount(len(rows))
        for i, r in enumerate(rows):
            result = QTableWidgetItem("✔ pass" if r.ok else "✘ FAIL")
            result.setForeground(PASS_COLOUR if r.ok else FAIL_COLOUR)
            self.checks.setItem(i, 0, QTableWidgetItem(r.check))
            self.checks.setItem(i, 1, result)
            detail = QTableWidgetItem(r.detail)
            detail.setToolTip(r.detail)
            self.checks.setItem(i, 2, detail)
        if self.device is None and self.report.ok:
            self.result_label.setText("Connect to a device to check the package against it.")
        self._update_buttons()

    def _on_check_error(self, exc) -> None:
        self.package, self.report = None, None
        self.manifest_label.setText(f"Cannot check the package: {describe_error(exc)}")
        self._update_buttons()

    def _update_buttons(self) -> None:
        ready = bool(self.report and self.report.ok and self.device is not None and self.facts is not None
                     and getattr(self, "pending", None) is None)
        self.pending_box.set_busy(self.running)
        self.upgrade_button.setEnabled(ready and not self.running)
        self.choose_button.setEnabled(not self.running)
        self.refresh_button.setEnabled(not self.running)
        self.downgrade_box.setEnabled(not self.running)

    # --------------------------------------------------------------- upgrade
    def _ask_downgrade(self, text: str) -> bool:
        return confirm_downgrade(self, text)

    def start_upgrade(self) -> None:
        m, facts = self.package.manifest, self.facts
        allow = self.downgrade_box.isChecked()
        if (allow and facts.running_version and parse_version(m.version) <= parse_version(facts.running_version)
                and not self.confirm_downgrade(f"{m.component}: {facts.running_version} -> {m.version}")):
            return
        question = upgrade_question(str(self.serial or ""), m.component,
                                    facts.running_version or "", m.version, m.image_size)
        if not self.confirm_upgrade(question):
            return
        self.running, self.token = True, CancelToken()
        self.log_view.clear()
        self.result_label.setText("")
        self._update_buttons()
        log_path = (self.log_dir / f"{time.strftime('%Y%m%d-%H%M%S')}-{m.component}-{m.version}.jsonl"
                    if self.log_dir else default_log_path(self.serial, m.component, m.version))
        self.log_path_label.setText(f"Log file: {paths.display_path(log_path)}")
        device, pkg, token = self.device, self.package, self.token
        options = UpgradeOptions(**{**self.options.__dict__, "allow_downgrade": allow})

        def factory(progress):
            return Upgrader(device, pkg, options=options, cancel=token, log_path=log_path,
                            progress=lambda e: progress({"type": "progress", **e}),
                            on_log=lambda entry: progress({"type": "log", "entry": entry})).run()
        # exclusive: the live polling pauses while the upgrade has the link (DeviceService.polling_paused)
        self.runner.submit(factory, self._on_upgrade_done, self._on_upgrade_error, self._on_progress, exclusive=True)

    def cancel(self) -> None:
        if self.token:
            self.token.cancel()
            self.cancel_button.setEnabled(False)
            self.phase_label.setText("Cancelling: the upload stops, the old image keeps running")

    def _on_progress(self, e: dict) -> None:
        if e.get("type") == "log":
            self.log_box.append(e["entry"])
            return
        self.upgrade_box.show_progress(e, bool(e.get("cancellable")) and self.running
                                       and not (self.token and self.token.cancelled))

    def _on_upgrade_done(self, result) -> None:
        self.running, self.last_result = False, result
        self.upgrade_box.show_outcome(result)
        self._update_buttons()
        self.refresh()

    def _on_upgrade_error(self, exc) -> None:
        self.running = False
        self.upgrade_box.show_error(describe_error(exc))
        self._update_buttons()
