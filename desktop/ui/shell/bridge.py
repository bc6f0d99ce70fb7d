"""The one bridge between the device service (I/O thread) and the Qt GUI thread.

Lives on the GUI thread. The service calls ``_on_event`` on the I/O thread;
the bridge re-emits each event as a Qt signal, which Qt queues to the GUI
thread. ``submit`` runs a coroutine on the I/O loop and calls back on the
GUI thread, so no widget ever waits on the device.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal, Slot

from desktop.device.service import DeviceService


class Bridge(QObject):
    """Qt signals for every service event, and GUI-thread callbacks for submitted work."""

    stateChanged = Signal(str, str)
    sampleReady = Signal(object)
    alarmsChanged = Signal(list)
    identityReady = Signal(dict)
    firmwareReady = Signal(list)
    statsUpdated = Signal(dict)
    errorRaised = Signal(str)
    linkOpened = Signal(dict)
    _result = Signal(int, bool, object)
    _progress = Signal(int, object)

    def __init__(self, service: DeviceService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self._ids = itertools.count(1)
        self._callbacks: dict[int, tuple[Callable | None, Callable | None, Callable | None]] = {}
        self._result.connect(self._deliver)
        self._progress.connect(self._deliver_progress)
        service.add_listener(self._on_event)

    def _on_event(self, event: str, payload: Any) -> None:  # I/O thread
        if event == "state":
            self.stateChanged.emit(payload["state"], payload["detail"])
        elif event == "sample":
            self.sampleReady.emit(payload)
        elif event == "alarms":
            self.alarmsChanged.emit(payload)
        elif event == "identity":
            self.identityReady.emit(payload)
        elif event == "firmware":
            self.firmwareReady.emit(payload)
        elif event == "stats":
            self.statsUpdated.emit(payload)
        elif event == "error":
            self.errorRaised.emit(str(payload))
        elif event == "link":
            self.linkOpened.emit(payload)

    def detach(self) -> None:
        self.service.remove_listener(self._on_event)

    # -------------------------------------------------------------- submit
    def submit(self, coro_factory: Callable, on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None,
               on_progress: Callable[[Any], None] | None = None) -> int:
        """Run a coroutine on the I/O loop; callbacks run later on the GUI thread.

        ``coro_factory`` is called with no argument, or with a progress
        function when ``on_progress`` is given; returns a task id.
        """
        task_id = next(self._ids)
        self._callbacks[task_id] = (on_done, on_error, on_progress)

        def progress(info: Any) -> None:  # I/O thread
            self._progress.emit(task_id, info)

        def factory():
            return coro_factory(progress) if on_progress else coro_factory()

        self.service.submit(factory, lambda r: self._emit_result(task_id, True, r),
                            lambda e: self._emit_result(task_id, False, e))
        return task_id

    def _emit_result(self, task_id: int, ok: bool, value: object) -> None:  # I/O thread
        try:
            self._result.emit(task_id, ok, value)
        except RuntimeError:  # the bridge was deleted (window closed) while the work was running
            pass

    def call_device(self, fn: Callable, on_done=None, on_error=None) -> int:
        """Run ``fn(device)`` on the I/O loop; callbacks on the GUI thread."""
        async def go():
            from protocols.errors import PVDeskError  # noqa: PLC0415
            if self.service.device is None:
                raise PVDeskError("not connected", hint="connect to a device first")
            return await fn(self.service.device)
        return self.submit(go, on_done, on_error)

    @Slot(int, bool, object)
    def _deliver(self, task_id: int, ok: bool, value: object) -> None:
        on_done, on_error, _ = self._callbacks.pop(task_id, (None, None, None))
        if ok and on_done:
            on_done(value)
        elif not ok and on_error:
            on_error(value)

    @Slot(int, object)
    def _deliver_progress(self, task_id: int, info: object) -> None:
        cb = self._callbacks.get(task_id, (None, None, None))[2]
        if cb:
            cb(info)
