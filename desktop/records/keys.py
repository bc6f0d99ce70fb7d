"""Where the secrets live: the OS keyring, or a passphrase-protected key file.

Key hierarchy (see docs/records.md):
  master key           -- random 256-bit, in the keyring; never rotated by a deletion.
  shred secrets        -- one random 256-bit secret per record (keybag.py), in the
                          keyring; a record's data key is wrapped under
                          HKDF(master key + its shred secret). Deleting the record
                          destroys its secret, so no copy of the database (a backup
                          included) can unwrap that record's key, while every other
                          record of the copy still opens.
  audit key            -- random 256-bit, in the keyring; HMACs the audit trail.
  audit head           -- the trail's (count, hash), HMAC'd, in the keyring: a trail
                          cut short or rolled back in the database is caught on open.
  org sync key         -- random 256-bit, in the keyring; shared by the
                          organisation's laptops, wraps the records' keys in the bucket.

`KeyringSecrets` keeps them in the operating system's keyring through the
`keyring` package. If no real backend exists it raises KeyringUnavailable; it
never falls back to plaintext. The file backends of keyrings.alt are refused:
they rewrite their one file in place, so a crash while writing empties it and
every key with it; passphrase mode is the safe choice there. The tests may
opt in to them (PVDESK_TEST_FILE_KEYRING=1) as stand-ins for an OS keyring. `PassphraseSecrets` is the explicit alternative:
each secret sealed with AES-256-GCM under a key derived by scrypt from the
passphrase, in `master.key` beside the database. Runs on the caller's thread.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from . import crypto, faults
from .errors import KeyDamaged, KeyringUnavailable, PassphraseRequired, WrongPassphrase

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
        testing = os.environ.get("PVDESK_TEST_FILE_KEYRING") == "1"
        if name in _FILE_BACKENDS and not (testing and chosen == name):
            raise KeyringUnavailable(
                "the only keyring found is a plain file that stores secrets unencrypted, asks for a "
                "password on the terminal and is emptied by a crash while it is written; use "
                "passphrase mode instead")
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
        if value is None:
            return None
        try:
            return crypto.b64d(value)
        except (ValueError, TypeError):
            raise KeyDamaged(f"the keyring entry {self.service_name}/{_kind(name)}") from None

    def put(self, name: str, value: bytes) -> None:
        faults.step("keyring put " + _kind(name))
        try:
            self._backend.set_password(self.service_name, name, crypto.b64e(value))
        except Exception as exc:
            raise KeyringUnavailable(f"writing failed: {type(exc).__name__}") from None
        faults.step("keyring put done " + _kind(name))

    def delete(self, name: str) -> None:
        faults.step("keyring delete " + _kind(name))
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
            doc = _read_keyfile(self.path)
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
        faults.step("keyfile write")
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self._doc, fh)
            fh.flush()
            os.fsync(fh.fileno())
        faults.step("keyfile staged")
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
        except (crypto.InvalidTag, ValueError, TypeError):
            raise KeyDamaged(f"the entry {_kind(name)} of the key file {self.path}") from None

    def put(self, name: str, value: bytes) -> None:
        self._doc["secrets"][name] = crypto.b64e(crypto.seal(self._kek, value, name.encode()))
        self._write()

    def delete(self, name: str) -> None:
        if self._doc["secrets"].pop(name, None) is not None:
            self._write()


def open_secrets(data_dir: Path, passphrase: str | None, keyring_service_name: str = "PVDesk",
                 scrypt_n: int | None = None):
    """The secrets of the store in `data_dir`: its passphrase key file, or the OS keyring."""
    from .errors import RecordsError
    keyfile = data_dir / KEYFILE_NAME
    db_path = data_dir / "records.db"
    from .store import recorded_key_mode
    mode = recorded_key_mode(db_path) or ("passphrase" if keyfile.exists() else None)
    if mode == "passphrase" and not keyfile.exists():
        from .errors import MasterKeyMissing
        raise MasterKeyMissing(
            f"The key file {keyfile} of this passphrase-protected customer records store is missing: "
            f"restore master.key from its backup into {data_dir}; the passphrase alone cannot open the "
            "records.")
    if passphrase is not None:
        if mode == "keyring" or (mode is None and db_path.exists() and db_path.stat().st_size > 0):
            raise RecordsError("This customer records store keeps its key in the keyring, not "
                               "under a passphrase: open it without a passphrase.")
        kw = {"scrypt_n": scrypt_n} if scrypt_n else {}
        return PassphraseSecrets(keyfile, passphrase, create=not keyfile.exists(), **kw)
    if mode == "passphrase":
        raise PassphraseRequired()
    return KeyringSecrets(keyring_service_name)


def _kind(name: str) -> str:
    """The secret's kind without the store id ("master/1", "audit", "shred/0"): safe to show."""
    return name.split("/", 1)[1] if "/" in name else name


def _read_keyfile(path: Path) -> dict:
    """The key file's document, or KeyDamaged naming the file: one line whatever the damage."""
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
        kdf = doc["kdf"]
        ok = (doc.get("format") == _KEYFILE_FORMAT and isinstance(doc.get("secrets"), dict)
              and isinstance(doc.get("check"), str) and all(isinstance(v, str) for v in doc["secrets"].values())
              and isinstance(kdf.get("salt"), str) and len(crypto.b64d(kdf["salt"])) >= 8
              and all(type(kdf.get(k)) is int and kdf[k] > 0 for k in ("n", "r", "p"))
              and kdf["n"] <= 2**20 and kdf["n"] & (kdf["n"] - 1) == 0 and kdf["r"] <= 32 and kdf["p"] <= 16)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
        ok = False
    if not ok:
        raise KeyDamaged(f"the key file {path}")
    return doc
