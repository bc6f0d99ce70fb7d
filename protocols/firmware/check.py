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
from .keys import signature_valid, trusted_keys
from .package import Package, PackageDamaged, parse_version, read_package


class PackageRefused(PVDeskError):
    """A package failed a check; ``check`` names which one."""

    check = "package"
    hint = "nothing was written to the device"


class SignatureInvalid(PackageRefused):
    check = "signature"
    hint = "use a package signed by the vendor; nothing was written to the device"


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
        report.failed(PackageRefused(str(exc), hint=exc.hint))
        return None, report
    m = pkg.manifest
    report.passed("package", f"{m.vendor} {m.component} {m.version} for {', '.join(m.models)}")
    keys = trusted_keys() if keys is None else keys
    if not pkg.signature:
        report.failed(SignatureInvalid("the package is not signed (no manifest.sig)"))
    elif m.key_id not in keys:
        report.failed(SignatureInvalid(f"signed with key {m.key_id!r}, which is not a trusted key "
                                       f"(trusted: {', '.join(sorted(keys)) or 'none'})"))
    elif not signature_valid(keys[m.key_id], pkg.manifest_bytes, pkg.signature):
        report.failed(SignatureInvalid(f"the signature does not match the manifest for key {m.key_id!r}: "
                                       "the package was altered or signed with another key"))
    else:
        report.passed("signature", f"valid Ed25519 signature by trusted key {m.key_id}")
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


def check_target(pkg: Package, facts: TargetFacts, *, allow_downgrade: bool = False,
                 report: CheckReport | None = None) -> CheckReport:
    """Checks against the device: component, model, hardware, version gate, downgrade."""
    report = report or CheckReport()
    m = pkg.manifest
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
    running, new = parse_version(facts.running_version), parse_version(m.version)
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
