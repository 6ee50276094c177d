"""Lower-back (sacrum) detector pieces: the CWT IC method and the left/right decision, on signals with
known truth (NeuroKit2 style), plus its option checks."""

from __future__ import annotations

import numpy as np
import pytest

from stridelab.gait.events import SacrumEventDetection
from stridelab.gait.events._lowback import (
    alternating_sides,
    cwt_initial_contacts,
    mexican_hat_cwt,
    side_evidence,
)
from stridelab.gait.orientation import gravity_direction
from stridelab.sim.imu import ImuTruth, simulate_imu

FS = 100.0


@pytest.fixture(scope="module")
def walk():
    return simulate_imu(
        ImuTruth(activity="walking", cadence_spm=108, contact_time_s=0.70, duration_s=15.0), seed=12
    )


def test_mexican_hat_has_zero_mean_and_keeps_length():
    x = np.full(500, 3.0)
    out = mexican_hat_cwt(x, 0.225, FS)
    assert out.shape == x.shape
    # an admissible wavelet ignores a constant (the ends are mirrored, so also there)
    assert np.max(np.abs(out)) < 1e-6 * 3.0 * 500


def test_cwt_finds_one_ic_per_step_before_the_loading_peak(walk):
    s = walk.recording.sensor("sacrum")
    acc = s.data[["acc_x", "acc_y", "acc_z"]].to_numpy()
    fs = s.sampling_rate_hz
    ic = cwt_initial_contacts(acc @ gravity_direction(acc), fs, band_hz=(0.15, 3.14), scale_s=0.225) / fs
    truth = walk.events[walk.events["event"] == "IC"]["time_s"].to_numpy()
    # the simulated walk starts after a still lead-in; the method is meant for gait periods (as mobgap
    # runs it per gait sequence), so compare over the walk, away from its end
    inner = truth[truth < truth.max() - 1.0]
    found = ic[(ic > truth.min() - 0.3) & (ic < truth.max() - 1.0)]
    assert abs(len(found) - len(inner)) <= 1
    # the steepest rise of the ~1 Hz-smoothed vertical acceleration comes before the heel strike
    offsets = np.array([ic[np.argmin(np.abs(ic - t))] - t for t in inner])
    assert np.all(offsets < 0.05)
    assert np.median(offsets) > -0.25


def test_cwt_method_end_to_end(walk):
    s = walk.recording.sensor("sacrum")
    det = SacrumEventDetection(ic_method="cwt").detect(s.data, sampling_rate_hz=s.sampling_rate_hz)
    n_true = int((walk.events["event"] == "IC").sum())
    assert det.gait_mode_ == "walking"
    assert abs(len(det.ic_s_) - n_true) <= 2
    assert set(det.events_["side"]) == {"left", "right"}


def test_invalid_ic_method_is_rejected_uniformly(walk):
    s = walk.recording.sensor("sacrum")
    with pytest.raises(
        ValueError,
        match=r"Invalid value for the 'ic_method' parameter\. Allowed values are 'max_slope', 'cwt', "
        r"but got 'wavelet' instead\.",
    ):
        SacrumEventDetection(ic_method="wavelet").detect(s.data, sampling_rate_hz=s.sampling_rate_hz)


def _turning_yaw(n_steps: int = 12, step_s: float = 0.55, turn_rad_s: float = 0.8):
    """Yaw rate = the step-alternating trunk rotation + a turn (a constant yaw rate) over steps 4-8."""
    t = np.arange(0, (n_steps + 1) * step_s, 1 / FS)
    ic_s = np.arange(n_steps) * step_s + 0.1
    # negative at LEFT ICs (McCamley): cos with the stride period, left on even steps
    yaw = -0.3 * np.cos(np.pi * (t - 0.1) / step_s)
    turn = (t > ic_s[4] - 0.2) & (t < ic_s[8] + 0.2)
    yaw = yaw + np.where(turn, turn_rad_s, 0.0)
    sides = np.array(["left", "right"] * (n_steps // 2), dtype=object)
    return yaw, ic_s, sides, step_s


def test_stride_mean_removes_the_turn_bias():
    yaw, ic_s, sides, _ = _turning_yaw()
    idx = np.round(ic_s * FS).astype(np.intp)
    raw = np.where(yaw[idx] < 0, "left", "right")
    assert np.mean(raw == sides) < 0.9, "the turn fools the raw sign"
    z = side_evidence(yaw, idx)
    inner = slice(5, 8)  # strides fully inside the turn
    assert (np.where(z < 0, "left", "right")[inner] == sides[inner]).all()


def test_alternation_fixes_a_weak_contradiction_but_not_a_strong_one():
    t = np.arange(8) * 0.5
    z = np.array([-1.0, 1.0, -1.0, -0.1, -1.0, 1.0, -1.0, 1.0])  # IC 3 weakly says left in a run
    expected = np.array(["left", "right"] * 4, dtype=object)
    assert (alternating_sides(z, t, 0.5, 1.0) == expected).all()
    # without the alternation prior: McCamley's per-IC sign
    assert alternating_sides(z, t, 0.5, 0.0)[3] == "left"
    strong = z.copy()
    strong[3] = -4.0  # four typical steps of evidence outweigh one repeat
    assert alternating_sides(strong, t, 0.5, 1.0)[3] == "left"


def test_a_missed_step_allows_a_repeat():
    # L R L [R missed] L R: the interval of two steps makes the repeat free
    t = np.array([0.0, 0.5, 1.0, 2.0, 2.5])
    z = np.array([-1.0, 1.0, -1.0, -1.0, 1.0])
    assert list(alternating_sides(z, t, 0.5, 1.0)) == ["left", "right", "left", "left", "right"]


def test_alternating_sides_empty():
    assert alternating_sides(np.zeros(0), np.zeros(0), 0.5, 1.0).shape == (0,)


@pytest.mark.parametrize(("balance", "seed"), [(52.0, 0), (47.0, 1)])
def test_asymmetric_runner_every_step_and_side_found(balance, seed):
    """An asymmetric runner (GCT balance 52 % / 47 %) makes the stride, not the step, the strongest
    autocorrelation period of the trunk signal; the detector must still find every step (it used to
    find ~60 % of them, with wrong sides) and recover the contact-time asymmetry."""
    sim = simulate_imu(ImuTruth(activity="running", gct_balance_left_pct=balance), seed=seed)
    s = sim.recording.sensor("sacrum")
    det = SacrumEventDetection().detect(s.data, sampling_rate_hz=s.sampling_rate_hz)
    truth = sim.events[sim.events["event"] == "IC"]
    assert det.gait_mode_ == "running"
    assert det.step_period_s_ == pytest.approx(60.0 / 170.0, abs=0.02)
    ic = det.events_[det.events_["event"] == "IC"]
    assert abs(len(ic) - len(truth)) <= 1
    t_true, side_true = truth["time_s"].to_numpy(), truth["side"].to_numpy()
    nearest = [int(np.argmin(np.abs(t_true - t))) for t in ic["time_s"]]
    assert np.all(np.abs(t_true[nearest] - ic["time_s"].to_numpy()) < 0.05)
    assert (side_true[nearest] == ic["side"].to_numpy()).mean() >= 0.95


@pytest.mark.parametrize(("cadence", "contact", "seed"), [(170.0, 0.25, 3), (160.0, 0.30, 2)])
def test_running_contact_time_from_the_trunk_is_not_biased_short(cadence, contact, seed):
    """The 0.6 g crossing at push-off comes ~20 ms before the force reaches 0 g; ending the contact there
    made lower-back contact times 25-35 ms short (and flight times long)."""
    truth = ImuTruth(activity="running", cadence_spm=cadence, contact_time_s=contact, placements=("sacrum",))
    sim = simulate_imu(truth, seed=seed)
    s = sim.recording.sensor("sacrum")
    det = SacrumEventDetection().detect(s.data, sampling_rate_hz=s.sampling_rate_hz)
    to_true = sim.events[sim.events["event"] == "TO"]["time_s"].to_numpy()
    to_det = det.events_[det.events_["event"] == "TO"]["time_s"].to_numpy()
    err = np.array([to_det[np.argmin(np.abs(to_det - t))] - t for t in to_true])
    assert abs(np.median(err)) < 0.008


@pytest.mark.parametrize(
    ("fs", "acc_noise", "step_left_pct", "gct_left_pct", "seed"),
    [(200.0, 0.05, 53.0, 47.0, 4), (100.0, 0.3, 47.0, 52.0, 5)],
)
def test_running_lower_back_asymmetry_recovered(fs, acc_noise, step_left_pct, gct_left_pct, seed):
    """Issue 20, point 4: a runner with asymmetric step times and contact times, seen by a lower-back IMU
    or a noisier 100 Hz phone on the waist: contact time, GCT balance and the step-time symmetry index
    match the truth computed from the simulator's events (bench/validate_imu.py runs the full grid)."""
    from stridelab.gait import analyze_recording
    from stridelab.gait.metrics import step_table, stride_table, temporal_summary

    truth = ImuTruth(
        activity="running",
        contact_time_s=0.26,
        gct_balance_left_pct=gct_left_pct,
        step_time_left_pct=step_left_pct,
        sampling_rate_hz=fs,
        acc_noise_m_s2=acc_noise,
        placements=("sacrum",),
    )
    sim = simulate_imu(truth, seed=seed)
    strides = stride_table(sim.events)
    ref = temporal_summary(strides, step_table(sim.events, strides))
    got = analyze_recording(sim.recording).summary
    assert abs(ref["step_time_symmetry_index_pct"]) > 8.0  # the asymmetry is really there
    assert got["step_time_symmetry_index_pct"] == pytest.approx(ref["step_time_symmetry_index_pct"], abs=2.5)
    assert got["balance_left_pct"] == pytest.approx(ref["balance_left_pct"], abs=1.0)
    assert got["contact_time_s"] == pytest.approx(ref["contact_time_s"], abs=0.02)
