"""The FIT activity writer (``write_activity_fit``) and the encoder's developer fields and missing
values: real files round-trip through it to the same records, pauses, laps and sessions; generated
records (hypothesis) to the same values within each field's resolution; the official SDK decodes every
output without error."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stridelab.io.fit import (
    DeveloperFieldSpec,
    FitWriter,
    Message,
    MessageBlock,
    decode_with_sdk,
    mesg_num,
    read_activity,
    write_activity_fit,
)
from stridelab.model import Activity, DeveloperColumn

ROUND_TRIP = [
    "Runalyze__Runalyze/Fenix-2-pauses.fit",  # timer stops with paused records
    "Runalyze__Runalyze/Multisession.fit",  # several sessions
    "Runalyze__Runalyze/multisport-triathlon-fenix3.fit",  # swim/bike/run: cadence_spm only on foot
    "dtcooper__python-fitparse/developer-types-sample.fit",  # developer fields
]


def _values(df: pd.DataFrame, col: str) -> np.ndarray:
    return pd.to_numeric(df[col], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


@pytest.mark.parametrize("rel", ROUND_TRIP)
def test_real_files_round_trip(shared_data: Path, rel: str) -> None:
    a = read_activity((shared_data / "fit" / rel).read_bytes())
    data = write_activity_fit(a)
    decode_with_sdk(data)  # raises on any SDK error
    b = read_activity(data)
    assert b.records.index.equals(a.records.index)
    for col in ("paused", "lap_index", "session_index"):
        assert np.array_equal(a.records[col].to_numpy(), b.records[col].to_numpy()), col
    np.testing.assert_allclose(_values(b.records, "timer_s"), _values(a.records, "timer_s"), atol=1e-6)
    for col in ("heart_rate_bpm", "cadence_spm", "distance_m", "speed_m_s", "lat_deg"):
        if col in a.records.columns and a.records[col].notna().any():
            x, y = _values(a.records, col), _values(b.records, col)
            assert np.array_equal(np.isnan(x), np.isnan(y)), col
            np.testing.assert_allclose(y[~np.isnan(x)], x[~np.isnan(x)], atol=0.01, err_msg=col)
    assert b.laps == a.laps
    assert b.sessions == a.sessions
    assert (b.sport, b.sub_sport, b.duration_s, b.distance_m) == (
        a.sport,
        a.sub_sport,
        a.duration_s,
        a.distance_m,
    )
    assert b.developer_columns == a.developer_columns


def test_developer_fields_and_missing_values_in_a_block() -> None:
    rec = mesg_num("record")
    dev = DeveloperFieldSpec(0, 3)
    t = np.arange(5, dtype="float64") + 1_000_000_000
    w = FitWriter()
    w.write(Message(mesg_num("file_id"), {"type": "activity", "manufacturer": "development"}))
    w.write(
        Message(mesg_num("developer_data_id"), {"developer_data_index": 0, "application_id": list(range(16))})
    )
    w.write(
        Message(
            mesg_num("field_description"),
            {
                "developer_data_index": 0,
                "field_definition_number": 3,
                "fit_base_type_id": "float32",
                "field_name": "Form <Power> & co",
                "units": "Watts",
            },
        )
    )
    hr = np.array([120.0, np.nan, 122.0, np.nan, 124.0])
    form = np.array([50.5, 51.0, np.nan, 52.0, 53.25])
    w.write(
        MessageBlock(rec, {"timestamp": t, "heart_rate": hr}, missing_as_invalid=True, developer={dev: form})
    )
    fit = decode_with_sdk(w.close())
    (info,) = fit.developer_fields
    assert (info.name, info.units, info.base_type, info.application_id) == (
        "Form <Power> & co",
        "Watts",
        0x88,
        bytes(range(16)).hex(),
    )
    r = fit.messages["record"]
    np.testing.assert_array_equal(_values(r, "heart_rate"), hr)
    np.testing.assert_array_equal(_values(r, info.column), form)


def test_missing_values_are_still_refused_by_default() -> None:
    with pytest.raises(ValueError, match="NaN"):
        FitWriter().write(MessageBlock(mesg_num("record"), {"heart_rate": np.array([1.0, np.nan])}))


def _activity(records: pd.DataFrame, dev: tuple[DeveloperColumn, ...] = ()) -> Activity:
    return Activity(
        id=hashlib.sha256(b"generated").hexdigest(),
        source_path=None,
        format="fit",
        start_time=records.index[0],
        duration_s=None,
        elapsed_s=None,
        distance_m=None,
        sport="running",
        sub_sport=None,
        records=records,
        developer_columns=dev,
    )


@given(
    n=st.integers(2, 40),
    seed=st.integers(0, 2**32 - 1),
    missing=st.floats(0, 0.5),
)
def test_generated_records_round_trip_within_resolution(n: int, seed: int, missing: float) -> None:
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp("2024-05-01T06:00:00Z")
    times = pd.DatetimeIndex(
        [t0 + pd.Timedelta(seconds=int(s)) for s in np.cumsum(rng.integers(1, 4, n))]
    ).as_unit("ns")

    def col(lo: float, hi: float) -> np.ndarray:
        v = rng.uniform(lo, hi, n)
        v[rng.random(n) < missing] = np.nan
        return v

    records = pd.DataFrame(
        {
            "elapsed_s": (times.asi8 - times.asi8[0]) / 1e9,
            "timer_s": (times.asi8 - times.asi8[0]) / 1e9,
            "paused": np.zeros(n, dtype=bool),
            "session_index": np.zeros(n, dtype="int32"),
            "lap_index": np.zeros(n, dtype="int32"),
            "lat_deg": col(-89, 89),
            "lon_deg": col(-179, 179),
            "altitude_m": col(-400, 8000),
            "distance_m": np.cumsum(rng.uniform(0, 5, n)),
            "speed_m_s": col(0, 12),
            "heart_rate_bpm": np.rint(col(40, 220)),
            "power_w": np.rint(col(0, 900)),
            "cadence_rpm": col(50, 110),
            "stance_time_s": col(0.15, 0.35),
            "stance_time_balance_left_pct": col(45, 55),
            "vertical_oscillation_m": col(0.04, 0.12),
            "vertical_ratio_pct": col(5, 12),
            "step_length_m": col(0.6, 1.8),
            "dev_app0_x_w": col(0, 500),
        },
        index=times,
    )
    records.index.name = "time"
    records["lon_deg"] = np.where(np.isnan(records["lat_deg"]), np.nan, records["lon_deg"])
    records["lat_deg"] = np.where(np.isnan(records["lon_deg"]), np.nan, records["lat_deg"])
    dev = (DeveloperColumn("dev_app0_x_w", "app0", "x", "W", 0, 0),)
    a = _activity(records, dev)
    data = write_activity_fit(a)
    decode_with_sdk(data)
    b = read_activity(data).records
    tol = {
        "lat_deg": 1e-7,
        "lon_deg": 1e-7,
        "altitude_m": 0.1,
        "distance_m": 0.005,
        "speed_m_s": 0.0005,
        "heart_rate_bpm": 0,
        "power_w": 0,
        "cadence_rpm": 1 / 256,
        "stance_time_s": 0.05e-3,
        "stance_time_balance_left_pct": 0.005,
        "vertical_oscillation_m": 0.05e-3,
        "vertical_ratio_pct": 0.005,
        "step_length_m": 0.05e-3,
        "dev_app0_x_w": 1e-4,
        "timer_s": 0,
    }
    assert b.index.equals(records.index)
    for c, t in tol.items():
        x = _values(records, c)
        if not np.isfinite(x).any():
            continue
        y = _values(b, c)
        assert np.array_equal(np.isnan(x), np.isnan(y)), c
        ok = ~np.isnan(x)
        assert np.max(np.abs(x[ok] - y[ok])) <= t + 1e-9, c
