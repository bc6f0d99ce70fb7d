"""Helpers of the installer tests: where the bundle is, whether it is current, a clean user's environment.

Imported by tests/installer/conftest.py and the test modules (a unique module
name, as pytest's default import mode wants). No Qt, no fixtures.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"
APP = DIST / "PVDesk"
EXE = APP / "pvdesk"
SOURCES = ("desktop", "protocols", "widgets", "resources", "installer")
BUILD_TIMEOUT_S = 900
# Every test that needs the bundle may be the one that builds it.
BUNDLE_TIMEOUT_S = BUILD_TIMEOUT_S + 120


# The tests' release key: outside the repository, like a real one, and kept between test runs so a
# current bundle (built trusting its public half) can be reused. Its private half signs test packages only.
TEST_RELEASE_KEYS = Path(tempfile.gettempdir()) / f"pvdesk-test-release-keys-{hashlib.sha256(str(ROOT).encode()).hexdigest()[:8]}"
TEST_RELEASE_ID = "pvdesk-test-release"


def make_test_release_key() -> tuple[Path, Path]:
    """(private key file, folder of public keys) of the tests' release key, made on first use."""
    from protocols.firmware.keys import generate_key_pair
    private, public_dir = TEST_RELEASE_KEYS / "private" / f"{TEST_RELEASE_ID}.pem", TEST_RELEASE_KEYS / "public"
    if not private.exists() or not (public_dir / f"{TEST_RELEASE_ID}.pub").exists():
        private.parent.mkdir(parents=True, exist_ok=True)
        public_dir.mkdir(parents=True, exist_ok=True)
        private.unlink(missing_ok=True)  # keygen never overwrites a private key
        generate_key_pair(private, public_dir / f"{TEST_RELEASE_ID}.pub")
    return private, public_dir


def bundle_trusts_test_release_key() -> bool:
    """The built bundle is a release build whose only release key is the tests' release key."""
    from protocols.firmware.keys import fingerprint, load_public_key
    stamp = APP / "_internal" / "resources" / "keys" / "build.json"
    try:
        info = json.loads(stamp.read_text())
        mine = fingerprint(load_public_key(TEST_RELEASE_KEYS / "public" / f"{TEST_RELEASE_ID}.pub"))
    except (OSError, ValueError, Exception):  # any doubt: rebuild
        return False
    return info.get("build") == "release" and [k.get("fingerprint") for k in info.get("keys", [])] == [mine]


def version() -> str:
    from desktop.version import __version__
    return __version__


def tarball() -> Path:
    return DIST / f"PVDesk-{version()}-linux-{platform.machine()}.tar.gz"


def newest_source_mtime() -> float:
    files = [ROOT / "pyproject.toml", ROOT / ".venv" / ".pvdesk-installed"]
    for folder in SOURCES:
        files += [p for p in (ROOT / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return max(p.stat().st_mtime for p in files if p.exists())


def build_is_current() -> bool:
    stamp = tarball()  # written last by build_linux.sh
    return (EXE.exists() and stamp.exists() and stamp.stat().st_mtime > newest_source_mtime()
            and bundle_trusts_test_release_key())


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a fresh desktop user without a display: HOME is ``home``."""
    dropped_names = {"DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY", "DBUS_SESSION_BUS_ADDRESS",
                     "PYTHON_KEYRING_BACKEND", "PYTHONPATH", "PYTHONHOME", "LD_LIBRARY_PATH"}
    env = {k: v for k, v in os.environ.items()
           if k not in dropped_names and not k.startswith(("PVDESK_", "XDG_", "QT_", "AWS_"))}
    env["HOME"] = str(home)
    env.update(extra)
    return env


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every path under ``folder`` with its kind, size and modification time (symlinks not followed)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = path.lstat()
            out[str(path.relative_to(folder))] = (st.st_mode >> 12, st.st_size, st.st_mtime_ns)
    return out
