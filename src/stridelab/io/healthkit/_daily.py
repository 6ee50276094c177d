"""Daily walking gait metrics (iPhone): walking asymmetry, double support, step length, speed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final

__all__ = ["WALKING_METRICS", "DailyGaitMetrics", "DailyGaitValue"]

#: HealthKit type -> (metric name, SI unit, quantity kind of its unit)
WALKING_METRICS: Final[dict[str, tuple[str, str, str]]] = {
    "HKQuantityTypeIdentifierWalkingAsymmetryPercentage": ("walking_asymmetry_pct", "%", "percent"),
    "HKQuantityTypeIdentifierWalkingDoubleSupportPercentage": ("walking_double_support_pct", "%", "percent"),
    "HKQuantityTypeIdentifierWalkingStepLength": ("walking_step_length_m", "m", "length"),
    "HKQuantityTypeIdentifierWalkingSpeed": ("walking_speed_m_s", "m/s", "speed"),
}


@dataclass(frozen=True, slots=True)
class DailyGaitValue:
    """One metric on one (local) day: the mean of that day's samples of one source."""

    day: str  # ISO date, the samples' local day
    metric: str
    value: float
    unit: str
    source: str
    n_samples: int


@dataclass(frozen=True, slots=True)
class DailyGaitMetrics:
    """The daily walking gait metrics of one Apple Health export (one row per day, metric, source)."""

    source_path: str | None
    values: tuple[DailyGaitValue, ...]

    @property
    def id(self) -> str:
        """A sha256 hex of the values (deterministic: the same export gives the same id)."""
        h = hashlib.sha256()
        for v in self.values:
            h.update(f"{v.day}|{v.metric}|{v.source}|{v.value!r}|{v.n_samples}\n".encode())
        return h.hexdigest()
