"""Values on the dashboard: SunSpec devices through canonical aliases, "n/a" for what a device lacks, doubtful values flagged."""

from __future__ import annotations

import math

import pytest
from gui_helpers import connect_tcp, freeze

pytestmark = pytest.mark.gui


@pytest.fixture
def sunspec_sim():
    from protocols.sim.simulator import demo_start_time
    from protocols.sim.sunspec_device import sunspec_simulator
    sim = sunspec_simulator(base=40000, start_s=demo_start_time(), speed=0.0).start()
    yield sim
    sim.stop()


def test_sunspec_device_fills_the_tiles_through_its_aliases(qtbot, window, sunspec_sim):
    samples = []
    window.bridge.sampleReady.connect(samples.append)
    connect_tcp(qtbot, window, sunspec_sim)
    profile = window.bridge._service.device.profile
    assert profile.kind == "sunspec"
    aliases = profile.extra["aliases"]
    values = samples[-1].values
    tiles = window.dashboard.tiles
    assert tiles["pv"].value() == pytest.approx(values[aliases["pv_power_w"]])
    assert tiles["inverter"].value() == pytest.approx(values[aliases["inverter_power_w"]])
    assert tiles["grid"].value() == pytest.approx(values[aliases["grid_power_w"]])
    assert tiles["battery"].value() == pytest.approx(values[aliases["battery_soc_pct"]])
    assert "PV1" in tiles["pv"].subtitle_label.text() and "PV2" in tiles["pv"].subtitle_label.text()
    # what this device does not report is "n/a", never 0
    for key in ("load", "energy"):
        assert tiles[key].value() is None and tiles[key].value_text() == "n/a"
    assert tiles["battery"].subtitle_label.text() == "n/a"  # no battery power point
    # the plots leave a gap for it, too
    qtbot.waitUntil(lambda: window.dashboard.buffer.last() is not None, timeout=3000)
    _t, row = window.dashboard.buffer.last()
    assert math.isnan(row["load_power_w"]) and not math.isnan(row["pv_power_w"])
    # device page: SunSpec common model identity
    qtbot.waitUntil(lambda: "PVD-S8K" in window.device_page.title.text(), timeout=3000)
    assert window.device_page.identity["m1_sn"] == values["m1_sn"] == "PVS8K001B0007"
    from PySide6.QtWidgets import QLabel
    texts = [w.text() for w in window.device_page.link_box.findChildren(QLabel)]
    assert any(t == "at 40000: models 1, 103, 160, 124, 203" for t in texts), texts


def test_out_of_range_value_is_flagged_and_kept_out_of_the_plot(qtbot, window, sim):
    connect_tcp(qtbot, window, sim)
    freeze(sim)
    dev = sim.device(1)
    point = dev.profile.point("pv_power_w")
    assert point.range == (0, 13000)
    sim.call(dev._store, point, 20_000)  # a reading no 8 kW inverter can produce
    tile = window.dashboard.tiles["pv"]
    qtbot.waitUntil(tile.is_flagged, timeout=3000)
    assert tile.value() == 20_000 and "outside the plausible range" in tile.accessibleDescription()
    qtbot.waitUntil(lambda: math.isnan(window.dashboard.buffer.last()[1]["pv_power_w"]), timeout=3000)
    assert not math.isnan(window.dashboard.buffer.last()[1]["inverter_power_w"])
    sim.call(dev._store, point, 1500)
    qtbot.waitUntil(lambda: not tile.is_flagged(), timeout=3000)
    assert tile.value() == 1500


def test_device_page_says_when_the_export_limit_is_off(qtbot, window, sim):
    from gui_helpers import connect_tcp
    dev = sim.device(1)
    sim.call(lambda: dev._store(dev.profile.point("export_limit_w"), 5000))   # the limit value, switched off
    connect_tcp(qtbot, window, sim)
    labels = window.device_page._status_labels
    qtbot.waitUntil(lambda: "limit off" in (labels.get("export_limit_w").text() if "export_limit_w" in labels else ""),
                    timeout=8000)
    assert labels["export_limit_w"].text().startswith("5")
    sim.call(lambda: dev._store(dev.profile.point("export_limit_enabled"), 1))
    qtbot.waitUntil(lambda: "limit off" not in labels["export_limit_w"].text(), timeout=15000)


def test_device_page_marks_a_profile_no_real_capture_proves(qtbot, window):
    """A map no real capture proves says so where the installer sees which profile reads the device."""
    from PySide6.QtWidgets import QLabel

    from protocols.profiles import loader

    from desktop.device.events import LinkOpened
    unverified = [n for n in loader.available() if not loader.load(n).verified]
    assert unverified and "pvdesk-hybrid" not in unverified and loader.load("goodwe-et").verified
    page = window.device_page
    page.on_link_opened(LinkOpened(label="TCP 10.0.0.9:502", profile=loader.load(unverified[0])))
    texts = [w.text() for w in page.link_box.findChildren(QLabel)]
    assert any("unverified on hardware" in t for t in texts)
    page.on_link_opened(LinkOpened(label="TCP 10.0.0.9:502", profile=loader.load("goodwe-et")))
    assert not any("unverified" in w.text() for w in page.link_box.findChildren(QLabel))
