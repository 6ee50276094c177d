"""Session logging, adherence statistics, pain stops and "what do I do today".

Pain rule (0-10): at 7 or more the exercise is stopped (a session-level 7+ pauses the whole
program) until the runner clears it after seeing a professional (``stridelab log --clear-stop``);
at 4-6 the easier variant is suggested.

Pure: the caller reads the active plan, the logs and the open stops, and writes what
:func:`assess_log` decided (``stridelab.services.training`` does both).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

from stridelab.training._builder import Item, Plan, PlanSession, item_seconds
from stridelab.training._library import Library, load_library
from stridelab.training._records import ALL_EXERCISES, ExerciseLog, SessionLog, Stop, StoredPlan

__all__ = [
    "PAIN_CAUTION",
    "PAIN_STOP",
    "LogAssessment",
    "LogResult",
    "adherence",
    "assess_log",
    "stop_exercise_id",
    "today_view",
]

PAIN_STOP: Final[float] = 7.0
PAIN_CAUTION: Final[float] = 4.0
STATUSES: Final[tuple[str, ...]] = ("done", "partial", "skipped")
#: weight of a partly done session in the adherence percentage
PARTIAL_WEIGHT: Final[float] = 0.5


class LogError(ValueError):
    """An invalid log entry (message names the option)."""


def _stop_message(name: str, pain: float, day: date) -> str:
    return (
        f"STOP '{name}': you reported pain {pain:g}/10 on {day.isoformat()}. Stop this exercise and see a "
        "physiotherapist or doctor before doing it again - do not push through. When you have been cleared, "
        "run `stridelab log --clear-stop <exercise id>`."
    )


def _pause_message(pain: float, day: date) -> str:
    return (
        f"STOP: you reported session pain {pain:g}/10 on {day.isoformat()}. Pause the program and see a "
        "physiotherapist or doctor; do not push on. When cleared, run `stridelab log --clear-stop all`."
    )


@dataclass(frozen=True, slots=True)
class LogResult:
    """The stored log, whether it matched a planned session, and what the runner must be told."""

    log: SessionLog
    planned: bool
    messages: tuple[str, ...]
    stops: tuple[Stop, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "log": self.log.to_dict(),
            "planned": self.planned,
            "messages": list(self.messages),
            "stops": [s.to_dict() for s in self.stops],
        }


def _check_0_10(value: float | None, option: str) -> None:
    if value is not None and not (0.0 <= float(value) <= 10.0):
        raise LogError(f"Invalid value for '{option}': expected 0-10, got {value:g}.")


@dataclass(frozen=True, slots=True)
class LogAssessment:
    """What logging a session means: the plan it belongs to, whether it was planned, the messages
    for the runner and the pain stops to add (exercise id, pain)."""

    plan_id: int | None
    planned: bool
    messages: tuple[str, ...]
    new_stops: tuple[tuple[str, float], ...]


def assess_log(
    stored: StoredPlan | None,
    day: date,
    status: str,
    *,
    rpe: float | None = None,
    pain: float | None = None,
    exercises: tuple[ExerciseLog, ...] = (),
    library: Library | None = None,
) -> LogAssessment:
    """Check a log of ``day`` against the active plan ``stored`` and decide its stops and messages.

    Works without a plan too (an off-plan entry). Pain >= 7 stops the exercise (or, for the session
    pain, the program) and the messages say so. Raises :class:`LogError` for an invalid entry.
    """
    if status not in STATUSES:
        raise LogError(
            "Invalid value for '--status'. Allowed values are 'done', 'partial', 'skipped', "
            f"but got {status!r} "
            "instead."
        )
    _check_0_10(rpe, "--rpe")
    _check_0_10(pain, "--pain")
    lib = library or load_library()
    for e in exercises:
        if e.exercise_id not in lib:
            raise LogError(
                f"Invalid value for '--item': unknown exercise id {e.exercise_id!r} "
                "(see `stridelab exercises`)."
            )
        if e.side not in ("left", "right", "both"):
            raise LogError(f"Invalid value for '--item': side must be left, right or both, got {e.side!r}.")
        _check_0_10(e.pain, "--item pain")
        if (e.reps is not None and e.reps < 0) or (e.seconds is not None and e.seconds < 0):
            raise LogError("Invalid value for '--item': reps and seconds cannot be negative.")
    plan_id = stored.id if stored else None
    planned_session = stored.plan.session_on(day) if stored else None
    messages: list[str] = []
    if stored is None:
        messages.append(
            "No plan yet: logged as an off-plan session (create one with `stridelab plan create`)."
        )
    elif planned_session is None:
        messages.append(f"No session was planned on {day.isoformat()}: logged as an extra session.")
    planned_ids = {i.exercise_id for i in planned_session.items} if planned_session else set()
    for e in exercises:
        if planned_session is not None and e.exercise_id not in planned_ids:
            messages.append(f"'{e.exercise_id}' was not in the planned session of {day.isoformat()}.")
    new_stops: list[tuple[str, float]] = []
    worst: dict[str, float] = {}
    for e in exercises:
        if e.pain is not None:
            worst[e.exercise_id] = max(worst.get(e.exercise_id, 0.0), float(e.pain))
    for ex_id, p in sorted(worst.items()):
        if p >= PAIN_STOP:
            new_stops.append((ex_id, p))
            messages.append(_stop_message(lib[ex_id].name, p, day))
        elif p >= PAIN_CAUTION:
            reg = lib[ex_id].regression
            easier = f" - use '{lib[reg].name}' instead" if reg else " - reduce the range and the load"
            messages.append(
                f"Pain {p:g}/10 on '{lib[ex_id].name}': ease off{easier}; stop if it reaches 7/10."
            )
    if pain is not None and pain >= PAIN_STOP:
        new_stops.append((ALL_EXERCISES, float(pain)))
        messages.append(_pause_message(float(pain), day))
    elif pain is not None and pain >= PAIN_CAUTION and not worst:
        messages.append(
            f"Session pain {pain:g}/10: next time use the easier variants and tell which exercise hurt "
            "(--item ID:SIDE:VALUE:PAIN); stop at 7/10."
        )
    return LogAssessment(plan_id, planned_session is not None, tuple(messages), tuple(new_stops))


def stop_exercise_id(exercise_id: str) -> str:
    """The stored exercise id of a stop: ``"all"`` or ``"*"`` is the program pause."""
    return ALL_EXERCISES if exercise_id in ("all", "*") else exercise_id


# ---------------------------------------------------------------------- adherence
def adherence(
    plan: Plan, logs: list[SessionLog], today: date, *, created: date | None = None
) -> dict[str, Any]:
    """Adherence of the sessions due by ``today``: overall, per phase and per week.

    Sessions before today are due; today's session counts once it is logged (it is not "missed"
    while the day is still open). ``adherence_pct`` = (done + 0.5 x partial) / due x 100; a due
    session without a log is missed. Sessions dated before ``created`` (the day the plan was made:
    a plan started in the past) are not due unless logged -- they were never missed.
    """
    by_day = {log.date: log for log in logs}
    due = [
        s
        for s in plan.sessions
        if (s.date < today or (s.date == today and s.date in by_day))
        and (created is None or s.date >= created or s.date in by_day)
    ]

    def stats(sessions: list[PlanSession]) -> dict[str, Any]:
        counts = {"done": 0, "partial": 0, "skipped": 0, "missed": 0}
        rpes, pains = [], []
        for s in sessions:
            log = by_day.get(s.date)
            counts[log.status if log else "missed"] += 1
            if log is not None and log.rpe is not None:
                rpes.append(log.rpe)
            if log is not None and log.pain is not None:
                pains.append(log.pain)
        n = len(sessions)
        pct = 100.0 * (counts["done"] + PARTIAL_WEIGHT * counts["partial"]) / n if n else None
        return {
            "due": n,
            **counts,
            "adherence_pct": round(pct, 1) if pct is not None else None,
            "mean_rpe": round(sum(rpes) / len(rpes), 1) if rpes else None,
            "max_pain": max(pains) if pains else None,
        }

    weeks = sorted({s.week for s in due})
    streak = 0
    for s in reversed(due):
        log = by_day.get(s.date)
        if log is None or log.status != "done":
            break
        streak += 1
    return {
        "today": today.isoformat(),
        "planned_total": len(plan.sessions),
        **stats(due),
        "streak_done": streak,
        "extra_sessions": sum(1 for d in by_day if plan.session_on(d) is None),
        "phases": [
            {"phase": p.number, "name": p.name, **stats([s for s in due if s.phase == p.number])}
            for p in plan.phases
        ],
        "weeks": [{"week": w, **stats([s for s in due if s.week == w])} for w in weeks],
    }


# ---------------------------------------------------------------------- today
def _missed(plan: Plan, week: int, by_day: dict[date, SessionLog], created: date | None = None) -> bool:
    """True when no session of ``week`` was done (none logged, or all skipped); sessions dated before
    the plan was ``created`` do not count (they could not be done)."""
    sessions = [s for s in plan.sessions if s.week == week and (created is None or s.date >= created)]
    return bool(sessions) and all(
        by_day.get(s.date) is None or by_day[s.date].status == "skipped" for s in sessions
    )


def _missed_previous_week(
    plan: Plan, session: PlanSession, by_day: dict[date, SessionLog], created: date | None = None
) -> bool:
    return session.week > 1 and _missed(plan, session.week - 1, by_day, created)


def _resume_week(
    plan: Plan, session: PlanSession, by_day: dict[date, SessionLog], created: date | None = None
) -> int:
    """The week to repeat after missed weeks: the first of the run of missed weeks before
    ``session`` that lie in its phase (missing weeks 2 and 3 resumes at week 2's dosage, not 3's;
    never starting resumes at week 1) -- where the runner left off, not where the calendar is."""
    week = session.week - 1
    while (
        week > 1
        and _missed(plan, week - 1, by_day, created)
        and any(s.week == week - 1 and s.phase == session.phase for s in plan.sessions)
    ):
        week -= 1
    return week


def today_view(
    stored: StoredPlan | None,
    logs: list[SessionLog],
    open_stops: list[Stop],
    today: date,
    *,
    library: Library | None = None,
) -> dict[str, Any]:
    """What the runner does on ``today``: the session (adjusted for stops and a missed week) or rest.

    ``logs`` are the active plan's session logs, ``open_stops`` the stops not cleared. Keys: ``date``,
    ``plan_id``, ``session`` (None on a rest day or without a plan), ``next_date``, ``messages``,
    ``stops``, ``adherence``.
    """
    out: dict[str, Any] = {
        "date": today.isoformat(),
        "plan_id": None,
        "session": None,
        "next_date": None,
        "messages": [],
        "stops": [],
        "adherence": None,
    }
    if stored is None:
        out["messages"].append("No plan yet: create one with `stridelab plan create`.")
        return out
    plan = stored.plan
    lib = library or load_library()
    by_day = {log.date: log for log in logs}
    out["plan_id"] = stored.id
    out["stops"] = [s.to_dict() for s in open_stops]
    created = created_day(stored.created_at)
    out["adherence"] = adherence(plan, logs, today, created=created)
    nxt = [s.date for s in plan.sessions if s.date > today]
    out["next_date"] = nxt[0].isoformat() if nxt else None
    out["first_session"] = None
    if today < plan.start:
        first = plan.sessions[0] if plan.sessions else None
        out["messages"].append(
            f"The plan starts on {plan.start.isoformat()}"
            + (f"; your first session is on {first.date.isoformat()} (below)." if first else ".")
        )
        if first is not None:
            out["first_session"] = _session_json(first, list(first.items), lib)
    elif today > plan.end:
        out["messages"].append(
            f"The plan ended on {plan.end.isoformat()}: re-test your balance (`stridelab test balance`) "
            "and see "
            "`stridelab plan outcome` for what changed."
        )
    for s in open_stops:
        if s.exercise_id == ALL_EXERCISES:
            out["messages"].append(_pause_message(s.pain, s.date))
    session = plan.session_on(today)
    if session is None:
        if plan.start <= today <= plan.end:
            out["messages"].append(
                "Rest day from the program."
                + (f" Next session: {out['next_date']}." if out["next_date"] else "")
            )
        return out
    if any(s.exercise_id == ALL_EXERCISES for s in open_stops):
        out["messages"].append("Today's session is withheld until you are cleared.")
        return out
    items = list(session.items)
    if _missed_previous_week(plan, session, by_day, created):
        resume = _resume_week(plan, session, by_day, created)
        prev = [s for s in plan.sessions if s.week == resume]
        same_phase = [s for s in prev if s.phase == session.phase]
        missed_text = (
            f"week {session.week - 1}" if resume == session.week - 1 else f"weeks {resume}-{session.week - 1}"
        )
        if same_phase:
            index = [s.date for s in plan.sessions if s.week == session.week].index(session.date)
            source = same_phase[min(index, len(same_phase) - 1)]
            items = [
                Item(
                    **{
                        **_item_fields(i),
                        "why": f"{i.why}; repeated: week {source.week} was missed",
                    }
                )
                for i in source.items
            ]
            out["messages"].append(
                f"You missed {missed_text}: repeat week {resume}'s dosage today instead of jumping ahead."
            )
        else:
            out["messages"].append(
                f"You missed week {session.week - 1} (the end of the previous phase): "
                "start this phase gently, "
                "one set fewer than written if it feels hard."
            )
    stopped = {s.exercise_id: s for s in open_stops}
    kept = []
    for it in items:
        if it.exercise_id in stopped:
            st = stopped.pop(it.exercise_id)  # one message per exercise, not per side
            out["messages"].append(_stop_message(lib[it.exercise_id].name, st.pain, st.date))
        elif not any(s.exercise_id == it.exercise_id for s in open_stops):
            kept.append(it)
    adjusted = PlanSession(
        session.date,
        session.week,
        session.phase,
        session.week_in_phase,
        session.lighter,
        item_seconds(kept, lib),
        tuple(kept),
    )
    out["session"] = _session_json(adjusted, kept, lib)
    log = by_day.get(today)
    if log is not None:
        out["messages"].append(f"Already logged today as {log.status}.")
    return out


def created_day(created_at: str | None) -> date | None:
    """The calendar day of a stored plan's creation instant (ISO text), None when unreadable."""
    if not created_at:
        return None
    try:
        return datetime.fromisoformat(created_at.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def _session_json(session: PlanSession, items: list[Item], lib: Library) -> dict[str, Any]:
    out = PlanSession(
        session.date,
        session.week,
        session.phase,
        session.week_in_phase,
        session.lighter,
        item_seconds(items, lib),
        tuple(items),
    ).to_dict()
    out["exercises"] = {
        i.exercise_id: {
            "name": lib[i.exercise_id].name,
            "instructions": lib[i.exercise_id].instructions,
            "cues": list(lib[i.exercise_id].cues),
        }
        for i in items
    }
    return out


def _item_fields(i: Item) -> dict[str, Any]:
    return {k: getattr(i, k) for k in Item.__slots__}
