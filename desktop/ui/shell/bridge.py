"""The one bridge between the device service (I/O thread) and the Qt GUI thread, and the interface pages use.

Lives on the GUI thread. ``DeviceLink`` is what every device page is given
and all it may use: eight signals, a GUI-thread view of the link (the
profile, the last sample, whether a device is connected, the poll periods),
``submit`` / ``call_device`` for work on the device, and ``connect_to`` /
``disconnect_device``. ``Bridge`` is the live implementation: the service
calls ``_on_event`` ON THE I/O THREAD with a typed event
(desktop/device/events.py) and the bridge re-emits it as a Qt signal, which
Qt queues to the GUI thread; ``submit`` runs a coroutine on the I/O loop and
calls back on the GUI thread, so no widget ever waits on the device. The
review window's ``ReviewBridge`` is the other implementation.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from protocols.errors import PVDeskError
from protocols.profiles.model import Profile
from protocols.sample import Sample

from desktop.device.events import (
    AlarmsChanged,
    ErrorRaised,
    Event,
    FirmwareRead,
    IdentityRead,
    LinkOpened,
    SampleReady,
    StateChanged,
    StatsUpdated,
)
from desktop.device.service import DeviceService


class DeviceLink(QObject):
    """The pages' view of the connected device, on the GUI thread (see the module docstring).

    ``linkOpened`` carries a ``LinkOpened`` (with the profile); the GUI-thread
    attributes are updated before any page's slot sees the signal.
    """

    stateChanged = Signal(str, str)
    sampleReady = Signal(object)
    alarmsChanged = Signal(list)
    identityReady = Signal(dict)
    firmwareReady = Signal(list)
    statsUpdated = Signal(dict)
    errorRaised = Signal(str)
    linkOpened = Signal(object)

    read_only = False

    def __init__(self, parent: QObject | None = None, fast_period_s: float = 1.0,
                 slow_period_s: float = 10.0) -> None:
        super().__init__(parent)
        self.fast_period_s = fast_period_s
        self.slow_period_s = slow_period_s
        self.profile: Profile | None = None
        self.link: LinkOpened | None = None
        self.last_sample: Sample | None = None
        self.state = "disconnected"
        # Connected first, so they run before any page's slot.
        self.linkOpened.connect(self._remember_link)
        self.sampleReady.connect(self._remember_sample)
        self.stateChanged.connect(self._remember_state)

    @property
    def connected(self) -> bool:
        return self.profile is not None

    def _remember_link(self, link: LinkOpened) -> None:
        self.link, self.profile = link, link.profile

    def _remember_sample(self, sample: Sample) -> None:
        self.last_sample = sample

    def _remember_state(self, state: str, _detail: str) -> None:
        self.state = state
        if state == "disconnected":
            self.profile = self.link = self.last_sample = None

    # -- what the implementations provide ---------------------------------------------
    # (NotImplementedError, not abc.abstractmethod: ABCMeta cannot be mixed into a QObject's
    # metaclass; tests/gui/test_seams.py checks that both implementations override all four)
    def submit(self, coro_factory: Callable, on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None,
               on_progress: Callable[[Any], None] | None = None, exclusive: bool = False) -> int:
        raise NotImplementedError

    def call_device(self, fn: Callable, on_done=None, on_error=None) -> int:
        raise NotImplementedError

    def connect_to(self, target) -> None:
        raise NotImplementedError

    def disconnect_device(self) -> None:
        raise NotImplementedError


class Bridge(DeviceLink):
    """The live DeviceLink: Qt signals for every service event, GUI-thread callbacks for submitted work."""

    _result = Signal(int, bool, object)
    _progress = Signal(int, object)

    def __init__(self, service: DeviceService, parent: QObject | None = None) -> None:
        super().__init__(parent, service.fast_period_s, service.slow_period_s)
        self._service = service
        self._ids = itertools.count(1)
        self._callbacks: dict[int, tuple[Callable | None, Callable | None, Callable | None]] = {}
        self._result.connect(self._deliver)
        self._progress.connect(self._deliver_progress)
        service.add_listener(self._on_event)

    def _on_event(self, event: Event) -> None:  # I/O thread
        match event:
            case StateChanged(state=state, detail=detail):
                self.stateChanged.emit(state, detail)
            case SampleReady(sample=sample):
                self.sampleReady.emit(sample)
            case AlarmsChanged(alarms=alarms):
                self.alarmsChanged.emit(alarms)
            case IdentityRead(values=values):
                self.identityReady.emit(values)
            case FirmwareRead(components=components):
                self.firmwareReady.emit(components)
            case StatsUpdated(stats=stats):
                self.statsUpdated.emit(stats)
            case ErrorRaised(text=text):
                self.errorRaised.emit(text)
            case LinkOpened():
                self.linkOpened.emit(event)

    def detach(self) -> None:
        self._service.remove_listener(self._on_event)

    # ------------------------------------------------------------------ link
    def connect_to(self, target) -> None:
        """Start connecting (progress arrives as stateChanged / linkOpened)."""
        self._service.connect(target)

    def disconnect_device(self) -> None:
        self._service.disconnect()

    # -------------------------------------------------------------- submit
    def submit(self, coro_factory: Callable, on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None,
               on_progress: Callable[[Any], None] | None = None, exclusive: bool = False) -> int:
        """Run a coroutine on the I/O loop; callbacks run later on the GUI thread.

        ``coro_factory`` is called with no argument, or with a progress
        function when ``on_progress`` is given; returns a task id. With
        ``exclusive`` the live polling pauses while it runs
        (``DeviceService.polling_paused``): a firmware upgrade has the link to itself.
        """
        task_id = next(self._ids)
        self._callbacks[task_id] = (on_done, on_error, on_progress)

        def progress(info: Any) -> None:  # I/O thread
            self._progress.emit(task_id, info)

        def factory():
            return coro_factory(progress) if on_progress else coro_factory()

        async def alone():
            async with self._service.polling_paused():
                return await factory()

        self._service.submit(alone if exclusive else factory, lambda r: self._emit_result(task_id, True, r),
                             lambda e: self._emit_result(task_id, False, e))
        return task_id

    def _emit_result(self, task_id: int, ok: bool, value: object) -> None:  # I/O thread
        try:
            self._result.emit(task_id, ok, value)
        except RuntimeError:  # the bridge was deleted (window closed) while the work was running
            pass

    def call_device(self, fn: Callable, on_done=None, on_error=None) -> int:
        """Run ``fn(device)`` on the I/O loop; callbacks on the GUI thread."""
        service = self._service

        async def go():  # I/O thread: the only place the live Device is touched
            if service.device is None:
                raise PVDeskError("not connected", hint="connect to a device first")
            return await fn(service.device)
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
