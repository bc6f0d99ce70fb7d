"""Faults page (injected fault with its raw code, filter, CSV), registers page (decode, refused range), CSV of the plots."""

from __future__ import annotations

import csv
from datetime import datetime

import pytest
from gui_helpers import connect_tcp
from PySide6.QtCore import Qt

pytestmark = pytest.mark.gui


def _rows(view_model):
    return [[view_model.index(r, c).data() for c in range(view_model.columnCount())]
            for r in range(view_model.rowCount())]


def test_injected_fault_shows_active_and_logged_with_its_raw_code(qtbot, window, sim, tmp_path):
    connect_tcp(qtbot, window, sim)
    page = window.faults_page
    qtbot.waitUntil(lambda: page.status.text().startswith("Log read"), timeout=5000)
    logged_before = len(page.model.history)
    sim.inject_fault(204)  # Battery over temperature, severity error

    qtbot.waitUntil(lambda: any(r.code == 204 and r.state == "Active" for r in page.model.rows), timeout=5000)
    qtbot.waitUntil(lambda: len(page.model.history) == logged_before + 1, timeout=5000)
    shown = _rows(page.proxy)
    active = [r for r in shown if r[4] == "Active"]
    assert active == [[active[0][0], "204", "Battery over temperature", "Error", "Active"]]
    newest_logged = next(r for r in shown if r[4] == "Logged")
    assert newest_logged[1:4] == ["204", "Battery over temperature", "Error"]
    assert "1 active alarm" in page.summary.text()

    # filters: by severity, then by text; the raw code matches too
    page.severity_box.setCurrentIndex(page.severity_box.findData("warning"))
    assert all(r[3] == "Warning" for r in _rows(page.proxy))
    assert not any(r[1] == "204" for r in _rows(page.proxy))
    page.severity_box.setCurrentIndex(0)
    qtbot.keyClicks(page.search, "204")
    assert {r[1] for r in _rows(page.proxy)} == {"204"}

    # export what the filter shows: UTC times, code, text, severity, state, source
    path = tmp_path / "faults.csv"
    assert page.export_csv(str(path)) == page.proxy.rowCount()
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["code"] == "204" and rows[0]["state"] == "active" and rows[0]["severity"] == "error"
    assert rows[0]["source"].startswith("alarm_word_2 bit")
    assert all(r["time_utc"].endswith("Z") for r in rows)
    logged = [r for r in rows if r["state"] == "logged"][0]
    assert datetime.fromisoformat(logged["time_utc"].replace("Z", "+00:00")).timestamp() == \
        pytest.approx(sim.device(1).history[-1].time_s, abs=1)

    sim.clear_faults(code=204)
    qtbot.waitUntil(lambda: not page.model.active, timeout=5000)
    assert "No active alarms" in page.summary.text()


def test_registers_page_reads_and_decodes_beside_raw(qtbot, window, sim):
    connect_tcp(qtbot, window, sim)
    page = window.registers_page
    window.show_page("Registers")
    page.set_request("input", 10, 10)
    qtbot.mouseClick(page.read_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.model.rowCount() == 10, timeout=5000)
    rows = {r.address: r for r in page.model.rows}
    assert rows[12].point == "pv1_power_w" and rows[12].decoded == f"{rows[12].raw} W"
    assert rows[10].decoded == f"{rows[10].raw * 0.1:.1f} V"
    assert rows[17].point == "↳ pv_power_w"  # second register of the u32
    assert rows[16].point == "pv_power_w" and rows[16].decoded == f"{(rows[16].raw << 16) | rows[17].raw} W"
    texts = _rows(page.model)[2]
    assert texts[:4] == ["12", "0x000C", f"0x{rows[12].raw:04X}", str(rows[12].raw)]
    assert "Read 10 input registers 10–19" in page.message.text()

    # a range the device refuses: said once on the page, the previous rows kept
    page.set_request("input", 140, 10)
    page.read()
    qtbot.waitUntil(lambda: "failed" in page.message.text(), timeout=5000)
    assert "02" in page.message.text() or "illegal" in page.message.text().lower()
    assert page.read_button.isEnabled() and page.model.rowCount() == 10


def test_register_request_out_of_range_is_refused_before_sending(qtbot, window):
    page = window.registers_page
    page.set_request("holding", 65000, 1000)
    page.read()
    assert "past address 65535" in page.message.text()
    assert page.read_button.isEnabled()


def test_csv_export_holds_the_plotted_values(qtbot, window, sim, tmp_path):
    samples = []
    window.bridge.sampleReady.connect(samples.append)
    connect_tcp(qtbot, window, sim)
    qtbot.waitUntil(lambda: len(samples) >= 8, timeout=10_000)
    dash = window.dashboard
    toolbar = dash.toolbar
    toolbar.set_follow(False)
    for plot in dash.plots.values():
        plot.set_visible_range(samples[0].timestamp_s - 1, samples[-1].timestamp_s + 0.01)
    kept = [s for s in samples if s.timestamp_s <= samples[-1].timestamp_s]
    written = toolbar.export_csv_to(tmp_path / "day.csv")
    assert [p.rsplit("/", 1)[-1] for p in written] == ["day-power.csv", "day-battery-state-of-charge.csv",
                                                        "day-battery-power.csv", "day-grid-meter.csv"]
    with open(written[0], newline="", encoding="utf-8") as f:
        power = list(csv.reader(f))
    assert power[0] == ["time_utc", "PV [W]", "Inverter AC [W]", "House load [W]", "Grid (+ import) [W]"]
    assert len(power) - 1 == len(kept)
    for row, sample in zip(power[1:], kept):
        stamp = datetime.fromisoformat(row[0].replace("Z", "+00:00")).timestamp()
        assert stamp == pytest.approx(sample.timestamp_s, abs=0.001)
        assert [float(v) for v in row[1:]] == [sample.values[n] for n in
                                               ("pv_power_w", "inverter_power_w", "load_power_w", "grid_power_w")]
    with open(written[3], newline="", encoding="utf-8") as f:
        meter = list(csv.reader(f))[1:]
    for row, sample in zip(meter, kept):
        grid = sample.values["grid_power_w"]
        assert (float(row[1]), float(row[2])) == (max(grid, 0), max(-grid, 0))


def test_every_fault_time_says_whose_clock_and_the_log_is_converted_by_the_measured_drift(qtbot, window, sim):
    connect_tcp(qtbot, window, sim)
    page = window.faults_page
    qtbot.waitUntil(lambda: page.drift_s is not None and bool(page.model.history), timeout=15000)
    import time
    dev = sim.device(1)
    device_minus_laptop = sim.call(lambda: dev.clock() + dev.clock_offset_s) - time.time()
    assert page.drift_s == pytest.approx(device_minus_laptop, abs=3)
    qtbot.waitUntil(lambda: all(r.drift_s is not None for r in page.model.history), timeout=5000)
    logged = page.model.rows[-1]
    text = page.model.index(len(page.model.rows) - 1, 0).data()
    assert "(device clock ≈" in text and "laptop)" in text
    assert logged.laptop_time_s() == pytest.approx(logged.time_s - page.drift_s)
    sim.inject_fault(204)
    qtbot.waitUntil(lambda: bool(page.model.active), timeout=5000)
    assert page.model.index(0, 0).data().endswith("(laptop clock)")
