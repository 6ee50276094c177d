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
    "LOAD_SUMMARY_VERSION",
    "TRIMP_COEFFICIENTS",
    "RunLoadSummary",
    "banister_trimp",
    "estimate_cp_w",
    "estimate_hr_max",
    "fitness_fatigue",
    "normalized_power_w",
    "power_stress_score",
    "run_load_summary",
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


#: raise when :func:`run_load_summary` changes what it keeps (cached summaries are then recomputed)
LOAD_SUMMARY_VERSION: Final[int] = 1
#: a run's heart rates are kept exactly up to this many distinct values, else binned to 0.1 bpm
_MAX_EXACT_HR_VALUES: Final[int] = 600


@dataclass(frozen=True, slots=True)
class RunLoadSummary:
    """What the loads of one run need from its records, independent of the runner's HRrest, HRmax and
    CP (so it can be kept per run and the loads recomputed when those change): the seconds spent at each
    heart rate (TRIMP is a sum over samples of ``dt x f(HR)``, so a sum over distinct heart rates is the
    same number), the 99th percentile of heart rate (HRmax estimate), the normalized power, the best
    40-min mean power (CP estimate) and the duration."""

    duration_s: float
    hr_bpm: tuple[float, ...]  # distinct heart rates (exact, or 0.1 bpm bins beyond 600 values)
    hr_seconds: tuple[float, ...]  # seconds spent at each
    hr_p99_bpm: float | None
    normalized_power_w: float | None
    best40_power_w: float | None
    has_heart_rate: bool
    has_power: bool

    def trimp(
        self, *, hr_rest: float, hr_max: float, sex: Literal["female", "male"] = "female"
    ) -> float | None:
        """:func:`banister_trimp` of the run (None without heart rate)."""
        if not self.has_heart_rate:
            return None
        return banister_trimp(
            np.asarray(self.hr_bpm, dtype="float64"),
            np.asarray(self.hr_seconds, dtype="float64"),
            hr_rest=hr_rest,
            hr_max=hr_max,
            sex=sex,
        )

    def power_stress(self, cp_w: float) -> float | None:
        """:func:`power_stress_score` of the run (None without power or duration)."""
        if not cp_w > 0:
            raise ValueError(f"cp_w must be positive, got {cp_w:g}")
        if self.normalized_power_w is None or not self.duration_s > 0:
            return None
        return 100.0 * (self.duration_s / 3600.0) * (self.normalized_power_w / cp_w) ** 2

    def to_dict(self) -> dict[str, object]:
        return {
            "duration_s": self.duration_s,
            "hr_bpm": list(self.hr_bpm),
            "hr_seconds": list(self.hr_seconds),
            "hr_p99_bpm": self.hr_p99_bpm,
            "normalized_power_w": self.normalized_power_w,
            "best40_power_w": self.best40_power_w,
            "has_heart_rate": self.has_heart_rate,
            "has_power": self.has_power,
        }

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> RunLoadSummary:
        """The inverse of :meth:`to_dict` (KeyError / TypeError / ValueError on a malformed dict)."""

        def opt(key: str) -> float | None:
            v = d[key]
            return None if v is None else float(v)  # type: ignore[arg-type]

        hr = tuple(float(v) for v in d["hr_bpm"])  # type: ignore[attr-defined]
        secs = tuple(float(v) for v in d["hr_seconds"])  # type: ignore[attr-defined]
        if len(hr) != len(secs):
            raise ValueError("hr_bpm and hr_seconds differ in length")
        return cls(
            duration_s=float(d["duration_s"]),  # type: ignore[arg-type]
            hr_bpm=hr,
            hr_seconds=secs,
            hr_p99_bpm=opt("hr_p99_bpm"),
            normalized_power_w=opt("normalized_power_w"),
            best40_power_w=opt("best40_power_w"),
            has_heart_rate=bool(d["has_heart_rate"]),
            has_power=bool(d["has_power"]),
        )


def run_load_summary(
    hr_bpm: np.ndarray | None, dt_s: np.ndarray, power_w: np.ndarray | None, duration_s: float
) -> RunLoadSummary:
    """The :class:`RunLoadSummary` of one run's samples: heart rate (bpm) and power (W) per sample, or
    None when the run has none, ``dt_s`` each sample's duration (pauses already clipped)."""
    dt = np.asarray(dt_s, dtype="float64")
    values: tuple[float, ...] = ()
    seconds: tuple[float, ...] = ()
    p99 = None
    if hr_bpm is not None:
        hr = np.asarray(hr_bpm, dtype="float64")
        if np.isfinite(hr).any():
            p99 = float(np.nanpercentile(hr, 99))
        ok = np.isfinite(hr) & np.isfinite(dt) & (dt > 0) & (hr > 0)
        keyed = hr[ok]
        if np.unique(keyed).size > _MAX_EXACT_HR_VALUES:
            keyed = np.round(keyed, 1)
        uniq, inverse = np.unique(keyed, return_inverse=True)
        sums = np.bincount(inverse, weights=dt[ok], minlength=uniq.size) if uniq.size else np.zeros(0)
        values, seconds = tuple(float(v) for v in uniq), tuple(float(v) for v in sums)
    np_w = best40 = None
    if power_w is not None:
        pw = np.asarray(power_w, dtype="float64")
        np_w = normalized_power_w(pw)
        if np.isfinite(pw).sum() >= 2400:
            best40 = float(pd.Series(pw).rolling(2400, min_periods=2000).mean().max())
            best40 = best40 if math.isfinite(best40) else None
    return RunLoadSummary(
        duration_s=float(duration_s),
        hr_bpm=values,
        hr_seconds=seconds,
        hr_p99_bpm=p99,
        normalized_power_w=np_w,
        best40_power_w=best40,
        has_heart_rate=hr_bpm is not None,
        has_power=power_w is not None,
    )


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
