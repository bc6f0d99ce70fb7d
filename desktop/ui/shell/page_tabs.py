"""The main window's tabs: each page sits in a scroll area, so a small screen scrolls instead of clipping.

Runs on the GUI thread. At 1366x768 with a scale factor of 1.5 a page has
about 640 x 420 logical pixels; a page whose natural minimum is larger (the
dashboard's tiles and plots, the firmware page) would otherwise push the
window's minimum size past the screen. The scroll area lets the page keep
its minimum and shows scroll bars only when the window is smaller than it.
The tab widget's API speaks in pages: ``widget``, ``currentWidget``,
``indexOf`` and ``setCurrentWidget`` take and return the page, never its
scroll area.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QTabWidget, QWidget


class PageScroll(QScrollArea):
    """A frameless, resizable scroll area around one page."""

    def __init__(self, page: QWidget) -> None:
        super().__init__()
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setWidget(page)
        self.setAccessibleName(page.accessibleName())

    def resizeEvent(self, event) -> None:  # Qt override
        # A page that can reflow (the dashboard's tiles) is told the room it has before it is laid out.
        fit = getattr(self.widget(), "fit_width", None)
        if callable(fit):
            fit(self.viewport().width())
        super().resizeEvent(event)


class PageTabs(QTabWidget):
    """A QTabWidget whose pages scroll when the window is smaller than they are."""

    def addTab(self, page: QWidget, title: str) -> int:  # Qt API
        return super().addTab(PageScroll(page), title)

    def widget(self, index: int) -> QWidget | None:
        area = super().widget(index)
        return area.widget() if isinstance(area, PageScroll) else area

    def currentWidget(self) -> QWidget | None:  # Qt API
        return self.widget(self.currentIndex())

    def indexOf(self, page: QWidget) -> int:  # Qt API
        for i in range(self.count()):
            if self.widget(i) is page:
                return i
        return -1

    def setCurrentWidget(self, page: QWidget) -> None:  # Qt API
        index = self.indexOf(page)
        if index >= 0:
            self.setCurrentIndex(index)
