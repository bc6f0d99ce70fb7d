"""Test helpers: a long recording synthesised from the simulated inverter without waiting for it.

``synthesize`` steps a SimDevice (the simulator's device, with its plant
physics) through simulated time, decodes every point from its register
image as a client would, and writes samples and events with the session
log's own API -- hours of recording in a second or two. It injects an alarm,
a link loss, a parameter write, a change made outside PVDesk and a battery
temperature reading outside its plausible range, so the summary has
something to find. Runs on the test's thread.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from protocols import codecs
from protocols.faults import active_alarms, decode_history
from protocols.profiles import loader
from protocols.reader import engineering
from protocols.sim.device import SimDevice

from desktop.diag.capture import image_spans, image_to_json
from desktop.diag.profile_doc import to_doc
from desktop.diag.sessionlog import SessionLog, encode_sample


@dataclass
class Synth:
    folder: Path
    start_s: float
    end_s: float
    samples: list = field(default_factory=list)     # (t, values) as recorded
    alarm_s: float = 0.0
    alarm_clear_s: float = 0.0
    link_lost_s: float = 0.0
    link_back_s: float = 0.0
    write_s: float = 0.0
    outside_change_s: float = 0.0
    hot_s: float = 0.0


def _decode(dev: SimDevice, profile, points) -> tuple[dict, dict]:
    raws = {}
    for p in points:
        image = dev.holding if p.function == "holding" else dev.input
        regs = [image.get(p.address + i, 0) for i in range(p.width)]
        raws[p.name] = codecs.decode_raw(regs, p.type, p.word_order)
    return engineering(profile, raws)


def _set(dev: SimDevice, profile, name: str, value) -> None:
    p = profile.point(name)
    dev.write(p.address, codecs.encode_raw(round(value / p.scale), p.type, p.word_order, p.count))


def synthesize(folder: Path, start_s: float, hours: float = 6.0, step_s: float = 5.0,
               profile_name: str = "pvdesk-hybrid", keep_samples: bool = True) -> Synth:
    profile = loader.load(profile_name)
    clock = [start_s]
    dev = SimDevice(profile, 1, clock=lambda: clock[0])
    end_s = start_s + hours * 3600
    s = Synth(Path(folder), start_s, end_s)
    span = end_s - start_s
    s.alarm_s, s.alarm_clear_s = start_s + 0.30 * span, start_s + 0.33 * span
    s.link_lost_s, s.link_back_s = start_s + 0.50 * span, start_s + 0.50 * span + 240
    s.write_s, s.outside_change_s = start_s + 0.60 * span, start_s + 0.75 * span
    s.hot_s = start_s + 0.85 * span
    log = SessionLog(folder)
    columns = [p.name for p in profile.points if p.type != "string"]
    index = {n: i for i, n in enumerate(columns)}
    link = {"label": "192.168.1.40:502 unit 1", "profile": profile.name, "title": profile.title, "unit": 1,
            "spec": {"kind": "tcp", "host": "192.168.1.40", "port": 502}, "demo": False}
    sid = log.begin_session(start_s, link, to_doc(profile), columns, 1, "test")
    events = []

    def event(t, kind, payload):
        events.append((sid, t, kind, json.dumps(payload, default=str)))

    event(start_s, "state", {"state": "connected", "detail": link["label"]})
    event(start_s, "link", link)
    identity, _ = _decode(dev, profile, [profile.point(n) for n in profile.identity_points])
    event(start_s, "identity", identity)
    log.set_serial(sid, identity["serial_number"])
    fw_names = {c.version_point for c in profile.firmware}
    fw_values, _ = _decode(dev, profile, [p for p in profile.points if p.name in fw_names])
    event(start_s, "firmware", [{"component": c.component, "label": c.label, "version": fw_values[c.version_point],
                                 "hardware": None, "serial": None} for c in profile.firmware])
    rows, last_alarms, slow_due, once = [], frozenset(), start_s, True
    t = start_s
    while t <= end_s:
        clock[0] = t
        if s.alarm_s <= t < s.alarm_s + step_s:
            dev.inject_fault(101)
        if s.alarm_clear_s <= t < s.alarm_clear_s + step_s:
            dev.clear_fault(101)
        if s.write_s <= t < s.write_s + step_s:
            _set(dev, profile, "export_limit_w", 4000)
            event(t, "write", {"name": "export_limit_w", "value": 4000, "old": 10000, "ok": True, "read_back": 4000})
        if s.outside_change_s <= t < s.outside_change_s + step_s:
            _set(dev, profile, "battery_min_soc_pct", 20)
        dev.update()
        if s.hot_s <= t < s.hot_s + 60:
            dev._store(profile.point("battery_temperature_c"), 71.0)  # a sensor reading out of range
        if s.link_lost_s <= t < s.link_back_s:
            if t < s.link_lost_s + step_s:
                event(t, "state", {"state": "reconnecting", "detail": "192.168.1.40:502 lost; reconnecting"})
                event(t + 1, "error", "no answer from 192.168.1.40:502 unit 1 (timed out after 1.0 s)")
            t += step_s
            continue
        if s.link_back_s <= t < s.link_back_s + step_s:
            event(t, "state", {"state": "connected", "detail": link["label"]})
        pts = [p for p in profile.points if p.rate == "fast" or (p.rate == "slow" and t >= slow_due)
               or (p.rate == "once" and once)]
        if t >= slow_due:
            slow_due = t + 60
        once = False
        values, flags = _decode(dev, profile, pts)
        rows.append((t, *encode_sample(index, values, flags)))
        if keep_samples:
            s.samples.append((t, values))
        alarms = active_alarms(profile, values, t)
        keys = frozenset((a.code, a.source) for a in alarms)
        if keys != last_alarms and "alarm_word_1" in values:
            event(t, "alarms", {"active": [a.as_dict() for a in alarms],
                                "raised": [a.as_dict() for a in alarms if (a.code, a.source) not in last_alarms],
                                "cleared": [{"code": c, "source": src} for c, src in last_alarms - keys]})
            last_alarms = keys
        if len(rows) >= 5000:
            log.add_samples(sid, rows)
            rows = []
        t += step_s
    log.add_samples(sid, rows)
    image = {"unit": 1, "profile": profile.name, "captured_s": end_s, "reads": 0, "refused": {"holding": [], "input": []}}
    spans = image_spans(SimpleNamespace(profile=profile))
    for fn in ("holding", "input"):
        src = dev.holding if fn == "holding" else dev.input
        image[fn] = {a: src.get(a, 0) for lo, hi in spans[fn] for a in range(lo, hi)}
    image["spans"] = {fn: [list(x) for x in spans[fn]] for fn in spans}
    event(end_s, "register_image", image_to_json(image))
    hist = profile.fault_history
    regs = [dev.input.get(hist.address + i, 0) for i in range(hist.entries * hist.entry_registers)]
    event(end_s, "fault_history", [a.as_dict() for a in decode_history(profile, regs)])
    settings, _ = _decode(dev, profile, list(profile.parameters))
    event(end_s, "settings", settings)
    log.add_events(events)
    log.end_session(sid, end_s)
    log.commit()
    log.close()
    return s
