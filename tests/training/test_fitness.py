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
