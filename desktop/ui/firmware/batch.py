"""Batch firmware upgrade of the devices selected on the Site page: one after another, stop at the first failure.

Runs on the GUI thread; every check and upgrade runs on the device I/O loop
through the runner (the app's Bridge: ``submit`` with callbacks back on this
thread), so the window never waits. For each device in turn: the existing
package checks against that device (desktop/device/site_firmware.py), then
the existing confirmation (confirm_dialogs.upgrade_question, No by default;
``confirm_upgrade`` is the hook tests answer), then the upgrade with that
unit's polling paused, shown in the Firmware page's own progress box. A
failed check, a refusal, a declined confirmation, a cancel or a failed
upgrade ends the batch: the summary names the device that failed and why,
and the devices not touched. The dialog is not modal.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from protocols.firmware.upgrade import CancelToken, UpgradeOptions

from widgets.screen_fit import fit_to_screen

from desktop.core.errors import describe_error
from desktop.device.site_firmware import BatchOutcome, check_one, upgrade_one
from desktop.device.site_service import SiteError
from desktop.ui.firmware.progress_view import UpgradeBox, UpgradeLogBox
from desktop.ui.firmware.steps import FAIL_COLOUR, PASS_COLOUR, default_log_path
from desktop.ui.shell.confirm_dialogs import confirm_upgrade, upgrade_question


class BatchUpgradeDialog(QDialog):
    """``BatchUpgradeDialog(runner, site, keys, package_path)``; ``start()``; ``finishedBatch(BatchOutcome)``."""

    finishedBatch = Signal(object)

    def __init__(self, runner, site, keys: list[str], package_path: str | Path, parent: QWidget | None = None, *,
                 options: UpgradeOptions | None = None, log_dir: Path | None = None,
                 allow_downgrade: bool = False) -> None:
        super().__init__(parent)
        self.setWindowTitle("Upgrade the firmware of the selected devices")
        fit_to_screen(self, 760, 620)
        self.runner, self.site, self.keys = runner, site, list(keys)
        self.package_path, self.options, self.log_dir = str(package_path), options or UpgradeOptions(), log_dir
        self.allow_downgrade = allow_downgrade
        self.confirm_upgrade = lambda text: confirm_upgrade(self, text)   # the hook tests answer
        self.outcome: BatchOutcome | None = None
        self.token: CancelToken | None = None
        self.running = False
        self._index = 0
        self._stopping = False
        self._done: list[str] = []
        lay = QVBoxLayout(self)
        head = QLabel(f"Package {Path(package_path).name} for {len(self.keys)} device(s), one after another. "
                      "The batch stops at the first device that fails; the others are not touched.")
        head.setWordWrap(True)
        lay.addWidget(head)
        self.table = QTableWidget(len(self.keys), 2)
        self.table.setAccessibleName("Devices of the batch")
        self.table.setHorizontalHeaderLabels(["Device", "Status"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        for row, key in enumerate(self.keys):
            self.table.setItem(row, 0, QTableWidgetItem(key))
            self.table.setItem(row, 1, QTableWidgetItem("waiting"))
        lay.addWidget(self.table)
        self.box = UpgradeBox("Device being upgraded", buttons=False)
        self.log_box = UpgradeLogBox()
        lay.addWidget(self.box)
        lay.addWidget(self.log_box, 1)
        self.summary = QLabel("")
        self.summary.setAccessibleName("Batch result")
        self.summary.setWordWrap(True)
        lay.addWidget(self.summary)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel | QDialogButtonBox.StandardButton.Close)
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setText("Stop the batch")
        self.cancel_button.setToolTip("The device being uploaded stops before activation; the rest are not touched")
        self.cancel_button.clicked.connect(self.cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Close).clicked.connect(self.close)
        lay.addWidget(self.buttons)

    def status(self, key: str) -> str:
        return self.table.item(self.keys.index(key), 1).text()

    def _set_status(self, key: str, text: str, ok: bool | None = None) -> None:
        item = self.table.item(self.keys.index(key), 1)
        item.setText(text)
        if ok is not None:
            item.setForeground(PASS_COLOUR if ok else FAIL_COLOUR)

    # ------------------------------------------------------------------ run
    def start(self) -> None:
        self.running = True
        self._index = 0
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setEnabled(False)
        self._next()

    def cancel(self) -> None:
        """Stop: the upload in progress stops before activation; no further device is started."""
        self.cancel_button.setEnabled(False)
        if self.token is not None:
            self.token.cancel()
        else:
            self._stopping = True

    def _next(self) -> None:
        if self._stopping and self._index < len(self.keys):
            return self._stop(self.keys[self._index], "stopped before it started", cancelled=True, touched=False)
        if self._index >= len(self.keys):
            return self._finish(BatchOutcome(upgraded=list(self._done)))
        key, site, path, allow = self.keys[self._index], self.site, self.package_path, self.allow_downgrade
        self._set_status(key, "checking the package against the device…")
        self.box.clear(f"{key}: checking the package")

        async def check():
            member = site.members.get(key)
            if member is None or member.device is None:
                raise SiteError(f"{key} is not open on the site")
            return await check_one(member.device, key, path, allow_downgrade=allow)
        self.runner.submit(check, self._checked, lambda exc: self._stop(key, describe_error(exc), touched=False))

    def _checked(self, chk) -> None:
        key = chk.key
        if not chk.ok:
            self._set_status(key, f"refused: {chk.first_failure()}", False)
            return self._stop(key, f"package check {chk.first_failure()}; nothing was written", touched=False)
        m = chk.package.manifest
        question = upgrade_question(chk.serial, m.component, chk.facts.running_version or "", m.version, m.image_size)
        if not self.confirm_upgrade(f"{key} ({self._index + 1} of {len(self.keys)})\n\n{question}"):
            self._set_status(key, "not confirmed: nothing was written", False)
            return self._stop(key, "the upgrade was not confirmed; nothing was written", cancelled=True, touched=False)
        self._set_status(key, "upgrading…")
        self.token = token = CancelToken()
        self.cancel_button.setEnabled(True)
        log_path = (self.log_dir / f"{time.strftime('%Y%m%d-%H%M%S')}-{chk.serial or 'unit'}-{m.component}-"
                    f"{m.version}.jsonl" if self.log_dir else default_log_path(chk.serial, m.component, m.version))
        self.log_box.log_path_label.setText(f"Log file: {log_path}")
        site, options = self.site, self.options

        def factory(progress):
            return upgrade_one(site, key, chk.package, options=options, cancel=token, log_path=log_path,
                               progress=lambda e: progress({"type": "progress", **e}),
                               on_log=lambda entry: progress({"type": "log", "entry": entry}))
        self.runner.submit(factory, lambda result: self._upgraded(key, result),
                           lambda exc: self._stop(key, describe_error(exc)), self._progress)

    def _progress(self, e: dict) -> None:
        if e.get("type") == "log":
            self.log_box.append(e["entry"])
        else:
            self.box.show_progress(e, False)

    def _upgraded(self, key: str, result) -> None:
        self.token = None
        self.box.show_outcome(result)
        if not result.ok:
            self._set_status(key, f"{result.outcome}: {result.message}", False)
            return self._stop(key, f"{result.outcome}: {result.message}", cancelled=result.outcome == "cancelled")
        self._set_status(key, f"upgraded to {result.running_version or result.to_version}", True)
        self._done.append(key)
        self._index += 1
        self._next()

    def _stop(self, key: str, reason: str, *, cancelled: bool = False, touched: bool = True) -> None:
        self.token = None
        rest = self.keys[self._index + 1:]
        for other in rest:
            self._set_status(other, "not touched")
        if not touched and self.status(key) in ("waiting", "checking the package against the device…"):
            self._set_status(key, f"not upgraded: {reason}", False)
        self._finish(BatchOutcome(upgraded=list(self._done), failed=key, reason=reason, not_touched=rest,
                                  cancelled=cancelled))

    def _finish(self, outcome: BatchOutcome) -> None:
        self.running = False
        self.outcome = outcome
        self.cancel_button.setEnabled(False)
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setEnabled(True)
        colour = PASS_COLOUR if outcome.ok else FAIL_COLOUR
        self.summary.setStyleSheet(f"color: {colour.name()}; font-weight: 600")
        self.summary.setText(outcome.text())
        self.finishedBatch.emit(outcome)


__all__ = ["BatchUpgradeDialog"]
