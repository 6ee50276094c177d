"""Issue 16 display defects of the plan: a plan created today does not count earlier sessions as
missed; ``plan today`` before the start shows the first session; ``load`` shows the last 12 weeks."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from typer.testing import CliRunner

from stridelab.cli import app
from stridelab.training import PlanInputs, StoredPlan, adherence, build_plan, created_day, today_view

START = date(2026, 11, 30)  # a Monday
CREATED = "2026-12-03T10:15:00+00:00"  # a Thursday of the first week


def _stored() -> StoredPlan:
    plan = build_plan(PlanInputs(start=START, weeks=3, sessions_per_week=3, run_days=(1, 3, 5)))
    return StoredPlan(1, CREATED, plan)


def test_sessions_before_the_plan_was_created_are_not_missed() -> None:
    stored = _stored()
    today = date(2026, 12, 8)  # Tuesday of week 2
    before = [s for s in stored.plan.sessions if s.date < date(2026, 12, 3)]
    assert before, "the test needs sessions between the start and the creation day"
    plain = adherence(stored.plan, [], today)
    fixed = adherence(stored.plan, [], today, created=created_day(CREATED))
    assert fixed["due"] == plain["due"] - len(before)
    assert fixed["missed"] == plain["missed"] - len(before)
    # week 1 only had sessions before the plan existed (or was fully missed): today's view says which
    view = today_view(stored, [], [], today)
    after = [s for s in stored.plan.sessions if date(2026, 12, 3) <= s.date < date(2026, 12, 7)]
    if not after:  # nothing of week 1 could be done: no "you missed week 1"
        assert not any("missed" in m for m in view["messages"]), view["messages"]
    assert view["adherence"]["due"] == fixed["due"]
    assert created_day("not a date") is None and created_day(None) is None


def test_plan_today_before_the_start_shows_the_first_session() -> None:
    stored = _stored()
    view = today_view(stored, [], [], START - timedelta(days=3))
    assert view["session"] is None
    first = view["first_session"]
    assert first is not None and first["date"] == stored.plan.sessions[0].date.isoformat()
    assert first["exercises"] and first["items"]
    assert any("first session" in m for m in view["messages"])
    on_day = today_view(stored, [], [], stored.plan.sessions[0].date)
    assert on_day["session"] is not None and on_day["first_session"] is None


def test_plan_today_cli_prints_the_first_session(tmp_path: Path) -> None:
    store = tmp_path / "store"
    runner = CliRunner()
    start = date(2027, 1, 4)
    r = runner.invoke(
        app,
        [
            "plan",
            "create",
            "--yes",
            "--start",
            start.isoformat(),
            "--store",
            str(store),
            "--today",
            "2026-12-03",
        ],
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["plan", "today", "--store", str(store), "--today", "2026-12-03"])
    assert r.exit_code == 0 and "first session" in r.stdout and "2027-01-0" in r.stdout


def test_load_shows_the_last_12_weeks_by_default(tmp_path: Path) -> None:
    from stridelab.services import open_store
    from stridelab.services.imports import import_paths
    from stridelab.sim import simulate_season

    paths = simulate_season(tmp_path / "fit", n_runs=16, weeks=16, seed=4)
    st = open_store(tmp_path / "store")
    import_paths(st, paths, workers=1)
    st.close()
    today = "2026-04-26"  # the season's last Sunday: 16 weeks of runs
    runner = CliRunner()
    base = ["load", "--store", str(tmp_path / "store"), "--today", today, "--json"]
    assert len(json.loads(runner.invoke(app, base).stdout)) == 12
    assert len(json.loads(runner.invoke(app, [*base, "--weeks", "4"]).stdout)) == 4
    assert len(json.loads(runner.invoke(app, [*base, "--weeks", "100"]).stdout)) == 16
    text = runner.invoke(app, base[:-1])
    assert "4 earlier week(s) not shown" in text.stdout
