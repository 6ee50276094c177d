"""Daily walking gait (Apple Health): the service (sources combined by sample count, the --days window),
present (display units, the chart) and ``stridelab walking``, on a real store."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from stridelab.cli import app
from stridelab.io.healthkit import DailyGaitMetrics, DailyGaitValue
from stridelab.present.walking import walking_chart, walking_json
from stridelab.services.health import WALKING_METRIC_NAMES, walking_gait
from stridelab.store import Store
from stridelab.store import health as health_store

runner = CliRunner()
PHONE = "[bold]Alex’s iPhone"  # a source name that looks like Rich markup: shown as written
OTHER = "Old iPhone"
DAY0 = date(2023, 5, 1)


def walking_values(n_days: int = 40) -> DailyGaitMetrics:
    """``n_days`` days of the four metrics (SI: %, m, m/s); on even days a second phone too."""
    values = []
    for i in range(n_days):
        day = (DAY0 + timedelta(days=i)).isoformat()
        for metric, base, step in (
            ("walking_asymmetry_pct", 3.0, 0.05),
            ("walking_double_support_pct", 28.0, 0.01),
            ("walking_step_length_m", 0.70, 0.001),
            ("walking_speed_m_s", 1.30, 0.002),
        ):
            values.append(DailyGaitValue(day, metric, base + step * i, "x", PHONE, 3))
            if i % 2 == 0:
                values.append(DailyGaitValue(day, metric, base + step * i + 1.0, "x", OTHER, 1))
    return DailyGaitMetrics(source_path=None, values=tuple(values))


@pytest.fixture
def store(store_path: Path) -> Store:
    st = Store.open(store_path)
    health_store.write_daily_gait(st, "me", walking_values())
    return st


def test_sources_are_combined_by_their_sample_counts(store: Store) -> None:
    gait = walking_gait(store, "me")
    assert (gait.first_day, gait.last_day) == (DAY0, DAY0 + timedelta(days=39))
    assert len(gait.daily) == 40 and list(gait.daily.columns[:4]) == list(WALKING_METRIC_NAMES)
    assert gait.sources == tuple(sorted([PHONE, OTHER]))
    day0, day1 = gait.daily.iloc[0], gait.daily.iloc[1]
    assert day0["walking_step_length_m"] == pytest.approx((3 * 0.70 + 1 * 1.70) / 4)  # weighted 3:1
    assert day1["walking_step_length_m"] == pytest.approx(0.701)  # one source
    assert day0["n_samples"] == 4 * 4 and day1["n_samples"] == 4 * 3


def test_days_window_ends_on_the_last_day_with_data(store: Store) -> None:
    gait = walking_gait(store, "me", days=7)
    assert gait.first_day == DAY0 + timedelta(days=33) and len(gait.daily) == 7
    assert walking_gait(store, "me", days=1000).daily.equals(walking_gait(store, "me").daily)
    with pytest.raises(ValueError, match="'days'"):
        walking_gait(store, "me", days=0)
    empty = walking_gait(store, "someone-else")
    assert empty.empty and empty.first_day is None and walking_json(empty)["days"] == []


def test_display_units_at_the_edge(store: Store) -> None:
    out = walking_json(walking_gait(store, "me", days=2))  # odd day 39: one source; day 38: two
    assert out["units"] == {
        "asymmetry_pct": "%",
        "double_support_pct": "%",
        "step_length_cm": "cm",
        "speed_km_h": "km/h",
    }
    last = out["days"][-1]
    assert last["day"] == "2023-06-09"
    assert last["step_length_cm"] == pytest.approx(100 * 0.739, abs=0.5)
    assert last["speed_km_h"] == pytest.approx(3.6 * 1.378, abs=0.005)
    assert last["asymmetry_pct"] == pytest.approx(3.0 + 0.05 * 39, abs=0.05)
    assert out["means"]["step_length_cm"] is not None


def test_chart_has_a_panel_per_metric_in_display_units(store: Store) -> None:
    fig = walking_chart(walking_gait(store, "me"))
    assert len(fig["data"]) == 8  # daily markers + 7-day mean per metric
    assert {t["yaxis"] for t in fig["data"]} == {"y", "y2", "y3", "y4"}
    step = next(t for t in fig["data"] if t["name"] == "step length (cm)")
    assert 70 <= np.nanmin(np.asarray(step["y"], dtype=float)) < 110  # cm, not m
    assert fig["layout"]["yaxis3"]["title"]["text"] == "step length (cm)"
    assert walking_chart(walking_gait(store, "nobody"))["data"] == []


def test_cli_walking(store: Store, store_path: Path) -> None:
    store.close()
    res = runner.invoke(app, ["walking", "--days", "3", "--json", "--store", str(store_path)])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert [d["day"] for d in out["days"]] == ["2023-06-07", "2023-06-08", "2023-06-09"]
    text = runner.invoke(app, ["walking", "--store", str(store_path)], env={"COLUMNS": "200"})
    assert text.exit_code == 0, text.output
    assert "step length (cm)" in text.stdout and "walking speed (km/h)" in text.stdout
    assert PHONE in text.stdout  # a source name is never read as Rich markup
    assert "2023-05-01" in text.stdout and "mean" in text.stdout
    bad = runner.invoke(app, ["walking", "--days", "0", "--store", str(store_path)])
    assert bad.exit_code == 2 and "days" in bad.output
    empty = runner.invoke(app, ["walking", "--athlete", "nobody", "--store", str(store_path)])
    assert empty.exit_code == 0 and "no walking gait data" in empty.stdout
