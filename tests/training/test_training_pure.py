"""The pure training core: data in, results out (no store), and the plan round trip."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from stridelab.training import (
    ALL_EXERCISES,
    SOURCE_CATALOG,
    ExerciseLog,
    Plan,
    PlanInputs,
    StoredPlan,
    assess_log,
    build_plan,
    catalog_asymmetry,
    load_report,
    load_since,
    merge_asymmetry,
    stop_exercise_id,
    today_view,
)

MON = date(2026, 10, 5)


@dataclass(frozen=True)
class _Row:
    id: str
    start_time: pd.Timestamp
    distance_m: float | None
    duration_s: float | None
    sport: str | None = "running"
    summary: dict[str, Any] = field(default_factory=dict)


def _row(day: date, km: float, **summary: float) -> _Row:
    return _Row(
        f"r{day.isoformat()}",
        pd.Timestamp(day, tz="UTC") + pd.Timedelta(hours=7),
        km * 1000,
        3000.0,
        summary=summary,
    )


@pytest.mark.parametrize("minutes", [19.25, 24.0])
def test_a_saved_plan_reloads_with_the_same_minutes(minutes: float) -> None:
    """Regression: 975.04 s showed 16.3 min, its stored 975.0 s reloaded as 16.2 min."""
    for weeks in (4, 9, 12):
        d = build_plan(PlanInputs(start=MON, weeks=weeks, minutes=minutes, weaker_side="left")).to_dict()
        assert Plan.from_dict(d).to_dict() == d


def test_load_report_needs_no_store() -> None:
    rows = [_row(MON + timedelta(days=i), 5.0) for i in range(0, 35, 2)]
    rows.append(_Row("bike", pd.Timestamp(MON, tz="UTC"), 40000.0, 3600.0, sport="cycling"))
    today = MON + timedelta(days=34)
    assert load_since(rows, today) == MON
    assert load_since(rows, MON - timedelta(days=1)) is None
    rep = load_report(rows, today)
    assert len(rep.weeks) == 5 and rep.weeks[0].n_runs == 4 and rep.form_drift is None
    assert load_report([], today).message and "No runs imported yet" in load_report([], today).message


def test_asymmetry_merge_is_labelled_and_falls_back_row_by_row() -> None:
    a, b = (
        _row(MON, 8.0, stance_time_balance_left_pct_mean=51.0, stance_time_s_mean=0.25),
        _row(MON + timedelta(1), 8.0),
    )
    base = catalog_asymmetry([a, b])
    only_catalog = merge_asymmetry(base, None)
    assert set(only_catalog["source"]) == {SOURCE_CATALOG} and np.isnan(
        only_catalog.loc[1, "balance_left_pct"]
    )
    adjusted = pd.DataFrame({"activity_id": [a.id], "balance_left_pct": [50.2], "gct_s": [np.nan]})
    adjusted.attrs["ref_speed_m_s"] = 3.1
    df = merge_asymmetry(base, adjusted)
    assert df.loc[0, "balance_left_pct"] == pytest.approx(50.2) and df.loc[0, "gct_s"] == pytest.approx(0.25)
    assert df.loc[0, "source"].endswith("at 3.10 m/s)") and df.loc[1, "source"] == SOURCE_CATALOG


def test_logging_decisions_and_today_need_no_store() -> None:
    plan = build_plan(PlanInputs(start=MON, run_days=(0, 2, 5)))
    stored = StoredPlan(1, "2026-10-01T00:00:00.000000Z", plan)
    day = plan.sessions[0].date
    decision = assess_log(
        stored, day, "partial", exercises=(ExerciseLog("one_leg_squat", "left", reps=5, pain=8),)
    )
    assert decision.plan_id == 1 and decision.planned and decision.new_stops == (("one_leg_squat", 8.0),)
    assert assess_log(None, day, "done", pain=7).new_stops == ((ALL_EXERCISES, 7.0),)
    assert stop_exercise_id("all") == stop_exercise_id("*") == ALL_EXERCISES
    view = today_view(stored, [], [], day)
    assert view["plan_id"] == 1 and view["session"]["date"] == day.isoformat()
    assert "No plan yet" in today_view(None, [], [], day)["messages"][0]
