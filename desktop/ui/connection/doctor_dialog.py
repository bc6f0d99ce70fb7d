"""The "Find my inverter..." dialog: runs the connection doctor and offers to connect with what it found.

Runs on the GUI thread; the doctor itself runs on the device I/O loop through
the bridge's ``submit`` (with progress), so the window never waits on it.
Shows a progress bar with the time left, what is being tried, the diagnoses
in plain words with the next step, and every attempt (also written to the
app log, which diagnostics bundles carry). "Connect with what was found"
emits ``connectWith(Target)``. The doctor only reads.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from widgets.screen_fit import fit_to_screen

from desktop.device.connect import Target

log = logging.getLogger("pvdesk.doctor")


def is_serial_port(text: str) -> bool:
    return text.startswith("/dev/") or text.upper().startswith("COM")


class DoctorDialog(QDialog):
    """Target (host or serial port), options, Start; progress; diagnoses; Connect with what was found."""

    connectWith = Signal(object)
    addToSite = Signal(list)    # [Target]: every device found, for the site page

    def __init__(self, submit, target_text: str = "", options=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Find my inverter")
        self.setObjectName("DoctorDialog")
        self._submit = submit
        self._options = options
        self.report = None
        self.running = False
        self.site_available = False   # set when a site page takes ``addToSite``
        self.target_edit = QLineEdit(target_text)
        self.target_edit.setAccessibleName("Host or serial port to search")
        self.target_edit.setPlaceholderText("192.168.1.50 or /dev/ttyUSB0 or COM3")
        self.all_units = QCheckBox("Also try every unit id 1-247 (slower)")
        self.all_units.setAccessibleName("Try every unit id")
        form = QFormLayout()
        form.addRow("&Where", self.target_edit)
        form.addRow("", self.all_units)
        self.start_button = QPushButton("&Start")
        self.start_button.clicked.connect(self.start)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setAccessibleName("Search progress")
        self.progress.setTextVisible(False)
        self.status = QLabel("Only reads: nothing is written to the device.")
        self.status.setAccessibleName("Search status")
        self.status.setWordWrap(True)
        self.diagnosis = QLabel("")
        self.diagnosis.setWordWrap(True)
        self.diagnosis.setAccessibleName("Diagnosis")
        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setAccessibleName("Everything tried")
        self.log_view.setMaximumBlockCount(5000)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.connect_button = self.buttons.addButton("&Connect with what was found",
                                                     QDialogButtonBox.ButtonRole.AcceptRole)
        self.connect_button.setEnabled(False)
        self.connect_button.clicked.connect(self._connect_found)
        self.site_button = self.buttons.addButton("Add all found to the &site", QDialogButtonBox.ButtonRole.ActionRole)
        self.site_button.setEnabled(False)
        self.site_button.clicked.connect(self._add_to_site)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.start_button)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.diagnosis)
        layout.addWidget(self.log_view, 1)
        layout.addWidget(self.buttons)
        fit_to_screen(self, 640, 520)

    # -------------------------------------------------------------- running
    def start(self) -> None:
        from protocols.doctor import DoctorOptions, doctor_host, doctor_serial
        where = self.target_edit.text().strip()
        if not where:
            self.status.setText("Say where to look: the inverter's or logger's IP address, or the serial port.")
            return
        if self.running:
            return
        options = self._options or DoctorOptions()
        options.all_units = self.all_units.isChecked()
        serial = is_serial_port(where)
        run = doctor_serial if serial else doctor_host
        if not serial and where.count(":") == 1:   # host:port -> that port first
            where, _, port = where.partition(":")
            if port.isdigit():
                options.ports = (int(port), *[p for p in options.ports if p != int(port)])
        self.running = True
        self.report = None
        self.start_button.setEnabled(False)
        self.connect_button.setEnabled(False)
        self.diagnosis.setText("")
        self.log_view.clear()
        self.progress.setValue(0)

        def factory(progress):
            return run(where, options, lambda f, left, doing: progress((f, left, doing)))
        self._submit(factory, on_done=self._on_report, on_error=self._on_error, on_progress=self._on_progress)

    def _on_progress(self, info) -> None:
        fraction, left_s, doing = info
        self.progress.setValue(int(fraction * 1000))
        self.status.setText(f"{fraction * 100:.0f} %, about {left_s:.0f} s left: trying {doing}")

    def _on_error(self, exc) -> None:
        self.running = False
        self.start_button.setEnabled(True)
        text = exc.one_line() if hasattr(exc, "one_line") else f"{type(exc).__name__}: {exc}"
        self.status.setText(f"The search stopped: {text}")

    def _on_report(self, report) -> None:
        self.running = False
        self.report = report
        self.start_button.setEnabled(True)
        self.progress.setValue(1000)
        lines = report.log_lines()
        for line in lines:
            log.info(line)
        self.log_view.setPlainText("\n".join(lines))
        self.diagnosis.setText("\n\n".join(f"{d.text}\nNext: {d.next_step}" for d in report.diagnoses))
        found = report.best
        self.status.setText(f"Found {found.label()} in {report.elapsed_s:.1f} s." if found else
                            f"Nothing found in {report.elapsed_s:.1f} s.")
        self.connect_button.setEnabled(found is not None)
        self.site_button.setEnabled(bool(report.findings) and self.site_available)

    def found_target(self) -> Target | None:
        """The Target to connect with (the first finding), auto-detecting the profile."""
        if self.report is None or self.report.best is None:
            return None
        best = self.report.best
        best.spec.timeout_s = max(best.spec.timeout_s, 1.0)
        return Target(spec=best.spec, unit=best.unit, profile="auto")

    def found_targets(self) -> list[Target]:
        """Every device found, one Target each."""
        if self.report is None:
            return []
        out = []
        for f in self.report.findings:
            f.spec.timeout_s = max(f.spec.timeout_s, 1.0)
            out.append(Target(spec=f.spec, unit=f.unit, profile="auto"))
        return out

    def _add_to_site(self) -> None:
        targets = self.found_targets()
        if targets:
            self.addToSite.emit(targets)
            self.status.setText(f"{len(targets)} device(s) added to the site page.")

    def _connect_found(self) -> None:
        target = self.found_target()
        if target is not None:
            self.connectWith.emit(target)
            self.accept()
