"""One-leg balance test: sway measures and touch-down time recovered from the synthetic stand."""

from __future__ import annotations

import pytest

from stridelab.gait import SingleLegStance, analyze_recording, compare_sides
from stridelab.io.imu import ImuRecording
from stridelab.sim.imu import simulate_single_leg_stance


def test_sway_and_no_touchdown():
    sensor, _truth = simulate_single_leg_stance(side="left", sway_rms_m_s2=0.2, seed=1)
    res = SingleLegStance(lowpass_hz=3.0).estimate(
        sensor.data, sampling_rate_hz=sensor.sampling_rate_hz, side="left"
    )
    assert res.sway_rms_m_s2_ == pytest.approx(0.2, rel=0.1)
    assert res.time_to_touchdown_s_ == pytest.approx(30.0)
    assert res.touched_down_ is False
    assert res.path_length_m_s2_ > 0 and res.ellipse_area_m2_s4_ > 0


def test_touchdown_detected_and_sway_before_it():
    sensor, _ = simulate_single_leg_stance(side="right", sway_rms_m_s2=0.3, touchdown_s=17.0, seed=2)
    res = SingleLegStance().estimate(sensor.data, sampling_rate_hz=sensor.sampling_rate_hz, side="right")
    assert res.touched_down_ is True
    assert res.time_to_touchdown_s_ == pytest.approx(17.0, abs=0.05)
    assert res.analysed_s_ == pytest.approx(17.0, abs=0.05)


def test_more_sway_scores_higher_and_sides_compare():
    s_left, _ = simulate_single_leg_stance(side="left", sway_rms_m_s2=0.1, seed=3)
    s_right, _ = simulate_single_leg_stance(side="right", sway_rms_m_s2=0.3, seed=3)
    left = SingleLegStance().estimate(s_left.data, sampling_rate_hz=100.0, side="left")
    right = SingleLegStance().estimate(s_right.data, sampling_rate_hz=100.0, side="right")
    assert right.sway_rms_m_s2_ > 2 * left.sway_rms_m_s2_
    assert right.ellipse_area_m2_s4_ > 4 * left.ellipse_area_m2_s4_
    assert right.path_length_m_s2_ > left.path_length_m_s2_
    cmp = compare_sides(left, right)
    assert cmp["sway_rms_m_s2_symmetry_index_pct"] < 0  # left sways less
    with pytest.raises(ValueError, match="left-leg result and a right-leg result"):
        compare_sides(right, left)


def test_balance_through_analyze_recording():
    sensor, _ = simulate_single_leg_stance(side="left", seed=4)
    res = analyze_recording(ImuRecording((sensor,), activity="balance"))
    assert res.activity == "balance" and res.balance is not None
    assert res.summary["side"] == "left" and len(res.events) == 0


def test_balance_bad_input():
    sensor, _ = simulate_single_leg_stance(side="left", seed=5)
    with pytest.raises(ValueError, match="are the data in g"):
        SingleLegStance().estimate(sensor.data / 9.81, sampling_rate_hz=100.0, side="left")
    with pytest.raises(ValueError, match="at least 5 s"):
        SingleLegStance().estimate(sensor.data.iloc[:300], sampling_rate_hz=100.0, side="left")
    early, _ = simulate_single_leg_stance(side="left", touchdown_s=1.0, seed=6)
    with pytest.raises(ValueError, match=r"touched down after 1\.0 s"):
        SingleLegStance().estimate(early.data, sampling_rate_hz=100.0, side="left")


def test_sway_formulas_on_a_known_trajectory():
    """A circular horizontal sway of radius r at f Hz, mounted at a random orientation: RMS = r, path
    length Σ‖Δa‖ = 2π·r·f·T, covariance r²/2·I so the 95 % ellipse area is π·χ²₀.₉₅,₂·√det Σ =
    π·5.991·r²/2 (Mancini 2012 / Prieto 1996 with χ² = 5.991 for 2 degrees of freedom)."""
    import math

    import numpy as np
    import pandas as pd

    from stridelab.sim.imu import random_rotation
    from stridelab.units import G

    fs, r, f, dur = 100.0, 0.2, 0.5, 30.0
    t = np.arange(int(dur * fs)) / fs
    body = np.column_stack([r * np.cos(2 * np.pi * f * t), r * np.sin(2 * np.pi * f * t), np.full(len(t), G)])
    rot = random_rotation(np.random.default_rng(7))
    data = pd.DataFrame(body @ rot.T, columns=["acc_x", "acc_y", "acc_z"])
    res = SingleLegStance().estimate(data, sampling_rate_hz=fs, side="left")
    assert res.touched_down_ is False
    assert res.sway_rms_m_s2_ == pytest.approx(r, rel=0.02)
    assert res.path_length_m_s2_ == pytest.approx(2 * math.pi * r * f * dur, rel=0.02)
    assert res.ellipse_area_m2_s4_ == pytest.approx(math.pi * 5.991 * r**2 / 2, rel=0.03)


@pytest.mark.parametrize("rate", [0.0, -100.0, float("nan"), 5.0])
def test_balance_refuses_a_bad_sampling_rate(rate):
    sensor, _ = simulate_single_leg_stance(side="left", seed=5)
    with pytest.raises(ValueError, match="sampling_rate_hz"):
        SingleLegStance().estimate(sensor.data, sampling_rate_hz=rate, side="left")
