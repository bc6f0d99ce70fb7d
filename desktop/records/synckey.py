"""The organisation sync key: created on one laptop, imported on the others.

The key is 256 random bits kept in the keyring (or the passphrase key file).
It travels between laptops as either
  - a recovery code: base32 of key + 2-byte SHA-256 checksum, in groups of
    four ("ABCD-EFGH-..."), which catches typing mistakes, or
  - a key file: JSON {"format": "pvdesk-sync-key/1", "key": base64,
    "fingerprint": hex} -- treat it like a password.
The fingerprint (first 8 bytes of SHA-256, hex) lets two people check by eye
that their laptops hold the same key; it reveals nothing about the key.
Pure functions, any thread.
"""
from __future__ import annotations

import base64
import json
import re

from . import crypto
from .errors import BadRecoveryCode

KEYFILE_FORMAT = "pvdesk-sync-key/1"


def fingerprint(key: bytes) -> str:
    fp = crypto.sha256(b"pvdesk-sync-key|" + key)[:8].hex()
    return ":".join(fp[i:i + 4] for i in range(0, 16, 4))


def to_recovery_code(key: bytes) -> str:
    raw = key + crypto.sha256(key)[:2]
    text = base64.b32encode(raw).decode().rstrip("=")
    return "-".join(text[i:i + 4] for i in range(0, len(text), 4))


def from_recovery_code(code: str) -> bytes:
    text = re.sub(r"[\s\-]", "", code).upper()
    if not re.fullmatch(r"[A-Z2-7]+", text or "-"):
        raise BadRecoveryCode("it may only hold the letters A-Z and the digits 2-7")
    try:
        raw = base64.b32decode(text + "=" * (-len(text) % 8))
    except ValueError:
        raise BadRecoveryCode("it has the wrong length") from None
    if len(raw) != crypto.KEY_BYTES + 2:
        raise BadRecoveryCode("it has the wrong length")
    key, check = raw[:-2], raw[-2:]
    if crypto.sha256(key)[:2] != check:
        raise BadRecoveryCode("its checksum does not match (a character was mistyped)")
    return key


def to_key_file(key: bytes) -> str:
    return json.dumps({"format": KEYFILE_FORMAT, "key": crypto.b64e(key),
                       "fingerprint": fingerprint(key)}, indent=2)


def parse(text: str) -> bytes:
    """A key file's text or a recovery code -> the key."""
    text = text.strip()
    if text.startswith("{"):
        try:
            doc = json.loads(text)
            if doc.get("format") != KEYFILE_FORMAT:
                raise BadRecoveryCode("it is not a PVDesk sync key file")
            key = crypto.b64d(doc["key"])
        except (ValueError, KeyError, TypeError):
            raise BadRecoveryCode("the key file is damaged") from None
        if len(key) != crypto.KEY_BYTES or fingerprint(key) != doc.get("fingerprint"):
            raise BadRecoveryCode("the key file is damaged (fingerprint mismatch)")
        return key
    return from_recovery_code(text)
