"""Firmware signing keys: the trusted public keys PVDesk ships, and key files for developers.

Runs on any thread. Public keys are Ed25519 keys in PEM files ``<key id>.pub``
under ``resources/keys/`` (which of them this install trusts: ``trust.py``);
a package names the key id that signed it, and a key is known by its
fingerprint, the SHA-256 of its 32 raw bytes. Private keys never live in the
repository (release keys stay with the vendor's signing ceremony, see
docs/firmware-protocol.md; the one development key's private half is under
tests/ and is therefore trusted by development installs only).
"""

from __future__ import annotations

import hashlib
import os
from importlib import resources as importlib_resources
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import PVDeskError


class KeyFileError(PVDeskError):
    """A key file cannot be read or is not an Ed25519 key."""

    hint = "give an Ed25519 key in PEM format (pvdesk firmware keygen makes one)"


def keys_dir() -> Path:
    """The folder of trusted public keys shipped with PVDesk."""
    return Path(str(importlib_resources.files("resources"))) / "keys"


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise KeyFileError(f"cannot read public key {path}: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{path} is not an Ed25519 public key")
    return key


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 (hex) of the key's 32 raw bytes: how revocation and the development key list name a key."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def trusted_keys() -> dict[str, Ed25519PublicKey]:
    """Key id -> public key of every key this install trusts (``trust.load_trust`` has the details)."""
    from .trust import load_trust  # trust imports this module
    return {k: v.key for k, v in load_trust().keys.items()}


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """A developer's or the release process's signing key (PEM, unencrypted)."""
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise KeyFileError(f"cannot read signing key {path}: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} is not an Ed25519 private key")
    return key


def generate_key_pair(private_path: Path, public_path: Path) -> None:
    """Write a new Ed25519 key pair: private key (mode 0600) and public key, both PEM."""
    key = Ed25519PrivateKey.generate()
    private_path = Path(private_path)
    # created owner-only (never readable by others, not even for a moment), and never over an existing key
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    Path(public_path).write_bytes(public_pem(key))


def public_pem(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def signature_valid(key: Ed25519PublicKey, data: bytes, signature: bytes) -> bool:
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True
