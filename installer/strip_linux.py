"""Strip symbol tables from the Linux bundle's shared libraries, where that is safe.

Runs at build time on the build machine (``python installer/strip_linux.py
dist/PVDesk``), after PyInstaller, single-threaded. Needs binutils' ``strip``
and ``readelf``; without them it says so and changes nothing.

PyInstaller's own ``strip=True`` strips every binary, which breaks libraries
that auditwheel repaired with patchelf (numpy's OpenBLAS then fails with "ELF
load command address/offset not page-aligned"). So this strips only files that
carry a symbol table, that auditwheel did not touch (no ``.libs`` folder in
their path or run path), and whose stripped copy still has page-aligned load
segments; anything else is left as it was. The executables at the top of the
bundle are never touched (their archive is appended to the ELF file).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path


def _readelf(*args: str) -> str:
    return subprocess.run(["readelf", *args], capture_output=True, text=True, check=False).stdout


def is_elf(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(4) == b"\x7fELF"


def has_symbols(path: Path) -> bool:
    return bool(re.search(r"\]\s+\.(symtab|debug_\w+)\s", _readelf("-SW", str(path))))


def touched_by_auditwheel(path: Path, root: Path) -> bool:
    if any(part.endswith(".libs") for part in path.relative_to(root).parts):
        return True
    runpath = re.findall(r"\((?:RUNPATH|RPATH)\).*\[(.*)\]", _readelf("-dW", str(path)))
    return any(".libs" in entry for entry in runpath)


def load_segments_aligned(path: Path) -> bool:
    """What the dynamic loader checks: each LOAD segment's address and offset agree modulo its alignment."""
    rows = re.findall(r"^\s*LOAD\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+0x[0-9a-f]+"
                      r"\s+[RWE ]+\s+(0x[0-9a-f]+)", _readelf("-lW", str(path)), re.MULTILINE)
    if not rows:
        return False
    return all((int(vaddr, 16) - int(offset, 16)) % max(int(align, 16), 1) == 0 for offset, vaddr, align in rows)


def strip_bundle(bundle: Path) -> tuple[int, int, list[str]]:
    """Strip what is safe under ``bundle``/_internal; returns (files stripped, bytes saved, files skipped)."""
    internal = bundle / "_internal"
    stripped, saved, skipped = 0, 0, []
    for path in sorted(internal.rglob("*")):
        if path.is_symlink() or not path.is_file() or not is_elf(path) or not has_symbols(path):
            continue
        rel = str(path.relative_to(bundle))
        if touched_by_auditwheel(path, internal):
            skipped.append(f"{rel} (patched by auditwheel)")
            continue
        tmp = path.with_name(path.name + ".stripping")
        result = subprocess.run(["strip", "--strip-unneeded", "-o", str(tmp), str(path)],
                                capture_output=True, text=True, check=False)
        if result.returncode != 0 or not load_segments_aligned(tmp):
            tmp.unlink(missing_ok=True)
            skipped.append(f"{rel} (strip failed or broke its layout)")
            continue
        before = path.stat().st_size
        shutil.copymode(path, tmp)
        os.replace(tmp, path)
        stripped += 1
        saved += before - path.stat().st_size
    return stripped, saved, skipped


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: strip_linux.py DIST_FOLDER (e.g. dist/PVDesk)", file=sys.stderr)
        return 2
    if not (shutil.which("strip") and shutil.which("readelf")):
        print("strip_linux: binutils (strip, readelf) not found; the bundle is left unstripped "
              "(install binutils for a ~50 MB smaller bundle)")
        return 0
    count, saved, skipped = strip_bundle(Path(argv[0]))
    print(f"strip_linux: stripped {count} libraries, saved {saved / 1e6:.1f} MB; left {len(skipped)} as they were")
    for line in skipped:
        print(f"  kept unstripped: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
