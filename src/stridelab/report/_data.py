"""Chart-ready series derived from a :class:`~stridelab.analysis.RunAnalysis` (shared by the
matplotlib and Plotly renderers, so both draw exactly the same numbers)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from stridelab.present.charts import thin
from stridelab.services.analysis import RunAnalysis, balance_zone_index

__all__ = [
    "ZONE_COLOURS",
    "DriftCurve",
    "SpeedCurve",
    "balance_points",
    "drift_curve",
    "excluded_spans",
    "speed_curve",
    "thin",
]

#: balance zone index -> colour (index 0 red_left ... 4 red_right)
ZONE_COLOURS: tuple[str, ...] = ("#d62728", "#ff7f0e", "#2ca02c", "#ff7f0e", "#d62728")


def excluded_spans(analysis: RunAnalysis, max_spans: int = 300) -> list[tuple[float, float, str]]:
    """Contiguous (start_min, end_min, reason) spans of samples not used by the models."""
    frame = analysis.frame
    if frame is None or frame.n == 0:
        return []
    labels = frame.reason_labels()
    t_min = frame.t_s / 60.0
    spans: list[tuple[float, float, str]] = []
    start = 0
    for i in range(1, frame.n + 1):
        if i == frame.n or labels[i] != labels[start]:
            if labels[start]:
                end = t_min[i] if i < frame.n else t_min[-1] + frame.dt_s[-1] / 60.0
                spans.append((float(t_min[start]), float(end), str(labels[start])))
            start = i
    if len(spans) > max_spans:  # keep the longest, in time order
        spans = sorted(sorted(spans, key=lambda s: s[0] - s[1])[:max_spans])
    return spans


def balance_points(analysis: RunAnalysis) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """(time in min, left %, zone index, used-by-model) of the balance samples, thinned."""
    frame = analysis.frame
    if frame is None or "balance" not in frame.values:
        return None
    y = frame.values["balance"]
    ok = np.isfinite(y)
    idx = np.flatnonzero(ok)[thin(int(ok.sum()))]
    return frame.t_s[idx] / 60.0, y[idx], balance_zone_index(y[idx]), frame.model[idx]


@dataclass(frozen=True, slots=True)
class SpeedCurve:
    """Model samples (speed, metric) and the fitted line with its confidence band."""

    speed: np.ndarray
    value: np.ndarray
    grid: np.ndarray
    fit: np.ndarray
    low: np.ndarray
    high: np.ndarray


def speed_curve(analysis: RunAnalysis, metric: str = "balance", factor: float = 1.0) -> SpeedCurve | None:
    frame = analysis.frame
    model = analysis.models.get(metric)
    if frame is None or model is None or not model.fit.has("speed") or metric not in frame.values:
        return None
    y = frame.values[metric]
    v = frame.speed_raw_m_s
    sel = frame.model & np.isfinite(y) & np.isfinite(v)
    idx = np.flatnonzero(sel)[thin(int(sel.sum()))]
    lo, hi = np.quantile(v[sel], (0.01, 0.99))
    grid = np.linspace(lo, hi, 60)
    est = [model.at_speed(float(g)) for g in grid]
    fit = np.array([e.estimate if e else np.nan for e in est]) * factor
    low = np.array([e.ci_low if e else np.nan for e in est]) * factor
    high = np.array([e.ci_high if e else np.nan for e in est]) * factor
    return SpeedCurve(v[idx], y[idx] * factor, grid, fit, low, high)


@dataclass(frozen=True, slots=True)
class DriftCurve:
    """Pace-adjusted samples over the drift clock (min), a 60-sample rolling mean, and the fitted
    drift line with its confidence band."""

    t_min: np.ndarray
    adjusted: np.ndarray
    rolling: np.ndarray
    grid_min: np.ndarray
    fit: np.ndarray
    low: np.ndarray
    high: np.ndarray


def drift_curve(
    analysis: RunAnalysis, ref_speed_m_s: float | None, metric: str = "balance", factor: float = 1.0
) -> DriftCurve | None:
    frame = analysis.frame
    model = analysis.models.get(metric)
    if frame is None or model is None or not model.fit.has("time") or frame.clock_h is None:
        return None
    fit = model.fit
    y = frame.values[metric]
    sel = frame.model & np.isfinite(y)
    ref = ref_speed_m_s
    adj = y.copy()
    if fit.has("speed"):
        if ref is None:
            ref = fit.centers["speed"]
        sel &= np.isfinite(frame.speed_raw_m_s)
        adj = adj - fit.beta[fit.index("speed")] * (frame.speed_raw_m_s - ref)
    if fit.has("grade"):
        adj = adj - fit.beta[fit.index("grade")] * np.nan_to_num(frame.grade, nan=0.0)
    if fit.has("lat_acc"):
        adj = adj - fit.beta[fit.index("lat_acc")] * np.nan_to_num(frame.lat_acc_m_s2, nan=0.0)
    t_h = frame.clock_h[sel]
    a = adj[sel]
    rolling = pd.Series(a).rolling(60, center=True, min_periods=1).mean().to_numpy(dtype="float64")
    grid_h = np.linspace(float(t_h.min()), float(t_h.max()), 40)
    fits, lows, highs = [], [], []
    for g in grid_h:
        w = {"const": 1.0, "time": g - model.time_center_h}
        if fit.has("speed"):
            w["speed"] = (ref if ref is not None else fit.centers["speed"]) - fit.centers["speed"]
        est, se = fit.estimate(w)
        fits.append(est)
        lows.append(est - fit.crit * se)
        highs.append(est + fit.crit * se)
    idx = thin(a.size)
    return DriftCurve(
        t_min=t_h[idx] * 60.0,
        adjusted=a[idx] * factor,
        rolling=rolling[idx] * factor,
        grid_min=grid_h * 60.0,
        fit=np.asarray(fits) * factor,
        low=np.asarray(lows) * factor,
        high=np.asarray(highs) * factor,
    )
