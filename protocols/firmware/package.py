"""The firmware package file: a signed manifest and the image, in one zip archive.

Runs on any thread. Layout (docs/firmware-protocol.md):

    manifest.json   UTF-8 JSON: format, vendor, models, hardware, component,
                    version, min_version, image_size, image_sha256, key_id, ...
    manifest.sig    64 bytes: Ed25519 signature over the exact bytes of manifest.json
    image.bin       the firmware image

The signature covers the manifest, and the manifest carries the image's size
and SHA-256, so one signature binds the image too. Reading a package only
parses it; every check that decides whether it may be installed is in
``check.py``.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from packaging.version import InvalidVersion, Version

from ..errors import PVDeskError
from .keys import Ed25519PrivateKey

FORMAT = "pvdesk-firmware-1"
MANIFEST_NAME, SIGNATURE_NAME, IMAGE_NAME = "manifest.json", "manifest.sig", "image.bin"
MAX_IMAGE_BYTES = 16 * 1024 * 1024
VERSION_TEXT_MAX = 8  # the device keeps versions in 4 registers


class PackageDamaged(PVDeskError):
    """The file is not a readable PVDesk firmware package."""

    check = "package"
    hint = "get the package again from the vendor; do not edit or rename its contents"


def parse_version(text: str) -> Version:
    """A firmware version such as 1.04.02 (compared numerically: 1.4.2)."""
    try:
        return Version(str(text))
    except InvalidVersion:
        raise PackageDamaged(f"{text!r} is not a version number (expected e.g. 1.04.02)") from None


@dataclass(frozen=True)
class Manifest:
    """What the package says about itself (signed)."""

    vendor: str
    models: tuple[str, ...]
    component: str
    version: str
    image_size: int
    image_sha256: str
    key_id: str
    hardware: tuple[int, ...] = ()
    min_version: str | None = None
    format: str = FORMAT
    created: str = ""
    notes: str = ""

    @classmethod
    def from_json(cls, data: bytes) -> "Manifest":
        try:
            raw = json.loads(data.decode("utf-8"))
            if raw.get("format") != FORMAT:
                raise PackageDamaged(f"unknown package format {raw.get('format')!r} (this PVDesk reads {FORMAT})")
            m = cls(vendor=str(raw["vendor"]), models=tuple(str(x) for x in raw["models"]),
                    component=str(raw["component"]), version=str(raw["version"]),
                    image_size=int(raw["image_size"]), image_sha256=str(raw["image_sha256"]).lower(),
                    key_id=str(raw["key_id"]), hardware=tuple(int(x) for x in raw.get("hardware", [])),
                    min_version=raw.get("min_version"), created=str(raw.get("created", "")),
                    notes=str(raw.get("notes", "")))
        except PackageDamaged:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise PackageDamaged(f"the manifest is not valid: {type(exc).__name__} {exc}") from None
        parse_version(m.version)
        if m.min_version is not None:
            parse_version(m.min_version)
        return m

    def to_json(self) -> bytes:
        d = asdict(self)
        d["models"], d["hardware"] = list(self.models), list(self.hardware)
        return json.dumps(d, indent=2, sort_keys=True).encode("utf-8")


@dataclass
class Package:
    """A package as read from disk, before any check."""

    manifest: Manifest
    manifest_bytes: bytes
    signature: bytes
    image: bytes
    path: str = ""
    members: tuple[str, ...] = field(default_factory=tuple)

    @property
    def image_sha256(self) -> str:
        return hashlib.sha256(self.image).hexdigest()


def read_package(source: str | Path | bytes) -> Package:
    """Parse a package file (or its bytes); PackageDamaged says what is wrong."""
    name = "<bytes>" if isinstance(source, bytes) else str(source)
    try:
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
    except OSError as exc:
        raise PackageDamaged(f"cannot read {name}: {exc.strerror or exc}", hint="check the file name") from None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = tuple(zf.namelist())
            missing = [n for n in (MANIFEST_NAME, IMAGE_NAME) if n not in members]
            if missing:
                raise PackageDamaged(f"{name} has no {', '.join(missing)}; it is not a PVDesk firmware package")
            if zf.getinfo(IMAGE_NAME).file_size > MAX_IMAGE_BYTES:
                raise PackageDamaged(f"{name}: the image is larger than {MAX_IMAGE_BYTES} bytes")
            manifest_bytes = zf.read(MANIFEST_NAME)
            signature = zf.read(SIGNATURE_NAME) if SIGNATURE_NAME in members else b""
            image = zf.read(IMAGE_NAME)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, KeyError) as exc:
        raise PackageDamaged(f"{name} is damaged or truncated ({exc})") from None
    return Package(Manifest.from_json(manifest_bytes), manifest_bytes, signature, image, name, members)


def build_package(image: bytes, key: Ed25519PrivateKey, *, key_id: str, vendor: str, models, component: str,
                  version: str, hardware=(), min_version: str | None = None, notes: str = "") -> bytes:
    """The bytes of a signed package for ``image`` (the developer's ``firmware pack``)."""
    for v in (version, min_version):
        if v is not None:
            parse_version(v)
            if len(v) > VERSION_TEXT_MAX:
                raise PackageDamaged(f"version {v!r} is longer than {VERSION_TEXT_MAX} characters")
    if not models:
        raise PackageDamaged("name at least one target model")
    if not image:
        raise PackageDamaged("the image is empty")
    manifest = Manifest(vendor=vendor, models=tuple(models), component=component, version=version,
                        image_size=len(image), image_sha256=hashlib.sha256(image).hexdigest(), key_id=key_id,
                        hardware=tuple(int(h) for h in hardware), min_version=min_version,
                        created=datetime.now(UTC).isoformat(timespec="seconds"), notes=notes)
    manifest_bytes = manifest.to_json()
    return pack_members(manifest_bytes, key.sign(manifest_bytes), image)


def pack_members(manifest_bytes: bytes, signature: bytes | None, image: bytes) -> bytes:
    """Assemble a zip from its three members (tests use it to build bad packages)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MANIFEST_NAME, manifest_bytes)
        if signature is not None:
            zf.writestr(SIGNATURE_NAME, signature)
        zf.writestr(IMAGE_NAME, image)
    return out.getvalue()
