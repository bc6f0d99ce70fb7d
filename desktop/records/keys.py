"""Where the secrets live: the OS keyring, or a passphrase-protected key file.

Key hierarchy (see docs/records.md):
  master key, epoch e  -- random 256-bit, in the keyring; wraps every record's
                          data key. Replaced by a fresh one (e+1) whenever a
                          record is deleted, so an old copy of the database
                          plus the current master key cannot unwrap a deleted
                          record's data key.
  audit key            -- random 256-bit, in the keyring; HMACs the audit trail.
  org sync key         -- random 256-bit, in the keyring; shared by the
                          organisation's laptops, encrypts what goes to the bucket.

`KeyringSecrets` keeps them in the operating system's keyring through the
`keyring` package. If no real backend exists it raises KeyringUnavailable; it
never falls back to plaintext. `PassphraseSecrets` is the explicit alternative:
each secret sealed with AES-256-GCM under a key derived by scrypt from the
passphrase, in `master.key` beside the database. Runs on the caller's thread.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from . import crypto
from .errors import KeyringUnavailable, PassphraseRequired, WrongPassphrase

KEYFILE_NAME = "master.key"
_KEYFILE_FORMAT = "pvdesk-records-keyfile/1"
# File backends of keyrings.alt: one keeps secrets unencrypted, the other asks for its
# password on the terminal (a GUI would hang). Accepted only when chosen explicitly.
_FILE_BACKENDS = {"keyrings.alt.file.PlaintextKeyring", "keyrings.alt.file.EncryptedKeyring"}


def _backend_name(kr) -> str:
    return f"{type(kr).__module__}.{type(kr).__name__}"


def _effective(backend):
    """The backend that would store our secrets (a chainer writes to its first one)."""
    chained = getattr(backend, "backends", None)
    if type(backend).__name__ == "ChainerBackend" and chained:
        return chained[0]
    return backend


class KeyringSecrets:
    """Secrets in the OS keyring, under one service name, one entry per secret."""

    def __init__(self, service_name: str = "PVDesk") -> None:
        import keyring
        import keyring.errors
        from keyring.backends import fail

        self._keyring = keyring
        self.service_name = service_name
        try:
            backend = keyring.get_keyring()
        except Exception as exc:  # a broken keyring configuration
            raise KeyringUnavailable(type(exc).__name__) from None
        name = _backend_name(_effective(backend))
        if isinstance(_effective(backend), fail.Keyring):
            raise KeyringUnavailable("no keyring backend was found")
        chosen = os.environ.get("PYTHON_KEYRING_BACKEND", "")
        if name in _FILE_BACKENDS and chosen != name:
            raise KeyringUnavailable(
                "the only keyring found is a plain file that stores secrets unencrypted or asks "
                "for a password on the terminal; set PYTHON_KEYRING_BACKEND to choose it on purpose")
        self.backend_name = name
        try:
            backend.get_password(service_name, "probe")
        except Exception as exc:  # locked, denied, D-Bus gone...
            raise KeyringUnavailable(f"the keyring refused access: {type(exc).__name__}") from None
        self._backend = backend

    def get(self, name: str) -> bytes | None:
        try:
            value = self._backend.get_password(self.service_name, name)
        except Exception as exc:
            raise KeyringUnavailable(f"reading failed: {type(exc).__name__}") from None
        return None if value is None else crypto.b64d(value)

    def put(self, name: str, value: bytes) -> None:
        try:
            self._backend.set_password(self.service_name, name, crypto.b64e(value))
        except Exception as exc:
            raise KeyringUnavailable(f"writing failed: {type(exc).__name__}") from None

    def delete(self, name: str) -> None:
        try:
            self._backend.delete_password(self.service_name, name)
        except self._keyring.errors.PasswordDeleteError:
            pass
        except Exception as exc:
            raise KeyringUnavailable(f"deleting failed: {type(exc).__name__}") from None


class PassphraseSecrets:
    """Secrets sealed under scrypt(passphrase) in a key file, written atomically."""

    def __init__(self, path: Path, passphrase: str, *, create: bool,
                 scrypt_n: int = crypto.SCRYPT_N) -> None:
        self.path = Path(path)
        self.backend_name = "passphrase"
        if self.path.exists():
            doc = json.loads(self.path.read_text("utf-8"))
            if doc.get("format") != _KEYFILE_FORMAT:
                raise WrongPassphrase()
            kdf = doc["kdf"]
            self._kek = crypto.scrypt_key(passphrase, crypto.b64d(kdf["salt"]), kdf["n"], kdf["r"], kdf["p"])
            try:
                crypto.open_sealed(self._kek, crypto.b64d(doc["check"]), b"check")
            except crypto.InvalidTag:
                raise WrongPassphrase() from None
            self._doc = doc
        elif not create:
            raise PassphraseRequired()
        else:
            if not passphrase or len(passphrase) < 8:
                from .errors import ValidationError
                raise ValidationError("The passphrase must have at least 8 characters.")
            salt = os.urandom(16)
            self._kek = crypto.scrypt_key(passphrase, salt, scrypt_n)
            self._doc = {
                "format": _KEYFILE_FORMAT,
                "kdf": {"name": "scrypt", "salt": crypto.b64e(salt), "n": scrypt_n,
                        "r": crypto.SCRYPT_R, "p": crypto.SCRYPT_P},
                "check": crypto.b64e(crypto.seal(self._kek, b"pvdesk", b"check")),
                "secrets": {},
            }
            self._write()

    def _write(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self._doc, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        if hasattr(os, "O_DIRECTORY"):
            fd = os.open(self.path.parent, os.O_DIRECTORY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def get(self, name: str) -> bytes | None:
        blob = self._doc["secrets"].get(name)
        if blob is None:
            return None
        try:
            return crypto.open_sealed(self._kek, crypto.b64d(blob), name.encode())
        except crypto.InvalidTag:
            raise WrongPassphrase() from None

    def put(self, name: str, value: bytes) -> None:
        self._doc["secrets"][name] = crypto.b64e(crypto.seal(self._kek, value, name.encode()))
        self._write()

    def delete(self, name: str) -> None:
        if self._doc["secrets"].pop(name, None) is not None:
            self._write()


def keyring_usable() -> tuple[bool, str]:
    """(usable, reason) -- for the GUI to decide whether to offer passphrase mode."""
    try:
        KeyringSecrets("PVDesk")
    except KeyringUnavailable as exc:
        return False, str(exc)
    return True, ""
