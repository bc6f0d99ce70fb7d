"""Colours shared by the dashboard widgets, chosen to read on light and dark.

Role: one place for the series colours of the plots and the few accent
colours of the tiles. Everything else comes from the system palette (palette
roles, never hard-coded black or white), so the widgets follow a light or a
dark desktop theme. Used on the GUI thread.

The series colours are mid-luminance hues: each keeps a contrast of at least
about 2.5:1 against a white and against a near-black plot background.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette

# (name, hex): names are what a colleague says aloud ("the amber curve").
SERIES_COLOURS: tuple[tuple[str, str], ...] = (
    ("amber", "#E69F00"),
    ("blue", "#3A86E0"),
    ("green", "#2E9E5B"),
    ("red", "#E0484E"),
    ("violet", "#9467D8"),
    ("teal", "#139C9C"),
    ("pink", "#D9579A"),
    ("brown", "#A97442"),
)

# Flags a value outside its plausibility range (tile border and text).
WARNING_COLOUR = "#E07B00"
# Marks a tile whose quantity an active alarm affects (border and the alarm line).
ALARM_COLOUR = "#D0343A"


def series_colour(index: int) -> QColor:
    """Colour of the ``index``-th series of a plot (cycles after eight)."""
    return QColor(SERIES_COLOURS[index % len(SERIES_COLOURS)][1])


def plot_background(palette: QPalette) -> QColor:
    """Background of a plot area: the palette's Base (text-field) colour."""
    return palette.color(QPalette.ColorRole.Base)


def plot_foreground(palette: QPalette) -> QColor:
    """Axis lines, tick labels and titles: the palette's Text colour."""
    return palette.color(QPalette.ColorRole.Text)


def grid_colour(palette: QPalette) -> QColor:
    """A faint line between background and text, for the plot grid."""
    bg = plot_background(palette)
    fg = plot_foreground(palette)
    mix = 0.14
    return QColor.fromRgbF(
        bg.redF() + (fg.redF() - bg.redF()) * mix,
        bg.greenF() + (fg.greenF() - bg.greenF()) * mix,
        bg.blueF() + (fg.blueF() - bg.blueF()) * mix,
    )

