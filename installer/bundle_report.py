"""Print what the built bundle weighs: the folder, the tarball, and its largest components.

Runs at build time (``python installer/bundle_report.py dist/PVDesk
[dist/PVDesk-X-linux-x86_64.tar.gz]``), single-threaded, read-only. A
component is a package folder under ``_internal`` (PySide6, pyarrow, numpy...)
or a single library beside them; symlinks count nothing (they point at files
already counted).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

TOP_N = 15


def _files(root: Path):
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            yield path


def folder_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in _files(root))


def components(bundle: Path) -> list[tuple[str, int]]:
    """(component, bytes), largest first."""
    sizes: dict[str, int] = defaultdict(int)
    internal = bundle / "_internal"
    for path in _files(bundle):
        if internal in path.parents:
            name = path.relative_to(internal).parts[0]
        else:
            name = path.relative_to(bundle).parts[0] + " (executable)"
        if name.endswith(".dist-info"):
            name = "package metadata (*.dist-info)"
        sizes[name] += path.stat().st_size
    return sorted(sizes.items(), key=lambda kv: -kv[1])


def mb(n: int) -> str:
    return f"{n / 1e6:7.1f} MB"


def report(bundle: Path, tarball: Path | None = None, top_n: int = TOP_N) -> str:
    total = folder_bytes(bundle)
    lines = [f"bundle folder  {mb(total)}  {bundle}"]
    if tarball is not None and tarball.exists():
        lines.append(f"tarball        {mb(tarball.stat().st_size)}  {tarball}")
    lines.append(f"largest {top_n} components:")
    for name, size in components(bundle)[:top_n]:
        lines.append(f"  {mb(size)}  {100 * size / total:4.1f} %  {name}")
    return "\n".join(lines)


if __name__ == "__main__":
    if not 1 <= len(sys.argv) - 1 <= 2:
        print("usage: bundle_report.py BUNDLE_FOLDER [TARBALL]", file=sys.stderr)
        sys.exit(2)
    print(report(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None))
