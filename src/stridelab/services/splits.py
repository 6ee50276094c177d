"""Laps and splits of one run: per lap (as recorded) or per kilometre, every dynamic present plus
heart rate, power and elevation, each lap marked with the experiment arm tagged on it.

The numbers come from the pure :func:`stridelab.analysis.splits`; this module reads the run (its
running part) and its lap tags::

    from stridelab.services import splits
    table = splits.run_splits(store, "me", "3fa2", by="lap")   # -> SplitTable (SI)
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from stridelab.analysis import SPLIT_METRICS, splits
from stridelab.lazy import lazy_module
from stridelab.services import analysis as analysis_service
from stridelab.services import experiments as experiments_service
from stridelab.store import Store
from stridelab.store import cache as _cache

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = ["SPLIT_METRICS", "SplitMemo", "SplitTable", "run_splits", "split_tables"]


@dataclass(frozen=True, slots=True)
class SplitTable:
    """The splits of one run (SI columns, see :func:`stridelab.analysis.splits`), the run's sport,
    the metrics present in at least one split, and per split the experiment arms tagged on it
    (``cue=push-behind``; a whole-run tag marks every split)."""

    run_id: str
    sport: str | None
    by: Literal["lap", "km", "mi"]
    frame: pd.DataFrame
    metrics: tuple[str, ...]
    arms: dict[int, list[str]]


def run_splits(
    store: Store, athlete: str, run_id: str, *, by: Literal["lap", "km", "mi"] = "lap"
) -> SplitTable:
    """The splits of a stored run (id or unique prefix; raises ``StoreError``)."""
    return split_tables(store, athlete, run_id, (by,))[0]


#: a caller's memo of split frames (:func:`split_tables`): (run id, by, store fingerprint) -> frame
SplitMemo = MutableMapping[tuple[str, str, str], "pd.DataFrame"]


def split_tables(
    store: Store,
    athlete: str,
    run_id: str,
    by: Sequence[Literal["lap", "km", "mi"]],
    *,
    memo: SplitMemo | None = None,
) -> list[SplitTable]:
    """The splits of a stored run for each of ``by`` (id or unique prefix; raises ``StoreError``),
    reading the run once. ``memo`` (the dashboard's): split frames kept under the store's fingerprint
    of the athlete's runs (:func:`stridelab.store.cache.current_fingerprint`, which changes with any
    import, deletion or rewritten stream), so a run page seen again reads no records; the experiment
    arms are read from the tags every time (tags change without touching the runs)."""
    full = store.resolve_id(athlete, run_id)
    fingerprint = _cache.current_fingerprint(store, athlete) if memo is not None else ""
    frames: dict[str, pd.DataFrame] = {}
    for b in by:
        got = memo.get((full, b, fingerprint)) if memo is not None else None
        if got is not None:
            frames[b] = got
    sport: str | None
    if len(frames) < len(set(by)):
        records, laps, row = analysis_service.load_run(store, athlete, full)
        sport = row.sport
        for b in by:
            if b not in frames:
                frames[b] = splits(records, laps, by=b)
                if memo is not None:
                    memo[(full, b, fingerprint)] = frames[b]
    else:
        sport = store.activity(athlete, full).sport
    tags = experiments_service.list_tags(store, athlete, run_id=full)
    keys = {e.tag_key for e in experiments_service.list_experiments(store, athlete)} or {"cue"}
    return [_table(full, sport, b, frames[b], tags, keys) for b in by]


def _table(
    full: str,
    sport: str | None,
    by: Literal["lap", "km", "mi"],
    frame: pd.DataFrame,
    tags: Sequence[Any],
    keys: set[str],
) -> SplitTable:
    present = tuple(k for k in SPLIT_METRICS if k in frame.columns and frame[k].notna().any())
    arms: dict[int, list[str]] = {}
    for t in tags:
        if t.key not in keys:
            continue
        label = f"{t.key}={t.value}"
        if by == "lap" and t.scope == "lap" and t.lap_number is not None:
            arms.setdefault(t.lap_number, []).append(label)
        elif t.scope == "run":
            for n in frame["number"]:
                arms.setdefault(int(n), []).append(label)
    return SplitTable(full, sport, by, frame, present, arms)
