"""A layout that puts its items in a row and wraps them onto the next row when the width runs out.

Runs on the GUI thread. For rows of buttons and small inputs that must stay
whole on a narrow window (1366 x 768 at a scale of 1.5 leaves a page about
530 logical pixels): the row wraps instead of widening the page past the
window. Its minimum width is that of its widest item. After Qt's Flow Layout
example, written for PVDesk.
"""

from __future__ import annotations

from PySide6.QtCore import QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QSizePolicy, QWidget


class FlowLayout(QLayout):
    """Items left to right, wrapping; ``spacing_px`` between items and between rows."""

    def __init__(self, parent: QWidget | None = None, spacing_px: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing_px = spacing_px
        self.setContentsMargins(QMargins(0, 0, 0, 0))

    def addItem(self, item: QLayoutItem) -> None:  # Qt override
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # Qt override
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # Qt override
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # Qt override
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # Qt override
        return True

    def heightForWidth(self, width: int) -> int:  # Qt override
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:  # Qt override
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:  # Qt override
        width = sum(i.sizeHint().width() for i in self._items) + self._spacing_px * max(0, len(self._items) - 1)
        height = max((i.sizeHint().height() for i in self._items), default=0)
        m = self.contentsMargins()
        return QSize(width + m.left() + m.right(), height + m.top() + m.bottom())

    def minimumSize(self) -> QSize:  # Qt override
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def _arrange(self, rect: QRect, move: bool) -> int:
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        x, y, row_height = area.x(), area.y(), 0
        for item in self._items:
            if item.isEmpty():
                continue
            hint = item.sizeHint()
            if x > area.x() and x + hint.width() > area.right() + 1:   # no room left on this row: wrap
                x, y, row_height = area.x(), y + row_height + self._spacing_px, 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._spacing_px
            row_height = max(row_height, hint.height())
        return y + row_height - rect.y() + m.bottom()


def labelled(label: QWidget, widget: QWidget) -> QWidget:
    """A label and its input kept together on one row of a flow (they wrap as a pair)."""
    from PySide6.QtWidgets import QHBoxLayout
    pair = QWidget()
    row = QHBoxLayout(pair)
    row.setContentsMargins(0, 0, 8, 0)
    row.addWidget(label)
    row.addWidget(widget)
    return pair


def flow_row(*widgets: QWidget, spacing_px: int = 6) -> QWidget:
    """A widget holding ``widgets`` in a FlowLayout (to add where a QHBoxLayout of buttons was)."""
    holder = QWidget()
    holder.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
    layout = FlowLayout(holder, spacing_px)
    for w in widgets:
        layout.addWidget(w)
    return holder
