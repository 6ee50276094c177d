"""Detected foot phases (issue 20, point 1): foot flat, heel rise and peak swing from the gyroscope."""

from __future__ import annotations

import numpy as np
import pytest

from stridelab.gait.metrics import foot_phases

FS = 200.0


def _stride_signal(rng: np.random.Generator) -> tuple[np.ndarray, dict[str, float]]:
    """Two strides: stance 0-0.6 s with a still period 0.12-0.42 s, swing peak at 0.85 s."""
    t = np.arange(int(2.4 * FS)) / FS
    w = np.zeros_like(t)
    truth = {"ff": 0.12, "hr": 0.42, "peak": 0.85}
    for t0 in (0.0, 1.1):
        w += 3.0 * np.exp(-0.5 * ((t - t0 - 0.04) / 0.03) ** 2)  # loading rotation after IC
        w += 3.0 * np.exp(-0.5 * ((t - t0 - 0.52) / 0.04) ** 2)  # push-off rotation before TO
        w += 6.0 * np.exp(-0.5 * ((t - t0 - truth["peak"]) / 0.08) ** 2)  # mid-swing
    gyr = np.column_stack([0.1 * w, w, 0.05 * w]) + rng.normal(0, 0.01, (len(t), 3))
    return gyr, truth


def test_boundaries_of_a_known_stride():
    gyr, truth = _stride_signal(np.random.default_rng(2))
    ph = foot_phases(gyr, FS, [0.0, 1.1, 2.2], [0.6, 1.7])
    assert len(ph) == 2
    for k, t0 in enumerate((0.0, 1.1)):
        row = ph.iloc[k]
        # the still period ends/starts where |ω| crosses 0.6 rad/s on the flanks of the two rotations
        assert truth["ff"] - 0.08 < row.foot_flat_s - t0 < truth["ff"]
        assert 0.42 < row.heel_rise_s - t0 < 0.46 + 0.02
        assert row.foot_flat_s < row.heel_rise_s < row.to_s
        assert abs(row.peak_swing_s - t0 - truth["peak"]) < 0.01


def test_no_still_period_is_nan_not_invented():
    t = np.arange(int(2.4 * FS)) / FS
    gyr = np.column_stack([np.zeros_like(t), 2.0 + np.sin(2 * np.pi * t), np.zeros_like(t)])
    ph = foot_phases(gyr, FS, [0.0, 1.1, 2.2], [0.3, 1.4])
    assert ph.foot_flat_s.isna().all() and ph.heel_rise_s.isna().all()
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        foot_phases(gyr[:, 0], FS, [0.0], [0.3])


def test_analysis_of_gaitmap_feet_has_detected_phases(shared_data):
    from stridelab.gait import analyze_recording
    from stridelab.io.imu import read_imu

    path = shared_data / "imu" / "mad-lab-fau__gaitmap" / "imu_sample.csv"
    res = analyze_recording(read_imu(path, placement="foot", sampling_rate_hz=204.8, gyr_unit="deg/s"))
    ph = res.phases
    # foot flat and feet adjacent (foot trajectory) on ≥ 90 % of strides; all three boundaries (with the
    # peak swing after feet adjacent) on ≥ 70 %
    some = ph[ph.phase_source != "modelled"]
    assert len(some) >= 0.9 * len(ph) and len(ph) >= 40
    assert some.foot_flat_s.notna().mean() >= 0.9 and some.feet_adjacent_s.notna().mean() >= 0.9
    det = ph[ph.phase_source == "detected"]
    assert len(det) >= 0.7 * len(ph)
    assert (det.initial_contact_s < det.foot_flat_s).all()
    assert (det.foot_flat_s < det.heel_rise_s).all() and (det.heel_rise_s <= det.take_off_s).all()
    assert (det.take_off_s < det.feet_adjacent_s).all() and (det.feet_adjacent_s < det.peak_swing_s).all()
    assert (det.peak_swing_s < det.terminal_swing_end_s).all()
    assert (det.mid_stance_s == det.foot_flat_s).all() and (
        det.initial_swing_end_s == det.feet_adjacent_s
    ).all()
    assert (det.mid_swing_end_s == det.peak_swing_s).all()
    # every stride's boundaries in order, detected or modelled
    seq = ph[
        [
            "initial_contact_s",
            "mid_stance_s",
            "take_off_s",
            "initial_swing_end_s",
            "mid_swing_end_s",
            "terminal_swing_end_s",
        ]
    ].to_numpy()
    assert (np.diff(seq, axis=1) > 0).all()
