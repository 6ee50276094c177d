"""The synthetic runner's files round-trip through import: truth -> FIT -> import -> same values."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from stridelab.services.imports import import_paths
from stridelab.sim import Pause, RunTruth, simulate_run, simulate_season, write_fit
from stridelab.store import Store

#: FIT resolution of each canonical column (half a quantisation step is the largest rounding error)
RESOLUTION = {
    "elapsed_s": 1e-6,
    "timer_s": 1e-6,
    "stance_time_s": 1e-4,  # 0.1 ms
    "stance_time_balance_left_pct": 0.01,
    "stance_time_pct": 0.01,
    "vertical_oscillation_m": 1e-4,
    "vertical_ratio_pct": 0.01,
    "step_length_m": 1e-4,
    "speed_m_s": 1e-3,
    "distance_m": 1e-2,
    "altitude_m": 0.2,
    "heart_rate_bpm": 1.0,
    "cadence_spm": 2 / 128,
    "lat_deg": 180 / 2**31,
    "lon_deg": 180 / 2**31,
}


@pytest.mark.parametrize("kind", ["easy", "tempo", "intervals", "hills", "easy+pauses"])
def test_truth_fit_import_roundtrip(kind: str, tmp_path: Path) -> None:
    pauses = (Pause(at_timer_s=600.0, duration_s=95.0), Pause(at_timer_s=1500.0, duration_s=1.0))
    truth = RunTruth(kind="easy", pauses=pauses) if kind == "easy+pauses" else RunTruth(kind=kind)
    run = simulate_run(truth, seed=3)
    path = write_fit(run, tmp_path / f"{kind}.fit")
    sidecar = json.loads((tmp_path / f"{kind}.truth.json").read_text())
    assert sidecar["seed"] == 3
    store = Store.open(tmp_path / "s")
    result = import_paths(store, [path], workers=1)
    assert not result.failed and len(result.imported) == 1
    activity_id = result.imported[0][1]
    rec = store.records("me", activity_id)
    truth = run.records
    assert len(rec) == len(truth)
    assert (rec.index == truth.index).all()
    assert (rec["paused"].to_numpy() == truth["paused"].to_numpy()).all()
    assert (rec["lap_index"].to_numpy() == truth["lap_index"].to_numpy()).all()
    for col, res in RESOLUTION.items():
        if col not in truth.columns:
            continue
        a = rec[col].to_numpy(dtype=float)
        b = truth[col].to_numpy(dtype=float)
        both = np.isfinite(a) & np.isfinite(b)
        assert (np.isfinite(a) == np.isfinite(b)).all(), col
        assert np.max(np.abs(a[both] - b[both]), initial=0.0) <= res / 2 + 1e-9, col
    row = store.activity("me", activity_id)
    assert row.sport == "running"
    assert row.duration_s == pytest.approx(truth["timer_s"].iloc[-1], abs=1.0)
    if kind == "easy+pauses":
        assert row.elapsed_s - row.duration_s == pytest.approx(96.0, abs=1.0)  # no record inside a pause
    assert len(store.laps("me", activity_id)) == len(run.laps)


def test_season_imports_with_truth_sidecars(tmp_path: Path) -> None:
    paths = simulate_season(tmp_path / "season", n_runs=6, weeks=2, seed=11)
    assert len(paths) == 6
    store = Store.open(tmp_path / "s")
    result = import_paths(store, [tmp_path / "season"], workers=1)
    assert len(result.imported) == 6 and not result.failed
    # sidecar JSON files are not FIT: ignored, not failed
    assert all(p.endswith(".json") for p in result.ignored)
    balances = [r.summary["stance_time_balance_left_pct_mean"] for r in store.list_activities("me")]
    assert all(45 < b < 56 for b in balances)
