"""Function tests from a waist sensor (issue 20, point 5): five-times sit-to-stand and tandem walk,
recovered from simulated signals with known truth (:mod:`stridelab.sim.function_tests`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stridelab.gait import SitToStand, TandemWalk
from stridelab.sim.function_tests import simulate_sit_to_stand, simulate_tandem_walk


@pytest.mark.parametrize(("rise_s", "with_gyr", "seed"), [(0.9, True, 0), (1.4, False, 1), (2.0, True, 2)])
def test_sit_to_stand_duration_and_rises(rise_s, with_gyr, seed):
    sensor, truth = simulate_sit_to_stand(rise_s=rise_s, sit_s=rise_s + 0.3, with_gyr=with_gyr, seed=seed)
    res = SitToStand().estimate(sensor.data, sampling_rate_hz=sensor.sampling_rate_hz)
    assert res.n_rises_found_ == 5 and res.complete_ and res.problems_ == ()
    assert list(res.transfers_["kind"]) == ["rise", "sit"] * 4 + ["rise"]
    assert res.duration_s_ == pytest.approx(truth["duration_s"], abs=0.3)
    np.testing.assert_allclose(res.rise_onset_s_, truth["rise_onset_s"], atol=0.2)


def test_sit_to_stand_slower_is_longer_and_incomplete_is_said():
    fast, _ = simulate_sit_to_stand(rise_s=1.0, seed=3)
    slow, _ = simulate_sit_to_stand(rise_s=1.8, sit_s=2.0, seed=3)
    d_fast = SitToStand().estimate(fast.data, sampling_rate_hz=100.0).duration_s_
    d_slow = SitToStand().estimate(slow.data, sampling_rate_hz=100.0).duration_s_
    assert d_slow > d_fast + 3.0
    three, _ = simulate_sit_to_stand(rises=3, seed=4)
    res = SitToStand().estimate(three.data, sampling_rate_hz=100.0)
    assert res.n_rises_found_ == 3 and not res.complete_


@pytest.mark.parametrize(
    ("off", "left_s", "right_s", "first", "seed"),
    [((), 0.9, 0.9, "left", 0), ((3,), 0.8, 1.0, "right", 1), ((2, 6), 1.1, 1.0, "left", 2)],
)
def test_tandem_walk_steps_off_line_and_sides(off, left_s, right_s, first, seed):
    sensor, truth = simulate_tandem_walk(
        off_line_steps=off, step_left_s=left_s, step_right_s=right_s, first_side=first, seed=seed
    )
    res = TandemWalk().estimate(sensor.data, sampling_rate_hz=sensor.sampling_rate_hz)
    assert res.n_steps_ == truth["steps"]
    assert list(np.flatnonzero(res.steps_["off_line"].to_numpy())) == truth["off_line_steps"]
    assert list(res.steps_["side"]) == truth["sides"]
    assert res.duration_s_ == pytest.approx(truth["duration_s"], abs=0.1)
    assert res.step_time_left_s_ == pytest.approx(truth["step_time_left_s"], abs=0.03)
    assert res.step_time_right_s_ == pytest.approx(truth["step_time_right_s"], abs=0.03)
    sign = np.sign(res.step_time_symmetry_index_pct_) if left_s != right_s else 0.0
    assert sign == np.sign(left_s - right_s)


def test_tandem_walk_without_gyroscope_has_no_sides():
    sensor, truth = simulate_tandem_walk(off_line_steps=(5,), with_gyr=False, seed=5)
    res = TandemWalk().estimate(sensor.data, sampling_rate_hz=100.0)
    assert res.steps_off_line_ == 1 and res.n_steps_ == truth["steps"]
    assert res.steps_["side"].isna().all() and np.isnan(res.step_time_symmetry_index_pct_)


def test_function_tests_refuse_bad_input():
    still = pd.DataFrame({"acc_x": np.zeros(1000), "acc_y": np.zeros(1000), "acc_z": np.full(1000, 9.81)})
    with pytest.raises(ValueError, match=r"no regular steps|fewer than two steps"):
        TandemWalk().estimate(still, sampling_rate_hz=100.0)
    with pytest.raises(ValueError, match="in g"):
        SitToStand().estimate(still / 9.81, sampling_rate_hz=100.0)
    with pytest.raises(ValueError, match="accelerometer columns"):
        SitToStand().estimate(still[["acc_x"]], sampling_rate_hz=100.0)
    with pytest.raises(ValueError, match="at least 3 s"):
        SitToStand().estimate(still.iloc[:100], sampling_rate_hz=100.0)


def test_sit_to_stand_says_when_transfers_do_not_alternate():
    """Two rises run together (a sit missing between them, as when the recording holds other activity)."""
    a, _ = simulate_sit_to_stand(rises=2, seed=8)
    b, _ = simulate_sit_to_stand(rises=4, seed=8)  # same seed: same mounting
    both = pd.concat([a.data.iloc[: len(a.data) - 150], b.data.iloc[150:]], ignore_index=True)
    res = SitToStand().estimate(both, sampling_rate_hz=100.0)
    assert res.n_rises_found_ >= 5
    assert res.problems_ and "do not alternate" in res.problems_[0]
    assert list(res.transfers_["kind"][:5]) == ["rise", "sit", "rise", "rise", "sit"]
