"""simulate_run: canonical records, determinism, pauses, laps, and recovery of the declared truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stridelab.io.fit import quantise
from stridelab.model import RECORD_COLUMNS, RUNNING_DYNAMICS_COLUMNS
from stridelab.sim import Pause, RunTruth, Segment, simulate_run


def _ols(y: np.ndarray, *cols: np.ndarray) -> np.ndarray:
    x = np.column_stack([np.ones_like(y), *cols])
    beta: np.ndarray = np.linalg.lstsq(x, y, rcond=None)[0]
    return beta


def _lag1(x: np.ndarray) -> float:
    x = x - x.mean()
    return float(np.dot(x[1:], x[:-1]) / np.dot(x, x))


def test_records_are_canonical_and_deterministic() -> None:
    truth = RunTruth(kind="tempo")
    a = simulate_run(truth, seed=7)
    b = simulate_run(truth, seed=7)
    c = simulate_run(truth, seed=8)
    pd.testing.assert_frame_equal(a.records, b.records)
    assert not a.records["stance_time_balance_left_pct"].equals(c.records["stance_time_balance_left_pct"])
    rec = a.records
    assert list(rec.columns) == [col for col in RECORD_COLUMNS if col in rec.columns]
    assert set(RUNNING_DYNAMICS_COLUMNS) <= set(rec.columns)
    assert isinstance(rec.index, pd.DatetimeIndex) and str(rec.index.tz) == "UTC" and rec.index.name == "time"
    assert not rec.isna().any().any()
    assert rec.index[0] == pd.Timestamp(truth.start_time)
    assert (np.diff(rec["timer_s"]) == 1.0).all()
    assert (np.diff(rec["distance_m"]) >= 0).all()
    assert (rec["cadence_spm"] == 2 * rec["cadence_rpm"]).all()


def test_values_are_quantised_as_fit_stores_them() -> None:
    rec = simulate_run(RunTruth(kind="hills"), seed=1).records
    checks = {
        "speed_m_s": ("enhanced_speed", 1.0),
        "distance_m": ("distance", 1.0),
        "altitude_m": ("enhanced_altitude", 1.0),
        "stance_time_s": ("stance_time", 1000.0),
        "stance_time_balance_left_pct": ("stance_time_balance", 1.0),
        "vertical_oscillation_m": ("vertical_oscillation", 1000.0),
        "step_length_m": ("step_length", 1000.0),
        "vertical_ratio_pct": ("vertical_ratio", 1.0),
        "stance_time_pct": ("stance_time_percent", 1.0),
    }
    for col, (field, factor) in checks.items():
        v = rec[col].to_numpy() * factor
        np.testing.assert_allclose(quantise(v, "record", field), v, rtol=0, atol=1e-9, err_msg=col)
    np.testing.assert_array_equal(rec["heart_rate_bpm"], np.rint(rec["heart_rate_bpm"]))
    np.testing.assert_array_equal(rec["cadence_rpm"] * 128, np.rint(rec["cadence_rpm"] * 128))


def test_no_sensor_means_no_running_dynamics() -> None:
    rec = simulate_run(RunTruth(sensor="none"), seed=0).records
    assert not set(RUNNING_DYNAMICS_COLUMNS) & set(rec.columns)
    assert {"cadence_rpm", "heart_rate_bpm", "speed_m_s"} <= set(rec.columns)


def test_pauses_stop_the_timer() -> None:
    truth = RunTruth(kind="easy", duration_s=1800, pauses=(Pause(600, 45), Pause(1200, 30)))
    run = simulate_run(truth, seed=3)
    rec = run.records
    assert len(rec) == 1801
    assert run.timer_s == 1800 and run.elapsed_s == 1800 + 75
    gaps = np.diff(rec["elapsed_s"])
    assert sorted(gaps[gaps > 1]) == [31, 46]
    kinds = [e.event_type for e in run.events]
    assert kinds == ["start", "stop_all", "start", "stop_all", "start", "stop_all"]
    stop, resume = run.events[1].time, run.events[2].time
    assert resume - stop == pd.Timedelta(seconds=45)
    assert stop in rec.index and not ((rec.index > stop) & (rec.index <= resume)).any()
    # the runner slows into the stop and restarts from a walk
    i = rec.index.get_loc(stop)
    assert rec["speed_m_s"].iloc[i] < 0.5 * rec["speed_m_s"].iloc[i - 20]


def test_auto_laps_every_km_and_segment_laps() -> None:
    run = simulate_run(RunTruth(kind="long", duration_s=3600), seed=2)
    dists = [lap.distance_m or 0.0 for lap in run.laps]
    assert all(d == pytest.approx(1000.0, abs=4.0) for d in dists[:-1])
    assert float(np.sum(dists)) == pytest.approx(run.distance_m, abs=0.05)
    assert run.laps[-1].trigger == "session_end" and run.laps[0].trigger == "distance"
    assert run.records["lap_index"].iloc[-1] == len(run.laps) - 1
    # the boundary record belongs to the new lap (its time is the lap start)
    for lap in run.laps:
        assert run.records.loc[lap.start_time, "lap_index"] == lap.index

    iv = simulate_run(RunTruth(kind="intervals"), seed=2)
    assert len(iv.laps) == sum(1 for s in iv.truth.segments if s.new_lap)
    assert [lap.intensity for lap in iv.laps[:3]] == ["warmup", "interval", "recovery"]
    assert float(np.sum([lap.timer_s for lap in iv.laps])) == iv.timer_s


def test_balance_truth_is_recovered_without_bias() -> None:
    """Across seeds, OLS on the records recovers level at ref speed, speed slope and drift."""
    truth = RunTruth(
        kind="intervals",
        duration_s=3600,
        balance_left_pct_at_ref=50.8,
        balance_speed_slope_pp_per_m_s=0.6,
        balance_drift_pp_per_h=0.8,
    )
    est, lag1, sd = [], [], []
    for seed in range(30):
        run = simulate_run(truth, seed=seed)
        r = run.records
        y = r["stance_time_balance_left_pct"].to_numpy()
        est.append(_ols(y, r["speed_m_s"].to_numpy() - truth.ref_speed_m_s, r["elapsed_s"].to_numpy() / 3600))
        noise = y - run.latent["balance_mean_left_pct"].to_numpy()
        lag1.append(_lag1(noise))
        sd.append(noise.std())
    e = np.array(est)
    target = np.array([50.8, 0.6, 0.8])
    se = e.std(axis=0, ddof=1) / np.sqrt(len(e))
    assert (np.abs(e.mean(axis=0) - target) < 4 * se + 0.01).all(), (e.mean(axis=0), se)
    assert (e.std(axis=0) < [0.15, 0.25, 0.5]).all()  # one run is informative
    assert np.mean(lag1) == pytest.approx(0.8, abs=0.02)
    assert np.mean(sd) == pytest.approx(0.6, abs=0.03)


def test_lap_offsets_and_sensor_bias_shift_balance() -> None:
    segs = tuple(Segment("steady", 600, 3.0) for _ in range(4))
    base = RunTruth(kind="custom", segments=segs, laps="segments", balance_drift_pp_per_h=0.0)
    cue = base.replace(lap_balance_offsets_pp={2: 1.5}, sensor_balance_bias_pp=-0.4)
    a = simulate_run(base, seed=5).records
    b = simulate_run(cue, seed=5).records
    diff = (
        (b["stance_time_balance_left_pct"] - a["stance_time_balance_left_pct"]).groupby(a["lap_index"]).mean()
    )
    np.testing.assert_allclose(diff.to_numpy(), [-0.4, -0.4, 1.1, -0.4], atol=0.02)
    seg_cue = base.replace(segments=(*segs[:3], Segment("steady", 600, 3.0, balance_offset_pp=-1.0)))
    c = simulate_run(seg_cue, seed=5).records
    diff = (
        (c["stance_time_balance_left_pct"] - a["stance_time_balance_left_pct"]).groupby(a["lap_index"]).mean()
    )
    np.testing.assert_allclose(diff.to_numpy(), [0.0, 0.0, 0.0, -1.0], atol=0.02)


def test_monotonic_physiology() -> None:
    """Faster -> shorter contact, higher cadence, longer steps, higher heart rate; uphill -> longer GCT."""
    segs = (
        Segment("steady", 600, 2.5),
        Segment("steady", 600, 3.5),
        Segment("steady", 600, 2.5, grade_pct=6.0),
    )
    t = RunTruth(kind="custom", segments=segs, laps="segments", terrain_amplitude_m=0.0, route="loop")
    r = simulate_run(t, seed=0).records
    m = r.iloc[120:].groupby("lap_index").mean()  # skip the start
    assert m.loc[1, "stance_time_s"] < m.loc[0, "stance_time_s"] < m.loc[2, "stance_time_s"]
    assert m.loc[1, "cadence_spm"] > m.loc[0, "cadence_spm"]
    assert m.loc[1, "step_length_m"] > m.loc[0, "step_length_m"]
    assert m.loc[1, "heart_rate_bpm"] > m.loc[0, "heart_rate_bpm"]
    assert m.loc[2, "altitude_m"] > m.loc[0, "altitude_m"] + 10
    assert 0.20 < m.loc[0, "stance_time_s"] < 0.32 and 30 < m.loc[0, "stance_time_pct"] < 42
    assert 6 < m.loc[0, "vertical_ratio_pct"] < 11


def test_walking_breaks_use_a_walking_gait() -> None:
    run = simulate_run(RunTruth(kind="easy", duration_s=2400, walk_break_every_s=480), seed=1)
    walk = run.latent["walking"].to_numpy()
    r = run.records
    assert walk.any()
    assert r["stance_time_s"][walk].mean() > 0.4 > r["stance_time_s"][~walk].mean()
    assert r["cadence_spm"][walk].mean() < 130 < r["cadence_spm"][~walk].mean()


def test_routes_stay_local_and_track_is_400m() -> None:
    run = simulate_run(RunTruth(kind="intervals"), seed=0)
    r = run.records
    lat0, lon0 = run.truth.start_lat_deg, run.truth.start_lon_deg
    dy = (r["lat_deg"] - lat0) * 111_195
    dx = (r["lon_deg"] - lon0) * 111_195 * np.cos(np.radians(lat0))
    assert dy.between(-8, 82).all() and dx.between(-45, 130).all()  # one 400 m track (+ GPS noise)
    assert r["altitude_m"].nunique() == 1
    loop = simulate_run(RunTruth(kind="easy", duration_s=3000), seed=0).records
    assert loop["altitude_m"].max() - loop["altitude_m"].min() > 8
