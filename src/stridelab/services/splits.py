"""Laps and splits of one run: per lap (as recorded) or per kilometre, every dynamic present plus
heart rate, power and elevation, each lap marked with the experiment arm tagged on it.

The numbers come from the pure :func:`stridelab.analysis.splits`; this module reads the run (its
running part) and its lap tags::

    from stridelab.services import splits
    table = splits.run_splits(store, "me", "3fa2", by="lap")   # -> SplitTable (SI)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from stridelab.analysis import SPLIT_METRICS, splits
from stridelab.lazy import lazy_module
from stridelab.services import analysis as analysis_service
from stridelab.services import experiments as experiments_service
from stridelab.store import Store

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = ["SPLIT_METRICS", "SplitTable", "run_splits"]


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
    full = store.resolve_id(athlete, run_id)
    records, laps, row = analysis_service.load_run(store, athlete, full)
    frame = splits(records, laps, by=by)
    present = tuple(k for k in SPLIT_METRICS if k in frame.columns and frame[k].notna().any())
    arms: dict[int, list[str]] = {}
    tags = experiments_service.list_tags(store, athlete, run_id=full)
    keys = {e.tag_key for e in experiments_service.list_experiments(store, athlete)} or {"cue"}
    for t in tags:
        if t.key not in keys:
            continue
        label = f"{t.key}={t.value}"
        if by == "lap" and t.scope == "lap" and t.lap_number is not None:
            arms.setdefault(t.lap_number, []).append(label)
        elif t.scope == "run":
            for n in frame["number"]:
                arms.setdefault(int(n), []).append(label)
    return SplitTable(full, row.sport, by, frame, present, arms)
