"""ValueTile: number formatting, n/a, stale greying, warning style, accessibility."""

import math

import pytest
from PySide6.QtGui import QPalette

from widgets.value_tile import ValueTile, flow_subtitle, format_quantity, format_with_unit


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (1234, "W", ("1.23", "kW")),
        (999.6, "W", ("1000", "W")),
        (850.4, "W", ("850", "W")),
        (12_345, "W", ("12.3", "kW")),
        (-2500, "W", ("-2.50", "kW")),
        (-0.2, "W", ("0", "W")),
        (123_456, "W", ("123", "kW")),
        (3.456, "kWh", ("3.46", "kWh")),
        (12_345, "kWh", ("12.3", "MWh")),
        (87.4, "%", ("87", "%")),
        (230.06, "V", ("230.1", "V")),
        (50.014, "Hz", ("50.01", "Hz")),
        (1500, "var", ("1.50", "kvar")),
        (None, "W", ("n/a", "")),
        (math.nan, "W", ("n/a", "")),
    ],
)
def test_format_quantity(value, unit, expected):
    assert format_quantity(value, unit) == expected


def test_flow_subtitle_direction_and_deadband():
    assert flow_subtitle(1200, "charging", "discharging") == "▲ charging 1.20 kW"
    assert flow_subtitle(-450, "charging", "discharging") == "▼ discharging 450 W"
    assert flow_subtitle(10, "importing", "exporting") == "idle"
    assert flow_subtitle(None, "importing", "exporting") == "n/a"


@pytest.fixture
def tile(qtbot):
    widget = ValueTile("PV power", "W")
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_value_unit_and_subtitle(tile):
    tile.set_value(3420, subtitle="PV1 1.71 kW · PV2 1.71 kW")
    assert tile.value_label.text() == "3.42" and tile.unit_label.text() == "kW"
    assert tile.value_text() == "3.42 kW" and tile.value() == 3420.0
    assert tile.subtitle_label.isVisible() and tile.subtitle_label.text().startswith("PV1")
    tile.set_value(640)
    assert tile.value_text() == "640 W" and not tile.subtitle_label.isVisible()


def test_none_reads_not_available(tile):
    tile.set_value(None)
    assert tile.value_label.text() == "n/a" and tile.unit_label.text() == ""
    assert "not available" in tile.accessibleDescription()


def test_stale_greys_the_value_and_says_so(tile):
    tile.set_value(1500)
    normal = tile.value_label.palette().color(QPalette.ColorRole.WindowText)
    tile.set_stale(True)
    assert tile.is_stale() and tile.property("stale") is True
    assert not tile.value_label.isEnabled()
    palette = tile.value_label.palette()
    assert palette.currentColorGroup() == QPalette.ColorGroup.Disabled  # drawn from the disabled group
    assert palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText) != normal
    assert "stale" in tile.toolTip() and "stale" in tile.accessibleDescription()
    tile.set_value(1600)  # a new value is fresh again
    assert not tile.is_stale() and tile.value_label.isEnabled() and "stale" not in tile.toolTip()


def test_flagged_value_gets_the_warning_style(tile):
    tile.set_value(99_000, flagged=True)
    assert tile.is_flagged() and tile.property("flagged") is True
    assert "#E07B00" in tile.styleSheet() and "#E07B00" in tile.value_label.styleSheet()
    assert "outside the plausible range" in tile.accessibleDescription()
    tile.set_value(1000)
    assert not tile.is_flagged() and "#E07B00" not in tile.styleSheet()


def test_accessible_name_and_description(tile):
    tile.set_value(87.4, "%", subtitle="▲ charging 1.20 kW")
    assert tile.accessibleName() == "PV power"
    assert tile.accessibleDescription() == "PV power: 87 %, ▲ charging 1.20 kW"
    assert format_with_unit(87.4, "%") == "87 %"
