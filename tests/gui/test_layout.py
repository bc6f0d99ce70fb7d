"""The window fits a laptop: 1366x768 at a scale factor of 1.5 leaves 910x512 logical pixels; every page scrolls
or reflows inside that instead of pushing the window's minimum past the screen."""

from __future__ import annotations

import pytest
from gui_helpers import connect_tcp
from PySide6.QtWidgets import QBoxLayout

pytestmark = pytest.mark.gui

LAPTOP_AT_150_PCT = (round(1366 / 1.5), round(768 / 1.5))   # 911 x 512 logical px


def test_window_minimum_fits_a_1366x768_laptop_at_150_percent_on_every_page(qtbot, window, sim):
    connect_tcp(qtbot, window, sim)
    for i in range(window.tabs.count()):
        window.tabs.setCurrentIndex(i)
        qtbot.wait(50)
        hint = window.minimumSizeHint()
        assert hint.width() <= LAPTOP_AT_150_PCT[0] and hint.height() <= LAPTOP_AT_150_PCT[1], \
            (window.tabs.tabText(i), hint.width(), hint.height())
    assert window.tabs.widget(window.tabs.indexOf(window.faults_page)) is window.faults_page  # pages, not scrolls


def test_narrow_window_reflows_tiles_and_columns(qtbot, window, sim):
    connect_tcp(qtbot, window, sim)
    window.resize(*LAPTOP_AT_150_PCT)
    window.show_page("Device")
    qtbot.waitUntil(lambda: window.device_page._body.direction() == QBoxLayout.Direction.TopToBottom, timeout=3000)
    window.show_page("Dashboard")
    qtbot.waitUntil(lambda: window.dashboard._tile_columns < 6, timeout=3000)
    window.resize(1920, 1080)
    qtbot.waitUntil(lambda: window.dashboard._tile_columns == 6, timeout=3000)
    window.show_page("Device")
    qtbot.waitUntil(lambda: window.device_page._body.direction() == QBoxLayout.Direction.LeftToRight, timeout=3000)
