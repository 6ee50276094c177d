"""Across runs: the per-run table, rolling medians, robust trends, weekly aggregates and the
"this month vs last month at the same pace" comparison.

Pure: the per-run table comes in (one row per run, built by ``stridelab.services.analysis.run_table`` from
cached analyses, so a trend over hundreds of runs does not refit); only its balance columns (% left,
SI-like) and ``running_s`` are read here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from stridelab.analysis._metrics import BALANCE_ZONE_NAMES
from stridelab.analysis._run import Estimate

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


def robust_trend(times: pd.Series, values: pd.Series, confidence: float = 0.95) -> TrendLine | None:
    """Huber robust linear regression (statsmodels RLM) of ``values`` on time in days; slope per
    30 days with a normal-theory CI. Falls back to Theil–Sen (Sen's interval) when RLM warns or
    cannot converge (e.g. a perfect line, whose robust scale is zero).
    None with fewer than 4 finite values or all on one day."""
    import statsmodels.api as sm
    from scipy import stats

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
    x = sm.add_constant(days)
    z = float(stats.norm.ppf(0.5 + confidence / 2.0))
    method = "Huber RLM"
    # RLM's robust scale (MAD) collapses when most points lie on an exact line (statsmodels then
    # warns). Detect that beforehand, not through warnings.catch_warnings, whose filter state is
    # process-wide and unsafe in the threaded web server: refit least squares on the better half
    # of the points; if the median absolute residual of all points is ~0, most lie on one line.
    scale_tol = 1e-9 * max(1.0, float(np.abs(yv).max()))
    resid = yv - np.polyval(np.polyfit(days, yv, 1), days)
    inner = np.abs(resid) <= np.median(np.abs(resid))
    if inner.sum() >= 2 and np.ptp(days[inner]) > 0:
        resid = yv - np.polyval(np.polyfit(days[inner], yv[inner], 1), days)
    degenerate = float(np.median(np.abs(resid))) <= scale_tol
    beta, se = np.array([np.nan, np.nan]), np.array([np.nan, np.nan])
    if not degenerate:
        with np.errstate(all="ignore"):  # thread-local, unlike warning filters
            try:
                res = sm.RLM(yv, x, M=sm.robust.norms.HuberT()).fit()
                if np.isfinite(res.scale) and res.scale > scale_tol:
                    beta, se = np.asarray(res.params), np.asarray(res.bse)
            except (ValueError, np.linalg.LinAlgError, ZeroDivisionError):
                pass
    if not np.all(np.isfinite(beta)) or not np.all(np.isfinite(se)):
        # RLM's scale collapses on (nearly) exact lines: Theil–Sen with Sen's interval instead
        method = "Theil-Sen"
        ts = stats.theilslopes(yv, days, alpha=confidence)
        half = max(float(ts.high_slope) - float(ts.slope), float(ts.slope) - float(ts.low_slope))
        beta = np.array([float(ts.intercept), float(ts.slope)])
        se = np.array([np.nan, half / z if z > 0 else 0.0])
    slope = float(beta[1]) * _DAYS_PER_MONTH
    s_se = float(se[1]) * _DAYS_PER_MONTH
    return TrendLine(
        slope_per_30d=Estimate(slope, slope - z * s_se, slope + z * s_se, s_se),
        intercept=float(beta[0]),
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
