"""Training: exercise library, phased program builder, session log, balance tests, load guard, outcome.

Pure: data in, results out (no store; :mod:`stridelab.store.training` keeps the records and
:mod:`stridelab.services.training` composes both). The public surface (everything else is private):

* library - :func:`load_library`, :func:`validate_library`, :func:`library_schema`
* plans - :class:`PlanInputs`, :class:`Evidence`, :func:`build_plan`, :func:`evidence_from`,
  :func:`plan_to_ics`
* records - :class:`StoredPlan`, :class:`SessionLog`, :class:`ExerciseLog`, :class:`Stop`,
  :func:`check_balance_test`
* the day - :func:`today_view`, :func:`assess_log`, :func:`stop_exercise_id`, :func:`adherence`
* balance tests - :func:`balance_summary`, :func:`balance_chart`
* load guard - :func:`load_report` (:func:`load_since` says which runs' asymmetry it needs)
* outcome - :func:`outcome_rows`, :func:`draw_outcome_chart` (:func:`outcome_since`)
* weaker side from all the evidence - :func:`assess_side` (:data:`SIDE_RULE`), :class:`SideAssessment`
* the seam to the run analytics - :func:`catalog_asymmetry`, :func:`merge_asymmetry`,
  :func:`provider_frame_of_run_table`
"""

from __future__ import annotations

from stridelab.training._builder import (
    WEEKDAYS,
    BalanceEvidence,
    Evidence,
    InputError,
    Item,
    Phase,
    Plan,
    PlanInputs,
    PlanSession,
    RunEvidence,
    SideDecision,
    build_plan,
    decide_weaker_side,
    item_seconds,
    parse_weekdays,
)
from stridelab.training._evidence import (
    BALANCE_WINDOW_DAYS,
    RUN_WINDOW_DAYS,
    balance_summary,
    evidence_from,
    run_evidence,
)
from stridelab.training._fitness import (
    ATL_DAYS,
    CTL_DAYS,
    FITNESS_CAVEATS,
    banister_trimp,
    estimate_cp_w,
    estimate_hr_max,
    fitness_fatigue,
    normalized_power_w,
    power_stress_score,
    weekly_ratios,
)
from stridelab.training._ics import plan_to_ics
from stridelab.training._library import (
    CATEGORIES,
    EQUIPMENT,
    HOUSEHOLD_EQUIPMENT,
    PAIN_AREAS,
    Exercise,
    Library,
    LibraryError,
    library_schema,
    load_library,
    validate_library,
)
from stridelab.training._load import LoadReport, WeekLoad, acwr_zone, load_report, load_since
from stridelab.training._log import (
    LogAssessment,
    LogError,
    LogResult,
    adherence,
    assess_log,
    created_day,
    stop_exercise_id,
    today_view,
)
from stridelab.training._outcome import balance_chart, draw_outcome_chart, outcome_rows, outcome_since
from stridelab.training._records import (
    ALL_EXERCISES,
    FUNCTION_TESTS,
    ExerciseLog,
    SessionLog,
    Stop,
    StoredPlan,
    check_balance_test,
    check_function_test,
)
from stridelab.training._seam import (
    COLUMNS,
    PROVIDER_COLUMNS,
    RUN_SPORTS,
    SOURCE_ANALYSIS,
    SOURCE_CATALOG,
    RunRow,
    catalog_asymmetry,
    empty_provider_frame,
    is_run,
    merge_asymmetry,
    provider_frame_of_run_table,
)
from stridelab.training._side import (
    DECIDE_SCORE,
    SIDE_RULE,
    DriftEvidence,
    PainEvidence,
    RunBalanceEvidence,
    SideAssessment,
    SideVote,
    assess_side,
    mean_interval,
    run_balance_evidence,
)
from stridelab.training._targets import plan_target_bands

__all__ = [
    "ALL_EXERCISES",
    "ATL_DAYS",
    "BALANCE_WINDOW_DAYS",
    "CATEGORIES",
    "COLUMNS",
    "CTL_DAYS",
    "DECIDE_SCORE",
    "EQUIPMENT",
    "FITNESS_CAVEATS",
    "FUNCTION_TESTS",
    "HOUSEHOLD_EQUIPMENT",
    "PAIN_AREAS",
    "PROVIDER_COLUMNS",
    "RUN_SPORTS",
    "RUN_WINDOW_DAYS",
    "SIDE_RULE",
    "SOURCE_ANALYSIS",
    "SOURCE_CATALOG",
    "WEEKDAYS",
    "BalanceEvidence",
    "DriftEvidence",
    "Evidence",
    "Exercise",
    "ExerciseLog",
    "InputError",
    "Item",
    "Library",
    "LibraryError",
    "LoadReport",
    "LogAssessment",
    "LogError",
    "LogResult",
    "PainEvidence",
    "Phase",
    "Plan",
    "PlanInputs",
    "PlanSession",
    "RunBalanceEvidence",
    "RunEvidence",
    "RunRow",
    "SessionLog",
    "SideAssessment",
    "SideDecision",
    "SideVote",
    "Stop",
    "StoredPlan",
    "WeekLoad",
    "acwr_zone",
    "adherence",
    "assess_log",
    "assess_side",
    "balance_chart",
    "balance_summary",
    "banister_trimp",
    "build_plan",
    "catalog_asymmetry",
    "check_balance_test",
    "check_function_test",
    "created_day",
    "decide_weaker_side",
    "draw_outcome_chart",
    "empty_provider_frame",
    "estimate_cp_w",
    "estimate_hr_max",
    "evidence_from",
    "fitness_fatigue",
    "is_run",
    "item_seconds",
    "library_schema",
    "load_library",
    "load_report",
    "load_since",
    "mean_interval",
    "merge_asymmetry",
    "normalized_power_w",
    "outcome_rows",
    "outcome_since",
    "parse_weekdays",
    "plan_target_bands",
    "plan_to_ics",
    "power_stress_score",
    "provider_frame_of_run_table",
    "run_balance_evidence",
    "run_evidence",
    "stop_exercise_id",
    "today_view",
    "validate_library",
    "weekly_ratios",
]
