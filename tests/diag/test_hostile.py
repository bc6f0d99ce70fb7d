"""Hostile and broken bundles are refused with a clear message, and nothing is written outside the cache."""

from __future__ import annotations

import hashlib
import json
import stat
import struct
import zipfile
from pathlib import Path

import pytest

from desktop.cli import main
from desktop.diag import layout
from desktop.diag.layout import Limits
from desktop.diag.open import BundleRefused, open_bundle


def _members(bundle: Path) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(bundle) as zf:
        return [(info, zf.read(info)) for info in zf.infolist()]


def _rewrite(src: Path, dest: Path, change=None, extra: list[tuple[zipfile.ZipInfo, bytes]] = (),
             fix_manifest: bool = True, drop: str | None = None) -> Path:
    """Copy a bundle member by member; ``change(name, data) -> data``; extra members added (and listed)."""
    members = [(i, d) for i, d in _members(src) if i.filename != drop]
    manifest = json.loads(dict((i.filename, d) for i, d in members)[layout.MANIFEST])
    with zipfile.ZipFile(dest, "w") as zf:
        for info, data in members:
            if info.filename == layout.MANIFEST:
                continue
            data = change(info.filename, data) if change else data
            zf.writestr(info.filename, data, compress_type=info.compress_type)
        for info, data in extra:
            zf.writestr(info, data)
            if fix_manifest:
                manifest["members"][info.filename] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        zf.writestr(layout.MANIFEST, json.dumps(manifest))
    return dest


def _refused(path: Path, match: str, limits: Limits | None = None) -> BundleRefused:
    with pytest.raises(BundleRefused, match=match) as info:
        open_bundle(path, limits=limits)
    return info.value


@pytest.fixture(autouse=True)
def nothing_left_behind(diag_dirs, tmp_path):
    yield
    cache = diag_dirs["cache"]
    assert not cache.exists() or not list(cache.iterdir()), "a refused bundle left files in the cache"
    assert not list(tmp_path.parent.glob("**/evil*")), "a member was written outside the cache"


def test_a_good_bundle_opens_and_cleans_up(live_bundle, diag_dirs):
    bundle = open_bundle(live_bundle)
    assert bundle.folder.parent == diag_dirs["cache"] and bundle.telemetry().num_rows > 10
    bundle.close()


@pytest.mark.parametrize("cut", ["half", "tail"])
def test_truncated(live_bundle, tmp_path, cut):
    data = live_bundle.read_bytes()
    bad = tmp_path / "truncated.zip"
    bad.write_bytes(data[: len(data) // 2] if cut == "half" else data[:-10])
    err = _refused(bad, "damaged or truncated")
    assert "copy the bundle again" in err.one_line() or "download" in err.one_line()


def test_one_byte_flipped_in_a_member(live_bundle, tmp_path):
    data = bytearray(live_bundle.read_bytes())
    with zipfile.ZipFile(live_bundle) as zf:
        info = zf.getinfo(layout.TELEMETRY)
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26: info.header_offset + 30])
    at = info.header_offset + 30 + name_len + extra_len + info.compress_size // 2
    data[at] ^= 0x01
    bad = tmp_path / "flipped.zip"
    bad.write_bytes(bytes(data))
    _refused(bad, "telemetry.parquet")


def test_member_changed_after_export_fails_its_hash(live_bundle, tmp_path):
    def edit(name, data):
        return data.replace(b"PVD-H8K", b"PVD-X9K") if name == layout.IDENTITY else data
    bad = _rewrite(live_bundle, tmp_path / "edited.zip", edit)
    _refused(bad, r"identity.json.*does not match its SHA-256 in the manifest")


def test_manifest_hash_changed(live_bundle, tmp_path):
    members = _members(live_bundle)
    bad = tmp_path / "manifest.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        for info, data in members:
            if info.filename == layout.MANIFEST:
                m = json.loads(data)
                m["members"][layout.ALARMS]["sha256"] = "0" * 64
                data = json.dumps(m).encode()
            zf.writestr(info.filename, data, compress_type=info.compress_type)
    _refused(bad, r"alarms.json.*does not match its SHA-256")


def test_too_large(live_bundle):
    _refused(live_bundle, "more than the 1,000 a bundle may be", Limits(max_file_bytes=1000))
    _refused(live_bundle, "would unpack to .* more than the 1,000 allowed", Limits(max_member_bytes=1000))


def test_zip_bomb(live_bundle, tmp_path):
    bomb = zipfile.ZipInfo("app_log/pvdesk.log")
    bomb.compress_type = zipfile.ZIP_DEFLATED
    bad = _rewrite(live_bundle, tmp_path / "bomb.zip", extra=[(bomb, b"\0" * 60_000_000)])
    assert bad.stat().st_size < 2_000_000
    err = _refused(bad, r"expands [\d,]+ times \(a zip bomb\?\)")
    assert "do not open this file" in err.one_line()


def test_member_that_unpacks_to_more_than_it_declares(live_bundle, tmp_path):
    """A central directory that lies about the size: zipfile stops at the declared size and the CRC then
    fails; PVDesk also counts the bytes itself and stops at the declared size."""
    bad = tmp_path / "liar.zip"
    data = bytearray(live_bundle.read_bytes())
    with zipfile.ZipFile(live_bundle) as zf:
        info = zf.getinfo(layout.EVENTS)
    assert info.compress_type == zipfile.ZIP_DEFLATED
    entry = bytes(data).find(b"PK\x01\x02")
    while entry >= 0:
        name_len = struct.unpack("<H", data[entry + 28: entry + 30])[0]
        if data[entry + 46: entry + 46 + name_len] == layout.EVENTS.encode():
            break
        entry = bytes(data).find(b"PK\x01\x02", entry + 4)
    data[entry + 24: entry + 28] = struct.pack("<I", 100)  # uncompressed size: 100 bytes
    bad.write_bytes(bytes(data))
    _refused(bad, "events.jsonl.*(unpacks to more than it declares|is damaged)")


@pytest.mark.parametrize("name, why", [
    ("../evil.txt", r"points outside the bundle \('\.\.'\)"),
    ("app_log/../../evil.txt", r"points outside the bundle"),
    ("/tmp/evil.txt", "has an absolute path"),
    ("C:/evil.txt", "has an absolute path"),
    ("..\\evil.txt", "points outside the bundle"),
    ("app_log/.hidden", "is not a name a PVDesk bundle uses"),
])
def test_paths_that_escape(live_bundle, tmp_path, name, why):
    bad = _rewrite(live_bundle, tmp_path / "escape.zip", extra=[(zipfile.ZipInfo(name), b"owned\n")])
    _refused(bad, why)


def test_symlink_entry(live_bundle, tmp_path):
    link = zipfile.ZipInfo("app_log/evil-link")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    bad = _rewrite(live_bundle, tmp_path / "symlink.zip", extra=[(link, b"/etc/passwd")])
    _refused(bad, "is a symbolic link")


def test_members_added_or_removed(live_bundle, tmp_path):
    extra = _rewrite(live_bundle, tmp_path / "extra.zip", extra=[(zipfile.ZipInfo("notes.txt"), b"x")],
                     fix_manifest=False)
    _refused(extra, r"holds members its manifest does not list: \['notes.txt'\]")
    missing = _rewrite(live_bundle, tmp_path / "missing.zip", drop=layout.REGISTERS)
    _refused(missing, r"lacks members its manifest lists: \['registers.json'\]")


def test_not_a_bundle(tmp_path):
    noise = tmp_path / "noise.zip"
    noise.write_bytes(bytes(range(256)) * 40)
    _refused(noise, "damaged or truncated")
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("readme.txt", "hello")
    _refused(other, "has no manifest.json: it is not a PVDesk diagnostics bundle")
    future = tmp_path / "future.zip"
    with zipfile.ZipFile(future, "w") as zf:
        zf.writestr(layout.MANIFEST, json.dumps({"format": "pvdesk-diagnostics/9", "members": {}}))
    err = _refused(future, "is not a pvdesk-diagnostics/1 bundle")
    assert "update PVDesk" in err.one_line()


def test_cli_refuses_with_one_line(live_bundle, tmp_path, capsys):
    bad = tmp_path / "cut.zip"
    bad.write_bytes(live_bundle.read_bytes()[:5000])
    assert main(["diag", "summary", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("pvdesk: cut.zip: is damaged or truncated") and "\n" not in err
    assert main(["review", str(bad)]) == 2
    assert "damaged or truncated" in capsys.readouterr().err


def test_a_member_clashing_with_a_folder(live_bundle, tmp_path):
    bad = _rewrite(live_bundle, tmp_path / "clash.zip",
                   extra=[(zipfile.ZipInfo("notes"), b"a file"), (zipfile.ZipInfo("notes/inner.txt"), b"in a folder")])
    _refused(bad, "notes/inner.txt' cannot be unpacked")
