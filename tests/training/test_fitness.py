"""Load beyond kilometres (training/_fitness.py): TRIMP by hand, the EWMA model by its recursion,
normalized power, weekly ratios; the ``fitness`` command on a real Stryd run."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from stridelab.cli import app
from stridelab.training import (
    banister_trimp,
    fitness_fatigue,
    normalized_power_w,
    power_stress_score,
    weekly_ratios,
)


def test_trimp_matches_banister_by_hand() -> None:
    # 30 min at 150 bpm, rest 60, max 190: HRr = 90/130
    hrr = 90.0 / 130.0
    hr = np.full(1800, 150.0)
    dt = np.ones(1800)
    female = banister_trimp(hr, dt, hr_rest=60, hr_max=190, sex="female")
    male = banister_trimp(hr, dt, hr_rest=60, hr_max=190, sex="male")
    assert math.isclose(female, 30 * hrr * 0.86 * math.exp(1.67 * hrr), rel_tol=1e-12)
    assert math.isclose(male, 30 * hrr * 0.64 * math.exp(1.92 * hrr), rel_tol=1e-12)
    hr[:600] = np.nan  # no heart rate adds nothing
    assert math.isclose(banister_trimp(hr, dt, hr_rest=60, hr_max=190), female * 2 / 3, rel_tol=1e-12)
    with pytest.raises(ValueError, match="hr_max"):
        banister_trimp(hr, dt, hr_rest=60, hr_max=60)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0, 300), min_size=1, max_size=120))
def test_fitness_fatigue_is_the_impulse_response_recursion(loads: list[float]) -> None:
    days = pd.date_range("2026-01-01", periods=len(loads), freq="D")
    out = fitness_fatigue(pd.Series(loads, index=days))
    atl = ctl = 0.0
    prev_tsb = 0.0
    for i, x in enumerate(loads):
        tsb = prev_tsb
        atl += (x - atl) / 7.0
        ctl += (x - ctl) / 42.0
        assert math.isclose(out["atl"].iloc[i], atl, rel_tol=1e-9, abs_tol=1e-9)
        assert math.isclose(out["ctl"].iloc[i], ctl, rel_tol=1e-9, abs_tol=1e-9)
        assert math.isclose(out["tsb"].iloc[i], tsb, rel_tol=1e-9, abs_tol=1e-9)
        prev_tsb = ctl - atl


def test_normalized_power_and_stress_score() -> None:
    steady = np.full(3600, 250.0)
    assert math.isclose(normalized_power_w(steady) or 0.0, 250.0)
    assert math.isclose(power_stress_score(steady, 3600.0, 250.0) or 0.0, 100.0)  # an hour at CP = 100
    surges = np.tile(np.r_[np.full(60, 350.0), np.full(60, 150.0)], 30)
    assert (normalized_power_w(surges) or 0.0) > float(surges.mean())  # NP weights the surges
    assert normalized_power_w(np.full(10, 200.0)) is None


def test_weekly_ratios_are_the_10_pct_check_and_acwr_on_the_load() -> None:
    days = pd.date_range("2026-03-02", periods=35, freq="D")  # five Monday-Sunday weeks
    load = pd.Series([10.0] * 28 + [20.0] * 7, index=days)
    w = weekly_ratios(fitness_fatigue(load))
    assert list(w["load"]) == [70.0, 70.0, 70.0, 70.0, 140.0]
    assert w["change_pct"].iloc[-1] == 100.0 and pd.isna(w["change_pct"].iloc[0])
    assert pd.isna(w["acwr"].iloc[2]) and w["acwr"].iloc[3] == 1.0
    assert w["acwr"].iloc[-1] == round(140.0 / ((21 * 10.0 + 7 * 20.0) / 4.0), 2)  # 1.6


def test_fitness_command_on_a_real_stryd_run(shared_data: Path, tmp_path: Path) -> None:
    from stridelab.services import open_store
    from stridelab.services.imports import import_paths

    st_ = open_store(tmp_path / "store")
    import_paths(st_, [shared_data / "fit" / "GoldenCheetah__GoldenCheetah/Fr955v19.28andStryd.fit"])
    st_.close()
    args = ["fitness", "--store", str(tmp_path / "store"), "--today", "2024-07-10", "--json"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    run = out["runs"][0]
    assert run["trimp"] > 0 and run["power_stress"] > 0  # heart rate and Stryd power
    assert any("estimated" in a for a in out["assumptions"]) and out["caveats"]
    assert set(out["loads"]) == {"trimp", "power_stress"}
    given = json.loads(
        CliRunner().invoke(app, [*args, "--hr-max", "190", "--hr-rest", "50", "--cp", "300"]).stdout
    )
    assert given["assumptions"] == [] and given["cp_w"] == 300
    bad = CliRunner().invoke(app, ["fitness", "--store", str(tmp_path / "store"), "--sex", "x"])
    assert bad.exit_code == 2 and "'female', 'male'" in bad.output


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.one_of(st.integers(0, 215), st.none()), min_size=1, max_size=400),
    st.lists(st.floats(0.0, 12.0), min_size=1, max_size=400),
    st.sampled_from(["female", "male"]),
)
def test_a_runs_load_summary_gives_the_same_trimp_and_power_score(
    hr_list: list[int | None], dt_list: list[float], sex: str
) -> None:
    """The kept per-run summary (seconds per heart rate, NP) gives the loads computed from the samples,
    for any HRrest / HRmax / CP chosen later, and survives its JSON round trip."""
    from stridelab.training import RunLoadSummary, run_load_summary

    n = min(len(hr_list), len(dt_list))
    hr = np.array([np.nan if v is None else float(v) for v in hr_list[:n]])
    dt = np.array(dt_list[:n])
    power = np.linspace(180.0, 320.0, n) if n % 2 else None
    summary = run_load_summary(hr, dt, power, float(dt.sum()))
    back = RunLoadSummary.from_dict(json.loads(json.dumps(summary.to_dict())))
    assert back == summary
    for rest, top in ((50.0, 190.0), (62.0, 175.0)):
        direct = banister_trimp(hr, dt, hr_rest=rest, hr_max=top, sex=sex)  # type: ignore[arg-type]
        kept = back.trimp(hr_rest=rest, hr_max=top, sex=sex)  # type: ignore[arg-type]
        assert kept is not None and math.isclose(kept, direct, rel_tol=1e-9, abs_tol=1e-9)
    if power is not None:
        for cp in (220.0, 300.0):
            direct_ps = power_stress_score(power, float(dt.sum()), cp)
            kept_ps = back.power_stress(cp)
            assert (direct_ps is None) == (kept_ps is None)
            assert direct_ps is None or math.isclose(kept_ps or 0.0, direct_ps, rel_tol=1e-12)
    else:
        assert back.power_stress(250.0) is None and not back.has_power
    no_hr = run_load_summary(None, dt, None, 0.0)
    assert no_hr.trimp(hr_rest=60, hr_max=190) is None and no_hr.hr_p99_bpm is None


def test_fitness_reads_each_runs_records_once_and_again_when_the_run_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``fitness`` keeps each run's load summary: a second call reads no record stream and gives the
    same report as a fresh computation; a rewritten run and a new summary version are read again."""
    from stridelab.services import open_store
    from stridelab.services import training as training_service
    from stridelab.services.imports import import_paths
    from stridelab.sim import simulate_season
    from stridelab.store import loads as loads_repo

    paths = simulate_season(tmp_path / "fit", n_runs=4, weeks=2, seed=5)
    store = open_store(tmp_path / "store")
    import_paths(store, paths, workers=1)
    today = max(a.start_time for a in store.list_activities("me")).date()
    reads: list[str] = []
    original = store.records

    def counting(athlete: str, activity_id: str, columns: list[str] | None = None) -> pd.DataFrame:
        reads.append(activity_id)
        return original(athlete, activity_id, columns)

    monkeypatch.setattr(store, "records", counting)
    first = training_service.fitness(store, "me", today=today)
    assert len(first.runs) == 4 and sorted(reads) == sorted(first.runs["id"])
    assert first.runs["trimp"].notna().all() and "trimp" in first.daily
    reads.clear()
    second = training_service.fitness(store, "me", today=today)
    assert reads == []  # every summary was kept
    pd.testing.assert_frame_equal(first.runs, second.runs)
    for name, frame in first.daily.items():
        pd.testing.assert_frame_equal(frame, second.daily[name])
    rows = [a for a in store.list_activities("me") if a.id in set(first.runs["id"])]
    fresh = training_service.run_load_summaries(store, "me", rows, use_cache=False)
    assert len(reads) == 4 and fresh == training_service.run_load_summaries(store, "me", rows)
    # a run whose stream is rewritten (one record fewer) is summarised again, the others are not
    victim = str(first.runs["id"].iloc[0])
    store.write_stream("records", "me", victim, original("me", victim).iloc[:-1])
    reads.clear()
    third = training_service.fitness(store, "me", today=today)
    assert reads == [victim]
    assert third.runs.set_index("id")["trimp"][victim] < first.runs.set_index("id")["trimp"][victim]
    # the dashboard's chart data: the tail of the same daily series, then kept (no summary read)
    recent = training_service.recent_fitness(store, "me", today=today, days=7)
    tail = third.daily["trimp"].tail(7)
    assert recent["load"] == "trimp" and recent["ctl"] == [float(v) for v in tail["ctl"]]
    assert recent["day"] == [t.date().isoformat() for t in tail.index]
    reads.clear()
    summaries: list[object] = []
    monkeypatch.setattr(
        loads_repo,
        "read_run_loads",
        lambda *a, **k: summaries.append(a) or {},  # type: ignore[func-returns-value]
    )
    assert training_service.recent_fitness(store, "me", today=today, days=7) == recent
    assert reads == [] and summaries == []
    monkeypatch.undo()
    monkeypatch.setattr(store, "records", counting)
    # another summary version voids every kept row
    assert len(loads_repo.read_run_loads(store, "me")) == 4
    monkeypatch.setattr(loads_repo, "LOAD_SUMMARY_VERSION", 99)
    assert loads_repo.read_run_loads(store, "me") == {}
