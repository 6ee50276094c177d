"""Reads of one activity's streams and catalog details that the run views need, and record export.

Plain functions over a :class:`~stridelab.store.Store` (the records/laps readers themselves are
:meth:`Store.records` and :meth:`Store.laps`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stridelab.lazy import lazy_module
from stridelab.store._store import Store, StoreError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")
    pq = lazy_module("pyarrow.parquet")

__all__ = [
    "catalog_fingerprint",
    "export_records",
    "positions",
    "records_subset",
    "session_sports",
    "sessions",
]


def session_sports(store: Store, athlete: str, activity_id: str) -> pd.DataFrame:
    """The sessions of one activity: columns ``session_index`` and ``sport`` (one row for most files,
    several for a multisport file)."""
    return pd.read_sql_query(
        "SELECT session_index, sport FROM sessions WHERE athlete = ? AND activity_id = ?",
        store.connect(),
        params=(athlete, activity_id),
    )


def sessions(store: Store, athlete: str, activity_id: str) -> pd.DataFrame:
    """The stored sessions of one activity in order: ``session_index``, ``sport``, ``sub_sport``,
    ``start_time`` (ISO text), ``elapsed_s``, ``timer_s``, ``distance_m``."""
    return pd.read_sql_query(
        "SELECT session_index, sport, sub_sport, start_time, elapsed_s, timer_s, distance_m FROM sessions "
        "WHERE athlete = ? AND activity_id = ? ORDER BY session_index",
        store.connect(),
        params=(athlete, activity_id),
    )


def positions(store: Store, athlete: str, activity_id: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Latitude and longitude (deg) of a run's records, None without GPS (or without a stream)."""
    path = store.stream_path("records", athlete, activity_id)
    try:
        names = set(pq.read_schema(path).names)
    except (OSError, StoreError):
        return None
    if not {"lat_deg", "lon_deg"} <= names:
        return None
    df = store.read_stream("records", athlete, activity_id, columns=["lat_deg", "lon_deg"])
    return df["lat_deg"].to_numpy(dtype="float64"), df["lon_deg"].to_numpy(dtype="float64")


def records_subset(store: Store, athlete: str, activity_id: str, columns: Sequence[str]) -> pd.DataFrame:
    """The record stream of one activity reduced to those of ``columns`` it has (time-indexed): reads
    only those columns from the file. Raises :class:`StoreError` when the stream is missing."""
    path = store.stream_path("records", athlete, activity_id)
    try:
        pf = pq.ParquetFile(path)
    except FileNotFoundError as exc:
        raise StoreError(
            f"Stream records/{athlete}/{activity_id} is missing from store {store.root}"
        ) from exc
    names = set(pf.schema_arrow.names)
    wanted = [c for c in ("time", *columns) if c in names]
    df: pd.DataFrame = pf.read(columns=wanted).to_pandas()
    return df.set_index("time") if "time" in df.columns else df


def catalog_fingerprint(store: Store, athlete: str) -> tuple[Any, ...]:
    """(number of activities, latest import instant, latest start) of ``athlete``: changes whenever the
    catalog does (e.g. an import in another process). One indexed query."""
    row = (
        store.connect()
        .execute(
            "SELECT count(*), max(imported_at), max(start_time) FROM activities WHERE athlete = ?",
            (athlete,),
        )
        .fetchone()
    )
    return tuple(row)


def export_records(records: pd.DataFrame, output: Path, fmt: str) -> None:
    """Write ``records`` to ``output`` as ``csv`` or ``parquet`` (zstd). Raises OSError."""
    if fmt == "csv":
        records.to_csv(output)
    else:
        records.to_parquet(output, compression="zstd")
