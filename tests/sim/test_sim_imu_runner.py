"""The synthetic IMU runner: declared truth is validated and reflected in the signals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from stridelab.sim.imu import (
    ImuTruth,
    random_rotation,
    simulate_cycling,
    simulate_imu,
    simulate_single_leg_stance,
)
from stridelab.units import G


def test_truth_validation():
    with pytest.raises(ValueError, match="flight phase"):
        ImuTruth(activity="running", cadence_spm=170, contact_time_s=0.40)
    with pytest.raises(ValueError, match="double support"):
        ImuTruth(activity="walking", cadence_spm=110, contact_time_s=0.40)
    with pytest.raises(ValueError, match="'activity' parameter"):
        ImuTruth(activity="skipping")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'placements' parameter"):
        ImuTruth(placements=("wrist",))


def test_events_alternate_and_match_truth():
    truth = ImuTruth(
        cadence_spm=180, contact_time_s=0.2, gct_balance_left_pct=53.0, duration_s=8.0, placements=("sacrum",)
    )
    sim = simulate_imu(truth, seed=1)
    ic = sim.events[sim.events["event"] == "IC"]
    assert (ic["side"].to_numpy()[1:] != ic["side"].to_numpy()[:-1]).all()
    assert np.median(np.diff(ic["time_s"])) == pytest.approx(60 / 180, rel=0.03)
    for side, gct in (("left", truth.contact_time_left_s), ("right", truth.contact_time_right_s)):
        e = sim.events[sim.events["side"] == side]
        stance = e[e["event"] == "TO"]["time_s"].to_numpy() - e[e["event"] == "IC"]["time_s"].to_numpy()
        assert np.allclose(stance, gct)
    assert truth.contact_time_left_s == pytest.approx(0.2 * 1.06)


def test_mounting_is_a_rotation_and_gravity_is_kept():
    sim = simulate_imu(ImuTruth(duration_s=5.0, placements=("foot", "chest")), seed=2)
    for name, rot in sim.mounting.items():
        assert np.allclose(rot @ rot.T, np.eye(3)) and np.linalg.det(rot) == pytest.approx(1.0)
        s = sim.recording.sensor(name)
        still = s.data.iloc[: int(2 * s.sampling_rate_hz)]
        assert np.linalg.norm(still[["acc_x", "acc_y", "acc_z"]].mean()) == pytest.approx(G, rel=0.02)


def test_right_foot_is_the_mirror_of_the_left():
    sim = simulate_imu(
        ImuTruth(
            duration_s=6.0,
            placements=("foot",),
            acc_noise_m_s2=0,
            gyr_noise_rad_s=0,
            cadence_spm=160,
            gct_balance_left_pct=50.0,
            stride_jitter=0.0,
        ),
        seed=3,
    )
    lf, rf = sim.recording.sensor("left_foot"), sim.recording.sensor("right_foot")
    # same magnitude profiles, shifted by half a stride
    shift = round(60 / sim.truth.cadence_spm * lf.sampling_rate_hz)
    gl = np.linalg.norm(lf.data[["gyr_x", "gyr_y", "gyr_z"]].to_numpy(), axis=1)
    gr = np.linalg.norm(rf.data[["gyr_x", "gyr_y", "gyr_z"]].to_numpy(), axis=1)
    mid = slice(900, 1300)
    assert np.allclose(gl[mid], gr[mid.start + shift : mid.stop + shift], atol=0.01)


def test_random_rotation_is_uniformish():
    rng = np.random.default_rng(0)
    z = np.array([random_rotation(rng)[:, 2] for _ in range(400)])
    assert np.abs(z.mean(axis=0)).max() < 0.1


def test_balance_and_cycling_generators():
    sensor, truth = simulate_single_leg_stance(side="right", sway_rms_m_s2=0.25, seed=1)
    assert sensor.side == "right" and truth["time_to_touchdown_s"] == 30.0
    cyc = simulate_cycling(duration_s=5.0)
    assert list(cyc.columns) == ["acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]
    assert np.median(np.linalg.norm(cyc[["acc_x", "acc_y", "acc_z"]].to_numpy(), axis=1)) == pytest.approx(
        G, rel=0.1
    )


def test_truth_dict_is_json_ready():
    import json

    sim = simulate_imu(
        ImuTruth(duration_s=8.0, placements=("sacrum",), foot_strike_angle_rad=math.radians(5)), seed=1
    )
    text = json.dumps(sim.truth_dict())
    assert "vertical_oscillation_m" in text and "NaN" not in text
