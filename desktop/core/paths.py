"""The diagnostics' own folders: recordings, the bundle cache, upgrade logs.

Any thread. Every folder comes from platformdirs and can be overridden by an
argument or an environment variable (tests and portable installs); nothing in
diagnostics writes anywhere else, except the bundle file the user chose.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "PVDesk"


def _dir(env: str, default: Path, override: str | Path | None) -> Path:
    if override is not None:
        return Path(override)
    value = os.environ.get(env)
    return Path(value) if value else default


def recordings_dir(override: str | Path | None = None) -> Path:
    """Where session recordings live (PVDESK_RECORDINGS_DIR overrides)."""
    default = Path(platformdirs.user_data_dir(APP, appauthor=False)) / "recordings"
    return _dir("PVDESK_RECORDINGS_DIR", default, override)


def cache_dir(override: str | Path | None = None) -> Path:
    """Where opened bundles are unpacked (PVDESK_CACHE_DIR overrides)."""
    default = Path(platformdirs.user_cache_dir(APP, appauthor=False)) / "bundles"
    return _dir("PVDESK_CACHE_DIR", default, override)


def upgrade_log_dir(override: str | Path | None = None) -> Path:
    """Where firmware upgrade logs (JSON lines) are found for bundles (PVDESK_UPGRADE_LOG_DIR overrides).

    The firmware page and ``pvdesk firmware`` write them under the data folder's
    ``firmware-logs``: one folder per device serial (GUI) or per batch run (CLI).
    """
    default = Path(platformdirs.user_data_dir(APP, appauthor=False)) / "firmware-logs"
    return _dir("PVDESK_UPGRADE_LOG_DIR", default, override)


def ensure(path: Path) -> Path:
    """Create ``path`` (private to the user) and return it."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
