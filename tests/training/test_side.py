"""The side rule (training/_side.py): every kind of evidence, its points, the answer winning, the
uncertainty said -- pure, no store."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from stridelab.training import (
    BalanceEvidence,
    DriftEvidence,
    PainEvidence,
    RunBalanceEvidence,
    assess_side,
    mean_interval,
    run_balance_evidence,
)


def _runs(mean: float, half: float, n: int = 12) -> RunBalanceEvidence:
    return RunBalanceEvidence(mean, mean - half, mean + half, n, "pace-adjusted")


def test_runs_at_52_pct_left_name_the_left_side_with_the_numbers() -> None:
    a = assess_side(runs=_runs(52.0, 0.3))
    assert a.side == "left" and a.confidence == "probable" and a.score == 2
    assert "52.0 % L" in a.reason
    [vote] = [v for v in a.votes if v.side]
    assert vote.points == 2 and "longer contact on the left" in vote.detail


def test_a_small_real_difference_names_no_side_and_says_why() -> None:
    a = assess_side(runs=_runs(50.4, 0.08), drift=DriftEvidence(0.8, 0.7, 0.9, 30))
    assert a.side is None and a.confidence == "uncertain" and a.score == 1
    assert "need 2" in a.reason and "within 0.5 pp of even" in a.reason
    assert "no one-leg balance tests" in a.reason


def test_no_evidence_says_exactly_what_is_missing() -> None:
    a = assess_side()
    assert a.side is None and a.confidence == "none" and not a.votes
    assert "no runs with GCT balance in the last 56 days" in a.reason
    assert "no one-leg balance tests" in a.reason


def test_an_interval_through_50_is_not_evidence() -> None:
    a = assess_side(runs=_runs(51.5, 2.0))
    assert a.side is None and all(v.points == 0 for v in a.votes)


def test_clear_when_runs_tests_and_drift_agree() -> None:
    tests = (BalanceEvidence("open", 18.0, 30.0, 3, 3),)
    a = assess_side(runs=_runs(51.8, 0.3), drift=DriftEvidence(0.9, 0.5, 1.3, 20), balance_tests=tests)
    assert a.side == "left" and a.confidence == "clear" and a.score == 5 and not a.conflicts


def test_disagreement_is_reported_not_hidden() -> None:
    tests = (BalanceEvidence("open", 40.0, 20.0, 3, 3),)  # the right leg stands shorter
    a = assess_side(runs=_runs(52.0, 0.3), balance_tests=tests)  # the runs say left
    assert a.side is None and a.confidence == "uncertain" and "disagrees" in a.reason
    tests2 = (BalanceEvidence("open", 40.0, 20.0, 3, 3), BalanceEvidence("closed", 9.0, 4.0, 3, 3))
    b = assess_side(runs=_runs(52.0, 0.3), balance_tests=tests2)
    assert b.side == "right" and b.confidence == "probable" and b.conflicts


def test_the_answer_wins_and_disagreeing_measurements_are_listed() -> None:
    a = assess_side(answer="right", runs=_runs(52.0, 0.3))
    assert a.side == "right" and a.confidence == "uncertain" and len(a.conflicts) == 1
    assert "disagrees" in a.conflicts[0]
    b = assess_side(answer="none")
    assert b.side is None and b.confidence == "clear"


def test_pain_and_squat_count_one_point_each() -> None:
    pain = PainEvidence(left_max=5.0, right_max=1.0, days=("2026-05-01",))
    a = assess_side(pain=pain)
    assert a.side is None and a.score == 1  # pain alone never decides
    b = assess_side(pain=pain, squat_left="poor", squat_right="good")
    assert b.side == "left" and b.score == 2


def test_mean_interval_matches_scipy() -> None:
    from scipy import stats

    x = [50.1, 50.9, 51.4, 50.6, 51.0]
    m, lo, hi, n = mean_interval(x)  # type: ignore[misc]
    ref = stats.t.interval(0.95, len(x) - 1, loc=sum(x) / len(x), scale=stats.sem(x))
    assert n == 5 and abs(lo - ref[0]) < 1e-9 and abs(hi - ref[1]) < 1e-9 and abs(m - sum(x) / 5) < 1e-12
    assert mean_interval([51.0]) == (51.0, None, None, 1)
    assert mean_interval([float("nan")]) is None


@given(st.lists(st.floats(45.0, 55.0), min_size=2, max_size=30))
def test_mirroring_the_runs_mirrors_the_side(values: list[float]) -> None:
    left = run_balance_evidence(values, "pace-adjusted")
    right = run_balance_evidence([100.0 - v for v in values], "pace-adjusted")
    assert left is not None and right is not None
    a, b = assess_side(runs=left), assess_side(runs=right)
    assert a.score == -b.score
    assert {a.side, b.side} in ({None}, {"left", "right"})
