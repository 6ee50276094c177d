"""``stridelab imu`` through Typer's CliRunner with a real store, and the sidecar importer."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stridelab.cli import app
from stridelab.services.imu import import_imu_recording
from stridelab.sim.imu import ImuTruth, simulate_imu, simulate_single_leg_stance, write_table_with_sidecar
from stridelab.store import Store
from stridelab.store.imu import load_imu_analysis
from stridelab.units import G

runner = CliRunner()


@pytest.fixture(scope="module")
def shank_csv(tmp_path_factory) -> Path:
    sim = simulate_imu(ImuTruth(duration_s=10.0, placements=("shank",)), seed=9)
    s = sim.recording.sensor("left_shank")
    path = tmp_path_factory.mktemp("imu") / "left_shank.csv"
    out = s.data.copy()
    out[["acc_x", "acc_y", "acc_z"]] /= G  # exported in g
    out.to_csv(path, index=False)
    return path


def test_imu_command_json_and_store(shank_csv, store_path):
    args = [
        "imu",
        str(shank_csv),
        "--placement",
        "shank",
        "--side",
        "left",
        "--rate-hz",
        "200",
        "--acc-unit",
        "g",
        "--store",
        str(store_path),
        "--athlete",
        "ana",
        "--json",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["activity"] == "running"
    assert payload["summary"]["gait_mode"] == "running"
    assert 160 < payload["summary"]["cadence_spm"] < 180
    assert len(payload["steps"]) > 10 and {"step_time_s", "contact_time_s"} <= set(payload["steps"][0])
    stored = load_imu_analysis(Store.open(store_path), "ana", payload["id"])
    assert stored["gait_mode"] == "running" and stored["placements"] == "left_shank"
    assert len(stored["steps"]) == len(payload["steps"])
    # idempotent: the same file again keeps one row
    again = runner.invoke(app, args)
    assert json.loads(again.stdout)["id"] == payload["id"]
    n = Store.open(store_path).connect().execute("SELECT COUNT(*) FROM imu_recordings").fetchone()[0]
    assert n == 1


def test_imu_command_table_output(shank_csv, store_path):
    result = runner.invoke(
        app,
        [
            "imu",
            str(shank_csv),
            "--placement",
            "shank",
            "--side",
            "left",
            "--rate-hz",
            "200",
            "--acc-unit",
            "g",
            "--store",
            str(store_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "ground contact time" in result.output and "cadence" in result.output


def test_imu_command_errors(shank_csv, store_path):
    bad = runner.invoke(app, ["imu", str(shank_csv), "--placement", "hip", "--store", str(store_path)])
    assert bad.exit_code == 2
    assert "Invalid value for the 'placement' parameter" in bad.output
    units = runner.invoke(
        app,
        [
            "imu",
            str(shank_csv),
            "--placement",
            "shank",
            "--side",
            "left",
            "--rate-hz",
            "200",
            "--store",
            str(store_path),
        ],
    )
    assert units.exit_code == 2 and "looks like it is in g" in units.output
    missing = runner.invoke(app, ["imu", "nope.csv", "--placement", "shank", "--store", str(store_path)])
    assert missing.exit_code == 2 and "does not exist" in missing.output
    noside = runner.invoke(
        app,
        ["imu", str(shank_csv), "--placement", "shank", "--rate-hz", "200", "--acc-unit", "g", "--no-store"],
    )
    assert noside.exit_code == 2 and "needs a side" in noside.output


def test_balance_test_via_cli(tmp_path, store_path):
    sensor, _ = simulate_single_leg_stance(side="right", touchdown_s=21.0, seed=3)
    path = tmp_path / "stand.csv"
    sensor.data.to_csv(path, index=False)
    result = runner.invoke(
        app,
        [
            "imu",
            str(path),
            "--placement",
            "sacrum",
            "--side",
            "right",
            "--rate-hz",
            "100",
            "--activity",
            "balance",
            "--store",
            str(store_path),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["summary"]
    assert summary["time_to_touchdown_s"] == pytest.approx(21.0, abs=0.05)


def test_import_imu_recording_with_sidecar(tmp_path, store_path):
    sim = simulate_imu(ImuTruth(duration_s=8.0, placements=("foot",)), seed=10)
    recording = dataclasses.replace(sim.recording, activity="running")
    data_path = write_table_with_sidecar(recording, tmp_path / "feet.parquet")
    store = Store.open(store_path)
    rec_id = import_imu_recording(store, "me", data_path)
    assert len(rec_id) == 64
    row = load_imu_analysis(store, "me", rec_id)
    assert row["activity"] == "running" and row["placements"] == "left_foot,right_foot"
    assert row["summary"]["foot_strike_pattern_left"] in {"rearfoot", "midfoot", "forefoot"}
    strides = store.read_stream("imu_strides", "me", rec_id)
    assert {"contact_time_s", "mid_stance_s", "foot_strike_angle_rad"} <= set(strides.columns)
    events = store.read_stream("imu_events", "me", rec_id)
    assert list(events.columns) == ["time_s", "side", "event"]
