"""Size a dialog for the screen it opens on: its preferred size, never more than that screen's free area.

Runs on the GUI thread. A dialog asks for the size its content reads best at
(e.g. the wizard's 820 x 640); on a 1366 x 768 laptop at a scale of 1.5 the
screen is 911 x 512 logical pixels, and a dialog taller than that has its
buttons off the screen. ``fit_to_screen`` keeps a margin for the task bar and
the title bar and lets the layout (scroll areas, word-wrapped labels) take
what is left.
"""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QWidget

MARGIN_PX = 48   # logical pixels kept free around a dialog: task bar, title bar, the window behind it


def fit_to_screen(widget: QWidget, width_px: int, height_px: int) -> tuple[int, int]:
    """Resize ``widget`` to ``width_px`` x ``height_px`` or to its screen's free area, whichever is smaller."""
    screen = widget.screen() or QApplication.primaryScreen()
    if screen is None:
        widget.resize(width_px, height_px)
        return width_px, height_px
    free = screen.availableGeometry()
    w = max(200, min(width_px, free.width() - MARGIN_PX))
    h = max(150, min(height_px, free.height() - MARGIN_PX))
    widget.resize(w, h)
    return w, h
