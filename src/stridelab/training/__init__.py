"""Training: exercise library, phased program builder, session log, balance tests, load guard, outcome.

The public surface (everything else is private):

* library - :func:`load_library`, :func:`validate_library`, :func:`library_schema`
* plans - :class:`PlanInputs`, :class:`Evidence`, :func:`build_plan`, :func:`gather_evidence`,
  :func:`save_plan`, :func:`active_plan`, :func:`plan_to_ics`
* the day - :func:`today_session`, :func:`log_session`, :func:`clear_stop`, :func:`adherence`
* balance tests - :func:`record_balance_test`, :func:`balance_history`, :func:`balance_chart`
* load guard - :func:`weekly_load`
* outcome - :func:`outcome_table`, :func:`outcome_chart`
* the seam to the run analytics - :func:`run_asymmetry`
"""

from __future__ import annotations

from stridelab.training._builder import (
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
    parse_weekdays,
)
from stridelab.training._db import (
    MIGRATIONS,
    ExerciseLog,
    SessionLog,
    StoredPlan,
    active_plan,
    balance_history,
    record_balance_test,
    save_plan,
    session_logs,
    stops,
)
from stridelab.training._evidence import balance_summary, gather_evidence
from stridelab.training._ics import plan_to_ics
from stridelab.training._library import (
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
from stridelab.training._load import LoadReport, WeekLoad, weekly_load
from stridelab.training._log import LogError, LogResult, adherence, clear_stop, log_session, today_session
from stridelab.training._outcome import balance_chart, outcome_chart, outcome_table
from stridelab.training._seam import SOURCE_ANALYSIS, SOURCE_CATALOG, run_asymmetry

__all__ = [
    "EQUIPMENT",
    "HOUSEHOLD_EQUIPMENT",
    "MIGRATIONS",
    "PAIN_AREAS",
    "SOURCE_ANALYSIS",
    "SOURCE_CATALOG",
    "BalanceEvidence",
    "Evidence",
    "Exercise",
    "ExerciseLog",
    "InputError",
    "Item",
    "Library",
    "LibraryError",
    "LoadReport",
    "LogError",
    "LogResult",
    "Phase",
    "Plan",
    "PlanInputs",
    "PlanSession",
    "RunEvidence",
    "SessionLog",
    "SideDecision",
    "StoredPlan",
    "WeekLoad",
    "active_plan",
    "adherence",
    "balance_chart",
    "balance_history",
    "balance_summary",
    "build_plan",
    "clear_stop",
    "decide_weaker_side",
    "gather_evidence",
    "library_schema",
    "load_library",
    "log_session",
    "outcome_chart",
    "outcome_table",
    "parse_weekdays",
    "plan_to_ics",
    "record_balance_test",
    "run_asymmetry",
    "save_plan",
    "session_logs",
    "stops",
    "today_session",
    "validate_library",
    "weekly_load",
]
