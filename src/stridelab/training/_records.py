"""What the training area keeps: a stored plan, session and exercise logs, pain stops, balance tests.

Plain records (no storage here: :mod:`stridelab.store.training` reads and writes them). Dates are the
runner's calendar day, instants ISO UTC strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Literal

from stridelab.frames import Side
from stridelab.training._builder import Plan

__all__ = [
    "ALL_EXERCISES",
    "EYES",
    "ExerciseLog",
    "SessionLog",
    "Stop",
    "StoredPlan",
    "check_balance_test",
]

_Date = date  # a field named ``date`` shadows the type inside the dataclasses below

#: exercise id of a stop that pauses the whole program (session-level pain >= 7)
ALL_EXERCISES: Final[str] = "*"
SIDES: Final[tuple[Side, ...]] = ("left", "right")
EYES: Final[tuple[str, ...]] = ("open", "closed")
#: the longest one-leg stand a test may record (s)
MAX_BALANCE_TEST_S: Final[float] = 600.0


@dataclass(frozen=True, slots=True)
class StoredPlan:
    """A plan as stored: its id, creation instant and the plan itself."""

    id: int
    created_at: str
    plan: Plan


@dataclass(frozen=True, slots=True)
class ExerciseLog:
    """What was done of one exercise on one side: reps or seconds (per set summed), pain 0-10."""

    exercise_id: str
    side: Side | Literal["both"]
    reps: int | None = None
    seconds: float | None = None
    pain: float | None = None


@dataclass(frozen=True, slots=True)
class SessionLog:
    """One logged session (status done/partial/skipped, RPE and pain 0-10)."""

    id: int
    plan_id: int | None
    date: date
    status: Literal["done", "partial", "skipped"]
    rpe: float | None
    pain: float | None
    note: str | None
    exercises: tuple[ExerciseLog, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "plan_id": self.plan_id,
            "date": self.date.isoformat(),
            "status": self.status,
            "rpe": self.rpe,
            "pain": self.pain,
            "note": self.note,
            "exercises": [
                {
                    "exercise_id": e.exercise_id,
                    "side": e.side,
                    "reps": e.reps,
                    "seconds": e.seconds,
                    "pain": e.pain,
                }
                for e in self.exercises
            ],
        }


@dataclass(frozen=True, slots=True)
class Stop:
    """An exercise (or ``"*"``, the whole program) stopped after pain >= 7, until cleared."""

    id: int
    exercise_id: str
    date: date
    pain: float
    cleared_date: _Date | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "exercise_id": self.exercise_id,
            "date": self.date.isoformat(),
            "pain": self.pain,
            "cleared_date": self.cleared_date.isoformat() if self.cleared_date else None,
        }


def check_balance_test(side: str, seconds: float, eyes: str) -> None:
    """Raise ValueError (naming the parameter) for an impossible single-leg stand test."""
    if side not in SIDES:
        raise ValueError(
            "Invalid value for the 'side' parameter. Allowed values are 'left', 'right', "
            f"but got {side!r} instead."
        )
    if eyes not in EYES:
        raise ValueError(
            "Invalid value for the 'eyes' parameter. Allowed values are 'open', 'closed', "
            f"but got {eyes!r} instead."
        )
    if not (0.0 <= float(seconds) <= MAX_BALANCE_TEST_S):
        raise ValueError(f"Invalid value for the 'seconds' parameter: expected 0-600 s, got {seconds!r}.")
