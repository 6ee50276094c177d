"""Analyses from a real store: cache, reference speed, per-run table, trends and month comparison."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from stridelab.analysis import (
    ANALYSIS_VERSION,
    pooled_estimate,
    robust_trend,
    trend_analysis,
)
from stridelab.present.analysis import run_analysis_json, trend_json
from stridelab.services.analysis import analyze_activity, athlete_ref_speed, clear_cache, run_table
from stridelab.sim import RunTruth

_START = datetime(2026, 1, 5, 6, 30, tzinfo=UTC)


def _season(n: int = 16, trend_pp_per_30d: float = -0.5) -> list[RunTruth]:
    """Short runs every ~5 days, alternating easy and faster pace, balance improving linearly."""
    out = []
    for i in range(n):
        day = 5.0 * i
        fast = i % 2 == 1
        out.append(
            RunTruth(
                kind="easy",
                start_time=_START + timedelta(days=day),
                duration_s=1500.0,
                warmup_s=300.0,
                easy_speed_m_s=3.4 if fast else 2.8,
                ref_speed_m_s=3.0,
                balance_speed_slope_pp_per_m_s=1.2,
                balance_left_pct_at_ref=51.5 + trend_pp_per_30d * day / 30.0,
                terrain_amplitude_m=0.0,
            )
        )
    return out


def test_cache_is_used_invalidated_and_cascades(sim_store) -> None:  # type: ignore[no-untyped-def]
    store, runs = sim_store([RunTruth(kind="easy", duration_s=1200)])
    run_id = runs[0][0]
    fresh = analyze_activity(store, "me", run_id[:8])
    conn = store.connect()
    row = conn.execute("SELECT version FROM analysis_runs WHERE activity_id = ?", (run_id,)).fetchone()
    assert row is not None and row[0] == ANALYSIS_VERSION
    cached = analyze_activity(store, "me", run_id)
    assert cached.frame is None and run_analysis_json(cached, 3.0) == run_analysis_json(fresh, 3.0)
    conn.execute("UPDATE analysis_runs SET version = 0, result_json = '{}' WHERE activity_id = ?", (run_id,))
    again = analyze_activity(store, "me", run_id)
    assert run_analysis_json(again, 3.0) == run_analysis_json(fresh, 3.0)
    assert conn.execute("SELECT version FROM analysis_runs").fetchone()[0] == ANALYSIS_VERSION
    assert clear_cache(store, "me") == 1
    analyze_activity(store, "me", run_id)
    store.delete_activity("me", run_id)
    assert conn.execute("SELECT COUNT(*) FROM analysis_runs").fetchone()[0] == 0


def test_athlete_reference_speed_is_her_easy_pace(sim_store) -> None:  # type: ignore[no-untyped-def]
    store, _runs = sim_store(_season(8))
    ref = athlete_ref_speed(store, "me")
    assert ref is not None and 2.4 < ref < 3.0  # the slower (easy) half, not the overall median
    assert athlete_ref_speed(store, "nobody") is None


def test_trend_recovers_improvement_at_the_same_pace(sim_store) -> None:  # type: ignore[no-untyped-def]
    store, runs = sim_store(_season(16))
    table, ref = run_table(store, "me", ref_speed_m_s=3.0)
    assert len(table) == 16 and ref == 3.0
    assert list(table["id"]) == [r[0] for r in runs]
    trend = trend_analysis(table, ref, window_runs=4)
    adj = trend.adjusted_trend
    assert adj is not None and adj.slope_per_30d.contains(-0.5)
    # pace adjustment removes the easy/fast alternation that dominates the raw means
    days = (table["start_time"] - table["start_time"].min()).dt.total_seconds() / 86400.0
    raw_resid = table["balance_mean_left_pct"] - np.polyval(
        np.polyfit(days, table["balance_mean_left_pct"], 1), days
    )
    adj_series = table["balance_at_ref_speed_left_pct"].astype(float)
    adj_resid = adj_series - np.polyval(np.polyfit(days, adj_series, 1), days)
    assert adj_resid.std() < 0.5 * raw_resid.std()
    d = trend_json(trend)
    assert {"id", "start_time", "balance_mean_left_pct", "balance_at_ref_speed_left_pct"} <= set(d["runs"][0])
    assert d["weekly"] and sum(w["n_runs"] for w in d["weekly"]) == 16
    mc = d["month_comparison"]
    assert mc is not None and mc["this_month"] == "2026-03" and mc["last_month"] == "2026-02"
    assert mc["difference_pp"]["estimate"] < 0  # balance kept improving
    assert "balance_at_ref_speed_rolling_median" in trend.table.columns


def test_since_filters_runs_but_keeps_the_reference(sim_store) -> None:  # type: ignore[no-untyped-def]
    store, _runs = sim_store(_season(8))
    full, ref_all = run_table(store, "me")
    part, ref_part = run_table(store, "me", since=pd.Timestamp("2026-01-20", tz="UTC"))
    assert len(part) < len(full) and ref_part == ref_all


def test_trend_with_too_few_runs_says_so() -> None:
    empty = trend_analysis(pd.DataFrame(), None)
    assert empty.raw_trend is None and empty.messages
    two = pd.DataFrame(
        {
            "id": ["a", "b"],
            "start_time": pd.to_datetime(["2026-01-01", "2026-01-03"], utc=True),
            "running_s": [1800.0, 1800.0],
            "balance_mean_left_pct": [51.0, 50.8],
            "balance_at_ref_speed_left_pct": [None, None],
            "balance_at_ref_speed_se_pp": [None, None],
        }
    )
    t = trend_analysis(two, 3.0)
    assert t.raw_trend is None and any("fewer than 4" in m for m in t.messages)
    assert t.month is not None and t.month.difference is None and t.month.message


def test_robust_trend_ignores_an_outlier() -> None:
    days = pd.Series(pd.date_range("2026-01-01", periods=20, freq="3D", tz="UTC"))
    values = pd.Series(51.0 - 0.01 * np.arange(20) * 3)  # -0.3 pp per 30 days
    values[7] = 58.0  # a sensor glitch run
    exact = robust_trend(days, values)  # a perfect line but one run: Theil-Sen recovers it exactly
    assert exact is not None and exact.method == "Theil-Sen"
    assert exact.slope_per_30d.estimate == pytest.approx(-0.3, abs=1e-9)
    noisy = values + np.random.default_rng(0).normal(0.0, 0.05, 20)
    line = robust_trend(days, noisy)
    assert line is not None and line.method == "Theil-Sen"
    assert line.slope_per_30d.contains(-0.3)
    assert robust_trend(days[:3], values[:3]) is None


def test_pooled_estimate_random_effects() -> None:
    est, se, tau = pooled_estimate(np.array([50.0, 51.0, 50.5]), np.array([0.05, 0.05, 0.05]))  # type: ignore[misc]
    assert est == pytest.approx(50.5) and tau > 0.3 and se > 0.2
    assert pooled_estimate(np.array([np.nan]), np.array([0.1])) is None


def _month_table(this: np.ndarray, last: np.ndarray, se: float) -> pd.DataFrame:
    starts = [pd.Timestamp("2026-04-02", tz="UTC") + pd.Timedelta(days=2 * i) for i in range(this.size)] + [
        pd.Timestamp("2026-03-02", tz="UTC") + pd.Timedelta(days=2 * i) for i in range(last.size)
    ]
    vals = np.concatenate([this, last])
    return pd.DataFrame(
        {
            "start_time": starts,
            "balance_at_ref_speed_left_pct": vals,
            "balance_at_ref_speed_se_pp": np.full(vals.size, se),
            "balance_mean_left_pct": vals,
        }
    )


def test_month_comparison_covers_with_few_runs_in_a_month() -> None:
    """Same true level in both months, run-to-run scatter 0.3 pp, within-run SE 0.05 pp. With 2 runs this
    month the CI must still cover 0 about 95 % of the time: the scatter has to be counted for the month
    with few runs (pooling tau per month gave it tau = 0 and covered about 60 %)."""
    from stridelab.analysis._trend import _month_comparison

    rng = np.random.default_rng(5)
    hits, n = 0, 400
    for _ in range(n):
        this = 50.5 + rng.normal(0, 0.3, 2) + rng.normal(0, 0.05, 2)
        last = 50.5 + rng.normal(0, 0.3, 10) + rng.normal(0, 0.05, 10)
        mc = _month_comparison(_month_table(this, last, 0.05), None, 0.95)
        assert mc is not None and mc.difference is not None
        hits += mc.difference.ci_low <= 0.0 <= mc.difference.ci_high
    assert 0.92 <= hits / n <= 0.985
    # a real change of 1 pp with 6 + 6 runs is seen
    this = 49.5 + rng.normal(0, 0.3, 6)
    last = 50.5 + rng.normal(0, 0.3, 6)
    mc = _month_comparison(_month_table(this, last, 0.05), None, 0.95)
    assert mc is not None and mc.difference is not None and mc.difference.ci_high < 0
    assert mc.this_month == "2026-04" and mc.last_month == "2026-03" and mc.n_this == 6
    # one run in each month: nothing to estimate the scatter from, stated
    one = _month_comparison(_month_table(np.array([50.0]), np.array([50.4]), 0.05), None, 0.95)
    assert one is not None and one.difference is None and "one run in each month" in (one.message or "")
