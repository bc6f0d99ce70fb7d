"""Thin, named wrappers over the `cryptography` primitives the records use.

Nothing here is a home-made primitive: AES-256-GCM (AESGCM), HKDF-SHA256,
scrypt and HMAC-SHA256 all come from `cryptography`. The wrappers fix the
formats (12-byte random nonce prepended to the ciphertext), the key sizes and
the labels that separate one derived key from another. Pure functions, safe on
any thread.
"""
from __future__ import annotations

import base64
import hashlib
import hmac as _std_hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12
# scrypt cost: about 0.1-0.3 s on a laptop; tests may lower it through the file header.
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1

__all__ = [
    "InvalidTag", "new_key", "seal", "open_sealed", "derive", "scrypt_key",
    "mac", "mac_ok", "b64e", "b64d", "sha256",
]


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """AES-256-GCM encrypt; returns nonce || ciphertext+tag."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Decrypt what `seal` produced; raises InvalidTag if anything was altered."""
    if len(blob) < NONCE_BYTES + 16:
        raise InvalidTag()
    return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)


def derive(key: bytes, label: str, length: int = KEY_BYTES) -> bytes:
    """HKDF-SHA256 sub-key for one purpose (label), so keys never serve two roles."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None,
                info=b"pvdesk/" + label.encode()).derive(key)


def scrypt_key(passphrase: str, salt: bytes, n: int = SCRYPT_N, r: int = SCRYPT_R,
               p: int = SCRYPT_P) -> bytes:
    return Scrypt(salt=salt, length=KEY_BYTES, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def mac(key: bytes, data: bytes) -> bytes:
    h = _hmac.HMAC(key, hashes.SHA256())
    h.update(data)
    return h.finalize()


def mac_ok(key: bytes, data: bytes, tag: bytes) -> bool:
    return _std_hmac.compare_digest(mac(key, data), tag)


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def b64e(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64d(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)
