"""The clock step on a vendor profile whose clock is a local date-time (GoodWe 45200-45202)."""

from __future__ import annotations

import asyncio
import time

from protocols.device import Device
from protocols.profiles import loader

from desktop.commission.clock import read_clock, set_clock
from desktop.commission.params import ParamSession
from tests.profiles.test_schema_features import DictSession


def _regs(t: time.struct_time) -> list[int]:
    return [(t.tm_year - 2000) << 8 | t.tm_mon, t.tm_mday << 8 | t.tm_hour, t.tm_min << 8 | t.tm_sec]


def test_drift_read_and_clock_set_from_the_laptop_local_time():
    profile = loader.load("goodwe-et")
    behind = time.localtime(time.time() - 2 * 3600 - 95)          # the device is 2 h 1 min 35 s behind
    session = DictSession({45200 + i: r for i, r in enumerate(_regs(behind))})
    device = Device(session, profile, 247)

    reading = asyncio.run(read_clock(device))
    assert reading.drift_s is not None and abs(reading.drift_s + 2 * 3600 + 95) <= 2
    assert not reading.in_step

    results, after = asyncio.run(set_clock(ParamSession(device)))
    assert [r.name for r in results] == ["device_time"] and results[0].ok, results[0].message
    assert after.in_step
    address, regs = session.writes[-1]
    assert address == 45200 and len(regs) == 3
    written = time.strptime(f"{2000 + (regs[0] >> 8)}-{regs[0] & 0xFF} {regs[1] >> 8} {regs[1] & 0xFF}:"
                            f"{regs[2] >> 8}:{regs[2] & 0xFF}", "%Y-%m %d %H:%M:%S")
    assert abs(time.mktime(written) - time.time()) <= 2


def test_the_parameter_path_takes_a_date_and_time_text():
    profile = loader.load("deye-hybrid-1p")
    session = DictSession({22: 0, 23: 0, 24: 0})
    plan = ParamSession(Device(session, profile, 1)).check("device_time", "2024-05-14 13:42:16")
    assert plan.value == "2024-05-14 13:42:16"
