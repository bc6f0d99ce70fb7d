"""Open a diagnostics bundle safely: every check before any use, nothing written outside the cache.

Runs on any thread (the GUI opens on a worker). A bundle comes from outside
and may be truncated, tampered with, huge, a zip bomb, or carry paths that
try to escape. ``open_bundle`` refuses all of these with ``BundleRefused``
(a one-line reason and what to do) before anything is used:

1. the file's size against ``Limits.max_file_bytes``;
2. the zip's central directory (a truncated file has none);
3. every entry: an allow-listed relative name (no absolute path, drive,
   backslash or ``..``), not a symlink, not encrypted, stored or deflated,
   declared sizes and compression ratio within the limits, no duplicates;
4. the manifest: format, and the set of members equal to the zip's entries;
5. every member streamed into a fresh folder under the app's cache
   (platformdirs, overridable), counting bytes as they come (a header that
   lies about the size is caught) and hashing them; a SHA-256 that differs
   from the manifest refuses the whole bundle and removes the folder.

Extracted files are named by the checked member names inside that folder
only. ``Bundle`` then reads them (Parquet memory-mapped, JSON parsed with a
size cap).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import stat
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from protocols.errors import ProfileError, PVDeskError

from desktop.core import paths

from . import layout
from .capture import image_from_json
from .layout import Limits

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}(/[A-Za-z0-9][A-Za-z0-9._-]{0,120})?$")
_CHUNK = 1 << 20


class BundleRefused(PVDeskError):
    """The file is not a bundle PVDesk will open."""

    hint = "ask for the bundle to be exported again and sent unchanged (it is checked against its manifest)"


def _refuse(path: Path, why: str, hint: str | None = None) -> BundleRefused:
    return BundleRefused(f"{path.name}: {why}", hint=hint)


def check_entry(path: Path, info: zipfile.ZipInfo, limits: Limits) -> None:
    """Refuse one zip entry that is unsafe or oversized."""
    name = info.filename
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        raise _refuse(path, f"member {name!r} has an absolute path")
    parts = name.replace("\\", "/").split("/")
    if ".." in parts:
        raise _refuse(path, f"member {name!r} points outside the bundle ('..')")
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise _refuse(path, f"member {name!r} is a symbolic link")
    if not _NAME.match(name):
        raise _refuse(path, f"member {name!r} is not a name a PVDesk bundle uses")
    if info.flag_bits & 0x1:
        raise _refuse(path, f"member {name!r} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise _refuse(path, f"member {name!r} uses compression method {info.compress_type}")
    if info.file_size > limits.max_member_bytes:
        raise _refuse(path, f"member {name!r} would unpack to {info.file_size:,} bytes, more than the "
                            f"{limits.max_member_bytes:,} allowed")
    if info.file_size > limits.ratio_floor_bytes and info.file_size > limits.max_ratio * max(1, info.compress_size):
        raise _refuse(path, f"member {name!r} expands {info.file_size / max(1, info.compress_size):,.0f} times "
                            "(a zip bomb?)", hint="PVDesk bundles never compress like that; do not open this file")


class Bundle:
    """An opened, verified bundle; its members live in ``folder`` until ``close()``."""

    def __init__(self, path: Path, folder: Path, manifest: dict, limits: Limits) -> None:
        self.path, self.folder, self.manifest, self.limits = path, folder, manifest, limits
        self._json: dict[str, object] = {}

    def __enter__(self) -> "Bundle":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Remove the unpacked members."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def has(self, name: str) -> bool:
        return name in self.manifest["members"]

    def member_path(self, name: str) -> Path:
        if not self.has(name):
            raise KeyError(f"the bundle has no {name}")
        return self.folder / name

    def members(self, prefix: str = "") -> list[str]:
        return sorted(n for n in self.manifest["members"] if n.startswith(prefix))

    def json(self, name: str, default=None):
        if not self.has(name):
            return default
        if name not in self._json:
            p = self.member_path(name)
            if p.stat().st_size > self.limits.max_json_bytes:
                raise _refuse(self.path, f"{name} is too large to read ({p.stat().st_size:,} bytes)")
            try:
                self._json[name] = json.loads(p.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                raise _refuse(self.path, f"{name} is not valid JSON: {exc}") from None
        return self._json[name]

    def events(self) -> list[dict]:
        if not self.has(layout.EVENTS):
            return []
        out = []
        with self.member_path(layout.EVENTS).open(encoding="utf-8") as fh:
            for i, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        raise _refuse(self.path, f"{layout.EVENTS} line {i} is not valid JSON") from None
        return out

    def telemetry_file(self) -> pq.ParquetFile:
        try:
            return pq.ParquetFile(str(self.member_path(layout.TELEMETRY)), memory_map=False)
        except (pa.ArrowException, OSError) as exc:
            raise _refuse(self.path, f"the telemetry is not readable Parquet: {exc}") from None

    def telemetry(self, columns: list[str] | None = None) -> pa.Table:
        """The telemetry table (``columns`` picks points; time and session always).

        Read one row group at a time, handing freed decode buffers back after
        each, so the peak stays near the size of the table itself (a week at
        1 Hz with 60 points: about 290 MB of float64, see benchmarks/diag.py).
        """
        pf = self.telemetry_file()
        if columns is not None:
            columns = ["time", "session"] + [c for c in columns if c not in ("time", "session")]
        pool = pa.default_memory_pool()
        try:
            parts = []
            for i in range(pf.num_row_groups):
                parts.append(pf.read_row_group(i, columns=columns, use_threads=True))
                pool.release_unused()
            return pa.concat_tables(parts) if parts else pf.schema_arrow.empty_table()
        except (pa.ArrowException, OSError) as exc:
            raise _refuse(self.path, f"the telemetry is not readable Parquet: {exc}") from None

    def register_image(self) -> dict | None:
        doc = self.json(layout.REGISTERS)
        if doc is None:
            return None
        try:
            return image_from_json(doc)
        except (ValueError, TypeError, AttributeError) as exc:
            raise _refuse(self.path, str(exc)) from None

    def profile(self):
        """The device profile the bundle was recorded with (checked by the profile schema), or None."""
        from .profile_doc import from_doc
        doc = self.json(layout.PROFILE)
        if doc is None:
            return None
        try:
            return from_doc(doc)
        except ProfileError as exc:
            raise _refuse(self.path, f"its device profile is invalid: {exc.one_line()}") from None


def _sweep(cache: Path, older_than_s: float = 86400.0) -> None:
    """Remove unpacked bundles left over from earlier runs."""
    now = time.time()
    for p in cache.glob("open-*"):
        try:
            if now - p.stat().st_mtime > older_than_s:
                shutil.rmtree(p, ignore_errors=True)
        except OSError:
            pass


def open_bundle(path: str | Path, *, cache: str | Path | None = None, limits: Limits | None = None) -> Bundle:
    """Check and unpack ``path``; BundleRefused says what is wrong."""
    path = Path(path)
    limits = limits or Limits()
    try:
        st = path.stat()
    except OSError as exc:
        raise BundleRefused(f"cannot read {path}: {exc.strerror}", hint="check the file name") from None
    if not stat.S_ISREG(st.st_mode):
        raise _refuse(path, "is not a file")
    if st.st_size > limits.max_file_bytes:
        raise _refuse(path, f"is {st.st_size:,} bytes, more than the {limits.max_file_bytes:,} a bundle may be")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError):
        raise _refuse(path, "is damaged or truncated (no complete zip directory)",
                      hint="download or copy the bundle again; it may have been cut short") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_members:
            raise _refuse(path, f"has {len(infos)} members, more than the {limits.max_members} allowed")
        seen: set[str] = set()
        for info in infos:
            check_entry(path, info, limits)
            if info.filename in seen:
                raise _refuse(path, f"member {info.filename!r} appears twice")
            seen.add(info.filename)
        total = sum(i.file_size for i in infos)
        if total > limits.max_total_bytes:
            raise _refuse(path, f"would unpack to {total:,} bytes, more than the {limits.max_total_bytes:,} allowed")
        manifest = _manifest(path, zf, seen)
        folder = Path(tempfile.mkdtemp(prefix="open-", dir=paths.ensure(paths.cache_dir(cache))))
        try:
            for name, entry in manifest["members"].items():
                _extract(path, zf, zf.getinfo(name), folder, entry, limits)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    _sweep(folder.parent)
    return Bundle(path, folder, manifest, limits)


def _manifest(path: Path, zf: zipfile.ZipFile, names: set[str]) -> dict:
    if layout.MANIFEST not in names:
        raise _refuse(path, "has no manifest.json: it is not a PVDesk diagnostics bundle")
    info = zf.getinfo(layout.MANIFEST)
    if info.file_size > 4 * 1024 * 1024:
        raise _refuse(path, "its manifest is too large")
    try:
        with zf.open(info) as fh:
            manifest = json.loads(fh.read(4 * 1024 * 1024 + 1))
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, UnicodeDecodeError, OSError):
        raise _refuse(path, "its manifest is damaged") from None
    if not isinstance(manifest, dict) or manifest.get("format") != layout.FORMAT:
        got = manifest.get("format") if isinstance(manifest, dict) else None
        raise _refuse(path, f"is not a {layout.FORMAT} bundle (format {got!r})",
                      hint="a newer PVDesk may have made it; update PVDesk")
    members = manifest.get("members")
    if not isinstance(members, dict) or not all(
            isinstance(v, dict) and isinstance(v.get("sha256"), str) and isinstance(v.get("size"), int)
            for v in members.values()):
        raise _refuse(path, "its manifest has no valid member list")
    listed, present = set(members), names - {layout.MANIFEST}
    if present - listed:
        raise _refuse(path, f"holds members its manifest does not list: {sorted(present - listed)}",
                      hint="files were added after export; ask for a fresh bundle")
    if listed - present:
        raise _refuse(path, f"lacks members its manifest lists: {sorted(listed - present)}",
                      hint="files were removed after export; ask for a fresh bundle")
    return manifest


def _extract(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, folder: Path, entry: dict,
             limits: Limits) -> None:
    target = (folder / info.filename).resolve()
    if not target.is_relative_to(folder.resolve()):  # defence in depth: names are allow-listed already
        raise _refuse(path, f"member {info.filename!r} points outside the bundle")
    sha, size = hashlib.sha256(), 0
    cap = min(info.file_size, limits.max_member_bytes)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with zf.open(info) as src, open(target, "xb") as out:
            while chunk := src.read(_CHUNK):
                size += len(chunk)
                if size > cap:
                    raise _refuse(path, f"member {info.filename!r} unpacks to more than it declares (a zip bomb?)")
                sha.update(chunk)
                out.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise _refuse(path, f"member {info.filename!r} is damaged ({exc})",
                      hint="copy the bundle again; it was damaged on the way") from None
    except OSError as exc:  # a name clash (a member and a folder of the same name), a full disk
        raise _refuse(path, f"member {info.filename!r} cannot be unpacked: {exc.strerror or exc}",
                      hint="check the free space in the cache folder; a bundle PVDesk made never clashes") from None
    if size != entry["size"] or sha.hexdigest() != entry["sha256"]:
        raise _refuse(path, f"member {info.filename!r} does not match its SHA-256 in the manifest "
                            "(changed after export, or damaged)")
