"""Wave-4 speed pieces of the IMU input checks and filters against the plain code they replace
(issue 15): pandas' rolling standard deviation, boolean row selection, two one-column filters side by
side, the median/percentile tests decided by counts, the NaN-free mean of the period search. Every
replacement is bitwise (or, for the count tests, the same decision) -- no timing here (bench/imu_speed.py).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.signal import butter
from scipy.signal import sosfiltfilt as scipy_sosfiltfilt

from stridelab.gait._checks import _impact_ratio, _median_between, check_imu_data
from stridelab.gait._kernels import rolling_std_centered, select_rows, sosfiltfilt_pair
from stridelab.gait._signal import dominant_period_s, lowpass, lowpass_pair
from stridelab.sim.imu import ImuTruth, simulate_imu

_values = st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False)


def _rolling_reference(x: np.ndarray, window: int) -> np.ndarray:
    return pd.Series(x).rolling(window, center=True, min_periods=1).std().to_numpy()


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.float64, st.integers(1, 300), elements=st.one_of(_values, st.just(math.nan), st.just(1.5))),
    st.integers(1, 80),
    st.sampled_from([1.0, 1e-3, 1e6]),
    st.sampled_from([0.0, 1e8]),
)
def test_rolling_std_is_bitwise_pandas(x, window, scale, offset):
    # NaN runs, repeated values, a large offset (the recompute-on-cancellation path of pandas)
    v = x * scale + offset
    np.testing.assert_array_equal(rolling_std_centered(v, window), _rolling_reference(v, window))


def test_rolling_std_is_bitwise_pandas_on_a_long_signal():
    rng = np.random.default_rng(4)
    x = np.abs(rng.standard_normal(60_000)).cumsum() % 7.0  # drifts and wraps
    x[1000:1400] = 2.5  # a still stretch
    for window in (200, 201, 50):
        np.testing.assert_array_equal(rolling_std_centered(x, window), _rolling_reference(x, window))


@pytest.mark.parametrize("order", ["C", "F"])
def test_select_rows_is_boolean_indexing(order):
    rng = np.random.default_rng(5)
    x = np.asarray(rng.standard_normal((5000, 3)), order=order)
    for keep in (rng.random(5000) > 0.3, np.zeros(5000, bool), np.ones(5000, bool)):
        out = select_rows(x, keep)
        np.testing.assert_array_equal(out, x[keep])
        assert out.flags.c_contiguous


_FILTERS = [
    butter(2, 0.15, output="sos"),
    butter(2, 0.02, output="sos"),
    butter(2, 0.3, output="sos"),
    butter(2, [0.01, 0.3], btype="band", output="sos"),
    butter(2, [0.05, 0.2], btype="band", output="sos"),
]


@settings(max_examples=30, deadline=None)
@given(
    st.integers(30, 2000),
    st.sampled_from([(0, 1), (1, 2), (0, 2), (3, 4), (4, 3), (0, 0)]),
    st.integers(0, 40),
    st.integers(0, 2**31),
)
def test_filter_pair_is_bitwise_two_scipy_calls(n, pick, padlen, seed):
    rng = np.random.default_rng(seed)
    sa, sb = _FILTERS[pick[0]], _FILTERS[pick[1]]
    xa = rng.standard_normal(n).cumsum()
    xb = rng.standard_normal(n) * 3.0
    pad = min(padlen, n - 1)
    ya, yb = sosfiltfilt_pair(sa, xa, sb, xb, pad)
    np.testing.assert_array_equal(ya, scipy_sosfiltfilt(sa, xa, padlen=pad))
    np.testing.assert_array_equal(yb, scipy_sosfiltfilt(sb, xb, padlen=pad))
    assert ya.flags.c_contiguous and yb.flags.c_contiguous


def test_lowpass_pair_equals_two_lowpasses_long_and_short():
    rng = np.random.default_rng(6)
    for n in (60_000, 500):  # the compiled pair, and two plain calls
        a, b = rng.standard_normal(n), rng.standard_normal(n).cumsum()
        for cut_a, cut_b in ((15.0, 10.0), (5.0, 30.0), (3.0, 99.0)):  # 99 Hz ≥ 0.95 Nyquist: a copy
            ya, yb = lowpass_pair(a, cut_a, b, cut_b, 200.0)
            np.testing.assert_array_equal(ya, lowpass(a, cut_a, 200.0))
            np.testing.assert_array_equal(yb, lowpass(b, cut_b, 200.0))


@settings(max_examples=200, deadline=None)
@given(
    arrays(np.float64, st.integers(1, 60), elements=st.integers(0, 20).map(float)),
    st.integers(-1, 21).map(float),
    st.integers(-1, 21).map(float),
    st.booleans(),
)
def test_median_between_by_count_is_never_wrong(x, lo, hi, open_low):
    # ties and limits equal to data values: "True" must mean lo < median < hi; "False" only "not sure",
    # but with both middle values strictly inside it must say True
    low = -math.inf if open_low else lo
    med = float(np.median(x))
    s = np.sort(x)
    inside = low < s[(len(x) - 1) // 2] and s[len(x) // 2] < hi
    assert _median_between(x, low, hi) == inside
    if inside:
        assert low < med < hi


@settings(max_examples=200, deadline=None)
@given(
    arrays(np.float64, st.integers(1, 80), elements=st.integers(0, 40).map(lambda v: v / 8)),
    arrays(np.float64, st.integers(1, 80), elements=st.integers(0, 40).map(lambda v: v / 2)),
)
def test_impact_ratio_decides_like_the_ratio(hf, lf):
    ratio = float(np.percentile(hf, 99) / max(np.percentile(lf, 99), 1e-9))
    got = _impact_ratio(hf, lf, 0.25)
    assert (got < 0.25) == (ratio < 0.25)
    assert got == ratio or (got == math.inf and ratio >= 0.25)


@pytest.mark.parametrize("n", [1, 7, 5000, 100_003])
def test_period_search_mean_is_the_nanmean(n):
    # dominant_period_s centres a NaN-free signal with np.mean instead of np.nanmean: bitwise the same
    rng = np.random.default_rng(n)
    for x in (rng.standard_normal(n) * 1e3 + 9.81, np.abs(rng.standard_normal(n)).cumsum()):
        assert np.array_equal(x - float(np.mean(x)), x - np.nanmean(x))
    t = np.arange(4000) / 100.0
    period, _ = dominant_period_s(np.sin(2 * np.pi * t / 1.2) + 2.0, 100.0, 0.5, 3.0)
    assert abs(period - 1.2) < 0.02


def test_long_recording_checks_match_the_plain_path():
    # 5 minutes at 200 Hz: the compiled rolling std and row selection are taken (≥ 50,000 samples);
    # the moving mask equals pandas' rolling std > 0.3 on the same band-passed magnitude
    rec = simulate_imu(ImuTruth(duration_s=300.0, placements=("foot",)), seed=3).recording
    s = rec.sensors[0]
    checked = check_imu_data(s.data, s.sampling_rate_hz, "foot")
    from stridelab.gait._signal import bandpass, row_norm

    dyn = row_norm(bandpass(checked.acc, 0.5, 15.0, s.sampling_rate_hz))
    expected = _rolling_reference(dyn, int(s.sampling_rate_hz)) > 0.3
    np.testing.assert_array_equal(checked.moving, expected)


def _troughs_loop(x: np.ndarray, ic: np.ndarray, span: int, head: int) -> np.ndarray:
    """The per-IC loop of ``_sacrum._following_troughs`` (wave 3), verbatim but for the arguments."""
    from scipy.signal import find_peaks

    to = []
    for p in ic:
        seg = x[p : p + span]
        if len(seg) < 3:
            continue
        mins, _ = find_peaks(-seg)
        top = int(np.argmax(seg[:head]))
        mins = mins[mins > top]
        if len(mins):
            to.append(p + int(mins[0]))
    return np.asarray(to, dtype=np.intp)


@settings(max_examples=100, deadline=None)
@given(
    arrays(np.float64, st.integers(0, 400), elements=st.integers(-3, 3).map(float)),
    st.integers(1, 60),
    st.integers(2, 40),
    st.integers(0, 2**31),
    st.booleans(),
)
def test_trough_kernel_equals_the_loop(x, span, head, seed, with_nan):
    # small integers: plateaus and ties everywhere; starts up to and past the end
    from stridelab.gait._kernels import troughs_after

    rng = np.random.default_rng(seed)
    if with_nan and len(x):
        x = x.copy()
        x[rng.integers(0, len(x), 3)] = np.nan
    ic = np.unique(rng.integers(0, len(x) + 5, rng.integers(0, 30)))
    np.testing.assert_array_equal(troughs_after(x, ic, span, head), _troughs_loop(x, ic, span, head))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_clipping_scan_reports_like_the_numpy_path(seed, monkeypatch):
    # a long signal: the compiled scan's counts/runs and note equal the numpy path's
    from stridelab.gait import _checks

    rng = np.random.default_rng(seed)
    acc = rng.standard_normal((60_000, 3)) * 12.0
    g = 9.80665
    acc[1000:1003, 0] = 8 * g  # a flat top: 3 samples at the maximum
    acc[5000, 0] = 8 * g
    if seed:
        acc[rng.integers(0, 60_000, 6), 2] = -16 * g  # 6 isolated samples at the minimum
    if seed == 2:
        acc[:, 1] = np.clip(acc[:, 1], -1.0, 1.0)  # extremes below 2 g: not counted
    acc = np.asfortranarray(acc)
    scan = _checks.clip_scan(acc, 2 * g)
    for k in range(3):
        col = acc[:, k]
        for extreme, count, longest in (scan[k, :3], scan[k, 3:]):
            assert extreme in (col.max(), col.min())
            if abs(extreme) < 2 * g:
                assert count == longest == -1
                continue
            at = np.abs(col - extreme) <= 1e-9
            assert count == at.sum()
            assert longest == max((b - a for a, b in _checks.runs(at)), default=0)
    compiled = _checks._clipping(acc)
    assert compiled is not None and "acc_x at +8.00 g (4 samples)" in compiled
    monkeypatch.setattr(_checks, "_COMPILED_FROM", 10**9)  # the numpy path on the same data
    assert _checks._clipping(acc) == compiled
