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
    "FUNCTION_TESTS",
    "ExerciseLog",
    "SessionLog",
    "Stop",
    "StoredPlan",
    "check_balance_test",
    "check_function_test",
]

_Date = date  # a field named ``date`` shadows the type inside the dataclasses below

#: exercise id of a stop that pauses the whole program (session-level pain >= 7)
ALL_EXERCISES: Final[str] = "*"
SIDES: Final[tuple[Side, ...]] = ("left", "right")
EYES: Final[tuple[str, ...]] = ("open", "closed")
#: the longest one-leg stand a test may record (s)
MAX_BALANCE_TEST_S: Final[float] = 600.0
#: function tests beyond the one-leg stand (issue 20): five-times sit-to-stand, tandem (heel-to-toe) walk
FUNCTION_TESTS: Final[tuple[str, ...]] = ("sit_to_stand_5x", "tandem_walk")
#: the longest function test a record may hold (s)
MAX_FUNCTION_TEST_S: Final[float] = 600.0


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


def check_function_test(
    test: str, seconds: float, steps_off: int | None = None, symmetry_index_pct: float | None = None
) -> None:
    """Raise ValueError (naming the parameter) for an impossible function test."""
    if test not in FUNCTION_TESTS:
        raise ValueError(
            "Invalid value for the 'test' parameter. Allowed values are 'sit_to_stand_5x', 'tandem_walk', "
            f"but got {test!r} instead."
        )
    if not (0.0 < float(seconds) <= MAX_FUNCTION_TEST_S):
        raise ValueError(f"Invalid value for the 'seconds' parameter: expected 0-600 s, got {seconds!r}.")
    if steps_off is not None and (test != "tandem_walk" or int(steps_off) < 0):
        raise ValueError(
            "Invalid value for the 'steps_off' parameter: a count ≥ 0, for the tandem walk only, "
            f"got {steps_off!r} for {test!r}."
        )
    if symmetry_index_pct is not None and not (-200.0 <= float(symmetry_index_pct) <= 200.0):
        raise ValueError(
            "Invalid value for the 'symmetry_index_pct' parameter: expected -200-200 %, "
            f"got {symmetry_index_pct!r}."
        )
