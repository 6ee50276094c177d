"""The runs in a store: list and filter, resolve an id prefix, one run with its records and laps,
export, and the tags shown beside them.

The catalog row type (:class:`ActivityRow`) is re-exported here for the edges.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stridelab.analysis import tag_labels
from stridelab.lazy import lazy_module
from stridelab.model import Activity, DeveloperColumn, Lap, Session
from stridelab.store import ActivityRow, Store, default_store_path
from stridelab.store import duplicates as _duplicates
from stridelab.store import streams as _streams
from stridelab.store import tags as _tags

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = [
    "EXPORT_FORMATS",
    "ActivityRow",
    "catalog_fingerprint",
    "export_run",
    "get_run",
    "lap_count",
    "laps",
    "list_runs",
    "records",
    "resolve_id",
    "run_tags",
    "store_location",
    "stored_activity",
]

#: formats of :func:`export_run`: the records as a table, or the run as a file for other tools
EXPORT_FORMATS: tuple[str, ...] = ("csv", "parquet", "fit", "tcx", "gpx")


def list_runs(
    store: Store,
    athlete: str = "me",
    *,
    since: pd.Timestamp | None = None,
    until: pd.Timestamp | None = None,
    sport: str | None = None,
    descending: bool = False,
    include_duplicates: bool = False,
    include_undated: bool = False,
    summary_keys: Sequence[str] | None = None,
) -> list[ActivityRow]:
    """Catalog rows of ``athlete`` ordered by start time (``until`` is exclusive); the same activity
    from another source, linked as a duplicate, only with ``include_duplicates``; runs with no
    absolute time (``ActivityRow.time_absolute`` False) only with ``include_undated``. With
    ``summary_keys`` each row's ``summary`` holds only those keys (a listing of many runs:
    :meth:`stridelab.store.Store.list_activities`)."""
    return store.list_activities(
        athlete,
        since=since,
        until=until,
        sport=sport,
        descending=descending,
        include_duplicates=include_duplicates,
        include_undated=include_undated,
        summary_keys=summary_keys,
    )


def resolve_id(store: Store, athlete: str, id_or_prefix: str) -> str:
    """The full id of a run (raises ``UnknownIdError`` / ``AmbiguousIdError``, both ``StoreError``)."""
    return store.resolve_id(athlete, id_or_prefix)


def get_run(store: Store, athlete: str, id_or_prefix: str) -> ActivityRow:
    """The catalog row of one run (id or unique prefix; raises ``StoreError``)."""
    return store.activity(athlete, id_or_prefix)


def laps(store: Store, athlete: str, activity_id: str) -> pd.DataFrame:
    """The laps of one activity (full id), in order."""
    return store.laps(athlete, activity_id)


def lap_count(store: Store, athlete: str, activity_id: str) -> int:
    """How many laps one activity (full id) has."""
    return store.lap_count(athlete, activity_id)


def records(store: Store, athlete: str, activity_id: str) -> pd.DataFrame:
    """The record stream of one activity (full id): time-indexed, canonical SI columns."""
    return store.records(athlete, activity_id)


def run_tags(store: Store, athlete: str, ids: Iterable[str]) -> dict[str, list[str]]:
    """Tag labels per run id (``cue=push-behind``, ``cue=pull-up@lap1,3``); the same as
    ``services.experiments.tags_for_runs``, without importing the experiment statistics (scipy)."""
    wanted = list(dict.fromkeys(ids))
    return tag_labels(_tags.tags_of_runs(store, athlete, wanted), wanted)


def catalog_fingerprint(store: Store, athlete: str) -> tuple[Any, ...]:
    """Changes whenever the catalog of ``athlete`` changes, its duplicate links included."""
    return _streams.catalog_fingerprint(store, athlete) + _duplicates.links_fingerprint(store, athlete)


def _opt(value: Any) -> Any:
    """None for a missing catalog value (NULL, NaN)."""
    return None if value is None or (isinstance(value, float) and value != value) else value


def _float(value: Any) -> float | None:
    v = _opt(value)
    return float(v) if v is not None else None


def stored_activity(store: Store, athlete: str, activity_id: str) -> Activity:
    """One stored run (full id) as an :class:`~stridelab.model.Activity`: its catalog row, records,
    laps, sessions and developer columns (their FIT numbering is not stored: numbered per app in
    order). Raises ``StoreError``."""
    row = store.activity(athlete, activity_id)
    recs = store.records(athlete, row.id)
    if not isinstance(recs.index, pd.DatetimeIndex):
        recs.index = pd.DatetimeIndex(pd.to_datetime(recs.index, utc=True))
    elif recs.index.tz is None:
        recs.index = recs.index.tz_localize("UTC")
    recs.index.name = "time"
    laps_df = store.laps(athlete, row.id)
    lap_list = tuple(
        Lap(
            index=int(r["lap_index"]),
            start_time=pd.Timestamp(r["start_time"]).tz_convert("UTC"),
            elapsed_s=_float(r["elapsed_s"]),
            timer_s=_float(r["timer_s"]),
            distance_m=_float(r["distance_m"]),
            avg_speed_m_s=_float(r["avg_speed_m_s"]),
            trigger=_opt(r["trigger"]),
            intensity=_opt(r["intensity"]),
            sport=_opt(r["sport"]),
        )
        for r in laps_df.to_dict("records")
    )
    session_list = tuple(
        Session(
            index=int(r["session_index"]),
            sport=_opt(r["sport"]),
            sub_sport=_opt(r["sub_sport"]),
            start_time=pd.Timestamp(r["start_time"]).tz_convert("UTC"),
            elapsed_s=_float(r["elapsed_s"]),
            timer_s=_float(r["timer_s"]),
            distance_m=_float(r["distance_m"]),
        )
        for r in _streams.sessions(store, athlete, row.id).to_dict("records")
    )
    numbers: dict[str, int] = {}
    dev: list[DeveloperColumn] = []
    apps: dict[str, int] = {}
    for d in row.summary.get("developer_columns", []):
        if d.get("column") not in recs.columns:
            continue
        app = str(d.get("app") or "app0")
        apps.setdefault(app, len(apps))
        numbers[app] = numbers.get(app, -1) + 1
        dev.append(
            DeveloperColumn(
                column=str(d["column"]),
                app=app,
                field_name=str(d.get("field_name") or ""),
                units=d.get("units"),
                developer_data_index=apps[app],
                field_definition_number=numbers[app],
            )
        )
    return Activity(
        id=row.id,
        source_path=row.source_path,
        format=row.format,
        start_time=row.start_time,
        duration_s=row.duration_s,
        elapsed_s=row.elapsed_s,
        distance_m=row.distance_m,
        sport=row.sport,
        sub_sport=row.sub_sport,
        records=recs,
        manufacturer=row.manufacturer,
        product=row.product,
        serial_number=row.serial_number,
        laps=lap_list,
        sessions=session_list,
        developer_columns=tuple(dev),
    )


def export_run(store: Store, athlete: str, activity_id: str, output: Path, fmt: str) -> int:
    """Write one run (full id) to ``output``: its records as ``csv`` or ``parquet`` (SI, canonical
    columns), or the run as a ``fit``, ``tcx`` or ``gpx`` file for other tools (units converted by the
    writers in ``stridelab.io.export``). Returns the number of records written (for GPX the number of
    track points: records without a position have none). Raises ``StoreError`` (no such run or no
    stream), ``OSError`` (cannot write), ``ValueError`` (unknown format, or a value the format cannot
    hold); ``output`` is only written once the whole file is encoded."""
    from stridelab.io.export import WRITERS, gpx_point_count  # lazy: the writers are not for reads

    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (use one of {', '.join(EXPORT_FORMATS)})")
    if fmt in WRITERS:
        activity = stored_activity(store, athlete, activity_id)
        try:
            data = WRITERS[fmt](activity)
        except ValueError as exc:
            raise ValueError(f"cannot export run {activity.id[:8]} as {fmt.upper()}: {exc}") from exc
        tmp = output.with_name(f".{output.name}.part")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, output)  # a complete file or none
        finally:
            tmp.unlink(missing_ok=True)
        return gpx_point_count(activity) if fmt == "gpx" else len(activity.records)
    recs = store.records(athlete, activity_id)
    _streams.export_records(recs, output, fmt)
    return len(recs)


def store_location(path: Path | None = None) -> Path:
    """``path``, else the default store location (``$STRIDELAB_STORE`` or the user data dir)."""
    return path if path is not None else default_store_path()
