"""The program builder's rules: budget, monotone progression, weaker side, determinism, tailoring."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from stridelab.training import (
    BalanceEvidence,
    Evidence,
    InputError,
    Plan,
    PlanInputs,
    RunEvidence,
    build_plan,
    decide_weaker_side,
    load_library,
    parse_weekdays,
)
from stridelab.training._builder import item_seconds
from stridelab.training._library import EQUIPMENT, HOUSEHOLD_EQUIPMENT, PAIN_AREAS

LIB = load_library()

inputs_strategy = st.builds(
    PlanInputs,
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
    weeks=st.integers(1, 16),
    sessions_per_week=st.integers(1, 7),
    minutes=st.floats(8.0, 60.0, allow_nan=False),
    run_days=st.sets(st.integers(0, 6), max_size=7).map(lambda s: tuple(sorted(s))),
    weaker_side=st.sampled_from(["auto", "left", "right", "none"]),
    squat_quality_left=st.sampled_from([None, "good", "fair", "poor"]),
    squat_quality_right=st.sampled_from([None, "good", "fair", "poor"]),
    pain_areas=st.sets(st.sampled_from(PAIN_AREAS), max_size=2).map(lambda s: tuple(sorted(s))),
    equipment=st.sets(st.sampled_from(EQUIPMENT)).map(lambda s: tuple(sorted(s | set(HOUSEHOLD_EQUIPMENT)))),
    lighter_week=st.booleans(),
)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _load_key(item: dict) -> tuple[int, float]:
    amount = next(item[k] for k in ("reps", "hold_s", "distance_m", "duration_s") if k in item)
    return (item["step"], item["sets"] * amount)


@FAST
@given(inputs_strategy)
def test_invariants_hold_for_any_valid_answers(inputs: PlanInputs) -> None:
    plan = build_plan(inputs)
    d = plan.to_dict()
    # shape: weeks x sessions, dates inside their phase, sorted, one session a day at most
    assert len(d["sessions"]) == inputs.weeks * inputs.sessions_per_week
    assert sum(p["weeks"] for p in d["phases"]) == inputs.weeks
    days = [s["date"] for s in d["sessions"]]
    assert days == sorted(days) and len(set(days)) == len(days)
    for s in plan.sessions:
        phase = plan.phases[s.phase - 1]
        assert phase.start <= s.date <= phase.end
        assert s.date.weekday() in phase.weekdays
        # time budget respected, and the estimate is what the items add up to
        assert s.seconds_est <= inputs.minutes * 60 + 1e-6
        assert s.seconds_est == pytest.approx(item_seconds(s.items, LIB))
        assert s.items
        for it in s.items:
            ex = LIB[it.exercise_id]
            assert it.why, "every prescription says why"
            assert set(ex.equipment) <= set(inputs.equipment)
            assert not set(ex.aggravates) & set(inputs.pain_areas)
            assert s.phase in ex.phases or it.step > 0
    # progression monotone within a phase (lighter weeks excepted)
    series: dict[tuple[int, int, str], list[tuple[int, tuple[int, float]]]] = defaultdict(list)
    for s in d["sessions"]:
        if s["lighter"]:
            continue
        for it in s["items"]:
            series[(s["phase"], it["slot"], it["side"])].append((s["week"], _load_key(it)))
    for values in series.values():
        keys = [k for _, k in sorted(values)]
        assert keys == sorted(keys), f"load went down: {keys}"
    # the weaker side: one extra set and first, for every unilateral exercise
    if plan.weaker_side is not None:
        other = "right" if plan.weaker_side == "left" else "left"
        for s in plan.sessions:
            sides = defaultdict(dict)
            order = defaultdict(list)
            for pos, it in enumerate(s.items):
                sides[it.exercise_id][it.side] = it.sets
                order[it.exercise_id].append((pos, it.side))
            for ex_id, by_side in sides.items():
                if plan.weaker_side in by_side:
                    assert by_side[plan.weaker_side] >= by_side[other]
                    assert by_side[plan.weaker_side] == min(by_side[other] + 1, 6)
                    assert min(order[ex_id])[1] == plan.weaker_side


# The saved plan must reload exactly. Hypothesis found plans whose minutes_est reloaded rounded
# differently (16.3 -> 16.2, issue 12); these inputs reproduced it and stay as explicit examples (they run
# first, every time). The 60 generated examples take ~2 s; the test's former ~50 s was the shrinking of
# that failure, not the examples themselves.
@FAST
@example(
    PlanInputs(
        start=date(2024, 1, 1),
        weeks=4,
        sessions_per_week=1,
        minutes=19.25,
        run_days=(),
        weaker_side="auto",
        squat_quality_left="good",
        squat_quality_right="fair",
        pain_areas=(),
        equipment=tuple(sorted(HOUSEHOLD_EQUIPMENT)),
        lighter_week=False,
    )
)
@example(
    PlanInputs(
        start=date(2024, 1, 1),
        weeks=15,
        sessions_per_week=1,
        minutes=24.0,
        run_days=(0, 2, 5),
        weaker_side="auto",
        squat_quality_left="fair",
        squat_quality_right="fair",
        pain_areas=("hamstring", "shin"),
        equipment=tuple(sorted({"dumbbell", "foam_roller", "stability_ball", *HOUSEHOLD_EQUIPMENT})),
        lighter_week=True,
    )
)
@given(inputs_strategy)
def test_deterministic_and_round_trips(inputs: PlanInputs) -> None:
    a = build_plan(inputs).to_dict()
    b = build_plan(inputs).to_dict()
    assert a == b
    assert Plan.from_dict(a).to_dict() == a


def _default(**kw: object) -> PlanInputs:
    base = {"start": date(2026, 12, 7), "run_days": parse_weekdays("mon,wed,sat")}
    return PlanInputs(**{**base, **kw})  # type: ignore[arg-type]


def test_contract_example_plan() -> None:
    plan = build_plan(_default(weaker_side="left"))
    d = plan.to_dict()
    assert [(p["name"], p["start"], p["weeks"]) for p in d["phases"]] == [
        ("Strength & balance", "2026-12-07", 4),
        ("Drills", "2027-01-04", 4),
        ("Apply while running", "2027-02-01", 4),
    ]
    assert len(d["sessions"]) == 36
    # phase 1 avoids the running days, phases 2-3 sit on them
    assert set(d["phases"][0]["weekdays"]).isdisjoint({"mon", "wed", "sat"})
    assert d["phases"][1]["weekdays"] == ["mon", "wed", "sat"]
    first = d["sessions"][0]
    ids = [i["exercise_id"] for i in first["items"]]
    assert {"one_leg_squat", "one_leg_rdl_knee_drive"} <= set(ids)
    assert first["items"][0]["side"] == "left"
    assert "weaker left side" in first["items"][0]["why"]
    assert "your answer" in first["items"][0]["why"]
    cats = {LIB[i["exercise_id"]].category for s in d["sessions"] if s["phase"] == 2 for i in s["items"]}
    assert "drill" in cats
    cats3 = {LIB[i["exercise_id"]].category for s in d["sessions"] if s["phase"] == 3 for i in s["items"]}
    assert "running_cue" in cats3
    # overload week 1 -> 2 of phase 1, and a harder variant by the second half
    w1 = {(i["exercise_id"], i["side"]): i for i in d["sessions"][0]["items"]}
    w2 = {(i["exercise_id"], i["side"]): i for i in d["sessions"][3]["items"]}
    assert w2[("one_leg_squat", "left")]["reps"] > w1[("one_leg_squat", "left")]["reps"]
    week3_ids = {i["exercise_id"] for i in d["sessions"][6]["items"]}
    assert "one_leg_squat_reach" in week3_ids and "progressed" in " ".join(
        i["why"] for i in d["sessions"][6]["items"]
    )


def test_symmetric_runner_gets_equal_sides_and_lighter_week_is_lighter() -> None:
    plan = build_plan(_default(weaker_side="none", lighter_week=True))
    assert plan.weaker_side is None
    for s in plan.sessions:
        by = defaultdict(dict)
        for it in s.items:
            by[it.exercise_id][it.side] = it.sets
        for sides in by.values():
            if "left" in sides:
                assert sides["left"] == sides["right"]
    week3 = next(s for s in plan.sessions if s.week == 3)
    week4 = next(s for s in plan.sessions if s.week == 4)
    assert week4.lighter and not week3.lighter
    assert week4.seconds_est < week3.seconds_est
    assert all("lighter week" in it.why for it in week4.items)
    assert not any("lighter-week" in w for w in plan.warnings)
    # phases too short for a lighter week: the answer is not silently ignored
    short = build_plan(_default(weeks=6, lighter_week=True))
    assert not any(s.lighter for s in short.sessions)
    assert any("--lighter-week has no effect" in w for w in short.warnings)
    assert not any("is lighter" in n for n in short.notes)


def test_measured_evidence_decides_and_conflicts_are_reported() -> None:
    left_weak = Evidence(balance=(BalanceEvidence("open", 18.0, 30.0, 3, 3),))
    d = decide_weaker_side(_default(), left_weak)
    assert d.side == "left" and "18.0 s" in d.reason and not d.conflicts
    # the answer wins over a contradicting measurement, and the conflict is said
    d = decide_weaker_side(_default(weaker_side="right"), left_weak)
    assert d.side == "right" and d.conflicts and "contradicts" in d.conflicts[0]
    # measurements that disagree with each other: both sides equally, explicitly
    runs_right = RunEvidence(balance_left_pct=48.2, gct_s=0.25, n_runs=6, source="raw run means")
    d = decide_weaker_side(_default(), Evidence(balance=left_weak.balance, runs=runs_right))
    assert d.side is None and d.conflicts and "Contradictory" in d.conflicts[0]
    # GCT balance alone, and the squat-quality answers alone
    d = decide_weaker_side(_default(), Evidence(runs=RunEvidence(51.6, 0.24, 5, "pace-adjusted")))
    assert d.side == "left" and "51.6" in d.reason
    d = decide_weaker_side(_default(squat_quality_left="good", squat_quality_right="poor"), Evidence())
    assert d.side == "right"
    # small differences are not asymmetry
    d = decide_weaker_side(_default(), Evidence(balance=(BalanceEvidence("open", 29.0, 30.0, 2, 2),)))
    assert d.side is None
    plan = build_plan(_default(weaker_side="right"), left_weak)
    assert plan.warnings and plan.weaker_side == "right"


def test_gct_evidence_puts_the_even_rhythm_cue_first() -> None:
    ev = Evidence(runs=RunEvidence(52.0, 0.25, 8, "pace-adjusted (run analytics)"))
    plan = build_plan(_default(), ev)
    phase3 = next(s for s in plan.sessions if s.phase == 3)
    assert phase3.items[0].exercise_id == "cue_even_rhythm"
    assert "GCT balance 52.0 % left" in phase3.items[0].why


def test_pain_areas_use_regressions_or_leave_out_and_say_so() -> None:
    plan = build_plan(_default(pain_areas=("knee",), weaker_side="left"))
    ids = {it.exercise_id for s in plan.sessions for it in s.items}
    assert not any("knee" in LIB[i].aggravates for i in ids)
    assert any("one_leg_squat" in e for e in plan.tailoring["excluded"])
    assert any("knee pain reported" in it.why for s in plan.sessions for it in s.items)
    plan = build_plan(_default(pain_areas=("hamstring",)))
    whys = [it.why for s in plan.sessions for it in s.items if it.exercise_id == "one_leg_rdl_supported"]
    assert not whys  # the supported RDL aggravates hamstrings too: left out, not substituted
    plan = build_plan(_default(equipment=(*HOUSEHOLD_EQUIPMENT, "dumbbell")))
    assert any(it.exercise_id == "one_leg_rdl_weighted" for s in plan.sessions for it in s.items)


def test_past_start_warns_and_bad_answers_fail_naming_the_option() -> None:
    plan = build_plan(_default(start=date(2026, 11, 2)), today=date(2026, 11, 21))
    assert any("starts in the past" in w and "--start 2026-11-21" in w for w in plan.warnings)
    assert build_plan(_default(), today=date(2026, 11, 21)).warnings == ()
    for kw, flag in (
        ({"weeks": 0}, "--weeks"),
        ({"sessions_per_week": 8}, "--sessions-per-week"),
        ({"minutes": 2.0}, "--minutes"),
        ({"weaker_side": "middle"}, "--weaker-side"),
        ({"pain_areas": ("elbow",)}, "--pain"),
        ({"equipment": ("treadmill",)}, "--equipment"),
        ({"run_days": (1, 1)}, "--run-days"),
    ):
        with pytest.raises(InputError, match=flag):
            build_plan(_default(**kw))
    with pytest.raises(InputError, match="--run-days"):
        parse_weekdays("mon,funday")
    with pytest.raises(InputError, match="twice"):
        parse_weekdays("mon,monday")
    assert parse_weekdays("Monday, wed ,sat") == (0, 2, 5)
    assert parse_weekdays("none") == ()


def test_tiny_budget_reduces_sets_instead_of_breaking_it() -> None:
    plan = build_plan(_default(minutes=5.0, weaker_side="left"))
    assert all(s.seconds_est <= 300 for s in plan.sessions)
    assert all(s.items for s in plan.sessions)


def test_every_day_runner_gets_phase_one_after_runs() -> None:
    plan = build_plan(_default(run_days=tuple(range(7)), sessions_per_week=3))
    assert any("after the run" in n for n in plan.notes)
    starts = [p.start for p in plan.phases]
    assert starts == sorted(starts) and plan.end == date(2026, 12, 7) + timedelta(days=7 * 12 - 1)


def test_fast_running_is_left_out_for_achilles_or_hamstring_pain() -> None:
    """Strides (accelerations to mile-race effort) load the Achilles and the hamstrings more than the
    skips the library already excludes for those areas: a physio would not prescribe them either."""
    for area in ("achilles", "hamstring"):
        plan = build_plan(_default(pain_areas=(area,)))
        ids = {i.exercise_id for s in plan.sessions for i in s.items}
        assert "strides" not in ids and "bounding" not in ids, area
        assert any(x.startswith("strides:") for x in plan.tailoring["excluded"]), plan.tailoring["excluded"]
    assert not any(x.startswith("strides:") for x in build_plan(_default()).tailoring["excluded"])
