"""Per-run load summaries (namespace ``loads``, table ``run_loads``): what the fitness/fatigue view needs
from a run's records (:class:`stridelab.training.RunLoadSummary`), kept so that ``status``, the home and
``fitness`` read one small row per run instead of every record stream.

A row is valid, like an analysis cache row (:mod:`stridelab.store.cache`), only for the version it was
written under (the analysis version and the summary's own version, :func:`summary_version`) and only for
the run as it is now: ``run_key`` is the same fingerprint of the catalog row and record stream
(:func:`stridelab.store.cache.run_key`), so a re-imported or rewritten run is summarised again.
Deleting an activity deletes its row (foreign key, cascade).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from stridelab.analysis import ANALYSIS_VERSION
from stridelab.jsonsafe import to_jsonable
from stridelab.lazy import lazy_module
from stridelab.store._store import Store
from stridelab.store._store import _iso as iso_utc
from stridelab.store.cache import _KEY_SQL, run_key
from stridelab.training import LOAD_SUMMARY_VERSION

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = [
    "LOADS_MIGRATIONS",
    "clear_run_loads",
    "ensure_loads_schema",
    "read_run_loads",
    "summary_version",
    "write_run_loads",
]

#: the ``loads`` namespace. Migration i -> version i + 1.
LOADS_MIGRATIONS: Final[list[str]] = [
    """
    CREATE TABLE run_loads (
        athlete TEXT NOT NULL,
        activity_id TEXT NOT NULL,
        version TEXT NOT NULL,
        run_key TEXT NOT NULL,
        computed_at TEXT NOT NULL,
        summary_json TEXT NOT NULL,
        PRIMARY KEY (athlete, activity_id),
        FOREIGN KEY (athlete, activity_id) REFERENCES activities (athlete, id) ON DELETE CASCADE
    )
    """,
]


def summary_version() -> str:
    """The version a row must carry to be served: the analysis version and the summary's own."""
    return f"{ANALYSIS_VERSION}.{LOAD_SUMMARY_VERSION}"


def ensure_loads_schema(store: Store) -> None:
    """Create or upgrade the table (a write: call it where writes are allowed)."""
    store.ensure_schema("loads", LOADS_MIGRATIONS)


def read_run_loads(
    store: Store, athlete: str, *, until: pd.Timestamp | None = None
) -> dict[str, dict[str, Any]]:
    """The valid summaries (JSON dicts) of ``athlete``'s activities starting before ``until``, by
    activity id, in one query; a run without a valid row (none, another version, a changed run, an
    unreadable row, no table yet) is absent. A pure read: never migrates, never writes."""
    sql = (
        f"SELECT {_KEY_SQL}, a.athlete, r.run_key AS stored_key, r.summary_json AS load_json "
        "FROM activities a JOIN run_loads r ON r.athlete = a.athlete AND r.activity_id = a.id "
        "WHERE a.athlete = ? AND r.version = ?"
    )
    args: list[Any] = [athlete, summary_version()]
    if until is not None:
        sql += " AND a.start_time < ?"
        args.append(iso_utc(until))
    try:
        rows = store.connect().execute(sql, args).fetchall()
    except sqlite3.Error:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["stored_key"] != run_key(store, row):
            continue
        try:
            data = json.loads(row["load_json"])
        except ValueError:
            continue
        if isinstance(data, dict):
            out[str(row["id"])] = data
    return out


def write_run_loads(store: Store, athlete: str, summaries: Mapping[str, Mapping[str, Any]]) -> None:
    """Insert or replace the rows of several runs in one transaction (runs deleted meanwhile are
    skipped)."""
    if not summaries:
        return
    ensure_loads_schema(store)
    now = pd.Timestamp.now(tz="UTC").isoformat()
    version = summary_version()
    with store.transaction() as tx:
        for activity_id, summary in summaries.items():
            row = tx.execute(
                f"SELECT {_KEY_SQL}, a.athlete FROM activities a WHERE a.athlete = ? AND a.id = ?",
                (athlete, activity_id),
            ).fetchone()
            if row is None:
                continue
            tx.execute(
                "INSERT INTO run_loads (athlete, activity_id, version, run_key, computed_at, summary_json) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(athlete, activity_id) DO UPDATE SET "
                "version = excluded.version, run_key = excluded.run_key, "
                "computed_at = excluded.computed_at, summary_json = excluded.summary_json",
                (
                    athlete,
                    activity_id,
                    version,
                    run_key(store, row),
                    now,
                    json.dumps(to_jsonable(dict(summary)), allow_nan=False),
                ),
            )


def clear_run_loads(store: Store, athlete: str | None = None) -> int:
    """Drop the summaries (of one athlete, or all); returns the number of rows removed."""
    ensure_loads_schema(store)
    with store.transaction() as tx:
        if athlete is None:
            cur = tx.execute("DELETE FROM run_loads")
        else:
            cur = tx.execute("DELETE FROM run_loads WHERE athlete = ?", (athlete,))
    return int(cur.rowcount)
