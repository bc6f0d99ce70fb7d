"""Settings backup before a firmware upgrade, and the compare-and-restore after it.

Runs on the device I/O thread's asyncio loop. The backup is every writable
point of the profile that reads back (a clock is not a setting to restore);
values are engineering values as ``Device`` decodes them, so the restore
goes through ``Device.write_point`` (validated, written, read back).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import codecs
from ..device import Device
from ..errors import PVDeskError


@dataclass
class RestoreReport:
    """What differed after the upgrade and what was done about it."""

    changed: dict[str, tuple[object, object]] = field(default_factory=dict)  # name -> (before, after)
    restored: dict[str, object] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed


def backup_points(device: Device):
    return [p for p in device.profile.parameters if p.readback]


async def backup_settings(device: Device) -> dict[str, object]:
    """Every readable setting: name -> value (points the device lacks are left out)."""
    values = await device.read_names([p.name for p in backup_points(device)])
    return {k: v for k, v in values.items()
            if v is not codecs.NOT_IMPLEMENTED and v is not None and k in {p.name for p in backup_points(device)}}


async def compare_settings(device: Device, backup: dict[str, object]) -> dict[str, tuple[object, object]]:
    """name -> (backed up, now) for every setting that differs."""
    now = await device.read_names(list(backup))
    return {k: (v, now.get(k)) for k, v in backup.items() if not _same(v, now.get(k))}


async def restore_settings(device: Device, backup: dict[str, object]) -> RestoreReport:
    """Write back every setting the upgrade changed; failures are reported, not raised."""
    report = RestoreReport(changed=await compare_settings(device, backup))
    for name, (before, _after) in report.changed.items():
        try:
            report.restored[name] = await device.write_point(name, before)
        except PVDeskError as exc:
            report.failed[name] = exc.one_line()
    return report


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return abs(float(a) - float(b)) < 1e-6
        except (TypeError, ValueError):
            return False
    return a == b
