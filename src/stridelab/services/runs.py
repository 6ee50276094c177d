"""The runs in a store: list and filter, resolve an id prefix, one run with its records and laps,
export, and the tags shown beside them.

The catalog row type (:class:`ActivityRow`) is re-exported here for the edges.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from stridelab.services.experiments import tags_for_runs
from stridelab.store import ActivityRow, Store, default_store_path
from stridelab.store import duplicates as _duplicates
from stridelab.store import streams as _streams

__all__ = [
    "EXPORT_FORMATS",
    "ActivityRow",
    "catalog_fingerprint",
    "export_run",
    "get_run",
    "laps",
    "list_runs",
    "records",
    "resolve_id",
    "run_tags",
    "store_location",
]

#: formats of :func:`export_run`
EXPORT_FORMATS: tuple[str, ...] = ("csv", "parquet")


def list_runs(
    store: Store,
    athlete: str = "me",
    *,
    since: pd.Timestamp | None = None,
    until: pd.Timestamp | None = None,
    sport: str | None = None,
    descending: bool = False,
    include_duplicates: bool = False,
) -> list[ActivityRow]:
    """Catalog rows of ``athlete`` ordered by start time (``until`` is exclusive); the same activity
    from another source, linked as a duplicate, only with ``include_duplicates``."""
    return store.list_activities(
        athlete,
        since=since,
        until=until,
        sport=sport,
        descending=descending,
        include_duplicates=include_duplicates,
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


def records(store: Store, athlete: str, activity_id: str) -> pd.DataFrame:
    """The record stream of one activity (full id): time-indexed, canonical SI columns."""
    return store.records(athlete, activity_id)


def run_tags(store: Store, athlete: str, ids: Iterable[str]) -> dict[str, list[str]]:
    """Tag labels per run id (``cue=push-behind``, ``cue=pull-up@lap1,3``)."""
    return tags_for_runs(store, athlete, ids)


def catalog_fingerprint(store: Store, athlete: str) -> tuple[Any, ...]:
    """Changes whenever the catalog of ``athlete`` changes, its duplicate links included."""
    return _streams.catalog_fingerprint(store, athlete) + _duplicates.links_fingerprint(store, athlete)


def export_run(store: Store, athlete: str, activity_id: str, output: Path, fmt: str) -> int:
    """Write the records of one run (full id) to ``output`` as ``csv`` or ``parquet``; returns the
    number of records. Raises ``StoreError`` (no stream), ``OSError`` (cannot write), ``ValueError``
    (unknown format)."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    recs = store.records(athlete, activity_id)
    _streams.export_records(recs, output, fmt)
    return len(recs)


def store_location(path: Path | None = None) -> Path:
    """``path``, else the default store location (``$STRIDELAB_STORE`` or the user data dir)."""
    return path if path is not None else default_store_path()
