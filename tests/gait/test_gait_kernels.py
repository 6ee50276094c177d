"""The compiled/vectorised numeric pieces of the IMU pipeline against the plain code they replace
(issue 15): scipy's zero-phase filter (bitwise), the FFT autocorrelation, the per-step loops."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.signal import butter
from scipy.signal import sosfiltfilt as scipy_sosfiltfilt

from stridelab.gait._checks import _percentile_above
from stridelab.gait._kernels import (
    foot_strides,
    median_per_segment,
    oscillation_per_segment,
    projected_covariance,
    range_and_rise_per_segment,
    sosfiltfilt,
    two_state_viterbi,
)
from stridelab.gait._signal import autocorrelation, dominant_period_s, lowpass, row_norm
from stridelab.gait.metrics import foot_phases
from stridelab.gait.metrics._kinematics import _oscillation

SOS = {
    "lowpass": butter(2, 0.15, output="sos"),
    "bandpass": butter(2, [0.01, 0.3], btype="band", output="sos"),
    "bandpass4": butter(4, [0.005, 0.2], btype="band", output="sos"),
}


@settings(max_examples=30, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(2, 300), st.sampled_from([1, 2, 3, 4, 7])),
        elements=st.floats(-50, 50),
    ),
    st.sampled_from(sorted(SOS)),
    st.integers(0, 40),
)
def test_compiled_filter_is_bitwise_scipy(x, kind, padlen):
    sos = SOS[kind]
    padlen = min(padlen, len(x) - 1)
    for data in (x, x[:, 0]):
        np.testing.assert_array_equal(
            sosfiltfilt(sos, data, padlen), scipy_sosfiltfilt(sos, data, axis=0, padlen=padlen)
        )


def test_compiled_filter_bitwise_on_a_long_signal():
    x = np.random.default_rng(3).standard_normal((120_000, 3)) + np.array([0.0, 0.0, 9.81])
    sos = SOS["bandpass"]
    np.testing.assert_array_equal(sosfiltfilt(sos, x, 15), scipy_sosfiltfilt(sos, x, axis=0, padlen=15))
    with pytest.raises(ValueError, match="longer than padlen"):
        sosfiltfilt(sos, x[:10], 10)


def test_blocked_autocorrelation_equals_the_full_fft():
    rng = np.random.default_rng(5)
    n = 9 * 8192 + 123  # long enough for the blocked path
    t = np.arange(n) / 200.0
    x = np.sin(2 * np.pi * t / 0.7) + 0.3 * rng.standard_normal(n)
    x -= x.mean()
    spec = np.fft.rfft(x, 2 * n)
    full = np.fft.irfft(spec * np.conj(spec), 2 * n)[:501]
    blocked = autocorrelation(x, 500)
    np.testing.assert_allclose(blocked, full, rtol=0, atol=1e-12 * full[0])
    assert dominant_period_s(x, 200.0, 0.4, 2.5)[0] == pytest.approx(0.7, abs=0.006)


def test_row_norm_is_bitwise_numpy():
    x = np.random.default_rng(1).standard_normal((5000, 3)) * 7
    np.testing.assert_array_equal(row_norm(x), np.linalg.norm(x, axis=1))


def test_segment_kernels_equal_their_loops():
    rng = np.random.default_rng(9)
    x = rng.standard_normal(3000)
    i0 = np.sort(rng.choice(2800, 60, replace=False))
    i1 = i0 + rng.integers(4, 150, 60)
    mid = i0 + (i1 - i0) // 2
    sign = rng.choice([-1.0, 1.0], 60)
    np.testing.assert_allclose(
        oscillation_per_segment(x, i0, i1, 200.0),
        [_oscillation(x[a:b], 200.0) for a, b in zip(i0, i1, strict=True)],
        rtol=1e-9,
    )
    segments = list(zip(i0, i1, strict=True))
    np.testing.assert_array_equal(median_per_segment(x, i0, i1), [np.median(x[a:b]) for a, b in segments])
    rng_, rise = range_and_rise_per_segment(x, i0, mid, i1, sign)
    np.testing.assert_array_equal(rng_, [np.ptp(x[a:b]) for a, b in segments])
    drops = [
        max(float((s * (x[a : m + 1] - x[a])).max()), 0.0) for a, m, s in zip(i0, mid, sign, strict=True)
    ]
    np.testing.assert_array_equal(rise, drops)


def _foot_strides_reference(fast, ms, max_gap):
    """The loop of FootEventDetection before it was compiled (main at d8e814a)."""
    ic_w, to_w, ic_r, to_r = [], [], [], []
    for a, b in itertools.pairwise(ms):
        if b - a > max_gap:
            continue
        m = (a + b) // 2
        first, second = fast[a:m], fast[m:b]
        ic_r.append(a + int(np.argmin(first)))
        to_r.append(m + int(np.argmin(second)))
        to_w.append(m + int(np.argmin(second)))
        zc = np.flatnonzero((first[:-1] > 0) & (first[1:] <= 0))
        if len(zc):
            i = a + int(zc[0])
            ic_w.append(i + fast[i] / (fast[i] - fast[i + 1]))
        else:
            ic_w.append(float(a + int(np.argmin(first))))
    return ic_w, to_w, ic_r, to_r


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_foot_cycle_kernel_equals_the_loop(seed):
    rng = np.random.default_rng(seed)
    fast = np.cumsum(rng.standard_normal(2000)) * 0.1 + np.sin(np.arange(2000) / 15)
    ms = np.sort(rng.choice(np.arange(0, 2000), rng.integers(2, 30), replace=False))
    ms = ms[np.r_[True, np.diff(ms) > 2]]
    got = foot_strides(fast, ms, 120.0)
    ref = _foot_strides_reference(fast, ms, 120.0)
    for g, r in zip(got, ref, strict=True):
        np.testing.assert_array_equal(g, np.asarray(r, dtype=g.dtype))


def _viterbi_reference(emit, repeat):
    """The two-state loop of ``alternating_sides`` before it was compiled (main at d8e814a)."""
    n = len(emit)
    total = emit[0].copy()
    back = np.zeros((n, 2), dtype=np.intp)
    for k in range(1, n):
        new = np.empty(2)
        for state in (0, 1):
            stay = total[state] + repeat[k]
            switch = total[1 - state]
            back[k, state] = state if stay < switch else 1 - state
            new[state] = min(stay, switch) + emit[k, state]
        total = new
    path = np.empty(n, dtype=np.intp)
    path[-1] = int(np.argmin(total))
    for k in range(n - 1, 0, -1):
        path[k - 1] = back[k, path[k]]
    return path


@settings(max_examples=40, deadline=None)
@given(
    arrays(
        np.float64, st.tuples(st.integers(1, 60), st.just(2)), elements=st.sampled_from([0.0, 0.5, 1.0, 2.0])
    ),
    st.integers(0, 2**32 - 1),
)
def test_two_state_viterbi_equals_the_loop(emit, seed):
    """Ties included (costs from a small set): the same labels as the Python loop."""
    repeat = np.random.default_rng(seed).choice([0.0, 1.0], len(emit))
    np.testing.assert_array_equal(two_state_viterbi(emit, repeat), _viterbi_reference(emit, repeat))


def _foot_phases_reference(w, fs, ic, to, still_rad_s):
    """The per-stride loop of ``foot_phases`` before it was compiled (main at 81884c1)."""
    rows = []
    for k in range(len(ic) - 1):
        after = to[(to > ic[k]) & (to < ic[k + 1])]
        if not len(after):
            continue
        t_to = float(after[0])
        i0, i1, i2 = round(ic[k] * fs), round(t_to * fs), round(ic[k + 1] * fs)
        still = np.flatnonzero(w[i0:i1] < still_rad_s)
        ff = hr = float("nan")
        if len(still):
            ff = (i0 + int(still[0])) / fs
            hr = (i0 + int(still[-1]) + 1) / fs
        j0, j1 = i1 + (i2 - i1) // 5, i2 - (i2 - i1) // 5
        peak = (j0 + int(np.argmax(w[j0:j1]))) / fs if j1 > j0 else float("nan")
        rows.append((float(ic[k]), ff, hr, t_to, peak, float(ic[k + 1])))
    return np.asarray(rows, dtype=float).reshape(-1, 6)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_foot_phase_kernel_equals_the_loop(seed):
    """Strides with and without a TO, stances with and without a still sample, ties of the peak."""
    rng = np.random.default_rng(seed)
    fs = 100.0
    gyr = np.round(np.abs(rng.standard_normal((1500, 3))) * rng.choice([0.2, 2.0], (1500, 1)), 1)
    ic = np.sort(rng.choice(np.arange(0, 1490), rng.integers(0, 25), replace=False)) / fs
    to = np.sort(rng.choice(np.arange(0, 1490), rng.integers(0, 25), replace=False)) / fs
    got = foot_phases(gyr, fs, ic, to, still_rad_s=0.9)
    w = lowpass(row_norm(gyr), 10.0, fs)
    np.testing.assert_array_equal(got.to_numpy(float), _foot_phases_reference(w, fs, ic, to, 0.9))


def test_projected_covariance_equals_numpy():
    rng = np.random.default_rng(4)
    v = rng.standard_normal((60_000, 3)) @ np.array([[3.0, 0.5, 0.0], [0.0, 1.0, 0.2], [0.1, 0.0, 0.4]])
    v += np.array([0.3, -2.0, 9.8])
    u = np.array([0.1, -0.2, 0.97])
    u /= np.linalg.norm(u)
    h = v - np.outer(v @ u, u)
    h -= h.mean(axis=0)
    np.testing.assert_allclose(projected_covariance(v, u), np.cov(h.T), rtol=1e-11, atol=1e-13)


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.float64, st.integers(1, 400), elements=st.sampled_from([0.0, 1.0, 2.0, 2.5, 3.0, 50.0])),
    st.sampled_from([50.0, 90.0, 99.0, 99.9]),
    st.sampled_from([0.5, 1.0, 2.0, 2.5, 2.9, 3.0, 49.0]),
)
def test_percentile_test_by_count_equals_numpy(x, q, limit):
    """Ties and limits equal to data values included."""
    assert _percentile_above(x, q, limit) == (float(np.percentile(x, q)) > limit)


def test_gravity_direction_without_nan_is_the_nanmean_bitwise():
    from stridelab.gait.orientation import gravity_direction

    a = np.random.default_rng(2).standard_normal((70_000, 3)) * 4 + np.array([0.2, -0.1, 9.8])
    for data in (a, np.asfortranarray(a)):
        m = np.nanmean(data, axis=0)
        np.testing.assert_array_equal(gravity_direction(data), m / np.linalg.norm(m))
    a[5, 1] = np.nan  # with NaN: the NaN rows' values are left out
    m = np.nanmean(a, axis=0)
    np.testing.assert_array_equal(gravity_direction(a), m / np.linalg.norm(m))
