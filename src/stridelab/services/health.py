"""Daily walking gait from Apple Health (iPhone): walking asymmetry, double support, step length and
walking speed per day, as the import stored them (:mod:`stridelab.store.health`).

A day measured by several sources (two iPhones) gets the mean of their daily means weighted by their
sample counts. Values stay in the stored units: percent for the two ``_pct`` metrics, metres, metres
per second; ``present.walking`` converts them for people.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Final

from stridelab.io.healthkit import WALKING_METRICS
from stridelab.lazy import lazy_module
from stridelab.store import Store
from stridelab.store import health as _health

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

__all__ = ["WALKING_METRIC_NAMES", "WalkingGait", "walking_gait"]

#: the stored metric names, in display order
WALKING_METRIC_NAMES: Final[tuple[str, ...]] = tuple(name for name, _, _ in WALKING_METRICS.values())


@dataclass(frozen=True, slots=True)
class WalkingGait:
    """Daily walking gait metrics of one athlete over a span of days."""

    #: one row per day with data (index: ``datetime.date``), one column per metric of
    #: :data:`WALKING_METRIC_NAMES` (NaN: not measured that day), plus ``n_samples`` (all metrics)
    daily: pd.DataFrame
    #: the days asked for (inclusive); None when nothing is stored
    first_day: date | None
    last_day: date | None
    sources: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return self.daily.empty

    def means(self) -> dict[str, float | None]:
        """Each metric's mean over the days that have it (None: no day has it)."""
        out: dict[str, float | None] = {}
        for name in WALKING_METRIC_NAMES:
            v = self.daily[name].to_numpy(dtype="float64") if name in self.daily else np.zeros(0)
            v = v[np.isfinite(v)]
            out[name] = float(v.mean()) if len(v) else None
        return out


def walking_gait(store: Store, athlete: str, days: int | None = None) -> WalkingGait:
    """The stored daily walking gait of ``athlete``: every day, or the ``days`` calendar days ending on
    the last day with data (an export is often older than today). ``days`` must be >= 1."""
    if days is not None and days < 1:
        raise ValueError(f"Invalid value for 'days': at least 1 day, but got {days} instead.")
    rows = _health.daily_gait(store, athlete)
    rows = rows[rows["metric"].isin(WALKING_METRIC_NAMES)]
    if rows.empty:
        return WalkingGait(_empty_daily(), None, None, ())
    rows = rows.assign(day=pd.to_datetime(rows["day"]).dt.date)
    last = max(rows["day"])
    first = min(rows["day"]) if days is None else last - timedelta(days=days - 1)
    rows = rows[rows["day"] >= first]
    weighted = rows.assign(w=rows["value"] * rows["n_samples"])
    per = weighted.groupby(["day", "metric"])[["w", "n_samples"]].sum()
    values = (per["w"] / per["n_samples"]).unstack("metric")
    daily = values.reindex(columns=list(WALKING_METRIC_NAMES)).astype("float64")
    daily["n_samples"] = per["n_samples"].groupby(level="day").sum().astype("int64")
    daily.index.name = "day"
    daily.columns.name = None
    return WalkingGait(daily.sort_index(), first, last, tuple(sorted(set(rows["source"]))))


def _empty_daily() -> pd.DataFrame:
    frame = pd.DataFrame({name: np.zeros(0) for name in WALKING_METRIC_NAMES})
    frame["n_samples"] = np.zeros(0, dtype="int64")
    frame.index.name = "day"
    return frame
