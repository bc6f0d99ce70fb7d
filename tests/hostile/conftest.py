"""Fixtures for the hostile-input suite: a real simulator whose unit 1 counts every register byte written to it."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest


@pytest.fixture
def hsim():
    from hostile_cases import count_device_writes

    from tests.firmware.fw_helpers import start_sim
    s = start_sim()
    count_device_writes(s)
    yield s
    s.stop()
