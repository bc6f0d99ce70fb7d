"""Every check a firmware package passes before a single byte is written.

Runs on any thread (``check_package``, ``check_target``) or on the device I/O
loop (``read_target``). Each check has a name and its own error class, so the
CLI and the GUI can say exactly which one failed: package, signature, image
size, image hash, component, model, hardware, version gate, downgrade.
``CheckReport`` keeps every result (pass or fail) for display; ``raise_first``
raises the first failure.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from ..device import Device
from ..errors import PVDeskError
from ..profiles.model import Profile
from .keys import signature_valid
from .package import Package, PackageDamaged, read_package
from .trust import DEVELOPMENT, Trust, load_trust
from .version import VersionInvalid, parse_version


class PackageRefused(PVDeskError):
    """A package failed a check; ``check`` names which one."""

    check = "package"
    hint = "nothing was written to the device"

    def one_line(self) -> str:
        """Named by its check first ("signature: ..."), then the hint."""
        text = super().one_line()
        return text if text.startswith(f"{self.check}:") else f"{self.check}: {text}"


class SignatureInvalid(PackageRefused):
    check = "signature"
    hint = "use a package signed by the vendor; nothing was written to the device"


class Revoked(PackageRefused):
    check = "revocation"
    hint = "this key or package was withdrawn by the vendor; get a current package; nothing was written"


class ImageTruncated(PackageRefused):
    check = "image size"
    hint = "the image is incomplete; get the package again; nothing was written to the device"


class HashMismatch(PackageRefused):
    check = "image hash"
    hint = "the image was altered or damaged; get the package again; nothing was written to the device"


class ComponentUnknown(PackageRefused):
    check = "component"
    hint = "this package is for a component this device does not have; nothing was written"


class WrongModel(PackageRefused):
    check = "model"
    hint = "use the package for this device's model; nothing was written to the device"


class WrongHardware(PackageRefused):
    check = "hardware"
    hint = "use the package for this hardware revision; nothing was written to the device"


class VersionGate(PackageRefused):
    check = "version gate"
    hint = "install the intermediate version the vendor names first; nothing was written"


class TestModePending(PackageRefused):
    check = "bootloader state"
    hint = ("confirm it after a health check (pvdesk firmware confirm, or Confirm on the Firmware page) "
            "or revert it (pvdesk firmware revert); nothing was written")


class DowngradeRefused(PackageRefused):
    check = "downgrade"
    hint = "to go back to an older version, pass --allow-downgrade and confirm; nothing was written"


@dataclass
class CheckResult:
    check: str
    ok: bool
    detail: str


@dataclass
class CheckReport:
    """All results of one package (and target) check, in order."""

    results: list[CheckResult] = field(default_factory=list)
    errors: list[PackageRefused] = field(default_factory=list)
    trust: Trust | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def passed(self, check: str, detail: str) -> None:
        self.results.append(CheckResult(check, True, detail))

    def failed(self, error: PackageRefused) -> None:
        self.results.append(CheckResult(error.check, False, str(error)))
        self.errors.append(error)

    def raise_first(self) -> None:
        if self.errors:
            raise self.errors[0]

    def as_dicts(self) -> list[dict]:
        return [{"check": r.check, "ok": r.ok, "detail": r.detail} for r in self.results]


@dataclass
class TargetFacts:
    """What the device says about itself, for the target checks."""

    model: str | None
    hardware: int | None
    running_version: str | None
    components: tuple[str, ...]
    serial: str | None = None


def check_package(source, keys=None, report: CheckReport | None = None) -> tuple[Package | None, CheckReport]:
    """Offline checks: readable, signed by a trusted key, image complete, hash right."""
    report = report or CheckReport()
    try:
        pkg = source if isinstance(source, Package) else read_package(source)
    except PackageDamaged as exc:
        refused = PackageRefused(str(exc), hint=exc.hint)
        refused.check = exc.check
        report.failed(refused)
        return None, report
    m = pkg.manifest
    report.passed("package", f"{m.vendor} {m.component} {m.version} for {', '.join(m.models)}")
    trust = _trust(keys)
    report.trust = trust
    check_signature(pkg, trust, report)
    if len(pkg.image) != m.image_size:
        cls = ImageTruncated
        report.failed(cls(f"the image has {len(pkg.image)} bytes, the manifest says {m.image_size}"))
    else:
        report.passed("image size", f"{m.image_size} bytes")
    digest = hashlib.sha256(pkg.image).hexdigest()
    if digest != m.image_sha256:
        report.failed(HashMismatch(f"the image's SHA-256 is {digest[:16]}..., "
                                   f"the manifest says {m.image_sha256[:16]}..."))
    else:
        report.passed("image hash", f"SHA-256 {digest[:16]}...")
    return pkg, report


def _trust(keys) -> Trust:
    if keys is None:
        return load_trust()
    return keys if isinstance(keys, Trust) else Trust.of(dict(keys))


def check_signature(pkg: Package, trust: Trust, report: CheckReport) -> None:
    """Signed by a key this install trusts, not revoked, not retired before the package was made."""
    m = pkg.manifest
    key = trust.keys.get(m.key_id)
    if not pkg.signature:
        report.failed(SignatureInvalid("the package is not signed (no manifest.sig)"))
    elif key is None:
        why = ""
        if m.key_id in trust.development.values():
            why = " (it is the repository's development key, which a release install never trusts)"
        report.failed(SignatureInvalid(f"signed with key {m.key_id!r}, which is not a trusted key{why} "
                                       f"(trusted: {', '.join(sorted(trust.keys)) or 'none'})"))
    elif key.fingerprint in trust.revoked_keys:
        entry = trust.revoked_keys[key.fingerprint]
        report.failed(Revoked(f"key {m.key_id!r} was revoked on {entry.get('revoked_on', '?')}: "
                              f"{entry.get('reason', 'no reason given')}"))
    elif not signature_valid(key.key, pkg.manifest_bytes, pkg.signature):
        report.failed(SignatureInvalid(f"the signature does not match the manifest for key {m.key_id!r}: "
                                       "the package was altered or signed with another key"))
    elif key.retired_on and (not m.created or m.created[:10] > key.retired_on):
        report.failed(SignatureInvalid(f"key {m.key_id!r} was retired on {key.retired_on} but signed a package "
                                       f"made {m.created[:10] or 'on an unknown date'}; packages made after a "
                                       "rotation carry the new key"))
    else:
        dev = (" — the DEVELOPMENT key: trusted only because this is a development install"
               if key.origin == DEVELOPMENT else f" ({key.origin} key {key.fingerprint[:16]})")
        report.passed("signature", f"valid Ed25519 signature by trusted key {m.key_id}{dev}")
    revoked = trust.revoked_packages.get(pkg.image_sha256)
    if revoked:
        report.failed(Revoked(f"this image (SHA-256 {pkg.image_sha256[:16]}...) was withdrawn: "
                              f"{revoked.get('reason', 'no reason given')}"))


def check_target(pkg: Package, facts: TargetFacts, *, allow_downgrade: bool = False,
                 report: CheckReport | None = None, pending=None) -> CheckReport:
    """Checks against the device: bootloader state, component, model, hardware, version gate, downgrade.

    ``pending`` (testmode.PendingImage, read before anything else) is an image left in test mode:
    the versions are then not compared at all (the component already reports the unconfirmed one).
    """
    report = report or CheckReport()
    m = pkg.manifest
    if pending is not None:
        report.failed(TestModePending(pending.text()))
        return report
    if m.component not in facts.components:
        report.failed(ComponentUnknown(f"the package is for component {m.component!r}; this device has "
                                       f"{', '.join(facts.components)}"))
    else:
        report.passed("component", m.component)
    if facts.model not in m.models:
        report.failed(WrongModel(f"the device is a {facts.model}; the package is for {', '.join(m.models)}"))
    else:
        report.passed("model", str(facts.model))
    if m.hardware and facts.hardware not in m.hardware:
        report.failed(WrongHardware(f"the {m.component} hardware revision is {facts.hardware}; the package is for "
                                    f"revision {', '.join(str(h) for h in m.hardware)}"))
    else:
        report.passed("hardware", f"revision {facts.hardware}" + ("" if m.hardware else " (any allowed)"))
    if facts.running_version is None:
        report.failed(VersionGate(f"the device does not report the {m.component} version, so the gate "
                                  "cannot be checked"))
        return report
    try:
        running = parse_version(facts.running_version)
    except VersionInvalid:
        report.failed(VersionGate(f"the device reports {m.component} version {facts.running_version[:20]!r}, "
                                  "which is not a version PVDesk can compare"))
        return report
    new = parse_version(m.version)
    if m.min_version and running < parse_version(m.min_version):
        report.failed(VersionGate(f"the device runs {facts.running_version}; this package upgrades from "
                                  f"{m.min_version} or later only"))
    else:
        report.passed("version gate", f"{facts.running_version} >= {m.min_version or 'any'}")
    if new <= running and not allow_downgrade:
        word = "the same version" if new == running else "a downgrade"
        report.failed(DowngradeRefused(f"{facts.running_version} -> {m.version} is {word}"))
    else:
        report.passed("downgrade", f"{facts.running_version} -> {m.version}"
                      + (" (downgrade allowed)" if new <= running else ""))
    return report


def component_of(profile: Profile, name: str):
    for c in profile.firmware:
        if c.component == name:
            return c
    return None


async def read_target(device: Device, component: str) -> TargetFacts:
    """Read model, the component's hardware revision and version from the device."""
    profile = device.profile
    comp = component_of(profile, component)
    names = [n for n in ("model_name", "serial_number", "hardware_revision") if profile.has(n)]
    if comp is not None:
        names += [n for n in (comp.version_point, comp.hardware_point) if n and n not in names]
    values = await device.read_names(names)

    def text(v):
        return v.strip() if isinstance(v, str) else None
    hw_point = comp.hardware_point if comp is not None and comp.hardware_point else "hardware_revision"
    hardware = values.get(hw_point)
    return TargetFacts(model=text(values.get("model_name")),
                       hardware=hardware if isinstance(hardware, int) else None,
                       running_version=text(values.get(comp.version_point)) if comp else None,
                       components=tuple(c.component for c in profile.firmware),
                       serial=text(values.get("serial_number")))
