"""Retention: which records are past the configured period, for review and purge.

A record's clock starts at the last service visit (Customer.last_visit_at:
a commissioning report or firmware log attached, or a visit recorded), else
at the record's creation -- a correction or a consent does not restart it. The period is a
store setting (days, default 10 years -- the usual warranty span of an
inverter installation), kept in the meta table because it is not personal.
`expired` lists candidates; the service shows them for review and purges
those confirmed (or all, from `pvdesk records purge-expired`), through the
same irrecoverable deletion as the right to erasure. Restricted records are
not purged while restricted. Pure functions, any thread.
"""
from __future__ import annotations

import time

DEFAULT_RETENTION_DAYS = 3653
DAY_S = 86400.0


def parse_days(value: str | int | None) -> int:
    days = DEFAULT_RETENTION_DAYS if value in (None, "") else int(value)
    if days < 1:
        raise ValueError("the retention period must be at least one day")
    return days


def expires_at(updated_at: float, days: int) -> float:
    return updated_at + days * DAY_S


def expired(records, days: int, now: float | None = None) -> list[str]:
    """Ids of records whose retention period ended before `now`, oldest first.

    Restricted records are left out: a customer restricts processing typically to keep the
    data for a claim, so they stay until the restriction is lifted."""
    now = time.time() if now is None else now
    hits = [(r.retention_start(), r.id) for r in records
            if not r.restricted and expires_at(r.retention_start(), days) <= now]
    return [rid for _, rid in sorted(hits)]
