"""The exercise library: shipped data file, JSON Schema, cross-references, CLI listing."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from stridelab.cli import app
from stridelab.training import library_schema, load_library, validate_library
from stridelab.training._library import CATEGORIES, SEED_IDS, TARGETS, library_document


@pytest.fixture
def doc() -> dict[str, Any]:
    return copy.deepcopy(library_document())


def test_shipped_library_validates_against_the_schema(doc: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator.check_schema(library_schema())
    jsonschema.validate(doc, library_schema())
    assert validate_library(doc) == []


def test_the_schema_step_is_skipped_only_for_the_files_that_passed_it(
    doc: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from stridelab.training import _library

    jsonschema.validate(doc, library_schema())
    assert _library.shipped_library_sha256() == _library.VALIDATED_LIBRARY_SHA256, (
        "the shipped library or its schema changed: once it validates, set "
        f"VALIDATED_LIBRARY_SHA256 = {_library.shipped_library_sha256()!r} in training/_library.py"
    )
    # other bytes: the whole schema runs again (a document the cross-references alone would pass)
    broken = copy.deepcopy(doc)
    broken["exercises"][0]["level"] = "hard"
    monkeypatch.setattr(_library, "library_document", lambda: broken)
    monkeypatch.setattr(_library, "VALIDATED_LIBRARY_SHA256", "0" * 64)
    _library.load_library.cache_clear()
    try:
        with pytest.raises(_library.LibraryError, match="level"):
            _library.load_library()
    finally:
        _library.load_library.cache_clear()


def test_library_size_categories_targets_and_seeds() -> None:
    lib = load_library()
    assert len(lib) >= 40
    assert {e.category for e in lib} == set(CATEGORIES)
    assert {t for e in lib for t in e.targets} >= set(TARGETS) - {"hip_flexors"}
    for seed in SEED_IDS:
        assert seed in lib
    # the seeds in words: every drill named is there, and each phase has material
    for phase in (1, 2, 3):
        assert len(lib.filter(phase=phase)) >= 8
    assert {e.id for e in lib.filter(category="drill")} >= {
        "a_skip",
        "b_skip",
        "high_knees",
        "butt_kicks",
        "carioca",
        "strides",
        "bounding",
    }


def test_links_exist_and_point_the_right_way() -> None:
    lib = load_library()
    for e in lib:
        if e.progression:
            assert lib[e.progression].level >= e.level
        if e.regression:
            assert lib[e.regression].level <= e.level
        assert e.instructions and e.cues


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["exercises"][0].update(progression="no_such_exercise"), "is not in the library"),
        (lambda d: d["exercises"][1].update(id=d["exercises"][0]["id"]), "duplicate id"),
        (lambda d: d["exercises"][0].pop("targets"), "'targets' is a required property"),
        (lambda d: d["exercises"][0].update(category="yoga"), "category"),
        (lambda d: d["exercises"][0]["dosage"].update(reps=-3), "dosage"),
        (lambda d: d["exercises"][0].update(progression=d["exercises"][0]["id"]), "points to itself"),
        (lambda d: d.update(exercises=d["exercises"][:10]), "is too short"),
    ],
)
def test_validator_reports_broken_documents(doc: dict[str, Any], mutate: Any, expected: str) -> None:
    mutate(doc)
    problems = validate_library(doc)
    assert problems, "a broken library must not validate"
    assert any(expected in p for p in problems), problems


def test_validator_finds_progression_loops(doc: dict[str, Any]) -> None:
    by_id = {e["id"]: e for e in doc["exercises"]}
    by_id["one_leg_squat_reach"]["progression"] = "one_leg_squat"
    by_id["one_leg_squat_reach"]["level"] = 2  # keep levels legal so only the loop is wrong
    problems = validate_library(doc)
    assert any("loops" in p for p in problems), problems


def test_cli_exercises_json_lists_the_library() -> None:
    res = CliRunner().invoke(app, ["exercises", "--json"])
    assert res.exit_code == 0, res.output
    items = json.loads(res.stdout)
    assert len(items) == len(load_library())
    item_schema = {**library_schema()["$defs"]["exercise"], "$defs": library_schema()["$defs"]}
    for it in items:
        jsonschema.validate(it, item_schema)
    drills = json.loads(CliRunner().invoke(app, ["exercises", "--json", "--category", "drill"]).stdout)
    assert drills and all(d["category"] == "drill" for d in drills)
    bad = CliRunner().invoke(app, ["exercises", "--category", "yoga"])
    assert bad.exit_code == 2 and "--category" in bad.output


def test_public_api_is_what_all_says() -> None:
    import stridelab.training as training

    assert sorted(training.__all__) == sorted(set(training.__all__))
    for name in training.__all__:
        assert getattr(training, name) is not None
    private = [n for n in dir(training) if not n.startswith("_") and n not in training.__all__]
    assert all(n in {"annotations"} or n.startswith("_") for n in private), private
