"""TimePlot: the curves show the buffer, follow/pause, crosshair readout, export."""

import csv
from datetime import UTC, datetime

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from widgets.ring_buffer import RingBuffer
from widgets.time_plot import TimePlot
from widgets.value_tile import format_with_unit

T0 = 1_763_769_600.0  # 2025-11-22 00:00:00 UTC
NAMES = ["pv1_power_w", "pv2_power_w"]


def fill(rb, start_k, stop_k):
    for k in range(start_k, stop_k):
        rb.append(T0 + k, {"pv1_power_w": 1000 + (k % 97) * 10.0, "pv2_power_w": -(k % 13) * 5.0})


@pytest.fixture
def plot(qtbot):
    widget = TimePlot("PV power", window_s=600)
    qtbot.addWidget(widget)
    widget.resize(900, 360)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def hour():
    rb = RingBuffer(7200, NAMES)
    fill(rb, 0, 3600)
    return rb


def curve_data(plot, name):
    x, y = plot.curve(name).getData()
    if x is None:  # pyqtgraph reports an empty curve as (None, None)
        return np.empty(0), np.empty(0)
    return np.asarray(x), np.asarray(y)


def test_curves_hold_exactly_the_visible_samples(plot, hour):
    plot.set_source(hour, NAMES, "W", labels={"pv1_power_w": "PV1", "pv2_power_w": "PV2"})
    t0, t1 = plot.visible_range()
    assert (t0, t1) == (T0 + 3599 - 600, T0 + 3599)
    t, ys = hour.view(t0, t1, margin=1)
    for name in NAMES:
        x, y = curve_data(plot, name)
        np.testing.assert_array_equal(x, t)
        np.testing.assert_array_equal(y, ys[name])


def test_full_day_is_decimated_but_keeps_the_extremes(plot):
    rb = RingBuffer(86_400, ["p_w"])
    rng = np.random.default_rng(3)
    values = rng.normal(2000, 100, 86_400)
    values[12_345], values[70_001] = 9000.0, -500.0
    for k in range(86_400):
        rb.append(T0 + k, {"p_w": values[k]})
    plot.set_source(rb, ["p_w"], "W")
    plot.set_window(86_400)
    x, y = curve_data(plot, "p_w")
    assert len(x) <= 2 * plot.view_box.width() + 4  # one min/max pair per pixel column
    assert y.max() == 9000.0 and y.min() == -500.0
    assert x[0] <= T0 + 1 and x[-1] >= T0 + 86_000


def test_refresh_redraws_only_when_something_changed(plot, hour):
    plot.set_source(hour, NAMES, "W")
    assert plot.refresh() is False
    fill(hour, 3600, 3601)
    assert plot.refresh() is True
    assert plot.refresh() is False


def test_follow_scrolls_with_new_data(plot, hour):
    plot.set_source(hour, NAMES, "W")
    fill(hour, 3600, 3660)
    plot.refresh()
    assert plot.visible_range() == (T0 + 3659 - 600, T0 + 3659)
    x, _ = curve_data(plot, "pv1_power_w")
    assert x[-1] == T0 + 3659


def test_pause_keeps_the_view_and_window_change_keeps_right_edge(plot, hour, qtbot):
    plot.set_source(hour, NAMES, "W")
    with qtbot.waitSignal(plot.followChanged) as blocker:
        plot.set_follow(False)
    assert blocker.args == [False]
    before = plot.visible_range()
    fill(hour, 3600, 3700)
    plot.refresh()
    assert plot.visible_range() == before
    plot.set_window(60)
    assert plot.visible_range() == (before[1] - 60, before[1])
    plot.set_follow(True)
    assert plot.visible_range() == (T0 + 3699 - 60, T0 + 3699)


def test_mouse_drag_pans_and_pauses_follow(plot, hour, qtbot):
    plot.set_source(hour, NAMES, "W")
    viewport = plot.plot_widget.viewport()
    centre = plot.plot_widget.mapFromScene(plot.view_box.sceneBoundingRect().center())
    before = plot.visible_range()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=centre)
    for dx in (10, 40, 80, 150):
        qtbot.mouseMove(viewport, centre + QPoint(dx, 0))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=centre + QPoint(150, 0))
    after = plot.visible_range()
    assert after[0] < before[0] - 30  # dragged right: earlier data comes into view
    assert plot.is_following() is False
    fill(hour, 3600, 3650)
    plot.refresh()
    assert plot.visible_range() == after
    x, _ = curve_data(plot, "pv1_power_w")
    assert x[0] <= after[0] and x[-1] >= after[1] - 1  # re-sliced for the new range


def test_crosshair_reads_the_sample_nearest_the_cursor(plot, hour, qtbot):
    plot.set_source(hour, NAMES, "W", labels={"pv1_power_w": "PV1", "pv2_power_w": "PV2"})
    target = T0 + 3300.3
    scene_pos = plot.view_box.mapViewToScene(QPointF(target, 0))
    qtbot.mouseMove(plot.plot_widget.viewport(), plot.plot_widget.mapFromScene(scene_pos))
    t_near = plot.crosshair_time()
    seconds_per_px = 600 / plot.view_box.width()
    assert t_near is not None and abs(t_near - target) <= 4 * seconds_per_px + 0.5  # under the cursor
    assert t_near == round(t_near)  # snapped to a sample (they are whole seconds here)
    _, values = hour.nearest(t_near)
    when = datetime.fromtimestamp(t_near).strftime("%Y-%m-%d %H:%M:%S")
    text = plot.readout_text()
    assert text.startswith(when)
    assert f"PV1 {format_with_unit(values['pv1_power_w'], 'W')}" in text
    assert f"PV2 {format_with_unit(values['pv2_power_w'], 'W')}" in text
    assert plot.crosshair.isVisible() and plot.crosshair.value() == t_near

    plot.show_crosshair_at(T0 + 120.4)
    k = 120
    assert plot.crosshair_time() == T0 + k
    assert f"PV1 {format_with_unit(1000 + (k % 97) * 10.0, 'W')}" in plot.readout_text()
    plot.hide_crosshair()
    assert not plot.crosshair.isVisible() and plot.readout_text().startswith("latest ")


def test_export_csv_holds_exactly_the_visible_samples(plot, hour, tmp_path):
    hour.append(T0 + 3600, {"pv1_power_w": 1234.5, "pv2_power_w": None})
    plot.set_source(hour, NAMES, "W", labels={"pv1_power_w": "PV1", "pv2_power_w": "PV2"})
    plot.set_visible_range(T0 + 3000.5, T0 + 3600)
    path = tmp_path / "visible.csv"
    assert plot.export_csv(str(path)) == 600
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert rows[0] == ["time_utc", "PV1 [W]", "PV2 [W]"]
    t, ys = hour.view(T0 + 3000.5, T0 + 3600)
    assert len(rows) == 1 + len(t) == 601
    assert rows[1][0] == "2025-11-22T00:50:01.000Z"
    for row, ts, a, b in zip(rows[1:], t, ys["pv1_power_w"], ys["pv2_power_w"]):
        parsed = datetime.strptime(row[0], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        assert parsed.timestamp() == ts
        assert float(row[1]) == pytest.approx(float(a), rel=1e-6)
        assert (row[2] == "" and np.isnan(b)) or float(row[2]) == pytest.approx(float(b), rel=1e-6)
    assert rows[-1] == ["2025-11-22T01:00:00.000Z", "1234.5", ""]


def test_export_png_writes_an_image_of_the_widget(plot, hour, tmp_path):
    from PySide6.QtGui import QImage

    plot.set_source(hour, NAMES, "W")
    path = tmp_path / "plot.png"
    plot.export_png(str(path))
    image = QImage(str(path))
    assert image.width() == plot.width() and image.height() == plot.height()


def test_time_gap_is_drawn_as_a_gap(plot):
    rb = RingBuffer(1000, ["v_w"])
    for k in range(100):
        rb.append(T0 + k, {"v_w": 5.0})
    for k in range(400, 500):  # link silent for five minutes
        rb.append(T0 + k, {"v_w": 6.0})
    plot.set_source(rb, ["v_w"], "W")
    x, y = curve_data(plot, "v_w")
    gap = np.flatnonzero(np.isnan(y))
    assert len(gap) == 1 and T0 + 99 < x[gap[0]] < T0 + 400


def test_legend_toggle_hides_a_curve(plot, hour):
    plot.set_source(hour, NAMES, "W")
    y_lo, y_hi = plot.view_box.viewRange()[1]
    assert y_lo < -60 * 0.9 and y_hi > 1960  # both series: PV2 down to -60 W, PV1 up to 1960 W
    button = plot.legend._buttons["pv1_power_w"]
    button.click()
    assert not plot.curve("pv1_power_w").isVisible() and plot.curve("pv2_power_w").isVisible()
    y_lo, y_hi = plot.view_box.viewRange()[1]
    # the value axis fits PV2 alone (-60..0 W), widened to the 200 W minimum span about its middle
    assert -150 < y_lo < -60 and 0 < y_hi < 90 and y_hi - y_lo >= 200
    button.click()
    assert plot.curve("pv1_power_w").isVisible() and plot.view_box.viewRange()[1][1] > 1960


def test_unknown_series_is_refused(plot, hour):
    with pytest.raises(KeyError):
        plot.set_source(hour, ["nope"], "W")


def test_grid_is_drawn_under_the_curves(plot, hour):
    plot.set_source(hour, NAMES, "W")
    for side in ("left", "bottom"):
        assert plot.plot_item.getAxis(side).zValue() < plot.view_box.zValue()


def test_follows_a_dark_palette(plot, hour):
    from PySide6.QtGui import QColor, QPalette

    plot.set_source(hour, NAMES, "W")
    dark = QPalette(plot.palette())
    dark.setColor(QPalette.ColorRole.Base, QColor("#17181A"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#E8EAED"))
    plot.setPalette(dark)
    assert plot.plot_widget.backgroundBrush().color() == QColor("#17181A")
    assert plot.plot_item.getAxis("left").textPen().color() == QColor("#E8EAED")


def test_curve_data_does_not_change_when_the_buffer_wraps_before_the_next_frame(plot):
    rb = RingBuffer(100, ["v_w"])
    for k in range(150):
        rb.append(T0 + k, {"v_w": k})
    plot.set_source(rb, ["v_w"], "W")  # 10 min window: the whole (wrapped) buffer is visible
    x_before, y_before = (a.copy() for a in curve_data(plot, "v_w"))
    rb.append(T0 + 150, {"v_w": 150})  # overwrites the oldest slot; no refresh yet
    x, y = curve_data(plot, "v_w")
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(y, y_before)
    assert np.all(np.diff(x) > 0)


def test_empty_buffer_draws_nothing_and_fills_in_later(plot):
    rb = RingBuffer(100, ["v_w"])
    plot.set_source(rb, ["v_w"], "W")
    x, y = curve_data(plot, "v_w")
    assert len(x) == 0 and plot.readout_text() == "v_w"
    rb.append(T0, {"v_w": 5.0})
    rb.append(T0 + 1, {"v_w": None})
    assert plot.refresh() is True
    x, y = curve_data(plot, "v_w")
    assert x.tolist() == [T0, T0 + 1] and y[0] == 5.0 and np.isnan(y[1])
    assert plot.readout_text().endswith("v_w n/a")


def test_legend_wraps_on_narrow_plots_and_gives_the_room_back(qtbot):
    names = [f"string_{i}_power_w" for i in range(6)]
    rb = RingBuffer(10, names)
    rb.append(T0, {n: 100.0 * i for i, n in enumerate(names)})
    plot = TimePlot("Strings")
    qtbot.addWidget(plot)
    plot.set_source(rb, names, "W")
    heights = {}
    for width in (1600, 500, 1600):
        plot.resize(width, 400)
        plot.show()
        qtbot.wait(10)
        rows = plot.legend._rows.count()
        heights.setdefault(width, []).append((rows, plot.legend.height(), plot.plot_widget.height()))
    (wide_rows, wide_h, wide_plot), (again_rows, again_h, again_plot) = heights[1600]
    narrow_rows, narrow_h, narrow_plot = heights[500][0]
    assert wide_rows == again_rows == 1 and narrow_rows >= 3
    assert narrow_h > wide_h and narrow_plot < wide_plot
    assert (again_h, again_plot) == (wide_h, wide_plot)  # the plot gets its height back


def test_a_new_sample_costs_one_paint_of_the_plot(plot, hour, qtbot):
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication

    class PaintCounter(QObject):
        count = 0

        def eventFilter(self, _obj, event):  # Qt override
            if event.type() == QEvent.Type.Paint:
                self.count += 1
            return False

    plot.set_source(hour, NAMES, "W")
    counter = PaintCounter()
    plot.plot_widget.viewport().installEventFilter(counter)
    qtbot.wait(50)
    counts = []
    for k in range(3600, 3605):
        counter.count = 0
        fill(hour, k, k + 1)
        assert plot.refresh()
        for _ in range(3):
            QApplication.processEvents()
        counts.append(counter.count)
    assert counts == [1] * 5  # pyqtgraph alone paints twice: once more after applying the new range


def test_value_axis_has_a_minimum_span_per_unit_so_a_small_change_is_not_a_cliff(plot):
    from widgets.time_plot import widen_to_span
    rb = RingBuffer(600, ["soc_pct"])
    for k in range(300):
        rb.append(T0 + k, {"soc_pct": 55.0 + (k >= 150) * 1.0})   # 55 % -> 56 %
    plot.set_source(rb, ["soc_pct"], "%")
    lo, hi = plot.y_range()
    assert hi - lo >= 10.0 and lo < 55.0 and hi > 56.0
    assert widen_to_span(1.0, 2.0, 10.0) == (0.0, 10.0)            # a positive range never goes below 0
    assert widen_to_span(-3.0, 500.0, 200.0) == (-3.0, 500.0)       # wide enough already: unchanged
    plot.min_span = 1.0                                              # a caller may set its own
    plot.refresh() or plot.set_visible_range(*plot.visible_range())
    plot._draw_curves()
    lo, hi = plot.y_range()
    assert hi - lo < 2.0


def test_overlapping_traces_stay_distinct_and_an_empty_plot_shows_no_tick_labels(qtbot):
    widget = TimePlot("Power", window_s=600)
    qtbot.addWidget(widget)
    assert widget.plot_item.getAxis("bottom").style["showValues"] is False
    rb = RingBuffer(600, ["a_w", "b_w", "c_w"])
    for k in range(100):
        rb.append(T0 + k, {"a_w": 1000.0, "b_w": 1000.0, "c_w": 0.0})  # a and b coincide
    widget.set_source(rb, ["a_w", "b_w", "c_w"], "W")
    widths = [widget.curve(n).opts["pen"].widthF() for n in ("a_w", "b_w", "c_w")]
    assert widths == [2.0, 1.0, 1.0]   # 4 series: 3, 2, 1, 1 px
    assert [widget.curve(n).zValue() for n in ("a_w", "b_w", "c_w")] == [0, 1, 2]
    assert widget.plot_item.getAxis("bottom").style["showValues"] is True


def test_legend_given_new_series_lays_out_the_new_entries_below_the_title(qtbot):
    """The review window sets a plot's series again; with the same wrap points as before the legend kept
    its old rows (holding the deleted buttons) and the new entry floated over the title at (0, 0)."""
    from PySide6.QtGui import QColor

    from widgets.plot_legend import PlotLegend
    legend = PlotLegend("Battery state of charge")
    qtbot.addWidget(legend)
    legend.resize(460, 60)
    legend.show()
    for label in ("State of charge", "State of charge"):   # once, then again as the review does
        legend.set_series([("battery_soc_pct", label, QColor("orange"))])
        qtbot.wait(20)
    button = legend._buttons["battery_soc_pct"]
    assert legend._rows.itemAt(0).layout().indexOf(button) == 0       # in the layout, not floating
    assert button.y() >= legend.title_label.geometry().bottom()        # below the title, not over it
    assert legend.sizeHint().height() >= legend.title_label.sizeHint().height() + button.height()
