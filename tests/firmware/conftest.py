"""Fixtures for the firmware tests: a real simulator (loopback TCP) with a fast bootloader."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from fw_helpers import start_sim


@pytest.fixture
def sim():
    s = start_sim()
    yield s
    s.stop()
