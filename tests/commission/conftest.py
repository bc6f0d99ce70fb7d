"""Fixtures for the commissioning tests: devices on the simulator over loopback TCP, a flowing grid.

The shared ``sim`` fixture (tests/conftest.py) serves units 1 and 2; the app's
data folder is a per-test temporary folder (PVDESK_DATA_DIR), so write
histories and wizard states never touch the user's folders.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest


@pytest.fixture
def open_device():
    """Async factory: ``await open_device(sim, unit)`` -> (Device, Session) on a fresh TCP session."""
    from protocols.device import Device
    from protocols.links.pymodbus_link import tcp_link
    from protocols.profiles import loader
    from protocols.session import Session

    async def make(sim, unit: int = 1, profile: str = "pvdesk-hybrid"):
        s = Session(tcp_link(*sim.tcp_address), timeout_s=1.0, retries=1)
        await s.open()
        return Device(s, loader.load(profile), unit), s
    return make


def _set_plant(sim, unit: int = 1, **overrides) -> None:
    dev = sim.device(unit)

    def go():
        for k, v in overrides.items():
            setattr(dev.plant, k, v)
        dev.update_now()
    sim.call(go)


@pytest.fixture
def set_plant():
    """``set_plant(sim, unit, pv_override_w=..., load_override_w=...)``: override the plant, refresh registers."""
    return _set_plant


@pytest.fixture
def exporting(sim):
    """Sun on the roof, little load: the house exports some 3 kW (more than the battery can take)."""
    _set_plant(sim, 1, pv_override_w=7000.0, load_override_w=400.0)
    return sim


@pytest.fixture
def connected_bridge(sim, qtbot):
    """A DeviceService (fast polling) connected to unit 1 of ``sim`` over TCP, and its Qt Bridge."""
    from protocols.links.factory import LinkSpec

    from desktop.device.connect import Target
    from desktop.device.service import DeviceService
    from desktop.ui.shell.bridge import Bridge
    host, port = sim.tcp_address
    service = DeviceService(fast_period_s=0.2)
    bridge = Bridge(service)
    service.connect(Target(spec=LinkSpec(kind="tcp", host=host, port=port))).result(10)
    yield bridge
    bridge.detach()
    service.shutdown()


class AutoPrompts:
    """Stands in for the modal questions: confirms, gives the installer code, and records what was asked."""

    def __init__(self, code: str = "1234", confirm: bool = True) -> None:
        self.code = code
        self.answer = confirm
        self.confirmed: list = []
        self.asked_code: list = []
        self.told_refused: list = []   # per question: did it say the last code was refused?
        self.slave_questions: list = []  # warnings before a write to a parallel slave
        self.slave_answer = False        # the dialog's default: Cancel

    def confirm(self, parent, title, rows):
        self.confirmed.append(rows)
        return self.answer

    def confirm_slave(self, parent, text):
        self.slave_questions.append(text)
        return self.slave_answer

    def ask_code(self, parent, what, refused=False):
        self.asked_code.append(what)
        self.told_refused.append(refused)
        return self.code


@pytest.fixture
def auto_prompts():
    return AutoPrompts()


@pytest.fixture
def laptop_in_new_york():
    """The laptop's own zone is America/New_York (the office's), far from any grid code's country."""
    import time
    old = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    yield
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()

