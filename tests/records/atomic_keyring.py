"""A keyring backend for the tests that behaves like an OS keyring daemon: each write is atomic.

GNOME Keyring, KWallet, the macOS Keychain and the Windows Credential
Manager replace an entry whole or not at all; keyrings.alt's file backends
rewrite their one file in place (a crash empties it), which is why PVDesk
refuses them outside the tests. This stand-in keeps its entries in one JSON
file under $XDG_DATA_HOME, written to a temporary file, fsynced and renamed,
so the crash tests exercise PVDesk's own ordering of key changes, not the
weakness of a backend PVDesk does not accept. Select it with
PYTHON_KEYRING_BACKEND=atomic_keyring.AtomicFileKeyring (tests/records on the path).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class AtomicFileKeyring(KeyringBackend):
    priority = 1

    @property
    def path(self) -> Path:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
        return base / "pvdesk-test-keyring.json"

    def _load(self) -> dict:
        try:
            return json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return {}

    def _save(self, doc: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(doc, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def get_password(self, service, username):
        return self._load().get(f"{service}\x00{username}")

    def set_password(self, service, username, password):
        doc = self._load()
        doc[f"{service}\x00{username}"] = password
        self._save(doc)

    def delete_password(self, service, username):
        doc = self._load()
        if doc.pop(f"{service}\x00{username}", None) is None:
            raise PasswordDeleteError(username)
        self._save(doc)
