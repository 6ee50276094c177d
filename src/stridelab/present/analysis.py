"""JSON shaping of analysis results: the ``stridelab analyze --json`` and ``trend --json --full``
contracts (and the same objects in the web API).

Analysis results are SI; the display units (ms, mm, %, per hour) are applied here, with the factors
and units of the ``METRICS`` registry (:mod:`stridelab.present.metrics`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stridelab.analysis import (
    BALANCE_ZONE_NAMES,
    MODELLED_METRICS,
    MetricSummary,
    MonthComparison,
    RunAnalysis,
    TrendAnalysis,
    TrendLine,
    ref_speed_issue,
)
from stridelab.lazy import lazy_module
from stridelab.present import metrics

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = [
    "month_comparison_json",
    "run_analysis_json",
    "run_row",
    "summary_json",
    "trend_json",
    "trend_line_json",
]

_SECONDS_PER_HOUR = 3600.0


def _null_est() -> dict[str, None]:
    return {"estimate": None, "ci_low": None, "ci_high": None}


def summary_json(s: MetricSummary, factor: float) -> dict[str, Any]:
    """A metric's distribution over clean running, multiplied by ``factor`` (SI -> display unit)."""
    return {
        "mean": s.mean * factor,
        "median": s.median * factor,
        "iqr": [s.p25 * factor, s.p75 * factor],
        "mean_recorded": s.mean_recorded * factor if s.mean_recorded is not None else None,
        "seconds": s.seconds,
        "zones_s": s.zones_s,
    }


def _recorded_means(means: dict[str, float]) -> dict[str, float]:
    """Recorded means keyed by presentation name (``stance_time_ms``...), like the FIT summaries."""
    out: dict[str, float] = {}
    for column, value in means.items():
        spec = metrics.spec_of_column(column)
        if spec is not None and spec.display_factor == 1000.0:
            out[
                column.removesuffix("_s").removesuffix("_m") + ("_ms" if column.endswith("_s") else "_mm")
            ] = value * 1000.0
        else:
            out[column] = value
    return out


def _balance(a: RunAnalysis, ref: float | None) -> dict[str, Any]:
    s = a.summaries.get("balance")
    model = a.models.get("balance")
    at_ref = a.at_ref("balance", ref)
    at_start = a.at_ref("balance", ref, at_start=True)
    slope = a.speed_slope("balance")
    drift = a.drift_per_h("balance")
    thirds = a.thirds_difference("balance")
    grade = model.coefficient("grade") if model else None
    return {
        "mean_left_pct": s.mean if s else None,
        "median_left_pct": s.median if s else None,
        "iqr_left_pct": [s.p25, s.p75] if s else None,
        "mean_recorded_left_pct": s.mean_recorded if s else None,
        "at_ref_speed_left_pct": at_ref.estimate if at_ref else None,
        "at_ref_speed_ci_left_pct": [at_ref.ci_low, at_ref.ci_high] if at_ref else None,
        "at_ref_speed_start_left_pct": at_start.estimate if at_start else None,
        "ref_speed_m_s": ref,
        # the drift-clock time the values "at the reference speed" refer to (minute 10, or the mean
        # time of a run without a drift term); ref_time_s is the former name, kept
        "ref_time_s": model.ref_time_h * _SECONDS_PER_HOUR if model else None,
        "reference_time_s": model.ref_time_h * _SECONDS_PER_HOUR if model else None,
        "mean_time_s": model.time_center_h * _SECONDS_PER_HOUR if model else None,
        "speed_slope_pp_per_m_s": slope.scaled(1.0) if slope else _null_est(),
        "drift_pp_per_h": drift.scaled(1.0) if drift else _null_est(),
        "last_minus_first_third_pp": thirds.scaled(1.0) if thirds else _null_est(),
        "grade_slope_pp_per_pct": grade.scaled(0.01) if grade else None,
        "zones_s": s.zones_s if s and s.zones_s else dict.fromkeys(BALANCE_ZONE_NAMES),
        "modelled_samples": model.fit.n if model else 0,
        "hac_bandwidth_s": model.fit.bandwidth if model else None,
    }


def _modelled(a: RunAnalysis, key: str, ref: float | None) -> dict[str, Any]:
    factor = metrics.factor(key)
    s = a.summaries.get(key)
    at_ref = a.at_ref(key, ref)
    slope = a.speed_slope(key)
    drift = a.drift_per_h(key)
    thirds = a.thirds_difference(key)
    out = summary_json(s, factor) if s else dict.fromkeys(("mean", "median", "iqr", "mean_recorded"))
    out.update(
        {
            "at_ref_speed": at_ref.estimate * factor if at_ref else None,
            "at_ref_speed_ci": sorted((at_ref.ci_low * factor, at_ref.ci_high * factor)) if at_ref else None,
            "speed_slope_per_m_s": slope.scaled(factor) if slope else _null_est(),
            # the contract's gct_ms.drift_per_h is a number; its CI sits beside it
            "drift_per_h": drift.estimate * factor if drift else None,
            "drift_per_h_ci": sorted((drift.ci_low * factor, drift.ci_high * factor)) if drift else None,
            "last_minus_first_third": thirds.scaled(factor) if thirds else _null_est(),
        }
    )
    return out


def run_analysis_json(analysis: RunAnalysis, ref_speed_m_s: float | None = None) -> dict[str, Any]:
    """The JSON contract of ``stridelab analyze --json`` (display units; null = unknown).

    ``ref_speed_m_s`` defaults to the run's own median speed when not given.
    """
    a = analysis
    ref = ref_speed_m_s if ref_speed_m_s is not None else a.speed_median_m_s
    out: dict[str, Any] = {
        "analysis_version": a.version,
        "ref_speed_m_s": ref,
        "duration_s": a.duration_s,
        "running_s": a.running_s,
        "modelled_s": a.model_s,
        "excluded_s": a.excluded_s,
        "excluded_by_reason_s": a.excluded_by_reason_s,
        "speed_median_m_s": a.speed_median_m_s,
        "sensor": a.sensor.to_dict(),
        "drift_clock": a.drift_clock,
    }
    out["balance"] = _balance(a, ref)
    for key in metrics.OTHER_MODELLED:
        out[metrics.contract_key(key)] = _modelled(a, key, ref)
    others: dict[str, Any] = {}
    for key, summary in a.summaries.items():
        if key in MODELLED_METRICS:
            continue
        others[key] = {"unit": metrics.unit(key), **summary_json(summary, metrics.factor(key))}
    out["metrics"] = others
    out["recorded_means"] = _recorded_means(a.recorded_means)
    out["context"] = a.context
    out["flags"] = list(a.flags)
    out["messages"] = list(a.messages)
    issue = ref_speed_issue(a, ref)
    if issue:
        out["flags"].append(issue[0])
        out["messages"].append({"code": issue[0], "message": issue[1]})
    return out


def run_row(
    activity_id: str, start_time: pd.Timestamp, analysis: RunAnalysis, ref_speed_m_s: float | None
) -> dict[str, Any]:
    """One row of the per-run table (``stridelab.services.analysis.run_table``) from a run analysis
    at the reference speed: the ``trend --json`` rows (display units named in the columns,
    ``gct_mean_ms``; the balance in % left)."""
    ref = ref_speed_m_s if ref_speed_m_s is not None else analysis.speed_median_m_s
    row: dict[str, Any] = {
        "id": activity_id,
        "start_time": pd.Timestamp(start_time),
        "duration_s": analysis.duration_s,
        "running_s": analysis.running_s,
        "speed_median_m_s": analysis.speed_median_m_s,
        "sensor": analysis.sensor.label,
        "ref_speed_m_s": ref,
    }
    bal = analysis.summaries.get("balance")
    row["balance_mean_left_pct"] = bal.mean if bal else None
    row["balance_median_left_pct"] = bal.median if bal else None
    at = analysis.at_ref("balance", ref)
    row["balance_at_ref_speed_left_pct"] = at.estimate if at else None
    row["balance_at_ref_speed_se_pp"] = at.se if at else None
    row["balance_at_ref_speed_ci_low"] = at.ci_low if at else None
    row["balance_at_ref_speed_ci_high"] = at.ci_high if at else None
    slope = analysis.speed_slope("balance")
    row["balance_speed_slope_pp_per_m_s"] = slope.estimate if slope else None
    drift = analysis.drift_per_h("balance")
    row["balance_drift_pp_per_h"] = drift.estimate if drift else None
    row["balance_drift_ci_low"] = drift.ci_low if drift else None
    row["balance_drift_ci_high"] = drift.ci_high if drift else None
    for name in BALANCE_ZONE_NAMES:
        row[f"balance_zone_{name}_s"] = (bal.zones_s or {}).get(name) if bal else None
    for key in metrics.OTHER_MODELLED:  # gct (ms), vo (mm), vr (%): display units in the names
        factor = metrics.factor(key)
        unit = metrics.contract_key(key).removeprefix(f"{key}_")
        s = analysis.summaries.get(key)
        row[f"{key}_mean_{unit}"] = s.mean * factor if s else None
        a = analysis.at_ref(key, ref)
        row[f"{key}_at_ref_speed_{unit}"] = a.estimate * factor if a else None
        d = analysis.drift_per_h(key)
        row[f"{key}_drift_{unit}_per_h"] = d.estimate * factor if d else None
    cad = analysis.summaries.get("cadence")
    row["cadence_mean_spm"] = cad.mean if cad else None
    row["flags"] = list(analysis.flags)
    return row


def trend_line_json(line: TrendLine) -> dict[str, Any]:
    """A robust trend line: change per 30 days with its CI, intercept, first day, runs, method."""
    return {
        "per_30_days": line.slope_per_30d.scaled(1.0),
        "intercept": line.intercept,
        "first_day": line.first_day.isoformat(),
        "n_runs": line.n,
        "method": line.method,
    }


def month_comparison_json(m: MonthComparison) -> dict[str, Any]:
    """This month vs last month at the reference speed."""
    return {
        "this_month": m.this_month,
        "last_month": m.last_month,
        "n_runs_this": m.n_this,
        "n_runs_last": m.n_last,
        "this_at_ref_speed_left_pct": m.this_at_ref,
        "last_at_ref_speed_left_pct": m.last_at_ref,
        "difference_pp": m.difference.scaled(1.0) if m.difference else None,
        "this_raw_median_left_pct": m.this_raw_median,
        "last_raw_median_left_pct": m.last_raw_median,
        "message": m.message,
    }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {str(k): (v.isoformat() if isinstance(v, pd.Timestamp) else v) for k, v in rec.items()}
        for rec in frame.to_dict("records")
    ]


def trend_json(trend: TrendAnalysis) -> dict[str, Any]:
    """The JSON contract of ``stridelab trend --json --full`` (``runs`` alone is ``trend --json``)."""
    raw, adjusted = trend.raw_trend, trend.adjusted_trend
    return {
        "ref_speed_m_s": trend.ref_speed_m_s,
        "n_runs": len(trend.table),
        "window_runs": trend.window_runs,
        "runs": _records(trend.table),
        "trend": {
            "raw_balance_left_pct": trend_line_json(raw) if raw else None,
            "adjusted_balance_left_pct": trend_line_json(adjusted) if adjusted else None,
        },
        "weekly": _records(trend.weekly),
        "month_comparison": month_comparison_json(trend.month) if trend.month else None,
        "messages": list(trend.messages),
    }
