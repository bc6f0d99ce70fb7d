"""Fixtures for the hostile-input suite: a real simulator whose unit 1 counts every register byte written to it."""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

HERE = Path(__file__).resolve().parent
for extra in (HERE, HERE.parent / "firmware", HERE.parent / "diag"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))


@pytest.fixture
def hsim():
    from fw_helpers import start_sim
    from hostile_cases import count_device_writes
    s = start_sim()
    count_device_writes(s)
    yield s
    s.stop()
