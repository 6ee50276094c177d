"""The back-fill of runs' UTC offsets (namespace ``offsets``, table ``utc_offset_checks``).

Runs imported before the FIT decoder read the ``activity`` message's local timestamp have no
``utc_offset_s``. :mod:`stridelab.services.local_time` reads it again from each run's source file; this
repository lists the runs still to look at and records what was found, never overwriting an offset the
import set. A run is looked at once: its check row (the offset found, or none) keeps it off the list.
Deleting an activity deletes its check row (foreign key, cascade).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from stridelab.lazy import lazy_module
from stridelab.store._store import Store

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")  # only to write a check's time: listing the runs to check stays light

__all__ = ["OFFSETS_MIGRATIONS", "ensure_offsets_schema", "record_utc_offsets", "unchecked_runs"]

#: the ``offsets`` namespace. Migration i -> version i + 1.
OFFSETS_MIGRATIONS: Final[list[str]] = [
    """
    CREATE TABLE utc_offset_checks (
        athlete TEXT NOT NULL,
        activity_id TEXT NOT NULL,
        checked_at TEXT NOT NULL,
        utc_offset_s INTEGER,
        PRIMARY KEY (athlete, activity_id),
        FOREIGN KEY (athlete, activity_id) REFERENCES activities (athlete, id) ON DELETE CASCADE
    )
    """,
]


def ensure_offsets_schema(store: Store) -> None:
    """Create or upgrade the table (a write)."""
    store.ensure_schema("offsets", OFFSETS_MIGRATIONS)


def unchecked_runs(store: Store, athlete: str | None = None) -> list[tuple[str, str, list[str]]]:
    """``(athlete, id, source keys)`` of the FIT activities with absolute times, no UTC offset and no
    check yet, oldest first; the keys are where the source cache saw the file (path or
    ``zip!member``)."""
    ensure_offsets_schema(store)
    sql = (
        "SELECT a.athlete, a.id FROM activities a LEFT JOIN utc_offset_checks c "
        "ON c.athlete = a.athlete AND c.activity_id = a.id "
        "WHERE a.utc_offset_s IS NULL AND a.time_absolute = 1 AND a.format = 'fit' AND c.activity_id IS NULL"
    )
    args: list[str] = []
    if athlete is not None:
        sql += " AND a.athlete = ?"
        args.append(athlete)
    conn = store.connect()
    rows = conn.execute(sql + " ORDER BY a.athlete, a.start_time", args).fetchall()
    out = []
    for who, activity_id in rows:
        keys = conn.execute("SELECT path FROM sources WHERE sha256 = ? ORDER BY path", (activity_id,))
        out.append((str(who), str(activity_id), [str(k[0]) for k in keys]))
    return out


def record_utc_offsets(store: Store, athlete: str, found: Mapping[str, int | None]) -> int:
    """In one transaction: set the offset of each run in ``found`` that still has none (an offset the
    import set is never replaced) and record that the run was looked at (None: its file holds no
    usable local time, or is gone). Returns how many runs gained an offset."""
    if not found:
        return 0
    ensure_offsets_schema(store)
    now = pd.Timestamp.now(tz="UTC").isoformat()
    gained = 0
    with store.transaction() as tx:
        for activity_id, offset in found.items():
            if offset is not None:
                cur = tx.execute(
                    "UPDATE activities SET utc_offset_s = ? "
                    "WHERE athlete = ? AND id = ? AND utc_offset_s IS NULL",
                    (int(offset), athlete, activity_id),
                )
                gained += cur.rowcount
            exists = tx.execute(
                "SELECT 1 FROM activities WHERE athlete = ? AND id = ?", (athlete, activity_id)
            ).fetchone()
            if exists is None:
                continue  # deleted meanwhile
            tx.execute(
                "INSERT INTO utc_offset_checks (athlete, activity_id, checked_at, utc_offset_s) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(athlete, activity_id) DO UPDATE SET "
                "checked_at = excluded.checked_at, utc_offset_s = excluded.utc_offset_s",
                (athlete, activity_id, now, offset),
            )
    return gained
