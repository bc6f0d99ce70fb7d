"""Which firmware signing keys this PVDesk trusts: release or development install, rotation, revocation.

Runs on any thread (small file reads). ``resources/keys/`` holds:

    trust.json     the development key's fingerprint and the rotation list
                   (keys retired from signing, with the date)
    revoked.json   revoked keys (by fingerprint) and revoked packages (by image SHA-256)
    dev/*.pub      the development key: its private half is in the repository
    release/*.pub  release keys, put there by the release build from outside the repository
    build.json     written by the build: {"build": "release" | "development", "keys": [...]}

A release install (a bundle built without ``--dev``, or any frozen app
without build.json) trusts only ``release/``, and never a key whose
fingerprint is a development key's, wherever it is found. A development
install (running from the source tree, or a bundle built with ``--dev``)
trusts the development key too and says so. ``PVDESK_FIRMWARE_TRUST=release``
makes a source tree behave as a release install (it can only make trust
stricter). A revoked key or package is refused in every mode.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .keys import KeyFileError, fingerprint, keys_dir, load_public_key

RELEASE, DEVELOPMENT = "release", "development"
TRUST_FILE, REVOKED_FILE, BUILD_FILE = "trust.json", "revoked.json", "build.json"
DEV_DIR, RELEASE_DIR = "dev", "release"
ENV_MODE = "PVDESK_FIRMWARE_TRUST"


@dataclass(frozen=True)
class TrustedKey:
    key_id: str
    key: Ed25519PublicKey
    fingerprint: str
    origin: str                   # "release", "development" or "given" (passed in by a caller)
    retired_on: str | None = None  # rotation: no package made after this date may be signed by it


@dataclass
class Trust:
    """The keys a check may accept, and what it must refuse."""

    mode: str
    keys: dict[str, TrustedKey] = field(default_factory=dict)
    revoked_keys: dict[str, dict] = field(default_factory=dict)      # fingerprint -> entry
    revoked_packages: dict[str, dict] = field(default_factory=dict)  # image sha256 -> entry
    development: dict[str, str] = field(default_factory=dict)         # fingerprint -> key id
    ignored: list[str] = field(default_factory=list)                  # why a key found was not trusted

    @classmethod
    def of(cls, keys: dict[str, Ed25519PublicKey]) -> Trust:
        """A trust of exactly ``keys`` (tests, scripts), still honouring the shipped revocation list."""
        base = load_trust()
        return cls("given", {k: TrustedKey(k, v, fingerprint(v), "given") for k, v in keys.items()},
                   base.revoked_keys, base.revoked_packages, base.development)

    def describe(self) -> str:
        """One line for `firmware check` and the Firmware page."""
        ids = ", ".join(sorted(self.keys)) or "none"
        if self.mode == DEVELOPMENT:
            dev = sorted(k.key_id for k in self.keys.values() if k.origin == DEVELOPMENT)
            return (f"DEVELOPMENT install: trusts {ids}; the development key {', '.join(dev) or '-'} is trusted "
                    "only here, never by a release build")
        if self.mode == RELEASE:
            return f"release install: trusts the release keys {ids}"
        return f"trusts the given keys {ids}"

    def as_dict(self) -> dict:
        return {"mode": self.mode, "keys": [{"key_id": k.key_id, "fingerprint": k.fingerprint, "origin": k.origin,
                                             "retired_on": k.retired_on} for k in self.keys.values()],
                "revoked_keys": len(self.revoked_keys), "revoked_packages": len(self.revoked_packages),
                "ignored": self.ignored}


def _json(path: Path, fmt: str) -> dict:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise KeyFileError(f"cannot read {path.name}: {exc}",
                           hint="reinstall PVDesk; its trust files are damaged") from None
    if not isinstance(doc, dict) or doc.get("format") != fmt:
        raise KeyFileError(f"{path.name} is not a {fmt} file", hint="reinstall PVDesk; its trust files are damaged")
    return doc


def build_info(base: Path | None = None) -> dict:
    path = Path(base or keys_dir()) / BUILD_FILE
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, ValueError):
        return {"build": RELEASE, "damaged": True}  # a damaged stamp never widens trust
    return doc if isinstance(doc, dict) else {"build": RELEASE, "damaged": True}


def install_mode(base: Path | None = None) -> str:
    """"release" or "development" (see the module docstring)."""
    info = build_info(base)
    if info:
        mode = DEVELOPMENT if info.get("build") == DEVELOPMENT else RELEASE
    else:
        mode = RELEASE if getattr(sys, "frozen", False) else DEVELOPMENT
    if os.environ.get(ENV_MODE, "").strip().lower() == RELEASE:
        mode = RELEASE
    return mode


def load_trust(base: Path | None = None, mode: str | None = None) -> Trust:
    """The trust of this install (``base``: a keys folder laid out like resources/keys)."""
    base = Path(base or keys_dir())
    mode = mode or install_mode(base)
    policy, revoked = _json(base / TRUST_FILE, "pvdesk-firmware-trust/1"), _json(base / REVOKED_FILE,
                                                                                "pvdesk-firmware-revoked/1")
    trust = Trust(mode)
    trust.development = {str(e["fingerprint"]).lower(): str(e.get("key_id", "?"))
                         for e in policy.get("development_keys", []) if isinstance(e, dict) and "fingerprint" in e}
    retired = {str(e["fingerprint"]).lower(): str(e.get("retired_on", "")) or None
               for e in policy.get("rotation", []) if isinstance(e, dict) and "fingerprint" in e}
    trust.revoked_keys = {str(e["fingerprint"]).lower(): e for e in revoked.get("keys", [])
                          if isinstance(e, dict) and "fingerprint" in e}
    trust.revoked_packages = {str(e["image_sha256"]).lower(): e for e in revoked.get("packages", [])
                              if isinstance(e, dict) and "image_sha256" in e}
    folders = [(base / RELEASE_DIR, RELEASE)] + ([(base / DEV_DIR, DEVELOPMENT)] if mode == DEVELOPMENT else [])
    for folder, origin in folders:
        for path in sorted(folder.glob("*.pub")):
            key = load_public_key(path)
            fp = fingerprint(key)
            if fp in trust.revoked_keys:
                trust.ignored.append(f"{path.stem}: revoked")
                continue
            if fp in trust.development and mode != DEVELOPMENT:
                trust.ignored.append(f"{path.stem}: a development key in a release install")
                continue
            if origin == RELEASE and fp in trust.development:
                origin = DEVELOPMENT
            trust.keys[path.stem] = TrustedKey(path.stem, key, fp, origin, retired.get(fp))
    return trust
