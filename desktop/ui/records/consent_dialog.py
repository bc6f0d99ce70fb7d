"""ConsentDialog: asks for (or withdraws) consent for one purpose, in plain words.

It states what will be shared, with whom, where, and under which policy
version, shows the current state (and the last entry: how, when, by whom),
and records how consent was given (signed on screen, paper, verbal) and by
whom (``installer_name``: the configured installer, editable here). The
"Record consent" button stays disabled until the installer ticks that the
customer agreed to exactly this and a name is given. Withdrawal is one button. The dialog only
returns the decision; the page calls the service. GUI thread only.
"""
from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from widgets.screen_fit import fit_to_screen

from desktop.records.consent import METHODS, PURPOSES

STATUS_TEXT = {
    "granted": "Given", "renew": "Given for an older policy version: ask again",
    "withdrawn": "Withdrawn", "none": "Not asked yet",
}


class ConsentDialog(QDialog):
    def __init__(self, purpose: str, status: str, last_entry: dict | None, policy_version: str,
                 installer: str, parent: QWidget | None = None, text: dict | None = None) -> None:
        """``text``: RecordsService.consent_text(purpose) -- the wording with the controller, its
        data-protection contact and the bucket's region; the built-in wording when absent."""
        super().__init__(parent)
        p = PURPOSES[purpose]
        self.purpose = purpose
        self.decision: str | None = None
        self.setWindowTitle(f"Consent: {p.title}")
        self.setMinimumWidth(520)
        lay = QVBoxLayout(self)
        # What the customer reads scrolls when the screen is short (1366 x 768 at 150 %); the choices stay in view.
        info = QWidget()
        info_lay = QVBoxLayout(info)
        info_lay.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(info)
        scroll.setAccessibleName("What the customer agrees to")
        lay.addWidget(scroll, 1)

        title = QLabel(p.title)
        f = title.font()
        f.setPointSizeF(f.pointSizeF() * 1.25)
        f.setBold(True)
        title.setFont(f)
        title.setWordWrap(True)
        info_lay.addWidget(title)

        facts = QFormLayout()
        facts.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        t = text or {}
        rows = [("What is shared", t.get("what", p.what)), ("With whom", t.get("with_whom", p.with_whom)),
                ("Where", t.get("where", p.where)), ("Privacy policy", f"Version {policy_version}")]
        if t:
            rows += [("Controller", t["controller"]), ("Data protection", t["dpo_contact"])]
        for label, value_text in rows:
            value = QLabel(value_text)
            value.setTextFormat(Qt.TextFormat.PlainText)
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            facts.addRow(QLabel(f"<b>{label}</b>"), value)
        info_lay.addLayout(facts)
        note = QLabel("The customer can withdraw this consent at any time; PVDesk then stops "
                      "at once and removes what was shared.")
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(placeholder-text);")
        info_lay.addWidget(note)
        info_lay.addStretch(1)

        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        lay.addWidget(line)

        current = STATUS_TEXT.get(status, status)
        if last_entry and status in ("granted", "renew"):
            when = time.strftime("%Y-%m-%d", time.localtime(last_entry["granted_at"]))
            current += (f" — {METHODS.get(last_entry['method'], last_entry['method']).lower()}, {when}, "
                        f"by {last_entry['installer']}, policy {last_entry['policy_version']}")
        self.status_label = QLabel(f"<b>Now:</b> {current}")
        self.status_label.setWordWrap(True)
        lay.addWidget(self.status_label)

        how = QFormLayout()
        self.method = QComboBox()
        for key, text in METHODS.items():
            self.method.addItem(text, key)
        how.addRow("How it is given", self.method)
        self.installer = QLineEdit(installer)   # who obtained it: the configured installer unless changed here
        self.installer.setObjectName("consentInstaller")
        self.installer.setMaxLength(64)
        self.installer.setToolTip("The name of the installer who obtained the consent (kept in the record)")
        how.addRow("Obtained by", self.installer)
        lay.addLayout(how)
        self.agreed = QCheckBox("The customer has read the above and agrees to it")
        lay.addWidget(self.agreed)

        buttons = QDialogButtonBox()
        self.grant_button = buttons.addButton("Record consent", QDialogButtonBox.ButtonRole.AcceptRole)
        self.grant_button.setEnabled(False)
        self.withdraw_button: QPushButton | None = None
        if status in ("granted", "renew"):
            self.withdraw_button = buttons.addButton("Withdraw consent",
                                                     QDialogButtonBox.ButtonRole.DestructiveRole)
            self.withdraw_button.clicked.connect(self._withdraw)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.grant_button.clicked.connect(self._grant)
        buttons.rejected.connect(self.reject)
        self.agreed.toggled.connect(self._enable_grant)
        self.installer.textChanged.connect(self._enable_grant)
        lay.addWidget(buttons)
        fit_to_screen(self, 620, self.sizeHint().height() + 40)

    @property
    def method_key(self) -> str:
        return self.method.currentData()

    @property
    def installer_name(self) -> str:
        """Who obtained the consent, as typed (default: the configured installer)."""
        return self.installer.text().strip()

    def _enable_grant(self, *_args) -> None:
        self.grant_button.setEnabled(self.agreed.isChecked() and bool(self.installer_name))

    def _grant(self) -> None:
        if self.agreed.isChecked() and self.installer_name:
            self.decision = "grant"
            self.accept()

    def _withdraw(self) -> None:
        self.decision = "withdraw"
        self.accept()
