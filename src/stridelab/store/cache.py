"""The analysis cache repository (namespace ``analysis``, table ``analysis_runs``).

A row holds :meth:`~stridelab.analysis.RunAnalysis.to_cache` (reference-speed independent: the fitted
coefficients and covariances, so any reference speed is a linear combination, no refit). It is keyed by
(athlete, activity id) and valid only for the current :data:`~stridelab.analysis.ANALYSIS_VERSION` and
the run it was computed from: ``run_key`` fingerprints the catalog row (import time, records, sport,
summary, laps) and the size of the record stream, so a run that is re-imported differently, or whose
stream is rewritten, is analysed again. Deleting an activity deletes its row (foreign key, cascade).
:func:`read_cached_analyses` reads every valid row of a period in one query (``trend``, ``baseline``).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import TYPE_CHECKING, Any, Final

from stridelab.analysis import ANALYSIS_VERSION
from stridelab.jsonsafe import to_jsonable
from stridelab.lazy import lazy_module
from stridelab.store._store import Store
from stridelab.store._store import _iso as iso_utc

if TYPE_CHECKING:  # the run analytics (scipy) load only when a cached analysis is decoded
    import pandas as pd

    from stridelab.analysis import RunAnalysis
else:
    pd = lazy_module("pandas")

__all__ = [
    "ANALYSIS_MIGRATIONS",
    "clear_cached_analyses",
    "current_fingerprint",
    "derived_fingerprint",
    "ensure_cache_schema",
    "read_cached_analyses",
    "read_cached_analysis",
    "read_derived",
    "run_key",
    "write_cached_analysis",
    "write_derived",
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
    # the fingerprint of the run the row was computed from ('' for rows of older stores: recomputed)
    "ALTER TABLE analysis_runs ADD COLUMN run_key TEXT NOT NULL DEFAULT ''",
    # results derived from many runs (a trend, a baseline table), valid while the fingerprint holds
    """
    CREATE TABLE analysis_derived (
        athlete TEXT NOT NULL,
        kind TEXT NOT NULL,
        params TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        computed_at TEXT NOT NULL,
        result_json TEXT NOT NULL,
        PRIMARY KEY (athlete, kind, params)
    )
    """,
]

#: the catalog columns a run's fingerprint covers (plus its lap count and stream size)
_KEY_SQL: Final[str] = (
    "a.id, a.imported_at, a.n_records, a.sport, a.sub_sport, a.start_time, a.duration_s, "
    "a.elapsed_s, a.distance_m, a.summary_json, "
    "(SELECT COUNT(*) FROM laps l WHERE l.athlete = a.athlete AND l.activity_id = a.id) AS n_laps"
)


def ensure_cache_schema(store: Store) -> None:
    """Create or upgrade the cache table (a write: call it where writes are allowed)."""
    store.ensure_schema("analysis", ANALYSIS_MIGRATIONS)


def _stream_size(store: Store, athlete: str, activity_id: str) -> int:
    try:
        return store.stream_path("records", athlete, activity_id).stat().st_size
    except OSError:
        return -1


def run_key(store: Store, row: sqlite3.Row) -> str:
    """The fingerprint of one run (a row of :data:`_KEY_SQL`): changes when the run does."""
    h = hashlib.blake2b(digest_size=12)
    for col in (
        "imported_at",
        "n_records",
        "sport",
        "sub_sport",
        "start_time",
        "duration_s",
        "elapsed_s",
        "distance_m",
        "n_laps",
        "summary_json",
    ):
        h.update(repr(row[col]).encode())
        h.update(b"\x1f")
    h.update(str(_stream_size(store, str(row["athlete"]), str(row["id"]))).encode())
    return h.hexdigest()


def _valid(store: Store, row: sqlite3.Row) -> RunAnalysis | None:
    from stridelab.analysis import RunAnalysis

    if row["version"] is None or int(row["version"]) != ANALYSIS_VERSION:
        return None
    if row["run_key"] != run_key(store, row):
        return None
    try:
        return RunAnalysis.from_cache(json.loads(row["result_json"]))
    except (KeyError, TypeError, ValueError):
        return None  # unreadable cache row: the caller recomputes


def read_cached_analysis(store: Store, athlete: str, activity_id: str) -> RunAnalysis | None:
    """The cached analysis of the current analysis version and of the run as it is now, or None (no
    row, an older version, a changed run, an unreadable row, or no cache table yet). A pure read: never
    migrates, never writes."""
    try:
        row = (
            store.connect()
            .execute(
                f"SELECT {_KEY_SQL}, a.athlete, c.version, c.run_key, c.result_json FROM activities a "
                "JOIN analysis_runs c ON c.athlete = a.athlete AND c.activity_id = a.id "
                "WHERE a.athlete = ? AND a.id = ?",
                (athlete, activity_id),
            )
            .fetchone()
        )
    except sqlite3.Error:
        return None
    return None if row is None else _valid(store, row)


def read_cached_analyses(
    store: Store,
    athlete: str,
    *,
    since: pd.Timestamp | None = None,
    until: pd.Timestamp | None = None,
) -> dict[str, RunAnalysis]:
    """The valid cached analyses (as :func:`read_cached_analysis`) of ``athlete``'s activities that
    start in [``since``, ``until``), by activity id, in one query; runs without a valid row are absent."""
    sql = (
        f"SELECT {_KEY_SQL}, a.athlete, c.version, c.run_key, c.result_json FROM activities a "
        "JOIN analysis_runs c ON c.athlete = a.athlete AND c.activity_id = a.id "
        "WHERE a.athlete = ? AND c.version = ?"
    )
    args: list[Any] = [athlete, ANALYSIS_VERSION]
    if since is not None:
        sql += " AND a.start_time >= ?"
        args.append(iso_utc(since))
    if until is not None:
        sql += " AND a.start_time < ?"
        args.append(iso_utc(until))
    try:
        rows = store.connect().execute(sql, args).fetchall()
    except sqlite3.Error:
        return {}
    out: dict[str, RunAnalysis] = {}
    for row in rows:
        analysis = _valid(store, row)
        if analysis is not None:
            out[str(row["id"])] = analysis
    return out


def write_cached_analysis(store: Store, athlete: str, activity_id: str, analysis: RunAnalysis) -> None:
    """Insert or replace the cache row of one activity (current analysis version, now)."""
    ensure_cache_schema(store)
    payload = json.dumps(to_jsonable(analysis.to_cache()), allow_nan=False)
    now = pd.Timestamp.now(tz="UTC").isoformat()
    with store.transaction() as tx:
        row = tx.execute(
            f"SELECT {_KEY_SQL}, a.athlete FROM activities a WHERE a.athlete = ? AND a.id = ?",
            (athlete, activity_id),
        ).fetchone()
        if row is None:
            return  # the run was deleted meanwhile: nothing to cache
        tx.execute(
            "INSERT INTO analysis_runs (athlete, activity_id, version, computed_at, result_json, run_key) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(athlete, activity_id) DO UPDATE SET "
            "version = excluded.version, computed_at = excluded.computed_at, "
            "result_json = excluded.result_json, run_key = excluded.run_key",
            (athlete, activity_id, ANALYSIS_VERSION, now, payload, run_key(store, row)),
        )


def clear_cached_analyses(store: Store, athlete: str | None = None) -> int:
    """Drop cached analyses (of one athlete, or all) and the results derived from them. Returns the
    number of per-run rows removed."""
    ensure_cache_schema(store)
    with store.transaction() as tx:
        if athlete is None:
            tx.execute("DELETE FROM analysis_derived")
            cur = tx.execute("DELETE FROM analysis_runs")
        else:
            tx.execute("DELETE FROM analysis_derived WHERE athlete = ?", (athlete,))
            cur = tx.execute("DELETE FROM analysis_runs WHERE athlete = ?", (athlete,))
    return int(cur.rowcount)


# ---------------------------------------------------------------------------------------------- derived
def derived_fingerprint(store: Store, athlete: str) -> str:
    """Changes whenever a result derived from ``athlete``'s runs may: the analysis version, her catalog
    (count, latest import and start, laps, duplicate links), her cached analyses (count, latest) and
    her record streams' folder (a stream written or removed). Four indexed queries and one ``stat``."""
    conn = store.connect()
    parts: list[Any] = [ANALYSIS_VERSION]
    parts += conn.execute(
        "SELECT count(*), max(imported_at), max(start_time) FROM activities WHERE athlete = ?", (athlete,)
    ).fetchone()
    parts += conn.execute("SELECT count(*) FROM laps WHERE athlete = ?", (athlete,)).fetchone()
    for sql in (
        "SELECT count(*), max(linked_at) FROM activity_links WHERE athlete = ?",
        "SELECT count(*), max(computed_at) FROM analysis_runs WHERE athlete = ?",
    ):
        try:
            parts += conn.execute(sql, (athlete,)).fetchone()
        except sqlite3.Error:  # a store without that table yet
            parts.append(None)
    try:
        parts.append(store.stream_path("records", athlete, "x").parent.stat().st_mtime_ns)
    except OSError:
        parts.append(None)
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def read_derived(store: Store, athlete: str, kind: str, params: str) -> tuple[str, Any] | None:
    """(fingerprint, result) of a stored derived result, or None. A pure read."""
    try:
        row = (
            store.connect()
            .execute(
                "SELECT fingerprint, result_json FROM analysis_derived "
                "WHERE athlete = ? AND kind = ? AND params = ?",
                (athlete, kind, params),
            )
            .fetchone()
        )
    except sqlite3.Error:
        return None
    if row is None:
        return None
    try:
        return str(row[0]), json.loads(row[1])
    except ValueError:
        return None


def write_derived(store: Store, athlete: str, kind: str, params: str, fingerprint: str, result: Any) -> None:
    """Store a derived result (JSON-safe) under its fingerprint; rows of the same kind computed under
    another fingerprint are stale and go."""
    ensure_cache_schema(store)
    payload = json.dumps(to_jsonable(result), allow_nan=False)
    now = pd.Timestamp.now(tz="UTC").isoformat()
    with store.transaction() as tx:
        tx.execute(
            "DELETE FROM analysis_derived WHERE athlete = ? AND kind = ? AND fingerprint != ?",
            (athlete, kind, fingerprint),
        )
        tx.execute(
            "INSERT INTO analysis_derived (athlete, kind, params, fingerprint, computed_at, result_json) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(athlete, kind, params) DO UPDATE SET "
            "fingerprint = excluded.fingerprint, computed_at = excluded.computed_at, "
            "result_json = excluded.result_json",
            (athlete, kind, params, fingerprint, now, payload),
        )


#: (connection id, athlete) -> (the connection, its change marker, the fingerprint then)
_FINGERPRINTS: dict[tuple[int, str], tuple[sqlite3.Connection, tuple[Any, ...], str]] = {}


def _change_marker(store: Store, conn: sqlite3.Connection, athlete: str) -> tuple[Any, ...]:
    """Changes whenever the catalog or the athlete's record streams may have: SQLite's
    ``data_version`` (bumped by every commit of another connection), this connection's own
    ``total_changes`` and the streams folder's modification time (as :func:`derived_fingerprint`)."""
    try:
        mtime: int | None = store.stream_path("records", athlete, "x").parent.stat().st_mtime_ns
    except OSError:
        mtime = None
    return (conn.execute("PRAGMA data_version").fetchone()[0], conn.total_changes, mtime)


def current_fingerprint(store: Store, athlete: str) -> str:
    """:func:`derived_fingerprint`, recomputed only when the catalog or the streams changed since this
    connection last computed it (:func:`_change_marker`): a warm dashboard request checks one pragma
    instead of scanning the catalog."""
    conn = store.connect()
    key = (id(conn), athlete)
    marker = _change_marker(store, conn, athlete)  # taken first: a commit from now on changes it
    kept = _FINGERPRINTS.get(key)
    if kept is not None and kept[0] is conn and kept[1] == marker:
        return kept[2]
    fingerprint = derived_fingerprint(store, athlete)
    _FINGERPRINTS[key] = (conn, marker, fingerprint)
    return fingerprint
