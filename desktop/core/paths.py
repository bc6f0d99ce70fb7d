"""Every folder PVDesk writes to: data, records, commissioning, recordings, firmware logs, logs, caches, exports.

Any thread (no state; the environment is read on every call, so tests and
portable installs can move everything). The one place a folder is computed:

- ``PVDESK_DATA_DIR`` moves ALL of PVDesk's files under one folder (data,
  and -- unless their own variable says otherwise -- the log and the cache
  too), so a portable install or a test writes nothing anywhere else.
- ``PVDESK_LOG_DIR`` moves the app's log.
- ``PVDESK_RECORDINGS_DIR``, ``PVDESK_CACHE_DIR``, ``PVDESK_UPGRADE_LOG_DIR``
  move one folder each (kept for the diagnostics tests and tools).
- With ``PVDESK_DATA_DIR`` the window's settings are an INI file there too
  (``settings_file``); otherwise Qt keeps them in the platform's place.
- ``PVDESK_DISPLAY_DATA_DIR`` changes only how the data folder is *shown*
  (``display_path``): the screenshot scripts run in a temporary folder and
  show it as ``~/PVDesk``, so no shipped picture shows a temporary path.
- Otherwise the platform's folders (platformdirs: XDG on Linux,
  ``%LOCALAPPDATA%`` on Windows, ``~/Library`` on macOS).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP = "PVDesk"


def _env(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def _dir(env: str, default: Path, override: str | Path | None) -> Path:
    if override is not None:
        return Path(override)
    return _env(env) or default


def data_dir() -> Path:
    """The app's data folder: ``PVDESK_DATA_DIR``, else the platform's user data folder."""
    return _env("PVDESK_DATA_DIR") or Path(platformdirs.user_data_dir(APP, appauthor=False))


def log_dir() -> Path:
    """The app's log folder: ``PVDESK_LOG_DIR``, else ``<data>/logs`` with PVDESK_DATA_DIR, else the platform's."""
    explicit = _env("PVDESK_LOG_DIR")
    if explicit is not None:
        return explicit
    portable = _env("PVDESK_DATA_DIR")
    return portable / "logs" if portable else Path(platformdirs.user_log_dir(APP, appauthor=False))


def cache_root() -> Path:
    """Caches: ``<data>/cache`` with PVDESK_DATA_DIR, else the platform's user cache folder."""
    portable = _env("PVDESK_DATA_DIR")
    return portable / "cache" if portable else Path(platformdirs.user_cache_dir(APP, appauthor=False))


def records_dir() -> Path:
    """The encrypted customer records store."""
    return data_dir() / "records"


def commissioning_dir(sub: str = "") -> Path:
    """Commissioning write history and wizard state (``sub``: "history", "wizard", ...)."""
    return data_dir() / "commissioning" / sub if sub else data_dir() / "commissioning"


def recordings_dir(override: str | Path | None = None) -> Path:
    """Where session recordings live (an argument, else PVDESK_RECORDINGS_DIR, else ``<data>/recordings``)."""
    return _dir("PVDESK_RECORDINGS_DIR", data_dir() / "recordings", override)


def cache_dir(override: str | Path | None = None) -> Path:
    """Where opened bundles are unpacked (an argument, else PVDESK_CACHE_DIR, else ``<cache>/bundles``)."""
    return _dir("PVDESK_CACHE_DIR", cache_root() / "bundles", override)


def sunspec_chains_file() -> Path:
    """The SunSpec model chains seen before (per serial number and model), so the next connection skips the walk."""
    return cache_root() / "sunspec-chains.json"


def upgrade_log_dir(override: str | Path | None = None) -> Path:
    """Where firmware upgrade logs (JSON lines) go (an argument, else PVDESK_UPGRADE_LOG_DIR, else
    ``<data>/firmware-logs``): one folder per device serial (GUI) or per batch run (CLI)."""
    return _dir("PVDESK_UPGRADE_LOG_DIR", data_dir() / "firmware-logs", override)


def firmware_log_file(serial: str | None, component: str, version: str) -> Path:
    """One upgrade's log file from the window: ``<firmware-logs>/<serial>/<time>-<component>-<version>.jsonl``."""
    return upgrade_log_dir() / (serial or "unknown") / f"{time.strftime('%Y%m%d-%H%M%S')}-{component}-{version}.jsonl"


def firmware_batch_dir(component: str, version: str) -> Path:
    """One ``pvdesk firmware upgrade`` run's folder of per-unit logs."""
    return upgrade_log_dir() / f"{time.strftime('%Y%m%d-%H%M%S')}-{component}-{version}"


def settings_file() -> Path | None:
    """The window's settings as an INI file under PVDESK_DATA_DIR, or None (Qt's own place: registry, plist)."""
    portable = _env("PVDESK_DATA_DIR")
    return portable / "settings.ini" if portable else None


def exports_dir() -> Path:
    """Where save dialogs start (bundles, reports, CSV): ``<data>/exports`` with PVDESK_DATA_DIR, else home.

    The user chooses the final place; nothing is written here unasked.
    """
    portable = _env("PVDESK_DATA_DIR")
    return portable / "exports" if portable else Path.home()


def display_path(path: str | os.PathLike) -> str:
    """How the window shows a path: one under the data folder starts with ``PVDESK_DISPLAY_DATA_DIR`` when
    that is set (e.g. ``~/PVDesk/recordings``); any other path, or without it, as it is."""
    shown = os.environ.get("PVDESK_DISPLAY_DATA_DIR")
    text = os.fspath(path)
    if not shown:
        return text
    try:
        rel = Path(text).resolve().relative_to(data_dir().resolve())
    except (ValueError, OSError):
        return text
    return shown if rel == Path(".") else os.path.join(shown, str(rel))


def ensure(path: Path) -> Path:
    """Create ``path`` (private to the user) and return it."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


@dataclass(frozen=True)
class AppPaths:
    """The folders of one run of the app, fixed when the composition root builds it (desktop/app.py)."""

    data: Path
    records: Path
    commissioning: Path
    recordings: Path
    firmware_logs: Path
    logs: Path
    cache: Path
    exports: Path
    settings_file: Path | None = None   # with PVDESK_DATA_DIR: the window's settings (INI) live here too

    @classmethod
    def from_environment(cls) -> AppPaths:
        """The folders the environment names now (see the module docstring)."""
        return cls(data=data_dir(), records=records_dir(), commissioning=commissioning_dir(),
                   recordings=recordings_dir(), firmware_logs=upgrade_log_dir(), logs=log_dir(),
                   cache=cache_dir(), exports=exports_dir(), settings_file=settings_file())
