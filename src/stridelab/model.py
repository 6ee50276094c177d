"""Typed containers shared by every layer: :class:`Activity`, :class:`Lap`, :class:`Session`.

Units are SI inside (s, m, m/s, rad, kg, N, W); a column whose unit is not SI-obvious says it in its
name. Left/right is always explicit: ``stance_time_balance_left_pct`` is the LEFT foot's share of
ground contact time in percent (50 = symmetric, 52 = 52 % left / 48 % right).

Canonical record columns
------------------------
The records of an :class:`Activity` are a pandas DataFrame indexed by ``time`` (tz-aware UTC
``DatetimeIndex``, one row per FIT ``record`` message, file order preserved). The columns below are
present only when the source carries them (except ``elapsed_s``, ``paused``, ``session_index`` and
``lap_index``, which are always present). Missing values are NaN (never a FIT sentinel).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from stridelab.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = [
    "MAX_KEPT_RECORD_BYTES",
    "RECORD_COLUMNS",
    "RUNNING_DYNAMICS_COLUMNS",
    "Activity",
    "DeveloperColumn",
    "Lap",
    "Session",
    "record_arrays",
    "with_record_arrays",
]

#: canonical record column -> (unit, description). The single source of truth for column names.
RECORD_COLUMNS: Final[dict[str, tuple[str, str]]] = {
    "elapsed_s": ("s", "seconds since the activity start (first record), wall-clock"),
    "timer_s": ("s", "seconds of timer time (paused periods excluded)"),
    "paused": ("bool", "True while the recording timer was stopped (timer stop/start events)"),
    "session_index": ("-", "0-based index of the FIT session the record belongs to"),
    "lap_index": ("-", "0-based index of the lap the record belongs to"),
    "lat_deg": ("deg", "WGS84 latitude"),
    "lon_deg": ("deg", "WGS84 longitude"),
    "distance_m": ("m", "cumulative distance"),
    "speed_m_s": ("m/s", "speed (enhanced_speed when present, else speed)"),
    "altitude_m": ("m", "altitude (enhanced_altitude when present, else altitude)"),
    "grade_pct": ("%", "grade reported by the device"),
    "heart_rate_bpm": ("1/min", "heart rate, beats per minute"),
    "cadence_rpm": ("1/min", "device cadence incl. fractional part (strides/min on foot, rev/min on a bike)"),
    "cadence_spm": (
        "1/min",
        "steps per minute (2 x cadence_rpm) on foot: the record's activity_type, else its session's "
        "sport, is an on-foot one; NaN otherwise (a triathlon's swim and bike legs)",
    ),
    "power_w": ("W", "native FIT power"),
    "temperature_c": ("degC", "device temperature"),
    "stance_time_s": ("s", "ground contact time (GCT) per step"),
    "stance_time_balance_left_pct": ("%", "LEFT foot share of ground contact time (GCT balance)"),
    "stance_time_pct": ("%", "ground contact time as a share of the stride time (FIT stance_time_percent)"),
    "vertical_oscillation_m": ("m", "vertical oscillation (bounce) of the torso per step"),
    "vertical_ratio_pct": ("%", "vertical oscillation / step length"),
    "step_length_m": ("m", "step length"),
}

#: the native running-dynamics columns (presence of any non-NaN value = "has running dynamics").
RUNNING_DYNAMICS_COLUMNS: Final[tuple[str, ...]] = (
    "stance_time_s",
    "stance_time_balance_left_pct",
    "stance_time_pct",
    "vertical_oscillation_m",
    "vertical_ratio_pct",
    "step_length_m",
)

#: sports where cadence is counted in strides and steps = 2 x strides.
ON_FOOT_SPORTS: Final[frozenset[str]] = frozenset(
    {"running", "walking", "hiking", "training", "transition", "generic", "mountaineering", "snowshoeing"}
)


@dataclass(frozen=True, slots=True)
class DeveloperColumn:
    """A developer (Connect IQ / Stryd / RunScribe ...) field kept as a record column.

    ``column`` is derived from the app and field name and carries the unit, e.g.
    ``dev_stryd_form_power_w``; two apps defining the same name get different columns.
    """

    column: str
    app: str
    field_name: str
    units: str | None
    developer_data_index: int
    field_definition_number: int


@dataclass(frozen=True, slots=True)
class Lap:
    """One lap. Times in s, distances in m, speeds in m/s."""

    index: int
    start_time: pd.Timestamp
    elapsed_s: float | None
    timer_s: float | None
    distance_m: float | None
    avg_speed_m_s: float | None = None
    trigger: str | None = None
    intensity: str | None = None
    sport: str | None = None


@dataclass(frozen=True, slots=True)
class Session:
    """One FIT session (a multisport file has several)."""

    index: int
    sport: str | None
    sub_sport: str | None
    start_time: pd.Timestamp
    elapsed_s: float | None
    timer_s: float | None
    distance_m: float | None


@dataclass(slots=True)
class Activity:
    """One recorded activity with its records in SI units.

    ``id`` is the sha256 (hex) of the source file's bytes, so the same file always maps to the same
    activity. ``duration_s`` is timer time (pauses excluded); ``elapsed_s`` wall-clock.

    ``problems`` lists the faults of a damaged source (truncation, bad CRC, ...; what precedes each
    fault was kept), each as ``"<kind> at byte <offset>: <message>"``. ``notes`` lists remarks about a
    sound source (a tolerated encoding quirk, records without a timestamp that could not be indexed).
    """

    id: str
    source_path: str | None
    format: str
    start_time: pd.Timestamp
    duration_s: float | None
    elapsed_s: float | None
    distance_m: float | None
    sport: str | None
    sub_sport: str | None
    records: pd.DataFrame
    manufacturer: str | None = None
    product: str | None = None
    serial_number: int | None = None
    laps: tuple[Lap, ...] = ()
    sessions: tuple[Session, ...] = ()
    developer_columns: tuple[DeveloperColumn, ...] = ()
    devices: tuple[dict[str, object], ...] = ()
    problems: tuple[str, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())
    name: str | None = None  # the activity's title (e.g. from a Strava export's activities.csv)
    gear: str | None = None  # the shoes/bike it was done with, as the source names them
    #: False when the source holds no absolute time (a FIT file with only device-relative times:
    #: seconds since the device was switched on): the times then count from the Unix epoch
    #: (1970-01-01 + uptime), are not dates, and date-based views leave the run out
    time_absolute: bool = True
    #: the run's UTC offset in seconds where the source states it (a FIT file's
    #: ``activity.local_timestamp`` - ``timestamp``); None: unknown (shown in the machine's zone)
    utc_offset_s: int | None = None

    def __post_init__(self) -> None:
        if len(self.id) != 64 or any(c not in "0123456789abcdef" for c in self.id):
            raise ValueError(f"Activity id must be a lowercase sha256 hex digest, got {self.id!r}")
        if self.start_time.tzinfo is None:
            raise ValueError("Activity.start_time must be timezone-aware (UTC)")
        idx = self.records.index
        if not isinstance(idx, pd.DatetimeIndex) or idx.tz is None:
            raise ValueError("Activity.records must have a tz-aware DatetimeIndex named 'time'")

    @property
    def has_running_dynamics(self) -> bool:
        return any(
            c in self.records.columns and self.records[c].notna().any() for c in RUNNING_DYNAMICS_COLUMNS
        )


# ---------------------------------------------------------------------------- record column arrays
#: arrays larger than this (in all) are not kept beside their frame (a 1-hour run at 1 Hz: ~0.6 MB)
MAX_KEPT_RECORD_BYTES: Final[int] = 16 * 1024 * 1024
#: id(frame) -> (weak reference to the frame, its index, its column names, the arrays it was built from)
_ARRAYS: dict[int, tuple[weakref.ref[Any], Any, tuple[str, ...], dict[str, Any]]] = {}
_ARRAYS_LOCK = threading.Lock()


def with_record_arrays(records: pd.DataFrame, arrays: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """Remember the numpy arrays a reader built ``records`` from (one 1-D numeric or bool array per
    column, in the frame's column order, same length; at most :data:`MAX_KEPT_RECORD_BYTES` in all),
    so that the store's writers take them (:func:`record_arrays`) instead of a pandas ``Series`` per
    column. Returns ``records``.

    Only for a frame just built and not modified in place afterwards (a reader's output): the entry
    goes with the frame, and a frame given a new index or other columns is no longer matched."""
    names = tuple(str(c) for c in records.columns)
    n = len(records)
    if names != tuple(arrays) or any(
        getattr(a, "ndim", 0) != 1 or len(a) != n or a.dtype.kind not in "biuf" for a in arrays.values()
    ):
        return records  # not a plain numeric frame: the writers read its columns
    if sum(a.nbytes for a in arrays.values()) > MAX_KEPT_RECORD_BYTES:
        return records  # a long recording: memory first (the frame holds a copy of the arrays)
    key = id(records)

    def forget(ref: weakref.ref[Any], key: int = key) -> None:
        with _ARRAYS_LOCK:
            if key in _ARRAYS and _ARRAYS[key][0] is ref:
                del _ARRAYS[key]

    with _ARRAYS_LOCK:
        _ARRAYS[key] = (weakref.ref(records, forget), records.index, names, dict(arrays))
    return records


def record_arrays(records: pd.DataFrame) -> Mapping[str, np.ndarray] | None:
    """The arrays ``records`` was built from (:func:`with_record_arrays`), None when unknown or when
    the frame's index or columns changed since."""
    entry = _ARRAYS.get(id(records))
    if entry is None or entry[0]() is not records or records.index is not entry[1]:
        return None
    if tuple(records.columns) != entry[2]:
        return None
    return entry[3]
