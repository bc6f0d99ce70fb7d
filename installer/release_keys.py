"""The firmware keys a bundle trusts: release public keys from outside the repository, or --dev.

Runs in the build (installer/build_linux.sh before PyInstaller, and
installer/pvdesk.spec inside it, so every platform's build applies it) and in
the fast tests of tests/installer. Stages a folder laid out like
``resources/keys/``: ``trust.json`` and ``revoked.json`` from the repository,
``release/<key id>.pub`` from the release keys given, ``build.json`` saying
which build this is; ``dev/`` only for a development build.

A release build needs the release public keys (a folder of ``<key id>.pub`` or
one ``.pub`` file) from ``--release-keys PATH`` or ``PVDESK_RELEASE_KEYS``, and
refuses the repository's development key among them, or any revoked key. A
development build (``--dev`` / ``PVDESK_DEV_BUILD=1``) ships the development
key and marks itself as such, so `pvdesk firmware check` says so.

    python installer/release_keys.py check [--release-keys PATH] [--dev]
    python installer/release_keys.py stage OUT [--release-keys PATH] [--dev]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from protocols.firmware.keys import KeyFileError, fingerprint, load_public_key
from protocols.firmware.trust import (
    BUILD_FILE,
    DEV_DIR,
    DEVELOPMENT,
    RELEASE,
    RELEASE_DIR,
    REVOKED_FILE,
    TRUST_FILE,
    load_trust,
)

ROOT = Path(__file__).resolve().parents[1]
KEYS = ROOT / "resources" / "keys"
ENV_KEYS, ENV_DEV = "PVDESK_RELEASE_KEYS", "PVDESK_DEV_BUILD"


class KeysRefused(SystemExit):
    """The build must not go on: the message says why and what to give instead."""

    def __init__(self, message: str) -> None:
        super().__init__(f"release_keys: {message}")


def release_key_files(path: str | os.PathLike | None) -> list[Path]:
    if not path:
        return []
    path = Path(path).expanduser()
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise KeysRefused(f"{path}: no such folder or .pub file")
    return sorted(path.glob("*.pub"))


def choose(release_keys: str | None, dev: bool) -> tuple[str, list[tuple[str, Path, str]]]:
    """(build kind, [(key id, file, fingerprint)]) or KeysRefused saying why not."""
    policy = load_trust(KEYS, mode=RELEASE)  # development fingerprints and the revocation list
    chosen = []
    for path in release_key_files(release_keys):
        try:
            fp = fingerprint(load_public_key(path))
        except KeyFileError as exc:
            raise KeysRefused(str(exc)) from None
        if fp in policy.revoked_keys:
            raise KeysRefused(f"{path.name} is a revoked key (resources/keys/revoked.json); it can never be shipped")
        if fp in policy.development and not dev:
            raise KeysRefused(f"{path.name} is the repository's development key (its private half is public); "
                              "a release build refuses it. Give the release public keys, or --dev for a "
                              "development build")
        if Path(path).resolve().is_relative_to(ROOT) and not dev:
            raise KeysRefused(f"{path} is inside the repository; release keys are kept outside it")
        chosen.append((path.stem, path, fp))
    if not chosen and not dev:
        raise KeysRefused(f"a release build needs the release public keys: --release-keys PATH or {ENV_KEYS}=PATH "
                          "(a folder of <key id>.pub), or --dev for a development build that trusts the "
                          "development key")
    if len({k for k, _, _ in chosen}) != len(chosen):
        raise KeysRefused("two release keys have the same key id (file name)")
    return (DEVELOPMENT if dev else RELEASE), chosen


def stage(out: Path, release_keys: str | None, dev: bool) -> Path:
    """Write the keys folder the bundle ships as resources/keys/ into ``out``."""
    kind, chosen = choose(release_keys, dev)
    out = Path(out)
    shutil.rmtree(out, ignore_errors=True)
    (out / RELEASE_DIR).mkdir(parents=True)
    for name in (TRUST_FILE, REVOKED_FILE):
        shutil.copyfile(KEYS / name, out / name)
    for key_id, path, _ in chosen:
        shutil.copyfile(path, out / RELEASE_DIR / f"{key_id}.pub")
    if dev:
        shutil.copytree(KEYS / DEV_DIR, out / DEV_DIR)
    (out / BUILD_FILE).write_text(json.dumps({"build": kind, "keys": [
        {"key_id": k, "fingerprint": fp} for k, _, fp in chosen]}, indent=1), encoding="utf-8")
    return out


def from_env() -> tuple[str | None, bool]:
    return os.environ.get(ENV_KEYS) or None, os.environ.get(ENV_DEV) == "1"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="release_keys.py")
    ap.add_argument("action", choices=("check", "stage"))
    ap.add_argument("out", nargs="?")
    env_keys, env_dev = from_env()
    ap.add_argument("--release-keys", default=env_keys)
    ap.add_argument("--dev", action="store_true", default=env_dev)
    args = ap.parse_args(argv)
    kind, chosen = choose(args.release_keys, args.dev)
    if args.action == "stage":
        stage(Path(args.out or "build/keys"), args.release_keys, args.dev)
    ids = ", ".join(f"{k} ({fp[:16]})" for k, _, fp in chosen) or "none"
    print(f"release_keys: {kind} build; release keys: {ids}" + ("; trusts the DEVELOPMENT key" if args.dev else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
