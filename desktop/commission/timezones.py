"""The site's time zone from the grid code's country: a table country -> IANA zones, and their offsets.

Plain Python, any thread, no Qt. The device's time zone is the site's, not the
laptop's (an installer's laptop may still be on the office's zone, or on UTC):
the grid code names the country, the country names its zone, and where a
country has several (Australia, the United States, Spain with the Canaries, ...)
the installer is asked with the zones listed. Offsets come from the IANA time
zone database (``zoneinfo``: the operating system's, or the ``tzdata`` package
on Windows), for the moment they are written, daylight saving included.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from protocols.errors import PVDeskError

# Mainland zone first; where a country has several, the installer chooses (never a silent guess).
COUNTRY_ZONES: dict[str, tuple[str, ...]] = {
    "AT": ("Europe/Vienna",),
    "AU": ("Australia/Sydney", "Australia/Melbourne", "Australia/Brisbane", "Australia/Adelaide",
           "Australia/Darwin", "Australia/Perth", "Australia/Hobart"),
    "BE": ("Europe/Brussels",),
    "CH": ("Europe/Zurich",),
    "CZ": ("Europe/Prague",),
    "DE": ("Europe/Berlin",),
    "DK": ("Europe/Copenhagen",),
    "ES": ("Europe/Madrid", "Atlantic/Canary"),
    "FR": ("Europe/Paris",),
    "GB": ("Europe/London",),
    "GR": ("Europe/Athens",),
    "HU": ("Europe/Budapest",),
    "IE": ("Europe/Dublin",),
    "IT": ("Europe/Rome",),
    "NL": ("Europe/Amsterdam",),
    "NZ": ("Pacific/Auckland", "Pacific/Chatham"),
    "PL": ("Europe/Warsaw",),
    "PT": ("Europe/Lisbon", "Atlantic/Madeira", "Atlantic/Azores"),
    "RO": ("Europe/Bucharest",),
    "SE": ("Europe/Stockholm",),
    "SK": ("Europe/Bratislava",),
    "US": ("America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
           "America/Anchorage", "Pacific/Honolulu"),
    "ZA": ("Africa/Johannesburg",),
}


class ZoneUnknown(PVDeskError):
    """The time zone database does not know the zone (or is missing)."""

    hint = "install the time zone database (the 'tzdata' package), or choose the zone again"


def zones_for(country: str | None) -> tuple[str, ...]:
    """The country's zones, mainland first; () for an unknown country or "Other"."""
    return COUNTRY_ZONES.get(country or "", ())


def all_zones() -> list[str]:
    """Every zone of the table, sorted: the choice when the grid code names no country."""
    return sorted({z for zones in COUNTRY_ZONES.values() for z in zones})


def _zone(name: str):
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ZoneUnknown(f"the time zone {name!r} is not in this computer's time zone database") from exc


def zone_offset_min(name: str, at_s: float | None = None) -> int:
    """The zone's offset from UTC at ``at_s`` (default: now), minutes; e.g. 60 for Europe/Berlin in winter."""
    at = datetime.fromtimestamp(time.time() if at_s is None else at_s, tz=UTC)
    offset = at.astimezone(_zone(name)).utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


def zone_local_text(name: str, at_s: float | None = None) -> str:
    """The wall-clock time in the zone, 'YYYY-MM-DD HH:MM:SS' (what a device with a local clock is set to)."""
    at = datetime.fromtimestamp(time.time() if at_s is None else at_s, tz=UTC)
    return at.astimezone(_zone(name)).strftime("%Y-%m-%d %H:%M:%S")


def zone_local_to_s(text: str, name: str) -> float:
    """The epoch of a wall-clock 'YYYY-MM-DD HH:MM:SS' in the zone."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=_zone(name)).timestamp()
