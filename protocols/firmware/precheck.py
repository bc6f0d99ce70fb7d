"""Checks of the device itself before an upgrade: link quality, bootloader, faults, battery, grid.

Runs on the device I/O thread's asyncio loop. Like the package checks, each
failure names its check and nothing has been written when it is raised.
The profile format has no per-model upgrade conditions yet, so these rules
apply wherever the profile has the points: no active error or critical
alarm (grid faults included), the battery (if one is fitted) at or above a
minimum state of charge, and no other upgrade in test mode.
"""

from __future__ import annotations

import time

from .. import codecs
from ..device import Device
from ..errors import LinkError
from .check import PackageRefused
from .client import BootloaderClient, BootStatus
from .registers import PROTOCOL_VERSION, State

LINK_PROBES = 5
MAX_LATENCY_S = 1.0


class PrecheckFailed(PackageRefused):
    """The device is not in a state to be upgraded now."""

    hint = "fix the condition named and try again; nothing was written to the device"

    def __init__(self, check: str, message: str) -> None:
        super().__init__(f"{check}: {message}")
        self.check = check


async def precheck_device(device: Device, client: BootloaderClient, min_battery_soc_pct: float,
                          results: list[dict]) -> BootStatus:
    """Run the device checks, appending {check, ok, detail} to ``results``; raise the first failure."""
    def passed(check: str, detail: str) -> None:
        results.append({"check": check, "ok": True, "detail": detail})

    def failed(check: str, detail: str) -> PrecheckFailed:
        results.append({"check": check, "ok": False, "detail": detail})
        return PrecheckFailed(check, detail)

    latencies, failures, status = [], 0, None
    for _ in range(LINK_PROBES):
        t0 = time.perf_counter()
        try:
            status = await client.status()
            latencies.append(time.perf_counter() - t0)
        except LinkError:
            failures += 1
    if failures or status is None:
        raise failed("link quality", f"{failures} of {LINK_PROBES} status reads failed; fix the link first")
    worst = max(latencies)
    if worst > MAX_LATENCY_S:
        raise failed("link quality", f"answers take up to {worst * 1000:.0f} ms (limit {MAX_LATENCY_S * 1000:.0f} ms)")
    passed("link quality", f"{LINK_PROBES} of {LINK_PROBES} answered, slowest {worst * 1000:.0f} ms")
    if status.protocol != PROTOCOL_VERSION:
        raise failed("bootloader",
                     f"the device speaks bootloader protocol {status.protocol}, PVDesk {PROTOCOL_VERSION}")
    if status.state in (State.REBOOTING, State.TESTING):
        raise failed("bootloader", f"another upgrade is in test mode; it is confirmed or reverted within "
                                   f"{status.test_left_s} s")
    passed("bootloader", f"protocol {status.protocol}, state {status.state.name}, "
                         f"holds {status.received} bytes")
    alarms = [a for a in await device.alarms() if a.severity in ("error", "critical")]
    if alarms:
        raise failed("device state", "active fault " + ", ".join(f"{a.code} {a.text}" for a in alarms))
    passed("device state", "no active fault")
    profile = device.profile
    if profile.has("battery_soc_pct"):
        names = ["battery_soc_pct"] + (["battery_type"] if profile.has("battery_type") else [])
        values = await device.read_names(names)
        soc, kind = values.get("battery_soc_pct"), values.get("battery_type", 1)
        if kind in (0, "No battery") or soc is codecs.NOT_IMPLEMENTED or soc is None:
            passed("battery", "no battery fitted")
        elif soc < min_battery_soc_pct:
            raise failed("battery", f"state of charge {soc:.0f} % is below {min_battery_soc_pct:.0f} %; "
                                    "the house may run on the battery while the inverter restarts")
        else:
            passed("battery", f"state of charge {soc:.0f} %")
    return status
