"""Fault injection for the crash tests: end the process at the k-th durable step of an operation.

Every place where the records store makes something durable (a keyring or
key-file write, a SQLite commit, the completion of a key destruction) calls
`step(label)` before and after it. Unarmed (the normal case) this costs one
comparison. A crash test arms it in a child process -- `arm(k)`, or the
environment variable PVDESK_RECORDS_CRASH_AT_STEP=k -- and the process then
exits with CRASH_EXIT_CODE at the k-th step, as abruptly as a power cut can
leave it (os._exit: no cleanup, no flush, no atexit). Any thread.
"""
from __future__ import annotations

import os

CRASH_EXIT_CODE = 86
_armed_at = int(os.environ.get("PVDESK_RECORDS_CRASH_AT_STEP", "0") or 0)
_count = 0
_trace: list[str] | None = None


def arm(k: int, trace: list[str] | None = None) -> None:
    """Exit at the k-th step from now (0 disarms). `trace` collects the labels passed."""
    global _armed_at, _count, _trace
    _armed_at, _count, _trace = k, 0, trace


def step(label: str) -> None:
    global _count
    if not _armed_at and _trace is None:
        return
    _count += 1
    if _trace is not None:
        _trace.append(label)
    if _armed_at and _count >= _armed_at:
        os._exit(CRASH_EXIT_CODE)
