"""Clean running segments and context flags on records with known events."""

from __future__ import annotations

import numpy as np
import pandas as pd
from _analysis_helpers import laps_frame

from stridelab.analysis import analyze_run, prepare_run
from stridelab.sim import Pause, RunTruth, simulate_run


def _records(n: int = 1200, speed: float = 3.0) -> pd.DataFrame:
    t = np.arange(n, dtype=float)
    idx = pd.DatetimeIndex(pd.Timestamp("2026-01-01T06:00Z") + pd.to_timedelta(t, unit="s"), name="time")
    rng = np.random.default_rng(0)
    v = np.full(n, speed) + rng.normal(0, 0.03, n)
    return pd.DataFrame(
        {
            "elapsed_s": t,
            "timer_s": t,
            "paused": np.zeros(n, dtype=bool),
            "lap_index": np.zeros(n, dtype=int),
            "speed_m_s": v,
            "distance_m": np.cumsum(v),
            "cadence_spm": np.full(n, 170.0),
            "stance_time_s": np.full(n, 0.25),
            "stance_time_balance_left_pct": 50.5 + rng.normal(0, 0.3, n),
        },
        index=idx,
    )


def test_walking_stopping_spikes_and_pauses_are_marked() -> None:
    rec = _records()
    rec.iloc[300:360, rec.columns.get_loc("speed_m_s")] = 1.3  # walking
    rec.iloc[300:360, rec.columns.get_loc("cadence_spm")] = 115.0
    rec.iloc[500:530, rec.columns.get_loc("speed_m_s")] = 0.0  # standing at a light
    rec.iloc[500:530, rec.columns.get_loc("cadence_spm")] = 0.0
    rec.iloc[700, rec.columns.get_loc("speed_m_s")] = 25.0  # GPS spike
    rec.iloc[900:950, rec.columns.get_loc("paused")] = True
    rec.iloc[1000:1020, rec.columns.get_loc("stance_time_balance_left_pct")] = 0.0  # sensor drop-out
    frame = prepare_run(rec)
    m = frame.masks
    assert m["walking"][310:350].all() and not m["walking"][100:290].any()
    assert m["stopped"][505:525].all()
    assert m["gps_spike"][700] and not m["gps_spike"][100]
    assert m["paused"][900:950].all()
    assert m["sensor_dropout"][1000:1020].all()
    assert m["warmup"][:100].all() and not m["warmup"][200]
    assert m["settling"][362:368].all()  # right after the walk
    assert np.isnan(frame.values["balance"][1005])
    assert frame.running[200] and not frame.running[320]


def test_excluded_time_adds_up() -> None:
    rec = _records()
    rec.iloc[300:360, rec.columns.get_loc("speed_m_s")] = 1.2
    a = analyze_run(rec)
    assert a.duration_s == 1200.0
    assert a.model_s + a.excluded_s == a.duration_s
    assert a.excluded_by_reason_s["walking"] >= 45
    assert "walking" in a.flags


def test_track_run_turns_left_and_hills_are_flagged() -> None:
    track = simulate_run(RunTruth(kind="intervals", duration_s=1800), seed=2)
    a = analyze_run(track.records, laps_frame(track))
    assert "track_bends" in a.flags and a.context["turn_direction"] == "left"
    assert "intervals" in a.flags
    hills = simulate_run(RunTruth(kind="hills", duration_s=1800), seed=3)
    h = analyze_run(hills.records, laps_frame(hills))
    assert "uphill" in h.flags and "downhill" in h.flags
    easy = simulate_run(RunTruth(kind="easy", duration_s=1800, terrain_amplitude_m=0.0), seed=4)
    e = analyze_run(easy.records, laps_frame(easy))
    assert "steady" in e.flags and "uphill" not in e.flags and "track_bends" not in e.flags


def test_grade_from_altitude_matches_the_road() -> None:
    run = simulate_run(RunTruth(kind="hills", duration_s=1800), seed=5)
    frame = prepare_run(run.records)
    truth = run.latent["grade_pct"].to_numpy() / 100.0
    ok = np.isfinite(frame.grade) & frame.running
    assert np.corrcoef(frame.grade[ok], truth[ok])[0, 1] > 0.95


def test_pause_in_records_is_a_gap_and_not_running_time() -> None:
    run = simulate_run(RunTruth(kind="easy", duration_s=1800, pauses=(Pause(900.0, 60.0),)), seed=6)
    frame = prepare_run(run.records)
    after = np.flatnonzero(np.diff(frame.t_s) > 30)[0] + 1
    assert frame.masks["record_gap"][after]
    assert frame.masks["settling"][after + 1 : after + 6].all()
    assert frame.run_time_s[-1] < frame.t_s[-1] - 50
