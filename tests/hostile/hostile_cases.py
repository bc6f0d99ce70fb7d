"""The hostile-input cases of issue 19 as data, and how each is tried: packages, writes, settings files, exports.

Imported by the tests in tests/hostile/ and by benchmarks/hostile.py (which
prints the counts). Every case is tried the way a user would meet it: a
package through read_package and then the real Upgrader against the
simulator (as `pvdesk firmware upgrade` does), a typed value through
ParamSession.write against the simulator, a settings file through
settings_file.load/apply, an export through the real writers. Each outcome
records whether it was refused, whether the refusal is one clear line naming
what was wrong, and how many bytes reached the device's registers.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEST_KEY = ROOT / "tests" / "firmware" / "data" / "TEST-ONLY-pvdesk-dev-signing-key.pem"
# What a message must never show: a Python exception's name, a traceback, or a codec's own words.
UNCLEAR = re.compile(r"Traceback|RecursionError|OverflowError|MemoryError|KeyError|TypeError|AttributeError"
                     r"|UnicodeDecodeError|JSONDecodeError|struct\.error|format requires|cannot convert float"
                     r"|invalid literal|object has no attribute|Exceeds the limit|File is not a zip file")


@dataclass
class Outcome:
    refused: bool
    message: str
    device_bytes: int = 0
    value: object = None          # what was written, for the cases that must be accepted as meant


@dataclass
class Case:
    kind: str                     # "package", "write", "settings", "export", "bundle"
    name: str
    expect: str                   # a word the refusal must contain (the check or the setting it names)
    must_refuse: bool = True
    want_value: object = None     # for must_refuse=False: the value the device must end up holding


def clear(case: Case, outcome: Outcome) -> bool:
    """One line, names what was wrong (``expect``), and no exception class or codec jargon."""
    text = outcome.message
    return (outcome.refused and "\n" not in text and bool(text.strip()) and case.expect.lower() in text.lower()
            and not UNCLEAR.search(text))


# ------------------------------------------------------------------------------------------------ packages
def _key():
    from protocols.firmware.keys import load_private_key
    return load_private_key(TEST_KEY)


def image(n: int = 4800) -> bytes:
    out, block = bytearray(), b"hostile"
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:n])


def manifest(img: bytes, **changes) -> dict:
    m = {"format": "pvdesk-firmware-1", "vendor": "PVDesk", "models": ["PVD-H8K"], "hardware": [3],
         "component": "control", "version": "1.05.00", "min_version": "1.00.00", "image_size": len(img),
         "image_sha256": hashlib.sha256(img).hexdigest(), "key_id": "pvdesk-dev", "created": "2026-12-01T00:00:00+00:00",
         "notes": ""}
    m.update(changes)
    return m


def signed_zip(manifest_bytes: bytes, img: bytes, *, extra=(), sign: bool = True, compress=zipfile.ZIP_DEFLATED,
               members=None) -> bytes:
    """A package whose manifest is signed with the repository's key (the red team had it), plus ``extra``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compress) as zf:
        for name, data in members if members is not None else (
                [("manifest.json", manifest_bytes)] + ([("manifest.sig", _key().sign(manifest_bytes))] if sign else [])
                + [("image.bin", img)]):
            zf.writestr(name, data)  # a name or a ZipInfo (the symlink case)
        for name, data in extra:
            zf.writestr(name, data)
    return out.getvalue()


def _pkg(**changes) -> bytes:
    img = image()
    return signed_zip(json.dumps(manifest(img, **changes)).encode(), img)


def _raw_manifest(text: bytes) -> bytes:
    return signed_zip(text, image())


def _symlink_member() -> bytes:
    img = image()
    mb = json.dumps(manifest(img)).encode()
    link = zipfile.ZipInfo("image.bin")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    return signed_zip(mb, img, members=[("manifest.json", mb), ("manifest.sig", _key().sign(mb)), (link, b"/etc/passwd")])


def _duplicate(name: str) -> bytes:
    img = image()
    mb = json.dumps(manifest(img)).encode()
    other = json.dumps(manifest(image(96), version="9.99.99")).encode() if name == "manifest.json" else image(96)
    return signed_zip(mb, img, members=[("manifest.json", mb), ("manifest.sig", _key().sign(mb)), ("image.bin", img),
                                        (name, other)])


def big_manifest_bytes(size: int = 512 * 1024 * 1024) -> bytes:
    """A zip whose manifest.json inflates to ``size`` bytes (about 0.1 % of it on disk), written in a stream."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        info = zipfile.ZipInfo("manifest.json")
        info.compress_type = zipfile.ZIP_DEFLATED
        info._compresslevel = 9
        with zf.open(info, "w", force_zip64=True) as fh:
            fh.write(b'{"notes": "')
            chunk = b" " * (1 << 20)
            for _ in range(size // len(chunk)):
                fh.write(chunk)
            fh.write(b'"}')
        zf.writestr("image.bin", image())
    return out.getvalue()


def _deep(levels: int = 30_000) -> bytes:
    return _raw_manifest(b'{"notes": ' + b"[" * levels + b"]" * levels + b"}")


PACKAGE_CASES: list[tuple[Case, Callable[[], bytes]]] = [
    (Case("package", "extra member with a traversal name ../../evil.sh", "extra member"),
     lambda: signed_zip(json.dumps(manifest(image())).encode(), image(), extra=[("../../evil.sh", b"#!/bin/sh\nrm -rf ~\n")])),
    (Case("package", "extra shell script install.sh", "extra member"),
     lambda: signed_zip(json.dumps(manifest(image())).encode(), image(), extra=[("install.sh", b"#!/bin/sh\n")])),
    (Case("package", "absolute member name /etc/cron.d/x", "extra member"),
     lambda: signed_zip(json.dumps(manifest(image())).encode(), image(), extra=[("/etc/cron.d/x", b"* * * * * x")])),
    (Case("package", "duplicate image.bin (the last copy would win)", "2 times"), lambda: _duplicate("image.bin")),
    (Case("package", "duplicate manifest.json", "2 times"), lambda: _duplicate("manifest.json")),
    (Case("package", "a directory member", "folder"),
     lambda: signed_zip(json.dumps(manifest(image())).encode(), image(), extra=[("payload/", b"")])),
    (Case("package", "image.bin stored as a symlink", "symbolic link"), _symlink_member),
    (Case("package", "fractional image_size 4800.5", "image_size"), lambda: _pkg(image_size=4800.5)),
    (Case("package", "image_size as text", "image_size"), lambda: _pkg(image_size="4800")),
    (Case("package", "image_size true", "image_size"), lambda: _pkg(image_size=True)),
    (Case("package", "negative image_size", "image size"), lambda: _pkg(image_size=-1)),
    (Case("package", "hardware revision 3.0", "hardware"), lambda: _pkg(hardware=[3.0])),
    (Case("package", "version 1!0.1 (an epoch)", "version grammar"), lambda: _pkg(version="1!0.1")),
    (Case("package", "version 10.00.001", "version grammar"), lambda: _pkg(version="10.00.001")),
    (Case("package", "version 1.05.00+evil (a local tag)", "version grammar"), lambda: _pkg(version="1.05.00+evil")),
    (Case("package", "version 1.5rc1", "version grammar"), lambda: _pkg(version="1.5rc1")),
    (Case("package", "version in Arabic-Indic digits", "version grammar"), lambda: _pkg(version="١.٠٥.٠٠")),
    (Case("package", "version with a space", "version grammar"), lambda: _pkg(version=" 1.05.00")),
    (Case("package", "min_version 1!0", "version grammar"), lambda: _pkg(min_version="1!0")),
    (Case("package", "version as a number", "version"), lambda: _pkg(version=1.05)),
    (Case("package", "manifest nested 30000 levels deep (64 KiB)", "manifest depth"), _deep),
    (Case("package", "512 MB manifest in a small zip", "manifest size"), big_manifest_bytes),
    (Case("package", "a field given twice", "appears twice"),
     lambda: _raw_manifest(json.dumps(manifest(image()))[:-1].encode() + b', "version": "9.99.99"}')),
    (Case("package", "NaN in the manifest", "not a JSON number"),
     lambda: _raw_manifest(json.dumps(manifest(image()))[:-1].encode() + b', "x": NaN}')),
    (Case("package", "a number with 5000 digits", "manifest"),
     lambda: _raw_manifest(json.dumps(manifest(image()))[:-1].encode() + b', "n": ' + b"9" * 5000 + b"}")),
    (Case("package", "manifest not UTF-8", "UTF-8"), lambda: _raw_manifest(b'{"vendor": "\xff\xfe"}')),
    (Case("package", "manifest is a list", "JSON object"), lambda: _raw_manifest(b"[1, 2]")),
    (Case("package", "an unknown field", "unknown field"), lambda: _pkg(run="sh -c id")),
    (Case("package", "terminal escapes in the notes", "control characters"), lambda: _pkg(notes="\x1b[2J\x1b]0;pwned\x07")),
    (Case("package", "no target model", "models"), lambda: _pkg(models=[])),
    (Case("package", "image_sha256 not hex", "image_sha256"), lambda: _pkg(image_sha256="z" * 64)),
    (Case("package", "image larger than 16 MiB declared", "image"), lambda: _pkg(image_size=64 * 1024 * 1024)),
    (Case("package", "not a zip", "damaged"), lambda: b"MZ\x90\x00 not a zip at all" * 10),
    (Case("package", "empty file", "damaged"), lambda: b""),
    (Case("package", "truncated package", "damaged"), lambda: _pkg()[:300]),
    (Case("package", "unsigned", "signature"), lambda: signed_zip(json.dumps(manifest(image())).encode(), image(), sign=False)),
    (Case("package", "image altered after signing", "image hash"),
     lambda: signed_zip(json.dumps(manifest(image())).encode(), image()[:-1] + b"\x00")),
]


async def try_package(data: bytes, device, sim, trust=None) -> Outcome:
    """What `pvdesk firmware upgrade FILE` does: read the file, then the real Upgrader if it got that far."""
    from protocols.errors import PVDeskError
    from protocols.firmware.package import read_package
    from protocols.firmware.upgrade import UpgradeOptions, Upgrader
    before = device_bytes(sim)
    try:
        pkg = read_package(data)
    except PVDeskError as exc:
        return Outcome(True, exc.one_line(), device_bytes(sim) - before)
    except Exception as exc:  # counted: refused, but not clearly
        return Outcome(True, f"{type(exc).__name__}: {exc}", device_bytes(sim) - before)
    options = UpgradeOptions(link_wait_s=3, reboot_wait_s=5, health_s=0.2, health_reads=2, poll_s=0.05)
    result = await Upgrader(device, pkg, options=options, keys=trust).run()
    return Outcome(result.outcome != "upgraded", result.message, device_bytes(sim) - before, result.outcome)


# ------------------------------------------------------------------------------------------ device bytes
def count_device_writes(sim) -> None:
    """Count every register byte written to unit 1 of ``sim`` (bootloader window included)."""
    dev = sim.device(1)
    if getattr(dev, "_hostile_counted", False):
        return
    original = dev.write
    dev.hostile_bytes = 0

    def counting(address, values):
        dev.hostile_bytes += 2 * len(values)
        return original(address, values)

    def install():
        dev.write = counting
        dev._hostile_counted = True
    sim.call(install)


def device_bytes(sim) -> int:
    return sim.call(lambda: sim.device(1).hostile_bytes) if sim is not None else 0


# -------------------------------------------------------------------------------------------------- writes
# (setting, what is typed, the word the refusal must name) -- every one must be refused before a write.
WRITE_CASES: list[tuple[Case, str, object]] = [
    (Case("write", "5 kWh on a W setting", "export_limit_w"), "export_limit_w", "5 kWh"),
    (Case("write", "5 A on a W setting", "export_limit_w"), "export_limit_w", "5 A"),
    (Case("write", "text true", "export_limit_w"), "export_limit_w", "true"),
    (Case("write", "boolean True", "export_limit_w"), "export_limit_w", True),
    (Case("write", "1_000 (a Python numeral)", "export_limit_w"), "export_limit_w", "1_000"),
    (Case("write", "Arabic-Indic digits", "export_limit_w"), "export_limit_w", "٥٠٠٠"),
    (Case("write", "full-width digits", "export_limit_w"), "export_limit_w", "５０００"),
    (Case("write", "1,5 (ambiguous separator)", "export_limit_w"), "export_limit_w", "1,5"),
    (Case("write", "0x10", "export_limit_w"), "export_limit_w", "0x10"),
    (Case("write", "NaN as text", "export_limit_w"), "export_limit_w", "nan"),
    (Case("write", "NaN as a float", "export_limit_w"), "export_limit_w", float("nan")),
    (Case("write", "infinity", "export_limit_w"), "export_limit_w", "inf"),
    (Case("write", "1e999 (overflows to infinity)", "export_limit_w"), "export_limit_w", "1e999"),
    (Case("write", "above the profile's range", "export_limit_w"), "export_limit_w", "12 kW"),
    (Case("write", "negative export limit", "export_limit_w"), "export_limit_w", "-1"),
    (Case("write", "a fraction of the register's step", "export_limit_w"), "export_limit_w", "12.5"),
    (Case("write", "u32 without a profile range: 2**40", "device_time_unix_s"), "device_time_unix_s", 2 ** 40),
    (Case("write", "u32 below zero", "device_time_unix_s"), "device_time_unix_s", -5),
    (Case("write", "s16 far out of range", "timezone_offset_min"), "timezone_offset_min", "-99999"),
    (Case("write", "a % setting given in W", "battery_min_soc_pct"), "battery_min_soc_pct", "20 W"),
    (Case("write", "a 0.1 A step setting given 0.05 A", "battery_charge_limit_a"), "battery_charge_limit_a", "0.05"),
    (Case("write", "a choice given as 2.5", "work_mode"), "work_mode", 2.5),
    (Case("write", "a choice given as True", "work_mode"), "work_mode", True),
    (Case("write", "an unknown choice", "work_mode"), "work_mode", "Turbo"),
    (Case("write", "a number in a list", "ct_ratio"), "ct_ratio", [200]),
    (Case("write", "a read-only value", "read-only"), "pv_power_w", 100),
]
# Typed values that must be written as meant: (case, setting, typed, value the device must hold).
MEANT_CASES: list[tuple[Case, str, object, object]] = [
    (Case("write", "5 kW on a W setting", "", must_refuse=False), "export_limit_w", "5 kW", 5000),
    (Case("write", "4.5kW without a space", "", must_refuse=False), "export_limit_w", "4.5kW", 4500),
    (Case("write", "3000 W", "", must_refuse=False), "export_limit_w", "3000 W", 3000),
    (Case("write", "12.5 A on a 0.1 A setting", "", must_refuse=False), "battery_charge_limit_a", "12.5 A", 12.5),
    (Case("write", "25 % on a % setting", "", must_refuse=False), "battery_min_soc_pct", "25 %", 25),
]


async def try_write(session, sim, name: str, value) -> Outcome:
    from protocols.errors import PVDeskError
    before = device_bytes(sim)
    try:
        res = await session.write(name, value, confirmed=True)
    except PVDeskError as exc:
        return Outcome(True, exc.one_line(), device_bytes(sim) - before)
    except Exception as exc:  # counted: refused, but not clearly
        return Outcome(True, f"{type(exc).__name__}: {exc}", device_bytes(sim) - before)
    return Outcome(not res.ok, res.message or "written", device_bytes(sim) - before, res.readback)


# ------------------------------------------------------------------------------------------- settings files
def _no_model(doc):
    doc.pop("model")


def _empty_model(doc):
    doc["model"] = {}


def _other_model(doc):
    doc["model"] = {**doc["model"], "model_name": "PVD-H5K"}


def _no_serial(doc):
    doc.pop("serial")


def _set_value(name, value):
    def change(doc):
        doc["settings"][name]["value"] = value
    return change


SETTINGS_CASES: list[tuple[Case, Callable[[dict], None]]] = [
    (Case("settings", "no model named", "model"), _no_model),
    (Case("settings", "\"model\": {}", "model"), _empty_model),
    (Case("settings", "saved from another model", "another model"), _other_model),
    (Case("settings", "no serial named", "serial"), _no_serial),
    (Case("settings", "a value true", "export_limit_w"), _set_value("export_limit_w", True)),
    (Case("settings", "a value NaN", "export_limit_w"), _set_value("export_limit_w", float("nan"))),
    (Case("settings", "a value 1e309", "export_limit_w"), _set_value("export_limit_w", 1e309)),
    (Case("settings", "a value in the wrong unit", "export_limit_w"), _set_value("export_limit_w", "5 kWh")),
]


async def try_settings(doc: dict, path: Path, session, sim) -> Outcome:
    from protocols.errors import PVDeskError

    from desktop.commission import settings_file
    before = device_bytes(sim)
    path.write_text(json.dumps(doc), encoding="utf-8")  # json writes NaN/Infinity as the red team's files did
    try:
        results = await settings_file.apply(settings_file.load(path), session)
    except PVDeskError as exc:
        return Outcome(True, exc.one_line(), device_bytes(sim) - before)
    except Exception as exc:
        return Outcome(True, f"{type(exc).__name__}: {exc}", device_bytes(sim) - before)
    bad = [r for r in results if not r.ok]
    return Outcome(bool(bad), "; ".join(r.message for r in bad) or f"{len(results)} applied", device_bytes(sim) - before)


# -------------------------------------------------------------------------------------------------- exports
def export_targets(base: Path) -> list[tuple[Case, Path, Callable[[], None]]]:
    """Targets an export must refuse, each with a check that the thing behind it is untouched."""
    base.mkdir(parents=True, exist_ok=True)
    out = []
    secret = base / "victim.txt"
    secret.write_text("keep me")
    link = base / "link.json"
    link.symlink_to(secret)
    out.append((Case("export", "a symlink to another file", "symbolic link"), link,
                lambda: secret.read_text() == "keep me" and link.is_symlink()))
    folder = base / "a-folder"
    folder.mkdir()
    out.append((Case("export", "a folder", "folder"), folder, lambda: folder.is_dir()))
    fifo = base / "pipe"
    os.mkfifo(fifo)
    out.append((Case("export", "a named pipe", "named pipe"), fifo, lambda: stat.S_ISFIFO(os.lstat(fifo).st_mode)))
    dev = base / "null-device"
    try:  # a character device like /dev/null, but our own: nothing of the system's is at risk
        os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        out.append((Case("export", "a character device (like /dev/null)", "character device"), dev,
                    lambda: stat.S_ISCHR(os.lstat(dev).st_mode)))
    except (PermissionError, OSError):
        pass
    dangling = base / "dangling.csv"
    dangling.symlink_to(base / "nowhere" / "x.csv")
    out.append((Case("export", "a dangling symlink", "symbolic link"), dangling, lambda: dangling.is_symlink()))
    return out


def try_export(write: Callable[[Path], None], target: Path) -> Outcome:
    from protocols.errors import PVDeskError
    try:
        write(target)
    except PVDeskError as exc:
        return Outcome(True, exc.one_line())
    except Exception as exc:
        return Outcome(True, f"{type(exc).__name__}: {exc}")
    return Outcome(False, "written")


def owner_only(path: Path) -> bool:
    return stat.S_IMODE(os.lstat(path).st_mode) == 0o600 and stat.S_ISREG(os.lstat(path).st_mode)
