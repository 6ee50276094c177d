"""Load beyond kilometres: heart-rate TRIMP, a power stress score, and fitness/fatigue (ATL/CTL/TSB).

Pure: arrays and daily series in, numbers out (``stridelab.services.training.fitness`` reads the runs).

* **TRIMP** (Banister 1991; Morton, Fitz-Clarke & Banister 1990): ``sum dt_min x HRr x k1 x e^(k2 HRr)``
  with the heart-rate reserve fraction ``HRr = (HR - HRrest) / (HRmax - HRrest)`` clipped to [0, 1];
  ``k1, k2 = 0.64, 1.92`` (men) or ``0.86, 1.67`` (women). It needs the runner's resting and maximal
  heart rate: given, or HRmax estimated as the highest 99th percentile of her runs' heart rate and
  HRrest 60 bpm -- said as an assumption wherever it is used.
* **Power stress score**: Coggan's TSS formula applied to running power, ``100 x hours x IF^2`` with
  ``IF = NP / CP`` (NP: 4th-power mean of the 30-s rolling average power). It is *not* Stryd's
  proprietary RSS, whose formula is not published; CP is given, or estimated as the highest 40-min
  rolling mean power of the runs (an assumption, said so).
* **Fitness / fatigue** (Banister's impulse-response model as used in the performance-management
  chart): exponentially weighted daily load, ``CTL`` over 42 days ("fitness"), ``ATL`` over 7 days
  ("fatigue"), ``TSB = CTL - ATL`` of the day before ("form"). These are descriptive averages; the
  model's predictions of performance fit individual athletes poorly (Hellard et al. 2006).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from stridelab.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

__all__ = [
    "ATL_DAYS",
    "CTL_DAYS",
    "FITNESS_CAVEATS",
    "TRIMP_COEFFICIENTS",
    "banister_trimp",
    "estimate_cp_w",
    "estimate_hr_max",
    "fitness_fatigue",
    "normalized_power_w",
    "power_stress_score",
    "weekly_ratios",
]

ATL_DAYS: Final[int] = 7
CTL_DAYS: Final[int] = 42
#: sex -> (k1, k2) of Banister's TRIMP weighting
TRIMP_COEFFICIENTS: Final[dict[str, tuple[float, float]]] = {"female": (0.86, 1.67), "male": (0.64, 1.92)}
FITNESS_CAVEATS: Final[tuple[str, ...]] = (
    "TRIMP weights time by heart-rate reserve (Banister); it depends on your resting and maximal heart "
    "rate -- estimated when not given -- and heart rate lags effort, drifts in heat and is unreliable "
    "from wrist sensors in intervals.",
    "The power stress score uses Coggan's TSS formula with critical power as the threshold; it is not "
    "Stryd's RSS (unpublished) and needs a sensible CP.",
    "CTL/ATL/TSB are exponentially weighted averages of daily load (42 and 7 days). They describe "
    "recent load; as predictions of performance the impulse-response model fits individuals poorly.",
)


def banister_trimp(
    hr_bpm: np.ndarray,
    dt_s: np.ndarray,
    *,
    hr_rest: float,
    hr_max: float,
    sex: Literal["female", "male"] = "female",
) -> float:
    """Banister's TRIMP of one session: per sample ``dt_min x HRr x k1 x exp(k2 x HRr)``, summed
    (samples without heart rate add nothing). Raises ValueError when ``hr_max <= hr_rest``."""
    if not hr_max > hr_rest:
        raise ValueError(f"hr_max ({hr_max:g}) must be above hr_rest ({hr_rest:g})")
    k1, k2 = TRIMP_COEFFICIENTS[sex]
    hr = np.asarray(hr_bpm, dtype="float64")
    dt = np.asarray(dt_s, dtype="float64") / 60.0
    ok = np.isfinite(hr) & np.isfinite(dt) & (dt > 0) & (hr > 0)
    hrr = np.clip((hr[ok] - hr_rest) / (hr_max - hr_rest), 0.0, 1.0)
    return float(np.sum(dt[ok] * hrr * k1 * np.exp(k2 * hrr)))


def estimate_hr_max(per_run_p99: list[float]) -> float | None:
    """Maximal heart rate estimated as the highest of the runs' 99th-percentile heart rates."""
    ok = [v for v in per_run_p99 if v is not None and math.isfinite(v) and v > 0]
    return max(ok) if ok else None


def normalized_power_w(power_w: np.ndarray, dt_s: float = 1.0) -> float | None:
    """Normalized power: the 4th-power mean of the 30-s rolling mean (1 Hz samples assumed when
    ``dt_s`` is 1); None with fewer than 30 s of power."""
    p = pd.Series(np.asarray(power_w, dtype="float64")).where(lambda s: s >= 0)
    window = max(1, round(30.0 / dt_s))
    if p.notna().sum() < window:
        return None
    rolled = p.rolling(window, min_periods=window).mean().dropna().to_numpy()
    return float(np.mean(rolled**4) ** 0.25) if rolled.size else None


def power_stress_score(
    power_w: np.ndarray, duration_s: float, cp_w: float, dt_s: float = 1.0
) -> float | None:
    """``100 x hours x (NP / CP)^2`` (Coggan's TSS with CP as threshold); None without power."""
    if not cp_w > 0:
        raise ValueError(f"cp_w must be positive, got {cp_w:g}")
    np_w = normalized_power_w(power_w, dt_s)
    if np_w is None or not duration_s > 0:
        return None
    return 100.0 * (duration_s / 3600.0) * (np_w / cp_w) ** 2


def estimate_cp_w(per_run_best40_w: list[float]) -> float | None:
    """Critical power estimated as the highest 40-min rolling mean power of the runs."""
    ok = [v for v in per_run_best40_w if v is not None and math.isfinite(v) and v > 0]
    return max(ok) if ok else None


@dataclass(frozen=True, slots=True)
class _Consts:
    atl: float
    ctl: float


def fitness_fatigue(
    daily_load: pd.Series, *, atl_days: int = ATL_DAYS, ctl_days: int = CTL_DAYS
) -> pd.DataFrame:
    """ATL, CTL and TSB per day from a daily load series (index: consecutive days, missing days = 0):
    ``X_t = X_{t-1} + (load_t - X_{t-1}) / days`` from 0, and ``TSB_t = CTL_{t-1} - ATL_{t-1}``."""
    load = pd.to_numeric(daily_load, errors="coerce").fillna(0.0).astype("float64")
    c = _Consts(1.0 / atl_days, 1.0 / ctl_days)
    atl = load.ewm(alpha=c.atl, adjust=False).mean() if len(load) else load
    ctl = load.ewm(alpha=c.ctl, adjust=False).mean() if len(load) else load
    # pandas' ewm starts from the first value; the model starts from 0 before the first day
    if len(load):
        first = float(load.iloc[0])
        decay_a = (1.0 - c.atl) ** np.arange(1, len(load) + 1)
        decay_c = (1.0 - c.ctl) ** np.arange(1, len(load) + 1)
        atl = atl - first * decay_a
        ctl = ctl - first * decay_c
    tsb = (ctl - atl).shift(1).fillna(0.0)
    return pd.DataFrame({"load": load, "atl": atl, "ctl": ctl, "tsb": tsb}, index=load.index)


def weekly_ratios(daily: pd.DataFrame) -> pd.DataFrame:
    """Monday-Sunday sums of a daily load (from :func:`fitness_fatigue`), the change on the previous
    week (%) -- the 10 % rule applied to this load -- and the rolling 7:28-day ACWR at the week's last
    day (None before 28 days of history)."""
    load = daily["load"]
    idx = pd.DatetimeIndex(load.index)
    week = (idx - pd.to_timedelta(idx.day_of_week, unit="D")).normalize()
    sums = load.groupby(week).sum()
    last_day = pd.Series(idx, index=idx).groupby(week).max()
    acute = load.rolling(7, min_periods=7).sum()
    chronic = load.rolling(28, min_periods=28).sum() / 4.0
    acwr = (acute / chronic.where(chronic > 0)).reindex(last_day.to_numpy())
    prev = sums.shift(1)
    change = (100.0 * (sums - prev) / prev.where(prev > 0)).round(1)
    return pd.DataFrame(
        {
            "week_start": [d.date() for d in pd.DatetimeIndex(sums.index)],
            "load": sums.to_numpy(),
            "change_pct": change.to_numpy(),
            "acwr": acwr.round(2).to_numpy(),
        }
    )
