"""The same activity from several sources (a watch FIT, a Strava re-export, Apple Health): link the
duplicates to the richest one (the primary) so that every view lists it once.

What counts as the same activity and which one is primary is decided by the pure functions of
:mod:`stridelab.analysis` (``candidate_pairs``, ``recordings_agree``, ``choose_primaries``; the
definitions are in their module docstring); the links are stored by :mod:`stridelab.store.duplicates`
and the catalog's lists leave linked duplicates out.

Linking runs after an import's commits (:func:`link_imported`, called by
:func:`stridelab.services.imports.import_paths`) and is recomputed for the closed set of activities the
new ones may match, so the links depend only on what is stored, never on the order of imports.
:func:`delete_run` deletes an activity and promotes the next richest of its group.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stridelab.analysis import (
    DuplicateLink,
    PairMatch,
    SourceFacts,
    candidate_pairs,
    choose_primaries,
    has_labels,
    recordings_agree,
)
from stridelab.lazy import lazy_module
from stridelab.store import ActivityRow, Store
from stridelab.store import duplicates as _links
from stridelab.store import streams as _streams

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

__all__ = [
    "DuplicateInfo",
    "LinkedSource",
    "delete_run",
    "duplicate_info",
    "duplicates_by_primary",
    "link_imported",
    "primaries_of",
    "relink",
    "source_facts",
]

#: record columns read for the records check of a clock-shifted pair
_CHECK_COLUMNS: tuple[str, ...] = ("time", "distance_m", "heart_rate_bpm", "lat_deg", "lon_deg")


def source_facts(store: Store, row: ActivityRow, imported_at: str = "") -> SourceFacts:
    """What one stored activity has (running dynamics, power, heart rate from its summary; GPS from
    its stream)."""
    pos = _streams.positions(store, row.athlete, row.id)
    gps = pos is not None and bool(np.isfinite(pos[0]).any())
    return SourceFacts.from_summary(
        row.id,
        row.summary,
        gps=gps,
        n_records=row.n_records,
        imported_at=imported_at,
        manufacturer=row.manufacturer,
    )


#: record streams kept while checking pairs (pairs are checked along chains, so two would do)
_CHECK_CACHE_SIZE = 8


def _records_agree(
    store: Store,
    athlete: str,
    pair: PairMatch,
    cache: OrderedDict[str, pd.DataFrame | None] | None = None,
) -> bool:
    """The records check of a clock-shifted pair. Only the checked columns are read; ``cache`` keeps
    the last few streams read (an activity is often in two pairs of a chain)."""
    cache = OrderedDict() if cache is None else cache
    frames = []
    for activity_id in (pair.a, pair.b):
        if activity_id in cache:
            cache.move_to_end(activity_id)
        else:
            try:
                cache[activity_id] = _streams.records_subset(store, athlete, activity_id, _CHECK_COLUMNS[1:])
            except Exception:  # a missing or unreadable stream: no evidence, no link
                cache[activity_id] = None
            while len(cache) > _CHECK_CACHE_SIZE:
                cache.popitem(last=False)
        rec = cache[activity_id]
        if rec is None:
            return False
        frames.append(rec)
    return recordings_agree(frames[0], frames[1])


def _check_order(pairs: Sequence[PairMatch]) -> list[int]:
    """The indices of the pairs that need a records check, in an order that walks their graph edge by
    edge (depth first, from the chain ends), so consecutive checks share an activity."""
    adjacent: dict[str, list[int]] = {}
    for k, p in enumerate(pairs):
        if p.needs_records:
            adjacent.setdefault(p.a, []).append(k)
            adjacent.setdefault(p.b, []).append(k)
    order: list[int] = []
    seen: set[int] = set()
    for start in sorted(adjacent, key=lambda n: (len(adjacent[n]), n)):
        stack = [start]
        while stack:
            node = stack.pop()
            for k in adjacent[node]:
                if k in seen:
                    continue
                seen.add(k)
                order.append(k)
                stack.append(pairs[k].b if pairs[k].a == node else pairs[k].a)
    return order


def relink(store: Store, athlete: str, seeds: Iterable[str]) -> list[DuplicateLink]:
    """Recompute the duplicate links of the activities ``seeds`` could be the same as (a closed set)
    and store them (one transaction, nothing written when unchanged). Returns the links of that set."""
    seeds = list(seeds)
    if not seeds:
        return []
    members, pairs = candidate_pairs(_links.activity_spans(store, athlete), seeds)
    return _decide_and_store(store, athlete, members, pairs)


def _decide_and_store(
    store: Store, athlete: str, members: set[str], pairs: Sequence[PairMatch]
) -> list[DuplicateLink]:
    cache: OrderedDict[str, pd.DataFrame | None] = OrderedDict()
    agree = {k: _records_agree(store, athlete, pairs[k], cache) for k in _check_order(pairs)}
    cache.clear()
    confirmed = [p for k, p in enumerate(pairs) if not p.needs_records or agree[k]]
    grouped = {i for p in confirmed for i in (p.a, p.b)}
    when = _links.imported_at(store, athlete, grouped)
    facts = [source_facts(store, store.activity(athlete, i), when.get(i, "")) for i in sorted(grouped)]
    links = choose_primaries(facts, confirmed)
    _links.replace_links(store, athlete, members, links)
    return links


def link_imported(
    store: Store, athlete: str, imported: Iterable[tuple[str, str]], *, keep: bool = False
) -> list[DuplicateLink]:
    """Link the activities just imported (``(path, activity id)`` pairs, e.g.
    ``ImportResult.imported``) to the same activities from other sources; with ``keep`` (``import
    --keep-duplicates``) mark them as never linked instead. Ids that are not stored activities (IMU
    recordings) are ignored. Returns the links of the affected activities."""
    ids = list(dict.fromkeys(i for _, i in imported))
    if not ids:
        return []
    if keep:
        _links.mark_kept(store, athlete, ids)
        return []
    return relink(store, athlete, ids)


def delete_run(store: Store, athlete: str, activity_id: str) -> list[DuplicateLink]:
    """Delete one activity (full id) and re-decide its group: when it was a primary, the next richest
    of its duplicates becomes primary. Returns the links of the group after the deletion."""
    members, _ = candidate_pairs(_links.activity_spans(store, athlete), [activity_id])
    store.delete_activity(athlete, activity_id)
    members.discard(activity_id)
    if not members:
        return []
    members, pairs = candidate_pairs(_links.activity_spans(store, athlete), members)
    return _decide_and_store(store, athlete, members, pairs)


@dataclass(frozen=True, slots=True)
class LinkedSource:
    """Another stored activity linked to the one shown: its id, format, source path, what it has,
    and the reason of the link."""

    id: str
    format: str
    source_path: str | None
    has: tuple[str, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class DuplicateInfo:
    """The links of one activity: its duplicates (when primary) or its primary (when a duplicate)."""

    duplicates: tuple[LinkedSource, ...] = ()
    duplicate_of: LinkedSource | None = None


def _linked(store: Store, athlete: str, activity_id: str, reason: str) -> LinkedSource:
    row = store.activity(athlete, activity_id)
    return LinkedSource(
        id=row.id,
        format=row.format,
        source_path=row.source_path,
        has=tuple(has_labels(source_facts(store, row))),
        reason=reason,
    )


def duplicate_info(store: Store, athlete: str, activity_id: str) -> DuplicateInfo:
    """The duplicates linked to activity ``activity_id`` (full id), or the primary it is linked to."""
    own = [r for r in _links.links_of(store, athlete, ids=[activity_id]) if r.primary_id is not None]
    if own:
        primary_id = own[0].primary_id
        assert primary_id is not None
        return DuplicateInfo(duplicate_of=_linked(store, athlete, primary_id, own[0].reason))
    dups = _links.links_of(store, athlete, primaries=[activity_id])
    return DuplicateInfo(duplicates=tuple(_linked(store, athlete, r.activity_id, r.reason) for r in dups))


def duplicates_by_primary(store: Store, athlete: str) -> dict[str, list[str]]:
    """``primary id -> [duplicate ids]`` of every link of ``athlete`` (one query)."""
    out: dict[str, list[str]] = {}
    for r in _links.links_of(store, athlete):
        if r.primary_id is not None:
            out.setdefault(r.primary_id, []).append(r.activity_id)
    return out


def primaries_of(store: Store, athlete: str, ids: Iterable[str]) -> dict[str, str]:
    """``duplicate id -> primary id`` for those of ``ids`` that are linked duplicates."""
    return {
        r.activity_id: r.primary_id
        for r in _links.links_of(store, athlete, ids=ids)
        if r.primary_id is not None
    }
