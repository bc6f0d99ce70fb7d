"""The "Scan bus..." dialog: which unit ids answer on the link the form describes, and what each device is.

Runs on the GUI thread; the scan (desktop.device.bus_scan) runs on the
device I/O loop through the bridge's ``submit``, with progress, so the window
never waits on it. Shows the unit being asked, how many answered and the time
left; Stop ends it before the next unit. The result lists each unit with its
model and profile; "Use this unit" fills the panel's unit id and connects,
"Add to the site" hands every checked unit to the site page. Only reads.
"""

from __future__ import annotations

import copy

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from widgets.screen_fit import fit_to_screen

from desktop.device.bus_scan import Cancel, FoundUnit, nothing_found_advice, scan_units
from desktop.device.connect import Target

DEFAULT_PER_UNIT_S = 0.3


class BusScanDialog(QDialog):
    """Options, Start/Stop, progress with time left, the units found; Use this unit / Add to the site."""

    useUnit = Signal(object)      # Target: the form's link with the chosen unit id
    addToSite = Signal(list)      # [Target]: the checked units

    def __init__(self, submit, target: Target, parent: QWidget | None = None,
                 per_unit_s: float = DEFAULT_PER_UNIT_S) -> None:
        super().__init__(parent)
        self.setWindowTitle("Scan the bus for devices")
        self.setObjectName("BusScanDialog")
        self._submit = submit
        self._target = target
        self._per_unit_s = per_unit_s
        self._cancel: Cancel | None = None
        self.found: list[FoundUnit] | None = None
        self.running = False
        self.site_available = False
        self.where = QLabel(f"On {target.spec.label()}: one short read per unit id, nothing is written.")
        self.where.setWordWrap(True)
        self.all_units = QCheckBox("Every unit id 1-247 after the vendors' usual ones (about "
                                   f"{247 * per_unit_s / 60:.0f} min when nothing answers)")
        self.all_units.setChecked(True)
        self.all_units.setAccessibleName("Scan every unit id")
        self.start_button = QPushButton("&Start")
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton("S&top")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName("Scan progress")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Scan status")
        self.result_list = QListWidget()
        self.result_list.setAccessibleName("Units found")
        self.result_list.itemActivated.connect(lambda _item: self._use_unit())
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.use_button = self.buttons.addButton("&Use this unit", QDialogButtonBox.ButtonRole.AcceptRole)
        self.use_button.setEnabled(False)
        self.use_button.clicked.connect(self._use_unit)
        self.site_button = self.buttons.addButton("Add checked to the &site", QDialogButtonBox.ButtonRole.ActionRole)
        self.site_button.setEnabled(False)
        self.site_button.clicked.connect(self._add_to_site)
        self.buttons.rejected.connect(self.reject)
        self.result_list.currentRowChanged.connect(lambda row: self.use_button.setEnabled(row >= 0))
        row = QHBoxLayout()
        row.addWidget(self.start_button)
        row.addWidget(self.stop_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.where)
        layout.addWidget(self.all_units)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.result_list, 1)
        layout.addWidget(self.buttons)
        fit_to_screen(self, 560, 420)

    # -------------------------------------------------------------- running
    def start(self) -> None:
        from protocols.doctor.plan import unit_ids
        if self.running:
            return
        units = unit_ids(all_units=self.all_units.isChecked())
        target = copy.deepcopy(self._target)
        cancel = self._cancel = Cancel()
        self.running = True
        self.found = None
        self.result_list.clear()
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.use_button.setEnabled(False)
        self.site_button.setEnabled(False)
        self.progress.setValue(0)
        self.status.setText(f"Asking {len(units)} unit ids...")
        per_unit_s = self._per_unit_s

        def factory(progress):
            return scan_units(target, units, per_unit_s, on_progress=progress, cancel=cancel)
        self._submit(factory, on_done=self._on_done, on_error=self._on_error, on_progress=self._on_progress)

    def stop(self) -> None:
        if self._cancel is not None:
            self._cancel.cancel()
            self.status.setText("Stopping after this unit...")

    def _on_progress(self, p) -> None:
        self.progress.setValue(int(1000 * p.done / max(p.total, 1)))
        self.status.setText(f"Unit {p.unit} ({p.done + 1} of {p.total}), {p.found} found, "
                            f"about {_duration(p.left_s)} left")

    def _on_error(self, exc) -> None:
        self._finish()
        text = exc.one_line() if hasattr(exc, "one_line") else f"{type(exc).__name__}: {exc}"
        self.status.setText(f"The scan stopped: {text}")

    def _on_done(self, found: list[FoundUnit]) -> None:
        stopped = self._cancel is not None and self._cancel.requested
        self._finish()
        self.found = found
        self.progress.setValue(1000 if not stopped else self.progress.value())
        for f in found:
            mark = " (unverified on hardware)" if f.verified is False else ""
            text = f"Unit {f.unit}: {f.model}" + (f" [{f.profile}]" if f.profile else "") + mark
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, f.unit)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            item.setToolTip(f.why)
            self.result_list.addItem(item)
        if found:
            self.result_list.setCurrentRow(0)
            self.status.setText(f"{len(found)} device(s) answered" + (" before the scan was stopped." if stopped
                                                                      else "."))
        else:
            self.status.setText(("The scan was stopped. " if stopped else "") +
                                nothing_found_advice(self._target.spec))
        self.site_button.setEnabled(bool(found) and self.site_available)

    def _finish(self) -> None:
        self.running = False
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    # -------------------------------------------------------------- results
    def target_for(self, unit: int) -> Target:
        """The form's link with ``unit``, the profile auto-detected."""
        target = copy.deepcopy(self._target)
        target.unit = unit
        target.profile = "auto"
        return target

    def checked_units(self) -> list[int]:
        return [self.result_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.result_list.count())
                if self.result_list.item(i).checkState() == Qt.CheckState.Checked]

    def _use_unit(self) -> None:
        item = self.result_list.currentItem()
        if item is not None:
            self.useUnit.emit(self.target_for(item.data(Qt.ItemDataRole.UserRole)))
            self.accept()

    def _add_to_site(self) -> None:
        units = self.checked_units()
        if units:
            self.addToSite.emit([self.target_for(u) for u in units])
            self.status.setText(f"{len(units)} device(s) added to the site page.")


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} min {seconds % 60:02.0f} s" if seconds >= 60 else f"{seconds:.0f} s"
