"""The shank detector keeps the last IC of a recording when the TO search window runs past the end."""

from __future__ import annotations

import numpy as np
import pytest

from stridelab.gait.events import ShankEventDetection
from stridelab.sim.imu import ImuTruth, simulate_imu


@pytest.fixture(scope="module")
def run():
    truth = ImuTruth(activity="running", cadence_spm=170, contact_time_s=0.24, duration_s=12.0)
    return simulate_imu(truth, seed=5)


def _cut_detect(run, ic_offset_s: float, *, gyro: bool) -> tuple[float, float, np.ndarray, np.ndarray]:
    sensor = run.recording.sensor("left_shank")
    truth = run.events[run.events["side"] == "left"]
    ics = truth[truth["event"] == "IC"]["time_s"].to_numpy()
    tos = truth[truth["event"] == "TO"]["time_s"].to_numpy()
    last_ic = float(ics[ics < 10.0][-1])
    last_to = float(tos[tos > last_ic][0])
    end = round((last_ic + ic_offset_s) * sensor.sampling_rate_hz)
    data = sensor.data.iloc[:end]
    if not gyro:
        data = data[["acc_x", "acc_y", "acc_z"]]
    det = ShankEventDetection().detect(data, sampling_rate_hz=sensor.sampling_rate_hz, side="left")
    return last_ic, last_to, det.ic_s_, det.to_s_


@pytest.mark.parametrize("gyro", [False, True])
def test_last_ic_kept_when_to_window_is_cut(run, gyro):
    # cut 120 ms after the last IC: mid-stance, its TO (240 ms after IC) is not in the recording
    last_ic, last_to, ic, to = _cut_detect(run, 0.12, gyro=gyro)
    assert np.min(np.abs(ic - last_ic)) < 0.015, "the last IC was dropped"
    assert not np.any(np.abs(to - last_to) < 0.05)  # its TO is missing, not invented on the last sample
    assert np.all(to < last_ic + 0.12)


@pytest.mark.parametrize("gyro", [False, True])
def test_last_to_found_in_remaining_samples(run, gyro):
    # cut 140 ms after the last TO: the nominal window (55 % of a stride after the impact) runs past the
    # end, but the TO trough lies in the samples that remain
    last_ic, last_to, ic, to = _cut_detect(run, 0.24 + 0.14, gyro=gyro)
    assert np.min(np.abs(ic - last_ic)) < 0.015
    assert np.min(np.abs(to - last_to)) < 0.015
