"""Name the model the doctor found, through the same link and session a user's connection takes.

Runs on the doctor's asyncio loop. Opening a real Session with the finding's
settings and running auto-detection (reads only) proves that the settings
connect; the profile's title goes into the finding's note.
"""

from __future__ import annotations

import asyncio
import time

from ..errors import PVDeskError
from .plan import DoctorOptions
from .report import Attempt, Finding, Report


async def identify(report: Report, finding: Finding, o: DoctorOptions, left_s: float = 20.0) -> None:
    """Name the model behind ``finding`` within ``left_s`` seconds (what is left of the budget)."""
    from ..detect import detect
    from ..links.factory import make_link
    from ..session import Session
    t0 = time.monotonic()
    spec = finding.spec
    spec.timeout_s = max(1.0, o.timeout_s)
    session = None
    try:
        session = Session(make_link(spec), timeout_s=spec.timeout_s, retries=1, reconnect=False)
        deadline = time.monotonic() + max(0.5, left_s)
        await asyncio.wait_for(session.open(), max(0.5, min(5.0, deadline - time.monotonic())))
        profile = await asyncio.wait_for(detect(session, finding.unit), max(0.5, deadline - time.monotonic()))
        finding.note = "; ".join(x for x in (finding.note, f"{profile.title} (profile {profile.name})") if x)
        report.add(Attempt("identify", finding.label(), "answer", profile.name, time.monotonic() - t0))
    except (TimeoutError, PVDeskError, ValueError, OSError) as exc:
        text = exc.one_line() if isinstance(exc, PVDeskError) else (
            "not identified within the budget" if isinstance(exc, asyncio.TimeoutError) else str(exc) or type(exc).__name__)
        report.add(Attempt("identify", finding.label(), "unknown", text, time.monotonic() - t0))
    finally:
        if session is not None:
            try:
                await session.close()
            except Exception:  # closing must not hide the result
                pass
