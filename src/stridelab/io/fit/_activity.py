"""FitFile -> :class:`~stridelab.model.Activity`: canonical SI columns, pauses, laps, sessions."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

import numpy as np
import pandas as pd

from stridelab.io._reader import NotAnActivityError
from stridelab.io.fit._defs import FIT_EPOCH_S
from stridelab.io.fit._profile import type_values
from stridelab.io.fit._types import DeveloperFieldInfo, FitDecodeError, FitFile
from stridelab.model import ON_FOOT_SPORTS, Activity, DeveloperColumn, Lap, Session, with_record_arrays

__all__ = ["activity_from_fit"]

_SEMICIRCLE_TO_DEG = 180.0 / 2**31

#: FIT record field -> (canonical column, factor to SI)
_NATIVE: dict[str, tuple[str, float]] = {
    "distance": ("distance_m", 1.0),
    "heart_rate": ("heart_rate_bpm", 1.0),
    "power": ("power_w", 1.0),
    "temperature": ("temperature_c", 1.0),
    "grade": ("grade_pct", 1.0),
    "stance_time": ("stance_time_s", 1e-3),
    "stance_time_balance": ("stance_time_balance_left_pct", 1.0),
    "stance_time_percent": ("stance_time_pct", 1.0),
    "vertical_oscillation": ("vertical_oscillation_m", 1e-3),
    "vertical_ratio": ("vertical_ratio_pct", 1.0),
    "step_length": ("step_length_m", 1e-3),
}

#: developer units -> (unit suffix, factor to SI)
_DEV_UNITS: dict[str, tuple[str, float]] = {
    "ms": ("s", 1e-3),
    "milliseconds": ("s", 1e-3),
    "s": ("s", 1.0),
    "seconds": ("s", 1.0),
    "w": ("w", 1.0),
    "watt": ("w", 1.0),
    "watts": ("w", 1.0),
    "°": ("deg", 1.0),
    "deg": ("deg", 1.0),
    "degrees": ("deg", 1.0),
    "°c": ("c", 1.0),
    "c": ("c", 1.0),
    "kn/m": ("n_per_m", 1e3),
    "n/m": ("n_per_m", 1.0),
    "mm": ("m", 1e-3),
    "cm": ("m", 1e-2),
    "m": ("m", 1.0),
    "centimeters": ("m", 1e-2),
    "millimeters": ("m", 1e-3),
    "meters": ("m", 1.0),
    "km": ("m", 1e3),
    "m/s": ("m_s", 1.0),
    "km/h": ("m_s", 1 / 3.6),
    "kph": ("m_s", 1 / 3.6),
    "%": ("pct", 1.0),
    "bpm": ("bpm", 1.0),
    "spm": ("spm", 1.0),
    "rpm": ("rpm", 1.0),
}


def _num(values: Any) -> np.ndarray:
    """A record column as float64 (missing and non-numeric values NaN). Numeric numpy arrays (the
    decoder's columns) are cast directly -- the same values ``pd.to_numeric`` gives, without a Series."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "iuf":
        return values.astype("float64")
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _take(values: Any, keep: np.ndarray) -> Any:
    """The rows ``keep`` (a boolean mask) of a record column (array, extension array or Series)."""
    if isinstance(values, pd.Series):
        return values.to_numpy()[keep]
    return values[keep]


def _scalar(value: Any) -> float | None:
    if value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def _ts(value: Any) -> pd.Timestamp | None:
    """A UTC timestamp from a decoded date_time value; None when missing or not a time at all (a
    corrupt definition can turn the field into an array or a string)."""
    if not isinstance(value, datetime | np.datetime64):  # pd.Timestamp is a datetime
        return None
    ts = pd.Timestamp(value)
    if pd.isna(ts):  # NaT (pd.Timestamp of a missing value)
        return None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _time_index(values: Any) -> pd.DatetimeIndex:
    """The record timestamps (a decoded column: array, extension array or Series) as a UTC index,
    nanoseconds; values that are not times (corrupt files) become NaT."""
    dtype = getattr(values, "dtype", None)
    if isinstance(dtype, pd.DatetimeTZDtype) and str(dtype.tz) == "UTC":  # the decoder's column
        return pd.DatetimeIndex(values).as_unit("ns")
    values = values if isinstance(values, pd.Series) else pd.Series(values)
    if not isinstance(values.dtype, pd.DatetimeTZDtype) and values.dtype.kind != "M":
        values = pd.Series([_ts(v) for v in values], index=values.index, dtype="datetime64[ns, UTC]")
    return pd.DatetimeIndex(pd.to_datetime(values, utc=True)).as_unit("ns")


def _first(rows: list[dict[str, Any]], col: str) -> Any:
    """The first present (not None/NaN) value of ``col`` among message rows."""
    for row in rows:
        v = row.get(col)
        if v is not None and not (isinstance(v, float) and math.isnan(v)):
            return v
    return None


def _pick(row: Mapping[str, Any], *names: str) -> Any:
    for n in names:
        v = row.get(n)
        if v is not None and not (isinstance(v, float) and math.isnan(v)):
            return v
    return None


def _dev_column(info: DeveloperFieldInfo) -> tuple[str, float]:
    unit = (info.units or "").strip().lower()
    if unit in _DEV_UNITS:
        suffix, factor = _DEV_UNITS[unit]
    elif unit:
        from stridelab.io.fit._sdk import slug

        suffix, factor = slug(unit), 1.0
    else:
        suffix, factor = "", 1.0
    return (f"{info.column}_{suffix}" if suffix else info.column), factor


def _invalid_sentinel(base_type: int | None) -> float | None:
    """The FIT 'invalid' value of a numeric base type (NaN-coded floats need no mask)."""
    if base_type is None:
        return None
    from garmin_fit_sdk import BASE_TYPE_DEFINITIONS

    definition = BASE_TYPE_DEFINITIONS.get(base_type & 0x1F)
    if definition is None or definition["type_code"] in ("s", "f", "d"):
        return None
    return float(definition["invalid"])


def _pause_intervals(events: list[dict[str, Any]]) -> list[tuple[int, int | None]]:
    """[stop, start) intervals in ns from the timer events (``None``: never restarted)."""
    out: list[tuple[int, int | None]] = []
    stop_at: int | None = None
    for e in events:
        if e.get("event") != "timer":
            continue
        ts = _ts(e.get("timestamp"))
        if ts is None:
            continue
        ns = ts.as_unit("ns").value
        etype = e.get("event_type")
        if etype in ("stop", "stop_all", "stop_disable", "stop_disable_all"):
            if stop_at is None:
                stop_at = ns
        elif etype == "start" and stop_at is not None:
            out.append((stop_at, ns))
            stop_at = None
    if stop_at is not None:
        out.append((stop_at, None))
    return out


def _pause_mask(times: pd.DatetimeIndex, intervals: list[tuple[int, int | None]]) -> np.ndarray:
    """True for records strictly after a timer stop and before the next timer start."""
    paused = np.zeros(len(times), dtype=bool)
    t = times.asi8
    for stop, start in intervals:
        paused |= (t > stop) & (t < start) if start is not None else t > stop
    return paused


def _timer_s(times: pd.DatetimeIndex, intervals: list[tuple[int, int | None]]) -> np.ndarray:
    """Timer seconds at each record: the wall-clock step to each record minus the stopped time in it.

    A pause counts whole, also when no record falls inside it (the record after the restart must not
    carry the pause in its step). A record whose clock is later than a following record's (a clock
    glitch) adds no time, and neither does a step backwards.
    """
    t = times.asi8
    if not len(t):
        return np.zeros(0, dtype="float64")
    prev = np.concatenate([t[:1], t[:-1]])
    stopped = np.zeros(len(t), dtype="int64")  # stopped ns within each step (prev, t]
    for stop, start in intervals:
        end = t if start is None else np.minimum(t, start)
        stopped += np.clip(end - np.maximum(prev, stop), 0, None)
    in_order = t <= np.minimum.accumulate(t[::-1])[::-1]  # not later than any following record
    counted = in_order & np.concatenate([[True], in_order[:-1]])
    step = np.where(counted, np.clip(t - prev - stopped, 0, None), 0)
    return np.cumsum(step).astype("float64") / 1e9


#: record ``activity_type`` values counted in steps (2 x strides)
_FOOT_ACTIVITY_TYPES: frozenset[str] = frozenset({"running", "walking", "generic"})


def _on_foot(
    rec: Mapping[str, Any], times: pd.DatetimeIndex, sessions: list[Session], sport: str | None
) -> np.ndarray:
    """Per record: is the cadence counted in strides of a foot sport (so steps = 2 x cadence)?

    The record's own ``activity_type`` decides when the device wrote one; otherwise the sport of the
    session the record belongs to (a multisport file's swim and bike legs are not steps); otherwise
    the activity's sport.
    """
    if sessions:
        starts = np.array([s.start_time.as_unit("ns").value for s in sessions], dtype="int64")
        order = np.argsort(starts, kind="stable")
        idx = np.clip(np.searchsorted(starts[order], times.asi8, side="right") - 1, 0, None)
        session_foot = np.array([(sessions[i].sport or sport) in ON_FOOT_SPORTS for i in order], dtype=bool)
        foot = session_foot[idx] if len(idx) else np.zeros(0, dtype=bool)
    else:
        foot = np.full(len(times), sport in ON_FOOT_SPORTS, dtype=bool)
    if "activity_type" in rec:
        kind = pd.Series(np.asarray(rec["activity_type"], dtype=object))
        known = kind.notna().to_numpy()
        foot = np.where(known, kind.isin(_FOOT_ACTIVITY_TYPES).to_numpy(), foot)
    return np.asarray(foot, dtype=bool)


def _overall_sport(sessions: list[Session], fit: FitFile) -> tuple[str | None, str | None]:
    sports = [s.sport for s in sessions if s.sport]
    if len(set(sports)) > 1:
        return "multisport", None
    if sports:
        return sports[0], next((s.sub_sport for s in sessions if s.sub_sport), None)
    sport_msgs = fit.rows("sport")
    return _text(_first(sport_msgs, "sport")), _text(_first(sport_msgs, "sub_sport"))


def non_activity_file_type(file_id: list[dict[str, Any]]) -> str | None:
    """The FIT file type (its SDK profile name, e.g. ``"settings"``, ``"monitoring_b"``) of a file
    whose ``file_id.type`` says it is not an activity; None for an activity or when no type is given
    (a chained file is an activity when any of its ``file_id`` messages says so)."""
    types = [row["type"] for row in file_id if row.get("type") is not None]
    names = [_file_type_name(t) for t in types]
    if not names or "activity" in names:
        return None
    return names[0]


def _file_type_name(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | np.integer):
        return (type_values("file") or {}).get(int(value), str(int(value)))
    return str(value)


def activity_from_fit(
    fit: FitFile, *, activity_id: str, source_path: str | None, fmt: str = "fit"
) -> Activity:
    """Build the :class:`Activity` of a decoded FIT file. Raises :class:`NotAnActivityError` for a
    file whose ``file_id.type`` is not ``activity`` (settings, monitoring, workout, course, weight...)
    and :class:`FitDecodeError` when an activity file holds no activity (no records, laps or sessions
    with a time)."""
    file_id = fit.rows("file_id")
    file_type = non_activity_file_type(file_id)
    if file_type is not None:
        raise NotAnActivityError(f"file type {file_type}", source=source_path)
    n_rec, rec = fit.columns("record")  # arrays by field name (no DataFrame: cheaper per column)

    sessions: list[Session] = []
    for i, row in enumerate(fit.rows("session")):
        start = _ts(_pick(row, "start_time", "timestamp"))
        if start is None:
            continue
        sessions.append(
            Session(
                index=i,
                sport=_text(row.get("sport")),
                sub_sport=_text(row.get("sub_sport")),
                start_time=start,
                elapsed_s=_scalar(row.get("total_elapsed_time")),
                timer_s=_scalar(row.get("total_timer_time")),
                distance_m=_scalar(row.get("total_distance")),
            )
        )
    laps: list[Lap] = []
    for i, row in enumerate(fit.rows("lap")):
        start = _ts(_pick(row, "start_time", "timestamp"))
        if start is None:
            continue
        laps.append(
            Lap(
                index=i,
                start_time=start,
                elapsed_s=_scalar(row.get("total_elapsed_time")),
                timer_s=_scalar(row.get("total_timer_time")),
                distance_m=_scalar(row.get("total_distance")),
                avg_speed_m_s=_scalar(_pick(row, "enhanced_avg_speed", "avg_speed")),
                trigger=_text(row.get("lap_trigger")),
                intensity=_text(row.get("intensity")),
                sport=_text(row.get("sport")),
            )
        )
    sport, sub_sport = _overall_sport(sessions, fit)

    # ---- records
    problems = [f"{p.kind} at byte {p.offset}: {p.message}" for p in fit.problems if p.damaged]
    notes = [f"{p.kind} at byte {p.offset}: {p.message}" for p in fit.problems if not p.damaged]
    n_seen = len(fit.problems)  # message types read below are decoded lazily and may add one
    if "timestamp" in rec and n_rec:
        times = _time_index(rec["timestamp"])
        missing = np.asarray(times.isna(), dtype=bool)
        if missing.any():
            notes.append(f"{int(missing.sum())} record(s) without a timestamp were dropped")
            keep = ~missing
            rec = {name: _take(values, keep) for name, values in rec.items()}
            n_rec = int(keep.sum())
            times = times[keep]
    else:
        if n_rec:
            notes.append(f"{n_rec} record(s) without a timestamp were dropped")
        rec, n_rec = {}, 0
        times = pd.DatetimeIndex([], tz="UTC")

    cols: dict[str, np.ndarray] = {}
    for field, (column, factor) in _NATIVE.items():
        if field in rec:
            cols[column] = _num(rec[field]) * factor
    for primary, fallback, column in (
        ("enhanced_speed", "speed", "speed_m_s"),
        ("enhanced_altitude", "altitude", "altitude_m"),
    ):
        if primary in rec or fallback in rec:
            values = _num(rec[primary]) if primary in rec else np.full(n_rec, np.nan)
            if fallback in rec:
                values = np.where(np.isnan(values), _num(rec[fallback]), values)
            cols[column] = values
    for field, column in (("position_lat", "lat_deg"), ("position_long", "lon_deg")):
        if field in rec:
            cols[column] = _num(rec[field]) * _SEMICIRCLE_TO_DEG
    if "cadence" in rec:
        cad = _num(rec["cadence"])
        if "fractional_cadence" in rec:
            frac = _num(rec["fractional_cadence"])
            cad = cad + np.where(np.isnan(frac), 0.0, frac)
        cols["cadence_rpm"] = cad
        foot = _on_foot(rec, times, sessions, sport)
        if foot.any():
            cols["cadence_spm"] = np.where(foot, 2.0 * cad, np.nan)

    developer_columns: list[DeveloperColumn] = []
    used: set[str] = set()
    for info in fit.developer_fields:
        if info.column not in rec or info.column in used:
            continue
        used.add(info.column)
        column, factor = _dev_column(info)
        raw = rec[info.column]
        dev_values = pd.to_numeric(raw if isinstance(raw, pd.Series) else pd.Series(raw), errors="coerce")
        invalid = _invalid_sentinel(info.base_type)
        if invalid is not None:  # the SDK keeps developer sentinels; they mean "no value"
            dev_values = dev_values.mask(dev_values == invalid)
        if dev_values.notna().any():
            with np.errstate(invalid="ignore", over="ignore"):  # corrupt values may not fit a float
                cols[column] = dev_values.to_numpy(dtype="float64", na_value=np.nan) * factor
            developer_columns.append(
                DeveloperColumn(
                    column=column,
                    app=info.column.split("_")[1],
                    field_name=info.name or f"field{info.field_definition_number}",
                    units=info.units,
                    developer_data_index=info.developer_data_index,
                    field_definition_number=info.field_definition_number,
                )
            )

    first_time = times[0] if len(times) else None
    elapsed = (times.asi8 - times.asi8[0]) / 1e9 if len(times) else np.array([], dtype="float64")
    intervals = _pause_intervals(fit.rows("event"))
    paused = _pause_mask(times, intervals)
    timer = _timer_s(times, intervals)
    lap_starts = _ns([lap.start_time for lap in laps])
    session_starts = _ns([s.start_time for s in sessions])
    base = {
        "elapsed_s": elapsed.astype("float64"),
        "timer_s": np.asarray(timer, dtype="float64"),
        "paused": paused,
        "session_index": np.clip(
            np.searchsorted(session_starts, times.asi8, side="right") - 1, 0, None
        ).astype("int32"),
        "lap_index": np.clip(np.searchsorted(lap_starts, times.asi8, side="right") - 1, 0, None).astype(
            "int32"
        ),
    }
    arrays = {**base, **cols}
    records = pd.DataFrame(arrays, index=times)
    records.index.name = "time"

    start_time = sessions[0].start_time if sessions else first_time
    if start_time is None:
        start_time = _ts(_first(file_id, "time_created"))
    if start_time is None or (not len(records) and not sessions and not laps):
        kind = "an activity file" if _first(file_id, "type") is not None else "a file"
        raise FitDecodeError(
            f"nothing to import: {kind} with no timed records, laps or sessions", source=source_path
        )

    def _sum(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return float(sum(known)) if known else None

    duration = _sum([s.timer_s for s in sessions])
    elapsed_total = _sum([s.elapsed_s for s in sessions])
    distance = _sum([s.distance_m for s in sessions])
    if duration is None and len(records):
        duration = float(records["timer_s"].iloc[-1])
    if elapsed_total is None and len(records):
        elapsed_total = float(records["elapsed_s"].iloc[-1])
    if distance is None and "distance_m" in records.columns and records["distance_m"].notna().any():
        distance = float(records["distance_m"].max())

    shift, absolute = _absolute_time_shift(fit, start_time)  # not absolute: the run is flagged
    if shift is not None:
        records.index = records.index + shift
        start_time = start_time + shift
        laps = [dataclasses.replace(lap, start_time=lap.start_time + shift) for lap in laps]
        sessions = [dataclasses.replace(s, start_time=s.start_time + shift) for s in sessions]

    product = (
        _first(file_id, "garmin_product") or _first(file_id, "product_name") or _first(file_id, "product")
    )
    serial = _first(file_id, "serial_number")
    devices = tuple(_device_dict(d, shift) for d in fit.rows("device_info"))
    offset_s = utc_offset_s(fit) if absolute else None
    for p in fit.problems[n_seen:]:
        (problems if p.damaged else notes).append(f"{p.kind} at byte {p.offset}: {p.message}")
    return Activity(
        id=activity_id,
        source_path=source_path,
        format=fmt,
        start_time=start_time,
        duration_s=duration,
        elapsed_s=elapsed_total,
        distance_m=distance,
        sport=sport,
        sub_sport=sub_sport,
        records=with_record_arrays(records, arrays),  # the store writes these arrays, not the frame's
        manufacturer=_text(_first(file_id, "manufacturer")),
        product=_text(product),
        serial_number=int(serial) if _scalar(serial) is not None else None,
        laps=tuple(laps),
        sessions=tuple(sessions),
        developer_columns=tuple(developer_columns),
        devices=devices,
        problems=tuple(problems),
        notes=tuple(notes),
        time_absolute=absolute,
        utc_offset_s=offset_s,
    )


#: the largest UTC offset in use (UTC+14, Kiribati); offsets are whole quarter hours
_MAX_UTC_OFFSET_S: Final[int] = 14 * 3600
_OFFSET_STEP_S: Final[int] = 15 * 60
#: how far from a whole quarter hour the two stamps may disagree (they are written a moment apart)
_OFFSET_SLACK_S: Final[int] = 60


def utc_offset_s(fit: FitFile) -> int | None:
    """The run's UTC offset in seconds from the ``activity`` message: ``local_timestamp`` (local time,
    seconds since the FIT epoch) minus its UTC ``timestamp``. None when either is missing, when the
    UTC time is device-relative, or when the difference is not a plausible zone offset (a quarter hour
    multiple within ±14 h, ±60 s): devices with an unset clock write a constant local time there."""
    for row in fit.rows("activity"):
        local, utc = row.get("local_timestamp"), _ts(row.get("timestamp"))
        if isinstance(local, bool) or not isinstance(local, int | np.integer) or utc is None:
            continue
        if is_device_time(utc):
            continue
        diff = FIT_EPOCH_S + int(local) - int(utc.timestamp())
        rounded = round(diff / _OFFSET_STEP_S) * _OFFSET_STEP_S
        if abs(rounded) <= _MAX_UTC_OFFSET_S and abs(diff - rounded) <= _OFFSET_SLACK_S:
            return int(rounded)
        return None
    return None


def _ns(stamps: list[pd.Timestamp]) -> np.ndarray:
    if not stamps:
        return np.array([], dtype="int64")
    return np.sort(pd.DatetimeIndex(stamps).as_unit("ns").asi8)


#: FIT date_time values below this many seconds (since 1989-12-31) are device-relative: seconds since
#: the device was switched on (FIT profile, type date_time: "if < 0x10000000 = system time")
DEVICE_TIME_LIMIT_S: Final[int] = 0x10000000
_DEVICE_TIME_BEFORE: Final[pd.Timestamp] = pd.Timestamp(FIT_EPOCH_S + DEVICE_TIME_LIMIT_S, unit="s", tz="UTC")
#: where a device-relative run's times are counted from when nothing resolves them: the Unix epoch
#: (1970-01-01 + seconds since power-on), never a date the run could have happened on
_UNRESOLVED_SHIFT: Final[pd.Timedelta] = pd.Timedelta(seconds=-FIT_EPOCH_S)


def is_device_time(ts: pd.Timestamp) -> bool:
    """Whether a decoded FIT date_time is device-relative (seconds since power-on, decoded as 1990s)."""
    return bool(ts < _DEVICE_TIME_BEFORE)


def _absolute_time_shift(fit: FitFile, start: pd.Timestamp) -> tuple[pd.Timedelta | None, bool]:
    """``(shift, absolute)``: what to add to the file's times, and whether they are then UTC.

    Absolute times need no shift. Device-relative times (:func:`is_device_time`) are resolved, in
    order, from a ``timestamp_correlation`` message (UTC ``timestamp`` beside the device's
    ``system_timestamp``: exact) or from an absolute ``file_id.time_created`` (written when the
    recording started: the start is taken as that instant). ``activity.local_timestamp`` is not used:
    it is local time with no UTC offset, and devices with an unset clock write a constant there (the
    FR70 files of the shared data set carry the same value for runs nine days apart). Unresolved, the
    times are counted from the Unix epoch and the run is flagged (``absolute`` False).
    """
    if not is_device_time(start):
        return None, True
    for row in fit.rows("timestamp_correlation"):
        utc, system = _ts(row.get("timestamp")), _ts(row.get("system_timestamp"))
        if utc is not None and system is not None and not is_device_time(utc) and is_device_time(system):
            return utc - system, True
    for row in fit.rows("file_id"):
        created = _ts(row.get("time_created"))
        if created is not None and not is_device_time(created):
            return created - start, True
    return _UNRESOLVED_SHIFT, False


def _device_dict(row: Mapping[str, Any], shift: pd.Timedelta | None = None) -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in row.items():
        if v is None or (isinstance(v, float) and not math.isfinite(v)):
            continue
        if isinstance(v, pd.Timestamp) or hasattr(v, "isoformat"):
            ts = pd.Timestamp(v)
            out[k] = (ts + shift if shift is not None and ts.tzinfo is not None else ts).isoformat()
        elif isinstance(v, int | float | str | bool):
            out[k] = v
        elif hasattr(v, "item"):
            out[k] = v.item()
        else:
            out[k] = str(v)
    return out
