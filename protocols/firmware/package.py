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
import os
import stat
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from ..errors import PVDeskError
from .keys import Ed25519PrivateKey
from .version import VERSION_TEXT_MAX, VersionInvalid, parse_version  # noqa: F401 (parse_version: re-exported)

FORMAT = "pvdesk-firmware-1"
MANIFEST_NAME, SIGNATURE_NAME, IMAGE_NAME = "manifest.json", "manifest.sig", "image.bin"
REQUIRED_MEMBERS, OPTIONAL_MEMBERS = (MANIFEST_NAME, IMAGE_NAME), (SIGNATURE_NAME,)
MAX_IMAGE_BYTES = 16 * 1024 * 1024
MAX_MANIFEST_BYTES = 64 * 1024     # a real manifest is under 1 KiB
MAX_MANIFEST_DEPTH = 4             # {"models": [...]} is depth 2
MAX_PACKAGE_BYTES = MAX_IMAGE_BYTES + 1024 * 1024
SIGNATURE_BYTES = 64
FIELDS = {  # manifest field -> (JSON types allowed, required)
    "format": ((str,), True), "vendor": ((str,), True), "models": ((list,), True), "component": ((str,), True),
    "version": ((str,), True), "image_size": ((int,), True), "image_sha256": ((str,), True),
    "key_id": ((str,), True), "hardware": ((list,), False), "min_version": ((str, type(None)), False),
    "created": ((str,), False), "notes": ((str,), False),
}
TEXT_MAX = 256  # vendor, component, key_id, a model name; notes may be longer (4 KiB)


class PackageDamaged(PVDeskError):
    """The file is not a readable PVDesk firmware package; ``check`` names the rule it breaks."""

    check = "package"
    hint = "get the package again from the vendor; do not edit or rename its contents"

    def __init__(self, message: str, hint: str | None = None, check: str | None = None) -> None:
        super().__init__(message, hint)
        if check:
            self.check = check


def _refuse(check: str, message: str) -> PackageDamaged:
    return PackageDamaged(f"{check}: {message}", check=check)


def manifest_depth(data: bytes) -> int:
    """Deepest nesting of [ and { in JSON text (strings skipped), without parsing it."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_MANIFEST_DEPTH:
                    return deepest
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def _no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise _refuse("manifest", f"the field {dup[:40]!r} appears twice")
    return dict(pairs)


def _no_constants(name):
    raise _refuse("manifest", f"{name} is not a JSON number")


MAX_NUMBER_DIGITS = 20  # no manifest number needs more; Python's own limit (4300) ends in an unclear ValueError


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise _refuse("manifest", f"a number in manifest.json has {len(text.lstrip('-'))} digits "
                                  f"(at most {MAX_NUMBER_DIGITS})")
    return int(text)


def _parse_manifest(data: bytes) -> dict:
    if len(data) > MAX_MANIFEST_BYTES:
        raise _refuse("manifest size", f"manifest.json is larger than {MAX_MANIFEST_BYTES} bytes")
    if manifest_depth(data) > MAX_MANIFEST_DEPTH:
        raise _refuse("manifest depth", f"manifest.json nests deeper than {MAX_MANIFEST_DEPTH} levels")
    try:
        raw = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constants,
                         parse_int=_bounded_int)
    except UnicodeDecodeError:
        raise _refuse("manifest", "manifest.json is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise _refuse("manifest", f"manifest.json is not valid JSON: {exc.msg} at line {exc.lineno}, "
                                  f"column {exc.colno}") from None
    except ValueError as exc:  # anything else json refuses
        raise _refuse("manifest", f"manifest.json is not valid JSON ({str(exc)[:80]})") from None
    if not isinstance(raw, dict):
        raise _refuse("manifest", "manifest.json is not a JSON object")
    if raw.get("format") != FORMAT:
        raise _refuse("manifest", f"unknown package format {str(raw.get('format'))[:40]!r} (this PVDesk reads {FORMAT})")
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise _refuse("manifest", f"unknown field(s) {', '.join(repr(k[:40]) for k in unknown[:5])}")
    for name, (types, required) in FIELDS.items():
        if name not in raw:
            if required:
                raise _refuse("manifest", f"the field {name!r} is missing")
            continue
        value = raw[name]
        if isinstance(value, bool) or not isinstance(value, types):
            raise _refuse("manifest", f"{name} must be {' or '.join(t.__name__ for t in types)}, "
                                      f"not {type(value).__name__}")
        if isinstance(value, str) and len(value) > (4096 if name == "notes" else TEXT_MAX):
            raise _refuse("manifest", f"{name} is too long")
        if isinstance(value, str) and not value.replace("\n", " ").isprintable():
            raise _refuse("manifest", f"{name} holds control characters")
    for name, kind in (("models", str), ("hardware", int)):
        items = raw.get(name, [])
        if any(isinstance(x, bool) or not isinstance(x, kind) or (isinstance(x, str) and (not x.isprintable() or len(x) > TEXT_MAX))
               for x in items) or len(items) > 64:
            raise _refuse("manifest", f"{name} must be a list of at most 64 {kind.__name__} values")
    if not raw["models"]:
        raise _refuse("manifest", "models is empty: the package names no target model")
    if not 0 < raw["image_size"] <= MAX_IMAGE_BYTES:
        raise _refuse("image size", f"image_size {raw['image_size']} is not 1..{MAX_IMAGE_BYTES} bytes")
    digest = raw["image_sha256"]
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise _refuse("manifest", "image_sha256 is not 64 lower-case hexadecimal digits")
    for name in ("version", "min_version"):
        if raw.get(name) is not None:
            try:
                parse_version(raw[name])
            except VersionInvalid as exc:
                raise PackageDamaged(f"{name}: {exc}", hint=exc.hint, check="version grammar") from None
    return raw


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
        """Checked before parsing (size, depth), then field by field; PackageDamaged names the check."""
        raw = _parse_manifest(data)
        return cls(vendor=raw["vendor"], models=tuple(raw["models"]), component=raw["component"],
                   version=raw["version"], image_size=raw["image_size"], image_sha256=raw["image_sha256"],
                   key_id=raw["key_id"], hardware=tuple(raw.get("hardware", [])),
                   min_version=raw.get("min_version"), created=raw.get("created", ""), notes=raw.get("notes", ""))

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


def _check_members(zf: zipfile.ZipFile, name: str) -> dict[str, zipfile.ZipInfo]:
    """The exact member set: manifest.json, image.bin, optionally manifest.sig; nothing else, once each."""
    infos = zf.infolist()
    if len(infos) > 8:
        raise _refuse("members", f"{name} has {len(infos)} members; a package has 2 or 3")
    names = [i.filename for i in infos]
    for info in infos:
        shown = info.filename[:60]
        if info.is_dir() or info.filename.endswith(("/", "\\")):
            raise _refuse("members", f"{name} holds a folder {shown!r}; a package holds files only")
        if info.filename not in REQUIRED_MEMBERS + OPTIONAL_MEMBERS:
            raise _refuse("members", f"{name} holds an extra member {shown!r}; a package holds only "
                                     f"{', '.join(REQUIRED_MEMBERS + OPTIONAL_MEMBERS)}")
        if names.count(info.filename) > 1:
            raise _refuse("members", f"{name} holds {info.filename} {names.count(info.filename)} times")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise _refuse("members", f"{name}: {info.filename} is a symbolic link")
        if info.flag_bits & 0x1:
            raise _refuse("members", f"{name}: {info.filename} is encrypted")
    missing = [n for n in REQUIRED_MEMBERS if n not in names]
    if missing:
        raise PackageDamaged(f"{name} has no {', '.join(missing)}; it is not a PVDesk firmware package")
    return {i.filename: i for i in infos}


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, check: str, what: str) -> bytes:
    """A member's bytes, never more than ``cap`` + 1 read (the declared size may lie)."""
    if info.file_size > cap:
        raise _refuse(check, f"{what} is {info.file_size} bytes, more than {cap}")
    with zf.open(info) as fh:
        data = fh.read(cap + 1)
    if len(data) > cap:
        raise _refuse(check, f"{what} is larger than {cap} bytes")
    return data


def read_package(source: str | Path | bytes) -> Package:
    """Parse a package file (or its bytes); PackageDamaged names the check that failed.

    Every rule is checked from the zip directory and bounded reads, before any
    member is parsed: the member set, the manifest's size and nesting depth.
    """
    name = "<bytes>" if isinstance(source, bytes) else str(source)
    fh: BinaryIO
    try:
        if isinstance(source, bytes):
            if len(source) > MAX_PACKAGE_BYTES:
                raise _refuse("package size", f"{name} is larger than {MAX_PACKAGE_BYTES} bytes")
            fh = io.BytesIO(source)
        else:
            st = os.stat(source)
            if not stat.S_ISREG(st.st_mode):
                raise _refuse("package", f"{name} is not a regular file")
            if st.st_size > MAX_PACKAGE_BYTES:
                raise _refuse("package size", f"{name} is {st.st_size} bytes, larger than {MAX_PACKAGE_BYTES}")
            fh = open(source, "rb")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise PackageDamaged(f"cannot read {name}: {exc.strerror or exc}", hint="check the file name") from None
    try:
        with fh, zipfile.ZipFile(fh) as zf:
            infos = _check_members(zf, name)
            manifest_bytes = _read_capped(zf, infos[MANIFEST_NAME], MAX_MANIFEST_BYTES, "manifest size",
                                          "manifest.json")
            manifest = Manifest.from_json(manifest_bytes)
            signature = (_read_capped(zf, infos[SIGNATURE_NAME], SIGNATURE_BYTES, "signature", "manifest.sig")
                         if SIGNATURE_NAME in infos else b"")
            image = _read_capped(zf, infos[IMAGE_NAME], MAX_IMAGE_BYTES, "image size", "image.bin")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, KeyError, NotImplementedError, OSError,
            ValueError) as exc:
        if isinstance(exc, PackageDamaged):
            raise
        if isinstance(exc, zipfile.BadZipFile):
            raise PackageDamaged(f"{name} is damaged: it is not a complete zip archive",
                                 hint="download the package again; a package is a .zip signed by the vendor") from None
        raise PackageDamaged(f"{name} is damaged or truncated ({str(exc)[:100]})") from None
    return Package(manifest, manifest_bytes, signature, image, name, tuple(infos))


def build_package(image: bytes, key: Ed25519PrivateKey, *, key_id: str, vendor: str, models, component: str,
                  version: str, hardware=(), min_version: str | None = None, notes: str = "") -> bytes:
    """The bytes of a signed package for ``image`` (the developer's ``firmware pack``)."""
    for v in (version, min_version):
        if v is not None:
            try:
                parse_version(v)
            except VersionInvalid as exc:
                raise PackageDamaged(str(exc), hint=exc.hint, check="version grammar") from None
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
