"""The one way the GUI runs work off its thread: ``Worker.run(fn, on_done, on_error)``.

Lives on the GUI thread; ``fn`` runs on a small pool of worker threads
("pvdesk-worker-N") and its result or exception comes back as a queued Qt
signal, so ``on_done`` / ``on_error`` run on the GUI thread and never while
``fn`` still runs. Device I/O does not come here: it goes through the bridge
to the device service's one I/O loop. This is for everything else that may
block: records sync, writing a bundle, opening a bundle, listing serial
ports, replaying a recorded device. ``run_coroutine`` runs a coroutine to
completion on the worker thread (its own short-lived loop), never on the GUI
thread.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


class Worker(QObject):
    """Runs callables on worker threads; callbacks come back on the GUI thread."""

    _finished = Signal(int, bool, object)

    def __init__(self, parent: QObject | None = None, max_threads: int = 4) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix="pvdesk-worker")
        self._ids = itertools.count(1)
        self._callbacks: dict[int, tuple[Done | None, Failed | None]] = {}
        self._closed = False
        self._finished.connect(self._deliver)

    def run(self, fn: Callable[[], Any], on_done: Done | None = None, on_error: Failed | None = None) -> int:
        """Call ``fn()`` on a worker thread; returns a job id. Without ``on_error`` a failure is logged.

        After ``shutdown`` (the app is closing) nothing new is started and no callback runs.
        """
        job = next(self._ids)
        if self._closed:
            return job
        self._callbacks[job] = (on_done, on_error)

        def go() -> None:  # worker thread
            try:
                result, ok = fn(), True
            except BaseException as exc:  # handed to the GUI thread
                result, ok = exc, False
            try:
                self._finished.emit(job, ok, result)
            except RuntimeError:  # the worker was deleted (window closed) while fn ran
                pass
        self._pool.submit(go)
        return job

    def run_coroutine(self, coro_factory: Callable[[], Awaitable], on_done: Done | None = None,
                      on_error: Failed | None = None) -> int:
        """Run ``coro_factory()`` to completion on a worker thread (not the device I/O loop)."""
        return self.run(lambda: asyncio.run(_as_coroutine(coro_factory)), on_done, on_error)

    def pending(self) -> int:
        """Jobs whose callbacks have not run yet."""
        return len(self._callbacks)

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking work; with ``wait``, until what runs has finished (else queued jobs are dropped)."""
        self._closed = True
        self._pool.shutdown(wait=wait, cancel_futures=not wait)

    @Slot(int, bool, object)
    def _deliver(self, job: int, ok: bool, value: object) -> None:
        on_done, on_error = self._callbacks.pop(job, (None, None))
        if ok:
            if on_done is not None:
                on_done(value)
        elif on_error is not None:
            on_error(value)  # type: ignore[arg-type]
        else:
            log.error("background job failed", exc_info=value)  # type: ignore[arg-type]


async def _as_coroutine(coro_factory: Callable[[], Awaitable]) -> Any:
    return await coro_factory()


_shared: Worker | None = None


def shared_worker() -> Worker:
    """The app's one Worker (the composition root hands it to pages; made here for pages built alone)."""
    global _shared
    if _shared is None:
        _shared = Worker()
    return _shared
