"""Issue 15: the IMU simulator evaluates each pulse on its support only (linear in samples) and gives
the output of the whole-vector evaluation it replaced."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stridelab.sim import imu
from stridelab.sim.imu import ImuTruth, simulate_imu


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-1.0, 12.0), min_size=1, max_size=8),
    st.floats(0.002, 0.2),
    st.floats(-30.0, 30.0),
)
def test_windowed_pulses_equal_whole_vector_pulses(centers, width, amp):
    t = np.arange(2000) / 200.0
    whole = np.full(len(t), 9.80665)
    windowed = whole.copy()
    for c in centers:
        whole += amp * imu._gauss(t, c, width)
    imu._add_gausses(windowed, t, np.asarray(centers), width, amp)
    np.testing.assert_allclose(windowed, whole, rtol=0, atol=1e-13)


@pytest.mark.parametrize("activity", ["running", "walking"])
def test_simulated_recording_equals_the_unwindowed_simulator(monkeypatch, activity):
    """With an infinite support every pulse is evaluated over the whole time vector, as before."""
    truth = ImuTruth(
        activity=activity,
        duration_s=8.0,
        standing_s=1.0,
        cadence_spm=170.0 if activity == "running" else 110.0,
        contact_time_s=0.25 if activity == "running" else 0.7,
    )
    fast = simulate_imu(truth, seed=3)
    monkeypatch.setattr(imu, "_GAUSS_SUPPORT_WIDTHS", math.inf)
    whole = simulate_imu(truth, seed=3)
    assert [s.name for s in fast.recording.sensors] == [s.name for s in whole.recording.sensors]
    for a, b in zip(fast.recording.sensors, whole.recording.sensors, strict=True):
        np.testing.assert_allclose(a.data.to_numpy(), b.data.to_numpy(), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(fast.events["time_s"], whole.events["time_s"])
    assert fast.derived == pytest.approx(whole.derived, nan_ok=True)
