"""Real third-party FIT files (../shared/data/fit): no errors, and means equal to REFERENCE.tsv."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from stridelab.analysis import analyze_run
from stridelab.io.fit import read_activity
from stridelab.present.analysis import run_analysis_json
from stridelab.services.analysis import analyze_activity
from stridelab.store import Store

#: REFERENCE.tsv mean column -> (record column, factor from SI to the reference unit)
_COLUMNS = {
    "mean_stance_time_ms": ("stance_time_s", 1000.0),
    "mean_stance_time_balance_pct": ("stance_time_balance_left_pct", 1.0),
    "mean_vertical_oscillation_mm": ("vertical_oscillation_m", 1000.0),
    "mean_vertical_ratio_pct": ("vertical_ratio_pct", 1.0),
    "mean_step_length_mm": ("step_length_m", 1000.0),
    "mean_stance_time_percent_pct": ("stance_time_pct", 1.0),
}


def _reference(shared_data: Path) -> list[dict[str, str]]:
    with open(shared_data / "fit" / "REFERENCE.tsv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def test_reference_files_analyse_and_match_reference_means(shared_data: Path) -> None:
    rows = _reference(shared_data)
    assert len(rows) >= 20
    checked = 0
    for row in rows:
        act = read_activity((shared_data / "fit" / row["relpath"]).read_bytes(), source_path=row["relpath"])
        a = analyze_run(act.records, None, devices=act.devices)
        payload = run_analysis_json(a, 3.0)
        json.dumps(payload, allow_nan=False)  # never a NaN presented as a number
        for ref_col, (column, factor) in _COLUMNS.items():
            expected = row.get(ref_col) or ""
            if not expected:
                continue
            got = a.recorded_means.get(column)
            assert got is not None, (row["relpath"], column)
            assert got * factor == pytest.approx(float(expected), abs=2e-3), (row["relpath"], column)
            checked += 1
        if a.summaries.get("balance"):
            bal = a.summaries["balance"].mean
            assert 40.0 < bal < 60.0, row["relpath"]
    assert checked >= 60


def test_multisport_file_is_analysed_on_its_run_leg(shared_data: Path, tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s")
    names = [
        "Runalyze__Runalyze/Multisession-stop-after-transition.fit",
        "Runalyze__Runalyze/with-new-dynamics.fit",
    ]
    ids = []
    for name in names:
        act = read_activity((shared_data / "fit" / name).read_bytes(), source_path=name)
        store.add_activity("me", act)
        ids.append((act.id, len(act.records)))
    multi = analyze_activity(store, "me", ids[0][0])  # run, transition, bike, transition, run
    assert multi.n_records < ids[0][1]  # only the two running sessions' records
    assert multi.sensor.label == "Garmin HRM-Run"
    assert multi.summaries["balance"].mean == pytest.approx(51.50, abs=0.3)  # REFERENCE non-zero mean
    run = analyze_activity(store, "me", ids[1][0])  # smart recording: a record every ~7 s
    assert run.n_records == ids[1][1]
    assert run.models.get("balance") is not None


def test_a_ride_is_not_analysed_as_a_run(shared_data: Path, tmp_path: Path) -> None:
    import csv as _csv

    with open(shared_data / "fit" / "MANIFEST.tsv", encoding="utf-8") as fh:
        rides = [r["relpath"] for r in _csv.DictReader(fh, delimiter="\t") if r["sport"].strip() == "cycling"]
    store = Store.open(tmp_path / "s")
    for name in rides[:3]:
        try:
            act = read_activity((shared_data / "fit" / name).read_bytes(), source_path=name)
        except ValueError:
            continue
        store.add_activity("me", act)
        a = analyze_activity(store, "me", act.id)
        assert a.flags[0] == "not_a_run" and "does not apply" in a.messages[0]["message"]
        return
    pytest.fail("no decodable cycling file in the corpus")
