"""Foot trajectories (issue 20, point 2): the ZUPT-aided RTS Kalman smoother, spatial parameters per
stride, step width / crossover, shank swing boundaries, and the pipeline and CLI output."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.transform import Rotation
from typer.testing import CliRunner

from stridelab.cli import app
from stridelab.frames import FrameTransform
from stridelab.gait.metrics import gait_phases, shank_phases, stride_table
from stridelab.gait.trajectory import (
    FootTrack,
    ZuptRtsKalman,
    foot_track,
    gravity_quaternion,
    spatial_summary,
    step_widths,
    stride_spatial,
)
from stridelab.units import G

FS = 200.0
REF = Path(__file__).resolve().parents[1] / "data"


def _walk(length_m: float, lift_m: float, mounting: np.ndarray, n_strides: int = 5):
    """A foot that stands 1 s, then strides ``length_m`` forward (x) with a ``lift_m`` swing arc:
    stance 0.6 s (still), swing 0.4 s; sensor mounted with the constant rotation ``mounting``
    (sensor → world). Returns data, the zero-velocity mask, IC and TO times."""
    stand, stance, swing = 1.0, 0.6, 0.4
    total = stand + n_strides * (stance + swing) + stance
    t = np.arange(round(total * FS)) / FS
    a_w = np.zeros((len(t), 3))
    still = np.ones(len(t), bool)
    ic, to = [], []
    for k in range(n_strides):
        t_to = stand + k * (stance + swing) + stance
        ic.append(t_to - stance)
        to.append(t_to)
        tau = (t - t_to) / swing
        m = (tau >= 0) & (tau < 1)
        w = 2 * np.pi
        a_w[m, 0] = length_m / swing**2 * w * np.sin(w * tau[m])
        a_w[m, 2] = lift_m / 2 * (w / swing) ** 2 * np.cos(w * tau[m])
        still[m] = False
    ic.append(stand + n_strides * (stance + swing))
    f_s = (a_w + np.array([0, 0, G])) @ mounting  # sensor frame: R^T f_w, row-wise
    data = pd.DataFrame(f_s, columns=["acc_x", "acc_y", "acc_z"])
    for c in ("gyr_x", "gyr_y", "gyr_z"):
        data[c] = 0.0
    return data, still, np.asarray(ic), np.asarray(to)


@pytest.mark.parametrize("seed", [1, 2])
def test_stride_length_and_clearance_of_a_known_walk(seed):
    mounting = Rotation.random(random_state=seed).as_matrix()  # any mounting, any heading
    data, still, ic, to = _walk(1.3, 0.12, mounting)
    kf = ZuptRtsKalman().estimate(data, sampling_rate_hz=FS, zupt=still)
    fwd_s = mounting.T @ np.array([1.0, 0, 0])  # the foot's forward / left axes in sensor coordinates
    left_s = mounting.T @ np.array([0, 1.0, 0])
    tr = foot_track("left", kf.position_, kf.orientation_, kf.zupt_, FS, ic, to, fwd_s)
    sp = stride_spatial(tr.prints, kf.position_, kf.orientation_, FS, "left", left_s)
    assert len(sp) == 5
    np.testing.assert_allclose(sp.stride_length_m, 1.3, atol=0.01)
    np.testing.assert_allclose(sp.foot_clearance_m, 0.12, atol=0.01)
    np.testing.assert_allclose(sp.turning_angle_rad, 0.0, atol=1e-3)
    np.testing.assert_allclose(sp.eversion_excursion_rad, 0.0, atol=1e-3)  # the foot never rolls
    # feet adjacent: half of the stride, i.e. the middle of the (symmetric) swing
    np.testing.assert_allclose(sp.feet_adjacent_s - to, 0.2, atol=0.02)
    # the initial orientation from gravity puts the still foot level
    assert abs(kf.position_[-1, 2]) < 0.005


def test_not_still_at_the_start_is_refused():
    data, still, _, _ = _walk(1.3, 0.12, np.eye(3))
    still[: int(1.2 * FS)] = False
    with pytest.raises(Exception, match="still at the start"):
        ZuptRtsKalman().estimate(data, sampling_rate_hz=FS, zupt=still)
    with pytest.raises(ValueError, match="one flag per sample"):
        ZuptRtsKalman().estimate(data, sampling_rate_hz=FS, zupt=still[:-1])


def test_gravity_quaternion_levels_the_sensor():
    r = Rotation.random(random_state=4).as_matrix()
    q = gravity_quaternion(np.array([0, 0, G]) @ r)
    up = Rotation.from_quat(np.r_[q[1:], q[0]]).apply(np.array([0, 0, G]) @ r)
    np.testing.assert_allclose(up, [0, 0, G], atol=1e-9)


def _track(
    side: str, xy: np.ndarray, ic: np.ndarray, start_xy: np.ndarray, yaw: float, drift_rad_s: float = 0.0
) -> FootTrack:
    """A FootTrack whose own frame starts at ``start_xy`` (world) with heading offset ``yaw``; with
    ``drift_rad_s`` its heading error grows linearly in time (each step turned by the error at its middle),
    as a gyroscope bias about the vertical makes it."""
    rot = np.array([[math.cos(-yaw), -math.sin(-yaw)], [math.sin(-yaw), math.cos(-yaw)]])
    pts = np.vstack([start_xy, xy])
    tt = np.r_[1.0, ic]  # the foot leaves its standing place at 1 s
    err = drift_rad_s * 0.5 * (tt[1:] + tt[:-1])
    d = np.diff(pts, axis=0)
    d = np.c_[np.cos(err) * d[:, 0] - np.sin(err) * d[:, 1], np.sin(err) * d[:, 0] + np.cos(err) * d[:, 1]]
    own = (start_xy + np.cumsum(d, axis=0) - start_xy) @ rot.T
    n = int(FS * (ic[-1] + 2))
    still = np.zeros(n, bool)
    still[: int(FS)] = True  # both feet stand still in the first second
    prints = pd.DataFrame(
        {
            "ic_s": ic,
            "to_s": ic + 0.6,
            "x_m": own[:, 0],
            "y_m": own[:, 1],
            "z_m": 0.0,
            "heading_rad": -yaw,
            "flat_start": (ic * FS).astype(int) + 10,
            "flat_end": (ic * FS).astype(int) + 80,
        }
    )
    return FootTrack(side, np.zeros((n, 3)), np.full(n, -yaw), still, FS, prints)  # type: ignore[arg-type]


def test_step_width_and_crossover_from_two_unlinked_feet():
    k = np.arange(13)  # widths without a trend: the two paths are parallel (the method's assumption)
    true_w = 0.10 + 0.02 * (-1.0) ** k
    true_w[6] = -0.04  # one crossover step of the right foot
    left_xy = np.c_[1.3 * k, np.zeros(13)]
    right_xy = np.c_[1.3 * k + 0.65, -true_w]
    ic_l, ic_r = 1.2 + 1.1 * k, 1.75 + 1.1 * k
    # both start side by side 0.17 m apart (the default standing width); the right foot's frame is turned
    left = _track("left", left_xy, ic_l, np.zeros(2), 0.0)
    right = _track("right", right_xy, ic_r, np.array([0.0, -0.17]), 0.6)
    # without heading drift in the data, the old geometry exactly (no drift model)
    sw = step_widths(left, right, heading_drift=False)
    r = sw[sw.side == "right"].set_index("ic_s").step_width_m
    got = r.reindex(ic_r[:-1]).to_numpy()
    np.testing.assert_allclose(got, true_w[:-1], atol=1e-6)
    cross = sw[(sw.side == "right") & sw.crossover].ic_s.to_numpy()
    np.testing.assert_allclose(cross, [ic_r[6]])
    # a left footprint between right footprints 5 and 6: distance from that line
    lw = sw[sw.side == "left"].set_index("ic_s").step_width_m
    y5, y6 = -true_w[5], -true_w[6]
    np.testing.assert_allclose(lw.loc[ic_l[6]], -(y5 + y6) / 2, atol=1e-3)  # the line is tilted a little
    # a wrong standing-width assumption shifts every step width by its error (the documented limit)
    shifted = step_widths(left, right, standing_width_m=0.22, heading_drift=False)
    d = shifted.step_width_m.to_numpy() - sw.step_width_m.to_numpy()
    np.testing.assert_allclose(d[np.isfinite(d)], 0.05, atol=1e-3)
    summ = spatial_summary(pd.DataFrame({"side": [], "stride_length_m": []}), sw)
    assert summ["crossover_index_pct"] > 0 and summ["step_width_m"] > 0.05
    # the default (drift model) on drift-free data: the straight-path fit costs at most a few cm here
    # (the right foot zigzags ±2 cm and crosses over once), and the crossover is still the only one
    dflt = step_widths(left, right)
    r = dflt[dflt.side == "right"].set_index("ic_s").step_width_m.reindex(ic_r[:-1]).to_numpy()
    np.testing.assert_allclose(r, true_w[:-1], atol=0.03)
    assert dflt[dflt.crossover].ic_s.tolist() == [ic_r[6]]


@pytest.mark.parametrize(("drift_l", "drift_r"), [(0.004, -0.008), (-0.006, 0.0), (0.0, 0.01)])
def test_step_width_takes_out_each_foots_heading_drift(drift_l, drift_r):
    """Gyroscope biases of 0.2-0.6 deg/s about the vertical bend each foot's path; widths without the
    drift model are off by decimetres, with it within 3 cm, with the crossover found and no other."""
    k = np.arange(13)
    true_w = 0.10 + 0.02 * (-1.0) ** k
    true_w[6] = -0.04
    ic_l, ic_r = 1.2 + 1.1 * k, 1.75 + 1.1 * k
    left = _track("left", np.c_[1.3 * k, np.zeros(13)], ic_l, np.zeros(2), 0.0, drift_l)
    right = _track("right", np.c_[1.3 * k + 0.65, -true_w], ic_r, np.array([0.0, -0.17]), 0.6, drift_r)
    plain = step_widths(left, right, heading_drift=False)
    r0 = plain[plain.side == "right"].set_index("ic_s").step_width_m.reindex(ic_r[:-1]).to_numpy()
    assert np.abs(r0 - true_w[:-1]).max() > 0.08
    sw = step_widths(left, right)
    r = sw[sw.side == "right"].set_index("ic_s").step_width_m.reindex(ic_r[:-1]).to_numpy()
    np.testing.assert_allclose(r, true_w[:-1], atol=0.03)
    assert sw[sw.crossover].ic_s.tolist() == [ic_r[6]]
    # the deviation from the bout's mean does not depend on the standing width assumed
    other = step_widths(left, right, standing_width_m=0.25)
    np.testing.assert_allclose(other.step_width_dev_m, sw.step_width_dev_m, atol=1e-3)


def test_no_standing_next_to_the_walk_gives_no_step_width():
    k = np.arange(6)
    left = _track("left", np.c_[1.3 * k, np.zeros(6)], 10.0 + 1.1 * k, np.zeros(2), 0.0)
    right = _track(
        "right", np.c_[1.3 * k + 0.65, -0.1 * np.ones(6)], 10.55 + 1.1 * k, np.array([0, -0.17]), 0.2
    )
    sw = step_widths(left, right)
    assert len(sw) == 12 and sw.step_width_m.isna().all() and not sw.crossover.any()


def test_shank_swing_boundaries_and_phase_sources():
    t = np.arange(int(2.2 * FS)) / FS
    pitch = np.zeros_like(t)
    for t0 in (0.0, 1.1):  # TO at 0.65: backward rotation, zero crossing at 0.75, peak at 0.88
        pitch += -2.0 * np.exp(-0.5 * ((t - t0 - 0.66) / 0.04) ** 2)
        pitch += 5.0 * np.exp(-0.5 * ((t - t0 - 0.88) / 0.06) ** 2)
    frame = FrameTransform("sensor", "body", np.eye(3))  # sensor = body: right axis = -y
    gyr = np.c_[np.zeros_like(t), -pitch, np.zeros_like(t)]
    sp = shank_phases(gyr, FS, [0.0, 1.1, 2.2], [0.65, 1.75], frame)
    assert len(sp) == 2
    for k, t0 in enumerate((0.0, 1.1)):
        assert abs(sp.peak_swing_s[k] - t0 - 0.88) < 0.01
        assert 0.70 < sp.max_knee_flexion_s[k] - t0 < 0.80
    ev = pd.DataFrame(
        {"time_s": [0.0, 0.65, 1.1, 1.75, 2.2], "side": "left", "event": ["IC", "TO", "IC", "TO", "IC"]}
    )
    strides = stride_table(ev)
    ph = gait_phases(strides, sp.assign(side="left"))
    assert (ph.phase_source == "detected").all()  # a shank shows two of the three boundaries: all of them
    np.testing.assert_allclose(ph.initial_swing_end_s, sp.max_knee_flexion_s)
    np.testing.assert_allclose(ph.mid_swing_end_s, sp.peak_swing_s)
    # no gyroscope sign of swing: modelled thirds
    ph0 = gait_phases(strides, sp.assign(side="left", max_knee_flexion_s=np.nan, peak_swing_s=np.nan))
    assert (ph0.phase_source == "modelled").all()
    np.testing.assert_allclose(ph0.initial_swing_end_s, strides.to_s + strides.swing_time_s / 3)


# ----------------------------------------------------------------------------- shared gaitmap data
def _gaitmap(shared_data: Path):
    from stridelab.io.imu import read_imu

    path = shared_data / "imu" / "mad-lab-fau__gaitmap" / "imu_sample.csv"
    return path, read_imu(path, placement="foot", sampling_rate_hz=204.8, gyr_unit="deg/s")


def test_matches_gaitmap_rts_kalman(shared_data):
    """Our smoother against gaitmap's RtsKalman result (bench/gaitmap_rts_reference.py wrote it)."""
    _, rec = _gaitmap(shared_data)
    pos = pd.read_csv(REF / "gaitmap_rts_positions.csv.gz")
    zr = pd.read_csv(REF / "gaitmap_rts_zupts.csv.gz")
    for s in rec.sensors:
        r = pos[pos.side == s.side]
        theirs = r[["pos_x", "pos_y", "pos_z"]].to_numpy()
        z = np.zeros(len(s.data), bool)
        for a, b in zr[zr.side == s.side][["start", "end"]].to_numpy():
            z[a:b] = True
        kf = ZuptRtsKalman().estimate(s.data, sampling_rate_hz=204.8)
        assert (kf.zupt_ == z).mean() > 0.99
        dev = np.linalg.norm(kf.position_[r["sample"].to_numpy()] - theirs, axis=1)
        assert np.median(dev) < 0.01 and dev.max() < 0.02
        q0 = gravity_quaternion(s.data[["acc_x", "acc_y", "acc_z"]].to_numpy()[:10])
        same = ZuptRtsKalman().estimate(s.data, sampling_rate_hz=204.8, zupt=z, initial_quaternion=q0)
        assert np.linalg.norm(same.position_[r["sample"].to_numpy()] - theirs, axis=1).max() < 0.001
        # chunking at still periods changes nothing that matters
        chunked = ZuptRtsKalman(chunk_s=10.0).estimate(s.data, sampling_rate_hz=204.8)
        assert np.abs(chunked.position_ - kf.position_).max() < 0.005


def test_pipeline_and_cli_expose_spatial_values(shared_data, store_path):
    path, rec = _gaitmap(shared_data)
    from stridelab.gait import analyze_recording

    res = analyze_recording(rec)
    st = res.strides
    ok = st.stride_length_m.between(1.1, 1.7)
    assert ok.mean() >= 0.9  # mocap: 1.35 m on average
    assert st.foot_clearance_m.between(0.10, 0.22).mean() >= 0.9  # mocap mid-shoe lift ≈ 0.15 m
    for key in (
        "stride_length_m_symmetry_index_pct",
        "foot_clearance_m_left",
        "eversion_excursion_rad_right",
        "step_width_m",
        "crossover_index_pct",
    ):
        assert math.isfinite(res.summary[key]), key  # type: ignore[arg-type]
    assert abs(res.summary["stride_length_m_symmetry_index_pct"]) < 5  # type: ignore[arg-type]
    # step width only in the first straight bout: the standing period after the second follows a 180°
    # turn, so it does not anchor; the deviation from the bout's mean exists in both bouts
    assert res.steps.step_width_m.notna().mean() > 0.35 and res.steps.crossover.dtype == bool
    assert res.steps.step_width_dev_m.notna().mean() > 0.7
    assert 0.005 < res.summary["step_width_sd_m"] < 0.06  # type: ignore[operator]
    out = CliRunner().invoke(
        app,
        [
            "imu",
            str(path),
            "--placement",
            "foot",
            "--rate-hz",
            "204.8",
            "--gyr-unit",
            "deg/s",
            "--store",
            str(store_path),
            "--athlete",
            "ana",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    lengths = [r["stride_length_m"] for r in doc["strides"] if r["stride_length_m"] is not None]
    assert len(lengths) >= 0.9 * len(doc["strides"]) and "step_width_m" in doc["steps"][0]
    # kept in the store: the summary and the per-step table with the step width
    from stridelab.store import Store
    from stridelab.store.imu import load_imu_analysis

    stored = load_imu_analysis(Store.open(store_path), "ana", doc["id"])
    assert stored["summary"]["stride_length_m"] == pytest.approx(doc["summary"]["stride_length_m"])
    assert "step_width_m" in stored["steps"] and stored["steps"]["crossover"].dtype == bool
    text = CliRunner().invoke(
        app,
        [
            "imu",
            str(path),
            "--placement",
            "foot",
            "--rate-hz",
            "204.8",
            "--gyr-unit",
            "deg/s",
            "--no-store",
            "--strides",
        ],
    )
    assert text.exit_code == 0 and "stride length" in text.output and "per stride" in text.output


def test_a_foot_that_is_never_still_gets_no_trajectory_and_says_why():
    from stridelab.gait import analyze_recording
    from stridelab.sim.imu import ImuTruth, simulate_imu

    sim = simulate_imu(ImuTruth(duration_s=8.0, placements=("foot",)), seed=3)
    for s in sim.recording.sensors:  # a foot that always turns (1 rad/s): no zero-velocity sample
        s.data["gyr_x"] += 1.0
    res = analyze_recording(sim.recording)
    assert len(res.strides) >= 10
    assert sum("no foot trajectory" in p and "still" in p for p in res.problems) == 2, res.problems
    assert res.strides.stride_length_m.isna().all() and "step_width_m" not in res.steps
    assert "stride_length_m" not in res.summary
