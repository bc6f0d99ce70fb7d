"""PlotLegend: a time plot's title, its series as toggle entries with colour swatches, and the readout.

GUI thread. Plain Qt (no pyqtgraph): the entries toggle a series' visibility,
the readout shows the time and the values under the crosshair. It knows
nothing of Modbus.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QIcon, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

_SWATCH_PX = 12
# Legend entries read as a legend, not as push buttons; a hidden series greys out.
_ENTRY_STYLE = (
    "QToolButton { border: none; border-radius: 4px; padding: 2px 6px; text-align: left; background: transparent; }"
    "QToolButton:hover { background: palette(midlight); }"
    "QToolButton:checked { color: palette(text); }"
    "QToolButton:!checked { color: palette(mid); }"
)


def _swatch_icon(colour: QColor) -> QIcon:
    """A filled square (series shown) or a hollow one (series hidden)."""
    filled = QPixmap(_SWATCH_PX, _SWATCH_PX)
    filled.fill(colour)
    hollow = QPixmap(_SWATCH_PX, _SWATCH_PX)
    hollow.fill(Qt.GlobalColor.transparent)
    painter = QPainter(hollow)
    painter.setPen(QPen(colour, 2))
    painter.drawRect(1, 1, _SWATCH_PX - 2, _SWATCH_PX - 2)
    painter.end()
    icon = QIcon()
    icon.addPixmap(filled, QIcon.Mode.Normal, QIcon.State.On)
    icon.addPixmap(hollow, QIcon.Mode.Normal, QIcon.State.Off)
    return icon


class PlotLegend(QWidget):
    """Title, cursor time and one toggle button per series with its value.

    Sits above the plot so it never covers data. Entries have a fixed width
    (values changing do not make the row jump) and wrap onto more rows when
    the plot is narrow. Clicking a series hides or shows its curve
    (``seriesToggled(name, visible)``). GUI thread only.
    """

    seriesToggled = Signal(str, bool)

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title_label = QLabel(title)
        font = QFont(self.font())
        font.setWeight(QFont.Weight.DemiBold)
        self.title_label.setFont(font)
        self.time_label = QLabel("")
        self.time_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self._buttons: dict[str, QToolButton] = {}
        self._labels: dict[str, str] = {}
        self._values: dict[str, str] = {}
        self._row_split: list[int] | None = None  # None: the rows must be built again
        self._rows = QVBoxLayout()
        self._rows.setSpacing(0)
        top = QHBoxLayout()
        top.addWidget(self.title_label)
        top.addStretch(1)
        top.addWidget(self.time_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 0)
        layout.setSpacing(0)
        layout.addLayout(top)
        layout.addLayout(self._rows)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Maximum)

    def set_series(self, entries: Sequence[tuple[str, str, QColor]]) -> None:
        """(name, label, colour) per series, in plot order."""
        for button in self._buttons.values():
            button.setParent(None)
            button.deleteLater()
        self._buttons, self._labels, self._values = {}, {}, {}
        metrics = QFontMetrics(self.font())
        value_px = metrics.horizontalAdvance("  -88.88 kvar")  # widest value a readout shows
        for name, label, colour in entries:
            button = QToolButton(self)
            button.setIcon(_swatch_icon(colour))
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setAutoRaise(True)
            button.setCheckable(True)
            button.setChecked(True)
            button.setText(label)
            button.setFixedWidth(metrics.horizontalAdvance(label) + value_px + _SWATCH_PX + 24)
            button.setStyleSheet(_ENTRY_STYLE)
            button.setToolTip(f"Show or hide {label}")
            button.setAccessibleName(label)
            button.toggled.connect(lambda on, n=name: self.seriesToggled.emit(n, on))
            self._buttons[name], self._labels[name] = button, label
        # new buttons always go into new rows: with the same wrap points as before, _arrange kept the old
        # rows (holding the deleted buttons), and the new ones floated over the title at (0, 0)
        self._row_split = None
        self._arrange()

    def _arrange(self) -> None:
        """Lay the entries out left to right, wrapping to a new row when full."""
        usable = max(1, self.width() - 16)
        split, used = [], 0
        for i, button in enumerate(self._buttons.values()):
            if used and used + button.width() > usable:
                split.append(i)
                used = 0
            used += button.width() + 2
        if split == self._row_split and self._rows.count():
            return
        self._row_split = split
        while self._rows.count():  # empty the old rows; the buttons are re-added below
            item = self._rows.takeAt(0)
            row = item.layout() if item is not None else None
            if row is None:
                continue
            while row.count():
                row.takeAt(0)
            row.deleteLater()
        buttons = list(self._buttons.values())
        for start, stop in zip([0] + split, split + [len(buttons)]):
            row = QHBoxLayout()
            row.setSpacing(2)
            for button in buttons[start:stop]:
                row.addWidget(button)
            row.addStretch(1)
            self._rows.addLayout(row)
        self.updateGeometry()  # fewer or more rows: the plot below gets the difference

    def resizeEvent(self, event) -> None:  # Qt override
        super().resizeEvent(event)
        self._arrange()
        self._fit_time()

    def _fit_time(self) -> None:
        """The readout's time in full, or only its clock time when the title would be crowded."""
        full = getattr(self, "_time_text", "")
        room = self.width() - 16 - self.title_label.sizeHint().width() - 12
        metrics = QFontMetrics(self.time_label.font())
        text = full if metrics.horizontalAdvance(full) <= room else full.split(" ")[-1]
        self.time_label.setText(text)
        self.time_label.setToolTip(full)

    def label(self, name: str) -> str:
        return self._labels.get(name, name)

    def set_readout(self, time_text: str, values: Mapping[str, str]) -> None:
        self._time_text = time_text
        self._fit_time()
        self._values = dict(values)
        for name, button in self._buttons.items():
            button.setText(f"{self._labels[name]}  {values.get(name, '')}".rstrip())

    def text(self) -> str:
        parts = [getattr(self, "_time_text", "")]
        parts += [f"{self._labels[n]} {self._values.get(n, '')}".rstrip() for n in self._buttons]
        return "  ".join(p for p in parts if p)
