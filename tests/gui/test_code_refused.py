"""A wrong installer code is a refused request, not a link error: the status bar keeps "Errors 0", the
page says "Installer code refused" beside the setting, and the next login dialog says so under its field."""

from __future__ import annotations

import pytest
from gui_helpers import connect_tcp

from desktop.commission.params import ParamSession
from desktop.ui.commissioning.param_model import STATUS_COL

pytestmark = pytest.mark.gui
WAIT_MS = 8000


class CodePrompts:
    """Confirms, gives the codes in turn, and records whether each question said the last was refused."""

    def __init__(self, *codes: str) -> None:
        self.codes = list(codes)
        self.told_refused: list[bool] = []

    def confirm(self, parent, title, rows):
        return True

    def ask_code(self, parent, what, refused=False):
        self.told_refused.append(refused)
        return self.codes.pop(0)


def test_wrong_code_is_refused_not_a_link_error(qtbot, window, sim):
    dev = sim.device(1)
    sim.call(setattr, dev, "require_login", True)
    connect_tcp(qtbot, window, sim)
    page = window.page("Parameters")
    qtbot.waitUntil(lambda: page.model.rowCount() > 5, timeout=WAIT_MS)
    page.prompts = CodePrompts("4321", "1234")
    status = page.model.index(page.model.row_of("grid_code"), STATUS_COL)

    page.request_write("grid_code", 3)                 # wrong code: the device answers exception 03
    qtbot.waitUntil(lambda: "refused" in (status.data() or ""), timeout=WAIT_MS)
    assert status.data().startswith("Installer code refused")
    assert "Installer code refused" in page.status.text()
    assert dev.value_of("grid_code") == 1
    stats = window.bridge._service.stats()
    assert stats["failures"] == 0 and stats["refused"] == 1, stats
    qtbot.waitUntil(lambda: "; 1 refused by the device" in window.status.errors_label.accessibleDescription(),
                    timeout=WAIT_MS)   # the next poll cycle's statistics
    assert window.status.errors_label.text() == "Errors 0"
    assert window.status.errors_label.accessibleDescription().startswith("0 failed requests")

    page.request_write("grid_code", 3)                 # asked again, told the last code was refused
    qtbot.waitUntil(lambda: (status.data() or "").startswith("Verified"), timeout=WAIT_MS)
    assert page.prompts.told_refused == [False, True]
    assert dev.value_of("grid_code") == 3
    assert window.bridge._service.stats()["failures"] == 0


def test_session_counts_a_refused_login_apart_from_a_timeout(run, sim):
    """The counters underneath: an exception reply is "refused", no answer at all is a failure."""
    from protocols.device import Device
    from protocols.errors import ModbusTimeout
    from protocols.links.pymodbus_link import tcp_link
    from protocols.profiles import loader
    from protocols.session import Session

    from desktop.commission.params import LoginFailed

    sim.call(setattr, sim.device(1), "require_login", True)

    async def go():
        s = Session(tcp_link(*sim.tcp_address), timeout_s=0.3, retries=0)
        await s.open()
        ps = ParamSession(Device(s, loader.load("pvdesk-hybrid"), 1), "inst-1")
        with pytest.raises(LoginFailed):
            await ps.login("9999")
        after_login = dict(s.stats.as_dict())
        sim.mute(0.6)    # heard, not answered: a timeout
        with pytest.raises(ModbusTimeout):
            await s.read_registers(0, 2, function="input", unit=1)
        await s.close()
        return after_login, s.stats.as_dict()
    after_login, after_timeout = run(go())
    assert after_login["refused"] == 1 and after_login["failures"] == 0 and after_login["timeouts"] == 0
    assert after_timeout["failures"] == 1 and after_timeout["timeouts"] == 1 and after_timeout["refused"] == 1
