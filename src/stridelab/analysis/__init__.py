"""Running-dynamics analytics: clean segments, per-run summary and zones, pace-adjusted balance/GCT/VO/VR
with HAC confidence intervals, fatigue drift, terrain/turn/interval flags, and trends across runs.

Per run (pure, no store)::

    from stridelab.analysis import analyze_run
    a = analyze_run(records, laps, devices=devices)          # -> RunAnalysis (SI)
    a.at_ref("balance", 3.0)                                 # Estimate(estimate, ci_low, ci_high, se)
    a.to_dict(ref_speed_m_s=3.0)                             # the `stridelab analyze --json` contract

From the store (cached per activity and analysis version)::

    analyze_activity(store, "me", "3fa2")                    # -> RunAnalysis
    table, ref = run_table(store, "me", since=...)           # one row per run
    trend = trend_analysis(table, ref)                       # rolling medians, robust trends, weeks, months
"""

from stridelab.analysis._cache import (
    ANALYSIS_MIGRATIONS,
    analyze_activity,
    athlete_ref_speed,
    clear_cache,
    is_run,
    load_run,
)
from stridelab.analysis._config import ANALYSIS_VERSION, AnalysisConfig
from stridelab.analysis._experiment_api import (
    add_tags,
    analyze_experiment,
    baseline_rows,
    create_experiment,
    experiment_overview,
    list_experiments,
    list_tags,
    protocol_text,
    remove_tags,
    tags_for_runs,
)
from stridelab.analysis._hac import LinearFit, hac_ols
from stridelab.analysis._metrics import (
    BALANCE_ZONE_NAMES,
    GAUGE_ZONE_NAMES,
    METRICS,
    MODELLED_METRICS,
    MetricSpec,
    balance_zone_index,
    gauge_zone_index,
    gauge_zones_for,
)
from stridelab.analysis._run import Estimate, MetricModel, MetricSummary, RunAnalysis, analyze_run
from stridelab.analysis._segments import EXCLUSION_REASONS, RunFrame, prepare_run
from stridelab.analysis._sensor import SensorInfo, detect_sensor
from stridelab.analysis._trend import (
    MonthComparison,
    TrendAnalysis,
    TrendLine,
    pooled_estimate,
    robust_trend,
    run_row,
    run_table,
    trend_analysis,
)

__all__ = [  # noqa: RUF022 - grouped by topic
    # tags, experiments and personal baselines (issue: N-of-1 experiments)
    "add_tags",
    "analyze_experiment",
    "baseline_rows",
    "create_experiment",
    "experiment_overview",
    "list_experiments",
    "list_tags",
    "protocol_text",
    "remove_tags",
    "tags_for_runs",
    # per-run analytics and trends
    "ANALYSIS_MIGRATIONS",
    "ANALYSIS_VERSION",
    "BALANCE_ZONE_NAMES",
    "EXCLUSION_REASONS",
    "GAUGE_ZONE_NAMES",
    "METRICS",
    "MODELLED_METRICS",
    "AnalysisConfig",
    "Estimate",
    "LinearFit",
    "MetricModel",
    "MetricSpec",
    "MetricSummary",
    "MonthComparison",
    "RunAnalysis",
    "RunFrame",
    "SensorInfo",
    "TrendAnalysis",
    "TrendLine",
    "analyze_activity",
    "analyze_run",
    "athlete_ref_speed",
    "balance_zone_index",
    "clear_cache",
    "detect_sensor",
    "gauge_zone_index",
    "gauge_zones_for",
    "hac_ols",
    "is_run",
    "load_run",
    "pooled_estimate",
    "prepare_run",
    "robust_trend",
    "run_row",
    "run_table",
    "trend_analysis",
]
