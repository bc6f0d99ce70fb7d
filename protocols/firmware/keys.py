"""Firmware signing keys: the trusted public keys PVDesk ships, and key files for developers.

Runs on any thread. Trusted public keys are Ed25519 keys in PEM files
``resources/keys/<key id>.pub``; a package names the key id that signed it.
Private keys never live in the repository (production keys stay with the
vendor's release process; the one test-only key is under tests/).
"""

from __future__ import annotations

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


def trusted_keys(extra_dirs: tuple[Path, ...] = ()) -> dict[str, Ed25519PublicKey]:
    """Key id -> public key, from resources/keys and ``extra_dirs`` (later ones win)."""
    keys: dict[str, Ed25519PublicKey] = {}
    for folder in (keys_dir(), *extra_dirs):
        for path in sorted(Path(folder).glob("*.pub")):
            keys[path.stem] = load_public_key(path)
    return keys


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
    private_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    private_path.chmod(0o600)
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
