"""The device's clock against the laptop's: drift, time zone, and setting both.

Runs on the device I/O thread's asyncio loop (read_clock, set_clock); the
helpers run on any thread. No Qt. The reference device keeps UTC seconds
(``device_time_unix_s``) and a time-zone offset in minutes
(``timezone_offset_min``); vendor profiles have a date-time point
``device_time`` in the device's local wall-clock time, which is compared with
and set from the laptop's local time. The laptop's offset comes from the
operating system's local time (daylight saving included).

The wizard passes the site's IANA zone (desktop.commission.timezones: from the
grid code's country, or chosen): the offset written is that zone's, and a
local device clock is read and set in that zone's wall-clock time, never the
laptop's. The clock itself always comes from the laptop's (UTC) clock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from protocols.device import Device

from .params import ParamSession, WriteResult, plain
from .timezones import zone_local_text, zone_local_to_s, zone_offset_min

TIME_POINT = "device_time_unix_s"
LOCAL_TIME_POINT = "device_time"   # vendor clocks: a date-time point in the device's local time, no zone
TZ_POINT = "timezone_offset_min"
IN_STEP_S = 2.0   # whole-second registers and a request's latency: within this the clocks agree


def laptop_tz_offset_min(at_s: float | None = None) -> int:
    """The laptop's offset of local time from UTC, minutes (e.g. 60 for CET, 120 for CEST)."""
    return int(time.localtime(at_s).tm_gmtoff // 60)


def offset_text(minutes: int | None) -> str:
    """'UTC+01:00', 'UTC-03:30', or 'unknown'."""
    if minutes is None:
        return "unknown"
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def zone_text(zone: str, at_s: float | None = None) -> str:
    """'Europe/Berlin (UTC+01:00 now)'."""
    return f"{zone} ({offset_text(zone_offset_min(zone, at_s))} now)"


def drift_text(drift_s: float | None) -> str:
    """'in step', '1 min 33 s behind the laptop', '2 h 5 min ahead of the laptop'."""
    if drift_s is None:
        return "unknown (the device has no clock register)"
    if abs(drift_s) <= IN_STEP_S:
        return "in step with the laptop"
    s = int(round(abs(drift_s)))
    d, rest = divmod(s, 86400)
    h, rest = divmod(rest, 3600)
    m, sec = divmod(rest, 60)
    parts = ([f"{d} d"] if d else []) + ([f"{h} h"] if h else []) + ([f"{m} min"] if m else [])
    if not d and not h:
        parts.append(f"{sec} s")
    return " ".join(parts[:3]) + (" behind the laptop" if drift_s < 0 else " ahead of the laptop")


@dataclass
class ClockReading:
    """Both clocks at one moment."""

    device_time_s: float | None
    laptop_time_s: float
    device_tz_offset_min: int | None
    laptop_tz_offset_min: int
    zone: str | None = None          # the site's zone the reading was judged against (None: the laptop's)
    zone_offset_min: int | None = None

    @property
    def drift_s(self) -> float | None:
        """Device minus laptop, seconds (negative: the device is behind)."""
        return None if self.device_time_s is None else self.device_time_s - self.laptop_time_s

    @property
    def in_step(self) -> bool:
        """The clock agrees with the laptop's, and the zone with the site's (the laptop's when none is given)."""
        expected = self.laptop_tz_offset_min if self.zone_offset_min is None else self.zone_offset_min
        return self.drift_s is not None and abs(self.drift_s) <= IN_STEP_S and \
            self.device_tz_offset_min in (None, expected)

    def device_local_text(self) -> str:
        if self.device_time_s is None:
            return "n/a"
        off = self.device_tz_offset_min or 0
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.device_time_s + off * 60)) + \
            f" ({offset_text(self.device_tz_offset_min)})"

    def laptop_local_text(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.laptop_time_s)) + \
            f" ({offset_text(self.laptop_tz_offset_min)})"

    def as_dict(self) -> dict:
        return {"device_time_s": self.device_time_s, "laptop_time_s": self.laptop_time_s,
                "drift_s": self.drift_s, "device_tz_offset_min": self.device_tz_offset_min,
                "laptop_tz_offset_min": self.laptop_tz_offset_min, "drift": drift_text(self.drift_s),
                "device_local": self.device_local_text(), "laptop_local": self.laptop_local_text(),
                "zone": self.zone, "zone_offset_min": self.zone_offset_min}


def _local_clock(profile) -> bool:
    """The device keeps local wall-clock time in a date-time point (GoodWe, Deye, Sungrow, Growatt, Huawei)."""
    return not profile.has(TIME_POINT) and profile.has(LOCAL_TIME_POINT) and \
        profile.point(LOCAL_TIME_POINT).type == "datetime"


def _local_to_s(text, zone: str | None = None) -> float | None:
    """The epoch of a device's local "YYYY-MM-DD HH:MM:SS" read in ``zone`` (default: the laptop's zone;
    the device has no zone of its own)."""
    if not isinstance(text, str):
        return None
    try:
        if zone:
            return zone_local_to_s(text, zone)
        return time.mktime(time.strptime(text, "%Y-%m-%d %H:%M:%S"))
    except (ValueError, OverflowError):
        return None


async def read_clock(device: Device, zone: str | None = None) -> ClockReading:
    """Read the device's clock and time zone; the laptop's time is taken mid-request.

    ``zone``: the site's zone, in which a local device clock is read (default: the laptop's).
    """
    local = _local_clock(device.profile)
    names = [n for n in (TIME_POINT, TZ_POINT) if device.profile.has(n)] + ([LOCAL_TIME_POINT] if local else [])
    t0 = time.time()
    values = await device.read_names(names) if names else {}
    laptop = (t0 + time.time()) / 2
    dev_t = _local_to_s(plain(values.get(LOCAL_TIME_POINT)), zone) if local else plain(values.get(TIME_POINT))
    tz = plain(values.get(TZ_POINT))
    if local and tz is None and dev_t is not None:   # local time: read in the site's zone (else the laptop's)
        tz = zone_offset_min(zone, laptop) if zone else laptop_tz_offset_min(laptop)
    return ClockReading(float(dev_t) if isinstance(dev_t, (int, float)) else None, laptop,
                        int(tz) if isinstance(tz, (int, float)) else None, laptop_tz_offset_min(laptop),
                        zone, zone_offset_min(zone, laptop) if zone else None)


async def set_clock(session: ParamSession, tz_offset_min: int | None = None,
                    zone: str | None = None) -> tuple[list[WriteResult], ClockReading]:
    """Set the time zone and the clock from the laptop's clock; read both back.

    ``zone`` (an IANA name, the site's): its offset now is written, and a local
    device clock is set to its wall-clock time. Without it, ``tz_offset_min``,
    else the laptop's offset (the wizard always passes the zone). The clock
    does not read back as a setting (it runs), so success is judged by reading
    it again: the returned reading's ``in_step`` says whether it took.
    """
    profile = session.profile
    results: list[WriteResult] = []
    if profile.has(TZ_POINT):
        if zone:
            tz = zone_offset_min(zone)
        else:
            tz = laptop_tz_offset_min() if tz_offset_min is None else int(tz_offset_min)
        results.append(await session.write(TZ_POINT, tz, confirmed=True))
    if profile.has(TIME_POINT):
        results.append(await session.write(TIME_POINT, int(round(time.time())), confirmed=True))
    elif _local_clock(profile):
        now = zone_local_text(zone) if zone else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
        results.append(await session.write(LOCAL_TIME_POINT, now, confirmed=True))
    reading = await read_clock(session.device, zone)
    off = reading.device_tz_offset_min or 0
    for r in results:
        if r.name == TIME_POINT:   # shown in the device's local time, like the read-back
            r.new_text = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(float(r.new) + off * 60))
        if r.name == LOCAL_TIME_POINT and r.result == "mismatch" and reading.drift_s is not None \
                and abs(reading.drift_s) <= IN_STEP_S:
            r.ok, r.result, r.message = True, "ok", ""   # the clock ticked between the write and the read-back
        if r.name in (TIME_POINT, LOCAL_TIME_POINT) and r.ok:
            r.readback = reading.device_time_s
            r.readback_text = reading.device_local_text().split(" (")[0]
            r.result, r.message = "ok", ""
            if reading.drift_s is None or abs(reading.drift_s) > IN_STEP_S:
                r.ok, r.result = False, "mismatch"
                r.message = f"the device clock did not take the time: {drift_text(reading.drift_s)}"
    return results, reading
