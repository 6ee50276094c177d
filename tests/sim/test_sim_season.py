"""simulate_season: the weekly mix, the season truth file, the balance trend (speed: bench/)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from stridelab.sim import SEASON_TRUTH_SCHEMA, read_season, read_truth, simulate_run, simulate_season
from stridelab.sim._season import DAYS_PER_MONTH


@pytest.fixture(scope="module")
def season(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("season")
    paths = simulate_season(out, n_runs=60, weeks=13, seed=0, sensor_change_at_run=40, new_sensor_bias_pp=0.4)
    return out, paths


def test_sixty_runs_are_complete(season: tuple[Path, list[Path]]) -> None:
    # the speed budget (60 runs in < 10 s) is checked by bench/speed_checks.py, not here
    out, paths = season
    assert len(paths) == 60
    assert all(
        p.exists() and p.suffix == ".fit" and (p.with_name(p.stem + ".truth.json")).exists() for p in paths
    )
    assert sorted(paths) == paths  # names sort in time order
    assert (out / "season.truth.json").exists()


def test_realistic_weekly_mix(season: tuple[Path, list[Path]]) -> None:
    out, _ = season
    params, runs = read_season(out)
    assert params["n_runs"] == 60 and params["trend_pp_per_month"] == -0.3
    kinds = Counter(r.truth.kind for r in runs)
    assert set(kinds) == {"easy", "tempo", "intervals", "long", "hills"}
    assert kinds["long"] == 13 and kinds["intervals"] + kinds["hills"] == 13
    starts = [r.truth.start_time for r in runs]
    assert starts == sorted(starts)
    assert (starts[-1] - starts[0]).days <= 13 * 7
    per_week = Counter((s - datetime(2026, 1, 5, tzinfo=UTC)).days // 7 for s in starts)
    assert set(per_week.values()) <= {4, 5} and len(per_week) == 13
    assert Counter(r.truth.sensor for r in runs) == {"hrm_pro": 40, "rd_pod": 20}
    assert {r.truth.sensor_balance_bias_pp for r in runs[40:]} == {0.4}
    assert any(r.truth.pauses for r in runs)
    assert len({r.seed for r in runs}) == 60


def test_trend_in_declared_truth_and_recovered_from_records(season: tuple[Path, list[Path]]) -> None:
    out, _ = season
    params, runs = read_season(out)
    t0 = datetime.fromisoformat(params["start"])
    months = np.array([(r.truth.start_time - t0).total_seconds() / 86400 / DAYS_PER_MONTH for r in runs])
    level = np.array([r.truth.balance_left_pct_at_ref for r in runs])
    slope = np.polyfit(months, level, 1)[0]
    assert slope == pytest.approx(-0.3, abs=0.05)
    # pooled OLS over all runs' records (regenerated from the sidecars: identical to the files)
    ys, xs = [], []
    for r in runs[:40]:  # before the sensor change
        rec = simulate_run(r.truth, seed=r.seed).records
        run_months = (rec.index - t0).total_seconds().to_numpy() / 86400 / DAYS_PER_MONTH
        ys.append(rec["stance_time_balance_left_pct"].to_numpy())
        xs.append(
            np.column_stack([np.ones(len(rec)), run_months, rec["speed_m_s"] - 3.0, rec["elapsed_s"] / 3600])
        )
    beta = np.linalg.lstsq(np.vstack(xs), np.concatenate(ys), rcond=None)[0]
    assert beta[1] == pytest.approx(-0.3, abs=0.1)
    assert beta[2] == pytest.approx(0.6, abs=0.05)
    assert beta[3] == pytest.approx(0.8, abs=0.15)


def test_season_file_and_sidecars_agree(
    season: tuple[Path, list[Path]], decode_fit: Callable[..., Any]
) -> None:
    out, paths = season
    data = json.loads((out / "season.truth.json").read_text())
    assert data["schema"] == SEASON_TRUTH_SCHEMA
    assert [r["fit_file"] for r in data["runs"]] == [p.name for p in paths]
    truth, seed = read_truth(paths[7])
    assert data["runs"][7]["seed"] == seed
    assert data["runs"][7]["balance_left_pct_at_ref"] == truth.balance_left_pct_at_ref
    dec = decode_fit(paths[7])
    assert dec.records.index[0] == truth.start_time


def test_season_is_deterministic(tmp_path: Path) -> None:
    a = simulate_season(tmp_path / "a", n_runs=5, weeks=2, seed=9)
    b = simulate_season(tmp_path / "b", n_runs=5, weeks=2, seed=9)
    c = simulate_season(tmp_path / "c", n_runs=5, weeks=2, seed=10)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert [p.read_bytes() for p in a] != [p.read_bytes() for p in c]


def test_season_arguments_are_validated(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="n_runs"):
        simulate_season(tmp_path, n_runs=30, weeks=4)
    with pytest.raises(ValueError, match="Invalid value for the 'sensor' parameter"):
        simulate_season(tmp_path, n_runs=4, weeks=1, sensor="stryd")
