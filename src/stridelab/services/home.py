"""The home: where the runner stands, why, what to do today and whether it is working.

One call, :func:`home`, composes the other services (the per-run table and the personal baseline of the
run analytics, the side rule, the plan and its outcome, the running experiment, the load guard) into a
typed :class:`Home`. Every section carries the numbers (units in the names), the runs and charts that
support it (:class:`Link`: a dashboard path and the CLI command), and, when the data cannot support a
statement, ``reason`` instead of a value. The words are made in ``stridelab.present.home``.

Intervals: the current pace-adjusted balance is the random-effects mean of the runs of the last
:data:`WINDOW_DAYS` days (``stridelab.analysis.pooled_estimate``: each run's own interval plus the
run-to-run variation) with a t interval; GCT, VO and the fatigue drift are the mean over those runs
with a t interval across runs (each run one observation). The baseline is the personal baseline of
the latest run (its previous 20 runs, ``stridelab.services.experiments.baseline_rows``).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import types
import typing
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal

import stridelab.analysis as analysis_core  # a lazy package: names load on first use
from stridelab.jsonsafe import to_jsonable
from stridelab.lazy import lazy_module
from stridelab.services import training as training_service
from stridelab.store import Store, StoreError
from stridelab.store import cache as cache_repo
from stridelab.store import experiments as experiments_repo
from stridelab.store import tags as tags_repo
from stridelab.store import training as training_repo
from stridelab.training import SideAssessment, mean_interval

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

__all__ = [
    "HISTORY_RUNS",
    "HOME_VERSION",
    "WINDOW_DAYS",
    "ChangeSection",
    "DriftSection",
    "ExperimentSection",
    "Factor",
    "Home",
    "Interval",
    "Link",
    "LoadSection",
    "MetricStanding",
    "OutcomeRow",
    "SideSection",
    "TodaySection",
    "build_home",
    "home",
    "phase_outcomes",
    "recommended_cue",
]

#: the "current" window and the one before it ("last month")
WINDOW_DAYS: Final[int] = 28
#: a change smaller than this (pp of balance) is called "no change" even when its interval excludes 0
MEANINGFUL_PP: Final[float] = 0.1

Verdict = Literal["better", "worse", "no clear change", "not enough runs"]


@dataclass(frozen=True, slots=True)
class Link:
    """Where a statement's evidence is: a dashboard path and the CLI command that shows it."""

    label: str
    href: str
    command: str

    def to_dict(self) -> dict[str, str]:
        return {"label": self.label, "href": self.href, "command": self.command}


@dataclass(frozen=True, slots=True)
class Interval:
    """An estimate with its 95 % interval (None ends: not computable), over ``n_runs`` runs."""

    estimate: float
    low: float | None
    high: float | None
    n_runs: int
    method: str

    def excludes_zero(self) -> bool:
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimate": self.estimate,
            "ci_low": self.low,
            "ci_high": self.high,
            "n_runs": self.n_runs,
            "method": self.method,
        }


@dataclass(frozen=True, slots=True)
class MetricStanding:
    """One metric now (last 4 weeks), the 4 weeks before, the change and the personal baseline."""

    metric: str  # balance | gct | vo
    unit: str  # "% left" | "ms" | "mm"
    current: Interval | None
    previous: Interval | None
    change: Interval | None  # current - previous
    verdict: Verdict
    baseline_centre: float | None
    baseline_range: tuple[float, float] | None
    baseline_n_runs: int
    reason: str | None
    links: tuple[Link, ...]


@dataclass(frozen=True, slots=True)
class DriftSection:
    """How the balance moves within a run as she tires (pp per hour, + = toward the left)."""

    typical: Interval | None
    latest_run_id: str | None
    latest_pp_per_h: float | None
    reason: str | None
    links: tuple[Link, ...]


@dataclass(frozen=True, slots=True)
class Factor:
    """A likely reason for a change: how much it may account for (pp, signed) and what was seen."""

    factor: str  # pace | hills | turns | fatigue | sensor | load | pain
    contribution_pp: float | None
    detail: str


@dataclass(frozen=True, slots=True)
class ChangeSection:
    """What changed at the latest run against her normal range, and the likely reasons."""

    run_id: str | None
    run_day: str | None
    flag: str | None  # normal | high | low | no_baseline | no_balance
    residual_pp: float | None
    normal_range_pp: float | None
    factors: tuple[Factor, ...]
    flagged_recent: tuple[str, ...]  # runs outside their normal range in the window
    reason: str | None
    links: tuple[Link, ...]


@dataclass(frozen=True, slots=True)
class SideSection:
    """Which side to work on (the side rule), the active plan's side and whether to re-plan."""

    assessment: SideAssessment | None
    plan_side: str | None
    replan_suggested: bool
    replan_reason: str | None
    reason: str | None
    links: tuple[Link, ...]


@dataclass(frozen=True, slots=True)
class TodaySection:
    """Today's session of the active plan (or rest / no plan) and why, tied to her numbers."""

    date: str
    plan_id: int | None
    session: dict[str, Any] | None
    exercises: tuple[str, ...]
    minutes: float | None
    next_date: str | None
    messages: tuple[str, ...]
    why: tuple[str, ...]
    reason: str | None
    links: tuple[Link, ...]
    first_session_date: str | None = None  # the plan has not started: its first session


@dataclass(frozen=True, slots=True)
class ExperimentSection:
    """The running experiment: where it stands, today's arm and cue, runs to a decisive answer."""

    name: str | None
    design: str | None
    arms: tuple[str, ...]
    verdict: str | None
    summary: str | None
    effect: Interval | None  # B - A on the primary metric
    primary_metric: str | None
    runs_done: int
    planned_runs: int | None
    today_arm: str | None
    today_laps: dict[str, list[int]]
    runs_to_decisive: int | None  # runs until the next look that can decide
    runs_to_final: int | None  # runs until the planned length
    cue_recommendation: str | None
    reason: str | None
    links: tuple[Link, ...]


@dataclass(frozen=True, slots=True)
class LoadSection:
    """The load guard: this week's and last week's distance, the 10 % check, ACWR, warnings."""

    week_start: str | None
    week_partial: bool
    week_distance_m: float | None
    previous_week_distance_m: float | None
    change_pct: float | None
    acwr: float | None
    zone: str | None
    warnings: tuple[str, ...]
    next_week_max_distance_m: float | None
    reason: str | None
    links: tuple[Link, ...]
    fitness_load: str | None = None  # "trimp" (heart rate) or "power_stress"
    ctl: float | None = None  # fitness, 42-day weighted daily load
    atl: float | None = None  # fatigue, 7-day
    tsb: float | None = None  # form, yesterday's CTL - ATL
    fitness_assumptions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OutcomeRow:
    """Per program phase: the change of pace-adjusted balance (distance from 50 %) and drift vs before."""

    window: str
    start: str
    end: str
    n_runs: int
    balance_left_pct: float | None
    balance_change_pp: Interval | None  # change in |balance - 50| vs before (negative = more even)
    drift_change_pp_per_h: Interval | None
    verdict: Literal["improved", "no change", "worse", "not enough runs", "not started"]


@dataclass(frozen=True, slots=True)
class Home:
    """Everything the home says, with its evidence."""

    athlete: str
    today: date
    n_runs: int
    last_run_day: str | None
    ref_speed_m_s: float | None
    window_days: int
    standing: tuple[MetricStanding, ...]
    drift: DriftSection
    change: ChangeSection
    side: SideSection
    session: TodaySection
    experiment: ExperimentSection
    load: LoadSection
    outcome: tuple[OutcomeRow, ...]
    outcome_reason: str | None
    messages: tuple[str, ...] = field(default_factory=tuple)
    outcome_links: tuple[Link, ...] = field(default_factory=tuple)


# ---------------------------------------------------------------------------------------------- helpers
def _run_link(run_id: str, day: str | None = None) -> Link:
    label = f"run {run_id[:8]}" + (f" ({day})" if day else "")
    return Link(label, f"/runs/{run_id}", f"stridelab show {run_id[:8]}")


_TREND = Link("balance trend", "/trends", "stridelab trend")
_BASELINE = Link("personal baseline", "/trends#chart-balance", "stridelab baseline")
_LOAD = Link("weekly load", "/trends#load", "stridelab load")
_PLAN = Link("plan & today", "/plan", "stridelab plan today")
_OUTCOME = Link("plan outcome", "/plan", "stridelab plan outcome")
_TESTS = Link("balance tests", "/tests", "stridelab test balance")


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _t(df: int) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.975, df))


def _pooled_balance(sub: pd.DataFrame) -> Interval | None:
    """Random-effects mean of the runs' pace-adjusted balance with a t(n-1) interval."""
    if "balance_at_ref_speed_left_pct" not in sub.columns:
        return None
    est = pd.to_numeric(sub["balance_at_ref_speed_left_pct"], errors="coerce").to_numpy(dtype="float64")
    if "balance_at_ref_speed_se_pp" not in sub.columns:
        return None
    se = pd.to_numeric(sub["balance_at_ref_speed_se_pp"], errors="coerce").to_numpy(dtype="float64")
    ok = np.isfinite(est) & np.isfinite(se) & (se > 0)
    if not ok.any():
        return None
    pooled = analysis_core.pooled_estimate(est[ok], se[ok])
    if pooled is None:
        return None
    mean, s, _tau = pooled
    n = int(ok.sum())
    if n < 2:
        return Interval(mean, None, None, n, "one run: no run-to-run variation known")
    q = _t(n - 1)
    return Interval(mean, mean - q * s, mean + q * s, n, "random-effects mean over runs, t interval")


def _mean_over_runs(sub: pd.DataFrame, column: str) -> Interval | None:
    if column not in sub.columns:
        return None
    m = mean_interval(pd.to_numeric(sub[column], errors="coerce").tolist())
    if m is None:
        return None
    return Interval(m[0], m[1], m[2], m[3], "mean over runs, t interval across runs")


def _difference(a: Interval | None, b: Interval | None) -> Interval | None:
    """a - b with a Welch-style interval from the two intervals' half-widths."""
    if a is None or b is None or None in (a.low, a.high, b.low, b.high):
        return None
    assert a.low is not None and a.high is not None and b.low is not None and b.high is not None
    sa = (a.high - a.low) / (2 * _t(max(1, a.n_runs - 1)))
    sb = (b.high - b.low) / (2 * _t(max(1, b.n_runs - 1)))
    d = a.estimate - b.estimate
    se = math.sqrt(sa**2 + sb**2)
    q = _t(max(1, a.n_runs + b.n_runs - 2))
    return Interval(d, d - q * se, d + q * se, a.n_runs + b.n_runs, "difference of the two windows")


def _verdict(metric: str, current: Interval | None, change: Interval | None) -> Verdict:
    if current is None or change is None or change.low is None or change.high is None:
        return "not enough runs"
    if not change.excludes_zero() or abs(change.estimate) < (MEANINGFUL_PP if metric == "balance" else 0.0):
        return "no clear change"
    if metric == "balance":
        before = current.estimate - change.estimate
        return "better" if abs(current.estimate - 50.0) < abs(before - 50.0) else "worse"
    return "better" if change.estimate < 0 else "worse"  # shorter contact, less bounce


_LABELS: Final[dict[str, str]] = {
    "balance": "GCT balance",
    "gct": "ground contact time",
    "vo": "vertical oscillation",
}
_METRICS: Final[tuple[tuple[str, str, str], ...]] = (
    ("balance", "% left", "balance_at_ref_speed_left_pct"),
    ("gct", "ms", "gct_at_ref_speed_ms"),
    ("vo", "mm", "vo_at_ref_speed_mm"),
)


def _standing(
    table: pd.DataFrame, today: date, baseline: Any, baseline_others: dict[str, Any]
) -> tuple[MetricStanding, ...]:
    starts = (
        pd.to_datetime(table["start_time"], utc=True)
        if len(table)
        else pd.Series(dtype="datetime64[ns, UTC]")
    )
    end = pd.Timestamp(today + timedelta(days=1), tz="UTC")
    cur_mask = (starts >= end - pd.Timedelta(days=WINDOW_DAYS)) & (starts < end)
    prev_mask = (starts >= end - pd.Timedelta(days=2 * WINDOW_DAYS)) & (
        starts < end - pd.Timedelta(days=WINDOW_DAYS)
    )
    cur, prev = table[cur_mask.to_numpy()], table[prev_mask.to_numpy()]
    out = []
    for metric, unit, column in _METRICS:
        if metric == "balance":
            c, p = _pooled_balance(cur), _pooled_balance(prev)
        else:
            c, p = _mean_over_runs(cur, column), _mean_over_runs(prev, column)
        change = _difference(c, p)
        reason = None
        if c is None:
            reason = f"no run with pace-adjusted {_LABELS[metric]} in the last {WINDOW_DAYS} days" + (
                " (no runs at all)" if not len(table) else ""
            )
        elif change is None:
            reason = f"cannot compare with the {WINDOW_DAYS} days before: " + (
                "no runs there" if p is None else "fewer than 2 runs in a window"
            )
        centre = rng = None
        n_base = 0
        if baseline is not None:
            n_base = int(baseline.n_baseline_runs)
            if metric == "balance" and baseline.centre_left_pct is not None and baseline.limit_pp is not None:
                centre = float(baseline.centre_left_pct)
                rng = (centre - float(baseline.limit_pp), centre + float(baseline.limit_pp))
            elif metric != "balance":
                o = baseline_others.get(metric) or {}
                res, lim = o.get(f"residual_{unit}"), o.get(f"normal_range_{unit}")
                latest = _num(table.iloc[-1].get(column)) if len(table) else None
                if res is not None and lim is not None and latest is not None:
                    centre = latest - float(res)
                    rng = (centre - float(lim), centre + float(lim))
        ids = [str(i) for i in cur["id"]][-3:] if len(cur) else []
        links = (_TREND, _BASELINE, *(_run_link(i) for i in ids))
        out.append(
            MetricStanding(
                metric, unit, c, p, change, _verdict(metric, c, change), centre, rng, n_base, reason, links
            )
        )
    return tuple(out)


def _drift(table: pd.DataFrame, today: date) -> DriftSection:
    if not len(table) or "balance_drift_pp_per_h" not in table.columns:
        return DriftSection(None, None, None, "no runs with a measured balance drift", (_TREND,))
    starts = pd.to_datetime(table["start_time"], utc=True)
    since = pd.Timestamp(today - timedelta(days=2 * WINDOW_DAYS), tz="UTC")
    sub = table[(starts >= since).to_numpy()]
    typical = _mean_over_runs(sub, "balance_drift_pp_per_h")
    has = table.dropna(subset=["balance_drift_pp_per_h"])
    latest_id = str(has.iloc[-1]["id"]) if len(has) else None
    latest = _num(has.iloc[-1]["balance_drift_pp_per_h"]) if len(has) else None
    reason = None
    if typical is None or typical.low is None:
        reason = f"fewer than 2 runs with a measured drift in the last {2 * WINDOW_DAYS} days"
        typical = None
    links: tuple[Link, ...] = (_TREND,) + ((_run_link(latest_id),) if latest_id else ())
    return DriftSection(typical, latest_id, latest, reason, links)


def _change(rows: list[Any], today: date, pain_days: list[tuple[str, float, str | None]]) -> ChangeSection:
    with_balance = [r for r in rows if r.flag != "no_balance"]
    if not with_balance:
        return ChangeSection(
            None, None, None, None, None, (), (), "no run with GCT balance yet", (_BASELINE,)
        )
    last = with_balance[-1]
    day = pd.Timestamp(last.start_time).date().isoformat()
    since = pd.Timestamp(today - timedelta(days=WINDOW_DAYS), tz="UTC")
    flagged = tuple(r.id for r in rows if r.flag in ("high", "low") and pd.Timestamp(r.start_time) >= since)
    factors = [Factor(e.factor, e.contribution_pp, e.detail) for e in last.explanations]
    for d, pain, note in pain_days:
        factors.append(
            Factor("pain", None, f"pain {pain:g}/10 logged on {d}" + (f" ({note})" if note else ""))
        )
    reason = None
    if last.flag == "no_baseline":
        reason = (
            f"fewer than 5 earlier runs with balance: no personal baseline yet ({last.n_baseline_runs} runs)"
        )
    links = (_run_link(last.id, day), _BASELINE, *(_run_link(i) for i in flagged[-3:]))
    return ChangeSection(
        last.id,
        day,
        last.flag,
        _num(last.residual_pp),
        _num(last.limit_pp),
        tuple(factors),
        flagged,
        reason,
        links,
    )


def _pain_logged(store: Store, athlete: str, today: date) -> list[tuple[str, float, str | None]]:
    out = []
    for log in training_service.session_logs(store, athlete):
        if today - timedelta(days=WINDOW_DAYS) <= log.date <= today:
            worst = max([log.pain or 0.0] + [e.pain or 0.0 for e in log.exercises])
            if worst >= 3:
                out.append((log.date.isoformat(), float(worst), log.note))
    return out


def _side(store: Store, athlete: str, today: date) -> SideSection:
    try:
        a = training_service.side_assessment(store, athlete, today)
    except (StoreError, OSError, ValueError) as exc:
        return SideSection(None, None, False, None, f"cannot read the evidence: {exc}", (_TESTS,))
    stored = training_service.active_plan(store, athlete)
    plan_side = stored.plan.weaker_side if stored else None
    replan = False
    why = None
    if stored is not None and stored.plan.inputs.weaker_side == "auto" and a.side != plan_side:
        replan = True
        why = (
            f"your plan trains the {plan_side or 'both sides equally'}, the evidence now says "
            f"{a.side or 'no side'} ({a.confidence}): re-create the plan with `stridelab plan create`"
        )
    links = (_TESTS, _TREND, _PLAN)
    return SideSection(a, plan_side, replan, why, None, links)


def _today(
    store: Store,
    athlete: str,
    today: date,
    side: SideSection,
    standing: tuple[MetricStanding, ...],
    drift: DriftSection,
) -> TodaySection:
    view = training_service.today_session(store, athlete, today)
    session = view.get("session")
    names: list[str] = []
    minutes = None
    why: list[str] = []
    reason = None
    if session:
        ex = session.get("exercises") or {}
        for it in session.get("items", []):
            n = ex.get(it["exercise_id"], {}).get("name", it["exercise_id"])
            if n not in names:
                names.append(n)
        secs = _num(session.get("seconds_est"))
        minutes = secs / 60.0 if secs is not None else None
        a = side.assessment
        if a is not None and a.side is not None:
            why.append(f"side:{a.side}:{a.confidence}")
        bal = standing[0].current if standing else None
        if bal is not None:
            why.append(f"balance:{bal.estimate:.2f}")
        if drift.typical is not None:
            why.append(f"drift:{drift.typical.estimate:+.2f}")
        why.append(f"phase:{session.get('phase')}:week:{session.get('week')}")
    elif view.get("plan_id") is None:
        reason = "no training plan yet"
    first = view.get("first_session")
    if first:
        ex = first.get("exercises") or {}
        names = list(dict.fromkeys(v.get("name", k) for k, v in ex.items()))
    links = (_PLAN,)
    return TodaySection(
        today.isoformat(),
        view.get("plan_id"),
        session,
        tuple(names),
        minutes,
        view.get("next_date"),
        tuple(view.get("messages") or ()),
        tuple(why),
        reason,
        links,
        first["date"] if first else None,
    )


def recommended_cue(arms: tuple[str, ...], effect_pp: float, left_pct: float | None) -> str:
    """The arm that moved the balance toward even: ``effect_pp`` = B - A on the left share; for a
    left-heavy runner (``left_pct`` >= 50, or unknown) a negative effect means B helped."""
    left_heavy = left_pct is None or left_pct >= 50.0
    return arms[1] if (effect_pp < 0) == left_heavy else arms[0]


def _no_experiment(
    reason: str,
    links: tuple[Link, ...],
    name: str | None = None,
    design: str | None = None,
    arms: tuple[str, ...] = (),
) -> ExperimentSection:
    return ExperimentSection(
        name, design, arms, None, None, None, None, 0, None, None, {}, None, None, None, reason, links
    )


def _experiment(store: Store, athlete: str, today: date, left_pct: float | None) -> ExperimentSection:
    """The latest experiment; ``left_pct`` (her current balance) says which direction is "toward even"
    for the cue recommendation (left-heavy: a lower left share helps)."""
    from stridelab.services import experiments as experiments_service

    exps = experiments_service.list_experiments(store, athlete)
    if not exps:
        return _no_experiment(
            "no experiment defined (try `stridelab experiment create`)",
            (Link("experiments", "/experiments", "stridelab experiment list"),),
        )
    exp = exps[-1]
    links = (
        Link(
            f"experiment {exp.name}",
            f"/experiments?name={exp.name}",
            f"stridelab experiment analyze {exp.name!r}",
        ),
    )
    try:
        res = experiments_service.analyze_experiment(store, athlete, exp.name)
    except (StoreError, OSError, ValueError) as exc:
        return _no_experiment(f"cannot analyse: {exc}", links, exp.name, exp.design, tuple(exp.arms))
    p = exp.protocol
    runs_done = len({b.run_id for b in res.blocks})
    planned = experiments_service.planned_runs(exp)
    today_arm = None
    today_laps: dict[str, list[int]] = {}
    if runs_done < planned:
        if exp.design == "alternating-runs":
            today_arm = p["order"][runs_done]
        elif exp.design == "alternating-laps":
            order = p["orders"][runs_done]
            today_laps = {arm: [i + 2 for i, x in enumerate(order) if x == arm] for arm in exp.arms}
        else:
            change = p.get("change_date")
            if change:
                today_arm = exp.arms[0] if today.isoformat() < change else exp.arms[1]
    flags = experiments_service.decisive_flags(exp)
    nxt = [j for j in range(runs_done + 1, planned + 1) if flags[j - 1]]
    c = res.primary
    eff = None
    if c.effect is not None:
        eff = Interval(c.effect, c.ci_low, c.ci_high, c.n_runs, c.method)
    rec = None
    if res.decided and c.effect is not None and exp.primary == "balance":
        rec = recommended_cue(tuple(exp.arms), c.effect, left_pct)
    return ExperimentSection(
        name=exp.name,
        design=exp.design,
        arms=tuple(exp.arms),
        verdict=res.verdict,
        summary=res.summary(),
        effect=eff,
        primary_metric=exp.primary,
        runs_done=runs_done,
        planned_runs=planned,
        today_arm=today_arm,
        today_laps=today_laps,
        runs_to_decisive=(nxt[0] - runs_done) if nxt and not res.decided else None,
        runs_to_final=max(0, planned - runs_done),
        cue_recommendation=rec,
        reason=None,
        links=links,
    )


def _load(store: Store, athlete: str, today: date) -> LoadSection:
    try:
        rep = training_service.weekly_load(store, athlete, today=today)
    except (StoreError, OSError, ValueError) as exc:
        return LoadSection(
            None, False, None, None, None, None, None, (), None, f"cannot compute the load: {exc}", (_LOAD,)
        )
    if not rep.weeks:
        return LoadSection(
            None, False, None, None, None, None, None, (), None, rep.message or "no runs", (_LOAD,)
        )
    w = rep.weeks[-1]
    prev = rep.weeks[-2] if len(rep.weeks) > 1 else None
    rec = rep.recommendation or {}
    fit_name = None
    latest: dict[str, float] | None = None
    assumptions: tuple[str, ...] = ()
    try:
        fit = training_service.fitness(store, athlete, today=today)
        fit_name = (
            "trimp" if "trimp" in fit.daily else ("power_stress" if "power_stress" in fit.daily else None)
        )
        latest = fit.latest(fit_name) if fit_name else None
        assumptions = fit.assumptions
    except (StoreError, OSError, ValueError):
        fit_name = None
    return LoadSection(
        fitness_load=fit_name,
        ctl=latest["ctl"] if latest else None,
        atl=latest["atl"] if latest else None,
        tsb=latest["tsb"] if latest else None,
        fitness_assumptions=assumptions,
        week_start=w.week_start.isoformat(),
        week_partial=w.partial,
        week_distance_m=w.distance_m,
        previous_week_distance_m=prev.distance_m if prev else None,
        change_pct=w.change_pct,
        acwr=w.acwr,
        zone=w.zone,
        warnings=tuple(x for x in (prev.warning if prev else None, w.warning) if x),
        next_week_max_distance_m=_num(rec.get("max_distance_m")),
        reason=None,
        links=(_LOAD,),
    )


def _outcome(
    store: Store, athlete: str, today: date, table: pd.DataFrame
) -> tuple[tuple[OutcomeRow, ...], str | None]:
    stored = training_service.active_plan(store, athlete)
    if stored is None:
        return (), "no training plan: nothing to measure yet"
    plan = stored.plan
    windows = [("before", plan.start - timedelta(days=WINDOW_DAYS), plan.start - timedelta(days=1))]
    windows += [(f"phase {p.number}", p.start, p.end) for p in plan.phases]
    if not len(table):
        return (), "no runs with balance"
    days = pd.to_datetime(table["start_time"], utc=True).dt.date
    dist = (pd.to_numeric(table["balance_at_ref_speed_left_pct"], errors="coerce") - 50.0).abs()
    drift = (
        pd.to_numeric(table["balance_drift_pp_per_h"], errors="coerce")
        if "balance_drift_pp_per_h" in table.columns
        else pd.Series(np.nan, index=table.index)
    )
    before_dist = before_drift = None
    rows = []
    for name, start, end in windows:
        if start > today:
            rows.append(
                OutcomeRow(name, start.isoformat(), end.isoformat(), 0, None, None, None, "not started")
            )
            continue
        m = ((days >= start) & (days <= min(end, today))).to_numpy()
        d = mean_interval(dist[m].tolist())
        dr = mean_interval(drift[m].tolist())
        bal = _num(pd.to_numeric(table["balance_at_ref_speed_left_pct"], errors="coerce")[m].mean())
        di = Interval(d[0], d[1], d[2], d[3], "mean |balance - 50| over runs") if d else None
        dri = Interval(dr[0], dr[1], dr[2], dr[3], "mean drift over runs") if dr else None
        if name == "before":
            before_dist, before_drift = di, dri
            rows.append(
                OutcomeRow(
                    name, start.isoformat(), end.isoformat(), int(m.sum()), bal, None, None, "no change"
                )
            )
            continue
        ch = _difference(di, before_dist)
        chd = _difference(dri, before_drift)
        verdict: Literal["improved", "no change", "worse", "not enough runs", "not started"]
        if ch is None:
            verdict = "not enough runs"
        elif ch.excludes_zero():
            verdict = "improved" if ch.estimate < 0 else "worse"
        else:
            verdict = "no change"
        rows.append(OutcomeRow(name, start.isoformat(), end.isoformat(), int(m.sum()), bal, ch, chd, verdict))
    return tuple(rows), None


def phase_outcomes(store: Store, athlete: str, today: date) -> tuple[tuple[OutcomeRow, ...], str | None]:
    """Per window of the active plan (before, each phase): the change in distance from even and in
    drift with intervals and a verdict, or the reason there is none (``stridelab plan outcome``)."""
    from stridelab.services import analysis as analysis_service

    stored = training_service.active_plan(store, athlete)
    since = (
        pd.Timestamp(stored.plan.start - timedelta(days=WINDOW_DAYS), tz="UTC")
        if stored is not None
        else None
    )
    table, _ref = analysis_service.run_table(
        store, athlete, since=since, until=pd.Timestamp(today + timedelta(days=1), tz="UTC")
    )
    if len(table) and "analysis_error" in table.columns:
        table = table[table["analysis_error"].isna().to_numpy()]
    if len(table) and "balance_at_ref_speed_left_pct" not in table.columns:
        return (), "no runs with pace-adjusted balance"
    return _outcome(store, athlete, today, table)


#: the runs read before the home's windows so that every personal baseline in them has its history
#: (the baseline is the previous ``window_runs`` runs with each metric; more are read when these fall short)
HISTORY_RUNS: Final[int] = 60


#: the baseline's metrics and the catalog summary count that says a run has the raw metric
_BASELINE_COLUMNS: Final[dict[str, str]] = {
    "balance_adj": "stance_time_balance_left_pct_n",
    "gct_adj": "stance_time_s_n",
    "vo_adj": "vertical_oscillation_m_n",
}


def _measured_before(runs: list[Any], index: int) -> set[str]:
    """The baseline columns some run before ``runs[index]`` has (from the catalog summaries: a run
    without the raw metric has no pace-adjusted value either)."""
    out: set[str] = set()
    for act in runs[:index]:
        summary = act.summary or {}
        out |= {col for col, key in _BASELINE_COLUMNS.items() if (_num(summary.get(key)) or 0) > 0}
        if len(out) == len(_BASELINE_COLUMNS):
            break
    return out


def _baseline_complete(
    records: pd.DataFrame, since: pd.Timestamp, window_runs: int, earlier: set[str]
) -> bool:
    """Whether the runs before ``since`` in ``records`` hold a full baseline window of every metric
    that runs before them (``earlier``, the columns measured before the read) may have."""
    before = records[pd.to_datetime(records["start_time"], utc=True) < since]
    for col in earlier:
        if col in before.columns and pd.to_numeric(before[col], errors="coerce").notna().sum() < window_runs:
            return False
        if col not in before.columns:
            return False
    return True


def _recent_baseline(
    store: Store,
    athlete: str,
    runs: list[Any],
    analyses: list[Any],
    ref: float | None,
    since: pd.Timestamp | None,
    earlier: set[str],
    window_runs: int = 20,
) -> list[Any] | None:
    """The personal-baseline rows (``stridelab baseline``) of the runs from ``since`` on, from the
    analyses read (which start ``HISTORY_RUNS`` runs earlier); None when those hold less history than
    a baseline needs while earlier runs (``earlier``: the metrics they measured) could fill it (the caller
    then reads them all)."""
    from stridelab.services import analysis as analysis_service

    table = analysis_service.table_of_analyses(analyses, ref)
    loads = analysis_core.load_ratios(runs)
    by_id = {act.id: a for act, a, _ in analyses if a is not None}
    records = [
        analysis_core.baseline_record(
            row, None if row.get("analysis_error") else by_id.get(str(row["id"])), loads
        )
        for row in table.to_dict("records")
    ]
    if not records:
        return []
    if (
        since is not None
        and earlier
        and not _baseline_complete(pd.DataFrame.from_records(records), since, window_runs, earlier)
    ):
        return None
    return analysis_core.baseline_runs(records, ref, since=since, window_runs=window_runs)


# ---------------------------------------------------------------------------------------------- the home
#: raise when :class:`Home` or how it is built changes (kept homes of older versions are rebuilt)
HOME_VERSION: Final[int] = 2


def _inputs_fingerprint(store: Store, athlete: str) -> str:
    """A digest of everything the home reads besides the runs and their analyses (which the store's
    derived fingerprint covers): the active plan, the session and exercise logs, the balance tests,
    the stops, the experiments and the tags. Small tables: read whole, hashed."""
    parts = [
        training_repo.content_digest(store, athlete),
        repr(experiments_repo.list_experiments(store, athlete)),
        repr(tags_repo.list_tags(store, athlete)),
    ]
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


@functools.cache
def _hints(tp: type) -> dict[str, Any]:
    """The resolved field types of a dataclass (resolved once per process)."""
    return typing.get_type_hints(tp)


def _decode(tp: Any, data: Any) -> Any:
    """The value of type ``tp`` (a dataclass of this module or of the cores, a tuple, a list, a dict,
    an optional, a date, a number, a literal) from its :func:`~stridelab.jsonsafe.to_jsonable` form."""
    if data is None or tp is Any:
        return data
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _decode(inner[0], data) if len(inner) == 1 else data
    if origin is Literal:
        return data
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        hints = _hints(tp)
        return tp(**{f.name: _decode(hints[f.name], data[f.name]) for f in dataclasses.fields(tp) if f.init})
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], x) for x in data)
        return tuple(_decode(a, x) for a, x in zip(args, data, strict=True))
    if origin is list:
        return [_decode(args[0] if args else Any, x) for x in data]
    if origin is dict:
        return {k: _decode(args[1] if args else Any, v) for k, v in data.items()}
    if tp is date:
        return date.fromisoformat(data)
    if tp is float:
        return float(data)
    if tp is int:
        return int(data)
    return data


def _home_of(data: Any) -> Home:
    """The :class:`Home` of its JSON form (the kept home)."""
    out: Home = _decode(Home, data)
    return out


def home(store: Store, athlete: str = "me", *, today: date | None = None, use_cache: bool = True) -> Home:
    """Where the runner stands on ``today`` (default: the local date), why, what to do, is it working.

    Kept in the store (``services.analysis.derived``) while the runs, their analyses, the analysis
    version and everything else the home reads (plan, logs, balance tests, stops, experiments, tags:
    their digest is part of the key) are unchanged: a warm call reads one row. Built, it reads only
    what its windows need (:func:`build_home`)."""
    today = today or date.today()
    cache_repo.ensure_cache_schema(store)
    if not use_cache:
        return build_home(store, athlete, today=today)
    # what ``services.analysis.derived`` does, on the store's cache directly: the warm path then loads
    # neither the run analytics nor scipy (a fresh ``status`` process pays only for what it reads)
    params = {"today": today, "version": HOME_VERSION, "inputs": _inputs_fingerprint(store, athlete)}
    key = json.dumps(to_jsonable(params), sort_keys=True)
    hit = cache_repo.read_derived(store, athlete, "home", key)
    if hit is not None and hit[0] == cache_repo.current_fingerprint(store, athlete):
        try:
            return _home_of(hit[1])
        except (KeyError, TypeError, ValueError):
            pass  # a kept home of another shape: build it again
    built = build_home(store, athlete, today=today)
    fingerprint = cache_repo.derived_fingerprint(store, athlete)  # after: the build may analyse runs
    cache_repo.write_derived(store, athlete, "home", key, fingerprint, to_jsonable(built))
    return built


def build_home(store: Store, athlete: str = "me", *, today: date | None = None) -> Home:
    """The :class:`Home`, computed. Reads only what its windows need: the cached analyses of the runs
    of the last ``2 x WINDOW_DAYS`` days (and of the active plan's windows), plus the ``HISTORY_RUNS``
    runs before them that the personal baseline of the latest runs is made of -- never every run of a
    long history."""
    from stridelab.services import analysis as analysis_service

    today = today or date.today()
    analysis_service.ensure_schema(store)
    until = pd.Timestamp(today + timedelta(days=1), tz="UTC")
    runs = [a for a in store.list_activities(athlete, until=until) if analysis_core.is_run(a)]
    stored_plan = training_service.active_plan(store, athlete)
    # the windows: the standing (2 x 28 days), the drift (56 days back from today), the plan's outcome
    window_start = pd.Timestamp(today - timedelta(days=2 * WINDOW_DAYS), tz="UTC")
    if stored_plan is not None:
        plan_before = pd.Timestamp(stored_plan.plan.start - timedelta(days=WINDOW_DAYS), tz="UTC")
        window_start = min(window_start, plan_before)
    if runs:  # the latest run is always read (its GCT and VO against their baselines)
        window_start = min(window_start, pd.Timestamp(runs[-1].start_time))
    starts = [pd.Timestamp(a.start_time) for a in runs]
    # the baseline's "what changed" is about the latest run with balance (in the window, or before it)
    baseline_since = pd.Timestamp(today - timedelta(days=WINDOW_DAYS), tz="UTC")
    if runs:
        baseline_since = min(baseline_since, starts[-1])
    first_in = next((i for i, t in enumerate(starts) if t >= min(window_start, baseline_since)), len(runs))
    read_from = max(0, first_in - HISTORY_RUNS)
    ref = analysis_service.athlete_ref_speed(store, athlete)
    since_read = starts[read_from] if runs and read_from < len(runs) else None
    analyses = analysis_service.run_analyses(store, athlete, since=since_read, until=until) if runs else []
    earlier = _measured_before(runs, read_from)
    rows = _recent_baseline(store, athlete, runs, analyses, ref, baseline_since, earlier)
    if rows is None:  # the history read holds too few runs with dynamics: read every run
        analyses = analysis_service.run_analyses(store, athlete, until=until)
        rows = _recent_baseline(store, athlete, runs, analyses, ref, baseline_since, set()) or []
    in_window = [x for x in analyses if pd.Timestamp(x[0].start_time) >= window_start]
    table = analysis_service.table_of_analyses(in_window, ref)
    with_balance = [r for r in rows if r.flag != "no_balance"]
    has_drift = "balance_drift_pp_per_h" in table.columns and table["balance_drift_pp_per_h"].notna().any()
    if (not with_balance or not has_drift) and "balance_adj" in _measured_before(runs, first_in):
        # the latest run with balance (or with a drift) is older than the windows: read every run, as
        # a store whose recent runs have no running dynamics needs
        analyses = analysis_service.run_analyses(store, athlete, until=until)
        rows = _recent_baseline(store, athlete, runs, analyses, ref, None, set()) or []
        with_balance = [r for r in rows if r.flag != "no_balance"]
        table = analysis_service.table_of_analyses(analyses, ref)
    messages: list[str] = []
    ok = table
    if len(table) and "analysis_error" in table.columns:
        bad = table["analysis_error"].notna()
        if bad.any():
            messages.append(f"{int(bad.sum())} run(s) could not be analysed and are left out")
        ok = table[~bad.to_numpy()]
    latest = with_balance[-1] if with_balance else None
    standing = _standing(ok, today, latest, latest.others if latest else {})
    drift = _drift(ok, today)
    change = _change(rows, today, _pain_logged(store, athlete, today))
    side = _side(store, athlete, today)
    outcome, outcome_reason = _outcome(store, athlete, today, ok)
    last_day = pd.Timestamp(runs[-1].start_time).date().isoformat() if runs else None
    if last_day and (today - date.fromisoformat(last_day)).days > WINDOW_DAYS:
        messages.append(f"your latest run is from {last_day}: the last {WINDOW_DAYS} days have no runs")
    return Home(
        athlete=athlete,
        today=today,
        n_runs=len(runs),
        last_run_day=last_day,
        ref_speed_m_s=ref,
        window_days=WINDOW_DAYS,
        standing=standing,
        drift=drift,
        change=change,
        side=side,
        session=_today(store, athlete, today, side, standing, drift),
        experiment=_experiment(
            store, athlete, today, standing[0].current.estimate if standing and standing[0].current else None
        ),
        load=_load(store, athlete, today),
        outcome=outcome,
        outcome_reason=outcome_reason,
        messages=tuple(messages),
        outcome_links=(_OUTCOME, _TREND),
    )
