"""The load guard on crafted run histories (real store, synthetic activities)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from stridelab.services.training import weekly_load
from stridelab.store import Store
from stridelab.training._load import acwr_zone

MON = date(2026, 10, 5)  # a Monday


def _week(add_run, monday: date, km: float, *, n: int = 3, **kw: object) -> None:
    """``n`` runs (Mon, Wed, Fri, ...) adding up to ``km`` km at 6 min/km."""
    for i in range(n):
        add_run(monday + timedelta(days=2 * i), km * 1000 / n, km * 360 / n, **kw)


def test_steady_then_jump_warns_with_the_caveat_and_computes_acwr(store: Store, add_run) -> None:
    for w in range(4):
        _week(add_run, MON + timedelta(weeks=w), 30)
    _week(add_run, MON + timedelta(weeks=4), 40)
    rep = weekly_load(store, "me", today=MON + timedelta(weeks=4, days=6), provider=False)
    rows = [w.to_dict() for w in rep.weeks]
    assert [r["week_start"] for r in rows] == [(MON + timedelta(weeks=w)).isoformat() for w in range(5)]
    assert [r["distance_m"] for r in rows] == [30000.0] * 4 + [40000.0]
    assert rows[0]["duration_s"] == pytest.approx(3 * 3600)
    assert [r["change_pct"] for r in rows] == [None, 0.0, 0.0, 0.0, 33.3]
    assert all(r["warning"] is None for r in rows[:4])
    assert "+33 %" in rows[4]["warning"] and "heuristic" in rows[4]["warning"]
    # ACWR needs 28 days of history; at the end of week 4 acute == chronic
    assert [r["acwr"] for r in rows[:3]] == [None, None, None]
    assert rows[3]["acwr"] == 1.0 and rows[3]["zone"] == "sweet spot"
    assert rows[4]["acwr"] == pytest.approx(40 / (130 / 4), abs=0.005)
    assert rows[4]["acwr_ewma"] is not None and rows[4]["acwr_ewma"] > rows[3]["acwr_ewma"]
    assert not any(r["partial"] for r in rows)
    rec = rep.recommendation
    assert rec is not None and rec["week_start"] == (MON + timedelta(weeks=5)).isoformat()
    assert rec["max_distance_m"] == pytest.approx(min(1.1 * 40000, 1.3 * 32500))
    assert rec["max_duration_s"] == pytest.approx(min(1.1 * 14400, 1.3 * 11700))
    assert any("Buist" in c for c in rep.caveats)


def test_spike_is_in_the_danger_zone(store: Store, add_run) -> None:
    for w in range(4):
        _week(add_run, MON + timedelta(weeks=w), 20)
    _week(add_run, MON + timedelta(weeks=4), 45)
    rep = weekly_load(store, "me", today=MON + timedelta(weeks=4, days=6), provider=False)
    last = rep.weeks[-1]
    assert last.acwr == pytest.approx(45 / (105 / 4), abs=0.005)
    assert last.zone == "danger"
    assert "danger zone" in (last.warning or "")
    # the recommendation does not chase the spike
    assert rep.recommendation["max_distance_m"] == pytest.approx(1.3 * 105000 / 4)


def test_constant_daily_load_gives_ratio_one() -> None:
    assert acwr_zone(None) is None
    assert [acwr_zone(x) for x in (0.5, 0.8, 1.29, 1.3, 1.5, 2.0)] == [
        "low",
        "sweet spot",
        "sweet spot",
        "caution",
        "danger",
        "danger",
    ]


def test_every_day_running_has_ewma_and_rolling_ratio_one(store: Store, add_run) -> None:
    for i in range(42):
        add_run(MON + timedelta(days=i), 5000, 1800)
    rep = weekly_load(store, "me", today=MON + timedelta(days=41), provider=False)
    for w in rep.weeks[3:]:
        assert w.acwr == 1.0
        assert w.acwr_ewma == pytest.approx(1.0, abs=0.01)
        assert w.warning is None


def test_no_runs_is_explicit(store: Store, add_run) -> None:
    add_run(MON, 20000, 3600, sport="cycling")  # not running: ignored
    rep = weekly_load(store, "me", today=MON + timedelta(days=3), provider=False)
    assert rep.weeks == () and rep.recommendation is None
    assert rep.message and "No runs imported yet" in rep.message


def test_missed_weeks_and_a_partial_week(store: Store, add_run) -> None:
    _week(add_run, MON, 20)
    _week(add_run, MON + timedelta(weeks=1), 21)
    # weeks 3 and 4 without runs
    add_run(MON + timedelta(weeks=4), 8000, 2880)
    today = MON + timedelta(weeks=4, days=2)  # a Wednesday: week 5 is partial
    rep = weekly_load(store, "me", today=today, provider=False)
    rows = rep.weeks
    assert len(rows) == 5
    assert rows[2].distance_m == 0 and rows[2].change_pct == -100.0
    assert rows[3].distance_m == 0 and rows[3].change_pct is None
    assert rows[4].partial and rows[4].warning is not None
    assert rows[4].warning.startswith("So far this week")
    assert "after 2 week(s) without runs" in rows[4].warning
    # next week's maximum is based on the complete weeks (the 4 last: 20/21 km then two zeros)
    assert rep.recommendation["week_start"] == (MON + timedelta(weeks=5)).isoformat()
    assert rep.recommendation["max_distance_m"] == pytest.approx(1.1 * (41000 / 4))


def test_runs_after_today_are_ignored(store: Store, add_run) -> None:
    _week(add_run, MON, 20)
    add_run(MON + timedelta(days=20), 30000, 9000)
    rep = weekly_load(store, "me", today=MON + timedelta(days=6), provider=False)
    assert [w.distance_m for w in rep.weeks] == [20000.0]


def test_form_drift_in_high_load_weeks_uses_labelled_raw_means(store: Store, add_run) -> None:
    for w in range(4):
        _week(add_run, MON + timedelta(weeks=w), 30, balance_left_pct=50.5, gct_s=0.25)
    _week(add_run, MON + timedelta(weeks=4), 45, balance_left_pct=52.0, gct_s=0.26)
    rep = weekly_load(store, "me", today=MON + timedelta(weeks=4, days=6), provider=False)
    drift = rep.form_drift
    assert drift is not None
    assert drift["high_load_weeks"] == [(MON + timedelta(weeks=4)).isoformat()]
    assert drift["drift_pp"] == pytest.approx(1.5)
    assert drift["drift_gct_s"] == pytest.approx(0.01)
    assert "raw run means" in drift["source"] and "not pace-adjusted" in drift["verdict"]
