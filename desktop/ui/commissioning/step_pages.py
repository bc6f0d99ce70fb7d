"""Wizard pages that write settings: grid code (by country), export limit, battery, meter (the clock: clock_page).

GUI thread; device work through the wizard's Bridge. A page reads the step's
settings when it opens and shows one editor per setting with its allowed
values and description. On Next it asks for confirmation of safety-relevant
changes, for the installer code where a setting is protected, then writes
(WizardRunner.apply: unchanged values are verified, not rewritten) and shows
each setting's read-back; any refusal or mismatch keeps the page open.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QWidget

from protocols.errors import PVDeskError

from desktop.commission.params import LoginFailed, same_value
from desktop.commission.wizard import country_text, grid_code_countries, step
from desktop.core.errors import describe_error
from desktop.device.site_service import follows_master
from desktop.ui.commissioning.widgets import REFUSED_TEXT, editor_for, editor_value, html_escape, show_result
from desktop.ui.commissioning.wizard import StepPage
from desktop.ui.shell.confirm_dialogs import slave_write_question

SUBTITLES = {
    "export": "Limit what the system feeds into the grid, as the grid operator's approval says.",
    "battery": "The battery model selects the BMS protocol; the limits protect the battery.",
    "meter": "How the grid connection is measured: the meter type and, for CT clamps, the CT ratio.",
}


class SettingsStepPage(StepPage):
    """Editors for the step's settings, written together on Next."""

    @classmethod
    def for_step(cls, step_id: str) -> "SettingsStepPage":
        page_cls = type(f"{step_id.title()}Page", (cls,), {"step_id": step_id})
        return page_cls()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSubTitle(SUBTITLES.get(self.step_id, ""))
        self.form_host = QWidget()
        self.form = QFormLayout(self.form_host)
        self.layout_.addWidget(self.form_host)
        self.results = QLabel("")
        self.results.setObjectName(f"results_{self.step_id}")
        self.results.setWordWrap(True)
        self.layout_.addWidget(self.results)
        self.finish_layout()
        self.infos: dict = {}
        self.editors: dict[str, QWidget] = {}
        self.code_refused = False   # the device refused the last installer code: the next dialog says so

    def initializePage(self) -> None:
        names = [n for n in step(self.step_id).points]
        session = self.wiz.runner.session
        self.results.setText("")
        self.run(lambda: session.read_all(names), self._loaded, "Reading the current settings…")

    def _clear(self) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.editors.clear()

    def _loaded(self, infos) -> None:
        self._clear()
        self.infos = {i.name: i for i in infos}
        self.build_form(infos)
        done = self.wiz.runner.state.status(self.step_id)
        show_result(self.status, f"This step was {done} before; you can change the values again."
                    if done != "pending" else "Check the values, then press Next to write them.",
                    "ok" if done == "pending" else "warn")
        self.completeChanged.emit()

    def build_form(self, infos) -> None:
        for info in infos:
            w = editor_for(info, self)
            self.editors[info.name] = w
            self.add_row(info, w)

    def add_row(self, info, widget) -> None:
        allowed = "" if info.choices else f"{html_escape(info.allowed_text())} — "
        hint = QLabel(f"<small>{allowed}{html_escape(info.description)}</small>")
        hint.setWordWrap(True)
        box = QWidget()
        lay = QFormLayout(box)
        lay.setContentsMargins(0, 0, 0, 4)
        lay.addRow(widget)
        lay.addRow(hint)
        self.form.addRow(f"{info.label}:", box)

    def values(self) -> dict:
        return {n: editor_value(w) for n, w in self.editors.items()}

    def isComplete(self) -> bool:
        return bool(self.infos) and not self.busy

    def start(self) -> None:
        values = self.values()
        session = self.wiz.runner.session
        changes = []
        for name, value in values.items():
            try:
                plan = session.check(name, value)
            except PVDeskError as exc:
                show_result(self.status, f"Not sent: {exc}", "bad")
                return
            if not same_value(plan.value, self.infos[name].value):
                changes.append((self.infos[name], plan))
        confirm = [(i.label, i.text, p.text) for i, p in changes if p.confirm]
        if confirm and not self.wiz.prompts.confirm(self, f"{step(self.step_id).title}: confirm", confirm):
            show_result(self.status, "Not written: the change was not confirmed.", "warn")
            return
        if changes and follows_master(self.wiz.role):
            what = "Writing " + ", ".join(i.label for i, _ in changes)
            if not self.wiz.prompts.confirm_slave(self, slave_write_question(self.wiz.device_text, what)):
                show_result(self.status, "Not written: this device is a parallel slave; change the setting on "
                            "the master.", "warn")
                return
        code = None
        protected = [i for i, p in changes if p.protected and session.needs_login(i.name)]
        if protected:
            code = self.wiz.prompts.ask_code(self, ", ".join(i.label for i in protected), refused=self.code_refused)
            if not code:
                show_result(self.status, "Not written: the installer code is needed.", "warn")
                return
        runner = self.wiz.runner

        async def go():
            if code:
                await session.login(code)
            return await runner.apply(self.step_id, values)
        self.run(go, self._written, "Writing and reading back…", on_error=self._not_written)

    def _not_written(self, exc) -> None:
        if isinstance(exc, LoginFailed):   # the device refused the code: a refused request, not a link error
            self.code_refused = True
            show_result(self.status, f"{REFUSED_TEXT}: the device did not accept it; nothing was written. "
                        "Press Next to enter it again.", "bad")
            return
        show_result(self.status, describe_error(exc), "bad")

    def _written(self, results) -> None:
        self.code_refused = False
        lines = []
        for r in results:
            mark = "✔" if r.ok else "✘"
            what = f"read back {r.readback_text}" if r.ok else r.message
            lines.append(f"{mark} {html_escape(r.label)}: {html_escape(r.new_text)} — {html_escape(what)}")
        self.results.setText("<br>".join(lines))
        bad = [r for r in results if not r.ok]
        if bad:
            message = (f"{len(bad)} setting(s) did not take. Correct them and press Next again, "
                       "or skip this step.")
            self.run(lambda: self.wiz.runner.session.read_all(list(self.editors)),
                     lambda infos: self._refresh_infos(infos, message), "Reading the settings again…")
            return
        show_result(self.status, "Written and verified.", "ok")
        self.advance()

    def _refresh_infos(self, infos, message: str) -> None:
        self.infos = {i.name: i for i in infos}   # later changes compare with what the device holds now
        show_result(self.status, message, "bad")


class GridPage(SettingsStepPage):
    """Country first, then the grid codes the profile offers for it."""

    step_id = "grid"

    def build_form(self, infos) -> None:
        info = self.infos.get("grid_code")
        if info is None:
            return super().build_form(infos)
        self.setSubTitle("The grid code sets the voltage and frequency protection. It must match the grid "
                         "operator's approval; it is protected by the installer login.")
        point = self.wiz.runner.device.profile.point("grid_code")
        self.by_country = grid_code_countries(point)
        self.country = QComboBox(self)
        self.country.setObjectName("country")
        for c in self.by_country:
            self.country.addItem(country_text(c), c)
        self.code = QComboBox(self)
        self.code.setObjectName("edit_grid_code")
        self.editors["grid_code"] = self.code
        self.country.currentIndexChanged.connect(self._fill_codes)
        current = next((c for c, codes in self.by_country.items() if any(k == info.value for k, _ in codes)), None)
        if current is not None:
            self.country.setCurrentIndex(self.country.findData(current))
        self._fill_codes()
        self.form.addRow("Country:", self.country)
        self.add_row(info, self.code)

    def _fill_codes(self) -> None:
        self.code.clear()
        for k, label in self.by_country.get(self.country.currentData(), []):
            self.code.addItem(f"{label} ({k})", k)
        i = self.code.findData(self.infos["grid_code"].value)
        if i >= 0:
            self.code.setCurrentIndex(i)
