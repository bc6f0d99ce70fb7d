"""CommissioningWizard: the guided set-up as a QWizard, one page per step, each skippable and resumable.

GUI thread. All device work goes through the Bridge to the I/O thread
(desktop.commission.wizard.WizardRunner), so no page ever waits on the
device: a page's "Next" starts the step's writes and moves on by itself once
they are read back and verified; a refusal or mismatch keeps the page open
and says what happened. "Skip this step" records the skip. The first page
identifies the device and, when the set-up of this serial was left halfway,
offers to continue at the step where it stopped.

Steps: device and firmware, country and grid code, date/time/time zone,
export limit, battery, meter and CT ratio, CT direction check, final live
check, commissioning report (see desktop/ui/commission_*_page*.py).
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWizard,
    QWizardPage,
)

from widgets.screen_fit import fit_to_screen

from desktop.commission.context import CommissionContext
from desktop.commission.wizard import STEP_IDS, WizardRunner, step
from desktop.core.errors import describe_error
from desktop.ui.commissioning.widgets import Prompts, show_result


class StepPage(QWizardPage):
    """A wizard page for one step: async work on Next, a status line, skip support."""

    step_id = ""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        n, m = STEP_IDS.index(self.step_id) + 1, len(STEP_IDS)
        self.setTitle(f"Step {n} of {m}: {step(self.step_id).title}")
        self.layout_ = QVBoxLayout(self)
        self.status = QLabel("")
        self.status.setObjectName(f"status_{self.step_id}")
        self.status.setWordWrap(True)
        self._passed = False
        self.busy = False

    @property
    def wiz(self) -> "CommissioningWizard":
        return self.wizard()

    def finish_layout(self) -> None:
        self.layout_.addStretch(1)
        self.layout_.addWidget(self.status)

    def run(self, coro_factory, on_done, what: str = "Working…", progress=None, on_device: bool = False,
            on_error=None) -> None:
        """Run on the I/O thread; errors land in the status line (or ``on_error``) and the page stays.

        With ``progress`` (a GUI-thread callback), ``coro_factory`` takes the I/O-side progress function;
        with ``on_device`` it takes the connected Device (``bridge.call_device``) instead.
        """
        self.busy = True
        self.wiz.set_busy(True)
        show_result(self.status, what, "busy")

        def done(result):
            self.busy = False
            self.wiz.set_busy(False)
            on_done(result)

        def failed(exc):
            self.busy = False
            self.wiz.set_busy(False)
            if on_error is not None:
                on_error(exc)
            else:
                show_result(self.status, describe_error(exc), "bad")
        if on_device:
            self.wiz.bridge.call_device(coro_factory, done, failed)
        else:
            self.wiz.bridge.submit(coro_factory, done, failed, on_progress=progress)

    def advance(self) -> None:
        """The step's work is done: let Next through once."""
        self._passed = True
        self.wiz.next()

    def validatePage(self) -> bool:
        if self._passed:
            self._passed = False
            return True
        if not self.busy:
            self.start()
        return False

    def start(self) -> None:   # the step's work; calls advance() when it succeeded
        self.advance()

    def skip(self) -> None:
        if self.busy:
            return
        self.wiz.runner.skip(self.step_id)
        self.advance()


class IdentifyPage(StepPage):
    step_id = "identify"

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSubTitle("PVDesk reads the model, serial number and the firmware of every component.")
        self.summary = QLabel("")
        self.summary.setObjectName("deviceSummary")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.firmware = QTableWidget(0, 4)
        self.firmware.setHorizontalHeaderLabels(["Component", "Firmware", "Hardware", "Serial number"])
        self.firmware.verticalHeader().setVisible(False)
        self.firmware.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.resume_label = QLabel("")
        self.resume_label.setWordWrap(True)
        self.resume_button = QPushButton("Continue where the set-up stopped")
        self.resume_button.setObjectName("resumeButton")
        self.restart_button = QPushButton("Start again from the beginning")
        self.restart_button.setObjectName("restartButton")
        for w in (self.summary, self.firmware, self.resume_label, self.resume_button, self.restart_button):
            self.layout_.addWidget(w)
        self.resume_button.clicked.connect(self._resume)
        self.restart_button.clicked.connect(self._restart)
        self.finish_layout()
        self.resume_target: str | None = None
        self.loaded = False

    def initializePage(self) -> None:
        self.resume_button.hide()
        self.restart_button.hide()
        self.loaded = False
        self.load(restart=False)

    def load(self, restart: bool) -> None:
        ctx = self.wiz.ctx

        async def go(device):  # I/O thread
            runner = WizardRunner(ctx.session_for(device), ctx.wizard_store)
            state = await runner.open(restart=restart)
            resume = state.current if state.current not in ("identify",) and state.steps else None
            return runner, resume, await runner.identify()
        self.run(go, self._loaded, "Reading the device…", on_device=True)

    def _loaded(self, result) -> None:
        runner, resume, info = result
        self.wiz.runner = runner
        self.wiz.role = info.get("role", "")
        self.wiz.device_text = f"{info['model']} (serial {info['serial']})"
        self.loaded = True
        self.summary.setText(f"<b>{info['model']}</b><br>Serial number <b>{info['serial']}</b>")
        self.firmware.setRowCount(len(info["firmware"]))
        for i, c in enumerate(info["firmware"]):
            for j, v in enumerate((c["label"], c["version"] or "n/a",
                                   "—" if c["hardware"] is None else c["hardware"], c["serial"] or "—")):
                self.firmware.setItem(i, j, QTableWidgetItem(str(v)))
        self.resume_target = None
        if resume and resume != "identify" and runner.state.finished:
            when = time.strftime("%d %b %Y %H:%M", time.localtime(runner.state.updated_at))
            self.resume_label.setText(f"The set-up of this device was completed on {when}. Start again to "
                                      f"commission it anew; the earlier report stays in the customer record.")
            self.resume_button.hide()
            self.restart_button.show()
            show_result(self.status, "Device identified. Its set-up was completed before.", "ok")
        elif resume and resume != "identify":
            st = runner.state
            when = time.strftime("%d %b %Y %H:%M", time.localtime(st.updated_at))
            self.resume_label.setText(f"The set-up of this device was started before (last step on {when}); "
                                      f"it stopped at <b>{step(resume).title}</b>.")
            self.resume_target = resume
            self.resume_button.show()
            self.restart_button.show()
            show_result(self.status, "Continue where it stopped, or start again.", "warn")
        else:
            self.resume_label.setText("")
            show_result(self.status, "Device identified. Next: country and grid code.", "ok")
        self.completeChanged.emit()

    def _resume(self) -> None:
        self.advance()

    def _restart(self) -> None:
        self.resume_target = None
        self.resume_button.hide()
        self.restart_button.hide()
        self.resume_label.setText("")
        self.load(restart=True)

    def isComplete(self) -> bool:
        return self.loaded and not self.busy

    def nextId(self) -> int:
        if self.resume_target:
            return STEP_IDS.index(self.resume_target)
        return super().nextId()

    def start(self) -> None:
        self.advance()

    def skip(self) -> None:   # identification is what every other step builds on
        show_result(self.status, "The device must be identified first.", "warn")


class CommissioningWizard(QWizard):
    """Give it the Bridge, a CommissionContext and optionally the RecordsService."""

    def __init__(self, bridge, context: CommissionContext | None = None, records=None, parent=None) -> None:
        super().__init__(parent)
        from desktop.ui.commissioning.check_pages import CtPage, FinalPage
        from desktop.ui.commissioning.clock_page import ClockPage
        from desktop.ui.commissioning.report_page import ReportPage
        from desktop.ui.commissioning.step_pages import GridPage, SettingsStepPage
        self.bridge = bridge
        self.ctx = context or CommissionContext()
        self.records = records
        self.prompts = Prompts()
        self.runner: WizardRunner | None = None
        self.role = ""          # the device's parallel role as it names it ("Slave": its settings follow the master)
        self.device_text = ""   # model and serial, for questions about this device
        self.setWindowTitle("Commissioning")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.HaveCustomButton1, True)
        self.setButtonText(QWizard.WizardButton.CustomButton1, "Skip this step")
        self.customButtonClicked.connect(lambda which: self.currentPage().skip())
        pages = [IdentifyPage(), GridPage(), ClockPage(), SettingsStepPage.for_step("export"),
                 SettingsStepPage.for_step("battery"), SettingsStepPage.for_step("meter"), CtPage(), FinalPage(),
                 ReportPage()]
        for i, page in enumerate(pages):
            self.setPage(i, page)
        fit_to_screen(self, 820, 640)

    def set_busy(self, busy: bool) -> None:
        for b in (QWizard.WizardButton.NextButton, QWizard.WizardButton.BackButton,
                  QWizard.WizardButton.CustomButton1, QWizard.WizardButton.FinishButton):
            self.button(b).setEnabled(not busy)
        page = self.currentPage()   # None once the wizard was closed while the device was still answering
        if not busy and page is not None:
            page.completeChanged.emit()   # let isComplete() decide Next again
