"""The analysis cache repository (namespace ``analysis``, table ``analysis_runs``).

A row holds :meth:`~stridelab.analysis.RunAnalysis.to_cache` (reference-speed independent: the fitted
coefficients and covariances, so any reference speed is a linear combination, no refit). It is keyed by
(athlete, activity id) and valid only for the current :data:`~stridelab.analysis.ANALYSIS_VERSION`;
deleting an activity deletes its row (foreign key, cascade).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Final

import pandas as pd

from stridelab.analysis import ANALYSIS_VERSION, RunAnalysis
from stridelab.jsonsafe import to_jsonable
from stridelab.store._store import Store

__all__ = [
    "ANALYSIS_MIGRATIONS",
    "clear_cached_analyses",
    "ensure_cache_schema",
    "read_cached_analysis",
    "write_cached_analysis",
]

ANALYSIS_MIGRATIONS: Final[list[str]] = [
    """
    CREATE TABLE analysis_runs (
        athlete TEXT NOT NULL,
        activity_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        computed_at TEXT NOT NULL,
        result_json TEXT NOT NULL,
        PRIMARY KEY (athlete, activity_id),
        FOREIGN KEY (athlete, activity_id) REFERENCES activities (athlete, id) ON DELETE CASCADE
    )
    """,
]


def ensure_cache_schema(store: Store) -> None:
    """Create or upgrade the cache table (a write: call it where writes are allowed)."""
    store.ensure_schema("analysis", ANALYSIS_MIGRATIONS)


def read_cached_analysis(store: Store, athlete: str, activity_id: str) -> RunAnalysis | None:
    """The cached analysis of the current analysis version, or None (no row, an older version, an
    unreadable row, or no cache table yet). A pure read: never migrates, never writes."""
    try:
        row = (
            store.connect()
            .execute(
                "SELECT version, result_json FROM analysis_runs WHERE athlete = ? AND activity_id = ?",
                (athlete, activity_id),
            )
            .fetchone()
        )
    except sqlite3.Error:
        return None
    if row is None or int(row[0]) != ANALYSIS_VERSION:
        return None
    try:
        return RunAnalysis.from_cache(json.loads(row[1]))
    except (KeyError, TypeError, ValueError):
        return None  # unreadable cache row: the caller recomputes


def write_cached_analysis(store: Store, athlete: str, activity_id: str, analysis: RunAnalysis) -> None:
    """Insert or replace the cache row of one activity (current analysis version, now)."""
    ensure_cache_schema(store)
    payload = json.dumps(to_jsonable(analysis.to_cache()), allow_nan=False)
    now = pd.Timestamp.now(tz="UTC").isoformat()
    with store.transaction() as tx:
        tx.execute(
            "INSERT INTO analysis_runs (athlete, activity_id, version, computed_at, result_json) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(athlete, activity_id) DO UPDATE SET "
            "version = excluded.version, computed_at = excluded.computed_at, "
            "result_json = excluded.result_json",
            (athlete, activity_id, ANALYSIS_VERSION, now, payload),
        )


def clear_cached_analyses(store: Store, athlete: str | None = None) -> int:
    """Drop cached analyses (of one athlete, or all). Returns the number of rows removed."""
    ensure_cache_schema(store)
    with store.transaction() as tx:
        if athlete is None:
            cur = tx.execute("DELETE FROM analysis_runs")
        else:
            cur = tx.execute("DELETE FROM analysis_runs WHERE athlete = ?", (athlete,))
    return int(cur.rowcount)
