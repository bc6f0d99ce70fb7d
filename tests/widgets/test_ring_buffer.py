"""RingBuffer: ordering across wrap-around, slicing, NaN, and the plot helpers."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from widgets.ring_buffer import PeakEnvelope, RingBuffer, break_gaps, peak_decimate

T0 = 1_763_769_600.0


def test_append_and_read_back_in_order():
    rb = RingBuffer(5, ["a", "b"])
    assert len(rb) == 0 and rb.last() is None and rb.time_span() is None
    for k in range(3):
        assert rb.append(T0 + k, {"a": k, "b": 10 * k})
    t, ys = rb.view()
    assert t.tolist() == [T0, T0 + 1, T0 + 2]
    assert ys["a"].tolist() == [0, 1, 2]
    assert ys["b"].tolist() == [0, 10, 20]
    assert rb.last() == (T0 + 2, {"a": 2.0, "b": 20.0})


def test_wrap_around_keeps_the_newest_capacity_samples_in_time_order():
    rb = RingBuffer(4, ["v"])
    for k in range(11):
        rb.append(T0 + k, {"v": k})
    t, ys = rb.view()
    assert len(rb) == 4
    assert t.tolist() == [T0 + 7, T0 + 8, T0 + 9, T0 + 10]
    assert ys["v"].tolist() == [7, 8, 9, 10]
    assert rb.time_span() == (T0 + 7, T0 + 10)


def test_view_is_a_read_only_view_not_a_copy():
    rb = RingBuffer(4, ["v"])
    for k in range(6):
        rb.append(T0 + k, {"v": k})
    t, ys = rb.view()
    assert np.shares_memory(t, rb._t_s) and np.shares_memory(ys["v"], rb._values["v"])
    with pytest.raises(ValueError):
        ys["v"][0] = 99
    t_copy, ys_copy = rb.view(copy=True)
    assert not np.shares_memory(t_copy, rb._t_s)
    ys_copy["v"][0] = 99  # a copy may be changed freely
    assert rb.view()[1]["v"][0] == 2


def test_view_slices_by_inclusive_time_bounds_and_margin():
    rb = RingBuffer(100, ["v"])
    for k in range(50):
        rb.append(T0 + k, {"v": k})
    t, ys = rb.view(T0 + 10, T0 + 14)
    assert ys["v"].tolist() == [10, 11, 12, 13, 14]
    t, ys = rb.view(T0 + 10.5, T0 + 12.5)
    assert ys["v"].tolist() == [11, 12]
    t, ys = rb.view(T0 + 10.5, T0 + 12.5, margin=1)
    assert ys["v"].tolist() == [10, 11, 12, 13]
    assert rb.view(t0=T0 + 48)[1]["v"].tolist() == [48, 49]
    assert rb.view(t1=T0 + 1)[1]["v"].tolist() == [0, 1]
    assert rb.view(t0=T0 + 48, margin=5)[1]["v"].tolist() == [43, 44, 45, 46, 47, 48, 49]
    assert len(rb.view(T0 + 100, T0 + 200)[0]) == 0
    assert len(rb.view(T0 + 20, T0 + 10)[0]) == 0


def test_missing_none_and_unknown_values():
    rb = RingBuffer(4, ["a", "b"])
    rb.append(T0, {"a": None, "c": 5.0})  # b missing, c not a series
    _, ys = rb.view()
    assert math.isnan(ys["a"][0]) and math.isnan(ys["b"][0])
    assert rb.series == ["a", "b"]
    assert ys["a"].dtype == np.float32 and rb.view()[0].dtype == np.float64


def test_out_of_order_sample_is_refused_and_generation_counts_appends():
    rb = RingBuffer(4, ["v"])
    assert rb.generation == 0
    rb.append(T0 + 5, {"v": 1})
    rb.append(T0 + 5, {"v": 2})  # same time is accepted
    assert rb.generation == 2
    assert rb.append(T0 + 4, {"v": 3}) is False
    assert rb.generation == 2 and rb.rejected_count == 1 and len(rb) == 2
    with pytest.raises(ValueError):
        rb.append(float("nan"), {"v": 1})


@pytest.mark.parametrize(("capacity", "first", "bulk"), [(10, 3, 4), (10, 6, 25), (10, 0, 10), (7, 9, 1)])
def test_extend_equals_appending_one_by_one(capacity, first, bulk):
    rng = np.random.default_rng(capacity + first + bulk)
    t = T0 + np.cumsum(rng.choice([0.0, 1.0, 2.5], first + bulk))
    a = rng.normal(0, 10, first + bulk)
    a[::5] = np.nan
    one, many = RingBuffer(capacity, ["a", "b"]), RingBuffer(capacity, ["a", "b"])
    for k in range(first + bulk):
        one.append(t[k], {"a": a[k]})
    for k in range(first):
        many.append(t[k], {"a": a[k]})
    gen = many.generation
    assert many.extend(t[first:], {"a": a[first:], "other": np.zeros(bulk)}) == bulk
    assert many.generation == gen + 1 and len(many) == len(one)
    for x, y in zip(one.view(), many.view()):
        if isinstance(x, dict):
            for name in ("a", "b"):
                np.testing.assert_array_equal(x[name], y[name])
        else:
            np.testing.assert_array_equal(x, y)
    assert one.last()[0] == many.last()[0] and one.time_span() == many.time_span()


def test_extend_refuses_unsorted_or_old_timestamps_and_stores_nothing():
    rb = RingBuffer(10, ["a"])
    rb.append(T0 + 5, {"a": 1.0})
    for bad in ([T0 + 6, T0 + 5.5], [T0 + 4, T0 + 7], [T0 + 6, float("nan")]):
        with pytest.raises(ValueError):
            rb.extend(np.array(bad), {"a": np.ones(2)})
    with pytest.raises(ValueError):
        rb.extend(np.array([T0 + 6, T0 + 7]), {"a": np.ones(3)})
    assert len(rb) == 1 and rb.extend(np.array([]), {}) == 0


def test_nearest_and_clear():
    rb = RingBuffer(10, ["v"])
    for k in range(5):
        rb.append(T0 + 10 * k, {"v": k})
    assert rb.nearest(T0 + 14) == (T0 + 10, {"v": 1.0})
    assert rb.nearest(T0 + 16) == (T0 + 20, {"v": 2.0})
    assert rb.nearest(T0 - 100)[0] == T0
    assert rb.nearest(T0 + 1000)[0] == T0 + 40
    gen = rb.generation
    rb.clear()
    assert len(rb) == 0 and rb.nearest(T0) is None and rb.generation == gen + 1


def test_bad_construction():
    with pytest.raises(ValueError):
        RingBuffer(0, ["v"])
    with pytest.raises(ValueError):
        RingBuffer(3, ["v", "v"])
    assert RingBuffer(series=["v"]).capacity == 86_400


@settings(max_examples=60, deadline=None)
@given(
    capacity=st.integers(1, 9),
    steps=st.lists(st.tuples(st.floats(0, 5), st.one_of(st.none(), st.floats(-1e6, 1e6))), max_size=40),
    bounds=st.tuples(st.floats(-5, 250), st.floats(-5, 250)),
)
def test_matches_a_plain_list_model(capacity, steps, bounds):
    rb = RingBuffer(capacity, ["v"])
    model = []
    t = T0
    for dt, v in steps:
        t += dt
        rb.append(t, {"v": v})
        model.append((t, np.nan if v is None else np.float32(v)))
    kept = model[-capacity:] if model else []
    t_view, ys = rb.view()
    assert t_view.tolist() == [m[0] for m in kept]
    np.testing.assert_array_equal(ys["v"], np.array([m[1] for m in kept], dtype=np.float32))
    lo, hi = T0 + bounds[0], T0 + bounds[1]
    t_part, _ = rb.view(lo, hi)
    assert t_part.tolist() == [m[0] for m in kept if lo <= m[0] <= hi]


def test_peak_decimate_keeps_every_columns_extremes():
    rng = np.random.default_rng(1)
    t = T0 + np.arange(10_000, dtype=np.float64)
    y = rng.normal(0, 1, 10_000).astype(np.float32)
    y[1234], y[8765] = 50.0, -40.0
    y[5000:5100] = np.nan
    td, yd = peak_decimate(t, {"y": y}, t[0], t[-1], 100)
    assert len(td) <= 2 * (100 + 1) and np.all(np.diff(td) >= 0)  # edges aligned: one more column at most
    assert np.nanmax(yd["y"]) == 50.0 and np.nanmin(yd["y"]) == -40.0
    # each column's pair is that column's min and max
    first = y[t < td[2]]
    assert yd["y"][0] == np.nanmin(first) and yd["y"][1] == np.nanmax(first)
    # fewer samples than columns: returned unchanged
    t2, y2 = peak_decimate(t[:50], {"y": y[:50]}, t[0], t[49], 100)
    assert t2 is t[:50] or np.array_equal(t2, t[:50])
    np.testing.assert_array_equal(y2["y"], y[:50])


def test_peak_decimate_all_nan_column_stays_a_gap():
    t = T0 + np.arange(1000, dtype=np.float64)
    y = np.ones(1000, dtype=np.float32)
    y[400:600] = np.nan
    td, yd = peak_decimate(t, {"y": y}, t[0], t[-1], 10)
    assert np.isnan(yd["y"][(td >= T0 + 400) & (td < T0 + 500)]).all()


def test_break_gaps_inserts_nan_between_distant_samples():
    t = np.array([0.0, 1.0, 2.0, 60.0, 61.0])
    y = np.array([1, 2, 3, 4, 5], dtype=np.float32)
    t2, ys = break_gaps(t, {"y": y}, 10.0)
    assert t2.tolist() == [0.0, 1.0, 2.0, 31.0, 60.0, 61.0]
    assert np.isnan(ys["y"][3]) and ys["y"][[0, 1, 2, 4, 5]].tolist() == [1, 2, 3, 4, 5]
    t3, _ = break_gaps(t, {"y": y}, 100.0)
    assert t3.tolist() == t.tolist()


def test_peak_decimate_columns_do_not_move_when_the_view_scrolls():
    rng = np.random.default_rng(2)
    t = T0 + np.arange(20_000, dtype=np.float64)
    y = rng.normal(0, 1, 20_000).astype(np.float32)
    a_t, a = peak_decimate(t[:10_001], {"y": y[:10_001]}, t[0], t[10_000], 200)
    b_t, b = peak_decimate(t[7:10_008], {"y": y[7:10_008]}, t[7], t[10_007], 200)
    # away from both ends the columns hold the same samples, so the pairs agree
    inner_a = (a_t > T0 + 200) & (a_t < T0 + 9_800)
    inner_b = (b_t > T0 + 200) & (b_t < T0 + 9_800)
    np.testing.assert_array_equal(a_t[inner_a], b_t[inner_b])
    np.testing.assert_array_equal(a["y"][inner_a], b["y"][inner_b])
    assert inner_a.sum() > 300


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_peak_envelope_reuses_columns_without_changing_the_result(seed):
    """Follow, pan, zoom, wrap, NaN and clear: the cached envelope always equals
    a fresh peak_decimate of the same slice."""
    rng = np.random.default_rng(seed)
    rb = RingBuffer(1500, ["a", "b"])  # wraps several times
    env = PeakEnvelope()
    t = T0
    reused = 0
    for step in range(120):
        for _ in range(int(rng.integers(1, 60))):
            t += float(rng.choice([1.0, 1.0, 1.0, 0.0, 7.5]))  # mostly 1 Hz, some repeats and gaps
            a = None if rng.random() < 0.02 else float(rng.normal(0, 100))
            rb.append(t, {"a": a, "b": float(rng.normal(50, 5))})
        if step == 80:
            rb.clear()
            continue
        span = rb.time_span()
        if span is None:
            continue
        window = float(rng.choice([600.0, 1800.0, 2500.0]))
        right = span[1] if rng.random() < 0.7 else span[1] - float(rng.uniform(0, 2000))
        columns = int(rng.choice([50, 120]))
        before = env._c_hi - env._c_lo
        t_env, y_env = env.envelope(rb, ["a", "b"], right - window, right, columns)
        reused += before > 0 and env._key is not None
        t_view, ys_view = rb.view(right - window, right, margin=1)
        t_ref, y_ref = peak_decimate(t_view, ys_view, right - window, right, columns)
        np.testing.assert_array_equal(t_env, t_ref)
        for name in ("a", "b"):
            np.testing.assert_array_equal(y_env[name], y_ref[name])
    assert reused > 30  # the cache was actually used, not rebuilt every time
