"""What the connection doctor tries, and in which order: ports, unit ids, serial line settings.

Runs on any thread (no I/O). The profiles' own defaults come first (each
shipped profile's ``[link]`` table: unit ids, TCP ports, serial settings),
then the vendor facts below, then the sweep. Each list is
de-duplicated, keeping the first place an entry was named.

Vendor facts (from the vendors' public Modbus documents): GoodWe answers at
unit 247 on RS-485 and its Wi-Fi/LAN dongle on UDP 8899; SMA at unit 3 (126
for its SunSpec map); Fronius meters at 200 and 240; Huawei's inverter access
point on TCP 6607; SolarEdge and Kostal on TCP 1502; Solarman V5 loggers on
TCP 8899. The Modbus serial line guide makes 19200 8E1 every device's
default, so it is tried right after the profiles' own settings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

TCP_PORTS = (502, 503, 1502, 6607, 8899)
DEFAULT_UNITS = (1, 2, 3, 126, 247, 200, 240)
SUNSPEC_BASES = (40000, 0, 50000)
BAUDS = (9600, 19200, 38400, 115200)
SLOW_BAUDS = (4800, 2400)
V5_PORT = 8899
GOODWE_UDP_PORT = 8899


@dataclass(frozen=True)
class LineSettings:
    """One serial line setting: baud rate, parity, stop bits (8 data bits)."""

    baud: int
    parity: str = "N"
    stopbits: int = 1

    def label(self) -> str:
        return f"{self.baud} 8{self.parity}{self.stopbits}"

    def char_time_s(self) -> float:
        """Seconds one character takes on the line."""
        return (1 + 8 + (0 if self.parity == "N" else 1) + self.stopbits) / self.baud


MODBUS_DEFAULT_LINE = LineSettings(19200, "E", 1)
FRAMINGS = (("N", 1), ("E", 1), ("O", 1), ("N", 2))
FRAMINGS_ALL = FRAMINGS + (("E", 2), ("O", 2))


def unique(items: Iterable) -> list:
    seen, out = set(), []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def _profiles() -> list:
    try:
        from ..profiles import loader
        return [loader.load(n) for n in loader.available()]
    except Exception:  # a broken profile must not stop the doctor; it is reported elsewhere
        return []


def profile_defaults(profiles: list | None = None) -> dict:
    """The profiles' connection defaults: {"units": [...], "tcp_ports": [...], "serial": [LineSettings]}.

    From each profile's ``[link]`` table (``Profile.defaults``, a LinkDefaults); a profile-like object
    without one may carry ``extra["connection"]`` = {"units", "tcp_ports", "serial": [{"baud", "parity",
    "stopbits"}]} instead (a site's own defaults)."""
    units, ports, lines = [], [], []
    for profile in _profiles() if profiles is None else profiles:
        link = getattr(profile, "defaults", None)
        if link is not None:
            units += [int(u) for u in link.units]
            ports += [int(p) for p in link.tcp_ports]
            lines.append(LineSettings(int(link.baud), str(link.parity).upper()[:1], int(link.stopbits)))
            continue
        conn = (getattr(profile, "extra", None) or {}).get("connection") or {}
        units += [int(u) for u in conn.get("units", ())]
        ports += [int(p) for p in conn.get("tcp_ports", ())]
        for s in conn.get("serial", ()):
            lines.append(LineSettings(int(s.get("baud", 9600)), str(s.get("parity", "N")).upper()[:1],
                                      int(s.get("stopbits", 1))))
    return {"units": unique(units), "tcp_ports": unique(ports), "serial": unique(lines)}


def identity_registers(profiles: list | None = None) -> list[tuple[int, int]]:
    """(function code, address) of each profile's first identity rule point: a second probe for devices
    that stay silent (instead of answering exception 02) at register 0."""
    out = []
    for profile in _profiles() if profiles is None else profiles:
        rules = getattr(profile, "identity", ())
        if not rules or not profile.has(rules[0].point):
            continue
        point = profile.point(rules[0].point)
        out.append((point.function_code, point.address))
    return [r for r in unique(out) if r != (3, 0)]


def tcp_ports(extra: Iterable[int] = (), profiles: list | None = None) -> list[int]:
    return unique(list(extra) + list(TCP_PORTS) + profile_defaults(profiles)["tcp_ports"])


def unit_ids(all_units: bool = False, first: Iterable[int] = (), profiles: list | None = None) -> list[int]:
    """Unit ids to try: the given ones, the profiles' defaults, the vendor defaults, then 1-247 if asked."""
    order = list(first) + profile_defaults(profiles)["units"] + list(DEFAULT_UNITS)
    if all_units:
        order += list(range(1, 248))
    return [u for u in unique(order) if 1 <= u <= 247]


def line_settings(slow_bauds: bool = False, all_framings: bool = False,
                  first: Iterable[LineSettings] = (), profiles: list | None = None) -> list[LineSettings]:
    """Serial settings to try: given, profiles' defaults, 19200 8E1, then baud x parity x stop bits."""
    bauds = BAUDS + (SLOW_BAUDS if slow_bauds else ())
    framings = FRAMINGS_ALL if all_framings else FRAMINGS
    sweep = [LineSettings(b, p, s) for b in bauds for p, s in framings]
    return unique(list(first) + profile_defaults(profiles)["serial"] + [LineSettings(9600, "N", 1),
                                                                        MODBUS_DEFAULT_LINE] + sweep)


@dataclass
class DoctorOptions:
    """How far the doctor goes. Times are seconds; ``ports``/``units`` are tried first."""

    budget_s: float = 60.0
    timeout_s: float = 0.3            # per Modbus probe (one unit id, one setting)
    connect_timeout_s: float = 1.0    # per TCP connect
    all_units: bool = False           # after the defaults, 1-247
    units: tuple[int, ...] = ()
    ports: tuple[int, ...] = ()
    only_ports: bool = False          # try only ``ports`` (no standard list)
    v5: bool = True
    v5_port: int = V5_PORT
    v5_discovery_port: int = 48899
    logger_serial: int = 0
    goodwe_udp: bool = True
    udp_port: int = GOODWE_UDP_PORT
    sunspec: bool = True
    slow_bauds: bool = False
    all_framings: bool = False
    lines: tuple[LineSettings, ...] = ()   # serial settings tried first
    identify: bool = True             # name the model of what was found (reads only)
