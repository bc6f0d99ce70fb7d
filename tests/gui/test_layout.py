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


def test_pages_fit_beside_the_connection_panel_without_a_sideways_scroll_bar(qtbot, window, sim):
    # 911 logical px less the connection panel leave a page about 530 px wide: rows wrap, they do not widen it
    connect_tcp(qtbot, window, sim)
    window.resize(*LAPTOP_AT_150_PCT)
    titles = [t for t in window.pages if t not in ("Device", "Firmware")]   # those two reflow (test above)
    assert {"Dashboard", "Faults", "Registers", "Customers", "Parameters", "Site"} <= set(titles)
    for title in titles:
        window.show_page(title)
        qtbot.wait(100)
        page = window.page(title)
        room = window.tabs.currentWidget().width()
        assert page.minimumSizeHint().width() <= room, (title, page.minimumSizeHint().width(), room)


def test_a_flow_row_wraps_when_narrow_and_keeps_one_line_when_wide(qtbot):
    from PySide6.QtWidgets import QPushButton

    from widgets.flow_layout import flow_row
    buttons = [QPushButton(f"Button number {i}") for i in range(4)]
    row = flow_row(*buttons)
    qtbot.addWidget(row)
    row.resize(2000, 40)
    row.show()
    qtbot.wait(20)
    assert len({b.y() for b in buttons}) == 1                   # wide: one line
    narrow = max(b.sizeHint().width() for b in buttons) + 10
    assert row.minimumSizeHint().width() <= narrow
    row.resize(narrow, row.heightForWidth(narrow))
    qtbot.wait(20)
    assert len({b.y() for b in buttons}) == 4                   # one button a line, none cut
    assert all(b.x() + b.width() <= narrow for b in buttons)
    assert row.heightForWidth(narrow) >= 4 * buttons[0].sizeHint().height()


def test_parameters_table_drops_its_side_columns_when_narrow_and_says_them_under_the_table(qtbot, window, sim):
    """At 1366x768 and 150 % the settings table scrolled sideways; now it keeps setting, value, unit and
    range, and the line under it gives the selected setting's needs, description and last write."""
    connect_tcp(qtbot, window, sim)
    window.resize(*LAPTOP_AT_150_PCT)
    window.show_page("Parameters")
    page = window.page("Parameters")
    qtbot.waitUntil(lambda: page.model.rowCount() > 5, timeout=10000)
    table, hh = page.table, page.table.horizontalHeader()
    qtbot.waitUntil(lambda: hh.isSectionHidden(5), timeout=3000)
    assert [hh.isSectionHidden(c) for c in range(7)] == [False] * 4 + [True] * 3
    qtbot.wait(50)
    assert table.horizontalScrollBar().maximum() == 0            # no sideways scrolling
    row = next(i for i in range(page.model.rowCount()) if page.model.rows[i].name == "battery_min_soc_pct")
    table.selectRow(row)
    description = page.model.data(page.model.index(row, 5))
    assert description and page.details.text().startswith(f"{page.model.data(page.model.index(row, 0))}: ")
    assert description in page.details.text()
    window.resize(1920, 1080)
    qtbot.waitUntil(lambda: not hh.isSectionHidden(5), timeout=3000)
    assert not any(hh.isSectionHidden(c) for c in range(7))
