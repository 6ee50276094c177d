"""Function tests (issue 20, point 5) logged like the balance tests: stored in the real store, timed from a
simulated waist recording written with its sidecar, listed and charted (CLI PNG and the web's Plotly JSON)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stridelab.cli import app
from stridelab.io.imu import ImuRecording
from stridelab.services.training import (
    balance_history,
    function_test_history,
    function_test_records,
    measure_function_test,
    record_balance_test,
    record_function_test,
)
from stridelab.sim.function_tests import simulate_sit_to_stand, simulate_tandem_walk
from stridelab.sim.imu import write_table_with_sidecar
from stridelab.store import Store
from stridelab.web._charts import balance_tests_chart


def test_record_history_and_bad_values(store: Store) -> None:
    record_function_test(store, "me", "sit_to_stand_5x", 12.4, day=date(2026, 11, 2))
    record_function_test(
        store,
        "me",
        "tandem_walk",
        9.1,
        steps_off=2,
        symmetry_index_pct=-8.0,
        source="sensor",
        day=date(2026, 11, 3),
    )
    recs = function_test_records(function_test_history(store, "me"))
    assert [(r["test"], r["seconds"], r["steps_off"], r["symmetry_index_pct"]) for r in recs] == [
        ("sit_to_stand_5x", 12.4, None, None),
        ("tandem_walk", 9.1, 2, -8.0),
    ]
    for kwargs, name in (
        ({"test": "chair", "seconds": 10.0}, "'test'"),
        ({"test": "tandem_walk", "seconds": -1.0}, "'seconds'"),
        ({"test": "sit_to_stand_5x", "seconds": 10.0, "steps_off": 1}, "'steps_off'"),
    ):
        with pytest.raises(ValueError, match=name):
            record_function_test(store, "me", **kwargs)  # type: ignore[arg-type]
    assert len(function_test_history(store, "me")) == 2  # nothing half-written


def test_measured_from_a_waist_recording_and_charted(store: Store, tmp_path: Path) -> None:
    sts, sts_truth = simulate_sit_to_stand(rise_s=1.3, seed=7)
    tandem, tandem_truth = simulate_tandem_walk(
        off_line_steps=(6,), step_left_s=0.8, step_right_s=1.0, seed=7
    )
    write_table_with_sidecar(ImuRecording((sts,)), tmp_path / "sts.csv")
    write_table_with_sidecar(ImuRecording((tandem,)), tmp_path / "tandem.csv")
    m = measure_function_test(tmp_path / "sts.csv", "sit_to_stand_5x")
    assert m["rises"] == 5 and m["duration_s"] == pytest.approx(sts_truth["duration_s"], abs=0.3)
    t = measure_function_test(tmp_path / "tandem.csv", "tandem_walk")
    assert t["steps_off"] == 1 and t["duration_s"] == pytest.approx(tandem_truth["duration_s"], abs=0.1)
    assert t["symmetry_index_pct"] < -10  # left steps shorter
    with pytest.raises(ValueError, match="0 of 5 rises"):
        measure_function_test(tmp_path / "tandem.csv", "sit_to_stand_5x")

    runner = CliRunner()
    st = str(tmp_path / "cli-store")
    res = runner.invoke(
        app,
        [
            "test",
            "function",
            "--test",
            "tandem-walk",
            "--file",
            str(tmp_path / "tandem.csv"),
            "--json",
            "--store",
            st,
            "--today",
            "2026-11-21",
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["measured"]["steps_off"] == 1 and out["recorded_id"] == 1
    chart = tmp_path / "tests.png"
    res = runner.invoke(
        app,
        [
            "test",
            "function",
            "--test",
            "sit-to-stand",
            "--seconds",
            "11.5",
            "--chart",
            str(chart),
            "--store",
            st,
            "--today",
            "2026-11-21",
        ],
    )
    assert res.exit_code == 0, res.output
    assert chart.stat().st_size > 5000 and "sit_to_stand_5x: 11.5 s (manual)" in res.output
    res = runner.invoke(app, ["test", "function", "--test", "sit-to-stand", "--store", st])
    assert res.exit_code == 2 and "exactly one of --seconds" in res.output

    record_balance_test(store, "me", "left", 22.0, "open", date(2026, 11, 2))
    record_function_test(store, "me", "tandem_walk", 9.4, steps_off=1, day=date(2026, 11, 2))
    fig = balance_tests_chart(
        balance_history(store, "me"),
        function_test_history(store, "me"),
    )
    names = [d["name"] for d in fig["data"]]
    assert "tandem walk" in names and "left, eyes open" in names
    assert next(d for d in fig["data"] if d["name"] == "tandem walk")["yaxis"] == "y2"
