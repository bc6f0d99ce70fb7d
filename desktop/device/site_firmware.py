"""Firmware upgrade of selected devices of the site, one after another, stopping at the first failure; no Qt.

Runs on the device service's I/O loop (the coroutines) and on any thread
(``BatchOutcome``). The GUI drives the batch one device at a time so that it
can ask the existing confirmation for each (desktop/ui/firmware/batch.py):
``check_one`` runs the existing package checks (protocols.firmware.check:
signature, image, model, hardware, version gate, bootloader state) against
that device, ``upgrade_one`` runs the existing Upgrader with that unit's
polling paused (``SiteService.paused``), so on a shared RS-485 bus the
upgrade's chunks are the only requests of that unit and the other units'
pollers take their turns between chunks. Nothing runs on a device before the
one before it finished well: the first failed check, refusal, declined
confirmation or failed upgrade stops the batch, and ``BatchOutcome`` says
which device failed and which were not touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from protocols.firmware.check import CheckReport, TargetFacts, check_package, check_target, read_target
from protocols.firmware.package import Package
from protocols.firmware.testmode import read_pending
from protocols.firmware.upgrade import CancelToken, UpgradeOptions, Upgrader, UpgradeResult

from .canonical import serial_of


@dataclass
class DeviceCheck:
    """The package checked against one device of the site."""

    key: str
    package: Package | None
    report: CheckReport
    facts: TargetFacts | None
    serial: str

    @property
    def ok(self) -> bool:
        return self.package is not None and self.facts is not None and self.report.ok

    def first_failure(self) -> str:
        bad = [r for r in self.report.results if not r.ok]
        return f"{bad[0].check}: {bad[0].detail}" if bad else "the package could not be checked"


@dataclass
class BatchOutcome:
    """Where a batch ended: devices upgraded, the one that failed (and why), those not touched."""

    upgraded: list[str] = field(default_factory=list)
    failed: str | None = None
    reason: str = ""
    not_touched: list[str] = field(default_factory=list)
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return self.failed is None and not self.cancelled and not self.not_touched

    def text(self) -> str:
        n = len(self.upgraded) + len(self.not_touched) + (1 if self.failed else 0)
        lines = [f"{len(self.upgraded)} of {n} device{'s' if n != 1 else ''} upgraded."]
        if self.failed:
            verb = "stopped at" if self.cancelled else "failed"
            lines.append(f"{self.failed} {verb}: {self.reason}")
        if self.not_touched:
            lines.append("Not touched: " + ", ".join(self.not_touched) + ".")
        return "\n".join(lines)


async def check_one(device, key: str, package_path: str | Path, *, allow_downgrade: bool = False,
                    keys=None) -> DeviceCheck:
    """The existing checks of the package (offline, then against ``device``); never writes."""
    pkg, report = check_package(package_path, keys=keys)
    ident = await device.identity()
    serial = serial_of(device.profile, ident) or ""
    facts = None
    if pkg is not None:
        try:  # the bootloader's state first; the upgrade reads it again strictly
            pending = await read_pending(device)
        except Exception:  # a device without the PVDesk bootloader (the upgrade refuses it)
            pending = None
        facts = await read_target(device, pkg.manifest.component)
        check_target(pkg, facts, allow_downgrade=allow_downgrade, report=report, pending=pending)
    return DeviceCheck(key, pkg, report, facts, serial)


async def upgrade_one(site, key: str, package: Package, *, options: UpgradeOptions | None = None,
                      log_path: Path | None = None, progress=None, on_log=None, cancel: CancelToken | None = None,
                      keys=None) -> UpgradeResult:
    """Upgrade the device ``key`` of ``site`` with its polling paused; the Upgrader's own result."""
    async with site.paused(key) as device:
        return await Upgrader(device, package, options=options, progress=progress, cancel=cancel,
                              log_path=log_path, keys=keys, on_log=on_log).run()


__all__ = ["BatchOutcome", "DeviceCheck", "check_one", "upgrade_one"]
