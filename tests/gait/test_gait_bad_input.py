"""Bad input is detected and reported clearly, never turned into silent numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stridelab.gait import ImuDataError, detect_events
from stridelab.gait.events import ShankEventDetection
from stridelab.sim.imu import ImuTruth, simulate_cycling, simulate_imu
from stridelab.units import G


@pytest.fixture(scope="module")
def shank():
    sim = simulate_imu(ImuTruth(duration_s=12.0, placements=("shank",)), seed=8)
    return sim.recording.sensor("left_shank")


def test_invalid_placement_message():
    data = pd.DataFrame(np.zeros((10, 3)), columns=["acc_x", "acc_y", "acc_z"])
    msg = (
        "Invalid value for the 'placement' parameter. Allowed values are 'foot', 'shank', 'sacrum', "
        "but got 'hip' instead."
    )
    with pytest.raises(ValueError, match=msg.replace(".", r"\.")):
        detect_events(data, sampling_rate_hz=100.0, placement="hip")


def test_acc_in_g_declared_as_si(shank):
    data = shank.data.copy()
    data[["acc_x", "acc_y", "acc_z"]] /= G
    with pytest.raises(ImuDataError, match="looks like it is in g"):
        detect_events(data, sampling_rate_hz=shank.sampling_rate_hz, placement="shank", side="left")


def test_gyr_in_deg_declared_as_rad(shank):
    data = shank.data.copy()
    data[["gyr_x", "gyr_y", "gyr_z"]] = np.rad2deg(data[["gyr_x", "gyr_y", "gyr_z"]])
    with pytest.raises(ImuDataError, match="looks like deg/s"):
        detect_events(data, sampling_rate_hz=shank.sampling_rate_hz, placement="shank", side="left")


def test_linear_acceleration_without_gravity(shank):
    data = shank.data.copy()
    acc = data[["acc_x", "acc_y", "acc_z"]].to_numpy()
    data[["acc_x", "acc_y", "acc_z"]] = acc - acc.mean(axis=0)
    with pytest.raises(ImuDataError, match="gravity"):
        detect_events(data, sampling_rate_hz=shank.sampling_rate_hz, placement="shank", side="left")


def test_gaps_are_refused_with_their_position(shank):
    data = shank.data.copy()
    data.iloc[1000:1100] = np.nan
    with pytest.raises(ImuDataError, match=r"missing samples \(gaps at 5\.00–5\.50 s"):
        detect_events(data, sampling_rate_hz=shank.sampling_rate_hz, placement="shank", side="left")


def test_clipping_is_reported_and_events_still_found(shank):
    data = shank.data.copy()
    limit = 2.5 * G
    data[["acc_x", "acc_y", "acc_z"]] = data[["acc_x", "acc_y", "acc_z"]].clip(-limit, limit)
    det = ShankEventDetection().detect(data, sampling_rate_hz=shank.sampling_rate_hz, side="left")
    assert any("clips" in p and "2.50 g" in p for p in det.problems_)
    assert len(det.ic_s_) >= 15  # 12 s of running, ~17 strides of this leg


def test_standing_still():
    rng = np.random.default_rng(0)
    data = pd.DataFrame(
        rng.normal(0, 0.02, (3000, 3)) + np.array([0.0, 0.0, G]), columns=["acc_x", "acc_y", "acc_z"]
    )
    with pytest.raises(ImuDataError, match="still"):
        detect_events(data, sampling_rate_hz=100.0, placement="sacrum")


def test_cycling_is_not_gait():
    data = simulate_cycling(duration_s=15.0)
    with pytest.raises(ImuDataError, match="cycling"):
        detect_events(data, sampling_rate_hz=100.0, placement="shank", side="left")


def test_sensor_fell_off_is_reported(shank):
    """Second half: the sensor lies still on the ground, turned over."""
    data = shank.data.copy()
    n = len(data)
    half = n // 2
    rng = np.random.default_rng(1)
    data.iloc[half:, :3] = rng.normal(0, 0.02, (n - half, 3)) + np.array([G, 0.0, 0.0])
    data.iloc[half:, 3:] = rng.normal(0, 0.005, (n - half, 3))
    det = ShankEventDetection().detect(data, sampling_rate_hz=shank.sampling_rate_hz, side="left")
    text = " ".join(det.problems_)
    assert "no movement from" in text and "fell off" in text
    assert "orientation relative to gravity changed" in text
    assert det.ic_s_.max() < half / shank.sampling_rate_hz + 1.0  # none once the sensor lies still


def test_too_low_sampling_rate(shank):
    with pytest.raises(ImuDataError, match="at least 40 Hz"):
        detect_events(shank.data, sampling_rate_hz=20.0, placement="shank", side="left")
    with pytest.raises(ValueError, match="positive number"):
        detect_events(shank.data, sampling_rate_hz=-1.0, placement="shank", side="left")


def test_foot_needs_gyroscope(shank):
    with pytest.raises(ImuDataError, match="needs a gyroscope"):
        detect_events(
            shank.data[["acc_x", "acc_y", "acc_z"]], sampling_rate_hz=200.0, placement="foot", side="left"
        )


def test_trunk_gyr_in_deg_declared_as_rad_in_a_slow_walk():
    """A lower-back gyroscope in deg/s reads only ~20-80 "rad/s" in a slow walk, under the 50 rad/s
    limit meant for feet: it used to be accepted and fed to the orientation filter and L/R decision."""
    from stridelab.sim.imu import ImuTruth, simulate_imu

    truth = ImuTruth(activity="walking", cadence_spm=100, contact_time_s=0.7, placements=("sacrum",))
    sim = simulate_imu(truth)
    data = sim.recording.sensor("sacrum").data.copy()
    gyr = ["gyr_x", "gyr_y", "gyr_z"]
    detect_events(data, sampling_rate_hz=200.0, placement="sacrum")  # in rad/s: fine
    data[gyr] = np.rad2deg(data[gyr])
    assert np.percentile(np.abs(data[gyr].to_numpy()), 99.9) < 50.0  # the old limit did not fire
    with pytest.raises(ImuDataError, match="looks like deg/s"):
        detect_events(data, sampling_rate_hz=200.0, placement="sacrum")


def test_numpy_scalar_rates_are_accepted_and_bools_refused(shank):
    for rate in (np.int64(200), np.float32(200.0)):
        ev = detect_events(shank.data, sampling_rate_hz=rate, placement="shank", side="left")
        assert len(ev) > 0
    with pytest.raises(ValueError, match="positive number"):
        detect_events(shank.data, sampling_rate_hz=True, placement="shank", side="left")


def test_si_data_declared_as_g(shank):
    data = shank.data.copy()
    data[["acc_x", "acc_y", "acc_z"]] *= G  # a reader applied acc_unit='g' to data in m/s²
    with pytest.raises(ImuDataError, match="already in m/s² but were declared in g"):
        detect_events(data, sampling_rate_hz=shank.sampling_rate_hz, placement="shank", side="left")
