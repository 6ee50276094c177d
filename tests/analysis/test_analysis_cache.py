"""The analysis cache is reused while valid and recomputed when the analysis version or the run changes
(a real store in tmp; the version bump is the constant the cache compares with, patched)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from _simstore import activity_from_sim
from stridelab.analysis import ANALYSIS_VERSION
from stridelab.present.analysis import run_analysis_json
from stridelab.services import analysis as analysis_service
from stridelab.sim import RunTruth, simulate_run
from stridelab.store import cache as cache_repo

_START = datetime(2026, 2, 2, 7, 0, tzinfo=UTC)


def _truths(n: int) -> list[RunTruth]:
    return [
        RunTruth(kind="easy", start_time=_START + timedelta(days=3 * i), duration_s=600.0, warmup_s=120.0)
        for i in range(n)
    ]


def _computed_at(store, run_id: str) -> str:  # type: ignore[no-untyped-def]
    row = (
        store.connect()
        .execute("SELECT computed_at FROM analysis_runs WHERE activity_id = ?", (run_id,))
        .fetchone()
    )
    return str(row[0])


def test_bulk_read_serves_every_valid_row_and_only_those(sim_store) -> None:  # type: ignore[no-untyped-def]
    store, runs = sim_store(_truths(3))
    ids = [r[0] for r in runs]
    assert analysis_service.uncached_runs(store, "me") == 3
    ticks: list[tuple[int, int]] = []
    first = analysis_service.run_analyses(store, "me", progress=lambda d, t: ticks.append((d, t)))
    assert ticks == [(1, 3), (2, 3), (3, 3)]  # every run analysed once, progress reported
    assert [a.id for a, _, _ in first] == ids
    assert analysis_service.uncached_runs(store, "me") == 0
    cached = cache_repo.read_cached_analyses(store, "me")
    assert set(cached) == set(ids)
    for act, analysis, error in first:
        assert error is None and analysis is not None
        assert run_analysis_json(cached[act.id], 3.0) == run_analysis_json(analysis, 3.0)
    ticks.clear()
    again = analysis_service.run_analyses(store, "me", progress=lambda d, t: ticks.append((d, t)))
    assert ticks == []  # nothing recomputed
    assert [run_analysis_json(a, 3.0) for _, a, _ in again] == [
        run_analysis_json(a, 3.0) for _, a, _ in first
    ]
    # SQL filters the period: only the runs that start in [since, until)
    part = cache_repo.read_cached_analyses(
        store,
        "me",
        since=pd.Timestamp(_START + timedelta(days=2)),
        until=pd.Timestamp(_START + timedelta(days=5)),
    )
    assert set(part) == {ids[1]}


def test_an_analysis_version_bump_recomputes(sim_store, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    store, runs = sim_store(_truths(2))
    run_id = runs[0][0]
    fresh = analysis_service.analyze_activity(store, "me", run_id)
    analysis_service.run_analyses(store, "me")
    stamp = _computed_at(store, run_id)
    assert analysis_service.cached_analysis(store, "me", run_id) is not None

    monkeypatch.setattr(cache_repo, "ANALYSIS_VERSION", ANALYSIS_VERSION + 1)
    assert analysis_service.cached_analysis(store, "me", run_id) is None  # stale: not served
    assert cache_repo.read_cached_analyses(store, "me") == {}
    assert analysis_service.uncached_runs(store, "me") == 2
    ticks: list[tuple[int, int]] = []
    out = analysis_service.run_analyses(store, "me", progress=lambda d, t: ticks.append((d, t)))
    assert ticks == [(1, 2), (2, 2)]
    assert run_analysis_json(out[0][1], 3.0) == run_analysis_json(fresh, 3.0)  # type: ignore[arg-type]
    version = store.connect().execute("SELECT DISTINCT version FROM analysis_runs").fetchall()
    assert [v[0] for v in version] == [ANALYSIS_VERSION + 1]
    assert _computed_at(store, run_id) > stamp


def test_a_changed_run_is_analysed_again(sim_store) -> None:  # type: ignore[no-untyped-def]
    store, runs = sim_store(_truths(2))
    run_id, other_id = runs[0][0], runs[1][0]
    before = analysis_service.analyze_activity(store, "me", run_id)
    analysis_service.analyze_activity(store, "me", other_id)
    assert before.n_records > 400

    # the record stream is rewritten (a repair, an edit): the first 400 records only
    records = store.records("me", run_id)
    store.write_stream("records", "me", run_id, records.iloc[:400].reset_index())
    assert analysis_service.cached_analysis(store, "me", run_id) is None
    assert analysis_service.cached_analysis(store, "me", other_id) is not None  # untouched run: kept
    assert set(cache_repo.read_cached_analyses(store, "me")) == {other_id}
    after = analysis_service.analyze_activity(store, "me", run_id)
    assert after.n_records == 400 != before.n_records
    assert analysis_service.cached_analysis(store, "me", run_id) is not None

    # deleted and stored again with other records under the same id: recomputed, not served stale
    store.delete_activity("me", run_id)
    longer = simulate_run(RunTruth(kind="easy", start_time=_START, duration_s=900.0, warmup_s=120.0), seed=9)
    store.add_activity("me", replace(activity_from_sim(longer, "replacement"), id=run_id))
    assert analysis_service.cached_analysis(store, "me", run_id) is None
    replaced = analysis_service.analyze_activity(store, "me", run_id)
    assert replaced.n_records == len(longer.records)


def test_trend_and_baseline_read_the_cache_once_warm(sim_store) -> None:  # type: ignore[no-untyped-def]
    from stridelab.services import experiments as exp_service

    store, _runs = sim_store(_truths(6))
    table_cold, ref = analysis_service.run_table(store, "me")
    table_warm, ref_warm = analysis_service.run_table(store, "me")
    pd.testing.assert_frame_equal(table_cold, table_warm)
    assert ref == ref_warm
    ticks: list[tuple[int, int]] = []
    rows, _ = exp_service.baseline_rows(store, "me", min_runs=2, progress=lambda d, t: ticks.append((d, t)))
    assert len(rows) == 6 and ticks == []  # every analysis came from the cache


def test_derived_results_are_recomputed_when_the_runs_change(sim_store) -> None:  # type: ignore[no-untyped-def]
    from stridelab.services import training as training_service

    store, runs = sim_store(_truths(4))
    today = (_START + timedelta(days=12)).date()
    first = training_service.weekly_load(store, "me", today=today)
    again = training_service.weekly_load(store, "me", today=today)  # read from the store
    assert again == first
    trend = analysis_service.trend_report(store, "me", window_runs=2)
    assert analysis_service.trend_report(store, "me", window_runs=2) == trend
    assert trend["n_runs"] == 4

    store.delete_activity("me", runs[0][0])  # the runs changed: neither result is served stale
    assert analysis_service.trend_report(store, "me", window_runs=2)["n_runs"] == 3
    after = training_service.weekly_load(store, "me", today=today)
    assert sum(w.n_runs for w in after.weeks) == sum(w.n_runs for w in first.weeks) - 1
