"""Per-lap and per-km splits (analysis/_splits.py): means against a plain pandas groupby, distances
that add up, elevation from a known profile, invalid samples left out."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from stridelab.analysis import METRICS, splits


def _records(n: int = 1200, speed: float = 3.0, laps_every: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    t = pd.date_range("2026-05-01 07:00", periods=n, freq="1s", tz="UTC")
    return pd.DataFrame(
        {
            "timer_s": np.arange(n, dtype=float),
            "lap_index": np.arange(n) // laps_every,
            "distance_m": np.arange(n) * speed,
            "heart_rate_bpm": 140 + rng.normal(0, 3, n),
            "stance_time_balance_left_pct": 50.5 + rng.normal(0, 0.5, n),
            "stance_time_s": 0.25 + rng.normal(0, 0.005, n),
            "altitude_m": 100 + 10 * np.sin(np.arange(n) / 200.0),
        },
        index=t,
    )


def test_lap_means_match_a_groupby_and_distances_add_up() -> None:
    rec = _records()
    out = splits(rec, by="lap")
    assert list(out["number"]) == [1, 2, 3, 4]
    ref = rec.groupby("lap_index")[["heart_rate_bpm", "stance_time_balance_left_pct", "stance_time_s"]].mean()
    np.testing.assert_allclose(out["heart_rate"], ref["heart_rate_bpm"].to_numpy())
    np.testing.assert_allclose(out["balance"], ref["stance_time_balance_left_pct"].to_numpy())
    np.testing.assert_allclose(out["gct"], ref["stance_time_s"].to_numpy())
    assert out["power"].isna().all()  # not recorded: None, never 0
    km = splits(rec, by="km")
    assert list(km["split"])[:3] == ["km 1", "km 2", "km 3"]
    total = float(rec["distance_m"].iloc[-1] - rec["distance_m"].iloc[0])
    assert abs(km["distance_m"].sum() - total) < 1e-6
    assert np.allclose(km["speed_m_s"].iloc[:-1], 3.0)


def test_zero_and_implausible_samples_are_left_out() -> None:
    rec = _records(600)
    rec.loc[rec.index[:100], "stance_time_s"] = 0.0  # a Garmin writes 0 while standing
    rec.loc[rec.index[100:110], "stance_time_s"] = 5.0  # a glitch
    out = splits(rec, by="lap")
    expected = rec["stance_time_s"].iloc[110:300].mean()
    assert abs(float(out["gct"].iloc[0]) - expected) < 1e-12
    lo, hi = METRICS["gct"].plausible_si
    assert lo <= float(out["gct"].iloc[0]) <= hi


def test_elevation_gain_and_loss_of_a_known_profile() -> None:
    rec = _records(600, laps_every=600)
    rec["altitude_m"] = np.r_[np.linspace(100, 130, 300), np.linspace(130, 110, 300)]
    out = splits(rec, by="lap")
    assert abs(float(out["elevation_gain_m"].iloc[0]) - 30.0) < 0.5
    assert abs(float(out["elevation_loss_m"].iloc[0]) - 20.0) < 0.5


def test_device_laps_win_for_distance_and_time() -> None:
    rec = _records(600)
    laps = pd.DataFrame({"lap_index": [0, 1], "distance_m": [1000.0, 800.0], "timer_s": [300.0, 300.0]})
    out = splits(rec, laps, by="lap")
    assert list(out["distance_m"]) == [1000.0, 800.0]
    assert abs(float(out["speed_m_s"].iloc[0]) - 1000.0 / 300.0) < 1e-12


def test_empty_run_gives_an_empty_table() -> None:
    assert splits(pd.DataFrame(), by="lap").empty and splits(pd.DataFrame(), by="km").empty


@settings(max_examples=25, deadline=None)
@given(st.floats(1.5, 6.0), st.integers(200, 2000))
def test_km_splits_cover_the_whole_run(speed: float, n: int) -> None:
    rec = _records(n, speed=speed)
    km = splits(rec, by="km")
    total = float(rec["distance_m"].iloc[-1])
    assert len(km) == int(np.floor(total / 1000.0)) + 1
    assert abs(km["distance_m"].sum() - total) < 1e-6
