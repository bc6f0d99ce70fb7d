"""The one error root and the one way to turn any exception into a line for the user. Any thread.

Every error PVDesk reports derives from ``PVDeskError`` (defined in
protocols/errors.py, so the protocol layer shares it): the records errors
(``RecordsError`` and ``PreconditionFailed``), the diagnostics ``ExportError``,
the commissioning and bundle errors. ``describe_error`` is what the CLI
prints, what the window shows and what the log's one-line entries say.
"""

from __future__ import annotations

from protocols.errors import PVDeskError

__all__ = ["PVDeskError", "describe_error"]

#: Device files a serial adapter shows up as (a PermissionError there is the dialout group's).
_SERIAL_PREFIXES = ("/dev/tty", "/dev/cu.", "/dev/serial", "COM")


def describe_error(exc: BaseException, *, debug_hint: bool = False) -> str:
    """One line for any error: PVDesk's own carry a hint of what to check.

    ``debug_hint`` adds "(run with --debug for details)" to errors PVDesk did
    not foresee (the CLI's wording; the window points to its log instead).
    """
    if isinstance(exc, PVDeskError):
        return exc.one_line()
    if isinstance(exc, FileNotFoundError):
        return f"file not found: {exc.filename}" if exc.filename else f"file not found: {exc}"
    if isinstance(exc, PermissionError):
        name = str(exc.filename or "")
        if name.startswith(_SERIAL_PREFIXES):
            return f"permission denied: {name} (on Linux, add yourself to the 'dialout' group for serial ports)"
        return f"permission denied: {name or exc} (choose a folder you may write to)"
    if isinstance(exc, IsADirectoryError | NotADirectoryError) and exc.filename:
        return f"{exc.strerror}: {exc.filename}"
    if isinstance(exc, ValueError):
        return str(exc)
    text = f"{type(exc).__name__}: {exc}"
    return f"{text} (run with --debug for details)" if debug_hint else text
