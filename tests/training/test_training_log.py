"""Logging, adherence, pain stops, a missed week, balance tests, the seam and the outcome link."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stridelab.services.training import (
    SOURCE_CATALOG,
    ExerciseLog,
    LogError,
    PlanInputs,
    active_plan,
    adherence,
    balance_chart,
    balance_history,
    build_plan,
    clear_stop,
    gather_evidence,
    log_session,
    outcome_chart,
    outcome_table,
    record_balance_test,
    run_asymmetry,
    save_plan,
    session_logs,
    today_session,
)
from stridelab.store import Store

START = date(2026, 12, 7)


@pytest.fixture
def plan_id(store: Store) -> int:
    plan = build_plan(PlanInputs(start=START, run_days=(0, 2, 5), weaker_side="left"))
    return save_plan(store, "me", plan, created_at="2026-11-21T00:00:00.000000Z")


def _days(store: Store) -> list[date]:
    stored = active_plan(store, "me")
    assert stored is not None
    return [s.date for s in stored.plan.sessions]


def test_logging_and_adherence(store: Store, plan_id: int) -> None:
    d = _days(store)
    res = log_session(
        store, "me", d[0], "done", rpe=6, pain=1, exercises=(ExerciseLog("one_leg_squat", "left", reps=40),)
    )
    assert res.planned and res.log.plan_id == plan_id and res.log.exercises[0].reps == 40
    log_session(store, "me", d[1], "partial", rpe=7)
    log_session(store, "me", d[2], "skipped")
    stored = active_plan(store, "me")
    a = adherence(stored.plan, session_logs(store, "me", plan_id), d[3])
    # today's session (d[3]) is not missed while the day is open
    assert (a["due"], a["done"], a["partial"], a["skipped"], a["missed"]) == (3, 1, 1, 1, 0)
    assert a["adherence_pct"] == pytest.approx(100 * 1.5 / 3)
    later = adherence(stored.plan, session_logs(store, "me", plan_id), d[4])
    assert (later["due"], later["missed"]) == (4, 1)
    assert a["mean_rpe"] == 6.5 and a["max_pain"] == 1
    assert a["phases"][0]["due"] == 3 and a["phases"][1]["due"] == 0
    # re-logging a day replaces it (one log per day), and streaks count from the latest
    log_session(store, "me", d[2], "done")
    log_session(store, "me", d[3], "done")
    a = adherence(stored.plan, session_logs(store, "me", plan_id), d[3])
    assert a["skipped"] == 0 and a["done"] == 3 and a["streak_done"] == 2
    assert len(session_logs(store, "me", plan_id)) == 4


def test_pain_seven_stops_the_exercise_until_cleared(store: Store, plan_id: int) -> None:
    d = _days(store)
    res = log_session(
        store, "me", d[0], "partial", exercises=(ExerciseLog("one_leg_squat", "left", reps=10, pain=8),)
    )
    assert any(m.startswith("STOP") and "see a physiotherapist or doctor" in m for m in res.messages)
    assert [s.exercise_id for s in res.stops] == ["one_leg_squat"]
    view = today_session(store, "me", d[1])
    ids = {i["exercise_id"] for i in view["session"]["items"]}
    assert "one_leg_squat" not in ids and ids
    assert sum(m.startswith("STOP 'One-legged squat'") for m in view["messages"]) == 1
    assert clear_stop(store, "me", "one_leg_squat", d[1]) == 1
    view = today_session(store, "me", d[1])
    assert "one_leg_squat" in {i["exercise_id"] for i in view["session"]["items"]}


def test_session_pain_seven_pauses_the_program(store: Store, plan_id: int) -> None:
    d = _days(store)
    res = log_session(store, "me", d[0], "partial", pain=7)
    assert any("Pause the program" in m for m in res.messages)
    view = today_session(store, "me", d[1])
    assert view["session"] is None and any("withheld" in m for m in view["messages"])
    clear_stop(store, "me", "all", d[1])
    assert today_session(store, "me", d[1])["session"] is not None


def test_moderate_pain_suggests_the_easier_variant(store: Store, plan_id: int) -> None:
    d = _days(store)
    res = log_session(
        store, "me", d[0], "done", exercises=(ExerciseLog("one_leg_squat", "right", reps=30, pain=5),)
    )
    assert not res.stops
    assert any("One-legged squat to a chair" in m for m in res.messages)


def test_missed_week_repeats_the_previous_dosage(store: Store, plan_id: int) -> None:
    stored = active_plan(store, "me")
    week1 = [s for s in stored.plan.sessions if s.week == 1]
    week2 = [s for s in stored.plan.sessions if s.week == 2]
    view = today_session(store, "me", week2[0].date)
    assert any("You missed week 1" in m for m in view["messages"])
    assert [(i["exercise_id"], i["sets"], i.get("reps")) for i in view["session"]["items"]] == [
        (i.exercise_id, i.sets, int(i.amount) if i.kind == "reps" else None) for i in week1[0].items
    ]
    assert all("week 1 was missed" in i["why"] for i in view["session"]["items"])
    # after doing one session of week 1 the plan moves on as written
    log_session(store, "me", week1[0].date, "done")
    view = today_session(store, "me", week2[0].date)
    assert not any("missed" in m for m in view["messages"])
    assert view["session"]["items"] == week2[0].to_dict()["items"]


def test_rest_days_no_plan_and_bad_input(store: Store) -> None:
    assert "No plan yet" in today_session(store, "me", START)["messages"][0]
    res = log_session(store, "me", START, "done")
    assert not res.planned and "off-plan" in res.messages[0]
    save_plan(store, "me", build_plan(PlanInputs(start=START, run_days=(0, 2, 5))))
    view = today_session(store, "me", START)  # a Monday: phase 1 avoids run days
    assert view["session"] is None and view["next_date"] == "2026-12-08"
    assert "before" not in " ".join(view["messages"])
    for kwargs, flag in (
        ({"status": "maybe"}, "--status"),
        ({"status": "done", "rpe": 11}, "--rpe"),
        ({"status": "done", "pain": -1}, "--pain"),
        ({"status": "done", "exercises": (ExerciseLog("nope", "left", 1),)}, "--item"),
    ):
        status = kwargs.pop("status")
        with pytest.raises(LogError, match=flag):
            log_session(store, "me", START, status, **kwargs)  # type: ignore[arg-type]


def test_balance_tests_history_evidence_and_chart(store: Store, tmp_path: Path) -> None:
    for day, left, right in ((date(2026, 11, 1), 15.0, 30.0), (date(2026, 11, 8), 18.0, 31.0)):
        record_balance_test(store, "me", "left", left, "open", day)
        record_balance_test(store, "me", "right", right, "open", day)
    record_balance_test(store, "me", "left", 6.0, "closed", date(2026, 11, 8))
    hist = balance_history(store, "me")
    assert list(hist["seconds"]) == [15.0, 30.0, 18.0, 31.0, 6.0]
    ev = gather_evidence(store, "me", date(2026, 11, 21), provider=False)
    assert len(ev.balance) == 1  # eyes closed has one side only: no asymmetry from it
    assert ev.balance[0].left_s == pytest.approx(16.5) and ev.balance[0].right_s == pytest.approx(30.5)
    plan = build_plan(PlanInputs(start=START), ev)
    assert plan.weaker_side == "left" and "16.5 s" in plan.tailoring["weaker_side_reason"]
    with pytest.raises(ValueError, match="'side' parameter"):
        record_balance_test(store, "me", "middle", 10.0)
    with pytest.raises(ValueError, match="'seconds' parameter"):
        record_balance_test(store, "me", "left", -1.0)
    png = balance_chart(hist, tmp_path / "bal.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_seam_falls_back_to_labelled_catalog_means(store: Store, add_run) -> None:
    a = add_run(date(2026, 11, 2), 8000, 2400, balance_left_pct=51.2, gct_s=0.252)
    b = add_run(date(2026, 11, 4), 8000, 2400)  # no running dynamics
    add_run(date(2026, 11, 5), 20000, 2400, sport="cycling", balance_left_pct=55.0)
    df = run_asymmetry(store, "me", provider=False)
    assert list(df["activity_id"]) == [a.id, b.id]
    assert df.loc[0, "balance_left_pct"] == pytest.approx(51.2) and df.loc[0, "gct_s"] == pytest.approx(0.252)
    assert np.isnan(df.loc[1, "balance_left_pct"])
    assert set(df["source"]) == {SOURCE_CATALOG}

    def provider(store_: Store, athlete: str, since: date | None, until: date | None) -> pd.DataFrame:
        return pd.DataFrame({"activity_id": [a.id], "balance_left_pct": [50.4], "gct_s": [np.nan]})

    df = run_asymmetry(store, "me", provider=provider)
    assert df.loc[0, "balance_left_pct"] == pytest.approx(50.4)
    assert df.loc[0, "gct_s"] == pytest.approx(0.252)  # NaN from the provider keeps the catalog value
    assert df.loc[0, "source"].startswith("pace-adjusted") and df.loc[1, "source"] == SOURCE_CATALOG


def test_seam_uses_the_real_run_analytics_when_it_can(store: Store) -> None:
    """1 Hz runs whose balance depends on speed: the analytics' value at the reference speed is used."""
    import hashlib

    from stridelab.model import Activity

    rng = np.random.default_rng(7)
    for i in range(3):
        n = 900
        start = pd.Timestamp(f"2026-11-0{i + 1} 07:00", tz="UTC")
        t = np.arange(n, dtype=float)
        speed = 3.0 + 0.6 * (np.sin(t / 60.0) > 0)
        rec = pd.DataFrame(
            {
                "elapsed_s": t,
                "timer_s": t,
                "paused": False,
                "session_index": 0,
                "lap_index": 0,
                "distance_m": np.cumsum(speed),
                "speed_m_s": speed,
                "cadence_spm": 170.0,
                "stance_time_balance_left_pct": 51.0 + 0.5 * (speed - 3.3) + rng.normal(0, 0.3, n),
                "stance_time_s": 0.25 - 0.03 * (speed - 3.3) + rng.normal(0, 0.005, n),
            },
            index=pd.DatetimeIndex(start + pd.to_timedelta(t, unit="s"), name="time"),
        )
        store.add_activity(
            "me",
            Activity(
                id=hashlib.sha256(f"seam{i}".encode()).hexdigest(),
                source_path=None,
                format="synthetic",
                start_time=start,
                duration_s=n,
                elapsed_s=n,
                distance_m=float(rec["distance_m"].iloc[-1]),
                sport="running",
                sub_sport=None,
                records=rec,
            ),
        )
    df = run_asymmetry(store, "me")
    assert df["source"].str.startswith("pace-adjusted").all(), df["source"].tolist()
    ref = float(df["source"].iloc[0].split("at ")[1].split(" m/s")[0])
    assert df["balance_left_pct"].to_numpy() == pytest.approx(51.0 + 0.5 * (ref - 3.3), abs=0.1)
    assert df["gct_s"].to_numpy() == pytest.approx(0.25 - 0.03 * (ref - 3.3), abs=0.003)


def test_outcome_table_and_chart(store: Store, add_run, tmp_path: Path) -> None:
    plan = build_plan(PlanInputs(start=START, weeks=3, run_days=(0, 2, 5)))
    pid = save_plan(store, "me", plan)
    for day, left, right in (
        (START - timedelta(days=5), 20.0, 30.0),
        (START + timedelta(days=5), 27.0, 30.0),
    ):
        record_balance_test(store, "me", "left", left, "open", day)
        record_balance_test(store, "me", "right", right, "open", day)
    add_run(START - timedelta(days=3), 8000, 2400, balance_left_pct=48.0, gct_s=0.26)
    add_run(START + timedelta(days=16), 8000, 2400, balance_left_pct=49.5, gct_s=0.25)
    for s in plan.sessions[:3]:
        log_session(store, "me", s.date, "done")
    today = plan.end + timedelta(days=10)
    rows = outcome_table(store, "me", plan, pid, today, provider=False)
    by = {r["window"]: r for r in rows}
    assert list(by) == ["before", "phase 1", "phase 2", "phase 3", "after"]
    assert by["before"]["balance_open_asymmetry_pct"] == pytest.approx(33.3)
    assert by["phase 1"]["balance_open_asymmetry_pct"] == pytest.approx(10.0)
    assert (
        by["before"]["gct_balance_left_pct"] == 48.0 and by["before"]["gct_balance_source"] == SOURCE_CATALOG
    )
    assert by["phase 3"]["gct_balance_left_pct"] == 49.5
    assert by["phase 1"]["adherence_pct"] == 100.0 and by["phase 2"]["adherence_pct"] == 0.0
    assert by["before"]["adherence_pct"] is None
    png = outcome_chart(store, "me", plan, pid, today, tmp_path / "o.png", provider=False)
    assert png.stat().st_size > 1000


def test_several_missed_weeks_resume_where_the_runner_left_off(store: Store, plan_id: int) -> None:
    """Missing weeks 1 and 2 (never started) resumes at week 1's dosage, not week 2's; missing only
    week 2 resumes at week 2's; the run of missed weeks never reaches back into an earlier phase."""
    stored = active_plan(store, "me")
    assert stored is not None
    sessions = stored.plan.sessions
    week = {w: [s for s in sessions if s.week == w] for w in range(1, 13)}
    assert week[1][0].to_dict()["items"] != week[2][0].to_dict()["items"]  # the plan progresses

    def amounts(items: list[dict[str, object]]) -> list[tuple[object, ...]]:
        return [(i["exercise_id"], i["side"], i["sets"], i.get("reps"), i.get("hold_s")) for i in items]

    view = today_session(store, "me", week[3][0].date)
    assert any("You missed weeks 1-2: repeat week 1's dosage" in m for m in view["messages"]), view[
        "messages"
    ]
    assert amounts(view["session"]["items"]) == amounts(week[1][0].to_dict()["items"])
    log_session(store, "me", week[1][1].date, "done")
    view = today_session(store, "me", week[3][0].date)
    assert any("You missed week 2: repeat week 2's dosage" in m for m in view["messages"]), view["messages"]
    assert amounts(view["session"]["items"]) == amounts(week[2][0].to_dict()["items"])
    # phase 2 starts in week 5: missing weeks 2-5 in week 6 resumes at week 5 (phase 2's first week)
    view = today_session(store, "me", week[6][0].date)
    assert week[5][0].phase == week[6][0].phase != week[4][0].phase
    assert any("You missed week 5: repeat week 5's dosage" in m for m in view["messages"]), view["messages"]
    assert amounts(view["session"]["items"]) == amounts(week[5][0].to_dict()["items"])
