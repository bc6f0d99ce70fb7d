"""The app's own log: a rotating file in the platform's log folder, never personal data.

Runs at start-up on the main thread; logging itself is thread-safe. Only
device identity (model, unit id), link events and errors are logged; customer
records are referred to by id only (desktop/records keeps that rule).
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from desktop.core.paths import log_dir

__all__ = ["log_dir", "setup_logging"]


def setup_logging(debug: bool = False) -> Path | None:
    """Log to a rotating file (2 MB x 3); returns its path, or None if it cannot be written."""
    root = logging.getLogger()
    if getattr(setup_logging, "_done", False):
        return getattr(setup_logging, "_path", None)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    path = None
    try:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "pvdesk.log"
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    except OSError:
        path = None
    if debug:
        console = logging.StreamHandler()
        console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(console)
    setup_logging._done = True  # type: ignore[attr-defined]
    setup_logging._path = path  # type: ignore[attr-defined]
    return path
