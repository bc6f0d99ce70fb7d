"""Safe output files: exports go only to regular files (never a symlink or a device) and are owner-only.

Runs on any thread; no Qt. An export names its target (``-o``, a save dialog).
Writing it with ``open(path, "w")`` or ``os.replace`` onto that path replaces
whatever is there: as root, ``-o /dev/null`` replaced the system's /dev/null
with a world-readable file of personal data. Here the target is checked
first (missing, or an existing regular file that is not a symlink), the data
goes to a temporary file created owner-only (0600) in the same folder, the
target is checked again just before the temporary file is moved onto it (so a
symlink planted meanwhile is refused too), and the move is atomic: a crash
leaves the old file or the new one, never half.

    with safe_output(path) as tmp:      # tmp: a str path to write to (0600)
        write_something(tmp)
    write_bytes(path, data)             # the same for bytes in memory
    replace_into(part, path)            # a temporary file the caller made itself
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from protocols.errors import PVDeskError

OWNER_ONLY = 0o600


class UnsafeTarget(PVDeskError, OSError):
    """The export's target is not a regular file (or is a symlink); nothing was written.

    An OSError too, so every caller that reports a failed write reports this one the same way.
    """

    hint = "choose a new file name, or an existing ordinary file to replace; nothing was written"


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"))


def check_target(path: str | os.PathLike) -> Path:
    """``path`` if an export may write it: missing, or a regular file that is not a symlink."""
    path = Path(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.is_dir():
            raise UnsafeTarget(f"cannot write {path}: the folder {parent} does not exist") from None
        return path
    except OSError as exc:
        raise UnsafeTarget(f"cannot write {path}: {exc.strerror or exc}") from None
    if stat.S_ISLNK(st.st_mode):
        raise UnsafeTarget(f"{path} is a symbolic link; an export never writes through one")
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a regular file")
        raise UnsafeTarget(f"{path} is {kind}, not a regular file")
    return path


def replace_into(tmp: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Move the finished temporary file ``tmp`` onto ``dest`` (checked again), owner-only."""
    dest = check_target(dest)
    os.chmod(tmp, OWNER_ONLY)
    os.replace(tmp, dest)
    return dest


@contextlib.contextmanager
def safe_output(path: str | os.PathLike) -> Iterator[str]:
    """A temporary path (0600, same folder) to write; moved onto ``path`` when the block ends without error."""
    dest = check_target(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent if str(dest.parent) else ".")
    os.close(fd)
    try:
        yield tmp
        replace_into(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` safely (see the module docstring)."""
    with safe_output(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))
