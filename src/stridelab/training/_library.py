"""The exercise library: a JSON data file shipped in the package, validated against a JSON Schema.

The schema (``data/exercises.schema.json``) checks each entry's shape; :func:`validate_library` adds
what a schema cannot say: unique ids, regression/progression links that exist, point the right way
(a progression is at least as hard) and never loop.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final, Literal

__all__ = [
    "CATEGORIES",
    "EQUIPMENT",
    "HOUSEHOLD_EQUIPMENT",
    "PAIN_AREAS",
    "TARGETS",
    "Dosage",
    "Exercise",
    "Library",
    "LibraryError",
    "library_schema",
    "load_library",
    "validate_library",
]

Category = Literal["strength", "balance", "coordination", "mobility", "drill", "running_cue"]
DosageKind = Literal["reps", "hold", "distance", "duration"]

CATEGORIES: Final[tuple[str, ...]] = (
    "strength",
    "balance",
    "coordination",
    "mobility",
    "drill",
    "running_cue",
)
TARGETS: Final[tuple[str, ...]] = (
    "glute_max",
    "glute_med",
    "quads",
    "hamstrings",
    "calves",
    "tibialis_anterior",
    "core",
    "foot",
    "hip_flexors",
)
PAIN_AREAS: Final[tuple[str, ...]] = ("knee", "hip", "ankle", "achilles", "shin", "foot", "back", "hamstring")
EQUIPMENT: Final[tuple[str, ...]] = (
    "chair",
    "step",
    "wall",
    "band",
    "stability_ball",
    "foam_roller",
    "dumbbell",
    "cushion",
    "sock_and_shoe",
)
#: equipment every home has; assumed available unless the runner says otherwise
HOUSEHOLD_EQUIPMENT: Final[tuple[str, ...]] = ("chair", "step", "wall", "cushion", "sock_and_shoe")

#: the exercises the issue's seeds name (the library must contain all of them)
SEED_IDS: Final[tuple[str, ...]] = (
    "one_leg_squat",
    "one_leg_rdl_knee_drive",
    "forward_lunge",
    "single_leg_stand_eyes_open",
    "single_leg_stand_eyes_closed",
    "heel_to_toe_walk",
    "side_leg_raise",
    "step_up",
    "sit_to_stand_slow",
    "stair_descent_slow",
    "sock_shoe_balance",
    "dead_bug",
    "bicycle_crunch",
    "ball_hamstring_curl",
    "band_hip_extension",
    "foam_roll_quads",
    "foam_roll_hip_flexors",
    "tai_chi_weight_shift",
    "a_skip",
    "b_skip",
    "high_knees",
    "butt_kicks",
    "carioca",
    "strides",
    "bounding",
)


class LibraryError(ValueError):
    """The exercise library is malformed (schema or cross-reference problem)."""


@dataclass(frozen=True, slots=True)
class Dosage:
    """Base dosage of an exercise: ``sets`` of reps, a hold (s), a distance (m) or a duration (s).

    ``amount`` is the per-set quantity in the unit of ``kind`` (reps, s, m, s) and ``max_amount`` the
    cap reached by weekly progression. ``work_s`` is the time one set takes, ``rest_s`` the rest after it.
    """

    kind: DosageKind
    sets: int
    amount: float
    max_amount: float
    rest_s: float
    tempo_s: float = 0.0
    speed_m_s: float = 0.0

    def work_s(self, amount: float) -> float:
        """Seconds of work in one set of ``amount`` (distance drills include walking back at 1.2 m/s)."""
        if self.kind == "reps":
            return amount * self.tempo_s
        if self.kind == "distance":
            return amount / self.speed_m_s + amount / 1.2
        return float(amount)

    @property
    def weekly_step(self) -> float:
        """Increase of ``amount`` per week of a phase: +2 reps, +5 s hold, +10 m, +15 s."""
        return {"reps": 2.0, "hold": 5.0, "distance": 10.0, "duration": 15.0}[self.kind]


@dataclass(frozen=True, slots=True)
class Exercise:
    """One library entry (see the schema for the meaning of each field)."""

    id: str
    name: str
    category: Category
    targets: tuple[str, ...]
    unilateral: bool
    dosage: Dosage
    equipment: tuple[str, ...]
    regression: str | None
    progression: str | None
    phases: tuple[int, ...]
    level: int
    aggravates: tuple[str, ...]
    priority: int
    instructions: str
    cues: tuple[str, ...]
    raw: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The entry as in the data file."""
        return dict(self.raw)


class Library:
    """The validated exercises, by id, in file order."""

    def __init__(self, exercises: list[Exercise]) -> None:
        self.exercises: tuple[Exercise, ...] = tuple(exercises)
        self._by_id = {e.id: e for e in exercises}

    def __getitem__(self, exercise_id: str) -> Exercise:
        try:
            return self._by_id[exercise_id]
        except KeyError:
            raise KeyError(f"Unknown exercise id {exercise_id!r}") from None

    def __contains__(self, exercise_id: object) -> bool:
        return exercise_id in self._by_id

    def __len__(self) -> int:
        return len(self.exercises)

    def __iter__(self) -> Iterator[Exercise]:
        return iter(self.exercises)

    def filter(self, *, category: str | None = None, phase: int | None = None) -> list[Exercise]:
        """Exercises of ``category`` and/or suiting ``phase``."""
        return [
            e
            for e in self.exercises
            if (category is None or e.category == category) and (phase is None or phase in e.phases)
        ]


def _read_json(name: str) -> Any:
    text = resources.files("stridelab.training").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    return json.loads(text)


@cache
def library_schema() -> dict[str, Any]:
    """The JSON Schema of the library file (``data/exercises.schema.json``)."""
    schema: dict[str, Any] = _read_json("exercises.schema.json")
    return schema


def _schema_problems(doc: Any) -> list[str]:
    try:
        import jsonschema
    except ImportError:  # optional at run time; the test suite always validates with it
        return _minimal_shape_problems(doc)
    validator = jsonschema.Draft202012Validator(library_schema())
    return [
        f"{'/'.join(str(p) for p in err.absolute_path) or '<root>'}: {err.message}"
        for err in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    ]


def _minimal_shape_problems(doc: Any) -> list[str]:
    if not isinstance(doc, dict) or not isinstance(doc.get("exercises"), list):
        return ["<root>: expected an object with an 'exercises' list"]
    required = library_schema()["$defs"]["exercise"]["required"]
    return [
        f"exercises/{i}: missing {k!r}"
        for i, e in enumerate(doc["exercises"])
        for k in required
        if not isinstance(e, dict) or k not in e
    ]


def validate_library(doc: Any, *, schema: bool = True) -> list[str]:
    """Every problem of a library document (empty list = valid): schema, then cross-references
    (``schema=False``: the cross-references only, for a document known to pass the schema)."""
    problems = _schema_problems(doc) if schema else []
    if problems:
        return problems
    entries: list[dict[str, Any]] = doc["exercises"]
    by_id: dict[str, dict[str, Any]] = {}
    for e in entries:
        if e["id"] in by_id:
            problems.append(f"{e['id']}: duplicate id")
        by_id[e["id"]] = e
    for e in entries:
        d = e["dosage"]
        amount_key = {"reps": "reps", "hold": "hold_s", "distance": "distance_m", "duration": "duration_s"}[
            d["kind"]
        ]
        if d["max_" + amount_key] < d[amount_key]:
            problems.append(f"{e['id']}: max_{amount_key} is below {amount_key}")
        for link, sign in (("progression", 1), ("regression", -1)):
            target = e[link]
            if target is None:
                continue
            if target not in by_id:
                problems.append(f"{e['id']}: {link} {target!r} is not in the library")
            elif target == e["id"]:
                problems.append(f"{e['id']}: {link} points to itself")
            elif sign * (by_id[target]["level"] - e["level"]) < 0:
                problems.append(
                    f"{e['id']}: {link} {target!r} has level {by_id[target]['level']}, "
                    f"{'below' if sign > 0 else 'above'} its own {e['level']}"
                )
    for start in by_id:
        seen = {start}
        cur = by_id[start]["progression"]
        while cur is not None and cur in by_id:
            if cur in seen:
                problems.append(f"{start}: progression chain loops at {cur!r}")
                break
            seen.add(cur)
            cur = by_id[cur]["progression"]
    problems += [f"missing seed exercise {s!r}" for s in SEED_IDS if s not in by_id]
    return problems


def _exercise(e: dict[str, Any]) -> Exercise:
    d = e["dosage"]
    key = {"reps": "reps", "hold": "hold_s", "distance": "distance_m", "duration": "duration_s"}[d["kind"]]
    dosage = Dosage(
        kind=d["kind"],
        sets=int(d["sets"]),
        amount=float(d[key]),
        max_amount=float(d["max_" + key]),
        rest_s=float(d["rest_s"]),
        tempo_s=float(d.get("tempo_s", 0.0)),
        speed_m_s=float(d.get("speed_m_s", 0.0)),
    )
    return Exercise(
        id=e["id"],
        name=e["name"],
        category=e["category"],
        targets=tuple(e["targets"]),
        unilateral=bool(e["unilateral"]),
        dosage=dosage,
        equipment=tuple(e["equipment"]),
        regression=e["regression"],
        progression=e["progression"],
        phases=tuple(e["phases"]),
        level=int(e["level"]),
        aggravates=tuple(e["aggravates"]),
        priority=int(e["priority"]),
        instructions=e["instructions"],
        cues=tuple(e["cues"]),
        raw=e,
    )


def library_document() -> dict[str, Any]:
    """The raw library document as shipped (``data/exercises.json``)."""
    doc: dict[str, Any] = _read_json("exercises.json")
    return doc


#: the SHA-256 of the shipped ``exercises.json`` + ``exercises.schema.json`` bytes that passed the whole
#: JSON Schema validation (``tests/training/test_training_library.py`` checks both and prints the new
#: value after an edit). :func:`load_library` skips the schema step (importing jsonschema and
#: validating: ~0.1 s of every command that reads the plan) for exactly these bytes, never for others.
VALIDATED_LIBRARY_SHA256: Final[str] = "16fdab90dc9659d9bd588087b4f6a7e7b7b3abcf7cf6e3ebf1cb75c3f4b66267"


def shipped_library_sha256() -> str:
    """The SHA-256 of the shipped library and schema files (see :data:`VALIDATED_LIBRARY_SHA256`)."""
    import hashlib

    data = resources.files("stridelab.training").joinpath("data")
    h = hashlib.sha256()
    for name in ("exercises.json", "exercises.schema.json"):
        h.update(data.joinpath(name).read_bytes())
    return h.hexdigest()


@cache
def load_library() -> Library:
    """The shipped library, validated (raises :class:`LibraryError` listing every problem): schema and
    cross-references; the schema step is skipped for the exact files that passed it
    (:data:`VALIDATED_LIBRARY_SHA256`)."""
    doc = library_document()
    problems = validate_library(doc, schema=shipped_library_sha256() != VALIDATED_LIBRARY_SHA256)
    if problems:
        raise LibraryError("Invalid exercise library:\n  " + "\n  ".join(problems))
    return Library([_exercise(e) for e in doc["exercises"]])
