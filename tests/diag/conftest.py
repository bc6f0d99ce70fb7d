"""Fixtures for the diagnostics tests: a real recorded demo session and its bundle.

``live`` records a session through the real DeviceService (its own I/O
thread), the demo simulator over loopback TCP and the Recorder, with a write,
an injected fault and a pulled cable; it is made once per test run because
it takes a few seconds of real time. ``live_bundle`` is its export. Every
test gets its own recording, cache, upgrade-log and log folders.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest


@pytest.fixture(autouse=True)
def diag_dirs(tmp_path, monkeypatch):
    """Nothing in these tests writes to the user's folders."""
    dirs = {name: tmp_path / name for name in ("recordings", "cache", "upgrades", "logs")}
    monkeypatch.setenv("PVDESK_RECORDINGS_DIR", str(dirs["recordings"]))
    monkeypatch.setenv("PVDESK_CACHE_DIR", str(dirs["cache"]))
    monkeypatch.setenv("PVDESK_UPGRADE_LOG_DIR", str(dirs["upgrades"]))
    monkeypatch.setenv("PVDESK_LOG_DIR", str(dirs["logs"]))
    return dirs


@dataclass
class LiveSession:
    folder: Path
    samples: list = field(default_factory=list)    # every Sample the service emitted
    events: list = field(default_factory=list)     # (event, payload) as emitted
    write_t: float = 0.0
    fault_t: float = 0.0
    drop_t: float = 0.0
    end_t: float = 0.0


def _wait(pred, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not pred():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def live(tmp_path_factory) -> LiveSession:
    from desktop.device.connect import Target
    from desktop.device.events import AlarmsChanged, SampleReady, StateChanged
    from desktop.device.service import DeviceService
    from desktop.diag.recorder import Recorder, RecorderSettings

    folder = tmp_path_factory.mktemp("live-recording")
    session = LiveSession(folder)
    service = DeviceService(fast_period_s=0.2, slow_period_s=1.0)
    recorder = Recorder(service, folder, RecorderSettings(bus_trace=True))

    def listen(event):
        session.events.append(event)
        if isinstance(event, SampleReady):
            session.samples.append(event.sample)
    service.add_listener(listen)
    try:
        service.connect(Target(demo=True)).result(timeout=20)
        _wait(lambda: len(session.samples) >= 6, 10)
        session.write_t = time.time()
        service.call_device(lambda d: d.write_point("export_limit_w", 3500)).result(timeout=5)
        session.fault_t = time.time()
        service.simulator.inject_fault(101)
        _wait(lambda: any(isinstance(e, AlarmsChanged) and e.alarms for e in session.events), 5)
        time.sleep(0.6)
        service.simulator.clear_faults()
        time.sleep(0.6)
        session.drop_t = time.time()
        service.simulator.drop_link(1.5)
        _wait(lambda: any(isinstance(e, StateChanged) and e.state == "reconnecting" for e in session.events), 10)
        _wait(lambda: session.samples[-1].timestamp_s > session.drop_t + 1.5, 15)
        time.sleep(0.8)
        session.end_t = time.time()
        service.disconnect().result(timeout=5)
        assert recorder.flush(5)
    finally:
        recorder.stop()
        service.shutdown()
    return session


@pytest.fixture(scope="session")
def live_bundle(live, tmp_path_factory) -> Path:
    from desktop.diag.bundle import export_bundle
    out = tmp_path_factory.mktemp("live-bundle") / "live.zip"
    export_bundle(out, recording_dir=live.folder, app_logs=live.folder / "no-logs",
                  upgrade_logs=live.folder / "no-upgrades")
    return out


@pytest.fixture(scope="session")
def synth(tmp_path_factory):
    """Six hours of a simulated day (a sample every 10 s) with an alarm, a link loss, a write, a change made
    outside PVDesk and an implausible reading; recorded through the session log and exported."""
    from diag_helpers import synthesize

    from protocols.sim.simulator import demo_start_time

    from desktop.diag.bundle import export_bundle
    base = tmp_path_factory.mktemp("synth")
    s = synthesize(base / "rec", demo_start_time(8.0) - 86400, hours=6, step_s=10)
    s.bundle = base / "day.zip"
    export_bundle(s.bundle, recording_dir=s.folder, app_logs=base / "none", upgrade_logs=base / "none")
    return s
