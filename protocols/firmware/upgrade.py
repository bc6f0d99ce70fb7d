"""The host's firmware upgrade: checks, backup, resumable upload, verify, activate, confirm, restore.

Runs on the device I/O thread's asyncio loop. ``Upgrader.run()`` walks the
phases of docs/firmware-protocol.md and never leaves the device without a
running image: nothing is written before every check passed; the upload
always continues from the offset the device reports; the hash is checked by
the device before activation; the new image is confirmed only after a health
check and its version is read back (a mismatch is a failure); otherwise it is
reverted. Settings are backed up first and restored where the upgrade reset
them. Every step goes to the upgrade log (JSON lines). Progress callbacks
and the cancel token are called and read on this loop.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..device import Device
from ..errors import IllegalValue, LinkError, PVDeskError
from .backup import backup_settings, restore_settings
from .check import PackageRefused, check_package, check_target, component_of, read_target
from .client import BootloaderClient, BootloaderError, BootStatus
from .package import Package
from .precheck import precheck_device
from .registers import CHUNK_DATA_MAX, METHOD, Command, Result, State
from .testmode import read_pending

Progress = Callable[[dict], None]


class UpgradeCancelled(PVDeskError):
    hint = "the old image keeps running; start again to upgrade"


class CancelToken:
    """Set by the user (Cancel button, Ctrl-C); honoured up to the activation, not after."""

    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


@dataclass
class UpgradeOptions:
    allow_downgrade: bool = False
    link_wait_s: float = 30.0      # how long a lost link is waited for before giving up
    reboot_wait_s: float = 60.0    # how long the device may take to come back after a reboot
    health_s: float = 3.0          # how long the test image is watched before it is confirmed
    health_reads: int = 3
    poll_s: float = 0.25
    hash_attempts: int = 2         # whole uploads tried when the device reports a hash mismatch
    min_battery_soc_pct: float = 20.0
    restore: bool = True
    progress_interval_s: float = 0.05  # upload progress at most this often (0: every chunk)


@dataclass
class UpgradeResult:
    """How one device's upgrade ended. outcome: upgraded, reverted, cancelled, refused, failed."""

    unit: int
    outcome: str
    message: str
    component: str = ""
    from_version: str | None = None
    to_version: str = ""
    running_version: str | None = None
    checks: list[dict] = field(default_factory=list)
    restored: dict = field(default_factory=dict)
    bytes_sent: int = 0
    upload_s: float = 0.0
    log: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outcome == "upgraded"


class Upgrader:
    """Upgrade one component of ``device`` with ``package``."""

    def __init__(self, device: Device, package: Package, *, options: UpgradeOptions | None = None,
                 progress: Progress | None = None, cancel: CancelToken | None = None,
                 log_path: str | Path | None = None, keys=None,
                 on_log: Callable[[dict], None] | None = None) -> None:
        profile = device.profile
        if profile.upgrade_method != METHOD or profile.upgrade_base is None:
            raise BootloaderError(f"profile {profile.name} has no {METHOD} firmware upgrade",
                                  hint="this device cannot be upgraded by PVDesk")
        self.device, self.package = device, package
        self.options = options or UpgradeOptions()
        self.progress_fn, self.cancel = progress, cancel or CancelToken()
        self.log_path = Path(log_path) if log_path else None
        self.keys = keys
        self.on_log = on_log
        self.client = BootloaderClient(device.session, profile.upgrade_base, device.unit)
        m = package.manifest
        self.result = UpgradeResult(device.unit, "failed", "", m.component, None, m.version)
        self.phase = "checks"
        self.backup: dict | None = None
        self.cancellable = True

    # ------------------------------------------------------------ reporting
    def log(self, event: str, **fields) -> None:
        entry = {"t": round(time.time(), 3), "unit": self.device.unit, "phase": self.phase, "event": event, **fields}
        line = json.dumps(entry, default=str)
        self.result.log.append(json.loads(line))  # a snapshot: later changes to ``fields`` do not leak in
        if self.on_log:
            self.on_log(self.result.log[-1])
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with self.log_path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")

    def report(self, message: str = "", done: int = 0, total: int = 0, throughput_bps: float = 0.0) -> None:
        if self.progress_fn:
            eta = (total - done) / throughput_bps if throughput_bps > 0 and total else None
            self.progress_fn({"unit": self.device.unit, "phase": self.phase, "message": message,
                              "bytes_done": done, "bytes_total": total, "throughput_bps": throughput_bps,
                              "eta_s": eta, "cancellable": self.cancellable})

    def enter(self, phase: str, message: str) -> None:
        self.phase = phase
        self.log("phase", message=message)
        self.report(message, self.result.bytes_sent, self.package.manifest.image_size)

    def check_cancel(self) -> None:
        if self.cancel.cancelled and self.cancellable:
            raise UpgradeCancelled(f"cancelled by the user during {self.phase}")

    async def retrying(self, fn: Callable[[], Awaitable], what: str):
        """Run ``fn`` until it gets through, waiting up to link_wait_s for a lost link."""
        deadline = time.monotonic() + self.options.link_wait_s
        while True:
            try:
                return await fn()
            except LinkError as exc:
                if time.monotonic() >= deadline:
                    raise LinkError(f"{what}: the device stayed unreachable for {self.options.link_wait_s:.0f} s "
                                    f"({exc})") from None
                self.log("link", message=f"{what}: {exc}; waiting for the link")
                done = self.result.bytes_sent
                resume = f" to resume from offset {done}" if self.phase == "upload" else ""
                # said at the first failed request, with the offset the transfer will resume from (the
                # device's own offset is read again once it answers); no rate or time left meanwhile
                self.report(f"link lost — waiting{resume} ({what})", done, self.package.manifest.image_size, 0.0)
                await asyncio.sleep(self.options.poll_s)

    # ------------------------------------------------------------------ run
    async def run(self) -> UpgradeResult:
        r, m = self.result, self.package.manifest
        self.log("start", component=m.component, version=m.version, package=self.package.path,
                 image_size=m.image_size)
        try:
            await self.checks()
            self.enter("backup", "backing up settings")
            self.backup = await backup_settings(self.device)
            self.log("backup", settings=self.backup)
            await self.upload()
            await self.activate_and_confirm()
        except PackageRefused as exc:
            r.outcome, r.message = "refused", exc.one_line()
        except UpgradeCancelled as exc:
            r.outcome, r.message = "cancelled", exc.one_line()
            try:
                await self.client.command(Command.ABORT)
                self.log("abort", message="staged image discarded; the old image keeps running")
            except PVDeskError as abort_exc:
                self.log("abort failed", message=abort_exc.one_line())
        except LinkError as exc:
            if self.phase != "checks":
                r.outcome = r.outcome if r.outcome == "reverted" else "failed"
                r.message = r.message or exc.one_line()
            else:  # the link failed before anything was written: a refusal, like a failed probe
                r.outcome, r.message = "refused", f"link quality: {exc} (nothing was written to the device)"
                r.checks.append({"check": "link quality", "ok": False, "detail": str(exc)})
        except PVDeskError as exc:
            r.outcome = r.outcome if r.outcome == "reverted" else "failed"
            r.message = r.message or exc.one_line()
        self.phase = "end"
        if self.backup is not None and r.outcome not in ("refused", "cancelled") and self.options.restore:
            await self.restore()
        self.phase = "read-back"
        try:
            r.running_version = (await read_target(self.device, m.component)).running_version
        except PVDeskError as exc:
            self.log("read-back failed", message=exc.one_line())
        if r.outcome == "upgraded" and r.running_version != m.version:
            r.outcome, r.message = "failed", (f"the device reports {r.component} {r.running_version} after the "
                                              f"upgrade; the package is {m.version}")
        self.phase = "end"
        self.log("end", outcome=r.outcome, message=r.message, running_version=r.running_version)
        self.report(r.message, r.bytes_sent, m.image_size)
        return r

    async def checks(self) -> None:
        self.enter("checks", "checking the package and the device")
        pkg, report = check_package(self.package, self.keys)
        # The bootloader's state first: an image left in test mode is not "the same version".
        pending = await read_pending(self.device)
        facts = await read_target(self.device, self.package.manifest.component)
        self.result.from_version = facts.running_version
        check_target(self.package, facts, allow_downgrade=self.options.allow_downgrade, report=report,
                     pending=pending)
        self.result.checks = report.as_dicts()
        self.log("checks", results=self.result.checks)
        report.raise_first()
        status = await precheck_device(self.device, self.client, self.options.min_battery_soc_pct,
                                       self.result.checks)
        self.log("prechecks", results=self.result.checks[len(report.results):], bootloader=status.as_dict())

    async def upload(self) -> None:
        m, image = self.package.manifest, self.package.image
        for attempt in range(1, self.options.hash_attempts + 1):
            self.enter("upload", f"uploading {m.image_size} bytes (attempt {attempt})")
            digest = bytes.fromhex(m.image_sha256)
            await self.retrying(functools.partial(self.client.stage, m.image_size, digest, m.component, m.version),
                                "start")
            status = await self.retrying(self.client.status, "status")
            if status.state == State.VERIFIED:
                self.log("resume", message="the device already holds this image, verified")
                return
            await self.send_chunks(status, image)
            self.enter("verify", "the device checks the image's SHA-256")
            status = await self.command_checked(Command.VERIFY, "verify")
            if status.state == State.VERIFIED:
                self.log("verified", message="the device confirmed the image hash")
                return
            if status.state != State.ERROR:
                raise BootloaderError(f"verify left the bootloader in state {status.state.name}")
            self.log("hash mismatch", message="the device's hash of the image differs; uploading again")
        raise BootloaderError(f"the device reported a hash mismatch after {self.options.hash_attempts} uploads",
                              hint="the old image keeps running; check the link quality and try again")

    async def send_chunks(self, status: BootStatus, image: bytes) -> None:
        size = len(image)
        chunk = min(status.max_chunk or CHUNK_DATA_MAX, CHUNK_DATA_MAX)
        offset = status.received
        if offset:
            self.log("resume", offset=offset, message=f"the device holds {offset} of {size} bytes")
        t0, sent, shown = time.monotonic(), 0, 0.0
        while offset < size:
            self.check_cancel()
            data = image[offset: offset + chunk]
            try:
                await self.client.write_chunk(offset, data)
            except (IllegalValue, LinkError) as exc:
                self.log("chunk refused" if isinstance(exc, IllegalValue) else "link",
                         offset=offset, message=exc.one_line())
                status = await self.retrying(self.client.status, "status")
                if status.state not in (State.RECEIVING, State.RECEIVED):
                    raise BootloaderError(f"the bootloader left the upload (state {status.state.name}, "
                                          f"error {status.error.name})") from None
                self.log("offset", offset=status.received, message="continuing from the device's offset")
                offset = status.received
                continue
            offset += len(data)
            sent += len(data)
            self.result.bytes_sent += len(data)
            now = time.monotonic()
            elapsed = now - t0
            self.result.upload_s = elapsed
            if now - shown >= self.options.progress_interval_s or offset >= size:
                shown = now
                self.report("uploading", offset, size, sent / elapsed if elapsed > 0 else 0.0)
        self.log("uploaded", bytes_sent=sent, seconds=round(time.monotonic() - t0, 3))

    async def command_checked(self, cmd: Command, what: str) -> BootStatus:
        """Send ``cmd`` (retried across link loss) and return the status the device reports after it."""
        try:
            await self.retrying(lambda: self.client.command(cmd), what)
        except IllegalValue as exc:
            self.log("refused", command=cmd.name, message=exc.one_line())
        return await self.retrying(self.client.status, "status")

    # ------------------------------------------------------------ activation
    async def activate_and_confirm(self) -> None:
        r, m, o = self.result, self.package.manifest, self.options
        self.check_cancel()
        before = await self.retrying(self.client.status, "status")
        self.cancellable = False
        self.enter("activate", f"activating {m.component} {m.version}; the device reboots")
        for _ in range(2):
            try:
                await self.client.command(Command.ACTIVATE)
            except LinkError as exc:
                self.log("activate unanswered", message=exc.one_line())
            except IllegalValue as exc:
                self.log("activate refused", message=exc.one_line())
            status = await self.wait_reboot()
            if status.state != State.VERIFIED or status.last_result != before.last_result:
                break
            self.log("not activated", message="the device still waits with the verified image; activating again")
        if status.state != State.TESTING:
            r.outcome = "reverted"
            raise BootloaderError(f"the device did not start the new image ({status.last_result.name}); "
                                  f"the previous image runs")
        self.enter("health", f"watching the test image for {o.health_s:g} s")
        comp = component_of(self.device.profile, m.component)
        problem = await self.health(comp.version_point if comp else None)
        if problem:
            self.log("unhealthy", message=problem)
            self.enter("revert", "the health check failed; reverting to the previous image")
            await self.command_checked(Command.REVERT, "revert")
            status = await self.wait_reboot()
            r.outcome = "reverted"
            raise BootloaderError(f"health check failed: {problem}; the device reverted to the previous image")
        self.enter("confirm", "confirming the new image")
        status = await self.command_checked(Command.CONFIRM, "confirm")
        if status.last_result != Result.CONFIRMED:
            r.outcome = "reverted"
            raise BootloaderError(f"the image was not confirmed ({status.last_result.name})")
        r.outcome, r.message = "upgraded", f"{m.component} upgraded {r.from_version} -> {m.version}"
        self.log("confirmed", message=r.message)

    async def wait_reboot(self) -> BootStatus:
        self.enter("reboot", "waiting for the device to restart")
        deadline = time.monotonic() + self.options.reboot_wait_s
        await asyncio.sleep(self.options.poll_s)
        silent = 0
        while True:
            try:
                status = await self.client.status()
                if status.state != State.REBOOTING:
                    self.log("back", bootloader=status.as_dict(), unanswered=silent)
                    return status
            except LinkError as exc:
                silent += 1
                if silent == 1:
                    self.log("link", message=f"no answer while the device restarts: {exc.one_line()}")
                if time.monotonic() >= deadline:
                    raise LinkError(f"the device did not come back within {self.options.reboot_wait_s:.0f} s "
                                    f"of the reboot ({exc})") from None
            await asyncio.sleep(self.options.poll_s)

    async def health(self, version_point: str | None) -> str | None:
        """None when the test image is healthy, else what is wrong."""
        o, expect = self.options, self.package.manifest.version
        for i in range(max(1, o.health_reads)):
            status = await self.retrying(self.client.status, "status")
            if status.state != State.TESTING:
                return f"the device left test mode by itself ({status.last_result.name})"
            if version_point:
                read = await self.retrying(lambda: self.device.read_names([version_point]), "version")
                version = read[version_point]
                version = version.strip() if isinstance(version, str) else version
                if version != expect:
                    return f"the new image reports version {version}, the package is {expect}"
            alarms = await self.retrying(self.device.alarms, "alarms")
            bad = [a for a in alarms if a.severity in ("error", "critical")]
            if bad:
                return "; ".join(f"fault {a.code} {a.text}" for a in bad)
            self.log("healthy", read=i + 1, test_left_s=status.test_left_s)
            if i + 1 < o.health_reads:
                await asyncio.sleep(o.health_s / max(1, o.health_reads - 1))
        return None

    async def restore(self) -> None:
        self.phase = "restore"
        try:
            rep = await self.retrying(lambda: restore_settings(self.device, self.backup or {}), "restore")
        except PVDeskError as exc:
            self.log("restore failed", message=exc.one_line())
            self.result.message += f"; settings not compared: {exc.one_line()}"
            return
        self.result.restored = {k: {"before": b, "after_upgrade": a} for k, (b, a) in rep.changed.items()}
        self.log("settings", changed=self.result.restored, restored=rep.restored, failed=rep.failed)
        if rep.failed:
            self.result.outcome = "failed" if self.result.outcome == "upgraded" else self.result.outcome
            self.result.message += "; settings not restored: " + ", ".join(rep.failed)
