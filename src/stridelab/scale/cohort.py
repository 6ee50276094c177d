"""Coach views: every athlete of a dataset root in one row, from one DuckDB scan of the summaries.

Per athlete (runs with a GCT balance and a speed): the mean balance (LEFT foot's share of ground
contact, %), the **pace-adjusted balance** (balance regressed on mean speed over the athlete's runs,
read at :data:`REF_SPEED_M_S`, so an athlete who ran faster lately is compared at the same pace), the
**trend** (slope of balance over time, per 30 days, with its 95 % t interval), the **drift** (mean of
the last :data:`RECENT_DAYS` days minus the mean before them), **plan adherence** (with a store: the
athlete's active training plan, sessions done + half the partial ones over the sessions due, from the
catalog's training logs -- :func:`stridelab.services.training.plan_adherence`) and **flags**.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

from scipy import stats

from stridelab.services.training import plan_adherence
from stridelab.store import Store
from stridelab.store.scale import cohort_table

__all__ = ["RECENT_DAYS", "REF_SPEED_M_S", "CohortRow", "cohort"]

#: the pace at which balances are compared (3.33 m/s = 5:00 min/km)
REF_SPEED_M_S: Final = 10.0 / 3.0
#: the window of the drift
RECENT_DAYS: Final = 28.0
#: |adjusted balance - 50| above this flags an asymmetry (percentage points)
ASYMMETRY_PCT: Final = 1.5
#: |drift| above this flags a drift (percentage points)
DRIFT_PCT: Final = 1.0
#: fewer runs than this: too few to judge
MIN_RUNS: Final = 5
#: plan adherence below this (%, of at least :data:`MIN_DUE` sessions due) flags it
LOW_ADHERENCE_PCT: Final = 60.0
#: sessions due before adherence is judged
MIN_DUE: Final = 4


@dataclass(frozen=True, slots=True)
class CohortRow:
    """One athlete of the cohort (balances in % LEFT, trend in percentage points per 30 days)."""

    athlete: str
    n_runs: int
    balance_mean_pct: float | None
    balance_adjusted_pct: float | None
    trend_pct_per_30d: float | None
    trend_low: float | None
    trend_high: float | None
    drift_pct: float | None
    first_run: str | None
    last_run: str | None
    flags: tuple[str, ...]
    #: the active plan's adherence up to today (%), None without a plan or a store
    adherence_pct: float | None = None
    #: sessions of the active plan due up to today (None without a plan or a store)
    sessions_due: int | None = None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["flags"] = list(self.flags)
        return out


def _finite(x: Any) -> float | None:
    return float(x) if x is not None and math.isfinite(float(x)) else None


def _trend(row: dict[str, Any]) -> tuple[float | None, float | None, float | None]:
    slope, n, sxx, syy = row["slope_day"], row["trend_n"], row["sxx_day"], row["syy_b"]
    if slope is None or n is None or n < 3 or not sxx:
        return _finite(row["trend_per_30d"]), None, None
    resid = max(float(syy) - float(slope) ** 2 * float(sxx), 0.0) / (n - 2)
    se = math.sqrt(resid / float(sxx)) * 30.0
    t = float(stats.t.ppf(0.975, n - 2))
    mid = float(slope) * 30.0
    return mid, mid - t * se, mid + t * se


def _flags(n: int, adjusted: float | None, trend: tuple[float | None, ...], drift: float | None) -> list[str]:
    flags: list[str] = []
    if n < MIN_RUNS:
        flags.append("few runs")
    if adjusted is not None and abs(adjusted - 50.0) > ASYMMETRY_PCT:
        flags.append("asymmetry " + ("left" if adjusted > 50.0 else "right"))
    mid, low, high = trend
    if (
        adjusted is not None
        and mid is not None
        and low is not None
        and high is not None
        and (low > 0 or high < 0)
    ):
        away = (mid > 0) == (adjusted >= 50.0)
        flags.append("worsening" if away else "improving")
    if drift is not None and abs(drift) > DRIFT_PCT:
        flags.append("drift")
    return flags


def _adherence(store: Store | None, athlete: str, today: date | None) -> tuple[float | None, int | None]:
    if store is None:
        return None, None
    adh = plan_adherence(store, athlete, today or date.today())
    if adh is None:
        return None, None
    return adh["adherence_pct"], int(adh["due"])


def cohort(
    dataset_root: str | Path,
    *,
    store: Store | None = None,
    today: date | None = None,
    ref_speed_m_s: float = REF_SPEED_M_S,
    recent_days: float = RECENT_DAYS,
) -> list[CohortRow]:
    """The cohort of the datasets under ``dataset_root`` (one DuckDB query; see the module docstring),
    with each athlete's plan adherence up to ``today`` (default: the local date) when ``store`` is given.

    Raises FileNotFoundError when there is no summaries dataset there."""
    out: list[CohortRow] = []
    for row in cohort_table(dataset_root, ref_speed_m_s=ref_speed_m_s, recent_days=recent_days):
        n = int(row["n_runs"])
        adjusted = _finite(row["balance_adjusted"]) if n >= 3 else _finite(row["balance_mean"])
        trend = _trend(row)
        recent, before = _finite(row["recent_mean"]), _finite(row["before_mean"])
        drift = recent - before if recent is not None and before is not None else None
        adherence_pct, due = _adherence(store, str(row["athlete"]), today)
        flags = _flags(n, adjusted, trend, drift)
        if (
            adherence_pct is not None
            and due is not None
            and due >= MIN_DUE
            and adherence_pct < LOW_ADHERENCE_PCT
        ):
            flags.append("low adherence")
        out.append(
            CohortRow(
                athlete=str(row["athlete"]),
                n_runs=n,
                balance_mean_pct=_finite(row["balance_mean"]),
                balance_adjusted_pct=adjusted,
                trend_pct_per_30d=trend[0],
                trend_low=trend[1],
                trend_high=trend[2],
                drift_pct=drift,
                first_run=str(row["first_run"]) if row["first_run"] is not None else None,
                last_run=str(row["last_run"]) if row["last_run"] is not None else None,
                flags=tuple(flags),
                adherence_pct=adherence_pct,
                sessions_due=due,
            )
        )
    return out
