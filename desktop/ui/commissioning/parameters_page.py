"""ParametersPage: every writable setting of the connected device, edited safely; settings files.

GUI thread. Give it the Bridge (and a CommissionContext shared with the
wizard so one installer login serves both). The table shows each setting's
current value, unit, allowed values, what a change needs (confirmation,
login), its description and the outcome of the last write. Double-click,
Enter or F2 edits the selected row's value; the change is validated against the profile first (a bad
value is never sent), confirmed where the profile marks it safety-relevant,
the installer code is asked once for protected settings (kept in memory for
the session), then written and read back on the I/O thread through the
Bridge: the GUI never waits on the device. "Save settings…" and "Apply
settings file…" use desktop.commission.settings_file with a diff preview.
A device whose parallel role (the profile's ``parallel_role``) reads "Slave"
follows its master's settings: every write to it and every settings file
applied to it is warned first (``confirm_slave_write``, Cancel by default).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from protocols.device import WriteRefused
from protocols.errors import PVDeskError

from widgets.elided_label import ElidedLabel

from desktop.commission import settings_file
from desktop.commission.context import CommissionContext
from desktop.commission.params import ROLE_POINT, LoginFailed, same_value
from desktop.core.errors import describe_error
from desktop.ui.commissioning.param_model import (
    STATUS_COL,
    STATUS_WIDTH_PX,
    VALUE_COL,
    ParamDelegate,
    ParamTableModel,
    ParamTableView,
)
from desktop.ui.commissioning.settings_diff_dialog import SettingsDiffDialog
from desktop.ui.commissioning.widgets import REFUSED_TEXT, Prompts, show_result
from desktop.ui.shell.confirm_dialogs import confirm_slave_write, slave_write_question

RESULT_KIND = {"ok": "ok", "sent": "ok", "unchanged": "ok", "mismatch": "bad", "refused": "bad"}


def _result_text(res) -> str:
    """The "Last write" text of a WriteResult."""
    if res.ok:
        return f"Verified: {res.readback_text}" if res.result == "ok" else res.message.capitalize()
    return ("Read-back mismatch: " if res.result == "mismatch" else "Refused by the device: ") + res.message
class ParametersPage(QWidget):
    def __init__(self, bridge, context: CommissionContext | None = None, records=None,
                 parent: QWidget | None = None) -> None:
        """``records``: a RecordsService, or a callable returning one (or None), for the wizard's report."""
        super().__init__(parent)
        self.bridge = bridge
        self.ctx = context or CommissionContext()
        self.records = records
        self.wizard = None
        self.prompts = Prompts()
        self.review = lambda preview: SettingsDiffDialog(preview, self).exec() == QDialog.DialogCode.Accepted
        self.confirm_slave_write = lambda text: confirm_slave_write(self, text)   # a hook tests answer
        self.role = ""           # the device's parallel role ("Slave": its settings follow the master)
        self.model = ParamTableModel(self)
        self._results_seen = 0   # how many of the login session's write results "Last write" has shown
        self.code_refused = False  # the device refused the last installer code: the next login dialog says so
        self.model.editRequested.connect(lambda n, v: QTimer.singleShot(0, lambda: self.request_write(n, v)))
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        title = QLabel("<b>Parameters</b>")
        self.device_label = ElidedLabel("Not connected")
        self.refresh_button = QPushButton("Read again")
        self.save_button = QPushButton("Save settings…")
        self.apply_button = QPushButton("Apply settings file…")
        self.wizard_button = QPushButton("Guided set-up…")
        self.wizard_button.setObjectName("openWizard")
        top.addWidget(title)
        top.addWidget(self.device_label, 1)   # long model names elide (full text in the tooltip)
        lay.addLayout(top)
        buttons = QHBoxLayout()                # a row of its own: the page fits a 1366 px laptop at 150 %
        for b in (self.wizard_button, self.refresh_button, self.save_button, self.apply_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        lay.addLayout(buttons)
        self.table = ParamTableView(self)
        self.table.setObjectName("parametersTable")
        self.table.setModel(self.model)
        self.table.setItemDelegateForColumn(VALUE_COL, ParamDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed)
        # One line a row, so a laptop screen shows most settings at once; a long description ends in
        # "…" and is whole in the row's tooltip.
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 12)
        hh = self.table.horizontalHeader()
        for col in range(5):
            hh.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        hh.setMinimumSectionSize(40)
        hh.setSectionResizeMode(STATUS_COL, QHeaderView.ResizeMode.Interactive)
        hh.resizeSection(STATUS_COL, STATUS_WIDTH_PX)
        lay.addWidget(self.table, 1)
        # What the narrow table leaves out (needs, description, last write), for the selected setting
        self.details = QLabel("")
        self.details.setObjectName("parametersDetails")
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        lay.addWidget(self.details)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._show_details())
        self.model.dataChanged.connect(lambda *_: self._show_details())
        self.model.modelReset.connect(self._show_details)
        hint = QLabel("Double-click, Enter or F2 to edit the selected setting's value. Changes are checked "
                      "against the device's profile, written, read back and recorded in the device's write history.")
        hint.setObjectName("parametersHint")
        hint.setWordWrap(True)
        lay.addWidget(hint)
        self.status = QLabel("")
        self.status.setObjectName("parametersStatus")
        lay.addWidget(self.status)
        self.refresh_button.clicked.connect(self.refresh)
        self.save_button.clicked.connect(self._choose_save)
        self.apply_button.clicked.connect(self._choose_apply)
        self.wizard_button.clicked.connect(self.open_wizard)
        bridge.linkOpened.connect(lambda info: self.refresh())
        bridge.stateChanged.connect(self._on_state)
        self._set_enabled(bridge.connected)
        if bridge.connected:
            self.refresh()

    def _show_details(self) -> None:
        """The selected setting in one line: its name, what it needs, its description and its last write."""
        row = self.table.currentIndex().row()
        if row < 0 or row >= self.model.rowCount():
            self.details.setText("Select a setting to see its description, what it needs and its last write."
                                 if self.model.rowCount() else "")
            return

        def cell(col: int) -> str:
            return str(self.model.data(self.model.index(row, col), Qt.ItemDataRole.DisplayRole) or "").strip()

        parts = [f"{cell(0)}: {cell(5)}" if cell(5) else cell(0)]
        if cell(4):
            parts.append(f"Needs: {cell(4)}")
        if cell(STATUS_COL):
            parts.append(f"Last write: {cell(STATUS_COL)}")
        self.details.setText(" · ".join(parts))

    # ------------------------------------------------------------- reading
    def _set_enabled(self, on: bool) -> None:
        for b in (self.refresh_button, self.save_button, self.apply_button, self.wizard_button):
            b.setEnabled(on)

    def open_wizard(self):
        """Open the guided set-up (non-modal), sharing this page's login session; returns the wizard."""
        from desktop.ui.commissioning.wizard import CommissioningWizard
        records = self.records() if callable(self.records) else self.records
        self.wizard = CommissioningWizard(self.bridge, self.ctx, records, self.window())
        self.wizard.finished.connect(lambda _: self.refresh() if self.bridge.connected else None)
        self.wizard.show()
        return self.wizard

    def _on_state(self, state: str, detail: str) -> None:
        if state == "disconnected":
            self.model.set_rows([])
            self.device_label.setText("Not connected")
            self._set_enabled(False)

    def refresh(self) -> None:
        show_result(self.status, "Reading the settings…", "busy")
        self.bridge.call_device(lambda dev: self._read(dev), self._loaded, self._failed)

    async def _read(self, dev, names=None):   # I/O thread
        session = self.ctx.session_for(dev)
        return (await session.ensure_serial(), dev.profile.title, await session.read_all(names),
                list(session.results))

    def _loaded(self, result) -> None:
        serial, title, infos, results = result
        profile = getattr(self.bridge, "profile", None)
        role_point = profile.resolve(ROLE_POINT) if profile is not None else ROLE_POINT
        self.role = next((i.choices.get(i.value, i.text) if isinstance(i.value, int) else i.text
                          for i in infos if i.name == role_point), "")
        self.device_label.setText(f"{title} · serial {serial}" + (f" · parallel {self.role.lower()}"
                                                                  if self.role.startswith(("Master", "Slave")) else ""))
        self.model.set_rows(infos)
        # writes made elsewhere with this login session (the guided set-up) since this page last looked:
        # "Last write" says what they did, instead of this page's older word on the same setting
        newest = {r.name: r for r in results[self._results_seen:]}
        self._results_seen = len(results)
        for res in newest.values():
            if self.model.has_row(res.name):
                self.model.set_status(res.name, _result_text(res), RESULT_KIND.get(res.result, "bad"))
        self._set_enabled(True)
        show_result(self.status, f"{len(infos)} settings read from the device.", "ok")

    def _failed(self, exc) -> None:
        show_result(self.status, f"Could not read the settings: {describe_error(exc)}", "bad")

    # ------------------------------------------------------------- writing
    def request_write(self, name: str, value) -> None:
        """Validate, confirm, log in if needed, then write on the I/O thread."""
        session = self.ctx.current_session()
        if session is None or not self.bridge.connected:
            return
        info = self.model.info(name)
        try:
            plan = session.check(name, value)
        except WriteRefused as exc:
            self.model.set_status(name, f"Not sent: {exc}", "bad")
            show_result(self.status, f"{info.label}: not sent: {exc}", "bad")
            return
        if same_value(plan.value, info.value):
            return
        if not self._slave_agrees(f"Changing {info.label}"):
            self.model.set_status(name, "Cancelled: a parallel slave follows its master", "warn")
            return
        if plan.confirm and not self.prompts.confirm(self, f"Change {info.label}?",
                                                     [(info.label, info.text, plan.text)]):
            self.model.set_status(name, "Cancelled", "warn")
            return
        code = None
        if session.needs_login(name):
            code = self.prompts.ask_code(self, info.label, refused=self.code_refused)
            if not code:
                self.model.set_status(name, "Cancelled: no installer code", "warn")
                return
        self.model.busy.add(name)
        self.model.set_status(name, "Writing…", "busy")

        async def go(dev):   # I/O thread
            s = self.ctx.session_for(dev)
            if code:
                await s.login(code)
            res = await s.write(name, value, confirmed=True)
            return res, (await s.read_all([name]))[0]
        self.bridge.call_device(go, self._written, lambda exc: self._write_failed(name, exc))

    def _slave_agrees(self, what: str) -> bool:
        """True unless the device is a parallel slave and the installer does not confirm the warning."""
        if not self.role.strip().casefold().startswith("slave"):
            return True
        return bool(self.confirm_slave_write(slave_write_question(self.device_label.text(), what)))

    def _written(self, result) -> None:
        res, info = result
        self.code_refused = False
        self.model.busy.discard(res.name)
        self.model.update_row(info)
        text = _result_text(res)
        self.model.set_status(res.name, text, RESULT_KIND.get(res.result, "bad"))
        show_result(self.status, f"{res.label}: {text}", RESULT_KIND.get(res.result, "bad"))

    def _write_failed(self, name: str, exc) -> None:
        self.model.busy.discard(name)
        text = f"Not written: {describe_error(exc)}"
        if isinstance(exc, LoginFailed):   # the device refused the code: a refused request, not a link error
            self.ctx.forget_login()
            self.code_refused = True
            text = f"{REFUSED_TEXT}: nothing was written; change the value again to enter the code again"
        self.model.set_status(name, text, "bad")
        show_result(self.status, f"{self.model.info(name).label}: {text}", "bad")

    # ------------------------------------------------------ settings files
    def _choose_save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save settings", "settings.json", "PVDesk settings (*.json)")
        if path:
            self.save_settings_to(path)

    def save_settings_to(self, path: str) -> None:
        show_result(self.status, "Reading the settings for the file…", "busy")

        async def go(dev):
            return await settings_file.capture(dev, self.ctx.installer)

        def done(doc):
            try:
                settings_file.save(doc, path)
            except OSError as exc:
                show_result(self.status, f"Could not write {path}: {exc}", "bad")
                return
            show_result(self.status, f"Saved {len(doc['settings'])} settings to {path}.", "ok")
        self.bridge.call_device(go, done, lambda e: show_result(self.status, f"Not saved: {describe_error(e)}", "bad"))

    def _choose_apply(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Apply a settings file", "", "PVDesk settings (*.json)")
        if path:
            self.apply_settings_file(path)

    def apply_settings_file(self, path: str) -> None:
        """Load, preview the changes (refused for another model), and apply after the installer agrees."""
        try:
            doc = settings_file.load(path)
        except PVDeskError as exc:
            show_result(self.status, exc.one_line(), "bad")
            return
        show_result(self.status, "Comparing the file with the device…", "busy")
        self.bridge.call_device(lambda dev: settings_file.preview(doc, self.ctx.session_for(dev)),
                                lambda pv: self._reviewed(doc, pv),
                                lambda e: show_result(self.status, f"Not applied: {describe_error(e)}", "bad"))

    def _reviewed(self, doc, preview) -> None:
        if not preview.changes:
            show_result(self.status, "Nothing to change: the device already holds the file's settings.", "ok")
            return
        if not self._slave_agrees(f"Applying {len(preview.changes)} settings from a file"):
            show_result(self.status, "Nothing applied: a parallel slave follows its master.", "warn")
            return
        if not self.review(preview):
            show_result(self.status, "Nothing applied.", "warn")
            return
        code = None
        session = self.ctx.current_session()
        if preview.protected_changes and session is not None and session.needs_login(
                preview.protected_changes[0].name):
            code = self.prompts.ask_code(self, ", ".join(r.label for r in preview.protected_changes),
                                         refused=self.code_refused)
            if not code:
                show_result(self.status, "Nothing applied: the installer code is needed.", "warn")
                return
        show_result(self.status, f"Applying {len(preview.changes)} changes…", "busy")

        async def go(dev):
            s = self.ctx.session_for(dev)
            if code:
                await s.login(code)
            return await settings_file.apply(doc, s), await s.read_all()

        def done(result):
            results, infos = result
            self.model.set_rows(infos)
            for r in results:
                self.model.set_status(r.name, ("Verified (file): " + r.readback_text) if r.ok else r.message,
                                      RESULT_KIND.get(r.result, "bad"))
            bad = [r for r in results if not r.ok]
            show_result(self.status, f"{len(results) - len(bad)} of {len(results)} settings applied and verified."
                        + (f" {len(bad)} failed." if bad else ""), "bad" if bad else "ok")
        self.bridge.call_device(go, done, self._apply_failed)

    def _apply_failed(self, exc) -> None:
        if isinstance(exc, LoginFailed):
            self.ctx.forget_login()
            self.code_refused = True
            show_result(self.status, f"Not applied: {REFUSED_TEXT}; nothing was written.", "bad")
            return
        show_result(self.status, f"Not applied: {describe_error(exc)}", "bad")


__all__ = ["ParametersPage", "STATUS_COL"]
