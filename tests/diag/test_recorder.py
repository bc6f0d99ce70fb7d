"""The recorder: every sample and event of a real demo session on disk, the bus trace, pruning, limits."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from protocols import codecs
from protocols.profiles import loader

from desktop.diag.capture import image_from_json
from desktop.diag.recorder import Recorder, RecorderSettings
from desktop.diag.sessionlog import SessionLog, encode_sample
from desktop.diag.trace import describe_frame, pdu_of


def _rows(folder):
    log = SessionLog(folder, readonly=True)
    (info,) = log.sessions()
    rows = {}
    for t, vals, present, _extras in log.sample_chunks(info.id, len(info.columns)):
        for i in range(len(t)):
            rows[float(t[i])] = (vals[i], present[i])
    extras_all = [x for _t, _v, _p, xs in log.sample_chunks(info.id, len(info.columns)) for x in xs]
    return log, info, rows, extras_all


def test_every_sample_is_recorded_with_its_values(live):
    log, info, rows, extras = _rows(live.folder)
    assert info.profile_name == "pvdesk-hybrid" and info.serial == "PVD8K001A0042"
    assert info.ended_s is not None and info.ended_s >= live.samples[-1].timestamp_s
    assert len(rows) == len(live.samples) >= 15
    col = {n: i for i, n in enumerate(info.columns)}
    checked = 0
    for sample in live.samples:
        vals, present = rows[sample.timestamp_s]
        for name, value in sample.values.items():
            if name not in col:
                continue
            i = col[name]
            assert present[i], name
            if value is codecs.NOT_IMPLEMENTED:
                assert np.isnan(vals[i]), name
            else:
                assert vals[i] == float(value), (name, vals[i], value)
                checked += 1
        for name in set(info.columns) - set(sample.values):  # slow points not read in this cycle
            assert not present[col[name]]
    assert checked > 25 * len(live.samples)
    texts = {k: v for _t, x in extras for k, v in x.get("s", {}).items()}
    assert texts["model_name"] == "PVD-H8K" and texts["serial_number"] == "PVD8K001A0042"
    log.close()


def test_alarms_writes_link_events_and_captures_are_recorded(live):
    log = SessionLog(live.folder, readonly=True)
    events = log.events()
    kinds = [e["kind"] for e in events]
    for kind in ("link", "identity", "firmware", "register_image", "fault_history", "settings", "write", "alarms",
                 "error", "stats"):
        assert kind in kinds, kind
    (write,) = [e["payload"] for e in events if e["kind"] == "write"]
    assert write == {"name": "export_limit_w", "value": 3500, "old": 10000, "ok": True, "read_back": 3500}
    alarms = [e for e in events if e["kind"] == "alarms"]
    assert [a["code"] for a in alarms[0]["payload"]["raised"]] == [101]
    assert alarms[0]["t"] >= live.fault_t - 0.01
    assert alarms[1]["payload"]["active"] == [] and alarms[1]["payload"]["cleared"][0]["code"] == 101
    states = [e["payload"]["state"] for e in events if e["kind"] == "state"]
    i = states.index("reconnecting")
    assert "connected" in states[i:] and states[-1] == "disconnected"
    firmware = next(e["payload"] for e in events if e["kind"] == "firmware")
    assert {c["component"]: c["version"] for c in firmware}["control"] == "1.04.02"
    log.close()


def test_register_image_is_captured_again_after_a_write(live):
    log = SessionLog(live.folder, readonly=True)
    images = [image_from_json(e["payload"]) for e in log.events(kinds=["register_image"])]
    log.close()
    assert len(images) >= 2
    p = loader.load("pvdesk-hybrid").point("export_limit_w")
    before = codecs.decode_raw([images[0]["holding"][p.address + i] for i in range(p.width)], p.type)
    after = codecs.decode_raw([images[-1]["holding"][p.address + i] for i in range(p.width)], p.type)
    assert (before * p.scale, after * p.scale) == (10000, 3500)
    assert images[-1]["complete"] and images[-1]["reads"] >= 5
    assert len(images[-1]["holding"]) > 60 and len(images[-1]["input"]) > 60


def test_bus_trace_holds_every_request_and_answer(live):
    log = SessionLog(live.folder, readonly=True)
    frames = [f for chunk in log.frame_chunks([1]) for f in chunk]
    log.close()
    assert len(frames) > 4 * len(live.samples)
    tx = [f for f in frames if f[2] == "tx"]
    rx = [f for f in frames if f[2] == "rx"]
    assert abs(len(tx) - len(rx)) <= 12  # the pulled cable leaves some requests unanswered
    unit, pdu = pdu_of(tx[0][3])
    assert unit == 1 and pdu[0] in (3, 4)
    assert "read holding" in describe_frame(tx[0][1], "tx", tx[0][3]) or "read input" in describe_frame(
        tx[0][1], "tx", tx[0][3])
    writes = [f for f in tx if pdu_of(f[3])[1][:1] == b"\x10"]
    assert writes and abs(writes[0][1] - live.write_t) < 2


def test_prune_keeps_the_newest_within_size_and_age(tmp_path):
    log = SessionLog(tmp_path)
    columns = {f"p{i}": i for i in range(200)}
    sid = log.begin_session(0.0, {}, {}, list(columns), 1, "test")
    rng = np.random.default_rng(1)
    for chunk in range(10):
        rows = [(chunk * 1000.0 + i, *encode_sample(columns, {f"p{j}": float(v) for j, v in enumerate(rng.random(200))}))
                for i in range(1000)]
        log.add_samples(sid, rows)
        log.add_events([(sid, chunk * 1000.0, "state", json.dumps({"state": "connected"}))])
        log.commit()
    assert log.used_bytes() > 12_000_000
    log.prune(now_s=10_000.0, max_bytes=4_000_000)
    assert log.used_bytes() <= 4_000_000
    assert log.path.stat().st_size < 6_000_000  # freed pages go back to the file system
    t_min, t_max = log.time_span(sid)
    assert t_max == 9999.0 and t_min > 6000.0
    log.prune(now_s=10_000.0, max_age_s=500.0)
    assert log.time_span(sid)[0] >= 9500.0
    assert all(e["t"] >= 9500.0 for e in log.events())
    log.close()


def test_limits_are_checked_and_kept(tmp_path):
    rec = Recorder(folder=tmp_path)
    with pytest.raises(ValueError, match="at least 1 MB"):
        rec.set_limits(max_bytes=1000)
    with pytest.raises(ValueError, match="at least a minute"):
        rec.set_limits(max_age_s=5)
    rec.set_limits(max_bytes=64 * 1024 * 1024, max_age_s=3 * 86400)
    rec.set_bus_trace(True)
    again = RecorderSettings.load(tmp_path)
    assert (again.max_bytes, again.max_age_s, again.bus_trace) == (64 * 1024 * 1024, 3 * 86400, True)


def test_recorder_writes_within_a_second(tmp_path):
    """The writer commits about once a second: a reader sees a sample soon after it arrives."""
    from protocols.sample import Sample

    from desktop.device.events import LinkOpened, SampleReady

    class FakeDevice:
        def __init__(self):
            self.profile = loader.load("pvdesk-hybrid")
            self.unit = 1
            self.session = type("S", (), {"link": type("L", (), {"frame_listeners": []})()})()

        async def write_point(self, name, value):
            return value

    class FakeService:
        device = FakeDevice()

        def add_listener(self, fn):
            self.fn = fn

        def remove_listener(self, fn):
            pass

    service = FakeService()
    rec = Recorder(service, tmp_path, RecorderSettings(capture_on_connect=False))
    service.fn(LinkOpened("x", service.device.profile))
    t0 = time.time()
    service.fn(SampleReady(Sample(t0, {"pv_power_w": 1234.0})))
    deadline = time.monotonic() + 3
    seen = None
    while time.monotonic() < deadline and not seen:
        if (tmp_path / "session.db").exists():
            log = SessionLog(tmp_path, readonly=True)
            seen = log.sessions() and log.time_span(log.sessions()[0].id)
            log.close()
        time.sleep(0.05)
    assert seen and seen[0] == t0 and time.time() - t0 < 2.0
    rec.stop()


def test_a_recorder_attached_to_a_connected_service_records_it(tmp_path):
    """The app installs diagnostics after the first paint; the demo may be connected by then."""
    from desktop.device.connect import Target
    from desktop.device.service import DeviceService

    service = DeviceService(fast_period_s=0.2)
    seen = []
    service.add_listener(lambda e: seen.append(e.kind.value))
    try:
        service.connect(Target(demo=True)).result(timeout=20)
        deadline = time.monotonic() + 5
        while "sample" not in seen and time.monotonic() < deadline:
            time.sleep(0.05)
        rec = Recorder(service, tmp_path)
        time.sleep(1.5)
        rec.flush()
        rec.stop()
    finally:
        service.shutdown()
    log = SessionLog(tmp_path, readonly=True)
    (session,) = log.sessions()
    kinds = {e["kind"] for e in log.events()}
    count = log.sample_count(session.id)
    log.close()
    assert session.link["joined"] and session.serial == "PVD8K001A0042" and count >= 4
    assert {"identity", "firmware", "register_image"} <= kinds
