"""ReviewBridge: the DeviceLink of a recording, for the live pages shown in review (read-only).

GUI thread; its coroutines run on a one-thread Worker (desktop/ui/shell/worker.py),
never on the GUI thread, and their callbacks come back on the GUI thread, as
with the live Bridge. The device is a ``desktop.diag.review.ReviewDevice``
answering from the bundle and refusing every write.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QObject

from protocols.errors import PVDeskError

from desktop.device.events import LinkOpened
from desktop.diag.review import ReviewData, ReviewDevice
from desktop.ui.shell.bridge import DeviceLink
from desktop.ui.shell.worker import Worker


class ReviewBridge(DeviceLink):
    """The DeviceLink of a recording: the same signals and ``submit``/``call_device`` as the live Bridge.

    The device is a ReviewDevice answering from the bundle and refusing every
    write; coroutines run on a one-thread Worker (never on the GUI thread),
    callbacks come back on the GUI thread as with the live bridge.
    """

    read_only = True

    def __init__(self, data: ReviewData, parent: QObject | None = None) -> None:
        super().__init__(parent, math.inf, math.inf)  # a recording never goes stale
        self.device = ReviewDevice(data)
        self.worker = Worker(self, max_threads=1)
        info = data.link_info
        self.recorded_link = LinkOpened(info["label"], data.profile, int(info.get("unit") or 1),
                                        dict(info.get("spec") or {}), recorded_title=info.get("title", ""))
        self.state = "review"

    def submit(self, coro_factory, on_done=None, on_error=None, on_progress=None, exclusive=False) -> int:
        """Run the coroutine on the review's worker thread (no I/O behind it); callbacks on the GUI thread."""
        return self.worker.run_coroutine(lambda: coro_factory(lambda _i: None) if on_progress else coro_factory(),
                                         on_done, on_error)

    def call_device(self, fn, on_done=None, on_error=None) -> int:
        device = self.device
        return self.submit(lambda: fn(device), on_done, on_error)

    def connect_to(self, target) -> None:
        raise PVDeskError("a recording is read-only", hint="close the review and connect from the main window")

    def disconnect_device(self) -> None:
        pass

    def detach(self) -> None:
        self.worker.shutdown(wait=False)
