"""Repository of tags on runs, laps and time ranges (namespace ``experiments``, table ``exp_tags``).

Plain functions over a :class:`~stridelab.store.Store`; they take and return
:class:`stridelab.analysis.Tag`. The ``experiments`` namespace also holds the experiment definitions
(:mod:`stridelab.store.experiments`): one migration list for both, kept as the old stores have it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final

from stridelab.analysis import Tag, TagScope, TagTarget
from stridelab.lazy import lazy_module
from stridelab.store._store import Store

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = [
    "EXPERIMENT_MIGRATIONS",
    "delete_tags",
    "ensure_tags_schema",
    "list_tags",
    "tags_of_runs",
    "write_tags",
]

#: the ``experiments`` namespace: tags and experiment definitions. Migration i -> version i + 1.
EXPERIMENT_MIGRATIONS: Final[list[str]] = [
    """
    CREATE TABLE exp_tags (
        tag_id INTEGER PRIMARY KEY AUTOINCREMENT,
        athlete TEXT NOT NULL,
        activity_id TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        scope TEXT NOT NULL CHECK (scope IN ('run', 'lap', 'range')),
        lap_index INTEGER,
        from_s REAL,
        to_s REAL,
        created_at TEXT NOT NULL,
        FOREIGN KEY (athlete, activity_id) REFERENCES activities (athlete, id) ON DELETE CASCADE
    );
    CREATE INDEX exp_tags_run ON exp_tags (athlete, activity_id);
    CREATE INDEX exp_tags_key ON exp_tags (athlete, key, value);
    CREATE TABLE exp_experiments (
        athlete TEXT NOT NULL,
        name TEXT NOT NULL,
        design TEXT NOT NULL,
        tag_key TEXT NOT NULL,
        arms_json TEXT NOT NULL,
        seed INTEGER NOT NULL,
        protocol_json TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (athlete, name)
    )
    """,
]
_CHUNK: Final[int] = 500


def ensure_tags_schema(store: Store) -> None:
    """Create/upgrade the tables of the ``experiments`` namespace (tags and experiments)."""
    store.ensure_schema("experiments", EXPERIMENT_MIGRATIONS)


def _row_to_tag(row: Any) -> Tag:
    scope: TagScope = row["scope"]
    return Tag(
        tag_id=int(row["tag_id"]),
        activity_id=str(row["activity_id"]),
        key=str(row["key"]),
        value=str(row["value"]),
        scope=scope,
        lap_index=None if row["lap_index"] is None else int(row["lap_index"]),
        from_s=None if row["from_s"] is None else float(row["from_s"]),
        to_s=None if row["to_s"] is None else float(row["to_s"]),
    )


def write_tags(
    store: Store,
    athlete: str,
    activity_id: str,
    tags: Sequence[tuple[str, str]],
    scope: TagScope,
    targets: Sequence[TagTarget],
) -> list[Tag]:
    """Set every ``(key, value)`` of ``tags`` on each target of run ``activity_id`` (full id) in one
    transaction: a key already set on the same run / lap / range gets the new value. Returns the
    stored tags."""
    ensure_tags_schema(store)
    now = pd.Timestamp.now(tz="UTC").isoformat()
    ids: list[int] = []
    with store.transaction() as tx:
        for key, value in tags:
            for lap_index, f, t in targets:
                tx.execute(
                    "DELETE FROM exp_tags WHERE athlete = ? AND activity_id = ? AND key = ? AND scope = ? "
                    "AND lap_index IS ? AND from_s IS ? AND to_s IS ?",
                    (athlete, activity_id, key, scope, lap_index, f, t),
                )
                cur = tx.execute(
                    "INSERT INTO exp_tags (athlete, activity_id, key, value, scope, lap_index, from_s, to_s, "
                    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (athlete, activity_id, key, value, scope, lap_index, f, t, now),
                )
                ids.append(int(cur.lastrowid or 0))
    wanted = set(ids)
    return [t for t in list_tags(store, athlete, run_id=activity_id) if t.tag_id in wanted]


def list_tags(
    store: Store,
    athlete: str,
    *,
    run_id: str | None = None,
    key: str | None = None,
    value: str | None = None,
) -> list[Tag]:
    """Tags of ``athlete`` (optionally of one run, id or prefix; one key; one value), by run, scope,
    lap, time."""
    ensure_tags_schema(store)
    sql = "SELECT * FROM exp_tags WHERE athlete = ?"
    args: list[Any] = [athlete]
    if run_id is not None:
        sql += " AND activity_id = ?"
        args.append(store.resolve_id(athlete, run_id))
    if key is not None:
        sql += " AND key = ?"
        args.append(key)
    if value is not None:
        sql += " AND value = ?"
        args.append(value)
    sql += " ORDER BY activity_id, scope DESC, lap_index, from_s, key, tag_id"
    return [_row_to_tag(r) for r in store.connect().execute(sql, args).fetchall()]


def delete_tags(
    store: Store,
    athlete: str,
    activity_id: str,
    *,
    key: str | None = None,
    value: str | None = None,
    laps: Sequence[int] | None = None,
) -> int:
    """Delete tags of run ``activity_id`` (full id): all, those of ``key``, of ``key`` and ``value``;
    with ``laps`` (0-based) only lap tags on those laps. Returns how many were deleted."""
    ensure_tags_schema(store)
    sql = "DELETE FROM exp_tags WHERE athlete = ? AND activity_id = ?"
    args: list[Any] = [athlete, activity_id]
    if key is not None:
        sql += " AND key = ?"
        args.append(key)
        if value is not None:
            sql += " AND value = ?"
            args.append(value)
    if laps is not None:
        sql += f" AND scope = 'lap' AND lap_index IN ({','.join('?' * len(laps))})"
        args += [int(i) for i in laps]
    with store.transaction() as tx:
        cur = tx.execute(sql, args)
    return int(cur.rowcount)


def tags_of_runs(store: Store, athlete: str, ids: Iterable[str]) -> list[Tag]:
    """Every tag of the runs ``ids`` (full ids), by run."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    ensure_tags_schema(store)
    rows: list[Any] = []
    conn = store.connect()
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        rows += conn.execute(
            f"SELECT * FROM exp_tags WHERE athlete = ? AND activity_id IN ({','.join('?' * len(chunk))}) "
            "ORDER BY activity_id, scope DESC, key, value, lap_index, from_s",
            [athlete, *chunk],
        ).fetchall()
    return [_row_to_tag(r) for r in rows]
