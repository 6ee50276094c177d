"""``export_run`` / ``stridelab export`` as FIT, TCX and GPX, from runs imported out of real FIT files.

FIT: the export decodes with the official SDK (``garmin_fit_sdk.Decoder``, no errors) and with
stridelab's own reader to the stored records -- every value equal within its FIT field's resolution --
and to the same developer fields (app, name, units, values). Files (see
``/work/shared/data/fit/REFERENCE.tsv``): ``Fr955v19.28andStryd.fit`` (native running dynamics + 9
Stryd developer fields), ``FR920xt-with-runscribe-plus.fit`` (running dynamics + 11 RunScribe fields),
``with-new-dynamics.fit`` (vertical ratio, step length).
"""

from __future__ import annotations

import io
import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from stridelab.cli import app
from stridelab.io.fit import decode_with_sdk, read_activity
from stridelab.services import Store
from stridelab.services import runs as runs_service
from stridelab.services.imports import import_paths

FILES = [
    "GoldenCheetah__GoldenCheetah/Fr955v19.28andStryd.fit",
    "Runalyze__Runalyze/FR920xt-with-runscribe-plus.fit",
    "Runalyze__Runalyze/with-new-dynamics.fit",
]

#: stored column -> largest difference allowed after a FIT round trip (half the field's resolution)
RESOLUTION: dict[str, float] = {
    "lat_deg": 180.0 / 2**31,
    "lon_deg": 180.0 / 2**31,
    "distance_m": 0.005,
    "speed_m_s": 0.0005,
    "altitude_m": 0.1,
    "heart_rate_bpm": 0.5,
    "power_w": 0.5,
    "temperature_c": 0.5,
    "grade_pct": 0.005,
    "cadence_rpm": 1 / 256,
    "cadence_spm": 1 / 128,
    "stance_time_s": 0.05e-3,
    "stance_time_balance_left_pct": 0.005,
    "stance_time_pct": 0.005,
    "vertical_oscillation_m": 0.05e-3,
    "vertical_ratio_pct": 0.005,
    "step_length_m": 0.05e-3,
    "elapsed_s": 0.0,
    "timer_s": 1e-9,
    "paused": 0.0,
    "session_index": 0.0,
    "lap_index": 0.0,
}


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> tuple[Store, dict[str, str]]:
    """A store with the three files imported: relpath -> activity id."""
    store = Store.open(tmp_path_factory.mktemp("store"))
    ids: dict[str, str] = {}
    for rel in FILES:
        result = import_paths(store, [shared_data / "fit" / rel])
        assert result.failed == [], result.failed
        ids[rel] = result.imported[0][1]
    return store, ids


def _finite(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _assert_same_records(stored: pd.DataFrame, back: pd.DataFrame, dev_tol: dict[str, float]) -> None:
    assert back.index.equals(stored.index)
    for col in stored.columns:
        a = _finite(stored[col])
        if not np.isfinite(a).any():
            continue  # an all-missing field is not written (nothing to carry)
        assert col in back.columns, col
        b = _finite(back[col])
        assert np.array_equal(np.isnan(a), np.isnan(b)), f"{col}: missing values differ"
        ok = ~np.isnan(a)
        tol = RESOLUTION.get(col)
        if tol is None:  # a developer field (float32)
            tol = dev_tol[col]
        assert np.max(np.abs(a[ok] - b[ok])) <= tol + 1e-9, col


@pytest.mark.parametrize("rel", FILES)
def test_fit_export_decodes_to_the_stored_records(
    stored: tuple[Store, dict[str, str]], rel: str, tmp_path: Path
) -> None:
    store, ids = stored
    out = tmp_path / "run.fit"
    n = runs_service.export_run(store, "me", ids[rel], out, "fit")
    data = out.read_bytes()
    original = runs_service.stored_activity(store, "me", ids[rel])
    assert n == len(original.records)

    # stridelab's reader: the same records, laps, sessions and developer fields
    back = read_activity(data)
    assert back.problems == () and back.notes == ()
    dev_tol = {
        c.column: 1e-6 * max(1.0, float(np.nanmax(np.abs(_finite(original.records[c.column])))))
        for c in original.developer_columns
    }
    _assert_same_records(original.records, back.records, dev_tol)
    key = [(c.column, c.app, c.field_name, c.units) for c in original.developer_columns]
    assert [(c.column, c.app, c.field_name, c.units) for c in back.developer_columns] == key
    assert back.laps == original.laps
    assert [(s.sport, s.start_time, s.timer_s, s.distance_m) for s in back.sessions] == [
        (s.sport, s.start_time, s.timer_s, s.distance_m) for s in original.sessions
    ]
    assert (back.sport, back.manufacturer, back.product, back.serial_number) == (
        original.sport,
        original.manufacturer,
        original.product,
        original.serial_number,
    )

    # the official SDK: no error, the same records in FIT units, the same developer fields
    sdk = decode_with_sdk(data)
    rec = sdk.messages["record"]
    assert len(rec) == len(original.records)
    r = original.records
    checks: list[tuple[str, str, float, float]] = [
        ("heart_rate", "heart_rate_bpm", 1.0, 0.0),
        ("power", "power_w", 1.0, 0.0),
        ("stance_time", "stance_time_s", 1e3, 0.05),
        ("vertical_oscillation", "vertical_oscillation_m", 1e3, 0.05),
        ("step_length", "step_length_m", 1e3, 0.05),
        ("vertical_ratio", "vertical_ratio_pct", 1.0, 0.005),
        ("enhanced_speed", "speed_m_s", 1.0, 0.0005),
        ("distance", "distance_m", 1.0, 0.005),
    ]
    compared = 0
    for field, column, factor, tol in checks:
        if column not in r.columns or not np.isfinite(_finite(r[column])).any():
            continue
        a, b = _finite(r[column]) * factor, _finite(rec[field])
        assert np.array_equal(np.isnan(a), np.isnan(b)), field
        ok = ~np.isnan(a)
        assert np.max(np.abs(a[ok] - b[ok])) <= tol + 1e-9, field
        compared += 1
    assert compared >= 5
    described = [(d.name, d.units) for d in sdk.developer_fields]
    assert described == [(c.field_name, c.units) for c in original.developer_columns]
    for info, c in zip(sdk.developer_fields, original.developer_columns, strict=True):
        stored_values = _finite(r[c.column])
        sdk_values = _finite(rec[info.column])
        ok = ~np.isnan(stored_values)
        assert np.array_equal(ok, ~np.isnan(sdk_values)), c.column
        ratio = sdk_values[ok] / np.where(stored_values[ok] == 0, 1, stored_values[ok])
        nonzero = stored_values[ok] != 0
        # one factor per field: the source's units (ms, cm, kN/m ...) restored
        assert np.allclose(ratio[nonzero], ratio[nonzero][0], rtol=1e-5) if nonzero.any() else True


def test_fit_export_keeps_running_dynamics(stored: tuple[Store, dict[str, str]], tmp_path: Path) -> None:
    store, ids = stored
    out = tmp_path / "run.fit"
    runs_service.export_run(store, "me", ids[FILES[0]], out, "fit")
    rec = decode_with_sdk(out.read_bytes()).messages["record"]
    for field in ("stance_time", "vertical_oscillation", "step_length", "vertical_ratio", "cadence"):
        assert rec[field].notna().sum() > 3000, field
    assert any(c.startswith("dev_stryd_form_power") for c in rec.columns)


def test_unknown_format_is_refused_before_anything_is_written(
    stored: tuple[Store, dict[str, str]], tmp_path: Path
) -> None:
    store, ids = stored
    out = tmp_path / "run.kml"
    with pytest.raises(ValueError, match="unknown export format 'kml'"):
        runs_service.export_run(store, "me", ids[FILES[0]], out, "kml")
    assert not out.exists()


# ------------------------------------------------------------------ CLI


def _cli(args: list[str], store: Store, code: int) -> Any:
    res = CliRunner().invoke(app, [*args, "--store", str(store.root)])
    assert res.exit_code == code, res.output
    return res


@pytest.mark.parametrize("fmt", ["fit", "tcx", "gpx"])
def test_cli_export_formats(stored: tuple[Store, dict[str, str]], tmp_path: Path, fmt: str) -> None:
    store, ids = stored
    run_id = ids[FILES[0]][:8]
    out = tmp_path / f"run.{fmt}"
    res = _cli(["export", run_id, "--format", fmt, "-o", str(out)], store, 0)
    data = out.read_bytes()
    if fmt == "fit":
        assert len(read_activity(data).records) == 3118
        assert "wrote 3118 records" in res.stderr
    else:
        root = ET.parse(io.BytesIO(data)).getroot()
        tag = "Trackpoint" if fmt == "tcx" else "trkpt"
        n = sum(1 for e in root.iter() if e.tag.endswith("}" + tag))
        assert n == (3118 if fmt == "tcx" else 3114)  # GPX: 4 records have no position
        assert f"wrote {n} " in res.stderr


def test_cli_export_format_from_suffix(stored: tuple[Store, dict[str, str]], tmp_path: Path) -> None:
    store, ids = stored
    out = tmp_path / "run.GPX"
    _cli(["export", ids[FILES[1]][:8], "-o", str(out)], store, 0)
    assert out.read_bytes().startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1"')


def test_cli_export_unknown_format_is_a_usage_error(
    stored: tuple[Store, dict[str, str]], tmp_path: Path
) -> None:
    store, ids = stored
    out = tmp_path / "run.kml"
    res = _cli(["export", ids[FILES[0]][:8], "--format", "kml", "-o", str(out)], store, 2)
    err = " ".join(res.stderr.split())
    assert "Invalid value for '--format'" in err and "'fit', 'tcx', 'gpx', but got 'kml'" in err
    assert not out.exists()


def test_cli_export_unknown_run_and_unwritable_output(
    stored: tuple[Store, dict[str, str]], tmp_path: Path
) -> None:
    store, ids = stored
    res = _cli(["export", "ffffffff", "--format", "fit", "-o", str(tmp_path / "x.fit")], store, 2)
    assert "ffffffff" in res.stderr
    assert not (tmp_path / "x.fit").exists()
    bad = tmp_path / "missing-dir" / "x.tcx"
    res = _cli(["export", ids[FILES[0]][:8], "--format", "tcx", "-o", str(bad)], store, 2)
    assert f"cannot write {bad}" in res.stderr.replace("\n", "")


def test_indoor_run_exports_valid_files(tmp_path: Path, store_path: Path, shared_data: Path) -> None:
    """A run without GPS (the positions dropped from a real run, stored as such)."""
    src = read_activity((shared_data / "fit" / FILES[2]).read_bytes())
    src.records = src.records.drop(columns=["lat_deg", "lon_deg"])
    store = Store.open(store_path)
    store.add_activity("me", src)
    res = _cli(["export", src.id[:8], "--format", "gpx", "-o", str(tmp_path / "in.gpx")], store, 0)
    assert "no GPS positions" in res.stderr
    root = ET.parse(tmp_path / "in.gpx").getroot()
    assert not [e for e in root.iter() if e.tag.endswith("}trkpt")]
    _cli(["export", src.id[:8], "--format", "tcx", "-o", str(tmp_path / "in.tcx")], store, 0)
    tcx = ET.parse(tmp_path / "in.tcx").getroot()
    points = [e for e in tcx.iter() if e.tag.endswith("}Trackpoint")]
    assert len(points) == len(src.records)
    assert not [e for e in tcx.iter() if e.tag.endswith("}Position")]
    _cli(["export", src.id[:8], "--format", "fit", "-o", str(tmp_path / "in.fit")], store, 0)
    back = read_activity((tmp_path / "in.fit").read_bytes())
    assert "lat_deg" not in back.records.columns
    assert math.isclose(
        float(back.records["heart_rate_bpm"].mean()), float(src.records["heart_rate_bpm"].mean())
    )
