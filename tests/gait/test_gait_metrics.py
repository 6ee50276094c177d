"""Metric maths: symmetry, stride/step tables, phases, vertical oscillation, strike pattern."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stridelab.gait.events import events_frame
from stridelab.gait.metrics import (
    gait_phases,
    step_table,
    stride_table,
    strike_pattern,
    symmetry,
    temporal_summary,
)
from stridelab.gait.metrics._kinematics import _oscillation

positive = st.floats(min_value=0.05, max_value=2.0, allow_nan=False)


@given(positive, positive)
def test_symmetry_properties(left, right):
    s = symmetry(left, right)
    m = symmetry(right, left)
    assert s["balance_left_pct"] + m["balance_left_pct"] == pytest.approx(100.0)
    assert s["symmetry_index_pct"] == pytest.approx(-m["symmetry_index_pct"])
    assert s["symmetry_angle_pct"] == pytest.approx(-m["symmetry_angle_pct"], abs=1e-9)
    assert -100.0 <= s["symmetry_angle_pct"] <= 100.0
    assert -200.0 < s["symmetry_index_pct"] < 200.0
    same = symmetry(left, left)
    assert same["balance_left_pct"] == pytest.approx(50.0)
    assert same["symmetry_index_pct"] == pytest.approx(0.0, abs=1e-12)


def test_symmetry_known_values_and_invalid():
    s = symmetry(0.26, 0.24)
    assert s["balance_left_pct"] == pytest.approx(52.0)
    assert s["symmetry_index_pct"] == pytest.approx(8.0)
    assert s["symmetry_angle_pct"] == pytest.approx(100 * (45 - math.degrees(math.atan(0.26 / 0.24))) / 90)
    assert math.isnan(symmetry(0.0, 0.2)["balance_left_pct"])


def _running_events(
    n: int = 10, stride: float = 0.7, gct_l: float = 0.26, gct_r: float = 0.24
) -> pd.DataFrame:
    ic_l = 1.0 + stride * np.arange(n)
    ic_r = ic_l + stride / 2
    return events_frame(
        np.r_[ic_l, ic_r],
        np.r_[ic_l + gct_l, ic_r + gct_r],
        ["left"] * n + ["right"] * n,
        ["left"] * n + ["right"] * n,
    )


def test_stride_and_step_tables_running():
    ev = _running_events()
    strides = stride_table(ev)
    assert len(strides) == 18
    left = strides[strides["side"] == "left"]
    assert np.allclose(left["contact_time_s"], 0.26)
    assert np.allclose(left["stride_time_s"], 0.7)
    assert np.allclose(left["swing_time_s"], 0.44)
    assert np.allclose(left["duty_factor"], 0.26 / 0.7)
    steps = step_table(ev, strides)
    assert np.allclose(steps["step_time_s"], 0.35)
    assert np.allclose(steps["cadence_spm"], 60 / 0.35)
    # flight before a right IC = right IC - left TO = 0.35 - 0.26
    r = steps[steps["side"] == "right"]
    assert np.allclose(r["flight_time_s"], 0.35 - 0.26)
    assert np.allclose(r["double_support_s"], 0.0)
    assert not steps["estimated_from_one_side"].any()
    summary = temporal_summary(strides, steps)
    assert summary["balance_left_pct"] == pytest.approx(100 * 0.26 / 0.50)
    assert summary["cadence_spm"] == pytest.approx(60 / 0.35)


def test_step_table_walking_double_support():
    ev = _running_events(stride=1.1, gct_l=0.68, gct_r=0.68)
    steps = step_table(ev)
    assert np.allclose(steps["flight_time_s"].dropna(), 0.0)
    assert np.allclose(steps["double_support_s"].dropna(), 0.68 - 0.55)


def test_one_sided_steps_are_flagged():
    ev = _running_events()
    ev = ev[ev["side"] == "left"].reset_index(drop=True)
    steps = step_table(ev)
    assert steps["estimated_from_one_side"].all()
    assert np.allclose(steps["flight_time_s"], (0.7 - 2 * 0.26) / 2)


def test_phases_are_ordered():
    phases = gait_phases(stride_table(_running_events()))
    cols = [
        "initial_contact_s",
        "mid_stance_s",
        "take_off_s",
        "initial_swing_end_s",
        "mid_swing_end_s",
        "terminal_swing_end_s",
    ]
    assert (np.diff(phases[cols].to_numpy(), axis=1) > 0).all()


def test_empty_events_give_typed_empty_tables():
    ev = events_frame([], [], [], [])
    strides = stride_table(ev)
    assert len(strides) == 0 and "contact_time_s" in strides.columns
    assert len(step_table(ev, strides)) == 0


@settings(max_examples=40, deadline=None)
@given(
    amplitude=st.floats(min_value=0.01, max_value=0.15),
    freq=st.floats(min_value=1.0, max_value=3.5),
    offset=st.floats(min_value=-3.0, max_value=3.0),
)
def test_vertical_oscillation_of_a_sinusoid(amplitude, freq, offset):
    """z = A sin(2πft) has a = -A(2πf)² sin(2πft); one period integrates back to 2A peak-to-peak,
    whatever constant bias (sensor offset) is added to the acceleration."""
    fs = 200.0
    t = np.arange(int(fs / freq)) / fs
    a = -amplitude * (2 * np.pi * freq) ** 2 * np.sin(2 * np.pi * freq * t) + offset
    assert _oscillation(a, fs) == pytest.approx(2 * amplitude, rel=0.03)


@pytest.mark.parametrize(
    ("deg", "pattern"),
    [(15.0, "rearfoot"), (8.5, "rearfoot"), (3.0, "midfoot"), (-1.0, "midfoot"), (-5.0, "forefoot")],
)
def test_strike_pattern_thresholds(deg, pattern):
    assert strike_pattern(math.radians(deg)) == pattern
    assert strike_pattern(float("nan")) == "unknown"
