"""The site page: the site tree and an overview of every device's PV, AC, battery and meter values,
with the site's totals; units are added on the connection panel's link.
The actions work on the devices selected in the tree: batch firmware upgrade
(desktop/ui/firmware/batch.py), a settings file applied to each with its
diff (site/settings_apply.py), one commissioning report for the site
(site/site_report.py); the record row saves the site with the customer's
record and restores it (site/record_box.py). Every dialog is a hook.

Runs on the GUI thread. The site service (``desktop.device.site_service``) polls
on the device I/O loop; this page reads its snapshot on a timer (plain
dicts, replaced whole), so it never waits on a device. "n/a" is shown for a
value a device does not report and for a total that would be a guess.
``install_site(window, site)`` adds the page to the main window; ``desktop.app.compose``
builds the SiteService and calls it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.device.site_service import SiteService, totals
from desktop.ui.firmware.batch import BatchUpgradeDialog
from desktop.ui.site.record_box import SiteRecordBox
from desktop.ui.site.settings_apply import SiteSettingsApply
from desktop.ui.site.site_report import SiteReport
from desktop.ui.site.tree import SiteTree

COLUMNS = (("Device", None, ""), ("PV", "pv_power_w", "W"), ("AC", "inverter_power_w", "W"),
           ("Battery", "battery_power_w", "W"), ("SOC", "battery_soc_pct", "%"),
           ("Grid (+ import)", "grid_power_w", "W"), ("Load", "load_power_w", "W"))


def fmt(value, unit: str) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f} {unit}" if unit == "%" else f"{value:.0f} {unit}"


def parse_units(text: str) -> list[int]:
    units: list[int] = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()):
            raise ValueError(f"unit ids are numbers like 1,2,5 or 1-4, not {text!r}")
        units += list(range(int(lo), int(hi or lo) + 1))
    if not units or any(not 1 <= u <= 247 for u in units):
        raise ValueError("unit ids are 1 to 247")
    return units


class SiteOverviewPage(QWidget):
    """Site tree, overview table with a totals row, and 'add units' on the panel's link."""

    def __init__(self, site: SiteService, target_provider=None, parent: QWidget | None = None,
                 refresh_ms: int = 500, *, runner=None, records=None, commission=None,
                 firmware_log_dir=None, upgrade_options=None) -> None:
        super().__init__(parent)
        self.site = site
        self.target_provider = target_provider
        self.runner, self.commission = runner, commission
        self.firmware_log_dir, self.upgrade_options = firmware_log_dir, upgrade_options
        self.batch: BatchUpgradeDialog | None = None
        self.confirm_upgrade = None   # a hook for the batch's per-device confirmation (None: the dialog's own)
        self.choose_package = lambda: QFileDialog.getOpenFileName(
            self, "Firmware package for the selected devices", "", "PVDesk firmware (*.pvfw *.zip);;All files (*)")[0]
        self.choose_settings_file = lambda: QFileDialog.getOpenFileName(
            self, "Settings file for the selected devices", "", "PVDesk settings (*.json)")[0]
        self.tree = SiteTree()
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setAccessibleName("Site overview")
        self.table.setHorizontalHeaderLabels([c[0] for c in COLUMNS])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)   # the device's name takes what is left
        for col in range(1, len(COLUMNS)):   # each value as wide as its title and figures, never cut
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.units_edit = QLineEdit()
        self.units_edit.setAccessibleName("Unit ids to add")
        self.units_edit.setPlaceholderText("unit ids, e.g. 1,2,3")
        self.add_button = QPushButton("&Add to site")
        self.add_button.setToolTip("Open these unit ids on the link chosen in the connection panel")
        self.add_button.clicked.connect(self.add_from_panel)
        self.message = QLabel("")
        self.message.setAccessibleName("Site message")
        self.message.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(QLabel("Units on the panel's link:"))
        self.units_edit.setMaximumWidth(self.fontMetrics().horizontalAdvance("0" * 28))
        row.addWidget(self.units_edit)
        row.addWidget(self.add_button)
        row.addStretch(1)
        self.record_box = SiteRecordBox(site, records)
        self.record_box.message.connect(self.message.setText)
        self.upgrade_button = QPushButton("&Upgrade firmware…")
        self.upgrade_button.setToolTip("Upgrade the selected devices one after another (stops at the first failure)")
        self.upgrade_button.clicked.connect(lambda: self.upgrade_selected())
        self.settings_button = QPushButton("Apply settings &file…")
        self.settings_button.setToolTip("Apply one settings file to the selected devices, each change shown first")
        self.settings_button.clicked.connect(lambda: self.apply_settings())
        self.report_button = QPushButton("Site &report…")
        self.report_button.setToolTip("One commissioning report listing the selected devices (all when none is)")
        self.report_button.clicked.connect(self.make_report)
        actions = QHBoxLayout()
        actions.addWidget(QLabel("Selected devices:"))
        for b in (self.upgrade_button, self.settings_button, self.report_button):
            actions.addWidget(b)
        actions.addStretch(1)
        self.settings_apply = SiteSettingsApply(runner, site, commission, self) if runner is not None else None
        self.report = SiteReport(runner, site, commission, self) if runner is not None else None
        for part in (self.settings_apply, self.report):
            if part is not None:
                part.finished.connect(lambda x: self.message.setText("\n".join(x) if isinstance(x, list) else x))
        for b in (self.upgrade_button, self.settings_button, self.report_button):
            b.setEnabled(runner is not None)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.tree)
        split.addWidget(self.table)
        split.setStretchFactor(0, 2)   # the tree and the overview share the height; the table has the totals
        split.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.record_box)
        layout.addLayout(actions)
        layout.addWidget(self.message)
        layout.addWidget(split, 1)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(refresh_ms)

    def add_from_panel(self) -> None:
        try:
            units = parse_units(self.units_edit.text())
            if self.target_provider is None:
                raise ValueError("no connection panel to take the link from")
            target = self.target_provider()
        except ValueError as exc:
            self.message.setText(str(exc))
            return
        if target.demo:
            self.message.setText("the demo inverter is one device; choose a real link to add units")
            return
        self.message.setText(f"Opening unit {', '.join(map(str, units))} on {target.spec.label()}...")
        self.site.add_units(target, units)

    def add_targets(self, targets: list) -> None:
        """Open every target (the doctor's findings) as a device of the site."""
        for target in targets:
            self.site.add(target)
        self.message.setText(f"Opening {len(targets)} device(s) found by the doctor...")

    def showEvent(self, event) -> None:  # Qt override
        super().showEvent(event)
        self.record_box.reload()   # customers added on the Customers page since

    def _selected(self, what: str) -> list[str]:
        keys = self.tree.selected_keys()
        if not keys:
            self.message.setText(f"Select the devices to {what} in the tree first (Ctrl-click for several; a link "
                                 "row selects all its units).")
        return keys

    def upgrade_selected(self, package_path: str | None = None) -> BatchUpgradeDialog | None:
        """Batch upgrade of the selected devices (the package asked when not given); returns the dialog."""
        keys = self._selected("upgrade")
        if not keys or self.runner is None or (self.batch is not None and self.batch.running):
            return None
        path = package_path or self.choose_package()
        if not path:
            return None
        self.batch = BatchUpgradeDialog(self.runner, self.site, keys, path, self, options=self.upgrade_options,
                                        log_dir=self.firmware_log_dir)
        if self.confirm_upgrade is not None:
            self.batch.confirm_upgrade = self.confirm_upgrade
        self.batch.finishedBatch.connect(lambda outcome: self.message.setText(outcome.text()))
        self.batch.show()
        self.batch.start()
        return self.batch

    def apply_settings(self, path: str | None = None) -> None:
        keys = self._selected("apply the settings file to")
        if not keys or self.settings_apply is None or self.settings_apply.running:
            return
        path = path or self.choose_settings_file()
        if path:
            self.message.setText(f"Applying the settings file to {len(keys)} device(s), one after another…")
            self.settings_apply.run(keys, path)

    def make_report(self) -> None:
        if self.report is None:
            return
        try:
            record = self.record_box.chosen()
        except ValueError:
            record = None   # no customer chosen: a report without names
        self.message.setText("Reading every device of the site for the report…")
        self.report.make(self.tree.selected_keys(), record)

    def refresh(self) -> None:
        snapshot = self.site.snapshot()
        self.tree.set_snapshot(snapshot)
        rows = snapshot + [None]
        resize = self.table.rowCount() != len(rows)
        if resize:
            self.table.setRowCount(len(rows))
        t = totals(snapshot)
        for r, d in enumerate(rows):
            for c, (_title, key, unit) in enumerate(COLUMNS):
                if d is None:
                    text = f"Site total ({t['devices_live']} of {t['devices']} live)" if key is None else fmt(t.get(key), unit)
                else:
                    text = d["key"] if key is None else fmt(d["values"].get(key), unit)
                item = self.table.item(r, c)
                if item is None:
                    item = QTableWidgetItem(text)
                    if key is not None:
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    self.table.setItem(r, c, item)
                elif item.text() != text:
                    item.setText(text)
                if item.font().bold() != (d is None):   # the totals row in bold (rows move as devices join)
                    font = item.font()
                    font.setBold(d is None)
                    item.setFont(font)
        if resize or len(rows) <= 64:   # a site's few rows: cheap to fit every refresh
            for col in range(self.tree.columnCount()):
                self.tree.resizeColumnToContents(col)

    def cell(self, row: int, column: str) -> str:
        """The text shown in ``row`` under the column titled ``column`` (for tests and screenshots)."""
        col = [c[0] for c in COLUMNS].index(column)
        item = self.table.item(row, col)
        return item.text() if item else ""


def install_site(window, site: SiteService, *, runner=None, records=None, commission=None,
                 firmware_log_dir=None) -> None:
    """Add the Site page for ``site`` (built by the composition root), its units taken from the connection
    panel's link."""
    page = SiteOverviewPage(site, target_provider=window.connection_panel.target, runner=runner, records=records,
                            commission=commission, firmware_log_dir=firmware_log_dir)
    window.site = site
    window.connection_panel.siteTargetsFound.connect(page.add_targets)
    window.connection_panel.site_available = True
    window.add_page("Site", page, "Every device of the site: the tree of links and units, values and totals")
