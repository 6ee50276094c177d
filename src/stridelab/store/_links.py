"""Schema of the ``duplicates`` namespace (table ``activity_links``), kept apart from
:mod:`stridelab.store.duplicates` so that the store's own listing reads can use it without a cycle.

A row says activity ``activity_id`` is a duplicate of ``primary_id`` (hidden from the lists of runs),
or, with ``primary_id`` NULL, that it was imported with linking turned off (``--keep-duplicates``:
never linked). Deleting either activity deletes the row (foreign keys, cascade): the duplicates of a
deleted primary show again until the links are recomputed.
"""

from __future__ import annotations

from typing import Final

__all__ = ["DUPLICATE_MIGRATIONS", "NOT_A_DUPLICATE"]

#: the ``duplicates`` namespace. Migration i -> version i + 1.
DUPLICATE_MIGRATIONS: Final[list[str]] = [
    """
    CREATE TABLE activity_links (
        athlete TEXT NOT NULL,
        activity_id TEXT NOT NULL,
        primary_id TEXT,
        reason TEXT NOT NULL,
        linked_at TEXT NOT NULL,
        PRIMARY KEY (athlete, activity_id),
        FOREIGN KEY (athlete, activity_id) REFERENCES activities (athlete, id) ON DELETE CASCADE,
        FOREIGN KEY (athlete, primary_id) REFERENCES activities (athlete, id) ON DELETE CASCADE
    );
    CREATE INDEX activity_links_primary ON activity_links (athlete, primary_id)
    """,
]

#: condition on a query over ``activities``: the row is not a linked duplicate
NOT_A_DUPLICATE: Final[str] = (
    "NOT EXISTS (SELECT 1 FROM activity_links l WHERE l.athlete = activities.athlete "
    "AND l.activity_id = activities.id AND l.primary_id IS NOT NULL)"
)
