"""Per-lap and per-kilometre splits of one run: every dynamic present, heart rate, power, elevation.

Pure: records and laps in (canonical SI columns, as stored), one row per split out, SI. A split's
metric is the mean of its records with a plausible, non-zero value (the same validity rule as the
per-run summary, :data:`METRICS` ``plausible_si``); its elevation gain and loss sum the positive and
negative altitude steps after a 5-sample median filter (barometric noise would otherwise add up).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final, Literal

from stridelab.analysis._metrics import METRICS
from stridelab.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

__all__ = ["SPLIT_METRICS", "splits"]

#: the per-record metrics a split reports (registry keys), in table order
SPLIT_METRICS: Final[tuple[str, ...]] = (
    "heart_rate",
    "power",
    "cadence",
    "balance",
    "gct",
    "vo",
    "vr",
    "step_length",
)
_KM: Final[float] = 1000.0
#: the international mile, m (``by="mi"``: the splits an imperial runner reads)
_MI: Final[float] = 1609.344


def _mean(values: pd.Series, key: str) -> float | None:
    lo, hi = METRICS[key].plausible_si
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
    ok = np.isfinite(v) & (v != 0.0) & (v >= lo) & (v <= hi)
    return float(v[ok].mean()) if ok.any() else None


def _elevation(alt: pd.Series) -> tuple[float | None, float | None]:
    a = pd.to_numeric(alt, errors="coerce").dropna()
    if len(a) < 2:
        return None, None
    smooth = a.rolling(5, center=True, min_periods=1).median().to_numpy(dtype="float64")
    d = np.diff(smooth)
    return float(d[d > 0].sum()), float(-d[d < 0].sum())


def _clock(records: pd.DataFrame) -> np.ndarray:
    if "timer_s" in records.columns and records["timer_s"].notna().any():
        return (
            pd.to_numeric(records["timer_s"], errors="coerce").ffill().fillna(0.0).to_numpy(dtype="float64")
        )
    idx = pd.DatetimeIndex(records.index)
    return ((idx - idx[0]).total_seconds()).to_numpy(dtype="float64")


def _row(part: pd.DataFrame, clock: np.ndarray, label: str, number: int) -> dict[str, object]:
    dist = (
        pd.to_numeric(part["distance_m"], errors="coerce").dropna() if "distance_m" in part.columns else None
    )
    distance_m = float(dist.iloc[-1] - dist.iloc[0]) if dist is not None and len(dist) >= 2 else None
    duration_s = float(clock[-1] - clock[0]) if clock.size >= 2 else None
    speed = (
        distance_m / duration_s
        if distance_m is not None and duration_s is not None and duration_s > 0 and distance_m > 0
        else None
    )
    gain, loss = _elevation(part["altitude_m"]) if "altitude_m" in part.columns else (None, None)
    row: dict[str, object] = {
        "split": label,
        "number": number,
        "start_time": pd.Timestamp(part.index[0]) if len(part) else None,
        "distance_m": distance_m,
        "duration_s": duration_s,
        "speed_m_s": speed,
        "elevation_gain_m": gain,
        "elevation_loss_m": loss,
    }
    for key in SPLIT_METRICS:
        col = METRICS[key].column
        row[key] = _mean(part[col], key) if col in part.columns else None
    return row


def splits(
    records: pd.DataFrame, laps: pd.DataFrame | None = None, *, by: Literal["lap", "km", "mi"] = "lap"
) -> pd.DataFrame:
    """One row per lap (``by="lap"``, the records' ``lap_index``; 1-based ``number``) or per started
    kilometre (``by="km"``) or mile (``by="mi"``), from the cumulative ``distance_m``: ``distance_m``,
    ``duration_s`` (timer), ``speed_m_s``, ``elevation_gain_m``/``elevation_loss_m`` and the mean of
    every metric of :data:`SPLIT_METRICS` (SI; None where the split has no valid value). A lap with
    records but no distance keeps its row. Empty frame for an empty run."""
    cols = [
        "split",
        "number",
        "start_time",
        "distance_m",
        "duration_s",
        "speed_m_s",
        "elevation_gain_m",
        "elevation_loss_m",
        *SPLIT_METRICS,
    ]
    if records is None or not len(records):
        return pd.DataFrame(columns=cols)
    clock = _clock(records)
    rows: list[dict[str, object]] = []
    if by == "lap":
        if "lap_index" in records.columns and records["lap_index"].notna().any():
            keys = pd.to_numeric(records["lap_index"], errors="coerce").ffill().fillna(0).astype("int64")
        else:
            keys = pd.Series(0, index=records.index)
        k_arr = keys.to_numpy(dtype="int64")
        for lap in np.unique(k_arr):
            pos = np.flatnonzero(k_arr == lap)
            part = records.iloc[pos]
            rows.append(_row(part, clock[pos], f"lap {int(lap) + 1}", int(lap) + 1))
    else:
        if "distance_m" not in records.columns or not records["distance_m"].notna().any():
            return pd.DataFrame(columns=cols)
        d = (
            pd.to_numeric(records["distance_m"], errors="coerce")
            .ffill()
            .fillna(0.0)
            .to_numpy(dtype="float64")
        )
        length, unit = (_MI, "mi") if by == "mi" else (_KM, "km")
        km = np.floor((d - d[0]) / length).astype("int64")
        for k in np.unique(km):
            pos = np.flatnonzero(km == k)
            # the split's distance runs to the first record of the next kilometre (no gap between splits)
            end = pos[-1] + 1 if pos[-1] + 1 < len(records) else pos[-1]
            span = np.arange(pos[0], end + 1)
            part = records.iloc[span]
            rows.append(_row(part, clock[span], f"{unit} {int(k) + 1}", int(k) + 1))
    out = pd.DataFrame.from_records(rows, columns=cols)
    if laps is not None and by == "lap" and len(laps) and "lap_index" in laps.columns:
        # the device's own lap distance/time win over the records' (auto-lap is measured on the watch)
        meta = laps.set_index(pd.to_numeric(laps["lap_index"], errors="coerce").astype("int64") + 1)
        for col, src in (("distance_m", "distance_m"), ("duration_s", "timer_s")):
            if src in meta.columns:
                dev = out["number"].map(pd.to_numeric(meta[src], errors="coerce"))
                out[col] = dev.where(dev.notna() & (dev > 0), out[col])
        ok = out["distance_m"].notna() & out["duration_s"].notna()
        out.loc[ok, "speed_m_s"] = [
            (d / t) if t and t > 0 and d and d > 0 and math.isfinite(d / t) else None
            for d, t in zip(out.loc[ok, "distance_m"], out.loc[ok, "duration_s"], strict=True)
        ]
    return out
