"""Issue 13, point 6: every "not computed" has its true reason, and a gap in the records is flagged.

Each test failed on the code before the fix (the message lied or the flag was missing)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from stridelab.analysis import analyze_run
from stridelab.present.analysis import run_analysis_json
from stridelab.present.format import FLAG_LABELS, flag_label
from stridelab.sim import Pause, RunTruth, simulate_run


def _messages(d: dict[str, Any]) -> dict[str, str]:
    return {m["code"]: m["message"] for m in d["messages"]}


def _treadmill(seed: int = 31) -> pd.DataFrame:
    """A treadmill run: a foot pod reports one speed (3.0 m/s, +-0.01), no GPS, no altitude."""
    run = simulate_run(RunTruth(kind="easy", duration_s=1800, warmup_s=300.0), seed=seed)
    rec = run.records.drop(columns=["lat_deg", "lon_deg", "altitude_m"])
    rng = np.random.default_rng(seed)
    speed = 3.0 + rng.normal(0.0, 0.01, len(rec))
    rec["speed_m_s"] = speed
    rec["distance_m"] = np.cumsum(speed)
    return rec


def test_treadmill_at_another_speed_says_null_not_extrapolated() -> None:
    """Before: "the pace-adjusted values are extrapolated" beside null values."""
    a = analyze_run(_treadmill())
    assert "speed" not in a.models["balance"].terms
    d = run_analysis_json(a, 3.3)  # 0.28 m/s above a single-speed run
    assert d["balance"]["at_ref_speed_left_pct"] is None
    msgs = _messages(d)
    assert not any("are extrapolated" in m for m in msgs.values())
    assert "ref_speed_extrapolated" not in d["flags"]
    assert "ref_speed_outside_single_speed_run" in d["flags"]
    assert "null, not extrapolated" in msgs["ref_speed_outside_single_speed_run"]
    assert (
        flag_label("ref_speed_outside_single_speed_run") == FLAG_LABELS["ref_speed_outside_single_speed_run"]
    )
    # at the run's own speed the value is given, and nothing is claimed
    own = run_analysis_json(a, 3.05)
    assert own["balance"]["at_ref_speed_left_pct"] is not None
    assert not any(c.startswith("ref_speed") for c in _messages(own))


def test_dropped_speed_term_is_said() -> None:
    """Before: the speed term was left out of the models without a word."""
    d = run_analysis_json(analyze_run(_treadmill()), 3.0)
    msgs = _messages(d)
    assert "no_speed_term" in msgs and "no_speed_term" in d["flags"]
    assert "not pace-adjusted" in msgs["no_speed_term"]
    assert "no_speed_term" in FLAG_LABELS
    # a run whose speed varies keeps its speed term and gets no such message
    run = simulate_run(RunTruth(kind="easy", duration_s=1800), seed=32)
    d2 = run_analysis_json(analyze_run(run.records), 3.0)
    assert "no_speed_term" not in _messages(d2) and "no_speed_term" not in d2["flags"]


def test_not_modelled_message_uses_the_json_numbers_and_names_the_cause() -> None:
    """Before: "only 280 s of clean running" beside ``modelled_s`` 2280 (here: the GCT values are lost
    after 6 minutes while balance goes on)."""
    run = simulate_run(RunTruth(kind="easy", duration_s=2700, warmup_s=300.0), seed=33)
    rec = run.records.copy()
    rec.loc[rec["elapsed_s"] > 350.0, "stance_time_s"] = np.nan
    d = run_analysis_json(analyze_run(rec), 3.0)
    assert d["gct_ms"]["at_ref_speed"] is None and d["balance"]["at_ref_speed_left_pct"] is not None
    msg = _messages(d)["gct_not_modelled"]
    assert f"of the {d['modelled_s']:.0f} s of model-ready running (modelled_s)" in msg
    usable = float(re.search(r"only (\d+) s usable", msg).group(1))  # type: ignore[union-attr]
    missing = float(re.search(r"(\d+) s have no Ground contact time value", msg).group(1))  # type: ignore[union-attr]
    assert usable < 300.0 < d["modelled_s"]
    assert abs(usable + missing - d["modelled_s"]) <= 2.0  # the two parts add up to modelled_s


def test_speed_missing_for_most_of_the_run_gives_null_with_the_reason() -> None:
    """A speed term fitted on the first minutes would pace-adjust the whole run: null + the reason."""
    run = simulate_run(RunTruth(kind="easy", duration_s=2700, warmup_s=300.0), seed=33)
    rec = run.records.copy()
    rec.loc[rec["elapsed_s"] > 450.0, "speed_m_s"] = np.nan  # the GPS / foot-pod speed is lost
    a = analyze_run(rec)
    d = run_analysis_json(a, 3.0)
    assert d["balance"]["at_ref_speed_left_pct"] is None
    assert d["balance"]["speed_slope_pp_per_m_s"]["estimate"] is None
    assert d["balance"]["drift_pp_per_h"]["estimate"] is not None  # raw drift, said so
    msgs = _messages(d)
    assert "speed_mostly_missing" in msgs and "no value is pace-adjusted" in msgs["speed_mostly_missing"]
    assert "drift_not_pace_adjusted" in d["flags"]


def _drop_records(rec: pd.DataFrame, start_s: float, stop_s: float) -> pd.DataFrame:
    el = rec["elapsed_s"]
    return rec[(el < start_s) | (el >= stop_s)]


def test_gap_without_a_pause_event_is_flagged() -> None:
    """Before: 90 s without records (the watch stopped recording, its timer running) passed unflagged."""
    run = simulate_run(RunTruth(kind="easy", duration_s=1800), seed=34)
    rec = _drop_records(run.records, 900.0, 990.0)  # timer_s runs on across the gap
    d = run_analysis_json(analyze_run(rec), 3.0)
    assert "record_gap" in d["flags"] and flag_label("record_gap") == FLAG_LABELS["record_gap"]
    msgs = _messages(d)
    assert "record_gap" in msgs and "no pause event" in msgs["record_gap"] and "91 s" in msgs["record_gap"]
    assert d["context"]["n_record_gaps"] == 1 and d["context"]["record_gap_s"] == 91.0
    # without a timer column (GPX, TCX) nothing tells a pause: the gap is flagged too
    d2 = run_analysis_json(analyze_run(rec.drop(columns=["timer_s"])), 3.0)
    assert "record_gap" in d2["flags"]


def test_a_real_pause_is_a_pause_not_a_record_gap() -> None:
    """A pause with timer stop/start events (no records while paused) is ``paused``, not ``record_gap``."""
    run = simulate_run(RunTruth(kind="easy", duration_s=1800, pauses=(Pause(900.0, 60.0),)), seed=35)
    assert not run.records["paused"].any()  # the device writes nothing while paused
    d = run_analysis_json(analyze_run(run.records), 3.0)
    assert "record_gap" not in d["flags"] and "record_gap" not in _messages(d)
    assert "paused" in d["flags"]
    assert d["context"]["n_record_gaps"] == 0
    assert d["excluded_by_reason_s"].get("record_gap", 0.0) > 0  # still out of running time
