"""Review mode (pytest-qt, offscreen): the live pages show a bundle read-only, plots hold the recorded values,
time navigation covers the whole recording; the Diagnostics page exports; the main window wiring."""

from __future__ import annotations

import asyncio
import math
import time

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from desktop.diag.review import ReadOnly
from desktop.ui.diagnostics.review_window import ReviewWindow, load_review


@pytest.fixture
def review(qtbot):
    windows = []

    def make(path):
        data, error = load_review(path)
        assert error is None, error
        window = ReviewWindow(data)
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window
    yield make


def test_review_plots_the_recorded_values(review, live, live_bundle):
    w = review(live_bundle)
    data = w.data
    w.tabs.setCurrentWidget(w.dashboard)
    w.show_time(data.end_s + 1, data.end_s - data.start_s + 2)
    x, y = w.dashboard.plots["power"].curve("pv_power_w").getData()
    keep = ~np.isnan(y)
    expected_t = np.array([s.timestamp_s for s in live.samples])
    expected_pv = np.array([s.values["pv_power_w"] for s in live.samples], dtype=np.float32)
    assert len(x[keep]) == len(expected_t) and np.allclose(x[keep], expected_t, rtol=0, atol=1e-6)  # µs in the bundle
    assert np.array_equal(y[keep], expected_pv)
    x, y = w.dashboard.plots["soc"].curve("battery_soc_pct").getData()
    assert np.array_equal(y[~np.isnan(y)], np.array([s.values["battery_soc_pct"] for s in live.samples], np.float32))
    assert np.isnan(y).sum() >= 1  # the pulled cable is a gap, not a line
    last = live.samples[-1].values
    assert w.dashboard.tiles["pv"].value() == pytest.approx(last["pv_power_w"])
    assert w.dashboard.tiles["battery"].value() == pytest.approx(last["battery_soc_pct"])
    assert "PVD-H8K" in w.device_page.title.text() and "PVD8K001A0042" in w.device_page.subtitle.text()
    assert w.device_page.table.rowCount() == 5


def test_time_navigation_over_the_whole_recording(review, synth, qtbot):
    w = review(synth.bundle)
    data = w.data
    assert w.plots[0].visible_range()[1] == pytest.approx(data.end_s)
    t = synth.alarm_s + 300
    w.show_time(t, 3600)
    for plot in w.plots:
        assert plot.visible_range() == pytest.approx((t - 3600, t))
    assert w.dashboard.toolbar.window_box.currentData() == 3600
    i = data.index_at(t)
    assert w.dashboard.tiles["pv"].value() == pytest.approx(data.table.column("pv_power_w")[i].as_py())
    active = w.faults_page.model.active
    assert [r.code for r in active] == [101] and abs(active[0].time_s - synth.alarm_s) <= 10
    assert w.overview.region.getRegion() == pytest.approx((t - 3600, t))
    # every time the window shows says whose clock it is (the fault log's rows say theirs)
    zone = time.strftime("%z", time.localtime(t))  # this machine's offset at the time shown, e.g. +0100
    assert w.range_label.text().endswith(f"(laptop clock, shown as UTC{zone[:3]}:{zone[3:]})")
    w.show_time(synth.alarm_clear_s + 600)
    assert w.faults_page.model.active == []
    right = w.plots[0].visible_range()[1]
    w.step(-1)
    assert w.plots[0].visible_range()[1] == pytest.approx(right - 3600)
    w.step(-math.inf)
    assert w.plots[0].visible_range()[0] == pytest.approx(data.start_s)
    w.show_all()
    t0, t1 = w.plots[0].visible_range()
    assert t0 < data.start_s and t1 > data.end_s
    # A pan in a plot moves the moment shown too.
    w.show_time(synth.write_s, 600)
    w.plots[0].set_visible_range(synth.hot_s - 600, synth.hot_s + 30)
    qtbot.waitUntil(lambda: data.cursor_s == pytest.approx(synth.hot_s + 30), timeout=2000)
    assert "Battery temperature" in [w.device_page.status_form.itemAt(r, w.device_page.status_form.ItemRole.LabelRole)
                                     .widget().text().rstrip(":") for r in range(w.device_page.status_form.rowCount())]
    # The summary lists the findings; a double-click goes there.
    assert w.summary.table.rowCount() == len(w.findings) >= 5
    row = next(r for r, f in enumerate(w.findings) if f.kind == "link")
    w.summary.table.cellDoubleClicked.emit(row, 2)
    lo, hi = w.plots[0].visible_range()
    assert lo < synth.link_lost_s < hi and w.tabs.currentWidget() is w.dashboard
    # ... and so does Enter on the selected finding (the hint says both)
    assert any("Double-click one or press Enter" in lab.text() for lab in w.summary.findChildren(QLabel))
    hot = max(range(len(w.findings)), key=lambda r: abs(w.findings[r].t_s - synth.link_lost_s))  # far from it
    w.tabs.setCurrentWidget(w.summary)
    w.summary.table.setCurrentCell(hot, 0)
    qtbot.keyClick(w.summary.table, Qt.Key.Key_Return)
    lo, hi = w.plots[0].visible_range()
    assert lo < w.findings[hot].t_s < hi and not lo < synth.link_lost_s < hi and w.tabs.currentWidget() is w.dashboard


def test_review_is_read_only(review, synth, qtbot):
    from desktop.ui.shell.bridge import DeviceLink
    w = review(synth.bundle)
    # the live pages get the same interface as in the app, answered from the bundle off the GUI thread
    assert isinstance(w.bridge, DeviceLink) and w.bridge.read_only and w.bridge.profile is w.data.profile
    registers = w.registers_page
    qtbot.waitUntil(lambda: len(registers.model.rows) > 0, timeout=2000)
    assert registers.model.rows[0].point == "model_code" and registers.model.rows[0].raw == 0x5048
    registers.set_request("holding", 1000, 4)
    registers.read()
    qtbot.waitUntil(lambda: "not in the captured image" in registers.message.text(), timeout=2000)
    device = w.bridge.device
    with pytest.raises(ReadOnly, match="read-only"):
        asyncio.run(device.write_point("export_limit_w", 1000))
    history = asyncio.run(device.fault_history())
    assert [a.code for a in history][:1] == [303] and all(not a.active for a in history)
    w.faults_page.refresh_history()
    qtbot.waitUntil(lambda: len(w.faults_page.model.history) == len(history), timeout=2000)


def test_diagnostics_page_exports_with_masking(qtbot, synth, tmp_path):
    from desktop.device.service import DeviceService
    from desktop.diag.open import open_bundle
    from desktop.diag.recorder import Recorder
    from desktop.records.service import RecordsService
    from desktop.ui.diagnostics.page import DiagnosticsPage
    from desktop.ui.shell.bridge import Bridge

    service = DeviceService()
    records = RecordsService(tmp_path / "records", "inst-1", passphrase="pass phrase 1", scrypt_n=2**12)
    rid = records.add_customer({"name": "John Smith", "phone": "+49 30 1234567", "email": "john.smith@example.com"})
    try:
        recorder = Recorder(folder=synth.folder)
        page = DiagnosticsPage(Bridge(service), recorder, lambda: records)
        qtbot.addWidget(page)
        assert page.customer_box.count() == 1  # the records store is not touched before the page is shown
        page.show()
        qtbot.waitUntil(lambda: page.customer_box.findData(rid) > 0, timeout=2000)
        assert "samples in 1 connection" in page.extent_label.text()
        page.customer_box.setCurrentIndex(page.customer_box.findData(rid))
        assert "personal data is masked" in page.consent_label.text() and "In the bundle: *** · +49 ***" in page.consent_label.text()
        with qtbot.waitSignal(page.exported, timeout=10000) as done:
            page.export_to(tmp_path / "page.zip", live=False)
        assert "Saved" in page.result_label.text() and page.review_button.isEnabled()
        with open_bundle(done.args[0]) as bundle:
            assert bundle.json("customer.json")["name"] == "***"
        page.size_spin.setValue(64)
        page.age_spin.setValue(3)
        page.apply_limits()
        assert (recorder.settings.max_bytes, recorder.settings.max_age_s) == (64 * 1024 * 1024, 3 * 86400)
        page.trace_box.setChecked(not recorder.settings.bus_trace)
        assert recorder.settings.bus_trace == page.trace_box.isChecked()
    finally:
        records.close()
        service.shutdown()


def test_main_window_wiring(qtbot, synth, tmp_path):
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from desktop.app import compose
    from desktop.ui.diagnostics.page import DiagnosticsPage

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    app = compose(settings, watch_ports=False)
    try:
        window = app.window
        qtbot.addWidget(window)
        page = window.page("Diagnostics")
        assert isinstance(page, DiagnosticsPage) and page.recorder is app.recorder and page.recorder.status["recording"]
        assert page.site is window.site and window.page("Site").site is window.site   # one site for both
        window.diagnosticBundleRequested.emit(str(synth.bundle))

        def opened():
            return [w for w in QApplication.topLevelWidgets() if isinstance(w, ReviewWindow) and w.isVisible()]
        qtbot.waitUntil(lambda: bool(opened()), timeout=10000)
        review_window = opened()[0]
        assert review_window.data.bundle.path == synth.bundle
        review_window.close()
    finally:
        app.close()


def test_review_shows_the_device_log_on_the_laptops_clock_through_the_measured_drift(review, live, live_bundle, qtbot):
    w = review(live_bundle)
    clocks = [(s.values["device_time_unix_s"], s.timestamp_s) for s in live.samples
              if isinstance(s.values.get("device_time_unix_s"), (int, float))]
    assert clocks, "the recording must hold the device's clock"
    expected = sorted(d - t for d, t in clocks)[len(clocks) // 2]
    assert w.faults_page.fixed_drift_s == pytest.approx(expected, abs=1.5)
    page = w.faults_page
    page.refresh_history()
    qtbot.waitUntil(lambda: bool(page.model.history), timeout=5000)
    assert all(r.clock == "device" and r.drift_s == w.faults_page.fixed_drift_s for r in page.model.history)
    assert "(device clock" in page.model.index(len(page.model.rows) - 1, 0).data()
