"""What the dashboard shows, by canonical point name, and how a Sample maps onto it.

Runs on any thread (pure functions, no Qt). The dashboard speaks PVDesk's
canonical names (``pv_power_w``, ``grid_power_w`` + import, ``battery_power_w``
+ discharge, ...). A map profile uses them directly; a SunSpec profile names
its own points and says which means what in ``Profile.extra["aliases"]``
(canonical -> profile point). A point the device does not have reads
``None`` ("n/a" on a tile, a gap in a plot), never 0; a value flagged
out of range is returned as flagged so it is shown as doubtful, and it is
kept out of the plots.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from protocols import codecs

#: Series kept in the dashboard's ring buffer (86,400 samples each).
SERIES = ("pv_power_w", "inverter_power_w", "load_power_w", "grid_power_w", "grid_import_w",
          "grid_export_w", "battery_soc_pct", "battery_power_w")

#: Legend text of each series.
LABELS = {
    "pv_power_w": "PV", "inverter_power_w": "Inverter AC", "load_power_w": "House load",
    "grid_power_w": "Grid (+ import)", "grid_import_w": "Import", "grid_export_w": "Export",
    "battery_soc_pct": "State of charge", "battery_power_w": "Battery (+ discharge)",
}

#: Canonical points read for the tiles (the plots use a subset).
TILE_POINTS = ("pv_power_w", "pv1_power_w", "pv2_power_w", "pv3_power_w", "pv4_power_w", "inverter_power_w",
               "load_power_w", "grid_power_w", "battery_soc_pct", "battery_power_w",
               "pv_energy_today_kwh", "import_energy_today_kwh", "export_energy_today_kwh",
               "load_energy_today_kwh", "ac_voltage_v", "ac_frequency_hz")


@dataclass(frozen=True)
class Reading:
    """One canonical value from a sample: absent (not in this cycle), n/a (None), or a number."""

    present: bool
    value: float | None = None
    flagged: bool = False

    @property
    def trusted(self) -> float | None:
        """The value when it may be plotted and computed with: present, implemented, not flagged."""
        return None if self.flagged else self.value


ABSENT = Reading(False)


class PointMap:
    """Canonical names -> the profile's point names (identity for map profiles)."""

    def __init__(self, profile=None) -> None:
        self._profile = profile
        self._rates = {p.name: p.rate for p in profile.points} if profile is not None else {}

    def name(self, canonical: str) -> str | None:
        """The profile's point for ``canonical``, or None when the device has no such point."""
        return canonical if self._profile is None else self._profile.resolve(canonical)

    def exists(self, canonical: str) -> bool:
        return self.name(canonical) is not None

    def rate(self, canonical: str) -> str:
        """"fast", "slow" or "once": how often the poller reads the point."""
        name = self.name(canonical)
        return self._rates.get(name, "fast") if name else "fast"

    def read(self, values: dict, flags: dict, canonical: str) -> Reading:
        """The Reading of ``canonical`` in a sample's values and flags."""
        name = self.name(canonical)
        if name is None:
            return Reading(True, None)
        if name not in values:
            return ABSENT
        return Reading(True, as_number(values[name]), name in flags)


def as_number(value) -> float | None:
    """A finite float, or None for not implemented, text, booleans or NaN."""
    if value is None or value is codecs.NOT_IMPLEMENTED or isinstance(value, (str, bool)):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def plot_row(readings: dict[str, Reading]) -> dict[str, float | None]:
    """One ring-buffer row: trusted values only; import/export split from the grid power."""
    row = {name: readings[name].trusted if name in readings else None for name in SERIES}
    grid = row.get("grid_power_w")
    row["grid_import_w"] = None if grid is None else max(grid, 0.0)
    row["grid_export_w"] = None if grid is None else max(-grid, 0.0)
    return row


def strings_subtitle(readings: dict[str, Reading], fmt) -> str:
    """"PV1 2.04 kW · PV2 1.60 kW" from the per-string powers the device has."""
    parts = []
    for i in range(1, 5):
        r = readings.get(f"pv{i}_power_w")
        if r is not None and r.present and r.value is not None:
            parts.append(f"PV{i} {fmt(r.value, 'W')}" + (" ⚠" if r.flagged else ""))
    return " · ".join(parts) or " "


def grid_subtitle(readings: dict[str, Reading], fmt) -> str:
    """"230.1 V · 50.00 Hz" at the inverter's AC terminals (what the device has)."""
    parts = []
    for name, unit in (("ac_voltage_v", "V"), ("ac_frequency_hz", "Hz")):
        r = readings.get(name)
        if r is not None and r.value is not None:
            parts.append(fmt(r.value, unit) + (" ⚠" if r.flagged else ""))
    return " · ".join(parts) or " "


def energy_subtitle(readings: dict[str, Reading], fmt) -> str:
    """"Import 1.20 kWh · Export 3.40 kWh" (whichever the device has)."""
    parts = []
    for name, word in (("import_energy_today_kwh", "Import"), ("export_energy_today_kwh", "Export")):
        r = readings.get(name)
        if r is not None and r.value is not None:
            parts.append(f"{word} {fmt(r.value, 'kWh')}")
    return " · ".join(parts) or " "
