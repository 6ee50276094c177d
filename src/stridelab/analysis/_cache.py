"""Per-run analyses from the store, cached in the catalog (namespace ``analysis``).

The cache row holds :meth:`RunAnalysis.to_cache` (reference-speed independent: the fitted
coefficients and covariances, so any reference speed is a linear combination, no refit). It is keyed by
(athlete, activity id) and valid only for the current :data:`ANALYSIS_VERSION`; deleting an activity
deletes its row (foreign key, cascade).
"""

from __future__ import annotations

import json
import math
from typing import Any, Final

import numpy as np
import pandas as pd

from stridelab.analysis._config import ANALYSIS_VERSION, AnalysisConfig
from stridelab.analysis._run import RunAnalysis, analyze_run
from stridelab.store import ActivityRow, Store

__all__ = [
    "ANALYSIS_MIGRATIONS",
    "RUNNING_SPORTS",
    "analyze_activity",
    "athlete_ref_speed",
    "clear_cache",
    "is_run",
    "load_run",
]

ANALYSIS_MIGRATIONS: Final[list[str]] = [
    """
    CREATE TABLE analysis_runs (
        athlete TEXT NOT NULL,
        activity_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        computed_at TEXT NOT NULL,
        result_json TEXT NOT NULL,
        PRIMARY KEY (athlete, activity_id),
        FOREIGN KEY (athlete, activity_id) REFERENCES activities (athlete, id) ON DELETE CASCADE
    )
    """,
]

#: sports whose sessions are analysed as running
RUNNING_SPORTS: Final[frozenset[str]] = frozenset({"running", "trail_running", "treadmill_running"})
_MULTI: Final[frozenset[str]] = frozenset({"multisport", "triathlon", "transition"})
_ON_FOOT: Final[frozenset[str]] = frozenset({"walking", "hiking", "mountaineering", "snowshoeing"})


def _ensure(store: Store) -> None:
    store.ensure_schema("analysis", ANALYSIS_MIGRATIONS)


def is_run(row: ActivityRow) -> bool:
    """An activity the running analysis applies to: a run, a multisport file with a run leg, or an
    activity without sport that has running dynamics."""
    sport = (row.sport or "").lower()
    if sport in RUNNING_SPORTS:
        return True
    if sport in _MULTI:
        return bool(row.summary.get("has_running_dynamics")) or row.summary.get("speed_m_s_mean") is not None
    if sport in ("", "generic"):
        return bool(row.summary.get("has_running_dynamics"))
    return False


def load_run(store: Store, athlete: str, activity_id: str) -> tuple[pd.DataFrame, pd.DataFrame, ActivityRow]:
    """Records (only the running sessions of a multisport file), laps and catalog row of one activity."""
    row = store.activity(athlete, activity_id)
    records = store.records(athlete, row.id)
    laps = store.laps(athlete, row.id)
    sessions = pd.read_sql_query(
        "SELECT session_index, sport FROM sessions WHERE athlete = ? AND activity_id = ?",
        store.connect(),
        params=(athlete, row.id),
    )
    if len(sessions) > 1 and "session_index" in records.columns:
        run_idx = [
            int(i)
            for i, s in zip(sessions["session_index"], sessions["sport"], strict=False)
            if str(s).lower() in RUNNING_SPORTS
        ]
        if run_idx:
            records = records[records["session_index"].isin(run_idx)]
            if "sport" in laps.columns and laps["sport"].notna().any():
                laps = laps[laps["sport"].isna() | laps["sport"].astype(str).str.lower().isin(RUNNING_SPORTS)]
    return records, laps, row


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def analyze_activity(
    store: Store,
    athlete: str,
    activity_id: str,
    *,
    use_cache: bool = True,
    keep_frame: bool = False,
    config: AnalysisConfig | None = None,
) -> RunAnalysis:
    """The :class:`RunAnalysis` of a stored activity (id or unique prefix).

    With ``use_cache`` (and the default config) a cached result of the current analysis version is
    returned when present, else the run is analysed and cached. ``keep_frame=True`` (charts) always
    analyses, because the per-sample arrays are not cached.
    """
    full_id = store.resolve_id(athlete, activity_id)
    default_config = config is None or config == AnalysisConfig()
    cacheable = use_cache and default_config
    if cacheable and not keep_frame:
        _ensure(store)
        row = (
            store.connect()
            .execute(
                "SELECT version, result_json FROM analysis_runs WHERE athlete = ? AND activity_id = ?",
                (athlete, full_id),
            )
            .fetchone()
        )
        if row is not None and int(row[0]) == ANALYSIS_VERSION:
            try:
                return RunAnalysis.from_cache(json.loads(row[1]))
            except (KeyError, TypeError, ValueError):
                pass  # unreadable cache row: recompute
    records, laps, act = load_run(store, athlete, full_id)
    devices = act.summary.get("devices") or []
    analysis = analyze_run(records, laps, devices=devices, config=config, keep_frame=keep_frame)
    if not is_run(act) and (act.sport or "").lower() not in _ON_FOOT:
        analysis.flags.insert(0, "not_a_run")
        analysis.messages.insert(
            0,
            {
                "code": "not_a_run",
                "message": f"this is a {act.sport or 'untyped'} activity: the running analysis (walking, "
                "pace adjustment, zones) does not apply to it",
            },
        )
    if cacheable:
        _ensure(store)
        payload = json.dumps(_json_safe(analysis.to_cache()), allow_nan=False)
        now = pd.Timestamp.now(tz="UTC").isoformat()
        with store.transaction() as tx:
            tx.execute(
                "INSERT INTO analysis_runs (athlete, activity_id, version, computed_at, result_json) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(athlete, activity_id) DO UPDATE SET "
                "version = excluded.version, computed_at = excluded.computed_at, "
                "result_json = excluded.result_json",
                (athlete, full_id, ANALYSIS_VERSION, now, payload),
            )
    return analysis


def clear_cache(store: Store, athlete: str | None = None) -> int:
    """Drop cached analyses (of one athlete, or all). Returns the number of rows removed."""
    _ensure(store)
    with store.transaction() as tx:
        if athlete is None:
            cur = tx.execute("DELETE FROM analysis_runs")
        else:
            cur = tx.execute("DELETE FROM analysis_runs WHERE athlete = ?", (athlete,))
    return int(cur.rowcount)


def athlete_ref_speed(store: Store, athlete: str) -> float | None:
    """The athlete's median easy-run speed (m/s), from the catalog of all her runs.

    Easy runs: the runs whose mean speed is at or below the 60th percentile of her runs' mean speeds
    (tempo, races and intervals sit above it). The median of their mean speeds, rounded to 0.01 m/s.
    None when she has no run with a speed. Cheap: no records are read.
    """
    speeds = [
        float(r.summary["speed_m_s_mean"])
        for r in store.list_activities(athlete)
        if is_run(r)
        and isinstance(r.summary.get("speed_m_s_mean"), int | float)
        and math.isfinite(float(r.summary["speed_m_s_mean"]))
        and 1.5 <= float(r.summary["speed_m_s_mean"]) <= 8.0
    ]
    if not speeds:
        return None
    arr = np.asarray(speeds)
    easy = arr[arr <= np.quantile(arr, 0.6)]
    return round(float(np.median(easy if easy.size else arr)), 2)
