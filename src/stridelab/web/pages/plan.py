"""Plan & today (``/plan``): today's session as a checklist with per-side hold timers and rep
counters (phone-first), logging done/partial/skipped with RPE and pain, and the program timeline.

Every write (a log, a cleared stop, a new plan) runs on the server's one writer thread.
"""

from __future__ import annotations

import datetime as _dt
import json
from datetime import date, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from stridelab.frames import Side
from stridelab.services.training import (
    EQUIPMENT,
    HOUSEHOLD_EQUIPMENT,
    PAIN_AREAS,
    WEEKDAYS,
    ExerciseLog,
    InputError,
    LogError,
    LogResult,
    PlanInputs,
    active_plan,
    clear_stop,
    log_session,
    parse_weekdays,
    save_plan,
    session_logs,
    tailored_plan,
    today_session,
)
from stridelab.web._state import WebState
from stridelab.web.pages._common import JSONText, render, state

__all__ = ["router"]

router = APIRouter()
_MAX_EXERCISE_LOGS = 200


class ExerciseLogIn(BaseModel):
    """What was done of one exercise on one side."""

    exercise_id: str = Field(pattern=r"^[a-z0-9_]{1,64}$")
    side: Side | Literal["both"]
    reps: int | None = Field(None, ge=0, le=10_000)
    seconds: float | None = Field(None, ge=0, le=36_000)
    pain: float | None = Field(None, ge=0, le=10)


class SessionLogIn(BaseModel):
    """A session log: status, RPE and pain 0-10, optional per-exercise details."""

    date: _dt.date | None = None
    status: Literal["done", "partial", "skipped"]
    rpe: float | None = Field(None, ge=0, le=10)
    pain: float | None = Field(None, ge=0, le=10)
    note: str | None = Field(None, max_length=1000)
    exercises: list[ExerciseLogIn] = Field(default_factory=list, max_length=_MAX_EXERCISE_LOGS)


class PlanIn(BaseModel):
    """The answers of ``stridelab plan create`` the web asks (the CLI also asks squat quality).
    Unknown fields are refused (422), never silently dropped."""

    model_config = ConfigDict(extra="forbid")

    start: date
    weeks: int = Field(12, ge=1, le=52)
    sessions_per_week: int = Field(3, ge=1, le=7)
    minutes: float = Field(15.0, ge=5, le=120)
    run_days: list[str] = Field(
        default_factory=list, max_length=7, description="Running weekdays: mon, tue, ... sun"
    )
    weaker_side: Literal["auto", "left", "right", "none"] = "auto"
    pain_areas: list[str] = Field(default_factory=list, max_length=len(PAIN_AREAS))
    equipment: list[str] = Field(
        default_factory=list, max_length=len(EQUIPMENT), description="Extra to the household items"
    )
    lighter_week: bool = False


def _timeline(st: WebState) -> dict[str, Any] | None:
    stored = active_plan(st.store, st.athlete)
    if stored is None:
        return None
    plan = stored.plan
    logs = {log.date: log for log in session_logs(st.store, st.athlete, stored.id)}
    today = st.today()
    weeks: list[dict[str, Any]] = []
    for s in plan.sessions:
        log = logs.get(s.date)
        status: str
        if log is not None:
            status = log.status
        elif s.date < today:
            status = "missed"
        elif s.date == today:
            status = "today"
        else:
            status = "upcoming"
        if not weeks or weeks[-1]["week"] != s.week:
            weeks.append({"week": s.week, "phase": s.phase, "lighter": s.lighter, "sessions": []})
        weeks[-1]["sessions"].append(
            {
                "date": s.date.isoformat(),
                "weekday": s.date.strftime("%a"),
                "status": status,
                "minutes": s.minutes_est,
                "rpe": log.rpe if log else None,
                "pain": log.pain if log else None,
            }
        )
    span = max((plan.end - plan.start).days + 1, 1)
    phases = [
        {
            **p.to_dict(),
            "left_pct": 100.0 * (p.start - plan.start).days / span,
            "width_pct": 100.0 * (p.end - p.start + timedelta(days=1)).days / span,
        }
        for p in plan.phases
    ]
    now_pct = 100.0 * (today - plan.start).days / span if plan.start <= today <= plan.end else None
    return {
        "plan_id": stored.id,
        "start": plan.start.isoformat(),
        "end": plan.end.isoformat(),
        "weaker_side": plan.weaker_side,
        "phases": phases,
        "weeks": weeks,
        "now_pct": now_pct,
        "warnings": list(plan.warnings),
        "notes": list(plan.notes),
    }


def _today(st: WebState, day: date | None = None) -> dict[str, Any]:
    return today_session(st.store, st.athlete, day or st.today())


def _log(st: WebState, body: SessionLogIn) -> LogResult:
    day = body.date or st.today()
    if day > st.today() + timedelta(days=1):
        raise HTTPException(422, "Invalid value for 'date': a session cannot be logged in the future.")
    exercises = tuple(ExerciseLog(e.exercise_id, e.side, e.reps, e.seconds, e.pain) for e in body.exercises)
    note = body.note.strip() if body.note and body.note.strip() else None
    try:
        return st.write(
            lambda: log_session(
                st.store,
                st.athlete,
                day,
                body.status,
                rpe=body.rpe,
                pain=body.pain,
                exercises=exercises,
                note=note,
            )
        )
    except LogError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.get("/api/plan", tags=["plan"], summary="The active plan's timeline")
def api_plan(request: Request) -> JSONText:
    """Phases and dated sessions with their logged status (``null`` without a plan)."""
    return JSONText(_timeline(state(request)))


@router.get("/api/plan/today", tags=["plan"], summary="Today's session")
def api_today(request: Request, day: date | None = None) -> JSONText:
    """:func:`stridelab.services.training.today_session` (of ``day``, default today)."""
    return JSONText(_today(state(request), day))


@router.post("/api/plan/log", tags=["plan"], summary="Log a session")
def api_log(request: Request, body: SessionLogIn) -> JSONText:
    """Log the session of ``date`` (default today); replaces an earlier log of that day. The answer's
    ``messages`` must be shown: pain ≥ 7 stops an exercise (or the program)."""
    return JSONText(_log(state(request), body).to_dict())


@router.post("/api/plan", tags=["plan"], summary="Create a plan")
def api_create_plan(request: Request, body: PlanIn) -> JSONText:
    """Build a plan from the answers and the measured evidence, and make it the active one."""
    st = state(request)
    plan_id, plan = _create(st, body)
    return JSONText({"plan_id": plan_id, "plan": plan})


def _create(st: WebState, body: PlanIn) -> tuple[int, dict[str, Any]]:
    today = st.today()
    try:
        inputs = PlanInputs(
            start=body.start,
            weeks=body.weeks,
            sessions_per_week=body.sessions_per_week,
            minutes=body.minutes,
            run_days=parse_weekdays(body.run_days),
            weaker_side=body.weaker_side,
            pain_areas=tuple(dict.fromkeys(a.strip().lower() for a in body.pain_areas if a.strip())),
            equipment=tuple(
                sorted(set(HOUSEHOLD_EQUIPMENT) | {e.strip().lower() for e in body.equipment if e.strip()})
            ),
            lighter_week=body.lighter_week,
        )
        plan = tailored_plan(st.store, st.athlete, inputs, today, provider=st.index.asymmetry_provider())
    except InputError as exc:
        raise HTTPException(422, str(exc)) from exc
    plan_id = st.write(lambda: save_plan(st.store, st.athlete, plan))
    return plan_id, plan.to_dict()


def _page(
    request: Request, result: dict[str, Any] | None = None, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    st = state(request)
    today = _today(st)
    return render(
        request,
        "plan.html",
        status_code=status_code,
        title="Plan & today",
        t=today,
        weekday_names=WEEKDAYS,
        pain_areas=PAIN_AREAS,
        extra_equipment=[e for e in EQUIPMENT if e not in HOUSEHOLD_EQUIPMENT],
        timeline=_timeline(st),
        result=result,
        error=error,
    )


@router.get("/plan", response_class=HTMLResponse, include_in_schema=False)
def plan_page(request: Request) -> HTMLResponse:
    return _page(request)


def _opt_float(text: str, name: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError as exc:
        raise HTTPException(422, f"Invalid value for '{name}': {text!r} is not a number.") from exc


@router.post("/plan/log", response_class=HTMLResponse, include_in_schema=False)
def plan_log_form(
    request: Request,
    status: str = Form(...),
    rpe: str = Form(""),
    pain: str = Form(""),
    note: str = Form("", max_length=1000),
    day: str = Form(""),
    exercises_json: str = Form("[]", max_length=100_000),
) -> HTMLResponse:
    try:
        items = json.loads(exercises_json or "[]")
        body = SessionLogIn(
            date=date.fromisoformat(day) if day else None,
            status=status,  # type: ignore[arg-type]
            rpe=_opt_float(rpe, "rpe"),
            pain=_opt_float(pain, "pain"),
            note=note or None,
            exercises=[ExerciseLogIn(**e) for e in items] if isinstance(items, list) else [],
        )
        result = _log(state(request), body)
    except HTTPException as exc:
        return _page(request, error=str(exc.detail), status_code=exc.status_code)
    except (ValueError, TypeError) as exc:
        return _page(request, error=f"Invalid log: {exc}", status_code=422)
    return _page(request, result=result.to_dict())


@router.post("/plan/clear-stop", response_class=HTMLResponse, include_in_schema=False)
def plan_clear_stop(
    request: Request, exercise_id: str = Form(..., pattern=r"^([a-z0-9_]{1,64}|\*|all)$")
) -> HTMLResponse:
    st = state(request)
    n = st.write(lambda: clear_stop(st.store, st.athlete, exercise_id, st.today()))
    return _page(request, result={"messages": [f"Cleared {n} stop(s). Start gently."], "log": None})


@router.post("/plan/create", response_class=HTMLResponse, include_in_schema=False)
def plan_create_form(
    request: Request,
    start: str = Form(...),
    weeks: int = Form(12),
    sessions_per_week: int = Form(3),
    minutes: float = Form(15.0),
    weaker_side: str = Form("auto"),
    run_days: list[str] = Form([]),
    pain_areas: list[str] = Form([]),
    equipment: list[str] = Form([]),
    lighter_week: bool = Form(False),
) -> HTMLResponse:
    try:
        body = PlanIn(
            start=date.fromisoformat(start),
            weeks=weeks,
            sessions_per_week=sessions_per_week,
            minutes=minutes,
            run_days=run_days,
            weaker_side=weaker_side,  # type: ignore[arg-type]
            pain_areas=pain_areas,
            equipment=equipment,
            lighter_week=lighter_week,
        )
        _create(state(request), body)
    except HTTPException as exc:
        return _page(request, error=str(exc.detail), status_code=exc.status_code)
    except ValueError as exc:
        return _page(request, error=f"Invalid plan: {exc}", status_code=422)
    return _page(request, result={"messages": ["Plan created."], "log": None})
