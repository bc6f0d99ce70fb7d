"""Shared by the wizard tests: open the guided set-up on a connected bridge, its first page loaded."""

from __future__ import annotations

from desktop.commission.context import CommissionContext
from desktop.ui.commissioning.wizard import CommissioningWizard

WAIT_MS = 8000


def make_wizard(qtbot, bridge, prompts, records=None):
    wiz = CommissioningWizard(bridge, CommissionContext("inst-042", "Sonnenschein Solartechnik"), records)
    wiz.prompts = prompts
    qtbot.addWidget(wiz)
    wiz.show()
    page = wiz.currentPage()
    qtbot.waitUntil(lambda: page.loaded and not page.busy, timeout=WAIT_MS)
    return wiz
