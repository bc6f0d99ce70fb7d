"""Pages built on first show, and the page that explains why a feature is not available.

Runs on the GUI thread. The Firmware and Customers pages load packages the
start-up does not need (cryptography, keyring, the firmware tools), so the
main window wraps them in a ``LazyPage``: the real page is made the first
time its tab is shown. A factory that fails -- most often no keyring on a
headless Linux -- gives a ``NoticePage`` that says what happened and what to
do, instead of a crash.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.core.errors import describe_error

log = logging.getLogger(__name__)


class NoticePage(QWidget):
    """A heading and a paragraph, centred: "this page is not available, because ..., do ...".

    With ``action_text`` a button under the text offers the way out; it
    emits ``actionTriggered``.
    """

    actionTriggered = Signal()

    def __init__(self, heading: str, text: str, parent: QWidget | None = None, action_text: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("NoticePage")
        self.heading = QLabel(heading)
        font = QFont(self.heading.font())
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setWeight(QFont.Weight.DemiBold)
        self.heading.setFont(font)
        self.heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body = QLabel(text)
        self.body.setWordWrap(True)
        self.body.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        # At most 620 px wide (a readable line), as narrow as 240 px on a small window; in a layout, not an
        # alignment flag, so the wrapped text gets its true height.
        self.body.setMinimumWidth(240)
        self.body.setMaximumWidth(620)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.body, 8)   # the text takes the room first, up to its maximum width
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.heading)
        layout.addSpacing(8)
        layout.addLayout(row)
        self.action_button = None
        if action_text:
            self.action_button = QPushButton(action_text)
            self.action_button.clicked.connect(self.actionTriggered)
            layout.addSpacing(12)
            layout.addWidget(self.action_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)
        self.setAccessibleName(heading)
        self.setAccessibleDescription(text)

    def set_text(self, text: str) -> None:
        self.body.setText(text)
        self.setAccessibleDescription(text)


class LazyPage(QWidget):
    """Holds ``factory()``'s page, made the first time this tab is shown (or by ``page()``)."""

    def __init__(self, title: str, factory: Callable[[], QWidget], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self._factory = factory
        self._page: QWidget | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    def page(self) -> QWidget:
        """The real page, built now if it was not yet."""
        if self._page is None:
            try:
                self._page = self._factory()
            except Exception as exc:  # a page that cannot start must not take the window down
                log.exception("the %s page could not be built", self.title)
                self._page = NoticePage(f"The {self.title} page could not start",
                                        f"{describe_error(exc)}\n\nThe rest of PVDesk works. "
                                        "The app's log has the details (Help ▸ About shows where it is).")
            self._layout.addWidget(self._page)
            if getattr(self, "_width_px", None) is not None:
                self.fit_width(self._width_px)
        return self._page

    def set_page(self, page: QWidget) -> None:
        """Show ``page`` instead of the current one (a notice replaced by the real page)."""
        if self._page is not None:
            self._layout.removeWidget(self._page)
            self._page.hide()
            self._page.deleteLater()
        self._page = page
        self._layout.addWidget(page)

    def is_built(self) -> bool:
        return self._page is not None

    def fit_width(self, width_px: int) -> None:
        """Pass the room the tab has on to the page (PageTabs calls this), once the page exists."""
        self._width_px = width_px
        fit = getattr(self._page, "fit_width", None)
        if callable(fit):
            fit(width_px)

    def showEvent(self, event) -> None:  # Qt override
        self.page()
        super().showEvent(event)
