"""The activities repository: atomic write of one activity -- stream first (temp + rename), then its
catalog rows (``activities``, ``laps``, ``sessions``) in one transaction.

The reads of the catalog (``Store.activity``, ``list_activities``, ``records``, ``laps``...) stay
methods of :class:`~stridelab.store.Store`, which every area uses. The functions here take the store
as their first argument, typed as :class:`ActivityStore` (the part of ``Store`` they use): the store's
own ``Store.add_activity`` delegates here, so this module must not import ``store._store`` back.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from stridelab.jsonsafe import to_jsonable
from stridelab.lazy import lazy_module
from stridelab.model import RUNNING_DYNAMICS_COLUMNS, Activity, record_arrays
from stridelab.present.format import finite_or_none
from stridelab.version import DECODER_VERSION

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")
    pa = lazy_module("pyarrow")

__all__ = [
    "ActivityStore",
    "PreparedActivity",
    "activity_summary",
    "add_activity",
    "commit_prepared",
    "prepare_activity",
    "records_table",
]


class ActivityStore(Protocol):
    """What the activity writes need of a :class:`~stridelab.store.Store`."""

    def write_stream(
        self, kind: str, athlete: str, key: str, table: pd.DataFrame | pa.Table, *, durable: bool = True
    ) -> Path: ...

    def has_activity(self, athlete: str, activity_id: str) -> bool: ...

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]: ...


#: columns whose mean over present, non-zero values goes into the catalog summary
SUMMARY_COLUMNS: tuple[str, ...] = (
    *RUNNING_DYNAMICS_COLUMNS,
    "cadence_spm",
    "speed_m_s",
    "heart_rate_bpm",
    "power_w",
)


def _nonzero_mean(values: np.ndarray) -> tuple[float | None, int]:
    v = values[np.isfinite(values) & (values != 0)]
    if v.size == 0:
        return None, 0
    return float(v.mean()), int(v.size)


def activity_summary(activity: Activity) -> dict[str, Any]:
    """Per-run means (present, non-zero values) of the dynamics and a few context facts."""
    rec = activity.records
    arrays = record_arrays(rec)  # the reader's arrays, when it kept them: no Series per column
    out: dict[str, Any] = {}
    present = set(rec.columns)
    for col in (*SUMMARY_COLUMNS, *(d.column for d in activity.developer_columns)):
        if col in present:
            if arrays is not None:  # numeric numpy: the same values as the frame's column
                values = np.asarray(arrays[col], dtype="float64")
            elif (series := rec[col]).dtype.kind in "iuf":  # numpy numeric: as they are
                values = series.to_numpy(dtype="float64")
            else:
                values = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            mean, n = _nonzero_mean(values)
            out[f"{col}_mean"] = mean
            out[f"{col}_n"] = n
    out["has_running_dynamics"] = (
        activity.has_running_dynamics if arrays is None else _any_present(arrays, RUNNING_DYNAMICS_COLUMNS)
    )
    out["developer_columns"] = [
        {"column": d.column, "app": d.app, "field_name": d.field_name, "units": d.units}
        for d in activity.developer_columns
    ]
    out["devices"] = [dict(d) for d in activity.devices]
    out["problems"] = list(activity.problems)
    out["notes"] = list(activity.notes)
    if activity.name is not None:
        out["name"] = activity.name
    if activity.gear is not None:
        out["gear"] = activity.gear
    return out


def _any_present(arrays: Mapping[str, np.ndarray], columns: Iterable[str]) -> bool:
    """:attr:`Activity.has_running_dynamics` over the record arrays: any of ``columns`` holds a
    value (not NaN)."""
    for col in columns:
        values = arrays.get(col)
        if values is not None and len(values) and (values.dtype.kind != "f" or not np.isnan(values).all()):
            return True
    return False


def _iso(ts: pd.Timestamp) -> str:
    # "%Y-%m-%dT%H:%M:%S.%fZ" (what strftime wrote before), by the faster isoformat: same text
    return pd.Timestamp(ts).tz_convert("UTC").isoformat(timespec="microseconds").removesuffix("+00:00") + "Z"


def records_table(records: pd.DataFrame) -> pa.Table:
    """The record stream as an Arrow table straight from the column arrays (zero-copy where the
    dtypes allow; no pandas metadata): ``time`` (UTC, ns) first, then the canonical columns."""
    index = pd.DatetimeIndex(records.index)
    arrays = [pa.array(index.as_unit("ns"))]
    names = ["time"]
    kept = record_arrays(records)  # the reader's arrays, when it kept them: no Series per column
    if kept is not None:
        arrays.extend(pa.array(values) for values in kept.values())
        names.extend(kept)
        return pa.Table.from_arrays(arrays, names=names)
    for name in records.columns:
        arrays.append(pa.array(records[name].to_numpy()))
        names.append(str(name))
    return pa.Table.from_arrays(arrays, names=names)


@dataclass(frozen=True, slots=True)
class PreparedActivity:
    """An activity whose stream is already on disk; its catalog rows wait for :func:`commit_prepared`."""

    activity_id: str
    athlete: str
    activity_row: tuple[Any, ...]
    lap_rows: list[tuple[Any, ...]]
    session_rows: list[tuple[Any, ...]]
    #: the stream file; when written with ``durable=False``, sync it (``Store.sync_streams``) first
    stream_path: Path | None = None
    durable: bool = True


def prepare_activity(
    store: ActivityStore,
    athlete: str,
    activity: Activity,
    records: pd.DataFrame | pa.Table | None = None,
    *,
    durable: bool = True,
) -> PreparedActivity:
    """Write the record stream (atomic temp + rename) and build the catalog rows (not yet visible).

    ``durable=False``: the stream is not fsynced; the committer syncs ``stream_path`` (a batch of
    them at once, :meth:`Store.sync_streams`) before committing the rows."""
    table = records if records is not None else records_table(activity.records)
    stream = store.write_stream("records", athlete, activity.id, table, durable=durable)
    summary = json.dumps(to_jsonable(activity_summary(activity)), default=str, allow_nan=False)
    now = pd.Timestamp.now(tz="UTC")
    activity_row = (
        activity.id,
        athlete,
        activity.source_path,
        activity.format,
        activity.sport,
        activity.sub_sport,
        _iso(activity.start_time),
        finite_or_none(activity.duration_s),
        finite_or_none(activity.elapsed_s),
        finite_or_none(activity.distance_m),
        len(activity.records),
        activity.manufacturer,
        activity.product,
        activity.serial_number,
        summary,
        _iso(now),
        DECODER_VERSION,
        int(activity.time_absolute),
        activity.utc_offset_s,
    )
    lap_rows = [
        (
            athlete,
            activity.id,
            lap.index,
            _iso(lap.start_time),
            finite_or_none(lap.elapsed_s),
            finite_or_none(lap.timer_s),
            finite_or_none(lap.distance_m),
            finite_or_none(lap.avg_speed_m_s),
            lap.trigger,
            lap.intensity,
            lap.sport,
        )
        for lap in activity.laps
    ]
    session_rows = [
        (
            athlete,
            activity.id,
            s.index,
            s.sport,
            s.sub_sport,
            _iso(s.start_time),
            finite_or_none(s.elapsed_s),
            finite_or_none(s.timer_s),
            finite_or_none(s.distance_m),
        )
        for s in activity.sessions
    ]
    return PreparedActivity(activity.id, athlete, activity_row, lap_rows, session_rows, stream, durable)


def commit_prepared(tx: sqlite3.Connection, prepared: PreparedActivity) -> bool:
    """Insert the catalog rows inside the caller's transaction. False if the activity was present."""
    cur = tx.execute(
        "INSERT OR IGNORE INTO activities (id, athlete, source_path, format, sport, sub_sport, start_time,"
        " duration_s, elapsed_s, distance_m, n_records, manufacturer, product, serial_number,"
        " summary_json, imported_at, decoder_version, time_absolute, utc_offset_s)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        prepared.activity_row,
    )
    if cur.rowcount == 0:  # stored before (same bytes, same id, same stream)
        return False
    athlete, activity_id = prepared.activity_row[1], prepared.activity_row[0]
    fmt, time_absolute, utc_offset_s = (
        prepared.activity_row[3],
        prepared.activity_row[17],
        prepared.activity_row[18],
    )
    if fmt == "fit" and time_absolute and utc_offset_s is None and _has_offset_checks(tx):
        # read by today's decoder: its file holds no local time, so it is not one for the back-fill of
        # runs imported before the decoder kept it (same transaction: no window where it looks waiting)
        tx.execute(
            "INSERT OR IGNORE INTO utc_offset_checks (athlete, activity_id, checked_at, utc_offset_s) "
            "VALUES (?, ?, ?, NULL)",
            (athlete, activity_id, prepared.activity_row[15]),
        )
    tx.executemany(
        "INSERT INTO laps (athlete, activity_id, lap_index, start_time, elapsed_s, timer_s, distance_m,"
        " avg_speed_m_s, trigger, intensity, sport) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        prepared.lap_rows,
    )
    tx.executemany(
        "INSERT INTO sessions (athlete, activity_id, session_index, sport, sub_sport, start_time,"
        " elapsed_s, timer_s, distance_m) VALUES (?,?,?,?,?,?,?,?,?)",
        prepared.session_rows,
    )
    return True


def _has_offset_checks(tx: sqlite3.Connection) -> bool:
    row = tx.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'utc_offset_checks'"
    ).fetchone()
    return row is not None


def add_activity(
    store: ActivityStore, athlete: str, activity: Activity, records: pd.DataFrame | pa.Table | None = None
) -> bool:
    """Store ``activity`` atomically unless present. Returns True when it was added."""
    if store.has_activity(athlete, activity.id):
        return False
    prepared = prepare_activity(store, athlete, activity, records)
    with store.transaction() as tx:
        return commit_prepared(tx, prepared)
