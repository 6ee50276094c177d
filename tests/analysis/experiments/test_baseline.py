"""Personal baseline: robust centre/spread from previous runs, flags, ranked explanations."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from _exp_helpers import START, store_runs
from typer.testing import CliRunner

from stridelab.analysis import baseline_table
from stridelab.cli import app
from stridelab.services.experiments import baseline_rows
from stridelab.sim import RunTruth
from stridelab.store import Store

T0 = datetime(2026, 1, 5, 7, tzinfo=UTC)


def frame(n: int, seed: int = 0) -> pd.DataFrame:
    """A per-run frame of ``n`` ordinary easy runs (balance ~ 50.8 % at the reference speed)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "id": [f"{i:064x}" for i in range(n)],
            "start_time": [pd.Timestamp(T0 + timedelta(days=2 * i)) for i in range(n)],
            "speed_m_s": rng.normal(2.9, 0.05, n),
            "balance_adj": 50.8 + rng.normal(0, 0.15, n),
            "slope": np.full(n, 0.6),
            "drift": np.full(n, 0.8),
            "time_center_h": np.full(n, 0.4),
            "hilly_share": rng.uniform(0.0, 0.2, n),
            "turning_share": rng.uniform(0.0, 0.1, n),
            "load_7d_km": rng.normal(30, 3, n),
            "load_ratio": rng.normal(1.0, 0.1, n),
            "sensor": ["Garmin HRM-Pro"] * n,
            "gct_adj": 250 + rng.normal(0, 2, n),
            "vo_adj": 85 + rng.normal(0, 1, n),
        }
    )
    df["balance_raw"] = df["balance_adj"] + 0.6 * (df["speed_m_s"] - 2.9)
    return df


def test_baseline_flags_only_real_outliers_and_says_why() -> None:
    df = frame(30)
    rows = baseline_table(df, 2.9, window_runs=20, min_runs=5)
    assert [r.flag for r in rows[:5]] == ["no_baseline"] * 5
    normal = [r for r in rows[5:] if r.flag == "normal"]
    assert len(normal) >= 22  # 2 spreads: ~5 % of ordinary runs may fall outside
    r = normal[0]
    assert r.residual_pp is not None and r.expected_left_pct is not None
    assert r.observed_left_pct == r.expected_left_pct + r.residual_pp
    assert "expected" in r.explanation and "within normal" in r.explanation


def test_a_tempo_run_is_compared_at_its_pace() -> None:
    df = frame(12)
    df.loc[11, ["speed_m_s", "balance_adj"]] = [3.5, 50.8]
    df.loc[11, "balance_raw"] = 50.8 + 0.6 * 0.6
    (row,) = baseline_table(df, 2.9)[-1:]
    assert row.flag == "normal" and row.pace_label == "tempo pace"
    assert row.explanation.startswith("51.2 % L at tempo pace; expected 51.")
    assert abs(row.expected_left_pct - row.observed_left_pct) < 0.5


def test_explanations_are_ranked_by_what_they_account_for() -> None:
    df = frame(26, seed=3)
    # across her runs the residual follows the hilly share: 0.04 pp per % of time on hills
    df["balance_adj"] = 50.8 + 4.0 * (df["hilly_share"] - 0.1) + np.random.default_rng(5).normal(0, 0.03, 26)
    last = len(df) - 1
    df.loc[last, ["hilly_share", "balance_adj", "time_center_h"]] = [0.6, 50.8 + 4.0 * 0.5, 0.9]
    row = baseline_table(df, 2.9)[-1]
    assert row.flag == "high"
    factors = [e.factor for e in row.explanations]
    assert factors[0] == "hills"
    assert factors.index("hills") < factors.index("fatigue")
    hills = row.explanations[0]
    assert hills.contribution_pp is not None and 1.5 < hills.contribution_pp < 2.5
    assert "likely: hills" in row.explanation


def test_sensor_change_ranks_first_and_no_balance_is_stated() -> None:
    df = frame(12)
    df.loc[10, ["sensor", "balance_adj"]] = ["Garmin Running Dynamics Pod", 52.0]
    df.loc[11, "balance_adj"] = np.nan
    rows = baseline_table(df, 2.9)
    assert rows[10].flag == "high" and rows[10].explanations[0].factor == "sensor"
    assert rows[11].flag == "no_balance" and "no pace-adjusted GCT balance" in rows[11].explanation


def test_baseline_from_the_store_and_cli_json(tmp_path: Path) -> None:
    sdir = tmp_path / "s"
    store = Store.open(sdir)
    rng = np.random.default_rng(1)
    truths = [
        RunTruth(
            kind="easy",
            duration_s=1500.0,
            warmup_s=300.0,
            start_time=START + timedelta(days=2 * i),
            balance_left_pct_at_ref=50.8 + float(rng.normal(0, 0.1)),
            sensor="rd_pod" if i == 9 else "hrm_pro",
            sensor_balance_bias_pp=1.5 if i == 9 else 0.0,
        )
        for i in range(10)
    ]
    ids = store_runs(store, truths)
    rows, ref = baseline_rows(store, "me")
    assert ref is not None and [r.id for r in rows] == ids
    assert {r.flag for r in rows[5:9]} == {"normal"}
    assert rows[9].flag == "high" and rows[9].explanations[0].factor == "sensor"
    assert 1.0 < rows[9].residual_pp < 2.0
    res = CliRunner().invoke(app, ["baseline", "--json", "--store", str(sdir)])
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert len(out) == 10
    assert {"id", "residual_pp", "flag", "explanation"} <= set(out[0])
    assert out[9]["flag"] == "high" and "sensor" in out[9]["explanation"]
    res = CliRunner().invoke(app, ["baseline", "--flagged", "--store", str(sdir)])
    assert res.exit_code == 0 and "high" in res.stdout
