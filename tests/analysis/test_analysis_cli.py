"""``stridelab analyze``, ``trend`` and ``report`` through the real Typer app and a real store."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from plotly.offline import get_plotlyjs
from typer.testing import CliRunner

from stridelab.cli import app
from stridelab.sim import RunTruth

runner = CliRunner()
_START = datetime(2026, 2, 2, 6, 0, tzinfo=UTC)


@pytest.fixture
def store_with_runs(sim_store):  # type: ignore[no-untyped-def]
    truths = [
        RunTruth(
            kind="easy" if i % 3 else "tempo",
            start_time=_START + timedelta(days=4 * i),
            duration_s=1500.0,
            warmup_s=300.0,
            balance_left_pct_at_ref=51.0 - 0.05 * i,
        )
        for i in range(10)
    ]
    store, runs = sim_store(truths)
    return store, [r[0] for r in runs]


def _json(args: list[str]) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_analyze_json_contract_and_ref_speed(store_with_runs) -> None:  # type: ignore[no-untyped-def]
    store, ids = store_with_runs
    s = ["--store", str(store.root)]
    d = _json(["analyze", ids[1][:8], "--json", *s])
    b = d["balance"]
    assert d["id"] == ids[1] and d["ref_speed_source"] == "athlete_easy_run_median"
    for key in ("mean_left_pct", "median_left_pct", "at_ref_speed_left_pct", "ref_speed_m_s"):
        assert isinstance(b[key], float)
    assert set(b["speed_slope_pp_per_m_s"]) == {"estimate", "ci_low", "ci_high"}
    assert set(b["drift_pp_per_h"]) == {"estimate", "ci_low", "ci_high"}
    assert set(b["zones_s"]) == {"red_left", "orange_left", "green", "orange_right", "red_right"}
    assert {"mean", "at_ref_speed", "drift_per_h"} <= set(d["gct_ms"])
    assert isinstance(d["excluded_s"], float) and isinstance(d["flags"], list)
    fixed = _json(["analyze", ids[1], "--json", "--ref-speed", "3.5", *s])
    assert fixed["balance"]["ref_speed_m_s"] == 3.5 and fixed["ref_speed_source"] == "option"
    paced = _json(["analyze", ids[1], "--json", "--ref-pace", "5:00/km", *s])
    assert paced["balance"]["ref_speed_m_s"] == pytest.approx(1000 / 300)
    slope = b["speed_slope_pp_per_m_s"]["estimate"]
    delta = fixed["balance"]["at_ref_speed_left_pct"] - d["balance"]["at_ref_speed_left_pct"]
    assert delta == pytest.approx(slope * (3.5 - b["ref_speed_m_s"]))


def test_analyze_table_and_errors(store_with_runs) -> None:  # type: ignore[no-untyped-def]
    store, ids = store_with_runs
    s = ["--store", str(store.root)]
    out = runner.invoke(app, ["analyze", ids[0], *s])
    assert out.exit_code == 0 and "GCT balance" in out.stdout and "fatigue drift" in out.stdout
    missing = runner.invoke(app, ["analyze", "ffffffff", *s])
    assert missing.exit_code != 0 and "No run" in missing.output
    both = runner.invoke(app, ["analyze", ids[0], "--ref-speed", "3", "--ref-pace", "5:00/km", *s])
    assert both.exit_code != 0 and "either" in both.output
    bad = runner.invoke(app, ["analyze", ids[0], "--ref-pace", "fast", *s])
    assert bad.exit_code != 0 and "Invalid pace" in bad.output
    clock = runner.invoke(app, ["analyze", ids[0], "--drift-clock", "wall", *s])
    assert clock.exit_code != 0 and "Allowed values" in clock.output


def test_trend_json_and_since(store_with_runs) -> None:  # type: ignore[no-untyped-def]
    store, ids = store_with_runs
    s = ["--store", str(store.root)]
    rows = _json(["trend", "--json", *s])
    assert isinstance(rows, list)
    d = _json(["trend", "--json", "--full", *s])
    assert d["runs"] == rows
    assert [r["id"] for r in rows] == ids
    for row in rows:
        assert {"id", "start_time", "balance_mean_left_pct", "balance_at_ref_speed_left_pct"} <= set(row)
        assert isinstance(row["balance_at_ref_speed_left_pct"], float)
    assert d["trend"]["adjusted_balance_left_pct"]["per_30_days"]["estimate"] < 0
    later = _json(["trend", "--json", "--since", "2026-02-20", *s])
    assert 0 < len(later) < len(ids)
    table = runner.invoke(app, ["trend", *s])
    assert table.exit_code == 0 and "trend" in table.stdout
    bad = runner.invoke(app, ["trend", "--since", "yesterday-ish", *s])
    assert bad.exit_code != 0 and "not a date" in bad.output


def test_reports_are_self_contained_html(store_with_runs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, ids = store_with_runs
    s = ["--store", str(store.root)]
    run_html = tmp_path / "run.html"
    res = runner.invoke(
        app, ["report", ids[2][:10], "-o", str(run_html), "--png-dir", str(tmp_path / "png"), *s]
    )
    assert res.exit_code == 0, res.output
    html = run_html.read_text(encoding="utf-8")
    assert "GCT balance" in html and ids[2][:12] in html
    # plotly.js is inline (and not HTML-escaped): nothing is fetched from the network
    assert not re.search(r"<script[^>]+src=", html) and not re.search(r"<link[^>]+href=", html)
    assert get_plotlyjs()[:5000] in html
    assert "Plotly.newPlot" in html
    assert html.count('class="plotly-graph-div"') >= 4
    assert len(list((tmp_path / "png").glob("*.png"))) == 3
    trend_html = tmp_path / "trend.html"
    res = runner.invoke(app, ["report", "--trend", "-o", str(trend_html), *s])
    assert res.exit_code == 0, res.output
    text = trend_html.read_text(encoding="utf-8")
    assert "Per week" in text and not re.search(r"<script[^>]+src=", text)
    neither = runner.invoke(app, ["report", "-o", str(tmp_path / "x.html"), *s])
    assert neither.exit_code != 0 and "RUN_ID" in neither.output
