"""Across runs: the per-run table, rolling medians, robust trends, weekly aggregates and the
"this month vs last month at the same pace" comparison.

Pure: the per-run table comes in (one row per run, built by ``stridelab.services.analysis.run_table`` from
cached analyses, so a trend over hundreds of runs does not refit); only its balance columns (% left,
SI-like) and ``running_s`` are read here.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

from stridelab.analysis._metrics import BALANCE_ZONE_NAMES
from stridelab.analysis._run import Estimate
from stridelab.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

__all__ = [
    "MonthComparison",
    "TrendAnalysis",
    "TrendLine",
    "pooled_estimate",
    "robust_trend",
    "trend_analysis",
]

_DAYS_PER_MONTH = 30.0


@dataclass(frozen=True, slots=True)
class TrendLine:
    """A robust linear trend: change per 30 days with its CI, the fitted line's ends, the method."""

    slope_per_30d: Estimate
    intercept: float  # value at the first run
    first_day: pd.Timestamp
    n: int
    method: str

    def value_at(self, when: pd.Timestamp) -> float:
        days = (pd.Timestamp(when) - self.first_day).total_seconds() / 86400.0
        return self.intercept + self.slope_per_30d.estimate * days / _DAYS_PER_MONTH


@functools.lru_cache(maxsize=64)
def _kendall_null_cdf(n: int) -> np.ndarray:
    """P(number of discordant pairs <= k), k = 0..n(n-1)/2, for n exchangeable values without ties:
    the Mahonian distribution of inversions of a random permutation, by the product of generating
    functions prod_j (1 + q + ... + q^(j-1)) / j (probabilities, so no factorial overflows)."""
    pmf = np.ones(1)
    for j in range(2, n + 1):
        pmf = np.convolve(pmf, np.full(j, 1.0 / j))
    return np.cumsum(pmf)


def _sen_interval(days: np.ndarray, y: np.ndarray, confidence: float) -> tuple[float, float, float] | None:
    """Theil–Sen slope with Sen's distribution-free interval: (slope, low, high), or None when no rank
    interval reaches ``confidence`` with these few runs (4 runs: at best 1 - 2/4! = 91.7 %).

    The interval holds the pairwise slopes between the k-th smallest and the k-th largest, k the largest
    count with 2 P(D <= k - 1) <= 1 - confidence, D the number of discordant pairs of n exchangeable
    values (Kendall's null distribution, exact up to 60 runs, normal beyond). It is exact for any
    continuous distribution of independent, identically distributed deviations from the line (heavy
    tails included) and is the inversion of Kendall's tau test of "no trend".
    """
    i, j = np.triu_indices(days.size, k=1)
    dx = days[j] - days[i]
    keep = dx != 0
    slopes = np.sort((y[j] - y[i])[keep] / dx[keep])
    n_pairs = slopes.size
    if n_pairs == 0:
        return None
    alpha = 1.0 - confidence
    n = days.size
    if n <= 60 and n_pairs == n * (n - 1) // 2:
        cdf = _kendall_null_cdf(n)
        ok = np.flatnonzero(2.0 * cdf <= alpha + 1e-12)
        if ok.size == 0:
            return None
        k = int(ok[-1]) + 1  # P(D <= k - 1) = cdf[k - 1]
    else:
        # normal approximation of Kendall's S (ties in time: the tied pairs are left out, as in
        # scipy.stats.theilslopes)
        var_s = n * (n - 1) * (2 * n + 5) / 18.0
        _, counts = np.unique(days, return_counts=True)
        var_s -= float(np.sum(counts * (counts - 1) * (2 * counts + 5))) / 18.0
        z = NormalDist().inv_cdf(1.0 - alpha / 2.0)
        k = int(np.floor((n_pairs - z * np.sqrt(max(var_s, 0.0))) / 2.0))
        if k < 1:
            return None
    slope = float(np.median(slopes))
    return slope, float(slopes[k - 1]), float(slopes[n_pairs - k])


def robust_trend(times: pd.Series, values: pd.Series, confidence: float = 0.95) -> TrendLine | None:
    """Robust linear trend of ``values`` on time in days; slope per 30 days with a small-sample CI.

    Method: the Theil–Sen slope (median of the pairwise slopes, ``scipy.stats.theilslopes``; a
    sensor-glitch run moves it little) with Sen's distribution-free interval from Kendall's *exact*
    null distribution (:func:`_sen_interval`). Why not a regression with a t quantile: the previous
    Huber RLM with the normal quantile called 23 % of trend-free 4–5-run windows a trend, 13.5 % at
    8, 10 % at 12 (5 % expected); RLM's robust SE from a handful of residuals is too small, so even
    t(n-2) on it leaves 9–12 % at 4–5 runs and 7.5 % at 8 (1 500 simulated windows each; the former
    method beside the new one: ``bench/validate_trends.py``). The rank interval needs no scale estimate:
    its coverage is exact for independent, identically distributed deviations of any continuous
    distribution (normal or heavy-tailed), conservative by the discreteness of Kendall's statistic.

    With 4 runs no rank interval reaches 95 % (the widest, min to max pairwise slope, covers
    1 - 2/4! = 91.7 %): then ordinary least squares with the t(n-2) interval (exact for normal
    deviations; 5–6 % false trends under heavy tails), ``method`` says which was used.

    ``slope_per_30d.se`` of the rank interval is its half-width over the normal quantile (an
    equivalent SE, for display only). None with fewer than 4 finite values or all on one day."""
    t = pd.to_datetime(pd.Series(times), utc=True)
    y = pd.to_numeric(pd.Series(values), errors="coerce")
    ok = (y.notna() & t.notna()).to_numpy()
    if ok.sum() < 4:
        return None
    t0 = t[ok].min()
    days = ((t[ok] - t0).dt.total_seconds() / 86400.0).to_numpy(dtype="float64")
    yv = y[ok].to_numpy(dtype="float64")
    if np.ptp(days) < 1.0:
        return None
    sen = _sen_interval(days, yv, confidence)
    if sen is not None:
        slope, lo, hi = sen
        intercept = float(np.median(yv) - slope * np.median(days))  # as scipy.stats.theilslopes
        z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
        se = (hi - lo) / (2.0 * z) if z > 0 else 0.0
        method = "Theil-Sen"
    else:
        n = yv.size
        slope_ols, intercept = (float(c) for c in np.polyfit(days, yv, 1))
        resid = yv - (intercept + slope_ols * days)
        sxx = float(np.sum((days - days.mean()) ** 2))
        se = math.sqrt(float(resid @ resid) / (n - 2) / sxx)
        from scipy import stats

        q = float(stats.t.ppf(0.5 + confidence / 2.0, n - 2))
        slope, lo, hi = slope_ols, slope_ols - q * se, slope_ols + q * se
        method = f"least squares, t({n - 2})"
    f = _DAYS_PER_MONTH
    return TrendLine(
        slope_per_30d=Estimate(slope * f, lo * f, hi * f, se * f),
        intercept=intercept,
        first_day=pd.Timestamp(t0),
        n=int(ok.sum()),
        method=method,
    )


def pooled_estimate(estimates: np.ndarray, ses: np.ndarray) -> tuple[float, float, float] | None:
    """DerSimonian–Laird random-effects pooled mean of per-run estimates: (mean, se, tau).

    Runs differ by more than their within-run SE (sleep, shoes, route...), so the between-run
    variance tau^2 is estimated and added; with one run it is that run's estimate and SE.
    """
    ok = np.isfinite(estimates) & np.isfinite(ses) & (ses > 0)
    y, s = estimates[ok], ses[ok]
    if y.size == 0:
        return None
    if y.size == 1:
        return float(y[0]), float(s[0]), 0.0
    w = 1.0 / s**2
    mean_fe = float(np.sum(w * y) / np.sum(w))
    q = float(np.sum(w * (y - mean_fe) ** 2))
    c = float(np.sum(w) - np.sum(w**2) / np.sum(w))
    tau2 = max(0.0, (q - (y.size - 1)) / c) if c > 0 else 0.0
    wr = 1.0 / (s**2 + tau2)
    mean = float(np.sum(wr * y) / np.sum(wr))
    return mean, float(math.sqrt(1.0 / np.sum(wr))), math.sqrt(tau2)


def _common_tau2(groups: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Between-run variance shared by the groups (method of moments, DerSimonian-Laird with a mean per
    group): every group lends its runs' scatter, so a month with one run still gets run-to-run
    variation in its SE instead of only its within-run SE."""
    q = 0.0
    c = 0.0
    k = 0
    for y, s in groups:
        if y.size == 0:
            continue
        w = 1.0 / s**2
        m = float(np.sum(w * y) / np.sum(w))
        q += float(np.sum(w * (y - m) ** 2))
        c += float(np.sum(w) - np.sum(w**2) / np.sum(w))
        k += y.size - 1
    return max(0.0, (q - k) / c) if c > 0 else 0.0


def _random_effects_mean(y: np.ndarray, s: np.ndarray, tau2: float) -> tuple[float, float, float]:
    wr = 1.0 / (s**2 + tau2)
    return float(np.sum(wr * y) / np.sum(wr)), float(math.sqrt(1.0 / np.sum(wr))), math.sqrt(tau2)


@dataclass(frozen=True, slots=True)
class MonthComparison:
    """Balance at the reference speed, this calendar month vs the previous one (pooled over runs)."""

    this_month: str
    last_month: str
    n_this: int
    n_last: int
    this_at_ref: float | None
    last_at_ref: float | None
    difference: Estimate | None
    this_raw_median: float | None
    last_raw_median: float | None
    message: str | None = None


def _month_comparison(
    table: pd.DataFrame, now: pd.Timestamp | None, confidence: float
) -> MonthComparison | None:
    from scipy import stats

    if not len(table) or "balance_at_ref_speed_left_pct" not in table.columns:
        return None
    starts = pd.to_datetime(table["start_time"], utc=True)
    ref_day = pd.Timestamp(now) if now is not None else starts.max()
    if ref_day.tzinfo is None:
        ref_day = ref_day.tz_localize("UTC")
    this_p = ref_day.tz_convert("UTC").tz_localize(None).to_period("M")
    last_p = this_p - 1
    periods = starts.dt.tz_localize(None).dt.to_period("M")
    out: dict[str, Any] = {}
    for name, p in (("this", this_p), ("last", last_p)):
        sub = table[(periods == p).to_numpy()]
        est = pd.to_numeric(sub["balance_at_ref_speed_left_pct"], errors="coerce").to_numpy(dtype="float64")
        se = pd.to_numeric(sub["balance_at_ref_speed_se_pp"], errors="coerce").to_numpy(dtype="float64")
        raw = pd.to_numeric(sub["balance_mean_left_pct"], errors="coerce").dropna()
        ok = np.isfinite(est) & np.isfinite(se) & (se > 0)
        out[name] = (est[ok], se[ok], int(np.isfinite(est).sum()), float(raw.median()) if len(raw) else None)
    (y_this, s_this, n_this, raw_this), (y_last, s_last, n_last, raw_last) = out["this"], out["last"]
    p_this = p_last = None
    diff = None
    message = None
    if y_this.size and y_last.size:
        tau2 = _common_tau2([(y_this, s_this), (y_last, s_last)])
        p_this = _random_effects_mean(y_this, s_this, tau2)
        p_last = _random_effects_mean(y_last, s_last, tau2)
        df = y_this.size + y_last.size - 2
        if df >= 1:
            t = float(stats.t.ppf(0.5 + confidence / 2.0, df))
            d = p_this[0] - p_last[0]
            d_se = math.sqrt(p_this[1] ** 2 + p_last[1] ** 2)
            diff = Estimate(d, d - t * d_se, d + t * d_se, d_se)
        else:
            message = (
                "one run in each month: the run-to-run variation cannot be estimated, so the two months "
                "cannot be compared yet"
            )
    else:
        message = "need pace-adjusted balance in both months to compare"
    return MonthComparison(
        this_month=str(this_p),
        last_month=str(last_p),
        n_this=n_this,
        n_last=n_last,
        this_at_ref=p_this[0] if p_this else None,
        last_at_ref=p_last[0] if p_last else None,
        difference=diff,
        this_raw_median=raw_this,
        last_raw_median=raw_last,
        message=message,
    )


@dataclass(slots=True)
class TrendAnalysis:
    """Result of :func:`trend_analysis`."""

    table: pd.DataFrame
    ref_speed_m_s: float | None
    raw_trend: TrendLine | None
    adjusted_trend: TrendLine | None
    weekly: pd.DataFrame
    month: MonthComparison | None
    window_runs: int
    messages: list[str] = field(default_factory=list)


def trend_analysis(
    table: pd.DataFrame,
    ref_speed_m_s: float | None,
    *,
    window_runs: int = 5,
    now: pd.Timestamp | None = None,
    confidence: float = 0.95,
) -> TrendAnalysis:
    """Rolling medians (``window_runs`` runs, trailing), robust trends of raw and pace-adjusted
    balance, ISO-week aggregates and the month comparison, from a per-run table
    (``stridelab.services.analysis.run_table``)."""
    messages: list[str] = []
    table = table.copy()
    empty_weekly = pd.DataFrame(
        columns=["week", "n_runs", "running_h", "balance_mean_left_pct", "balance_at_ref_speed_left_pct"]
    )
    if not len(table) or "balance_mean_left_pct" not in table.columns:
        messages.append("no runs with GCT balance in the selected period")
        return TrendAnalysis(table, ref_speed_m_s, None, None, empty_weekly, None, window_runs, messages)
    for col in ("balance_mean_left_pct", "balance_at_ref_speed_left_pct"):
        vals = pd.to_numeric(table[col], errors="coerce")
        table[col.replace("_left_pct", "_rolling_median")] = vals.rolling(window_runs, min_periods=1).median()
    raw = robust_trend(table["start_time"], table["balance_mean_left_pct"], confidence)
    adj = robust_trend(table["start_time"], table["balance_at_ref_speed_left_pct"], confidence)
    if raw is None:
        messages.append("fewer than 4 runs with balance on different days: no trend line")
    if adj is None and raw is not None:
        messages.append("fewer than 4 runs with pace-adjusted balance: no adjusted trend line")
    starts = pd.to_datetime(table["start_time"], utc=True)
    week = starts.dt.tz_localize(None).dt.to_period("W-SUN").dt.start_time
    running_s = table["running_s"] if "running_s" in table.columns else pd.Series(np.nan, index=table.index)
    g = table.assign(_week=week.to_numpy(), _running_h=pd.to_numeric(running_s, errors="coerce") / 3600.0)
    weekly = (
        g.groupby("_week")
        .agg(
            n_runs=("id", "count"),
            running_h=("_running_h", "sum"),
            balance_mean_left_pct=("balance_mean_left_pct", "median"),
            balance_at_ref_speed_left_pct=("balance_at_ref_speed_left_pct", "median"),
            **{
                f"balance_zone_{z}_s": (f"balance_zone_{z}_s", "sum")
                for z in BALANCE_ZONE_NAMES
                if f"balance_zone_{z}_s" in g.columns
            },
        )
        .reset_index()
        .rename(columns={"_week": "week"})
    )
    weekly["week"] = pd.to_datetime(weekly["week"]).dt.tz_localize("UTC")
    weekly = weekly.astype({c: "float64" for c in weekly.columns if c not in ("week", "n_runs")})
    month = _month_comparison(table, now, confidence)
    return TrendAnalysis(table, ref_speed_m_s, raw, adj, weekly, month, window_runs, messages)
