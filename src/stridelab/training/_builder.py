"""The program builder: answers + measurements -> a phased, dated plan in which every item says why.

Pure and deterministic: :func:`build_plan` reads nothing but its arguments (the library, the
runner's :class:`PlanInputs` and the measured :class:`Evidence`) and returns the same
:class:`Plan` for the same inputs.

Rules
-----
* Phases: 1 home strength/balance/coordination, 2 drills for new movement patterns, 3 apply the
  change while running. ``weeks`` is split over the three phases as evenly as possible (earlier
  phases take the remainder).
* Days: phase-1 sessions go on non-running days, phase-2/3 sessions on running days (drills after
  the warm-up, cues during the run); the chosen weekdays are the most evenly spread ones.
* Time budget: a session's estimate (work + rest + 10 s to change exercise) never exceeds
  ``minutes``. Exercises are chosen to fill :data:`FILL_FRACTION` of the budget in the first week of
  a phase; the rest is room for progressive overload.
* Progressive overload, within a phase: each week +2 reps / +5 s hold / +10 m / +15 s per set up
  to the library cap; in the second half of a phase an exercise moves to its progression link (a
  harder variant). A step that would break the budget is not taken (the dosage is held), so load is
  monotone non-decreasing week to week. With ``lighter_week`` the last week of each phase of 3+
  weeks is a deload: one set fewer and the phase's first-week amounts.
* Weaker side: unilateral exercises score higher, the weaker side gets one extra set and goes first.
* Pain areas: an exercise that aggravates a painful area is replaced by its first regression that
  does not, or left out.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any, Final, Literal

from stridelab.frames import Side
from stridelab.training._library import (
    EQUIPMENT,
    HOUSEHOLD_EQUIPMENT,
    PAIN_AREAS,
    Exercise,
    Library,
    load_library,
)
from stridelab.training._side import SideAssessment

__all__ = [
    "BALANCE_ASYMMETRY_THRESHOLD_PCT",
    "FILL_FRACTION",
    "GCT_BALANCE_THRESHOLD_PP",
    "PHASE_NAMES",
    "SECONDS_EST_DECIMALS",
    "WEEKDAYS",
    "BalanceEvidence",
    "Evidence",
    "InputError",
    "Item",
    "Phase",
    "Plan",
    "PlanInputs",
    "PlanSession",
    "RunEvidence",
    "SideDecision",
    "build_plan",
    "decide_weaker_side",
    "item_seconds",
    "parse_weekdays",
]

SideChoice = Literal["auto", "left", "right", "none"]
Quality = Literal["good", "fair", "poor"]

WEEKDAYS: Final[tuple[str, ...]] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PHASE_NAMES: Final[tuple[str, ...]] = ("Strength & balance", "Drills", "Apply while running")
PHASE_FOCUS: Final[tuple[str, ...]] = (
    "home strength, balance and coordination routine",
    "outdoor drills that teach the new movement pattern",
    "form cues applied during easy runs, drills as warm-up",
)
#: share of the time budget filled in the first week of a phase (the rest is room to progress)
FILL_FRACTION: Final[float] = 0.85
#: seconds to change exercise or side
TRANSITION_S: Final[float] = 10.0
#: one-leg balance test: relative L/R difference (of the better side) that names a weaker side
BALANCE_ASYMMETRY_THRESHOLD_PCT: Final[float] = 10.0
#: GCT balance: distance from 50 % (percentage points) that names a weaker side
GCT_BALANCE_THRESHOLD_PP: Final[float] = 1.0
#: resolution of a session's published time estimate (``PlanSession.to_dict``): 0.1 s
SECONDS_EST_DECIMALS: Final[int] = 1
MIN_MINUTES: Final[float] = 5.0
MAX_MINUTES: Final[float] = 120.0

#: slot templates per phase: (category, required target or None); filled in order while time allows
_TEMPLATES: Final[dict[int, tuple[tuple[str, str | None], ...]]] = {
    1: (
        ("strength", None),
        ("strength", None),
        ("balance", None),
        ("strength", None),
        ("strength", "glute_med"),
        ("strength", "core"),
        ("coordination", None),
        ("balance", None),
        ("strength", None),
        ("mobility", None),
    ),
    2: (
        ("drill", None),
        ("drill", None),
        ("balance", None),
        ("drill", None),
        ("coordination", None),
        ("strength", None),
        ("drill", None),
        ("strength", "glute_med"),
        ("mobility", None),
    ),
    3: (
        ("running_cue", None),
        ("drill", None),
        ("running_cue", None),
        ("balance", None),
        ("drill", None),
        ("running_cue", None),
        ("strength", None),
        ("mobility", None),
    ),
}
_QUALITY_RANK: Final[dict[str, int]] = {"poor": 0, "fair": 1, "good": 2}


class InputError(ValueError):
    """The runner's answers are invalid or contradict each other (message names the option)."""


# ====================================================================== inputs and evidence
@dataclass(frozen=True, slots=True)
class PlanInputs:
    """The runner's answers. Weekdays are 0 = Monday ... 6 = Sunday."""

    start: date
    weeks: int = 12
    sessions_per_week: int = 3
    minutes: float = 15.0
    run_days: tuple[int, ...] = ()
    weaker_side: SideChoice = "auto"
    squat_quality_left: Quality | None = None
    squat_quality_right: Quality | None = None
    pain_areas: tuple[str, ...] = ()
    equipment: tuple[str, ...] = HOUSEHOLD_EQUIPMENT
    lighter_week: bool = False

    def problems(self) -> list[str]:
        """Every invalid or contradictory answer, each naming its option."""
        out: list[str] = []
        if not 1 <= self.weeks <= 52:
            out.append(f"Invalid value for '--weeks': expected 1-52, got {self.weeks}.")
        if not 1 <= self.sessions_per_week <= 7:
            out.append(
                f"Invalid value for '--sessions-per-week': expected 1-7, got {self.sessions_per_week}."
            )
        if not (MIN_MINUTES <= self.minutes <= MAX_MINUTES) or not math.isfinite(self.minutes):
            out.append(
                f"Invalid value for '--minutes': expected {MIN_MINUTES:g}-{MAX_MINUTES:g}, "
                f"got {self.minutes:g}."
            )
        if any(not 0 <= d <= 6 for d in self.run_days) or len(set(self.run_days)) != len(self.run_days):
            out.append(f"Invalid value for '--run-days': each weekday once, got {list(self.run_days)}.")
        if self.weaker_side not in ("auto", "left", "right", "none"):
            out.append(
                "Invalid value for '--weaker-side'. Allowed values are 'auto', 'left', 'right', 'none', "
                f"but got {self.weaker_side!r} instead."
            )
        for side, q in (("left", self.squat_quality_left), ("right", self.squat_quality_right)):
            if q is not None and q not in _QUALITY_RANK:
                out.append(
                    f"Invalid value for '--squat-quality-{side}'. Allowed values are 'good', 'fair', 'poor', "
                    f"but got {q!r} instead."
                )
        bad = sorted(set(self.pain_areas) - set(PAIN_AREAS))
        if bad:
            out.append(
                f"Invalid value for '--pain': unknown area(s) {bad}; allowed: {', '.join(PAIN_AREAS)}."
            )
        bad = sorted(set(self.equipment) - set(EQUIPMENT))
        if bad:
            out.append(
                f"Invalid value for '--equipment': unknown item(s) {bad}; allowed: {', '.join(EQUIPMENT)}."
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["start"] = self.start.isoformat()
        d["run_days"] = [WEEKDAYS[i] for i in self.run_days]
        d["pain_areas"] = list(self.pain_areas)
        d["equipment"] = list(self.equipment)
        return d


@dataclass(frozen=True, slots=True)
class BalanceEvidence:
    """Recent one-leg balance test means (s) for one eyes condition."""

    eyes: Literal["open", "closed"]
    left_s: float
    right_s: float
    n_left: int
    n_right: int

    @property
    def asymmetry_pct(self) -> float:
        """(better - worse) / better in percent; 0 when both are 0."""
        best = max(self.left_s, self.right_s)
        return 0.0 if best <= 0 else 100.0 * abs(self.left_s - self.right_s) / best


@dataclass(frozen=True, slots=True)
class RunEvidence:
    """Recent runs' ground-contact-time balance (LEFT share, %) and GCT (s), with their source."""

    balance_left_pct: float
    gct_s: float | None
    n_runs: int
    source: str
    slope_pp_per_week: float | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    """Measurements the builder tailors to (all optional)."""

    balance: tuple[BalanceEvidence, ...] = ()
    runs: RunEvidence | None = None
    #: all the evidence scored by the side rule (``training._side``); with ``--weaker-side auto`` it decides
    side: SideAssessment | None = None


@dataclass(frozen=True, slots=True)
class SideDecision:
    """Which side gets the emphasis (``None`` = both equally), why, and what disagreed."""

    side: Side | None
    reason: str
    votes: dict[str, str]
    conflicts: tuple[str, ...] = ()


def decide_weaker_side(inputs: PlanInputs, evidence: Evidence) -> SideDecision:
    """Combine the answer, the squat-quality answers, balance tests and runs into one side.

    An explicit ``--weaker-side left|right|none`` wins, and any measurement that disagrees is
    reported as a conflict. With ``auto`` the measured/answered votes decide when they agree; when
    they disagree both sides are trained equally and the conflict is reported.
    """
    a = evidence.side
    if a is not None and inputs.weaker_side == "auto":
        return SideDecision(
            a.side,
            a.reason,
            {v.source: v.side for v in a.votes if v.side is not None},
            a.conflicts if a.side is not None else (),
        )
    votes: dict[str, str] = {}
    texts: dict[str, str] = {}
    ql, qr = inputs.squat_quality_left, inputs.squat_quality_right
    if ql is not None and qr is not None and ql != qr:
        side = "left" if _QUALITY_RANK[ql] < _QUALITY_RANK[qr] else "right"
        votes["squat quality"] = side
        texts["squat quality"] = f"single-leg squat quality left {ql}, right {qr}"
    for b in evidence.balance:
        if b.n_left and b.n_right and b.asymmetry_pct >= BALANCE_ASYMMETRY_THRESHOLD_PCT:
            key = f"balance test (eyes {b.eyes})"
            votes[key] = "left" if b.left_s < b.right_s else "right"
            texts[key] = (
                f"one-leg balance eyes {b.eyes}: left {b.left_s:.1f} s vs right {b.right_s:.1f} s "
                f"({b.asymmetry_pct:.0f} % difference)"
            )
    r = evidence.runs
    if r is not None and r.n_runs and abs(r.balance_left_pct - 50.0) >= GCT_BALANCE_THRESHOLD_PP:
        key = "GCT balance"
        votes[key] = "left" if r.balance_left_pct > 50.0 else "right"
        texts[key] = (
            f"GCT balance {r.balance_left_pct:.1f} % left over {r.n_runs} runs ({r.source}); the side with "
            "the longer ground contact is read as the weaker push-off (a heuristic)"
        )
    measured = set(votes.values())
    if inputs.weaker_side in ("left", "right"):
        side = inputs.weaker_side
        conflicts = tuple(
            f"Your answer (--weaker-side {side}) contradicts the {k}: {texts[k]} points to the {v} side. "
            "Following your answer; re-test with `stridelab test balance` or pass --weaker-side auto "
            "to follow the measurements."
            for k, v in sorted(votes.items())
            if v != side
        )
        agree = [texts[k] for k, v in sorted(votes.items()) if v == side]
        reason = f"your answer: weaker side {side}" + (f" (agrees with {'; '.join(agree)})" if agree else "")
        return SideDecision(side, reason, votes, conflicts)
    if inputs.weaker_side == "none":
        conflicts = tuple(
            f"Your answer (--weaker-side none) contradicts the {k}: {texts[k]}. Training both sides "
            "equally as you said; pass --weaker-side auto to follow the measurements."
            for k in sorted(votes)
        )
        return SideDecision(None, "your answer: no weaker side", votes, conflicts)
    if not votes:
        return SideDecision(None, "no asymmetry answered or measured: both sides trained equally", votes)
    if len(measured) > 1:
        detail = "; ".join(f"{k} says {v} ({texts[k]})" for k, v in sorted(votes.items()))
        return SideDecision(
            None,
            "the measurements disagree: both sides trained equally",
            votes,
            (
                f"Contradictory evidence about the weaker side: {detail}. Training both sides equally; "
                "re-test or pass --weaker-side left|right.",
            ),
        )
    side = measured.pop()
    return SideDecision(side, "; ".join(texts[k] for k in sorted(votes)), votes)  # type: ignore[arg-type]


# ====================================================================== the plan
@dataclass(frozen=True, slots=True)
class Item:
    """One prescription: an exercise for one side (or both) with its dosage and its reason."""

    exercise_id: str
    name: str
    side: Side | Literal["both"]
    sets: int
    kind: str
    amount: float
    rest_s: float
    why: str
    slot: int
    step: int

    def to_dict(self) -> dict[str, Any]:
        key = {"reps": "reps", "hold": "hold_s", "distance": "distance_m", "duration": "duration_s"}[
            self.kind
        ]
        amount: float | int = int(self.amount) if self.kind == "reps" else round(self.amount, 1)
        return {
            "exercise_id": self.exercise_id,
            "name": self.name,
            "side": self.side,
            "sets": self.sets,
            key: amount,
            "rest_s": self.rest_s,
            "why": self.why,
            "slot": self.slot,
            "step": self.step,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Item:
        for key, kind in (
            ("reps", "reps"),
            ("hold_s", "hold"),
            ("distance_m", "distance"),
            ("duration_s", "duration"),
        ):
            if key in d:
                return cls(
                    d["exercise_id"],
                    d["name"],
                    d["side"],
                    int(d["sets"]),
                    kind,
                    float(d[key]),
                    float(d["rest_s"]),
                    d["why"],
                    int(d["slot"]),
                    int(d["step"]),
                )
        raise ValueError(f"plan item without an amount: {d}")


@dataclass(frozen=True, slots=True)
class PlanSession:
    """One dated session."""

    date: date
    week: int
    phase: int
    week_in_phase: int
    lighter: bool
    seconds_est: float
    items: tuple[Item, ...]

    @property
    def minutes_est(self) -> float:
        """Estimated minutes, derived from the estimate as published (:data:`SECONDS_EST_DECIMALS`).

        Deriving it from the unrounded seconds made a reloaded plan disagree with the saved one
        (975.04 s shows 16.3 min, its stored 975.0 s reloads as 16.2 min)."""
        return round(self._published_seconds() / 60.0, 1)

    def _published_seconds(self) -> float:
        return round(self.seconds_est, SECONDS_EST_DECIMALS)

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "weekday": WEEKDAYS[self.date.weekday()],
            "week": self.week,
            "phase": self.phase,
            "week_in_phase": self.week_in_phase,
            "lighter": self.lighter,
            "minutes_est": self.minutes_est,
            "seconds_est": self._published_seconds(),
            "items": [i.to_dict() for i in self.items],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PlanSession:
        return cls(
            date.fromisoformat(d["date"]),
            int(d["week"]),
            int(d["phase"]),
            int(d["week_in_phase"]),
            bool(d["lighter"]),
            float(d["seconds_est"]),
            tuple(Item.from_dict(i) for i in d["items"]),
        )


@dataclass(frozen=True, slots=True)
class Phase:
    """One phase: number 1-3, first day, length in weeks and session weekdays."""

    number: int
    name: str
    focus: str
    start: date
    weeks: int
    weekdays: tuple[int, ...]

    @property
    def end(self) -> date:
        """Last day of the phase (inclusive)."""
        return self.start + timedelta(days=7 * self.weeks - 1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "name": self.name,
            "focus": self.focus,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "weeks": self.weeks,
            "weekdays": [WEEKDAYS[d] for d in self.weekdays],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Phase:
        return cls(
            int(d["number"]),
            d["name"],
            d["focus"],
            date.fromisoformat(d["start"]),
            int(d["weeks"]),
            tuple(WEEKDAYS.index(w) for w in d["weekdays"]),
        )


@dataclass(frozen=True, slots=True)
class Plan:
    """A built plan. ``to_dict`` is the JSON contract of ``stridelab plan create --json``."""

    inputs: PlanInputs
    phases: tuple[Phase, ...]
    sessions: tuple[PlanSession, ...]
    weaker_side: Side | None
    tailoring: dict[str, Any]
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def start(self) -> date:
        return self.phases[0].start

    @property
    def end(self) -> date:
        return self.phases[-1].end

    def session_on(self, day: date) -> PlanSession | None:
        """The session planned on ``day`` (None on a rest day)."""
        for s in self.sessions:
            if s.date == day:
                return s
        return None

    def phase_of(self, day: date) -> Phase | None:
        """The phase ``day`` falls in (None before the start or after the end)."""
        for p in self.phases:
            if p.start <= day <= p.end:
                return p
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "weaker_side": self.weaker_side,
            "phases": [p.to_dict() for p in self.phases],
            "sessions": [s.to_dict() for s in self.sessions],
            "tailoring": self.tailoring,
            "warnings": list(self.warnings),
            "notes": list(self.notes),
            "inputs": self.inputs.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Plan:
        i = d["inputs"]
        inputs = PlanInputs(
            start=date.fromisoformat(i["start"]),
            weeks=int(i["weeks"]),
            sessions_per_week=int(i["sessions_per_week"]),
            minutes=float(i["minutes"]),
            run_days=tuple(WEEKDAYS.index(w) for w in i["run_days"]),
            weaker_side=i["weaker_side"],
            squat_quality_left=i["squat_quality_left"],
            squat_quality_right=i["squat_quality_right"],
            pain_areas=tuple(i["pain_areas"]),
            equipment=tuple(i["equipment"]),
            lighter_week=bool(i["lighter_week"]),
        )
        return cls(
            inputs=inputs,
            phases=tuple(Phase.from_dict(p) for p in d["phases"]),
            sessions=tuple(PlanSession.from_dict(s) for s in d["sessions"]),
            weaker_side=d["weaker_side"],
            tailoring=d["tailoring"],
            warnings=tuple(d["warnings"]),
            notes=tuple(d["notes"]),
        )


# ====================================================================== timing
def item_seconds(items: Sequence[Item], library: Library) -> float:
    """Estimated seconds for ``items``: work and rest of every set plus a transition per item.

    A unilateral exercise alternates sides, so its rest is taken once per round (the other side's
    set is the rest in between); bilateral sets each get their rest.
    """
    total = 0.0
    rounds: dict[str, int] = {}
    for it in items:
        ex = library[it.exercise_id]
        total += it.sets * ex.dosage.work_s(it.amount) + TRANSITION_S
        if it.side == "both":
            total += it.sets * it.rest_s
        else:
            rounds[it.exercise_id] = max(rounds.get(it.exercise_id, 0), it.sets)
    for ex_id, n in rounds.items():
        total += n * library[ex_id].dosage.rest_s
    return total


# ====================================================================== scheduling
def parse_weekdays(text: str | Iterable[str]) -> tuple[int, ...]:
    """``"mon,wed,sat"`` -> (0, 2, 5). Accepts 3-letter names or full names; '' or 'none' -> ()."""
    parts = [p.strip().lower() for p in (text.split(",") if isinstance(text, str) else text)]
    parts = [p for p in parts if p and p != "none"]
    out: list[int] = []
    for p in parts:
        key = p[:3]
        if key not in WEEKDAYS or (len(p) > 3 and not _full_day_name(p)):
            raise InputError(f"Invalid value for '--run-days': {p!r} is not a weekday; use e.g. mon,wed,sat.")
        day = WEEKDAYS.index(key)
        if day in out:
            raise InputError(f"Invalid value for '--run-days': {p!r} is given twice.")
        out.append(day)
    return tuple(sorted(out))


def _full_day_name(p: str) -> bool:
    return p in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _pick_weekdays(k: int, preferred: frozenset[int]) -> tuple[int, ...]:
    """The ``k`` weekdays with most preferred days, then the widest minimum gap, then earliest."""
    best: tuple[tuple[int, int, tuple[int, ...]], tuple[int, ...]] | None = None
    for combo in itertools.combinations(range(7), k):
        gaps = [(combo[(i + 1) % k] - combo[i]) % 7 or 7 for i in range(k)]
        key = (-sum(d in preferred for d in combo), -min(gaps), combo)
        if best is None or key < best[0]:
            best = (key, combo)
    assert best is not None
    return best[1]


def _split_weeks(weeks: int) -> list[int]:
    n = min(3, weeks)
    base, rem = divmod(weeks, n)
    return [base + (1 if i < rem else 0) for i in range(n)]


# ====================================================================== selection
@dataclass(slots=True)
class _Slot:
    index: int
    category: str
    base: Exercise
    family: str
    reasons: list[str]
    sets: int
    side_bonus: bool
    chain: list[Exercise] = field(default_factory=list)


def _family_root(ex: Exercise, lib: Library) -> str:
    seen = {ex.id}
    cur = ex
    while cur.regression is not None and cur.regression in lib:
        nxt = lib[cur.regression]
        if nxt.category != ex.category or nxt.id in seen:
            break
        seen.add(nxt.id)
        cur = nxt
    return cur.id


def _usable(ex: Exercise, inputs: PlanInputs) -> bool:
    return set(ex.equipment) <= set(inputs.equipment) and not set(ex.aggravates) & set(inputs.pain_areas)


def _pain_substitute(
    ex: Exercise, inputs: PlanInputs, lib: Library, phase: int
) -> tuple[Exercise | None, str]:
    """``ex`` if usable, else its first usable regression suiting ``phase`` (with the reason), else None."""
    if _usable(ex, inputs):
        return ex, ""
    hurt = sorted(set(ex.aggravates) & set(inputs.pain_areas))
    cur, seen = ex, {ex.id}
    while cur.regression is not None and cur.regression in lib and cur.regression not in seen:
        cur = lib[cur.regression]
        seen.add(cur.id)
        if _usable(cur, inputs) and cur.category == ex.category and phase in cur.phases:
            why = (
                f"{'/'.join(hurt)} pain reported: easier '{cur.name}' instead of '{ex.name}'" if hurt else ""
            )
            return cur, why
    return None, ""


def _score(
    ex: Exercise, phase: int, side: Side | None, inputs: PlanInputs, evidence: Evidence
) -> tuple[int, list[str]]:
    score = ex.priority
    reasons: list[str] = []
    if side is not None and ex.unilateral:
        score += 3
        reasons.append(f"one leg at a time, so the weaker {side} side gets its own extra work")
    if side is not None and "glute_med" in ex.targets and ex.category in ("strength", "balance"):
        score += 1
        reasons.append("hip stabilisers (glute med) keep the pelvis level on the weaker side")
    asym = [b for b in evidence.balance if b.asymmetry_pct >= BALANCE_ASYMMETRY_THRESHOLD_PCT]
    if asym and ex.category == "balance" and ex.unilateral:
        score += 2
        reasons.append(f"balance test asymmetry ({asym[0].asymmetry_pct:.0f} % eyes {asym[0].eyes})")
    poor = [
        s
        for s, q in (("left", inputs.squat_quality_left), ("right", inputs.squat_quality_right))
        if q == "poor"
    ]
    if poor and "glute_med" in ex.targets and ex.category == "strength":
        score += 1
        reasons.append(f"single-leg squat quality poor on the {'/'.join(poor)} side")
    if (
        "knee" in inputs.pain_areas
        and {"glute_med", "glute_max"} & set(ex.targets)
        and "knee" not in ex.aggravates
    ):
        score += 1
        reasons.append("knee pain reported: hip strength without loading the knee")
    if "back" in inputs.pain_areas and "core" in ex.targets and "back" not in ex.aggravates:
        score += 1
        reasons.append("back pain reported: trunk control")
    r = evidence.runs
    if (
        r is not None
        and abs(r.balance_left_pct - 50.0) >= GCT_BALANCE_THRESHOLD_PP
        and ex.id
        in (
            "cue_even_rhythm",
            "cue_hips_level_forward",
        )
    ):
        score += 3 if ex.id == "cue_even_rhythm" else 1
        reasons.append(f"GCT balance {r.balance_left_pct:.1f} % left ({r.source})")
    return score, reasons


def _candidates(
    phase: int,
    lib: Library,
    inputs: PlanInputs,
    evidence: Evidence,
    side: Side | None,
    carried: dict[str, Exercise],
) -> list[tuple[int, Exercise, str, list[str]]]:
    """(score, exercise, family, reasons) sorted best first, one entry per family."""
    out: dict[str, tuple[int, Exercise, str, list[str]]] = {}
    for ex in lib:
        if phase not in ex.phases:
            continue
        fam = _family_root(ex, lib)
        start = carried.get(fam, ex)
        if phase not in start.phases:
            start = ex
        use, pain_why = _pain_substitute(start, inputs, lib, phase)
        if use is None:
            continue
        score, reasons = _score(use, phase, side, inputs, evidence)
        if pain_why:
            reasons.insert(0, pain_why)
        if fam in carried and use.id == carried[fam].id:
            reasons.insert(0, f"carried over from phase {phase - 1} at the level reached")
        entry = (score, use, fam, reasons)
        prev = out.get(fam)
        if prev is None or (-score, use.id) < (-prev[0], prev[1].id):
            out[fam] = entry
    return sorted(out.values(), key=lambda t: (-t[0], t[1].id))


def _progression_chain(base: Exercise, inputs: PlanInputs, lib: Library) -> list[Exercise]:
    chain = [base]
    cur = base
    while cur.progression is not None and cur.progression in lib:
        nxt = lib[cur.progression]
        if nxt.id in {c.id for c in chain} or not _usable(nxt, inputs) or nxt.category != base.category:
            break
        chain.append(nxt)
        cur = nxt
    return chain


# ====================================================================== dosage per week
@dataclass(frozen=True, slots=True)
class _Dose:
    step: int  # position along the progression chain (0 = base)
    amount: float
    sets: int

    def key(self) -> tuple[int, float]:
        return (self.step, self.sets * self.amount)


def _target_dose(slot: _Slot, week: int, n_weeks: int) -> _Dose:
    """Rule-based target for ``week`` (0-based) of a phase of ``n_weeks`` (before the budget check)."""
    half = math.ceil(n_weeks / 2)
    step = 1 if (n_weeks >= 2 and week >= half and len(slot.chain) > 1) else 0
    ex = slot.chain[step]
    weeks_at_step = week - (half if step else 0)
    d = ex.dosage
    amount = min(d.amount + d.weekly_step * weeks_at_step, d.max_amount)
    return _Dose(step, amount, slot.sets)


def _items_for(slot: _Slot, dose: _Dose, side: Side | None, why: str, side_reason: str = "") -> list[Item]:
    ex = slot.chain[dose.step]
    if not ex.unilateral:
        return [
            Item(
                ex.id,
                ex.name,
                "both",
                dose.sets,
                ex.dosage.kind,
                dose.amount,
                ex.dosage.rest_s,
                why,
                slot.index,
                dose.step,
            )
        ]
    if side is None:
        order: list[tuple[Side, int, str]] = [
            ("left", dose.sets, why),
            ("right", dose.sets, why),
        ]
    else:
        other: Side = "right" if side == "left" else "left"
        weak_why = f"{why}; weaker {side} side ({side_reason or 'see tailoring'}): one extra set and first"
        order = [(side, min(dose.sets + 1, 6), weak_why), (other, dose.sets, why)]
    return [
        Item(ex.id, ex.name, s, n, ex.dosage.kind, dose.amount, ex.dosage.rest_s, w, slot.index, dose.step)
        for s, n, w in order
    ]


def _dose_text(ex: Exercise, dose: _Dose) -> str:
    unit = {"reps": "", "hold": " s", "distance": " m", "duration": " s"}[ex.dosage.kind]
    return f"{dose.sets}x{dose.amount:g}{unit}"


# ====================================================================== build
def build_plan(
    inputs: PlanInputs,
    evidence: Evidence | None = None,
    *,
    library: Library | None = None,
    today: date | None = None,
) -> Plan:
    """Build the plan (deterministic for the same arguments).

    ``today`` only adds the "plan starts in the past" warning; it never changes the sessions.
    Raises :class:`InputError` for invalid or impossible answers.
    """
    problems = inputs.problems()
    if problems:
        raise InputError(" ".join(problems))
    evidence = evidence or Evidence()
    lib = library or load_library()
    decision = decide_weaker_side(inputs, evidence)
    side = decision.side
    budget_s = inputs.minutes * 60.0
    warnings: list[str] = list(decision.conflicts)
    notes: list[str] = [
        "Pain rule: a little discomfort (up to 3/10) that settles by the next day is acceptable; at 4-6/10 "
        "use the easier variant; at 7/10 or more stop that exercise and see a physiotherapist or doctor "
        "before doing it again - do not push through.",
    ]
    run_days = frozenset(inputs.run_days)
    phases: list[Phase] = []
    sessions: list[PlanSession] = []
    excluded: list[str] = []
    carried: dict[str, Exercise] = {}
    start = inputs.start
    plan_week = 0
    for number, n_weeks in enumerate(_split_weeks(inputs.weeks), start=1):
        prefer = (frozenset(range(7)) - run_days) if number == 1 else run_days
        weekdays = _pick_weekdays(inputs.sessions_per_week, prefer)
        phase = Phase(number, PHASE_NAMES[number - 1], PHASE_FOCUS[number - 1], start, n_weeks, weekdays)
        phases.append(phase)
        slots = _select_slots(number, lib, inputs, evidence, side, carried, budget_s, excluded)
        if not slots:
            raise InputError(
                f"Invalid value for '--minutes': {inputs.minutes:g} min cannot hold a single exercise of "
                f"phase {number} with your equipment and pain areas; allow more minutes or more equipment."
            )
        prev: dict[int, _Dose] = {}
        for w in range(n_weeks):
            lighter = inputs.lighter_week and n_weeks >= 3 and w == n_weeks - 1
            doses, whys = _week_doses(slots, w, n_weeks, lighter, prev, side, lib, budget_s, inputs.minutes)
            items = _order_items(
                [
                    it
                    for s in slots
                    for it in _items_for(s, doses[s.index], side, whys[s.index], decision.reason)
                ],
                side,
            )
            secs = item_seconds(items, lib)
            assert secs <= budget_s + 1e-6, "builder broke its own time budget"
            week_start = start + timedelta(days=7 * w)
            for day in _dates_in_week(week_start, weekdays):
                sessions.append(
                    PlanSession(day, plan_week + w + 1, number, w + 1, lighter, secs, tuple(items))
                )
            if not lighter:
                prev = doses
        for s in slots:
            carried[s.family] = s.chain[prev[s.index].step] if prev else s.base
        plan_week += n_weeks
        start = phase.end + timedelta(days=1)
    sessions.sort(key=lambda s: s.date)
    if today is not None and inputs.start < today:
        due = sum(1 for s in sessions if s.date < today)
        warnings.append(
            f"The plan starts in the past ({inputs.start.isoformat()}, "
            f"{(today - inputs.start).days} days before {today.isoformat()}): {due} session(s) are already"
            f" due. Sessions you do not log count as missed; to start fresh pass --start {today.isoformat()}."
        )
    if inputs.sessions_per_week > 7 - len(run_days):
        notes.append(
            "Some phase-1 sessions fall on running days: do them after the run, never before a hard one."
        )
    if not run_days:
        notes.append(
            "No running days given: phase-2/3 sessions are spread over the week; drills and cues need "
            "a short easy run or walk-run around them."
        )
    else:
        notes.append(
            "Phase-2 drills go on running days after a 10-minute warm-up; phase-3 cues are practised in "
            "short focus blocks during easy runs."
        )
    if inputs.lighter_week:
        if any(p.weeks >= 3 for p in phases):
            notes.append(
                "The last week of each phase (3+ weeks) is lighter: one set fewer and first-week amounts."
            )
        else:  # asked for, but no phase is long enough: say so instead of silently ignoring it
            warnings.append(
                f"--lighter-week has no effect: phases of {max(p.weeks for p in phases)} week(s) are too "
                "short for a lighter week (it needs 3+ weeks per phase, --weeks 9 or more)."
            )
    tailoring = {
        "weaker_side": side,
        "weaker_side_reason": decision.reason,
        "votes": dict(sorted(decision.votes.items())),
        "evidence": {
            "balance": [asdict(b) | {"asymmetry_pct": round(b.asymmetry_pct, 1)} for b in evidence.balance],
            "runs": asdict(evidence.runs) if evidence.runs is not None else None,
            "side": evidence.side.to_dict() if evidence.side is not None else None,
        },
        "pain_areas": list(inputs.pain_areas),
        "equipment": list(inputs.equipment),
        "excluded": sorted(set(excluded)),
    }
    return Plan(inputs, tuple(phases), tuple(sessions), side, tailoring, tuple(warnings), tuple(notes))


def _dates_in_week(week_start: date, weekdays: tuple[int, ...]) -> list[date]:
    out = []
    for i in range(7):
        day = week_start + timedelta(days=i)
        if day.weekday() in weekdays:
            out.append(day)
    return out


def _order_items(items: list[Item], side: Side | None) -> list[Item]:
    """Mobility last (cool-down); with a weaker side, unilateral exercises first; else template order."""

    def key(it: Item) -> tuple[int, int, int]:
        mobility = 1 if it.exercise_id.startswith("foam_roll") or "stretch" in it.exercise_id else 0
        bilateral = 1 if (side is not None and it.side == "both") else 0
        return (mobility, bilateral, it.slot)

    return sorted(items, key=key)  # stable: weaker side stays first within an exercise


def _select_slots(
    phase: int,
    lib: Library,
    inputs: PlanInputs,
    evidence: Evidence,
    side: Side | None,
    carried: dict[str, Exercise],
    budget_s: float,
    excluded: list[str],
) -> list[_Slot]:
    """Fill the phase template with the best candidates while week 1 fits FILL_FRACTION of the budget."""
    cands = _candidates(phase, lib, inputs, evidence, side, carried)
    for ex in lib:
        if phase in ex.phases and not _usable(ex, inputs):
            missing = sorted(set(ex.equipment) - set(inputs.equipment))
            hurt = sorted(set(ex.aggravates) & set(inputs.pain_areas))
            excluded.append(
                f"{ex.id}: "
                + (
                    "; ".join(
                        ([f"needs {', '.join(missing)}"] if missing else [])
                        + ([f"aggravates reported {', '.join(hurt)} pain"] if hurt else [])
                    )
                )
            )
    used: set[str] = set()
    slots: list[_Slot] = []
    fill_s = FILL_FRACTION * budget_s
    for category, target in _TEMPLATES[phase]:
        for _score_value, ex, fam, reasons in cands:
            if fam in used or ex.category != category or (target is not None and target not in ex.targets):
                continue
            chosen = None
            for sets in range(ex.dosage.sets, 0, -1):
                slot = _Slot(
                    len(slots), category, ex, fam, list(reasons), sets, ex.unilateral and side is not None
                )
                slot.chain = _progression_chain(ex, inputs, lib)
                trial = [*slots, slot]
                items = [
                    it
                    for s in trial
                    for it in _items_for(s, _Dose(0, s.base.dosage.amount, s.sets), side, "")
                ]
                # the first slot may use the whole budget (otherwise tiny budgets would hold nothing)
                limit = fill_s if slots else budget_s
                if item_seconds(items, lib) <= limit:
                    chosen = slot
                    if sets < ex.dosage.sets:
                        slot.reasons.append(
                            f"{sets} set(s) instead of {ex.dosage.sets} to fit {inputs.minutes:g} min"
                        )
                    break
            if chosen is not None:
                slots.append(chosen)
                used.add(fam)
                break
    return slots


def _week_doses(
    slots: list[_Slot],
    w: int,
    n_weeks: int,
    lighter: bool,
    prev: dict[int, _Dose],
    side: Side | None,
    lib: Library,
    budget_s: float,
    minutes: float,
) -> tuple[dict[int, _Dose], dict[int, str]]:
    """Doses of week ``w``: each slot's target if the session still fits, else last week's dose."""
    whys: dict[int, str] = {}
    doses: dict[int, _Dose] = {}
    for s in slots:
        first = _Dose(0, s.base.dosage.amount, s.sets)
        if lighter:
            held = prev.get(s.index, first)
            ex = s.chain[held.step]
            doses[s.index] = _Dose(held.step, ex.dosage.amount, max(1, s.sets - 1))
        else:
            doses[s.index] = prev.get(s.index, first) if w else first
    if not lighter and w:
        for s in slots:
            target = _target_dose(s, w, n_weeks)
            if target.key() <= doses[s.index].key():
                continue
            trial = dict(doses)
            trial[s.index] = target
            items = [it for t in slots for it in _items_for(t, trial[t.index], side, "")]
            if item_seconds(items, lib) <= budget_s:
                doses = trial
    for s in slots:
        d = doses[s.index]
        ex = s.chain[d.step]
        parts = [f"phase slot {s.index + 1}: {s.category.replace('_', ' ')} ({', '.join(ex.targets)})"]
        parts += s.reasons
        if lighter:
            parts.append("lighter week as requested: one set fewer, first-week amount")
        elif w:
            before = prev.get(s.index)
            target = _target_dose(s, w, n_weeks)
            if before is not None and d.step > before.step:
                parts.append(
                    f"week {w + 1}: progressed from '{s.chain[before.step].name}' to harder '{ex.name}'"
                )
            elif before is not None and d.key() > before.key():
                parts.append(
                    f"week {w + 1}: overload "
                    f"{_dose_text(s.chain[before.step], before)} -> {_dose_text(ex, d)}"
                )
            elif target.key() > d.key():
                parts.append(f"week {w + 1}: held at last week's dose, the {minutes:g}-min budget is full")
            else:
                parts.append(f"week {w + 1}: held (cap of this exercise reached)")
        whys[s.index] = "; ".join(parts)
    return doses, whys
