"""Repository of duplicate links (namespace ``duplicates``, table ``activity_links``): which stored
activity is the same activity as another, from another source, and which one is primary.

Plain functions over a :class:`~stridelab.store.Store`. The decisions are pure
(:mod:`stridelab.analysis`'s ``candidate_pairs`` / ``choose_primaries``) and composed by
:mod:`stridelab.services.duplicates`; here are only the reads and the atomic writes. The catalog's
listing reads (``Store.list_activities``) leave linked duplicates out by default.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from stridelab.analysis import DuplicateLink, Span
from stridelab.lazy import lazy_module
from stridelab.store._links import DUPLICATE_MIGRATIONS
from stridelab.store._store import Store

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = [
    "DUPLICATE_MIGRATIONS",
    "KEPT_REASON",
    "LinkRow",
    "activity_spans",
    "ensure_duplicates_schema",
    "imported_at",
    "links_fingerprint",
    "links_of",
    "mark_kept",
    "replace_links",
]

#: the reason of a row that marks an activity imported with ``--keep-duplicates``
KEPT_REASON: Final[str] = "imported with --keep-duplicates: never linked"
_CHUNK: Final[int] = 500


@dataclass(frozen=True, slots=True)
class LinkRow:
    """One stored link: ``activity_id`` is a duplicate of ``primary_id`` (None: kept apart)."""

    activity_id: str
    primary_id: str | None
    reason: str


def ensure_duplicates_schema(store: Store) -> None:
    """Create/upgrade the ``duplicates`` namespace (``Store.open`` does it too)."""
    store.ensure_schema("duplicates", DUPLICATE_MIGRATIONS)


def activity_spans(store: Store, athlete: str) -> list[Span]:
    """Every activity of ``athlete`` as a :class:`~stridelab.analysis.Span` (start, wall-clock length:
    ``elapsed_s``, else ``duration_s``, else 0; sport; kept apart or not; total distance). One light
    query."""
    ensure_duplicates_schema(store)
    rows = (
        store.connect()
        .execute(
            "SELECT a.id, a.sport, a.start_time, coalesce(a.elapsed_s, a.duration_s, 0.0) AS length_s, "
            "(l.activity_id IS NOT NULL AND l.primary_id IS NULL) AS kept, a.distance_m FROM activities a "
            "LEFT JOIN activity_links l ON l.athlete = a.athlete AND l.activity_id = a.id "
            "WHERE a.athlete = ? AND a.time_absolute = 1",  # device uptimes are not comparable times
            (athlete,),
        )
        .fetchall()
    )
    if not rows:
        return []
    starts = pd.DatetimeIndex(pd.to_datetime([r[2] for r in rows], utc=True, format="ISO8601"))
    return [
        Span(
            id=r[0],
            sport=r[1],
            start=start,
            length_s=float(r[3]),
            kept=bool(r[4]),
            distance_m=None if r[5] is None else float(r[5]),
        )
        for r, start in zip(rows, starts, strict=True)
    ]


def imported_at(store: Store, athlete: str, ids: Iterable[str]) -> dict[str, str]:
    """``id -> imported_at`` (ISO 8601 UTC) of the activities ``ids``."""
    wanted = list(dict.fromkeys(ids))
    out: dict[str, str] = {}
    conn = store.connect()
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT id, imported_at FROM activities WHERE athlete = ? AND id IN ({marks})",
            [athlete, *chunk],
        )
        out.update({r[0]: r[1] for r in rows})
    return out


def links_of(
    store: Store, athlete: str, *, ids: Iterable[str] | None = None, primaries: Iterable[str] | None = None
) -> list[LinkRow]:
    """Stored links of ``athlete``: all, those of the activities ``ids`` (as duplicates or kept
    apart), or the duplicates of the primaries ``primaries``. Ordered by primary, then activity id."""
    ensure_duplicates_schema(store)
    base = "SELECT activity_id, primary_id, reason FROM activity_links WHERE athlete = ?"
    order = " ORDER BY primary_id, activity_id"
    conn = store.connect()
    if ids is None and primaries is None:
        rows: list[Any] = conn.execute(base + order, (athlete,)).fetchall()
    else:
        column, wanted = ("activity_id", ids) if ids is not None else ("primary_id", primaries)
        keys = list(dict.fromkeys(wanted or []))
        rows = []
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            rows += conn.execute(
                f"{base} AND {column} IN ({','.join('?' * len(chunk))}){order}", [athlete, *chunk]
            ).fetchall()
    return [LinkRow(r[0], r[1], r[2]) for r in rows]


def replace_links(store: Store, athlete: str, members: Iterable[str], links: Sequence[DuplicateLink]) -> bool:
    """Make ``links`` the links of the activities ``members`` (a closed set: every link from or to one
    of them), in one transaction; the kept-apart marks stay. Writes nothing when they already are.
    Returns whether anything changed."""
    ensure_duplicates_schema(store)
    keys = sorted(set(members))
    wanted = {(link.activity_id, link.primary_id, link.reason) for link in links}
    current: set[tuple[str, str | None, str]] = set()
    conn = store.connect()
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        current |= {
            (r[0], r[1], r[2])
            for r in conn.execute(
                "SELECT activity_id, primary_id, reason FROM activity_links WHERE athlete = ? "
                f"AND primary_id IS NOT NULL AND (activity_id IN ({marks}) OR primary_id IN ({marks}))",
                [athlete, *chunk, *chunk],
            )
        }
    if current == wanted:
        return False
    now = pd.Timestamp.now(tz="UTC").isoformat()
    with store.transaction() as tx:
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            tx.execute(
                "DELETE FROM activity_links WHERE athlete = ? AND primary_id IS NOT NULL "
                f"AND (activity_id IN ({marks}) OR primary_id IN ({marks}))",
                [athlete, *chunk, *chunk],
            )
        tx.executemany(
            "INSERT INTO activity_links (athlete, activity_id, primary_id, reason, linked_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (athlete, activity_id) DO UPDATE SET "
            "primary_id = excluded.primary_id, reason = excluded.reason, linked_at = excluded.linked_at",
            [(athlete, a, p, r, now) for a, p, r in sorted(wanted, key=lambda w: w[0])],
        )
    return True


def mark_kept(store: Store, athlete: str, ids: Iterable[str]) -> int:
    """Mark the activities ``ids`` as imported with linking off (never linked; a link they had is
    replaced). Returns how many rows were written."""
    ensure_duplicates_schema(store)
    now = pd.Timestamp.now(tz="UTC").isoformat()
    rows = [(athlete, KEPT_REASON, now, athlete, i) for i in dict.fromkeys(ids)]
    with store.transaction() as tx:
        tx.executemany(
            "INSERT INTO activity_links (athlete, activity_id, primary_id, reason, linked_at) "
            "SELECT ?, id, NULL, ?, ? FROM activities WHERE athlete = ? AND id = ? "
            "ON CONFLICT (athlete, activity_id) DO UPDATE SET primary_id = NULL, reason = excluded.reason, "
            "linked_at = excluded.linked_at",
            rows,
        )
    return len(rows)


def links_fingerprint(store: Store, athlete: str) -> tuple[Any, ...]:
    """(number of links, latest link instant) of ``athlete``: changes whenever the links do."""
    ensure_duplicates_schema(store)
    row = (
        store.connect()
        .execute("SELECT count(*), max(linked_at) FROM activity_links WHERE athlete = ?", (athlete,))
        .fetchone()
    )
    return tuple(row)
