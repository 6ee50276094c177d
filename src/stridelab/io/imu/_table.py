"""Generic CSV / Parquet IMU tables with declared columns, units and time base; resampling.

SI inside: accelerometer columns are converted to m/s², gyroscope columns to rad/s at read time. Time
comes from a timestamp column (seconds, milliseconds, nanoseconds or ISO date-times) or from a declared
sampling rate. Jittery timestamps (phones!) are resampled onto a uniform grid by linear interpolation;
gaps longer than ``max_gap_s`` are **not** bridged: their samples are NaN and the gap is reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from stridelab.frames import SENSOR_FRAME_ACC, SENSOR_FRAME_GYR, Placement, Side, check_option
from stridelab.io.imu._recording import ImuSensor
from stridelab.units import acc_to_si_factor, gyr_to_si_factor

__all__ = [
    "TIME_UNITS",
    "absolute_seconds",
    "read_imu_table",
    "read_table_file",
    "resample_uniform",
    "sensor_from_frame",
    "time_base",
]

#: timestamp unit -> factor to seconds ("datetime" = parse as date-times).
TIME_UNITS: Final[dict[str, float]] = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9, "datetime": 1.0}
#: relative timestamp jitter (std(dt) / median(dt)) above which a stream is resampled.
JITTER_TOLERANCE: Final[float] = 0.01


def read_table_file(path: Path) -> pd.DataFrame:
    """Read a ``.csv`` / ``.txt`` / ``.tsv`` / ``.parquet`` table."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pd.read_parquet(path)
    if suffix in {".csv", ".txt"}:
        return pd.read_csv(path, sep=None, engine="python")
    if suffix == ".tsv":
        return pd.read_csv(path, sep="\t")
    check_option("file extension", suffix, (".csv", ".txt", ".tsv", ".parquet"))
    raise AssertionError("unreachable")


def time_base(values: pd.Series, unit: str) -> tuple[float, npt.NDArray[np.float64]]:
    """``(first, relative)``: the first valid timestamp in seconds on the file's own clock (date-times:
    since the Unix epoch) and every timestamp in seconds relative to it (NaN where invalid).

    The relative times are differenced before the conversion to float seconds, so that epoch-sized
    clocks keep their sub-microsecond resolution.
    """
    check_option("time_unit", unit, tuple(TIME_UNITS))
    if unit == "datetime":
        # pandas ≥ 3 parses strings at µs (or s) resolution: never assume the integer unit is ns
        ts = pd.to_datetime(values, utc=True, format="mixed")
        valid = ts.notna().to_numpy()
        if not valid.any():
            return float("nan"), np.full(len(ts), np.nan)
        first = ts[valid].iloc[0]
        rel = np.asarray((ts - first).dt.total_seconds(), dtype=float)
        return float((first - pd.Timestamp(0, tz="UTC")).total_seconds()), rel
    raw = pd.to_numeric(values, errors="raise").to_numpy(dtype=float)
    finite = np.flatnonzero(np.isfinite(raw))
    if not len(finite):
        return float("nan"), np.full(len(raw), np.nan)
    first_raw = raw[finite[0]]
    return float(first_raw * TIME_UNITS[unit]), (raw - first_raw) * TIME_UNITS[unit]


def absolute_seconds(values: pd.Series, unit: str) -> float:
    """The first valid timestamp of ``values`` in seconds on the file's own clock (see :func:`time_base`)."""
    return time_base(values, unit)[0]


def big_gaps_free(dt: npt.NDArray[np.float64], max_gap_s: float) -> bool:
    return not bool(np.any(dt > max_gap_s))


def resample_uniform(
    t_s: npt.ArrayLike,
    values: npt.ArrayLike,
    *,
    rate_hz: float | None = None,
    max_gap_s: float = 0.1,
    start_s: float | None = None,
) -> tuple[npt.NDArray[np.float64], float, list[str]]:
    """Resample samples taken at (jittery) times ``t_s`` onto a uniform grid.

    Returns ``(uniform_values, rate_hz, problems)``. ``rate_hz`` defaults to the mean rate (1 / median(dt)
    when there are gaps); the grid starts at ``start_s`` (default: the first sample). Linear
    interpolation between neighbours; grid points inside a gap longer than ``max_gap_s`` are NaN and
    each such gap is listed in ``problems``. Duplicate timestamps are averaged; unsorted input raises.
    """
    t = np.asarray(t_s, dtype=float)
    v = np.asarray(values, dtype=float)
    if v.ndim == 1:
        v = v[:, None]
    if t.ndim != 1 or len(t) != len(v):
        raise ValueError("resample_uniform: t_s must be 1-D with one entry per row of values")
    if len(t) < 2:
        raise ValueError("resample_uniform: need at least two samples")
    if not np.all(np.isfinite(t)):
        raise ValueError("resample_uniform: timestamps contain NaN/inf")
    dt = np.diff(t)
    if np.any(dt < 0):
        raise ValueError("Timestamps go backwards; the file is not in time order (sort it or fix the clock)")
    if np.any(dt == 0):  # average duplicates
        uniq, inv = np.unique(t, return_inverse=True)
        sums = np.zeros((len(uniq), v.shape[1]))
        np.add.at(sums, inv, v)
        v = sums / np.bincount(inv)[:, None]
        t = uniq
        dt = np.diff(t)
    if rate_hz is None:  # the mean rate; the median interval is biased by jitter
        if big_gaps_free(dt, max_gap_s):
            rate_hz = (len(t) - 1) / float(t[-1] - t[0])
        else:
            rate_hz = 1.0 / float(np.median(dt))
    if not rate_hz > 0:
        raise ValueError(f"rate_hz must be positive, got {rate_hz!r}")
    start = t[0] if start_s is None else float(start_s)
    if not start < t[-1]:
        raise ValueError(f"resample_uniform: start_s={start_s!r} is after the last sample")
    n = int(np.floor((t[-1] - start) * rate_hz + 1e-9)) + 1
    grid = start + np.arange(n) / rate_hz
    out = np.column_stack([np.interp(grid, t, v[:, k]) for k in range(v.shape[1])])
    problems: list[str] = []
    if start < t[0]:  # a sensor whose first valid sample comes after the recording's origin
        out[grid < t[0]] = np.nan
        problems.append(f"no samples before t={t[0] - start:.3f} s (left as NaN)")
    big = np.flatnonzero(dt > max_gap_s)
    for i in big:
        lo, hi = t[i], t[i + 1]
        out[(grid > lo) & (grid < hi)] = np.nan
        problems.append(f"gap of {hi - lo:.3f} s without samples at t={lo - start:.3f} s (left as NaN)")
    return out, float(rate_hz), problems


def sensor_from_frame(
    frame: pd.DataFrame,
    *,
    name: str,
    placement: Placement,
    side: Side | None,
    columns: Mapping[str, str] | None = None,
    acc_unit: str = "m/s^2",
    gyr_unit: str = "rad/s",
    time_column: str | None = None,
    time_unit: str = "s",
    sampling_rate_hz: float | None = None,
    target_rate_hz: float | None = None,
    max_gap_s: float = 0.1,
    time_origin_s: float | None = None,
) -> ImuSensor:
    """Build an :class:`ImuSensor` from a table already in memory (see :func:`read_imu_table`).

    ``time_origin_s`` (on the time column's clock, in s; see :func:`absolute_seconds`) puts row 0 at that
    instant instead of at the first sample, so that sensors read from several files share one time
    origin; it must lie within the sensor's samples.
    """
    mapping = dict(columns) if columns else {c: c for c in (*SENSOR_FRAME_ACC, *SENSOR_FRAME_GYR)}
    for key in mapping:
        check_option("columns key", key, (*SENSOR_FRAME_ACC, *SENSOR_FRAME_GYR))
    for c in SENSOR_FRAME_ACC:
        if c not in mapping or mapping[c] not in frame.columns:
            src = mapping.get(c, c)
            raise ValueError(
                f"Accelerometer column {src!r} (for {c}) not found; the table has {list(frame.columns)}"
            )
    gyr_present = [c for c in SENSOR_FRAME_GYR if c in mapping and mapping[c] in frame.columns]
    if gyr_present and len(gyr_present) != 3:
        raise ValueError(f"Only some gyroscope columns were found ({gyr_present}); need all three or none")
    acc_f = acc_to_si_factor(acc_unit)
    gyr_f = gyr_to_si_factor(gyr_unit)
    cols = list(SENSOR_FRAME_ACC) + gyr_present
    values = np.column_stack(
        [pd.to_numeric(frame[mapping[c]], errors="coerce").to_numpy(float) for c in cols]
    )
    values[:, :3] *= acc_f
    if gyr_present:
        values[:, 3:] *= gyr_f
    bad_rows = ~np.all(np.isfinite(values), axis=1)
    problems: list[str] = []
    if time_column is None and sampling_rate_hz is None:
        raise ValueError("Declare the time base: give time_column (timestamps) or sampling_rate_hz")
    if time_column is not None:
        if time_column not in frame.columns:
            raise ValueError(f"Time column {time_column!r} not found; the table has {list(frame.columns)}")
        first, t_rel = time_base(frame[time_column], time_unit)
        keep = ~bad_rows & np.isfinite(t_rel)
        if bad_rows.any():
            problems.append(f"{int(bad_rows.sum())} rows with missing/non-numeric values dropped")
        t_rel, values = t_rel[keep], values[keep]
        if len(t_rel) < 2:
            raise ValueError(f"Sensor {name!r}: fewer than two samples with valid time and values")
        # seconds from the origin: this file's first kept sample, or the recording's common origin
        shift = -float(t_rel[0]) if time_origin_s is None else first - float(time_origin_s)
        t = t_rel + shift
        dt = np.diff(t)
        med = float(np.median(dt)) if len(dt) else 0.0
        jitter = float(np.std(dt) / med) if len(dt) > 1 and med > 0 else 0.0
        # a single dropped or doubled sample hardly moves the std but shifts every later sample
        irregular = bool(med > 0 and np.any(np.abs(dt - med) > 0.5 * med))
        rate = target_rate_hz or sampling_rate_hz
        if (
            jitter > JITTER_TOLERANCE
            or irregular
            or rate is not None
            or t[0] != 0.0
            or np.any(dt > max_gap_s)
            or np.any(dt <= 0)
        ):
            values, rate_out, gap_problems = resample_uniform(
                t, values, rate_hz=rate, max_gap_s=max_gap_s, start_s=0.0
            )
            problems.extend(gap_problems)
            if jitter > JITTER_TOLERANCE:
                problems.append(
                    f"timestamps jitter by {100 * jitter:.1f}% of the sample interval; "
                    f"resampled to a uniform {rate_out:.3f} Hz grid"
                )
            elif irregular and not np.any(dt > max_gap_s):
                problems.append(
                    "irregular sample intervals (missing or repeated samples); "
                    f"resampled to a uniform {rate_out:.3f} Hz grid"
                )
        else:
            rate_out = 1.0 / float(np.median(dt))
    else:
        assert sampling_rate_hz is not None
        rate_out = float(sampling_rate_hz)
        if bad_rows.any():
            problems.append(f"{int(bad_rows.sum())} rows with missing values kept as NaN")
        if target_rate_hz is not None and target_rate_hz != rate_out:
            t = np.arange(len(values)) / rate_out
            values, rate_out, gap_problems = resample_uniform(
                t[~bad_rows], values[~bad_rows], rate_hz=target_rate_hz, max_gap_s=max_gap_s
            )
            problems.extend(gap_problems)
    data = pd.DataFrame(values, columns=cols)
    return ImuSensor(
        name=name,
        placement=placement,
        side=side,
        data=data,
        sampling_rate_hz=rate_out,
        problems=tuple(problems),
    )


def read_imu_table(
    path: str | Path,
    *,
    placement: Placement,
    side: Side | None = None,
    name: str | None = None,
    columns: Mapping[str, str] | None = None,
    acc_unit: str = "m/s^2",
    gyr_unit: str = "rad/s",
    time_column: str | None = None,
    time_unit: str = "s",
    sampling_rate_hz: float | None = None,
    target_rate_hz: float | None = None,
    max_gap_s: float = 0.1,
) -> ImuSensor:
    """Read one sensor from a generic CSV/Parquet table with declared columns, units and time base.

    ``columns`` maps the canonical names (``acc_x`` ... ``gyr_z``) to the file's column names (default:
    the canonical names themselves). ``acc_unit`` is ``"m/s^2"``, ``"g"`` or ``"mg"``; ``gyr_unit``
    ``"rad/s"`` or ``"deg/s"``. Either ``time_column`` (+ ``time_unit``: s, ms, us, ns, datetime) or
    ``sampling_rate_hz`` must be given. ``target_rate_hz`` resamples onto that rate.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"IMU file {p} does not exist")
    frame = read_table_file(p)
    return sensor_from_frame(
        frame,
        name=name or (f"{side}_{placement}" if side else placement),
        placement=placement,
        side=side,
        columns=columns,
        acc_unit=acc_unit,
        gyr_unit=gyr_unit,
        time_column=time_column,
        time_unit=time_unit,
        sampling_rate_hz=sampling_rate_hz,
        target_rate_hz=target_rate_hz,
        max_gap_s=max_gap_s,
    )
