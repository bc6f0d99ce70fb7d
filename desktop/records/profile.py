"""The installer profile: who is logged in to PVDesk on this laptop account, for the audit trail.

`pvdesk records login ID` (or the window's settings) writes it once into the
records folder (installer.json, owner-only); every later command takes the
installer id from it, so an id cannot be claimed per command. Without a
profile the operating system's login name is used, and an `--installer`
that differs from the profile is refused. Nothing here is secret; the file
holds the id, an optional display name and the company. Any thread.
"""
from __future__ import annotations

import getpass
import json
import os
import re
from pathlib import Path

from .errors import ValidationError

PROFILE_NAME = "installer.json"
_ID = re.compile(r"^[A-Za-z0-9_.\-@]{1,64}$")


def _path(data_dir: Path) -> Path:
    return Path(data_dir) / PROFILE_NAME


def login(data_dir: Path, installer_id: str, name: str = "", company: str = "") -> dict:
    if not _ID.match(installer_id or ""):
        raise ValidationError("The installer id must have 1 to 64 letters, digits or . _ - @.")
    Path(data_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
    doc = {"format": "pvdesk-installer/1", "id": installer_id, "name": name, "company": company}
    path = _path(data_dir)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(doc, fh)
    os.replace(tmp, path)
    return doc


def current(data_dir: Path) -> dict | None:
    try:
        doc = json.loads(_path(data_dir).read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        raise ValidationError(f"The installer profile {_path(data_dir)} is damaged: log in again "
                              "(`pvdesk records login ID`).") from None
    if not isinstance(doc, dict) or not _ID.match(str(doc.get("id", ""))):
        raise ValidationError(f"The installer profile {_path(data_dir)} is damaged: log in again "
                              "(`pvdesk records login ID`).")
    return doc


def installer_id(data_dir: Path, claimed: str | None = None) -> str:
    """The logged-in installer's id; `claimed` (a command-line value) must be the same one."""
    doc = current(data_dir)
    who = doc["id"] if doc else (os.environ.get("PVDESK_INSTALLER") or getpass.getuser())
    if claimed and claimed != who:
        raise ValidationError(
            f"The installer id is taken from the logged-in profile ({who}), not from the command "
            "line; log in as the other installer first (`pvdesk records login ID`).")
    return who
