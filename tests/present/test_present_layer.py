"""The presentation layer: labels from the METRICS registry, the formatter's interval, the one band
builder and thinning, and the analysis cache's pure read."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stridelab.present import charts, metrics
from stridelab.present import format as fmt


def test_labels_units_and_contract_keys_come_from_the_registry() -> None:
    assert [metrics.contract_key(k) for k in metrics.OTHER_MODELLED] == ["gct_ms", "vo_mm", "vr_pct"]
    assert [metrics.axis_label(k) for k in metrics.OTHER_MODELLED] == [
        "GCT (ms)",
        "vertical oscillation (mm)",
        "vertical ratio (%)",
    ]
    assert metrics.label("gct") == "Ground contact time" and metrics.factor("gct") == 1000.0
    assert metrics.unit("dev_stryd_form_power_w") == "W"  # outside the registry: from the name
    assert metrics.label("dev_x") == "dev_x" and metrics.factor("dev_x") == 1.0


def test_interval_is_the_cli_estimate_with_its_ci() -> None:
    assert fmt.interval(0.4213, 0.1, -0.7444, missing="-") == "+0.42  [+0.10, -0.74]"
    assert fmt.interval(None, 0.1, 0.2, missing="-") == "-"
    assert fmt.interval_of({"estimate": 1.0, "ci_low": 0.5, "ci_high": 1.5}, 1) == "+1.0  [+0.5, +1.5]"
    assert fmt.interval_of(None, missing="-") == "-"
    assert fmt.num(12.345, 2, "km", sep=" ", missing="-") == "12.35 km"


def test_band_outlines_high_then_low_backwards() -> None:
    x, lo, hi = np.array([1.0, 2.0, 3.0]), np.array([0.0, 0.5, 1.0]), np.array([2.0, 2.5, 3.0])
    trace = charts.band(x, lo, hi)
    assert trace["type"] == "scatter" and trace["fill"] == "toself"
    assert list(trace["x"]) == [1.0, 2.0, 3.0, 3.0, 2.0, 1.0]
    assert list(trace["y"]) == [2.0, 2.5, 3.0, 1.0, 0.5, 0.0]
    listed = charts.band(["a", "b"], [0.0, 1.0], [2.0, 3.0], name="baseline", mode="lines")
    assert listed["x"] == ["a", "b", "b", "a"] and listed["y"] == [2.0, 3.0, 1.0, 0.0]
    assert listed["name"] == "baseline" and listed["mode"] == "lines"


def test_thin_keeps_the_ends_and_at_most_max_points() -> None:
    assert list(charts.thin(5, 10)) == [0, 1, 2, 3, 4]
    idx = charts.thin(100_000, 1500)
    assert len(idx) <= 1500 and idx[0] == 0 and idx[-1] == 99_999


def test_reading_the_cache_of_a_fresh_store_never_writes(tmp_path: Path) -> None:
    from stridelab.services import open_store
    from stridelab.services.analysis import cached_analysis

    store = open_store(tmp_path / "s")
    assert cached_analysis(store, "me", "0" * 64) is None
    tables = {r[0] for r in store.connect().execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "analysis_runs" not in tables  # a read does not migrate
