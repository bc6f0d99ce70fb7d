"""Where commissioning keeps its files: write history and wizard state, keyed by device serial.

Runs on any thread (small synchronous file writes). The folder is the app's
data folder (desktop/core/paths.py: ``PVDESK_DATA_DIR`` overrides the platform's) + ``commissioning``.
Nothing here holds personal data: device serials, setting values, times and
the installer id only.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from desktop.core import paths


def commission_dir(sub: str) -> Path:
    folder = paths.commissioning_dir(sub)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def serial_key(serial: str) -> str:
    """A file-name-safe form of a device serial (other characters become '_')."""
    key = re.sub(r"[^A-Za-z0-9._-]", "_", str(serial or "").strip())[:64]
    return key or "unknown-serial"


def write_json_atomic(path: Path, data: dict) -> None:
    """Write ``data`` as JSON to ``path`` so a crash leaves the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, ensure_ascii=False, default=str)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class WriteHistory:
    """The app's log of every write sent to a device: JSON lines, one file per serial.

    Each entry: time (Unix s), serial, profile, point, label, old, new, read-back,
    result ("ok", "sent", "mismatch", "refused"), installer id, and the error text.
    """

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else commission_dir("history")
        self.folder.mkdir(parents=True, exist_ok=True)

    def path(self, serial: str) -> Path:
        return self.folder / f"{serial_key(serial)}.jsonl"

    def append(self, entry: dict) -> None:
        line = json.dumps(entry, ensure_ascii=False, default=str)
        with open(self.path(entry.get("serial", "")), "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def entries(self, serial: str) -> list[dict]:
        """Entries for ``serial``, oldest first; a damaged line is skipped, not fatal."""
        path = self.path(serial)
        if not path.exists():
            return []
        out = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return out
