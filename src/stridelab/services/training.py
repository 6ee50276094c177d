"""Training, as the CLI and the web do it: plans, today's session, logs and pain stops, balance tests,
weekly load, adherence, the outcome link, the exercise library and the calendar export.

Each function reads the store (:mod:`stridelab.store.training`, the catalog), hands the data to the pure
core (:mod:`stridelab.training`) and writes what it decided. The names the edges need (``PlanInputs``,
``WEEKDAYS``, ``EQUIPMENT``, ...) are re-exported here so that they never import the core.

The per-run asymmetry (GCT balance, GCT) comes from the run analytics when they can pace-adjust it,
else from the catalog's raw means (:func:`run_asymmetry`). A *provider* is any
``Callable[[Store, str, date | None, date | None], pandas.DataFrame]`` (store, athlete, since, until -
days inclusive) returning one row per run with the columns ``activity_id``, ``balance_left_pct`` and
``gct_s`` (NaN where unknown); ``provider=True`` means the run analytics, ``False``/``None`` the
catalog only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from stridelab.lazy import lazy_module
from stridelab.store import ActivityRow, Store, StoreError
from stridelab.store import loads as loads_repo
from stridelab.store.training import (
    MIGRATIONS,
    active_plan,
    add_balance_test,
    add_function_test,
    balance_history,
    clear_stops,
    ensure_training_schema,
    function_test_history,
    save_plan,
    session_logs,
    stops,
    write_session_log,
)
from stridelab.training import (
    BALANCE_WINDOW_DAYS,
    CATEGORIES,
    EQUIPMENT,
    FITNESS_CAVEATS,
    HOUSEHOLD_EQUIPMENT,
    PAIN_AREAS,
    PROVIDER_COLUMNS,
    RUN_SPORTS,
    RUN_WINDOW_DAYS,
    SIDE_RULE,
    SOURCE_ANALYSIS,
    SOURCE_CATALOG,
    WEEKDAYS,
    BalanceEvidence,
    DriftEvidence,
    Evidence,
    Exercise,
    ExerciseLog,
    InputError,
    Library,
    LoadReport,
    LogError,
    LogResult,
    PainEvidence,
    Plan,
    PlanInputs,
    RunLoadSummary,
    SessionLog,
    SideAssessment,
    SideVote,
    Stop,
    StoredPlan,
    WeekLoad,
    adherence,
    assess_log,
    assess_side,
    balance_chart,
    balance_summary,
    build_plan,
    catalog_asymmetry,
    check_balance_test,
    check_function_test,
    created_day,
    draw_outcome_chart,
    empty_provider_frame,
    estimate_cp_w,
    estimate_hr_max,
    evidence_from,
    fitness_fatigue,
    is_run,
    load_library,
    load_report,
    load_since,
    mean_interval,
    merge_asymmetry,
    outcome_rows,
    outcome_since,
    parse_weekdays,
    plan_to_ics,
    provider_frame_of_run_table,
    run_balance_evidence,
    run_load_summary,
    stop_exercise_id,
    today_view,
    weekly_ratios,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

__all__ = [
    "CATEGORIES",
    "EQUIPMENT",
    "HOUSEHOLD_EQUIPMENT",
    "MIGRATIONS",
    "PAIN_AREAS",
    "RUN_SPORTS",
    "SIDE_RULE",
    "SOURCE_ANALYSIS",
    "SOURCE_CATALOG",
    "WEEKDAYS",
    "BalanceEvidence",
    "Evidence",
    "Exercise",
    "ExerciseLog",
    "FitnessReport",
    "InputError",
    "LoadReport",
    "LogError",
    "LogResult",
    "Plan",
    "PlanInputs",
    "RunAsymmetryProvider",
    "SessionLog",
    "SideAssessment",
    "SideVote",
    "Stop",
    "StoredPlan",
    "WeekLoad",
    "active_plan",
    "adherence",
    "balance_chart",
    "balance_history",
    "balance_summary",
    "balance_test_records",
    "build_plan",
    "clear_stop",
    "ensure_training_schema",
    "exercises",
    "fitness",
    "function_test_history",
    "function_test_records",
    "gather_evidence",
    "load_library",
    "log_session",
    "measure_function_test",
    "outcome_chart",
    "outcome_table",
    "parse_weekdays",
    "plan_adherence",
    "plan_ics",
    "plan_to_ics",
    "plan_with_statuses",
    "recent_fitness",
    "record_balance_test",
    "record_function_test",
    "run_asymmetry",
    "run_load_summaries",
    "save_plan",
    "session_logs",
    "side_assessment",
    "stops",
    "tailored_plan",
    "today_session",
    "usual_run_days",
    "weekly_load",
]

RunAsymmetryProvider = Callable[[Store, str, date | None, date | None], "pd.DataFrame"]
ProviderArg = RunAsymmetryProvider | bool | None

#: what can go wrong inside the analytics without it being a bug of ours: fall back to the catalog
_ANALYSIS_FAILURES: Final[tuple[type[BaseException], ...]] = (
    ImportError,
    LookupError,
    TypeError,
    ValueError,
    ArithmeticError,
    OSError,
    StoreError,
)
#: runs of the last N days name the usual running weekdays
USUAL_RUN_DAYS_WINDOW: Final[int] = 56


def _day_ts(d: date | None, plus_days: int = 0) -> pd.Timestamp | None:
    return None if d is None else pd.Timestamp(d, tz="UTC") + pd.Timedelta(days=plus_days)


# ---------------------------------------------------------------------- the seam to the run analytics
def _analysis_asymmetry(store: Store, athlete: str, since: date | None, until: date | None) -> pd.DataFrame:
    """The run analytics as a provider of pace-adjusted values (the one call into the analysis side).

    Uses ``stridelab.services.analysis.run_table`` -> ``(table, ref_speed_m_s)``: the values at one reference
    speed for all runs, i.e. pace-adjusted. Runs it cannot adjust keep the catalog's raw means in
    :func:`run_asymmetry`, labelled as such.
    """
    from stridelab.services.analysis import derived, run_table  # lazy because statsmodels is heavy

    def compute() -> pd.DataFrame:
        table, ref = run_table(store, athlete, since=_day_ts(since), until=_day_ts(until, 1))
        return provider_frame_of_run_table(table, ref)

    def encode(frame: pd.DataFrame) -> dict[str, Any]:
        return {"rows": frame.to_dict("list"), "ref": frame.attrs.get("ref_speed_m_s")}

    def decode(data: dict[str, Any]) -> pd.DataFrame:
        frame = pd.DataFrame(data["rows"], columns=list(PROVIDER_COLUMNS))
        frame = frame.astype({"activity_id": str, "balance_left_pct": "float64", "gct_s": "float64"})
        if data["ref"] is not None:
            frame.attrs["ref_speed_m_s"] = float(data["ref"])
        return frame

    # kept in the store while the runs and their analyses are unchanged: `load` and `plan` read one row
    params = {"since": since, "until": until}
    return derived(store, athlete, "asymmetry", params, compute, encode=encode, decode=decode)


def run_asymmetry(
    store: Store,
    athlete: str = "me",
    *,
    since: date | None = None,
    until: date | None = None,
    provider: ProviderArg = True,
) -> pd.DataFrame:
    """Per-run GCT balance (LEFT share, %) and GCT (s) of the athlete's runs, labelled by source.

    ``provider=True`` (default) uses the run analytics when available; ``False``/``None`` forces the
    catalog means; a callable is used as the provider (its failures are raised). Runs the provider
    does not cover (or covers with NaN) fall back to the catalog means, row by row. ``until`` is
    inclusive. Columns: ``activity_id``, ``start_time``, ``day`` (UTC calendar day of the start),
    ``balance_left_pct``, ``gct_s``, ``source``.
    """
    rows = store.list_activities(
        athlete,
        since=pd.Timestamp(since, tz="UTC") if since else None,
        until=pd.Timestamp(until, tz="UTC") + pd.Timedelta(days=1) if until else None,
    )
    base = catalog_asymmetry(rows)
    chosen: RunAsymmetryProvider | None
    if provider is True:
        chosen = _analysis_asymmetry
    elif provider is False or provider is None:
        chosen = None
    else:
        chosen = provider
    adjusted = None
    if chosen is not None and len(base):
        try:
            adjusted = chosen(store, athlete, since, until)
        except _ANALYSIS_FAILURES:
            if provider is not True:
                raise  # an explicitly given provider's failure is the caller's to see
            adjusted = empty_provider_frame()
    return merge_asymmetry(base, adjusted)


# ---------------------------------------------------------------------- plans
def gather_evidence(
    store: Store, athlete: str, today: date, *, provider: ProviderArg = True, use_runs: bool = True
) -> Evidence:
    """Balance tests of the last 90 days and runs of the last 8 weeks up to ``today`` (inclusive).

    ``use_runs=False`` leaves the runs out (the plan is tailored to the balance tests only).
    """
    tests = balance_history(store, athlete, since=today - timedelta(days=BALANCE_WINDOW_DAYS), until=today)
    runs = None
    if use_runs:
        runs = run_asymmetry(
            store, athlete, since=today - timedelta(days=RUN_WINDOW_DAYS), until=today, provider=provider
        )
    return evidence_from(tests, runs)


#: pain logged in the last N days counts for the side
PAIN_WINDOW_DAYS: Final[int] = 28


def _drift_evidence(store: Store, athlete: str, since: date, until: date) -> DriftEvidence | None:
    """Mean of the runs' balance drift (pp/h) with its interval across runs (the run analytics)."""
    from stridelab.services.analysis import run_table  # lazy because statsmodels is heavy

    try:
        table, _ref = run_table(store, athlete, since=_day_ts(since), until=_day_ts(until, 1))
    except _ANALYSIS_FAILURES:
        return None
    if "balance_drift_pp_per_h" not in table.columns:
        return None
    m = mean_interval(pd.to_numeric(table["balance_drift_pp_per_h"], errors="coerce").tolist())
    if m is None or m[1] is None or m[2] is None:
        return None
    return DriftEvidence(m[0], m[1], m[2], m[3])


def _pain_evidence(store: Store, athlete: str, since: date, until: date) -> PainEvidence | None:
    """The highest exercise pain logged per side in the window (None without any pain logged)."""
    worst: dict[str, float] = {}
    days: set[str] = set()
    for log in session_logs(store, athlete):
        if not since <= log.date <= until:
            continue
        for ex in log.exercises:
            if ex.side in ("left", "right") and ex.pain is not None:
                worst[ex.side] = max(worst.get(ex.side, 0.0), float(ex.pain))
                if ex.pain > 0:
                    days.add(log.date.isoformat())
    if not worst:
        return None
    return PainEvidence(worst.get("left"), worst.get("right"), tuple(sorted(days)))


def side_assessment(
    store: Store,
    athlete: str,
    today: date,
    *,
    answer: str = "auto",
    squat_left: str | None = None,
    squat_right: str | None = None,
    provider: ProviderArg = True,
    use_runs: bool = True,
) -> SideAssessment:
    """Which side to work on from every piece of evidence up to ``today`` (the rule ``SIDE_RULE``):
    the runs of the last 8 weeks (pace-adjusted GCT balance where the analytics can adjust it, and the
    fatigue drift), the balance tests of the last 90 days, exercise pain logged on one side in the last
    4 weeks, the squat-quality ratings and the runner's answer."""
    tests = balance_history(store, athlete, since=today - timedelta(days=BALANCE_WINDOW_DAYS), until=today)
    run_ev = drift = None
    if use_runs:
        since = today - timedelta(days=RUN_WINDOW_DAYS)
        runs = run_asymmetry(store, athlete, since=since, until=today, provider=provider).dropna(
            subset=["balance_left_pct"]
        )
        if len(runs):
            run_ev = run_balance_evidence(
                runs["balance_left_pct"].tolist(),
                " + ".join(sorted(set(runs["source"]))),
                [d.isoformat() for d in runs["day"]],
            )
            if provider is True:
                drift = _drift_evidence(store, athlete, since, today)
    pain = _pain_evidence(store, athlete, today - timedelta(days=PAIN_WINDOW_DAYS), today)
    return assess_side(
        answer=answer,
        runs=run_ev,
        drift=drift,
        balance_tests=balance_summary(tests),
        pain=pain,
        squat_left=squat_left,
        squat_right=squat_right,
        run_window_days=RUN_WINDOW_DAYS,
        test_window_days=BALANCE_WINDOW_DAYS,
    )


def usual_run_days(store: Store, athlete: str, today: date) -> tuple[int, ...]:
    """Weekdays (0 = Monday) with a run in at least a third of the last 8 weeks (empty without runs)."""
    rows = store.list_activities(
        athlete,
        since=pd.Timestamp(today - timedelta(days=USUAL_RUN_DAYS_WINDOW), tz="UTC"),
        until=pd.Timestamp(today + timedelta(days=1), tz="UTC"),
    )
    weeks_by_day: dict[int, set[int]] = {}
    for r in rows:
        if is_run(r):
            d = pd.Timestamp(r.start_time).tz_convert("UTC").date()
            weeks_by_day.setdefault(d.weekday(), set()).add((today - d).days // 7)
    return tuple(sorted(day for day, weeks in weeks_by_day.items() if len(weeks) >= 8 / 3))


def tailored_plan(
    store: Store,
    athlete: str,
    inputs: PlanInputs,
    today: date,
    *,
    use_runs: bool = True,
    provider: ProviderArg = True,
) -> Plan:
    """Build (not save) a plan from the answers and the measured evidence up to ``today``.

    Raises :class:`InputError` for invalid or impossible answers.
    """
    evidence = gather_evidence(store, athlete, today, provider=provider, use_runs=use_runs)
    side = side_assessment(
        store,
        athlete,
        today,
        answer=inputs.weaker_side,
        squat_left=inputs.squat_quality_left,
        squat_right=inputs.squat_quality_right,
        provider=provider,
        use_runs=use_runs,
    )
    return build_plan(inputs, replace(evidence, side=side), today=today)


def plan_with_statuses(store: Store, athlete: str, today: date) -> dict[str, Any] | None:
    """The active plan's JSON contract with each session's ``status`` (its log's, else ``missed``,
    ``today`` or ``planned``), its ``plan_id``, ``created_at`` and ``adherence``; None without a plan."""
    stored = active_plan(store, athlete)
    if stored is None:
        return None
    logs = {log.date: log for log in session_logs(store, athlete, stored.id)}
    d = stored.plan.to_dict()
    for s in d["sessions"]:
        day = date.fromisoformat(s["date"])
        log = logs.get(day)
        created = created_day(stored.created_at)
        s["status"] = (
            log.status
            if log
            else (
                "before the plan"
                if created is not None and day < created
                else ("missed" if day < today else ("today" if day == today else "planned"))
            )
        )
    adh = adherence(stored.plan, list(logs.values()), today, created=created_day(stored.created_at))
    return {"plan_id": stored.id, "created_at": stored.created_at, **d, "adherence": adh}


def plan_live_targets(store: Store, athlete: str, today: date) -> dict[str, tuple[float, float]]:
    """The live target bands of the active plan on ``today`` (:func:`stridelab.training.plan_target_bands`:
    GCT balance in the balanced zone while a plan naming a weaker side runs; empty otherwise)."""
    from stridelab.training import plan_target_bands

    stored = active_plan(store, athlete)
    return plan_target_bands(stored.plan.to_dict() if stored else None, today)


def plan_adherence(store: Store, athlete: str, today: date) -> dict[str, Any] | None:
    """:func:`adherence` of the active plan up to ``today`` (None without a plan)."""
    stored = active_plan(store, athlete)
    if stored is None:
        return None
    logs = session_logs(store, athlete, stored.id)
    return adherence(stored.plan, logs, today, created=created_day(stored.created_at))


def plan_ics(stored: StoredPlan) -> bytes:
    """The stored plan as iCalendar bytes (stable UIDs, DTSTAMP = its creation instant)."""
    return plan_to_ics(stored.plan, plan_id=stored.id, created_at=stored.created_at)


# ---------------------------------------------------------------------- the day
def today_session(store: Store, athlete: str, today: date) -> dict[str, Any]:
    """What the runner does on ``today``: the session (adjusted for stops and a missed week) or rest.

    Keys: ``date``, ``plan_id``, ``session`` (None on a rest day or without a plan), ``next_date``,
    ``messages``, ``stops``, ``adherence``.
    """
    stored = active_plan(store, athlete)
    if stored is None:
        return today_view(None, [], [], today)
    return today_view(stored, session_logs(store, athlete, stored.id), stops(store, athlete), today)


def log_session(
    store: Store,
    athlete: str,
    day: date,
    status: str,
    *,
    rpe: float | None = None,
    pain: float | None = None,
    exercises: tuple[ExerciseLog, ...] = (),
    note: str | None = None,
    library: Library | None = None,
) -> LogResult:
    """Log the session of ``day`` against the active plan (replacing an earlier log of that day).

    Works without a plan too (an off-plan entry). Pain >= 7 stops the exercise (or, for the session
    pain, the program) and the returned messages say so. Raises :class:`LogError` for a bad entry.
    """
    stored = active_plan(store, athlete)
    decision = assess_log(stored, day, status, rpe=rpe, pain=pain, exercises=exercises, library=library)
    log_id = write_session_log(
        store, athlete, decision.plan_id, day, status, rpe, pain, note, exercises, decision.new_stops
    )
    log = next(s for s in session_logs(store, athlete, decision.plan_id) if s.id == log_id)
    return LogResult(log, decision.planned, decision.messages, tuple(stops(store, athlete)))


def clear_stop(store: Store, athlete: str, exercise_id: str, day: date) -> int:
    """Clear the pain stop of ``exercise_id`` (``"all"`` or ``"*"`` for the program pause)."""
    return clear_stops(store, athlete, stop_exercise_id(exercise_id), day)


# ---------------------------------------------------------------------- balance tests
def record_balance_test(
    store: Store,
    athlete: str,
    side: str,
    seconds: float,
    eyes: str = "open",
    day: date | None = None,
    note: str | None = None,
) -> int:
    """Store one single-leg stand test (time until the lifted foot touched down, s). Returns its id.

    Raises ValueError naming the parameter (``side``, ``eyes``, ``seconds``) for an impossible test.
    """
    check_balance_test(side, seconds, eyes)
    return add_balance_test(store, athlete, side, seconds, eyes, day or datetime.now().date(), note)


def balance_test_records(tests: pd.DataFrame) -> list[dict[str, Any]]:
    """:func:`balance_history` rows as JSON-ready dicts: id, date (ISO day), side, eyes, seconds, note
    (None when the test has none)."""
    return [
        {
            "id": int(r["id"]),
            "date": pd.Timestamp(r["date"]).date().isoformat(),
            "side": r["side"],
            "eyes": r["eyes"],
            "seconds": float(r["seconds"]),
            "note": r["note"] if isinstance(r["note"], str) else None,  # a missing note reads as NaN
        }
        for r in tests.to_dict("records")
    ]


# ---------------------------------------------------------------------- function tests (issue 20)
def record_function_test(
    store: Store,
    athlete: str,
    test: str,
    seconds: float,
    *,
    steps_off: int | None = None,
    symmetry_index_pct: float | None = None,
    source: str = "manual",
    day: date | None = None,
    note: str | None = None,
) -> int:
    """Store one function test (``sit_to_stand_5x`` or ``tandem_walk``; seconds, steps off the line,
    L/R step-time symmetry index). Raises ValueError naming the parameter for an impossible test."""
    check_function_test(test, seconds, steps_off, symmetry_index_pct)
    return add_function_test(
        store,
        athlete,
        test,
        seconds,
        day or datetime.now().date(),
        steps_off=steps_off,
        symmetry_index_pct=symmetry_index_pct,
        source=source,
        note=note,
    )


def measure_function_test(path: str | Path, test: str, **options: Any) -> dict[str, Any]:
    """Time a function test from a waist / lower-back sensor (or a phone on the waist) in the recording at
    ``path`` (``options`` as for :func:`stridelab.services.imu.analyse_file`: placement, sampling_rate_hz,
    units ... for a file without a sidecar). Returns the algorithm's summary plus ``test`` and, for the
    tandem walk, ``steps_off`` and ``symmetry_index_pct`` (None where the sensor does not show them)."""
    import math

    from stridelab.gait import SitToStand, TandemWalk
    from stridelab.io.imu import ImuReader, find_sidecar

    check_function_test(test, 1.0)
    if find_sidecar(path) is not None:  # the sidecar says placement, rate and units
        options = {}
    recording = ImuReader().read(Path(path), **options)
    waist = [s for s in recording.sensors if s.placement in ("sacrum", "chest")]
    if not waist and len(recording.sensors) == 1:
        waist = list(recording.sensors)  # a phone's single sensor, whatever placement it was read as
    if not waist:
        raise ValueError(
            f"{path}: a function test needs a waist/lower-back sensor; the file has "
            f"{[x.placement for x in recording.sensors]}"
        )
    s = waist[0]
    if test == "sit_to_stand_5x":
        sts = SitToStand().estimate(s.data, sampling_rate_hz=s.sampling_rate_hz)
        if not sts.complete_:
            raise ValueError(
                f"{path}: found {sts.n_rises_found_} of 5 rises; not a complete sit-to-stand test"
            )
        if sts.problems_:
            raise ValueError(f"{path}: {sts.problems_[0]}")
        return {"test": test, **sts.summary(), "steps_off": None, "symmetry_index_pct": None}
    tw = TandemWalk().estimate(s.data, sampling_rate_hz=s.sampling_rate_hz)
    sym = tw.step_time_symmetry_index_pct_
    return {
        "test": test,
        **tw.summary(),
        "steps_off": tw.steps_off_line_,
        "symmetry_index_pct": None if math.isnan(sym) else sym,
    }


def function_test_records(tests: pd.DataFrame) -> list[dict[str, Any]]:
    """:func:`function_test_history` rows as JSON-ready dicts (None for what a test does not have)."""
    out = []
    for r in tests.to_dict("records"):
        sym = r["symmetry_index_pct"]
        out.append(
            {
                "id": int(r["id"]),
                "date": pd.Timestamp(r["date"]).date().isoformat(),
                "test": r["test"],
                "seconds": float(r["seconds"]),
                "steps_off": None if pd.isna(r["steps_off"]) else int(r["steps_off"]),
                "symmetry_index_pct": None if pd.isna(sym) else float(sym),
                "source": r["source"],
                "note": r["note"] if isinstance(r["note"], str) else None,
            }
        )
    return out


# ---------------------------------------------------------------------- load guard
def weekly_load(
    store: Store, athlete: str = "me", *, today: date, provider: ProviderArg = True
) -> LoadReport:
    """The load guard up to ``today`` (inclusive; runs after it are ignored). With the default
    provider the report is kept in the store until a run or an analysis changes."""

    def compute() -> LoadReport:
        rows = store.list_activities(athlete, until=pd.Timestamp(today + timedelta(days=1), tz="UTC"))
        since = load_since(rows, today)
        if since is None:
            return load_report(rows, today)
        runs = run_asymmetry(store, athlete, since=since, until=today, provider=provider)
        return load_report(rows, today, runs)

    if provider is not True:
        return compute()
    from stridelab.services.analysis import derived

    return derived(
        store, athlete, "load", {"today": today}, compute, encode=LoadReport.to_dict, decode=_load_report_of
    )


def _load_report_of(d: dict[str, Any]) -> LoadReport:
    """The :class:`LoadReport` of its ``to_dict()``."""
    weeks = tuple(WeekLoad(**{**w, "week_start": date.fromisoformat(w["week_start"])}) for w in d["weeks"])
    return LoadReport(
        today=date.fromisoformat(d["today"]),
        weeks=weeks,
        recommendation=d["recommendation"],
        form_drift=d["form_drift"],
        message=d["message"],
        caveats=tuple(d["caveats"]),
    )


# ---------------------------------------------------------------------- outcome
def _outcome_data(
    store: Store, athlete: str, plan: Plan, plan_id: int, today: date, provider: ProviderArg
) -> tuple[pd.DataFrame, pd.DataFrame, list[SessionLog]]:
    tests = balance_history(store, athlete)
    runs = run_asymmetry(store, athlete, since=outcome_since(plan), until=today, provider=provider)
    return tests, runs, session_logs(store, athlete, plan_id)


def outcome_table(
    store: Store,
    athlete: str,
    plan: Plan,
    plan_id: int,
    today: date,
    *,
    provider: ProviderArg = True,
) -> list[dict[str, Any]]:
    """One row per window (before, each phase, after): balance-test asymmetry, the runs' GCT balance
    (labelled pace-adjusted or raw) and the phase's adherence."""
    return outcome_rows(plan, today, *_outcome_data(store, athlete, plan, plan_id, today, provider))


def outcome_chart(
    store: Store,
    athlete: str,
    plan: Plan,
    plan_id: int,
    today: date,
    path: Path,
    *,
    provider: ProviderArg = True,
    verdicts: Sequence[tuple[date, date, str, str]] = (),
) -> Path:
    """Write the outcome chart (balance-test asymmetry, runs' GCT balance, adherence) to ``path``;
    ``verdicts`` (start, end, verdict, numbers) per phase are written over the phases."""
    tests, runs, logs = _outcome_data(store, athlete, plan, plan_id, today, provider)
    return draw_outcome_chart(plan, today, tests, runs, logs, path, verdicts)


# ---------------------------------------------------------------------- the exercise library
def exercises(category: str | None = None, phase: int | None = None) -> list[Exercise]:
    """The library's exercises (of ``category`` and suiting ``phase`` when given), in library order."""
    return list(load_library().filter(category=category, phase=phase))


# ---------------------------------------------------------------------- load beyond kilometres
@dataclass(frozen=True, slots=True)
class FitnessReport:
    """Per-run TRIMP and power stress score, the daily fitness/fatigue series of each load, the
    latest values, and every assumption made (estimated HRmax, resting HR, CP)."""

    today: date
    runs: pd.DataFrame  # id, day, duration_s, trimp, power_stress
    daily: dict[str, pd.DataFrame]  # load name -> frame(load, atl, ctl, tsb) by day
    hr_rest: float | None
    hr_max: float | None
    cp_w: float | None
    assumptions: tuple[str, ...]
    caveats: tuple[str, ...] = FITNESS_CAVEATS

    def latest(self, load: str) -> dict[str, float] | None:
        d = self.daily.get(load)
        if d is None or not len(d):
            return None
        row = d.iloc[-1]
        return {k: float(row[k]) for k in ("load", "atl", "ctl", "tsb")}

    def weekly(self, load: str) -> pd.DataFrame:
        """Weekly sums of ``load``, their change on the previous week and the ACWR (empty without it)."""
        d = self.daily.get(load)
        return weekly_ratios(d) if d is not None and len(d) else pd.DataFrame()


def _load_summary_of_records(rec: pd.DataFrame, duration_s: float | None) -> RunLoadSummary:
    """The :class:`RunLoadSummary` of one run's records: heart rate, the running power (the device's
    ``power_w`` or a developer power field that is not form or air power), sample durations with
    pauses clipped to 10 s (a pause is not effort)."""
    t = pd.DatetimeIndex(rec.index)
    dt = np.diff(t.asi8) / 1e9 if len(t) > 1 else np.zeros(0)
    dt = np.clip(np.r_[dt, dt[-1] if dt.size else 1.0], 0.0, 10.0)
    hr = pd.to_numeric(rec["heart_rate_bpm"], errors="coerce").to_numpy() if "heart_rate_bpm" in rec else None
    pw = pd.to_numeric(rec["power_w"], errors="coerce").to_numpy() if "power_w" in rec else None
    if pw is None:
        dev = [
            c
            for c in rec.columns
            if c.startswith("dev_") and c.endswith("_power_w") and "form" not in c and "air" not in c
        ]
        pw = pd.to_numeric(rec[dev[0]], errors="coerce").to_numpy() if dev else None
    return run_load_summary(hr, dt, pw, float(duration_s or np.sum(dt)))


def run_load_summaries(
    store: Store, athlete: str, rows: Sequence[ActivityRow], *, use_cache: bool = True
) -> dict[str, RunLoadSummary]:
    """The load summary of each run in ``rows`` by id: the valid kept ones in one read, the others
    from their records (then kept, in one transaction). A kept summary is valid for the analysis
    version and the run as it is (``stridelab.store.loads``), so a re-imported run is read again."""
    kept = loads_repo.read_run_loads(store, athlete) if use_cache else {}
    out: dict[str, RunLoadSummary] = {}
    fresh: dict[str, dict[str, Any]] = {}
    for r in rows:
        data = kept.get(r.id)
        if data is not None:
            try:
                out[r.id] = RunLoadSummary.from_dict(data)
                continue
            except (KeyError, TypeError, ValueError):
                pass  # an unreadable row: summarise the run again
        out[r.id] = _load_summary_of_records(store.records(athlete, r.id), r.duration_s)
        fresh[r.id] = out[r.id].to_dict()
    if fresh and use_cache:
        loads_repo.write_run_loads(store, athlete, fresh)
    return out


def fitness(
    store: Store,
    athlete: str = "me",
    *,
    today: date,
    hr_rest: float | None = None,
    hr_max: float | None = None,
    sex: str = "female",
    cp_w: float | None = None,
) -> FitnessReport:
    """TRIMP (heart rate) and power stress score per run up to ``today`` and their CTL/ATL/TSB, from
    each run's kept load summary (:func:`run_load_summaries`: only runs never summarised are read).
    Missing HRmax / CP are estimated from the runs, missing resting HR is 60 bpm -- each said in
    ``assumptions``."""
    if sex not in ("female", "male"):
        raise ValueError(f"Invalid value for 'sex'. Allowed values are 'female', 'male', but got {sex!r}.")
    rows = [
        r
        for r in store.list_activities(athlete, until=pd.Timestamp(today + timedelta(days=1), tz="UTC"))
        if is_run(r)
    ]
    summaries = run_load_summaries(store, athlete, rows)
    per: list[dict[str, Any]] = [
        {
            "id": r.id,
            "day": pd.Timestamp(r.start_time).tz_convert("UTC").date(),
            "duration_s": summaries[r.id].duration_s,
            "_s": summaries[r.id],
        }
        for r in rows
    ]
    assumptions: list[str] = []
    if hr_max is None:
        hr_max = estimate_hr_max([p["_s"].hr_p99_bpm for p in per])
        if hr_max is not None:
            assumptions.append(
                f"maximal heart rate {hr_max:.0f} bpm estimated from your runs (pass --hr-max)"
            )
    if hr_rest is None:
        hr_rest = 60.0
        assumptions.append("resting heart rate 60 bpm assumed (pass --hr-rest)")
    if cp_w is None:
        cp_w = estimate_cp_w([p["_s"].best40_power_w for p in per])
        if cp_w is not None:
            assumptions.append(f"critical power {cp_w:.0f} W estimated as your best 40-min power (pass --cp)")
    for p in per:
        summary: RunLoadSummary = p["_s"]
        p["trimp"] = (
            summary.trimp(hr_rest=hr_rest, hr_max=hr_max, sex=sex)  # type: ignore[arg-type]
            if hr_max is not None and hr_max > hr_rest
            else None
        )
        p["power_stress"] = summary.power_stress(cp_w) if cp_w else None
    runs = pd.DataFrame(
        [{k: v for k, v in p.items() if not k.startswith("_")} for p in per],
        columns=["id", "day", "duration_s", "trimp", "power_stress"],
    )
    daily: dict[str, pd.DataFrame] = {}
    if len(runs):
        days = pd.date_range(min(runs["day"]), today, freq="D")
        for load in ("trimp", "power_stress"):
            vals = pd.to_numeric(runs[load], errors="coerce")
            if vals.notna().any():
                per_day = vals.groupby(pd.to_datetime(runs["day"])).sum(min_count=1)
                daily[load] = fitness_fatigue(per_day.reindex(days, fill_value=0.0))
    return FitnessReport(today, runs, daily, hr_rest, hr_max, cp_w, tuple(assumptions))


def recent_fitness(store: Store, athlete: str = "me", *, today: date, days: int = 16 * 7) -> dict[str, Any]:
    """The last ``days`` days of fitness (CTL), fatigue (ATL), form (TSB) and daily load of the
    heart-rate TRIMP (else the power score), with the assumptions made: ``{"load": name or None,
    "day": [...], "load_per_day": [...], "ctl": [...], "atl": [...], "tsb": [...], "assumptions":
    [...]}`` (what the dashboard's fitness chart draws). Kept in the store until a run or an analysis
    changes (``services.analysis.derived``): a warm chart reads one row, not every run's summary."""
    from stridelab.services.analysis import derived, ensure_schema

    ensure_schema(store)  # before the fingerprint is taken: creating the cache tables changes it

    def compute() -> dict[str, Any]:
        rep = fitness(store, athlete, today=today)
        name = "trimp" if "trimp" in rep.daily else ("power_stress" if "power_stress" in rep.daily else None)
        out: dict[str, Any] = {"load": name, "assumptions": list(rep.assumptions)}
        empty = pd.DataFrame(columns=["load", "ctl", "atl", "tsb"])
        d = rep.daily[name].tail(days) if name is not None else empty
        out["day"] = [pd.Timestamp(t).date().isoformat() for t in d.index]
        out["load_per_day"] = [float(v) for v in d["load"]]
        for col in ("ctl", "atl", "tsb"):
            out[col] = [float(v) for v in d[col]]
        return out

    params = {"today": today, "days": days}
    result: dict[str, Any] = derived(store, athlete, "fitness_recent", params, compute)
    return result
