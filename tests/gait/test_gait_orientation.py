"""The compiled Madgwick filter equals the ``ahrs`` implementation; the Orientation is computed once per
sensor and shared (issue 15)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.io as sio
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from stridelab.gait import analyze_recording, sensor_orientations
from stridelab.gait.orientation import (
    Orientation,
    estimate_orientation,
    estimate_orientations,
    madgwick_quaternions,
    orientation_madgwick,
    vertical_in_sensor,
)
from stridelab.sim.imu import ImuTruth, simulate_imu
from stridelab.units import G

#: the two implementations run the same operations; they differ by floating-point rounding only
#: (ahrs normalises through numpy's norm). Measured: ≤ 7e-16 on the shared recordings.
QUAT_TOL = 1e-12


def _ahrs_vs_compiled(acc: np.ndarray, gyr: np.ndarray, fs: float) -> float:
    ref = orientation_madgwick(acc, gyr, fs)
    ours = estimate_orientation(acc, gyr, fs)
    assert ours.quaternions.shape == ref.shape
    return float(np.abs(ours.quaternions - ref).max())


def test_same_quaternions_as_ahrs_on_gaitmap_feet(shared_data):
    imu = pd.read_csv(
        shared_data / "imu" / "mad-lab-fau__gaitmap" / "imu_sample.csv", header=[0, 1], index_col=0
    )
    for side in ("left_sensor", "right_sensor"):
        s = imu[side]
        acc = s[["acc_x", "acc_y", "acc_z"]].to_numpy(float)
        gyr = np.deg2rad(s[["gyr_x", "gyr_y", "gyr_z"]].to_numpy(float))
        assert _ahrs_vs_compiled(acc, gyr, 204.8) <= QUAT_TOL


def test_same_quaternions_as_ahrs_on_mobgap_lower_back(shared_data):
    path = shared_data / "imu" / "mobilise-d__mobgap" / "lab" / "HA" / "001" / "data.mat"
    t = sio.loadmat(path, squeeze_me=True, struct_as_record=False)["data"].TimeMeasure1.Test5.Trial1
    acc = np.asarray(t.SU.LowerBack.Acc, dtype=float)[:4000] * G
    gyr = np.deg2rad(np.asarray(t.SU.LowerBack.Gyr, dtype=float))[:4000]
    assert _ahrs_vs_compiled(acc, gyr, 100.0) <= QUAT_TOL


@pytest.mark.parametrize("activity", ["running", "walking"])
def test_same_quaternions_as_ahrs_on_simulated_sensors(activity):
    truth = ImuTruth(
        activity=activity,
        duration_s=6.0,
        standing_s=1.0,
        cadence_spm=170.0 if activity == "running" else 110.0,
        contact_time_s=0.25 if activity == "running" else 0.7,
        placements=("foot", "sacrum", "chest"),
    )
    for s in simulate_imu(truth, seed=7).recording.sensors:
        acc = s.data[["acc_x", "acc_y", "acc_z"]].to_numpy(float)
        gyr = s.data[["gyr_x", "gyr_y", "gyr_z"]].to_numpy(float)
        assert _ahrs_vs_compiled(acc, gyr, s.sampling_rate_hz) <= QUAT_TOL, s.name


_vec = arrays(np.float64, (40, 3), elements=st.floats(-30, 30, allow_nan=False, width=64))


@settings(max_examples=25, deadline=None)
@given(_vec, _vec, st.sampled_from([50.0, 100.0, 204.8]), st.floats(0.001, 0.5))
def test_same_quaternions_as_ahrs_on_arbitrary_samples(acc, gyr, fs, gain):
    """Every branch of ahrs' update: zero angular velocity (state kept), zero acceleration (gyro only)."""
    acc = acc.copy()
    gyr = gyr.copy()
    acc[5] = 0.0
    gyr[7] = 0.0
    from ahrs.filters import Madgwick

    q0 = np.array([0.9, 0.1, -0.3, 0.2])
    ref = Madgwick(gyr=gyr, acc=acc, frequency=fs, gain=gain, q0=q0).Q
    ours = madgwick_quaternions(acc, gyr, fs, gain=gain, q0=q0)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=QUAT_TOL)


def test_orientation_result_and_bad_input():
    sim = simulate_imu(ImuTruth(duration_s=5.0, standing_s=1.0, placements=("sacrum",)), seed=2)
    s = sim.recording.sensors[0]
    acc, gyr = s.data[["acc_x", "acc_y", "acc_z"]].to_numpy(), s.data[["gyr_x", "gyr_y", "gyr_z"]].to_numpy()
    o = estimate_orientation(acc, gyr, 200.0)
    assert isinstance(o, Orientation) and len(o) == len(acc) and o.method == "madgwick"
    np.testing.assert_allclose(np.linalg.norm(o.quaternions, axis=1), 1.0, atol=1e-12)
    assert o.up_sensor is o.up_sensor  # computed once, kept
    np.testing.assert_array_equal(o.up_sensor, vertical_in_sensor(o.quaternions))
    # standing still at the start: 'up' is the direction of gravity in the sensor
    g = acc[:100].mean(axis=0)
    assert o.up_sensor[:100].mean(axis=0) @ (g / np.linalg.norm(g)) > 0.999
    with pytest.raises(ValueError, match="does not belong to this data"):
        o.check_matches(len(acc) - 1, 200.0, "pelvic_obliquity")
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        madgwick_quaternions(acc[:, :2], gyr[:, :2], 200.0, q0=[1, 0, 0, 0])
    with pytest.raises(ValueError, match="sampling rate"):
        madgwick_quaternions(acc, gyr, 0.0, q0=[1, 0, 0, 0])


def test_analysis_shares_one_orientation_per_sensor():
    """Given orientations are used as they are (not recomputed): the same ones give the same analysis,
    a different one (another gain) changes exactly the orientation-based metrics."""
    truth = ImuTruth(duration_s=12.0, placements=("foot", "sacrum"))
    rec = simulate_imu(truth, seed=11).recording
    base = analyze_recording(rec)
    given_ = sensor_orientations(rec)
    assert set(given_) == {"left_foot", "right_foot", "sacrum"}
    same = analyze_recording(rec, orientations=given_)
    pd.testing.assert_frame_equal(same.strides, base.strides)
    pd.testing.assert_frame_equal(same.steps, base.steps)
    s = rec.find("sacrum")[0]
    other = estimate_orientation(
        s.data[["acc_x", "acc_y", "acc_z"]].to_numpy(),
        s.data[["gyr_x", "gyr_y", "gyr_z"]].to_numpy(),
        200.0,
        gain=0.3,
    )
    changed = analyze_recording(rec, orientations={**given_, "sacrum": other})
    pd.testing.assert_frame_equal(changed.events, base.events)  # events come from the feet
    assert not np.allclose(
        changed.strides["pelvic_obliquity_range_rad"], base.strides["pelvic_obliquity_range_rad"]
    )
    np.testing.assert_array_equal(
        changed.strides["foot_strike_angle_rad"], base.strides["foot_strike_angle_rad"]
    )
    with pytest.raises(ValueError, match="does not belong"):
        analyze_recording(
            rec,
            orientations={
                "sacrum": estimate_orientation(
                    s.data[["acc_x", "acc_y", "acc_z"]].to_numpy()[:-5],
                    s.data[["gyr_x", "gyr_y", "gyr_z"]].to_numpy()[:-5],
                    200.0,
                )
            },
        )


def test_orientations_side_by_side_equal_one_at_a_time():
    """Groups of three and of two sensors of unequal length, another rate alone: bitwise the single filter."""
    rng = np.random.default_rng(11)
    sensors = []
    for n, fs in (
        (900, 200.0),
        (870, 200.0),
        (905, 200.0),
        (400, 100.0),
        (650, 200.0),
        (610, 200.0),
        (1, 200.0),
    ):
        acc = rng.standard_normal((n, 3)) * 3 + np.array([0.5, -1.0, 9.5])
        gyr = rng.standard_normal((n, 3)) * 2
        if n > 10:  # ahrs' branches: no rotation (state kept), no acceleration (gyroscope only)
            gyr[n // 2] = 0.0
            acc[n // 3] = 0.0
        sensors.append((acc, gyr, fs))
    together = estimate_orientations(sensors, gain=0.05)
    assert len(together) == len(sensors)
    for (acc, gyr, fs), o in zip(sensors, together, strict=True):
        alone = estimate_orientation(acc, gyr, fs, gain=0.05)
        np.testing.assert_array_equal(o.quaternions, alone.quaternions)
        assert o.sampling_rate_hz == fs and o.gain == 0.05
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        estimate_orientations([(sensors[0][0][:, :2], sensors[0][1][:, :2], 200.0)])
