"""Dashboard tile: one live value with its title, unit and state.

Role: shows a single quantity ("PV power 3.42 kW") in large type, with an
optional subtitle (per-string values, "▲ charging 1.20 kW"), a greyed look
when the value is stale, "n/a" when the device does not implement the point,
and a warning border when the value is outside its plausibility range. It
takes plain numbers; it knows nothing of Modbus or of storage.

Runs on the GUI thread. Colours come from the palette (light or dark theme);
only the warning accent is a fixed colour.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from widgets.theme import ALARM_COLOUR, WARNING_COLOUR

NOT_AVAILABLE = "n/a"

# unit -> (unit for |value| >= 1000, in that unit)
_KILO = {"W": "kW", "VA": "kVA", "var": "kvar", "Wh": "kWh", "kWh": "MWh", "kW": "MW"}
# unit -> fixed number of decimals; units not listed get three significant digits
_DECIMALS = {"%": 0, "V": 1, "Hz": 2, "°C": 1, "s": 0, "Ω": 0, "kΩ": 0}


def _three_significant(value: float) -> str:
    magnitude = abs(value)
    if magnitude >= 100 or magnitude == 0:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def format_quantity(value: float | None, unit: str) -> tuple[str, str]:
    """Format ``value`` for display: returns (number text, unit text).

    W, VA, var and Wh switch to the kilo unit from 1000 up (kWh to MWh), so
    1234 W reads "1.23" "kW"; power and energy keep three significant digits
    (850 W, 1.23 kW, 12.3 kW, 123 kW). % has no decimals, V and °C one, Hz
    two. None or NaN (not implemented or missing) reads "n/a" with no unit.
    """
    if value is None or not math.isfinite(value):
        return NOT_AVAILABLE, ""
    value = float(value)
    if unit in _KILO and abs(value) >= 1000:
        value, unit = value / 1000.0, _KILO[unit]
    if unit in _DECIMALS:
        text = f"{value:.{_DECIMALS[unit]}f}"
    elif unit in ("W", "VA", "var") and abs(value) < 1000:
        text = f"{value:.0f}"
    else:
        text = _three_significant(value)
    if text.startswith("-") and float(text) == 0:
        text = text[1:]  # no "-0"
    return text, unit


def format_with_unit(value: float | None, unit: str) -> str:
    """``format_quantity`` joined: "1.23 kW", "87 %", "n/a"."""
    text, shown_unit = format_quantity(value, unit)
    return f"{text} {shown_unit}" if shown_unit else text


def flow_subtitle(
    power_w: float | None, positive: str, negative: str, idle: str = "idle", deadband_w: float = 20.0
) -> str:
    """Direction of a power flow as words and an arrow.

    Positive power reads "▲ <positive> 1.20 kW", negative "▼ <negative> ...",
    within ±``deadband_w`` just ``idle``. For a battery positive=charging,
    negative=discharging; for a grid meter importing/exporting.
    """
    if power_w is None or not math.isfinite(power_w):
        return NOT_AVAILABLE
    if abs(power_w) <= deadband_w:
        return idle
    arrow, word = ("▲", positive) if power_w > 0 else ("▼", negative)
    return f"{arrow} {word} {format_with_unit(abs(power_w), 'W')}"


class ValueTile(QFrame):
    """A tile with a title, a big value and unit, and an optional subtitle."""

    def __init__(self, title: str, unit: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ValueTile")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.Base)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._title = title
        self._unit = unit
        self._value: float | None = None
        self._stale = False
        self._flagged = False
        self._alarm: str | None = None

        self.title_label = QLabel(title)
        self.value_label = QLabel(NOT_AVAILABLE)
        self.unit_label = QLabel(unit)
        self.subtitle_label = QLabel("")
        self.subtitle_label.setVisible(False)
        self.alarm_label = QLabel("")
        self.alarm_label.setTextFormat(Qt.TextFormat.PlainText)
        self.alarm_label.setWordWrap(True)
        self.alarm_label.setStyleSheet(f"color: {ALARM_COLOUR}; font-weight: 600;")
        self.alarm_label.setVisible(False)
        for label in (self.title_label, self.subtitle_label, self.unit_label):
            label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        big = QFont(self.font())
        big.setPointSizeF(big.pointSizeF() * 2.1)
        big.setWeight(QFont.Weight.DemiBold)
        self.value_label.setFont(big)
        self.value_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        unit_font = QFont(self.font())
        unit_font.setPointSizeF(unit_font.pointSizeF() * 1.25)
        self.unit_label.setFont(unit_font)

        value_row = QHBoxLayout()
        value_row.setSpacing(6)
        value_row.addWidget(self.value_label, 0, Qt.AlignmentFlag.AlignBaseline)
        value_row.addWidget(self.unit_label, 0, Qt.AlignmentFlag.AlignBaseline)
        value_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 12)
        layout.setSpacing(2)
        layout.addWidget(self.title_label)
        layout.addLayout(value_row)
        layout.addWidget(self.subtitle_label)
        layout.addWidget(self.alarm_label)
        self._apply_style()
        self._update_accessibility()

    # -- public API --------------------------------------------------------
    def set_value(
        self, value: float | None, unit: str | None = None, subtitle: str | None = None, flagged: bool = False
    ) -> None:
        """Show ``value`` (None = not implemented) in ``unit`` (default: the tile's).

        A new value is fresh: it clears the stale state. ``flagged`` marks a
        value outside its plausibility range with the warning style.
        """
        if unit is not None:
            self._unit = unit
        self._value = None if value is None else float(value)
        text, shown_unit = format_quantity(self._value, self._unit)
        self.value_label.setText(text)
        self.unit_label.setText(shown_unit)
        self.unit_label.setVisible(bool(shown_unit))
        self.subtitle_label.setText(subtitle or "")
        self.subtitle_label.setVisible(bool(subtitle))
        self._flagged = bool(flagged)
        self._stale = False
        self._apply_style()
        self._update_accessibility()

    def set_stale(self, stale: bool) -> None:
        """Grey the value out (True) when it is no longer fresh."""
        self._stale = bool(stale)
        self._apply_style()
        self._update_accessibility()

    def set_alarm(self, text: str | None) -> None:
        """Mark the tile as affected by an active alarm (``text``: "Error 101 Grid overvoltage"), or clear it."""
        self._alarm = text or None
        self.alarm_label.setText(f"⚠ {text}" if text else "")
        self.alarm_label.setVisible(bool(text))
        self._apply_style()
        self._update_accessibility()

    def alarm(self) -> str | None:
        return self._alarm

    def value(self) -> float | None:
        return self._value

    def value_text(self) -> str:
        """What the tile shows as value and unit, e.g. "1.23 kW" or "n/a"."""
        return f"{self.value_label.text()} {self.unit_label.text()}".strip()

    def is_stale(self) -> bool:
        return self._stale

    def is_flagged(self) -> bool:
        return self._flagged

    # -- look --------------------------------------------------------------
    def _apply_style(self) -> None:
        self.setProperty("stale", self._stale)
        self.setProperty("flagged", self._flagged)
        # Stale: the value takes the palette's disabled text colour (grey in
        # light and dark themes alike).
        self.value_label.setEnabled(not self._stale)
        if self._alarm:
            self.setStyleSheet(f"QFrame#ValueTile {{ border: 2px solid {ALARM_COLOUR}; border-radius: 6px; }}")
            self.value_label.setStyleSheet("")
        elif self._flagged:
            self.setStyleSheet(
                f"QFrame#ValueTile {{ border: 2px solid {WARNING_COLOUR}; border-radius: 6px; }}"
            )
            self.value_label.setStyleSheet("" if self._stale else f"color: {WARNING_COLOUR};")
        else:
            self.setStyleSheet(
                "QFrame#ValueTile { border: 1px solid palette(mid); border-radius: 6px; }"
            )
            self.value_label.setStyleSheet("")

    def _update_accessibility(self) -> None:
        value = self.value_text()
        notes = []
        if self._value is None:
            notes.append("not available from this device")
        if self._flagged:
            notes.append("outside the plausible range")
        if self._alarm:
            notes.append(f"alarm: {self._alarm}")
        if self._stale:
            notes.append("stale: not updated recently")
        description = f"{self._title}: {value}"
        if self.subtitle_label.text():
            description += f", {self.subtitle_label.text()}"
        if notes:
            description += " (" + "; ".join(notes) + ")"
        self.setAccessibleName(self._title)
        self.setAccessibleDescription(description)
        self.setToolTip(description)
