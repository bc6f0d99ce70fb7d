"""The seams of the window: what the composition root builds, the typed link event, exclusive use, the worker."""
from __future__ import annotations

import asyncio
import threading
import time

import pytest
from gui_helpers import connect_tcp

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


def test_the_composition_root_builds_every_page_with_its_services(qtbot, settings):
    from desktop.app import RecordsAccess, compose
    from desktop.ui.commissioning.parameters_page import ParametersPage
    from desktop.ui.diagnostics.page import DiagnosticsPage

    app = compose(settings, watch_ports=False)
    try:
        qtbot.addWidget(app.window)
        assert list(app.window.pages) == ["Dashboard", "Device", "Faults", "Registers", "Firmware", "Customers",
                                          "Parameters", "Diagnostics", "Site"]
        parameters, diagnostics = app.window.page("Parameters"), app.window.page("Diagnostics")
        assert isinstance(parameters, ParametersPage) and isinstance(diagnostics, DiagnosticsPage)
        assert parameters.ctx is app.commission and diagnostics.recorder is app.recorder
        assert diagnostics.worker is app.worker and diagnostics.exports_dir == app.paths.exports
        # both pages ask the one RecordsAccess; neither reaches into the Customers page for it
        assert isinstance(app.records, RecordsAccess)
        assert parameters.records == app.records.get and diagnostics._records == app.records.get
        assert app.recorder.folder == app.paths.recordings and app.paths.recordings.is_relative_to(app.paths.data)
        # the root builds the site service; the Site page and the diagnostics bundle use that one
        assert app.site is not None and app.window.page("Site").site is app.site and diagnostics.site is app.site
        assert app.site.fast_period_s == app.service.fast_period_s
    finally:
        app.window.close()
        app.close()


def test_the_page_shown_last_is_shown_again_even_one_the_root_added(qtbot, settings):
    from desktop.app import compose
    settings.setValue("window/page", 4)   # Firmware: built by the composition root, not the window
    app = compose(settings, watch_ports=False, record=False)
    try:
        qtbot.addWidget(app.window)
        assert app.window.tabs.tabText(app.window.tabs.currentIndex()) == "Firmware"
    finally:
        app.window.close()
        app.close()


def test_link_opened_carries_the_profile_and_the_pages_see_it(qtbot, make_window, sim):
    from desktop.device.events import LinkOpened
    window, bridge, service = make_window()
    seen = []
    bridge.linkOpened.connect(lambda link: seen.append((link, bridge.profile)))
    connect_tcp(qtbot, window, sim)
    link, profile_when_delivered = seen[-1]
    assert isinstance(link, LinkOpened) and link.profile.name == "pvdesk-hybrid"
    assert profile_when_delivered is link.profile      # the GUI-side view is set before any page's slot runs
    assert window.dashboard.points.name("pv_power_w") == "pv_power_w"
    assert window.windowTitle() == f"PVDesk — {link.title} · {link.label}"
    assert bridge.connected and bridge.last_sample is not None
    window.disconnect_device()
    qtbot.waitUntil(lambda: bridge.state == "disconnected", timeout=5000)
    assert bridge.profile is None and not bridge.connected


def test_exclusive_work_pauses_the_polling_and_it_resumes_after(qtbot, make_window, sim):
    window, bridge, service = make_window()
    connect_tcp(qtbot, window, sim)
    samples = []
    bridge.sampleReady.connect(lambda s: samples.append(time.monotonic()))
    qtbot.waitUntil(lambda: len(samples) >= 2, timeout=5000)
    inside = {}

    async def alone():  # I/O thread
        inside["pollers"] = sum(1 for t in asyncio.all_tasks() if "Poller.run" in repr(t.get_coro()) and not t.done())
        inside["start"] = time.monotonic()
        await asyncio.sleep(1.0)   # five poll periods with nothing polled
        inside["end"] = time.monotonic()
        return "done"
    results = []
    bridge.submit(alone, results.append, exclusive=True)
    qtbot.waitUntil(lambda: results == ["done"], timeout=5000)
    assert inside["pollers"] == 0
    during = [t for t in samples if inside["start"] + 0.25 < t < inside["end"]]
    assert during == []
    count = len(samples)
    qtbot.waitUntil(lambda: len(samples) >= count + 2, timeout=5000)   # polling again by itself


def test_the_worker_runs_coroutines_off_the_gui_thread_and_reports_back_on_it(qtbot):
    from PySide6.QtCore import QObject

    from desktop.ui.shell.worker import Worker

    worker = Worker(max_threads=1)
    threads, results, errors = [], [], []

    async def read():
        threads.append(threading.current_thread())
        return 42

    async def fail():
        raise ValueError("refused")
    worker.run_coroutine(read, results.append)
    worker.run_coroutine(fail, results.append, errors.append)
    qtbot.waitUntil(lambda: results == [42] and len(errors) == 1, timeout=5000)
    assert threads[0] is not threading.main_thread() and str(errors[0]) == "refused"
    assert isinstance(worker, QObject) and worker.pending() == 0
    worker.shutdown()


@pytest.mark.parametrize("module, name", [("desktop.ui.shell.bridge", "Bridge"),
                                          ("desktop.ui.diagnostics.review_bridge", "ReviewBridge")])
def test_every_device_link_provides_the_whole_interface(module, name):
    """DeviceLink cannot be an ABC (ABCMeta does not mix with a QObject's metaclass), so this test is
    what stops a new implementation from inheriting a method that only raises NotImplementedError."""
    import importlib

    from desktop.ui.shell.bridge import DeviceLink

    cls = getattr(importlib.import_module(module), name)
    assert issubclass(cls, DeviceLink)
    for method in ("submit", "call_device", "connect_to", "disconnect_device"):
        assert getattr(cls, method) is not getattr(DeviceLink, method), f"{name} does not provide {method}"
