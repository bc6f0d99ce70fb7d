"""Apply one settings file to the devices selected on the Site page, with the diff of each shown before its write.

Runs on the GUI thread; previews and writes run on the device I/O loop
through the runner (the app's Bridge), with the existing settings-file code
(desktop/commission/site_devices.py -> settings_file: model check, typed
values, login for protected settings, read-back, write history). One device
after another: a parallel slave is warned about first (``confirm_slave_write``,
Cancel by default), then its diff is shown (``review``: the settings diff
dialog, Cancel by default), the installer code is asked when a protected
setting changes (``ask_code``, once for the run: one installer code serves
the site's devices), and only then is it written. A refusal, a
declined question or a setting that does not take stops the run; the
summary says what each device got and which were not touched. Every
question is a hook tests replace.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog, QWidget

from protocols.errors import PVDeskError

from desktop.commission import settings_file
from desktop.commission.site_devices import apply_on, preview_on
from desktop.core.errors import describe_error
from desktop.device.site_service import SiteError, follows_master
from desktop.ui.commissioning.settings_diff_dialog import SettingsDiffDialog
from desktop.ui.commissioning.widgets import Prompts
from desktop.ui.shell.confirm_dialogs import confirm_slave_write, slave_write_question


class SiteSettingsApply(QObject):
    """``run(keys, path)``; ``finished(list[str])`` with one line per device, ``ok`` when all took."""

    finished = Signal(list)

    def __init__(self, runner, site, context, parent: QWidget) -> None:
        super().__init__(parent)
        self.runner, self.site, self.ctx = runner, site, context
        self.review = lambda key, preview: SettingsDiffDialog(preview, parent, device=key).exec() == \
            QDialog.DialogCode.Accepted
        self.confirm_slave_write = lambda text: confirm_slave_write(parent, text)
        self.ask_code = lambda what: Prompts().ask_code(parent, what)
        self.lines: list[str] = []
        self.ok = False
        self.running = False
        self._sessions: dict = {}

    def run(self, keys: list[str], path: str) -> None:
        self.lines, self.ok = [], False
        try:
            doc = settings_file.load(path)
        except PVDeskError as exc:
            return self._end([f"Nothing applied: {exc.one_line()}"], False)
        if not keys:
            return self._end(["Select the devices on the Site page first."], False)
        self.running = True
        self._doc, self._keys, self._index, self._code = doc, list(keys), 0, None
        self._next()

    def _device(self, key: str):
        member = self.site.members.get(key)
        if member is None or member.device is None:
            raise SiteError(f"{key} is not open on the site")
        return member.device

    def _next(self) -> None:
        if self._index >= len(self._keys):
            return self._end(self.lines, True)
        key = self._keys[self._index]
        row = next((d for d in self.site.snapshot() if d["key"] == key), {})
        if follows_master(row.get("role", "")):
            master = next((d["key"] for d in self.site.snapshot() if d["link"] == row.get("link")
                           and d.get("role", "").casefold().startswith("master")), None)
            text = slave_write_question(key, "Applying a settings file", master)
            if not self.confirm_slave_write(text):
                return self._stop(key, "not applied: a parallel slave follows its master (cancelled)")
        doc, ctx, sessions = self._doc, self.ctx, self._sessions

        async def preview():
            return await preview_on(self._device(key), doc, ctx.installer, ctx.history, sessions)
        self.runner.submit(preview, lambda pv: self._reviewed(key, pv),
                           lambda exc: self._stop(key, f"not applied: {describe_error(exc)}"))

    def _reviewed(self, key: str, preview) -> None:
        if preview.errors:
            return self._stop(key, "not applied: the file holds values this device does not allow: "
                              + "; ".join(r.error for r in preview.errors))
        if not preview.changes:
            self.lines.append(f"{key}: nothing to change, it already holds the file's settings")
            self._index += 1
            return self._next()
        if not self.review(key, preview):
            return self._stop(key, "not applied: the changes were not confirmed")
        code = None
        if preview.protected_changes:
            session = self._sessions.get(id(self.site.members[key].device))
            if session is not None and not session.logged_in:
                code = self._code or self.ask_code(", ".join(r.label for r in preview.protected_changes))
                if not code:
                    return self._stop(key, "not applied: the installer code is needed")
                self._code = code   # kept for this run only, in memory
        doc, ctx, sessions, site = self._doc, self.ctx, self._sessions, self.site

        async def apply():
            async with site.paused(key) as device:
                return await apply_on(device, doc, ctx.installer, ctx.history, sessions, code)
        self.runner.submit(apply, lambda results: self._applied(key, results),
                           lambda exc: self._stop(key, f"not applied: {describe_error(exc)}"))

    def _applied(self, key: str, results: list) -> None:
        bad = [r for r in results if not r.ok]
        if bad:
            return self._stop(key, f"{len(results) - len(bad)} of {len(results)} settings took; failed: "
                              + "; ".join(f"{r.label}: {r.message}" for r in bad))
        self.lines.append(f"{key}: {len(results)} setting(s) written and verified")
        self._index += 1
        self._next()

    def _stop(self, key: str, reason: str) -> None:
        rest = self._keys[self._index + 1:]
        lines = self.lines + [f"{key}: {reason}"]
        if rest:
            lines.append("Not touched: " + ", ".join(rest))
        self._end(lines, False)

    def _end(self, lines: list[str], ok: bool) -> None:
        self.running, self._code = False, None
        self.lines, self.ok = lines, ok
        self.finished.emit(lines)


__all__ = ["SiteSettingsApply"]
