"""Apple Health exports (``export.zip`` / ``export.xml``): workouts -> :class:`~stridelab.model.Activity`
(running form samples in SI, route positions), iPhone walking gait -> :class:`DailyGaitMetrics`."""

from __future__ import annotations

from stridelab.io.healthkit._daily import WALKING_METRICS, DailyGaitMetrics, DailyGaitValue
from stridelab.io.healthkit._export import RECORD_TYPES, HealthExportError, read_export
from stridelab.io.healthkit._reader import HealthKitReader
from stridelab.io.healthkit._units import parse_time_ns

__all__ = [
    "RECORD_TYPES",
    "WALKING_METRICS",
    "DailyGaitMetrics",
    "DailyGaitValue",
    "HealthExportError",
    "HealthKitReader",
    "parse_time_ns",
    "read_export",
]
