"""Writing files that hold personal data: owner-only (0600), regular files only, never a symlink.

`write_private(path, data)` refuses a target that exists and is not a regular
file (a device such as /dev/null, a FIFO, a directory) or is a symbolic link,
then writes a temporary file created 0600 beside it, fsyncs it and renames it
into place, so the result is owner-only from its first byte and a crash
leaves the old file or the new one. Used for exports, receipts, request
registers and bundles' side files (desktop/core/safe_files.py, when it lands,
does the same for every export of the app). Any thread.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import RecordsError


def check_target(path: Path) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        raise RecordsError(f"Refusing to write {path}: it is a symbolic link. Name a plain file.")
    if not stat.S_ISREG(st.st_mode):
        raise RecordsError(f"Refusing to write {path}: it is not a regular file (a device, pipe or "
                           "folder). Name a plain file.")


def write_private(path: Path, data: bytes) -> Path:
    path = Path(path)
    check_target(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        check_target(path)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
