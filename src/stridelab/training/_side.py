"""Which side to work on, from all the evidence at once: a stated rule with its uncertainty.

The rule (:data:`SIDE_RULE`) scores every piece of evidence toward the side it points to (+ left,
- right) by how strong it is, sums the scores and names a side only when the sum reaches
:data:`DECIDE_SCORE`; the confidence says how far beyond and whether anything disagreed. Evidence:

* **runs, pace-adjusted GCT balance** over the recent runs: the mean LEFT share with its 95 % interval
  across runs (t over the run means). 2 points when the interval lies entirely at least
  :data:`RUN_STRONG_PP` from 50 %, 1 point when it excludes 50 % but is closer; the longer-contact
  side is read as the weaker push-off (a heuristic, see docs/training.md);
* **runs, fatigue drift** (pp/h, pooled over runs): 1 point toward the side the balance drifts to as
  she tires, when its interval excludes 0;
* **one-leg balance tests**: 2 points per eyes condition with a >= 10 % difference, toward the
  shorter stand;
* **pain logged on one side** (an exercise logged with pain >= :data:`PAIN_SIDE_MIN` on one side in
  the window): 1 point toward that side (protect and rebuild it; pain is not weakness, so never more);
* **single-leg squat quality** (the runner's own rating per side): 1 point toward the poorer side;
* **the runner's answer** (``left``/``right``/``none``) is not scored: it wins, and every measurement
  that disagrees is reported beside it.

Pure: the caller passes the summaries (``stridelab.services.training`` gathers them).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

from stridelab.frames import Side
from stridelab.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")

__all__ = [
    "DECIDE_SCORE",
    "SIDE_RULE",
    "DriftEvidence",
    "PainEvidence",
    "RunBalanceEvidence",
    "SideAssessment",
    "SideVote",
    "assess_side",
    "mean_interval",
    "run_balance_evidence",
]

#: the sum of points that names a side
DECIDE_SCORE: Final[int] = 2
#: distance of the whole interval from 50 % (pp) for the runs' strong vote
RUN_STRONG_PP: Final[float] = 1.0
#: distance of the whole interval from 50 % (pp) below which the runs name no side (within normal noise)
RUN_LEAN_PP: Final[float] = 0.5
#: exercise pain (0-10) on one side that counts as evidence
PAIN_SIDE_MIN: Final[float] = 3.0
#: balance-test difference (% of the better side) that counts
BALANCE_TEST_PCT: Final[float] = 10.0
SIDE_RULE: Final[str] = (
    "Points toward a side: runs' pace-adjusted GCT balance 2 (whole interval >= 1 pp from 50 %) or 1 "
    "(>= 0.5 pp), toward the longer contact; fatigue drift 1 (interval excludes 0), toward the side it "
    "drifts to; each one-leg balance test condition with >= 10 % difference 2, toward the shorter stand; "
    "pain logged on one side 1; single-leg squat rated poorer on one side 1. A side is named when the "
    "points reach 2 (probable) or 4 without disagreement (clear); your explicit answer always wins."
)

Confidence = Literal["clear", "probable", "uncertain", "none"]


@dataclass(frozen=True, slots=True)
class RunBalanceEvidence:
    """Mean pace-adjusted GCT balance (LEFT share, %) over ``n_runs`` runs with its 95 % interval."""

    mean_left_pct: float
    ci_low: float | None
    ci_high: float | None
    n_runs: int
    source: str  # "pace-adjusted", "raw" or both
    first_day: str | None = None
    last_day: str | None = None


@dataclass(frozen=True, slots=True)
class DriftEvidence:
    """Typical change of the balance within a run as she tires (pp per hour, + = toward left)."""

    pp_per_h: float
    ci_low: float
    ci_high: float
    n_runs: int


@dataclass(frozen=True, slots=True)
class PainEvidence:
    """Pain logged on one side: the highest exercise pain per side in the window, and the days."""

    left_max: float | None
    right_max: float | None
    days: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SideVote:
    """One piece of evidence: the side it points to (None: no side), its points and what was seen."""

    source: str
    side: Side | None
    points: int
    detail: str
    uncertainty: str | None = None
    short: str = ""  # the numbers in a few words, for a plan's reason

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "short": self.short or self.detail,
            "side": self.side,
            "points": self.points,
            "detail": self.detail,
            "uncertainty": self.uncertainty,
        }


@dataclass(frozen=True, slots=True)
class SideAssessment:
    """The side to work on (None = both equally), how sure, the evidence and why."""

    side: Side | None
    confidence: Confidence
    score: int  # + left, - right
    reason: str
    votes: tuple[SideVote, ...] = field(default_factory=tuple)
    answer: str | None = None  # the runner's own answer when explicit
    conflicts: tuple[str, ...] = ()
    rule: str = SIDE_RULE

    def to_dict(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "confidence": self.confidence,
            "score": self.score,
            "reason": self.reason,
            "answer": self.answer,
            "evidence": [v.to_dict() for v in self.votes],
            "conflicts": list(self.conflicts),
            "rule": self.rule,
        }

    def fingerprint(self) -> tuple[Side | None, Confidence]:
        """What a plan depends on: a change means the plan should be re-made."""
        return self.side, self.confidence


def mean_interval(values: Sequence[float | None]) -> tuple[float, float | None, float | None, int] | None:
    """Mean of per-run values with its 95 % t interval across runs: (mean, low, high, n); no interval
    with one run (its run-to-run variation is unknown); None without a finite value."""
    from scipy import stats

    x = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype="float64")
    if x.size == 0:
        return None
    if x.size < 2:
        return float(x[0]), None, None, 1
    se = float(np.std(x, ddof=1)) / math.sqrt(x.size)
    q = float(stats.t.ppf(0.975, x.size - 1))
    return float(x.mean()), float(x.mean() - q * se), float(x.mean() + q * se), int(x.size)


def run_balance_evidence(
    values_left_pct: Sequence[float], source: str, days: Sequence[str] = ()
) -> RunBalanceEvidence | None:
    """:func:`mean_interval` of per-run balance values as evidence (None without values)."""
    m = mean_interval(values_left_pct)
    if m is None:
        return None
    return RunBalanceEvidence(
        m[0], m[1], m[2], m[3], source, min(days) if days else None, max(days) if days else None
    )


def _sign(side: Side) -> int:
    return 1 if side == "left" else -1


def _run_vote(r: RunBalanceEvidence) -> SideVote:
    src = f"runs: {r.source} GCT balance"
    span = f" ({r.first_day} to {r.last_day})" if r.first_day else ""
    seen = f"{r.mean_left_pct:.1f} % left over {r.n_runs} runs{span}"
    if r.ci_low is None or r.ci_high is None:
        return SideVote(
            src, None, 0, seen, "one run: its run-to-run variation is unknown, so it does not count"
        )
    seen += f", 95 % interval {r.ci_low:.2f}-{r.ci_high:.2f} %"
    short = f"GCT balance {r.mean_left_pct:.1f} % L [{r.ci_low:.1f}, {r.ci_high:.1f}] over {r.n_runs} runs"
    if r.ci_low > 50.0 or r.ci_high < 50.0:
        side: Side = "left" if r.ci_low > 50.0 else "right"
        near = min(abs(r.ci_low - 50.0), abs(r.ci_high - 50.0))
        if near >= RUN_LEAN_PP:
            pts = 2 if near >= RUN_STRONG_PP else 1
            return SideVote(
                src,
                side,
                pts,
                f"{seen}: longer contact on the {side}",
                None if pts == 2 else f"the interval reaches within {RUN_STRONG_PP:g} pp of even: a lean",
                short,
            )
        return SideVote(
            src,
            None,
            0,
            f"{seen}: within {RUN_LEAN_PP:g} pp of even",
            f"a real but small difference (< {RUN_LEAN_PP:g} pp) that names no side",
            short,
        )
    return SideVote(
        src, None, 0, f"{seen}: the interval includes 50 % (even)", "no side beyond run-to-run noise", short
    )


def _drift_vote(d: DriftEvidence) -> SideVote:
    seen = (
        f"balance drifts {d.pp_per_h:+.2f} pp/h as you tire "
        f"(95 % interval {d.ci_low:+.2f} to {d.ci_high:+.2f}, {d.n_runs} runs)"
    )
    short = f"drift {d.pp_per_h:+.2f} pp/h [{d.ci_low:+.2f}, {d.ci_high:+.2f}]"
    if d.ci_low > 0 or d.ci_high < 0:
        side: Side = "left" if d.ci_low > 0 else "right"
        return SideVote(
            "runs: fatigue drift",
            side,
            1,
            f"{seen}: the {side} side takes more contact when tired",
            None,
            short,
        )
    return SideVote(
        "runs: fatigue drift", None, 0, f"{seen}: no clear direction", "interval includes 0", short
    )


def _test_votes(balance: Sequence[Any]) -> list[SideVote]:
    out = []
    for b in balance:
        src = f"balance test (eyes {b.eyes})"
        seen = (
            f"one-leg stand left {b.left_s:.1f} s vs right {b.right_s:.1f} s "
            f"({b.asymmetry_pct:.0f} % difference)"
        )
        n = f"means of the latest {b.n_left} left / {b.n_right} right tests"
        short = f"one-leg balance (eyes {b.eyes}) L {b.left_s:.0f} s / R {b.right_s:.0f} s"
        if b.asymmetry_pct >= BALANCE_TEST_PCT:
            side: Side = "left" if b.left_s < b.right_s else "right"
            out.append(SideVote(src, side, 2, f"{seen}: shorter on the {side}", n, short))
        else:
            out.append(SideVote(src, None, 0, f"{seen}: below {BALANCE_TEST_PCT:g} %", n, short))
    return out


def _pain_vote(p: PainEvidence) -> SideVote | None:
    lm, rm = p.left_max or 0.0, p.right_max or 0.0
    if lm < PAIN_SIDE_MIN and rm < PAIN_SIDE_MIN:
        if p.left_max is None and p.right_max is None:
            return None
        return SideVote(
            "pain logged", None, 0, f"exercise pain at most {max(lm, rm):g}/10: below {PAIN_SIDE_MIN:g}"
        )
    if lm >= PAIN_SIDE_MIN and rm >= PAIN_SIDE_MIN:
        return SideVote("pain logged", None, 0, f"pain on both sides (left {lm:g}, right {rm:g}/10)")
    side: Side = "left" if lm > rm else "right"
    days = f" on {', '.join(p.days)}" if p.days else ""
    return SideVote(
        "pain logged",
        side,
        1,
        f"exercise pain up to {max(lm, rm):g}/10 on the {side}{days}",
        "pain is not weakness: at most 1 point",
        f"pain {max(lm, rm):g}/10 on the {side}",
    )


def _squat_vote(left: str | None, right: str | None) -> SideVote | None:
    rank = {"poor": 0, "fair": 1, "good": 2}
    if left is None or right is None:
        return None
    if left == right:
        return SideVote(
            "squat quality (your rating)", None, 0, f"single-leg squat left {left}, right {right}"
        )
    side: Side = "left" if rank[left] < rank[right] else "right"
    return SideVote(
        "squat quality (your rating)",
        side,
        1,
        f"single-leg squat left {left}, right {right}",
        None,
        f"squat L {left} / R {right}",
    )


def assess_side(
    *,
    answer: str = "auto",
    runs: RunBalanceEvidence | None = None,
    drift: DriftEvidence | None = None,
    balance_tests: Sequence[Any] = (),
    pain: PainEvidence | None = None,
    squat_left: str | None = None,
    squat_right: str | None = None,
    run_window_days: int = 56,
    test_window_days: int = 90,
) -> SideAssessment:
    """Apply :data:`SIDE_RULE` to the evidence (``balance_tests``: ``BalanceEvidence`` items)."""
    votes: list[SideVote] = []
    missing: list[str] = []
    if runs is not None:
        votes.append(_run_vote(runs))
    else:
        missing.append(f"no runs with GCT balance in the last {run_window_days} days")
    if drift is not None:
        votes.append(_drift_vote(drift))
    elif runs is not None:
        missing.append("no fatigue drift measured (runs too short or without balance)")
    tv = _test_votes(balance_tests)
    votes += tv
    if not tv:
        missing.append(f"no one-leg balance tests with both sides in the last {test_window_days} days")
    for extra in (_pain_vote(pain) if pain else None, _squat_vote(squat_left, squat_right)):
        if extra is not None:
            votes.append(extra)
    score = sum(_sign(v.side) * v.points for v in votes if v.side is not None)
    pro = [v for v in votes if v.side is not None]
    sides = {v.side for v in pro}
    if answer in ("left", "right", "none"):
        chosen: Side | None = answer if answer != "none" else None  # type: ignore[assignment]
        against = [v for v in pro if v.side != chosen]
        conflicts = tuple(
            f"Your answer ({answer}) disagrees with {v.source}: {v.detail}. Following your answer; "
            "pass --weaker-side auto to follow the evidence."
            for v in against
        )
        return SideAssessment(
            chosen,
            "clear" if not against else "uncertain",
            score,
            f"your answer: {answer}" + (f" ({len(against)} measurement(s) disagree)" if against else ""),
            tuple(votes),
            answer,
            conflicts,
        )
    if abs(score) >= DECIDE_SCORE:
        side: Side = "left" if score > 0 else "right"
        against = [v for v in pro if v.side != side]
        confidence: Confidence = "clear" if abs(score) >= 2 * DECIDE_SCORE and not against else "probable"
        because = "; ".join(v.short or v.detail for v in pro if v.side == side)
        conflicts = tuple(f"{v.source} points the other way: {v.detail}" for v in against)
        return SideAssessment(
            side,
            confidence,
            score,
            f"{side}, {confidence} ({score:+d} points): {because}",
            tuple(votes),
            None,
            conflicts,
        )
    if len(sides) > 1:
        detail = "; ".join(f"{v.source} says {v.side} ({v.detail})" for v in pro)
        return SideAssessment(
            None,
            "uncertain",
            score,
            f"the evidence disagrees ({score:+d} points, need {DECIDE_SCORE}): {detail}. Both sides trained "
            "equally; re-test or pass --weaker-side left|right.",
            tuple(votes),
        )
    why = [v.detail for v in votes if v.side is None] + missing
    if pro:
        why.insert(0, f"only {abs(score)} point(s) toward the {pro[0].side} (need {DECIDE_SCORE})")
    return SideAssessment(
        None,
        "none" if not pro else "uncertain",
        score,
        "no side chosen: " + "; ".join(why) if why else "no side chosen: no evidence",
        tuple(votes),
    )
