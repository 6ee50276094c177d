"""Charts (matplotlib PNG, Plotly) and HTML rendering from analyses of simulated runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stridelab.analysis import RunAnalysis, analyze_run, trend_analysis
from stridelab.report import (
    balance_speed_plotly,
    balance_timeline_plotly,
    drift_plotly,
    render_run_html,
    render_trend_html,
    save_run_pngs,
    save_trend_png,
    trend_plotly,
)
from stridelab.report._data import drift_curve, excluded_spans, speed_curve
from stridelab.sim import Pause, RunTruth, simulate_run

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def analysis() -> RunAnalysis:
    truth = RunTruth(kind="tempo", duration_s=2400, walk_break_every_s=600, pauses=(Pause(1500.0, 40.0),))
    run = simulate_run(truth, seed=31)
    return analyze_run(run.records)


def test_excluded_spans_cover_the_walks_and_warmup(analysis: RunAnalysis) -> None:
    spans = excluded_spans(analysis)
    reasons = {r for _a, _b, r in spans}
    assert {"warmup", "walking"} <= reasons
    assert all(b > a for a, b, _r in spans)
    walking_min = sum(b - a for a, b, r in spans if r == "walking")
    assert walking_min == pytest.approx(analysis.excluded_by_reason_s["walking"] / 60.0, rel=0.1)


def test_fit_curves_match_the_model(analysis: RunAnalysis) -> None:
    sc = speed_curve(analysis)
    assert sc is not None and np.all(sc.low <= sc.fit) and np.all(sc.fit <= sc.high)
    slope = analysis.speed_slope("balance")
    assert slope is not None
    assert (sc.fit[-1] - sc.fit[0]) / (sc.grid[-1] - sc.grid[0]) == pytest.approx(slope.estimate)
    dc = drift_curve(analysis, 3.0)
    drift = analysis.drift_per_h("balance")
    assert dc is not None and drift is not None
    assert (dc.fit[-1] - dc.fit[0]) / ((dc.grid_min[-1] - dc.grid_min[0]) / 60.0) == pytest.approx(
        drift.estimate
    )
    assert np.all(np.isfinite(dc.rolling))


def test_pngs_are_written(analysis: RunAnalysis, tmp_path: Path) -> None:
    paths = save_run_pngs(analysis, tmp_path, 3.0, stem="t")
    assert [p.name for p in paths] == [
        "t_balance_timeline.png",
        "t_balance_vs_speed.png",
        "t_balance_drift.png",
    ]
    for p in paths:
        data = p.read_bytes()
        assert data.startswith(_PNG_MAGIC) and len(data) > 10_000


def test_plotly_figures(analysis: RunAnalysis) -> None:
    tl = balance_timeline_plotly(analysis)
    assert any(t.name and t.name.startswith("green") for t in tl.data)
    assert len(tl.layout.shapes) > 4  # zone lines + shaded exclusions
    sp = balance_speed_plotly(analysis, 3.0)
    assert [t.name for t in sp.data][:3] == ["samples used", "95 % CI", "fit"]
    assert "pp/h" in drift_plotly(analysis, 3.0).layout.title.text


def test_charts_of_a_run_without_dynamics_say_so(tmp_path: Path) -> None:
    run = simulate_run(RunTruth(kind="easy", duration_s=900, sensor="none"), seed=32)
    a = analyze_run(run.records)
    fig = balance_timeline_plotly(a)
    assert fig.layout.annotations[0].text == "no GCT balance in this run"
    assert len(save_run_pngs(a, tmp_path, 3.0)) == 3
    html = render_run_html(a, 3.0, title="t")
    assert "no usable running dynamics" in html


def test_trend_charts_and_html(tmp_path: Path) -> None:
    t = pd.date_range("2026-01-01", periods=8, freq="4D", tz="UTC")
    table = pd.DataFrame(
        {
            "id": [f"{i:064x}" for i in range(8)],
            "start_time": t,
            "running_s": 1800.0,
            "speed_median_m_s": 3.0,
            "balance_mean_left_pct": 51.0 - 0.02 * np.arange(8),
            "balance_at_ref_speed_left_pct": 50.9 - 0.02 * np.arange(8) + [0.01, -0.01] * 4,
            "balance_at_ref_speed_se_pp": 0.05,
            "balance_at_ref_speed_ci_low": 50.8 - 0.02 * np.arange(8),
            "balance_at_ref_speed_ci_high": 51.0 - 0.02 * np.arange(8),
            "balance_drift_pp_per_h": 0.5,
            "flags": [["steady"]] * 8,
        }
    )
    trend = trend_analysis(table, 3.0, window_runs=3)
    fig = trend_plotly(trend)
    assert any("adjusted trend" in (tr.name or "") for tr in fig.data)
    png = save_trend_png(trend, tmp_path / "t.png")
    assert png.read_bytes().startswith(_PNG_MAGIC)
    html = render_trend_html(trend, title="Trend <test>")
    assert "Trend &lt;test&gt;" in html  # titles are escaped, the library is not
    assert "pp / 30 days" in html
