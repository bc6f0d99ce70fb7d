"""pysunspec2 as the independent decoder of a replayed SunSpec image: its values and its request count.

Test thread only (pysunspec2's Modbus TCP client is blocking). pysunspec2
scans the device served by the replay peer (protocols/sim/replay.py) exactly
as it would a real inverter; every numeric point value it decodes is named
the way PVDesk names SunSpec points (``m<id>[_<n>]_[<group><k>_...]<point>``)
so that the two can be compared one by one. Requests are counted by the peer
itself (reads answered plus reads refused), for both decoders alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sunspec2.modbus.client import SunSpecModbusClientDeviceTCP


@dataclass
class OracleRead:
    values: dict = field(default_factory=dict)        # PVDesk-style name -> (value, lsd)
    scan_requests: int = 0                           # discovery + first full read
    snapshot_requests: int = 0                       # one later read of every model
    models: list = field(default_factory=list)       # model ids pysunspec2 found
    unscaled: list = field(default_factory=list)     # points pysunspec2 leaves unscaled (scale factor n/a)


def _snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def served_requests(sim) -> int:
    """Read requests the replay peer has answered or refused so far, over all its units."""
    return sum(d.reads + len(d.refusals) for d in sim.devices.values())


def _walk(group, prefix: str, out: dict, unscaled: list) -> None:
    for name, point in group.points.items():
        if name in ("ID", "L") and prefix.count("_") == 0 or point.pdef.get("type") == "pad":
            continue  # the model header, and padding registers (not values)
        value = point.cvalue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        sf = point.sf_value if point.sf_required else None
        if point.sf_required and (not isinstance(sf, int) or not -10 <= sf <= 10):
            # pysunspec2 returns the raw, unscaled number when the scale factor is not
            # implemented (or scales by an impossible one): not a decoded value; PVDesk says n/a.
            unscaled.append(f"{prefix}_{_snake(name)}")
            continue
        lsd = 10.0 ** sf if isinstance(sf, int) else 1.0
        if point.pdef.get("type") == "float32":
            lsd = max(abs(value) * 1e-6, 1e-6)
        out[f"{prefix}_{_snake(name)}"] = (value, lsd)
    for gname, sub in group.groups.items():
        if isinstance(sub, list):
            for k, g in enumerate(sub, start=1):
                _walk(g, f"{prefix}_{_snake(gname)}{k}", out, unscaled)
        else:
            _walk(sub, f"{prefix}_{_snake(gname)}", out, unscaled)


def oracle_read(sim, unit: int = 1) -> OracleRead:
    """pysunspec2's scan and one more full read of the device ``sim`` serves at ``unit``."""
    host, port = sim.tcp_address
    before = served_requests(sim)
    dev = SunSpecModbusClientDeviceTCP(slave_id=unit, ipaddr=host, ipport=port, timeout=5)
    out = OracleRead()
    try:
        dev.scan()
        out.scan_requests = served_requests(sim) - before
        mid = served_requests(sim)
        for model in dev.model_list:
            model.read()
        out.snapshot_requests = served_requests(sim) - mid
        seen: dict[int, int] = {}
        for model in dev.model_list:
            mid_ = model.model_id
            out.models.append(mid_)
            if model.model_def is None:
                continue
            seen[mid_] = seen.get(mid_, 0) + 1
            prefix = f"m{mid_}" if seen[mid_] == 1 else f"m{mid_}_{seen[mid_]}"
            _walk(model, prefix, out.values, out.unscaled)
    finally:
        dev.close()
    return out
