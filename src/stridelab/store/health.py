"""Repository of daily walking gait metrics from Apple Health (namespace ``health``, table
``health_daily_gait``): one row per athlete, day, metric and source; written by upsert, so importing
the same export again changes nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from stridelab.io.healthkit import DailyGaitMetrics
from stridelab.lazy import lazy_module
from stridelab.store._store import Store

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = ["HEALTH_MIGRATIONS", "daily_gait", "ensure_health_schema", "write_daily_gait"]

#: the ``health`` namespace. Migration i -> version i + 1.
HEALTH_MIGRATIONS: Final[list[str]] = [
    """
    CREATE TABLE health_daily_gait (
        athlete TEXT NOT NULL,
        day TEXT NOT NULL,
        metric TEXT NOT NULL,
        value REAL NOT NULL,
        unit TEXT NOT NULL,
        source TEXT NOT NULL,
        n_samples INTEGER NOT NULL,
        PRIMARY KEY (athlete, day, metric, source)
    );
    CREATE INDEX health_daily_gait_metric ON health_daily_gait (athlete, metric, day)
    """,
]


def ensure_health_schema(store: Store) -> None:
    """Create/upgrade the tables of the ``health`` namespace."""
    store.ensure_schema("health", HEALTH_MIGRATIONS)


def write_daily_gait(store: Store, athlete: str, metrics: DailyGaitMetrics) -> int:
    """Store (upsert) the daily values of ``metrics`` for ``athlete`` in one transaction; the number of
    rows that were new or changed."""
    ensure_health_schema(store)
    changed = 0
    with store.transaction() as conn:
        for v in metrics.values:
            cur = conn.execute(
                "INSERT INTO health_daily_gait (athlete, day, metric, value, unit, source, n_samples) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (athlete, day, metric, source) DO UPDATE SET value = excluded.value, "
                "unit = excluded.unit, n_samples = excluded.n_samples "
                "WHERE value != excluded.value OR n_samples != excluded.n_samples OR unit != excluded.unit",
                (athlete, v.day, v.metric, float(v.value), v.unit, v.source, int(v.n_samples)),
            )
            changed += cur.rowcount
    return changed


def daily_gait(store: Store, athlete: str, metric: str | None = None) -> pd.DataFrame:
    """The stored daily values (columns day, metric, value, unit, source, n_samples), by day."""
    ensure_health_schema(store)
    sql = "SELECT day, metric, value, unit, source, n_samples FROM health_daily_gait WHERE athlete = ?"
    args: tuple[str, ...] = (athlete,)
    if metric is not None:
        sql += " AND metric = ?"
        args = (athlete, metric)
    rows = store.connect().execute(sql + " ORDER BY day, metric, source", args).fetchall()
    return pd.DataFrame(
        [tuple(r) for r in rows], columns=["day", "metric", "value", "unit", "source", "n_samples"]
    )
