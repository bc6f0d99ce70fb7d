"""Upgrade several devices in one run: one at a time per bus, buses side by side, and a summary.

Runs on the device I/O thread's asyncio loop. Devices that share a Session
(unit ids on one RS-485 bus, or behind one gateway) are upgraded one after
the other; devices on different sessions (several TCP inverters) in
parallel. A failure on one device never stops the others; a cancel stops
the device being uploaded (before activation) and skips the ones not started.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from ..device import Device
from ..errors import PVDeskError
from .package import Package
from .upgrade import CancelToken, Progress, UpgradeOptions, Upgrader, UpgradeResult


@dataclass
class BatchSummary:
    """What became of every device of a batch, in the order given."""

    results: list[tuple[str, UpgradeResult]] = field(default_factory=list)  # (label, result)

    @property
    def ok(self) -> bool:
        return all(r.ok for _, r in self.results)

    @property
    def succeeded(self) -> list[str]:
        return [label for label, r in self.results if r.ok]

    @property
    def not_succeeded(self) -> list[str]:
        return [label for label, r in self.results if not r.ok]

    def text(self) -> str:
        lines = [f"{len(self.succeeded)} of {len(self.results)} devices upgraded"]
        for label, r in self.results:
            lines.append(f"  {label}: {r.outcome:<9} {r.message}")
        return "\n".join(lines)


def device_label(device: Device) -> str:
    return f"{device.session.link.info} unit {device.unit}"


async def upgrade_many(devices: list[Device], package: Package, *, options: UpgradeOptions | None = None,
                       progress: Progress | None = None, cancel: CancelToken | None = None,
                       log_dir: str | Path | None = None, keys=None) -> BatchSummary:
    """Upgrade every device in ``devices`` with ``package``; never raises for one device's failure."""
    cancel = cancel or CancelToken()
    buses: dict[int, list[int]] = {}
    for i, dev in enumerate(devices):
        buses.setdefault(id(dev.session), []).append(i)
    results: list[UpgradeResult | None] = [None] * len(devices)

    async def one(i: int) -> UpgradeResult:
        dev = devices[i]
        if cancel.cancelled:
            return UpgradeResult(dev.unit, "cancelled", "not started: the batch was cancelled",
                                 package.manifest.component, None, package.manifest.version)
        log_path = Path(log_dir) / f"unit{dev.unit:03d}-{i}.jsonl" if log_dir else None
        try:
            return await Upgrader(dev, package, options=options, progress=progress, cancel=cancel,
                                  log_path=log_path, keys=keys).run()
        except PVDeskError as exc:  # raised before the run starts (e.g. no bootloader in the profile)
            return UpgradeResult(dev.unit, "refused", exc.one_line(), package.manifest.component, None,
                                 package.manifest.version)
        except Exception as exc:  # a defect must not stop the other devices of the batch
            return UpgradeResult(dev.unit, "failed", f"internal error: {type(exc).__name__}: {exc}",
                                 package.manifest.component, None, package.manifest.version)

    async def bus(indices: list[int]) -> None:
        for i in indices:
            results[i] = await one(i)

    await asyncio.gather(*(bus(ix) for ix in buses.values()))
    return BatchSummary([(device_label(d), r) for d, r in zip(devices, results)])  # type: ignore[misc]  # all filled
