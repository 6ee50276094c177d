"""Helpers for the synthetic-runner tests: an independent decode of written files with the official SDK."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fitdecode
import numpy as np
import pandas as pd
import pytest
from garmin_fit_sdk import Decoder, Stream

SEMI = 180.0 / 2.0**31

#: canonical column -> (FIT record field, factor FIT unit -> SI)
RECORD_FIELD_MAP: dict[str, tuple[str, float]] = {
    "distance_m": ("distance", 1.0),
    "speed_m_s": ("enhanced_speed", 1.0),
    "altitude_m": ("enhanced_altitude", 1.0),
    "heart_rate_bpm": ("heart_rate", 1.0),
    "stance_time_s": ("stance_time", 1e-3),
    "stance_time_balance_left_pct": ("stance_time_balance", 1.0),
    "stance_time_pct": ("stance_time_percent", 1.0),
    "vertical_oscillation_m": ("vertical_oscillation", 1e-3),
    "vertical_ratio_pct": ("vertical_ratio", 1.0),
    "step_length_m": ("step_length", 1e-3),
}


@dataclass
class Decoded:
    """An SDK decode of a FIT file, with the records converted to canonical columns (SI)."""

    messages: dict[str, list[dict[str, Any]]]
    records: pd.DataFrame


def _sdk_decode(data: bytes) -> Decoded:
    assert Decoder(Stream.from_byte_array(bytearray(data))).check_integrity()
    decoded, errors = Decoder(Stream.from_byte_array(bytearray(data))).read()
    assert errors == []
    raw: dict[str, Any] = dict(decoded)
    messages: dict[str, list[dict[str, Any]]] = {k: [dict(m) for m in v] for k, v in raw.items()}
    recs = messages["record_mesgs"]
    time = pd.DatetimeIndex([r["timestamp"] for r in recs], name="time").as_unit("ns")
    cols: dict[str, Any] = {
        "lat_deg": np.array([r["position_lat"] for r in recs], dtype=np.float64) * SEMI,
        "lon_deg": np.array([r["position_long"] for r in recs], dtype=np.float64) * SEMI,
        "cadence_rpm": np.array([r["cadence"] + r["fractional_cadence"] for r in recs], dtype=np.float64),
    }
    for col, (name, factor) in RECORD_FIELD_MAP.items():
        if name in recs[0]:
            cols[col] = np.array([r[name] for r in recs], dtype=np.float64) * factor
    df = pd.DataFrame(cols, index=time)
    df["elapsed_s"] = (df.index - df.index[0]).total_seconds()
    return Decoded(messages=messages, records=df)


def _fitdecode_count(data: bytes) -> dict[str, int]:
    counts: dict[str, int] = {}
    with fitdecode.FitReader(io.BytesIO(data), check_crc=fitdecode.CrcCheck.RAISE) as fr:
        for frame in fr:
            if isinstance(frame, fitdecode.FitDataMessage):
                counts[frame.name] = counts.get(frame.name, 0) + 1
    return counts


@pytest.fixture(scope="session")
def decode_fit() -> Callable[[bytes | Path], Decoded]:
    """Decode bytes or a path with ``garmin_fit_sdk`` (asserting integrity and no errors)."""

    def decode(src: bytes | Path) -> Decoded:
        data = src.read_bytes() if isinstance(src, Path) else src
        return _sdk_decode(data)

    return decode


@pytest.fixture(scope="session")
def fitdecode_counts() -> Callable[[bytes], dict[str, int]]:
    """Message counts by name as ``fitdecode`` reads the bytes (CRC checked)."""
    return _fitdecode_count
