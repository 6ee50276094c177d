"""Running-dynamics analytics: clean segments, per-run summary and zones, pace-adjusted balance/GCT/VO/VR
with HAC confidence intervals, fatigue drift, terrain/turn/interval flags, and trends across runs.

Per run (pure, no store)::

    from stridelab.analysis import analyze_run
    a = analyze_run(records, laps, devices=devices)          # -> RunAnalysis (SI)
    a.at_ref("balance", 3.0)                                 # Estimate(estimate, ci_low, ci_high, se)

Pure: no store. The store-backed verbs (cached ``analyze_activity``, ``run_table``, the athlete's reference
speed) live in :mod:`stridelab.services.analysis`; the JSON contract of ``stridelab analyze --json`` is
shaped by :func:`stridelab.present.analysis.run_analysis_json`::

    trend = trend_analysis(table, ref)                       # rolling medians, robust trends, weeks, months
"""

from stridelab.analysis._activity import (
    ON_FOOT_SPORTS,
    RUNNING_SPORTS,
    ActivityLike,
    is_run,
    mark_not_a_run,
    reference_speed,
    running_part,
)
from stridelab.analysis._baseline import (
    BaselineRow,
    DatedRun,
    Explanation,
    baseline_record,
    baseline_runs,
    baseline_table,
    load_ratios,
    prediction_limit,
    weekly_loads_km,
)
from stridelab.analysis._config import ANALYSIS_VERSION, AnalysisConfig
from stridelab.analysis._duplicates import (
    MIN_OVERLAP,
    DuplicateLink,
    PairMatch,
    SourceFacts,
    Span,
    candidate_pairs,
    choose_primaries,
    has_labels,
    recordings_agree,
    richness,
    span_overlap,
    sport_family,
)
from stridelab.analysis._experiment import (
    Experiment,
    ExperimentError,
    ExperimentResult,
    analyze_blocks,
    block_specs,
    check_definition,
    experiment_look,
    holm,
    make_protocol,
    order_blocks,
    overview_row,
    phase_window,
    planned_length,
    protocol_deviations,
    protocol_text,
    run_blocks,
)
from stridelab.analysis._experiment_blocks import EXPERIMENT_METRICS, BlockSpec, BlockValue, extract_blocks
from stridelab.analysis._experiment_designs import (
    DESIGN_CLASSES,
    AlternatingLaps,
    AlternatingRuns,
    BeforeAfter,
    ExperimentDesign,
    RandomisedDesign,
    compare_arms,
    design_for,
)
from stridelab.analysis._experiment_sequential import (
    Look,
    decides,
    decisive_looks,
    look_at,
    nominal_alphas,
    obf_spent,
)
from stridelab.analysis._experiment_stats import DESIGNS, Comparison, DesignName, design_name
from stridelab.analysis._experiment_validation import (
    PeekingRow,
    ValidationRow,
    validate_design,
    validate_peeking,
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
from stridelab.analysis._run import (
    Estimate,
    MetricModel,
    MetricSummary,
    RunAnalysis,
    analyze_run,
    ref_speed_issue,
    ref_speed_note,
)
from stridelab.analysis._segments import EXCLUSION_REASONS, RunFrame, prepare_run
from stridelab.analysis._sensor import SensorInfo, detect_sensor
from stridelab.analysis._splits import SPLIT_METRICS, splits
from stridelab.analysis._tags import (
    Tag,
    TagError,
    TagScope,
    TagTarget,
    format_clock,
    parse_clock,
    parse_laps,
    parse_selector,
    parse_tag,
    tag_labels,
    tag_targets,
)
from stridelab.analysis._trend import (
    MonthComparison,
    TrendAnalysis,
    TrendLine,
    pooled_estimate,
    robust_trend,
    trend_analysis,
)

__all__ = [  # noqa: RUF022 - grouped by topic
    # tags, N-of-1 experiments and personal baselines (pure; stored by stridelab.store.tags /
    # stridelab.store.experiments, used through stridelab.services.experiments)
    "DESIGNS",
    "DESIGN_CLASSES",
    "EXPERIMENT_METRICS",
    "AlternatingLaps",
    "AlternatingRuns",
    "BaselineRow",
    "BeforeAfter",
    "BlockSpec",
    "BlockValue",
    "Comparison",
    "DatedRun",
    "DesignName",
    "Experiment",
    "ExperimentDesign",
    "ExperimentError",
    "ExperimentResult",
    "Explanation",
    "Look",
    "PeekingRow",
    "RandomisedDesign",
    "Tag",
    "TagError",
    "TagScope",
    "TagTarget",
    "ValidationRow",
    "analyze_blocks",
    "decides",
    "decisive_looks",
    "experiment_look",
    "holm",
    "look_at",
    "nominal_alphas",
    "obf_spent",
    "planned_length",
    "protocol_deviations",
    "validate_peeking",
    "baseline_record",
    "baseline_runs",
    "baseline_table",
    "block_specs",
    "check_definition",
    "compare_arms",
    "design_for",
    "design_name",
    "extract_blocks",
    "format_clock",
    "load_ratios",
    "prediction_limit",
    "make_protocol",
    "order_blocks",
    "overview_row",
    "parse_clock",
    "parse_laps",
    "parse_selector",
    "parse_tag",
    "phase_window",
    "protocol_text",
    "run_blocks",
    "tag_labels",
    "tag_targets",
    "validate_design",
    "weekly_loads_km",
    # the same activity from several sources (stored by stridelab.store.duplicates, linked by
    # stridelab.services.duplicates)
    "MIN_OVERLAP",
    "DuplicateLink",
    "PairMatch",
    "SourceFacts",
    "Span",
    "candidate_pairs",
    "choose_primaries",
    "has_labels",
    "recordings_agree",
    "richness",
    "span_overlap",
    "sport_family",
    # per-lap and per-km splits of one run
    "SPLIT_METRICS",
    "splits",
    # per-run analytics and trends
    "ANALYSIS_VERSION",
    "ON_FOOT_SPORTS",
    "RUNNING_SPORTS",
    "BALANCE_ZONE_NAMES",
    "EXCLUSION_REASONS",
    "GAUGE_ZONE_NAMES",
    "METRICS",
    "MODELLED_METRICS",
    "ActivityLike",
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
    "analyze_run",
    "balance_zone_index",
    "detect_sensor",
    "gauge_zone_index",
    "gauge_zones_for",
    "hac_ols",
    "is_run",
    "mark_not_a_run",
    "pooled_estimate",
    "prepare_run",
    "ref_speed_issue",
    "ref_speed_note",
    "reference_speed",
    "robust_trend",
    "running_part",
    "trend_analysis",
]
