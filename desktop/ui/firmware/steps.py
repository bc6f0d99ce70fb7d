"""What the Firmware page shows and needs: the upgrade's steps and their texts, the runner it is given.

Any thread (constants and small pure functions); the page (page.py) runs on
the GUI thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtGui import QColor

from desktop.core import paths

PASS_COLOUR, FAIL_COLOUR = QColor("#2E9E5B"), QColor("#E0484E")
STEPS = (("checks", "Checks"), ("backup", "Backup"), ("upload", "Upload"), ("verify", "Verify"),
         ("activate", "Activate"), ("reboot", "Restart"), ("health", "Health check"), ("confirm", "Confirm"),
         ("restore", "Settings"))
PHASE_TEXT = {"checks": "Checking the package and the device", "backup": "Backing up the settings",
              "upload": "Uploading the image", "verify": "The device verifies the image",
              "activate": "Activating the new image", "reboot": "Waiting for the device to restart",
              "health": "Health check of the new image", "confirm": "Confirming the new image",
              "revert": "Reverting to the previous image", "restore": "Comparing and restoring settings",
              "read-back": "Reading the version back", "end": "Finished"}
OUTCOME_TEXT = {"upgraded": "Upgraded", "reverted": "Reverted to the previous image", "cancelled": "Cancelled",
                "refused": "Refused: nothing was written", "failed": "Failed"}


class Runner(Protocol):
    """What the page needs from the app's bridge (desktop.ui.shell.bridge.Bridge provides it)."""

    def submit(self, coro_factory: Callable, on_done: Callable[[object], None],
               on_error: Callable[[Exception], None],
               on_progress: Callable[[dict], None] | None = None, exclusive: bool = False) -> Any: ...

    def call_device(self, fn: Callable, on_done=None, on_error=None) -> Any: ...


def default_log_path(serial: str | None, component: str, version: str) -> Path:
    return paths.firmware_log_file(serial, component, version)


def fmt_bytes(n: float) -> str:
    return f"{n / 1024:.1f} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.2f} MiB"


def log_line(entry: dict) -> str:
    """One upgrade log entry (JSON lines) as the page's log view shows it."""
    stamp = time.strftime("%H:%M:%S", time.localtime(entry["t"]))
    extra = {k: v for k, v in entry.items() if k not in ("t", "unit", "phase", "event", "message")}
    detail = entry.get("message") or ""
    if entry["event"] == "start":
        detail = (f"{entry.get('component')} {entry.get('version')}, {entry.get('image_size')} bytes, "
                  f"package {Path(str(entry.get('package'))).name}")
    elif entry["event"] in ("checks", "prechecks"):
        detail = ", ".join(f"{r['check']} {'ok' if r['ok'] else 'FAILED'}" for r in extra.pop("results", []))
    elif extra and entry["event"] not in ("backup", "settings"):
        detail = (detail + " " + " ".join(f"{k}={v}" for k, v in extra.items())).strip()
    elif entry["event"] == "settings":
        detail = ("restored " + ", ".join(extra.get("restored") or {}) if extra.get("restored")
                  else "no setting changed")
    elif entry["event"] == "backup":
        detail = f"{len(extra.get('settings', {}))} settings saved"
    return f"{stamp}  {entry['phase']:<9} {entry['event']:<14} {detail}"
