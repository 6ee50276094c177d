"""Which activities the running analysis applies to, and the pure steps around one activity's analysis.

No store here: the caller (``stridelab.services.analysis``) reads the catalog row, the records, the laps
and the sessions, and hands them in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, Protocol

from stridelab.analysis._run import RunAnalysis
from stridelab.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

__all__ = [
    "ON_FOOT_SPORTS",
    "RUNNING_SPORTS",
    "ActivityLike",
    "is_run",
    "mark_not_a_run",
    "reference_speed",
    "running_part",
]

#: sports whose sessions are analysed as running
RUNNING_SPORTS: Final[frozenset[str]] = frozenset({"running", "trail_running", "treadmill_running"})
_MULTI: Final[frozenset[str]] = frozenset({"multisport", "triathlon", "transition"})
#: on-foot sports that are analysed without the "not a run" note
ON_FOOT_SPORTS: Final[frozenset[str]] = frozenset({"walking", "hiking", "mountaineering", "snowshoeing"})


class ActivityLike(Protocol):
    """What :func:`is_run` reads of a catalog row (``stridelab.store.ActivityRow`` is one)."""

    @property
    def sport(self) -> str | None: ...

    @property
    def summary(self) -> Mapping[str, Any]: ...


def is_run(row: ActivityLike) -> bool:
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


def running_part(
    records: pd.DataFrame, laps: pd.DataFrame, sessions: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Records and laps of the running sessions only, when ``sessions`` (``session_index``, ``sport``)
    holds more than one session (a multisport file); else ``records`` and ``laps`` unchanged."""
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
    return records, laps


def mark_not_a_run(analysis: RunAnalysis, row: ActivityLike) -> RunAnalysis:
    """Flag ``analysis`` (in place, and return it) when ``row`` is neither a run nor on foot."""
    if not is_run(row) and (row.sport or "").lower() not in ON_FOOT_SPORTS:
        analysis.flags.insert(0, "not_a_run")
        analysis.messages.insert(
            0,
            {
                "code": "not_a_run",
                "message": f"this is a {row.sport or 'untyped'} activity: the running analysis (walking, "
                "pace adjustment, zones) does not apply to it",
            },
        )
    return analysis


def reference_speed(rows: Iterable[ActivityLike]) -> float | None:
    """The athlete's median easy-run speed (m/s), from the catalog rows of all her activities.

    Easy runs: the runs whose mean speed is at or below the 60th percentile of her runs' mean speeds
    (tempo, races and intervals sit above it). The median of their mean speeds, rounded to 0.01 m/s.
    None when she has no run with a speed.
    """
    speeds = [
        float(r.summary["speed_m_s_mean"])
        for r in rows
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
