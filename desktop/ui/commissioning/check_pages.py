"""Wizard pages that check: the CT direction check and the final live check of every value.

GUI thread; the sampling and reads run on the I/O thread through the Bridge.
The CT page runs desktop.commission.ct_check (optionally with the power step,
which lowers the output for a few seconds), shows the verdict in words and
what to turn round, and offers the software fix (CT direction = Reversed).
Next is open once the check passed; a failed check can be repeated after
the fix, or the step skipped. The final page reads every setting the wizard
wrote and the live values, and shows what still holds.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
)

from desktop.ui.commissioning.widgets import COLOURS, html_escape, show_result
from desktop.ui.commissioning.wizard import StepPage

VERDICT = {"ok": ("CT direction correct", "ok"), "reversed": ("CT reversed", "bad"),
           "mismatch": ("The readings disagree", "bad"), "inconclusive": ("Not conclusive", "warn")}


class CtPage(StepPage):
    step_id = "ct"

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSubTitle("PVDesk compares the meter's reading with what PV output and house load imply "
                         "(grid = load − inverter output), over several seconds.")
        row = QHBoxLayout()
        self.duration = QDoubleSpinBox(self)
        self.duration.setObjectName("ctDuration")
        self.duration.setRange(0.5, 60.0)
        self.duration.setValue(6.0)
        self.duration.setSuffix(" s")
        self.step_box = QCheckBox("Also lower the output briefly (power step) to be sure", self)
        self.step_box.setObjectName("ctStep")
        self.step_box.setToolTip("Needs some sun: the active power limit is lowered for a few seconds and "
                                 "restored; the meter must show the change with the right sign.")
        self.run_button = QPushButton("Run the CT check")
        self.run_button.setObjectName("ctRun")
        row.addWidget(QLabel("Sample for"))
        row.addWidget(self.duration)
        row.addWidget(self.step_box, 1)
        row.addWidget(self.run_button)
        self.layout_.addLayout(row)
        self.verdict = QLabel("")
        self.verdict.setObjectName("ctVerdict")
        self.detail = QLabel("")
        self.detail.setObjectName("ctDetail")
        self.detail.setWordWrap(True)
        self.fix_button = QPushButton("Set CT direction = Reversed (software correction), then check again")
        self.fix_button.setObjectName("ctFix")
        self.fix_button.hide()
        for w in (self.verdict, self.detail, self.fix_button):
            self.layout_.addWidget(w)
        self.finish_layout()
        self.run_button.clicked.connect(self.run_check)
        self.fix_button.clicked.connect(self._fix)
        self.result = None
        self.step_plan = None   # the power step the installer confirmed last
        self.period_s = 0.5     # a test may sample faster
        self.settle_s = 1.5

    def initializePage(self) -> None:
        prior = self.wiz.runner.state.ct_result
        if prior and self.result is None:
            show_result(self.status, f"Last check: {VERDICT.get(prior['status'], ('?',))[0]}. Run it again.", "warn")
        else:
            show_result(self.status, "Run the check with the system running (sun or a load on).", "ok")

    def run_check(self) -> None:
        runner = self.wiz.runner
        d, use_step = self.duration.value(), self.step_box.isChecked()
        if not use_step:
            self._start_check(d, False, None)
            return
        self.run(lambda: runner.power_step_plan(d, self.settle_s), lambda plan: self._ask_step(d, plan),
                 "Reading the power limit and the output for the power step…")

    def _ask_step(self, d: float, plan) -> None:
        """Name the limit, its value, how long, and what is restored after; run only if the installer agrees."""
        if isinstance(plan, str):   # cannot run now: say why, and check without it
            show_result(self.status, f"Power step not possible: {plan}. Checking without it…", "warn")
            self._start_check(d, False, None)
            return
        self.step_plan = plan
        rows = [(plan.limit_label, plan.limit_text(plan.from_pct),
                 f"{plan.limit_text(plan.to_pct)} for about {plan.hold_s:.0f} s, then back to "
                 f"{plan.limit_text(plan.from_pct)}")]
        if not self.wiz.prompts.confirm(self, f"Power step: {plan.text()}", rows):
            show_result(self.status, "Power step not run: it was not confirmed.", "warn")
            return
        self._start_check(d, True, plan)

    def _start_check(self, d: float, use_step: bool, plan) -> None:
        runner = self.wiz.runner
        self.run_button.setEnabled(False)
        self.fix_button.hide()
        self.run(lambda report: runner.ct_check(d, use_step, self.period_s, self.settle_s, progress=report,
                                                step_plan=plan),
                 self._checked, f"Sampling the grid connection for {d:g} s…",
                 progress=lambda text: show_result(self.status, f"{text}…", "busy"))

    def _checked(self, result) -> None:
        self.result = result
        self.run_button.setEnabled(True)
        title, kind = VERDICT.get(result.status, (result.status, "warn"))
        self.verdict.setText(f"<span style='font-size: 15pt; color: {COLOURS[kind]}'><b>{title}</b></span>")
        what = "" if result.passed else f"<br><b>What to do:</b> {html_escape(result.advice)}"
        step = result.step or {}
        if step.get("text"):   # what the power step did, and that the limit is back
            what += f"<br><b>Power step:</b> {html_escape(step['text'])}."
        self.detail.setText(html_escape(result.summary) + what)
        setting = result.ct_direction_setting or ""
        self.fix_button.setVisible(result.status == "reversed" and bool(setting) and not setting.startswith("Reversed"))
        show_result(self.status, "Passed: press Next." if result.passed else
                    "Fix it and run the check again, or skip this step (the report will say so).", kind)
        self.completeChanged.emit()

    def _fix(self) -> None:
        runner = self.wiz.runner
        self.run(lambda: runner.write_one("ct", "ct_direction", 1), lambda r: self._fixed(r), "Writing…")

    def _fixed(self, res) -> None:
        if not res.ok:
            show_result(self.status, res.message, "bad")
            return
        self.fix_button.hide()
        show_result(self.status, "CT direction set to Reversed; checking again in a moment…", "busy")
        QTimer.singleShot(int(self.settle_s * 1000), self.run_check)   # let the meter reading follow

    def isComplete(self) -> bool:
        return bool(self.result and self.result.passed) and not self.busy


class FinalPage(StepPage):
    step_id = "final"

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSubTitle("Every setting written by the wizard is read again, with the live values.")
        self.settings = QTableWidget(0, 3)
        self.settings.setObjectName("finalSettings")
        self.settings.setHorizontalHeaderLabels(["Setting", "Set to", "The device holds"])
        self.live = QTableWidget(0, 2)
        self.live.setObjectName("finalLive")
        self.live.setHorizontalHeaderLabels(["Live value", ""])
        for t in (self.settings, self.live):
            t.verticalHeader().setVisible(False)
            t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
            self.layout_.addWidget(t)
        self.alarms = QLabel("")
        self.layout_.addWidget(self.alarms)
        again = QPushButton("Check again")
        again.clicked.connect(self.initializePage)
        self.layout_.addWidget(again)
        self.finish_layout()
        self.result: dict | None = None

    def initializePage(self) -> None:
        self.result = None
        self.run(lambda: self.wiz.runner.final_check(), self._show, "Reading every value…")

    def _show(self, result: dict) -> None:
        self.result = result
        self.settings.setRowCount(len(result["settings"]))
        for i, s in enumerate(result["settings"]):
            for j, text in enumerate((s["label"], s["set_text"], ("✔ " if s["ok"] else "✘ ") + s["now_text"])):
                self.settings.setItem(i, j, QTableWidgetItem(text))
        self.live.setRowCount(len(result["live"]))
        for i, v in enumerate(result["live"]):
            self.live.setItem(i, 0, QTableWidgetItem(v["label"]))
            self.live.setItem(i, 1, QTableWidgetItem(v["text"]))
        names = "; ".join(f"{a['code']} {a['text']}" for a in result["alarms"]) or "none"
        clock = result.get("clock") or {}
        self.alarms.setText(f"Active alarms: {html_escape(names)}<br>Device clock: "
                            f"{html_escape(clock.get('device_local', 'n/a'))}, {html_escape(clock.get('drift', ''))}")
        ok = result["all_match"] and not result["alarms"]
        show_result(self.status, "All values hold. Next: the commissioning report." if ok else
                    "Some values differ or alarms are active: check them before the handover.", "ok" if ok else "warn")
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.result is not None and not self.busy
