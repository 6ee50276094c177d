"""The home in words and JSON: plain words first, numbers beside, every sentence with its evidence.

:func:`home_sentences` turns a :class:`stridelab.services.home.Home` into :class:`Sentence` items (one
per statement, in reading order); :func:`home_json` is the ``stridelab status --json`` contract (the
sentences plus every number, SI or unit-named, null with ``reason`` where the data cannot say);
:func:`home_text` the plain-text lines of ``stridelab status``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from typing import Any

from stridelab.present import format as fmt

# the home's types live in ``stridelab.services.home`` (a higher layer): read here by attribute only
Home = Any
Interval = Any
Link = Any

__all__ = ["Sentence", "home_json", "home_sentences", "home_text"]

_NAMES = {"balance": "GCT balance", "gct": "Ground contact time", "vo": "Vertical oscillation"}


@dataclass(frozen=True, slots=True)
class Sentence:
    """One statement: its section, the plain words, the numbers beside them, its evidence links; or
    ``text`` None with ``reason`` when the data cannot support it."""

    section: str
    text: str | None
    numbers: str | None
    links: tuple[Link, ...]
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "text": self.text,
            "numbers": self.numbers,
            "reason": self.reason,
            "links": [lk.to_dict() for lk in self.links],
        }


def _iv(i: Interval | None, decimals: int = 1, signed: bool = False) -> str:
    if i is None:
        return fmt.DASH
    f = f"{{:{'+' if signed else ''}.{decimals}f}}"
    if i.low is None or i.high is None:
        return f.format(i.estimate)
    return f"{f.format(i.estimate)} [{f.format(i.low)}, {f.format(i.high)}]"


def _lean(left_pct: float) -> str:
    d = left_pct - 50.0
    if abs(d) < 0.3:
        return "even between left and right"
    size = "slightly" if abs(d) < 1.0 else ("clearly" if abs(d) < 2.0 else "strongly")
    return f"{size} {'left' if d > 0 else 'right'}-heavy"


def _standing(h: Home, units: str = "metric") -> list[Sentence]:
    out = []
    for m in h.standing:
        name = _NAMES[m.metric]
        if m.current is None:
            out.append(Sentence(f"standing.{m.metric}", None, None, m.links, m.reason))
            continue
        dec = 2 if m.metric == "balance" else 1
        unit = " % L" if m.metric == "balance" else f" {m.unit}"
        n = m.current.n_runs
        runs = f"{n} run{'s' if n != 1 else ''}"
        now = f"{_iv(m.current, dec)}{unit} over {runs} in the last {h.window_days} days"
        if m.current.low is None:
            now += " (one run: no interval, its run-to-run variation is unknown)"
        if m.metric == "balance":
            words = f"Your pace-adjusted {name} is {_lean(m.current.estimate)}"
        else:
            words = f"Your pace-adjusted {name.lower()} is {m.current.estimate:.0f}{unit}"
        if m.verdict == "not enough runs":
            words += "; a comparison with last month is not possible"
        elif m.verdict == "no clear change":
            words += ", about the same as last month"
        else:
            words += f", {m.verdict} than last month"
        nums = [now]
        if h.ref_speed_m_s:
            nums.append(f"at {fmt.pace_of_speed(h.ref_speed_m_s, units=units)} (your easy pace)")
        if m.change is not None:
            nums.append(
                f"change {_iv(m.change, dec, signed=True)}{unit.replace(' % L', ' pp')} vs the 4 weeks before"
            )
        elif m.reason:
            nums.append(m.reason)
        if m.baseline_range is not None and m.baseline_centre is not None:
            lo, hi = m.baseline_range
            nums.append(f"your normal range {lo:.{dec}f}-{hi:.{dec}f}{unit} ({m.baseline_n_runs} runs)")
        out.append(Sentence(f"standing.{m.metric}", words + ".", "; ".join(nums), m.links))
    return out


def _drift(h: Home) -> Sentence:
    d = h.drift
    if d.typical is None:
        return Sentence("drift", None, None, d.links, d.reason)
    t = d.typical
    if t.excludes_zero():
        toward = "left" if t.estimate > 0 else "right"
        words = f"As you tire, your balance typically shifts toward the {toward}."
    else:
        words = "As you tire, your balance shows no consistent shift."
    nums = f"{_iv(t, 2, signed=True)} pp/h over {t.n_runs} runs"
    if d.latest_pp_per_h is not None:
        nums += f"; latest run {d.latest_pp_per_h:+.2f} pp/h"
    return Sentence("drift", words, nums, d.links)


_FACTOR_WORDS = {
    "pace": "your pace",
    "hills": "hills",
    "turns": "turns",
    "fatigue": "fatigue",
    "sensor": "a different sensor or shoes",
    "load": "a jump in weekly load",
    "pain": "pain you logged",
}


def _change(h: Home) -> Sentence:
    c = h.change
    if c.run_id is None or c.flag in ("no_baseline", None):
        return Sentence("change", None, None, c.links, c.reason)
    ranked = sorted(
        (
            f
            for f in c.factors
            if f.factor == "pain" or (f.contribution_pp is not None and abs(f.contribution_pp) >= 0.05)
        ),
        key=lambda f: -abs(f.contribution_pp or 0.0),
    )
    if c.flag == "normal":
        words = f"Your latest run with GCT balance ({c.run_day}) was within your normal range"
    else:
        side = "left" if c.flag == "high" else "right"
        words = f"Your latest run with GCT balance ({c.run_day}) was more {side}-heavy than normal"
    if ranked and c.flag != "normal":
        words += "; the likely reason: " + ", ".join(
            _FACTOR_WORDS.get(f.factor, f.factor) for f in ranked[:2]
        )
    elif c.flag != "normal":
        words += "; none of pace, hills, turns, fatigue, sensor or load accounts for it"
    nums = []
    if c.residual_pp is not None:
        nums.append(f"{c.residual_pp:+.2f} pp from your baseline (normal ±{c.normal_range_pp or 0:.2f} pp)")
    nums += [
        f"{f.factor} {f.contribution_pp:+.2f} pp" if f.contribution_pp is not None else f.detail
        for f in ranked[:3]
    ]
    if c.flagged_recent:
        nums.append(
            f"{len(c.flagged_recent)} run(s) outside the normal range in the last {h.window_days} days"
        )
    return Sentence("change", words + ".", "; ".join(nums), c.links)


def _side(h: Home) -> list[Sentence]:
    s = h.side
    a = s.assessment
    if a is None:
        return [Sentence("side", None, None, s.links, s.reason)]
    ev = "; ".join(v.short or v.detail for v in a.votes if v.side is not None) or None
    if a.side is None and not a.votes:
        out = [Sentence("side", None, None, s.links, a.reason)]
    elif a.side is None:
        out = [Sentence("side", "No side needs extra work yet: train both sides equally.", a.reason, s.links)]
    else:
        sure = {"clear": "fairly sure", "probable": "probably", "uncertain": "unsure"}.get(a.confidence, "")
        out = [
            Sentence("side", f"Work on your {a.side} side ({sure}).", f"{ev} ({a.score:+d} points)", s.links)
        ]
    if s.replan_suggested and s.replan_reason:
        out.append(
            Sentence("side.replan", "The evidence has changed: re-plan suggested.", s.replan_reason, s.links)
        )
    return out


def _today(h: Home) -> Sentence:
    t = h.session
    if t.session is None:
        msg = " ".join(t.messages) if t.messages else None
        if t.reason:
            return Sentence("today", None, None, t.links, t.reason + (f" ({msg})" if msg else ""))
        if t.first_session_date:
            return Sentence(
                "today",
                f"Your plan has not started yet: the first session is on {t.first_session_date}.",
                ", ".join(t.exercises) or msg,
                t.links,
            )
        return Sentence("today", "Today is a rest day from your program.", msg, t.links)
    s = t.session
    phase_words = {1: "strength and balance", 2: "drills", 3: "applying it while running"}.get(
        int(s.get("phase") or 0), ""
    )
    words = f"Today: {phase_words} (phase {s.get('phase')}, week {s.get('week')})"
    if t.minutes is not None:
        words += f", about {t.minutes:.0f} min"
    why = []
    facts = dict(p.split(":", 1) for p in t.why if ":" in p)
    if "side" in facts:
        side, conf = facts["side"].split(":")
        why.append(f"one-leg work with an extra set on your {side} side ({conf})")
    if "balance" in facts:
        why.append(f"your balance is {float(facts['balance']):.1f} % L")
    if "drift" in facts:
        why.append(f"it drifts {facts['drift']} pp/h as you tire")
    if why:
        words += " - because " + ", ".join(why)
    return Sentence("today", words + ".", ", ".join(t.exercises) or None, t.links)


def _experiment(h: Home) -> list[Sentence]:
    e = h.experiment
    if e.name is None or e.reason:
        return [Sentence("experiment", None, None, e.links, e.reason)]
    a, b = (*e.arms, "", "")[:2]
    state = {
        "decided": "has an answer",
        "not decisive yet": "is running, no answer yet",
        "no clear difference": "ended without a clear difference",
        "not computed": "has no usable runs yet",
    }.get(e.verdict or "", e.verdict or "")
    words = f'Your experiment "{e.name}" ({a} vs {b}) {state}.'
    nums = []
    if e.effect is not None:
        nums.append(f"{b} - {a} = {_iv(e.effect, 2, signed=True)} pp on {e.primary_metric}")
    nums.append(f"{e.runs_done} of {e.planned_runs} runs done")
    out = [Sentence("experiment", words, "; ".join(nums), e.links)]
    if e.today_arm:
        out.append(
            Sentence(
                "experiment.today",
                f'Today\'s run: hold the cue "{e.today_arm}" the whole run.',
                None,
                e.links,
            )
        )
    elif e.today_laps:
        laps = "; ".join(f'laps {",".join(map(str, v))}: "{k}"' for k, v in e.today_laps.items())
        out.append(Sentence("experiment.today", "Today's run alternates the cues by lap.", laps, e.links))
    if e.runs_to_decisive is not None:
        out.append(
            Sentence(
                "experiment.remaining",
                f"A decisive answer is possible after {e.runs_to_decisive} more run(s).",
                f"the planned length is reached after {e.runs_to_final} more run(s)",
                e.links,
            )
        )
    if e.cue_recommendation:
        out.append(
            Sentence(
                "experiment.cue",
                f'Keep the cue "{e.cue_recommendation}": it moved your balance toward even.',
                f"{b} - {a}: {_iv(e.effect, 2, signed=True)} pp (95 % interval) over {e.runs_done} runs"
                if e.effect
                else None,
                e.links,
            )
        )
    return out


def _load(h: Home, units: str = "metric") -> list[Sentence]:
    ld = h.load
    if ld.week_distance_m is None:
        return [Sentence("load", None, None, ld.links, ld.reason)]
    zone_words = {
        "low": "Your load is low (detraining range)",
        "sweet spot": "Your load is in a steady range",
        "caution": "Your load is rising fast: be careful",
        "danger": "Your load jumped: ease off",
    }
    words = zone_words.get(ld.zone or "", "Your load")
    if ld.zone is None:
        words = "Your weekly load is tracked (the ratio needs 4 weeks of runs)"
        if not ld.week_distance_m and not ld.previous_week_distance_m:
            words = "You have not run in the last two weeks"
    if ld.warnings:
        words += ", but see the warning" + ("s" if len(ld.warnings) > 1 else "")
    nums = [f"{fmt.km(ld.week_distance_m, units=units)} this week" + (" so far" if ld.week_partial else "")]
    if ld.previous_week_distance_m is not None:
        nums.append(f"{fmt.km(ld.previous_week_distance_m, units=units)} last week")
    if ld.acwr is not None:
        nums.append(f"ACWR {ld.acwr:.2f}")
    if ld.next_week_max_distance_m is not None:
        nums.append(f"next week at most {fmt.km(ld.next_week_max_distance_m, units=units)}")
    nums += list(ld.warnings)
    out = [Sentence("load", words + ".", "; ".join(nums), ld.links)]
    if ld.ctl is not None and ld.atl is not None and ld.tsb is not None:
        what = "heart-rate TRIMP" if ld.fitness_load == "trimp" else "power stress"
        fresh = "fresh" if ld.tsb > 5 else ("tired" if ld.tsb < -10 else "neither fresh nor tired")
        fit = f"fitness (CTL) {ld.ctl:.0f}, fatigue (ATL) {ld.atl:.0f}, form (TSB) {ld.tsb:+.0f} ({what})"
        if ld.fitness_assumptions:
            fit += "; assumed: " + "; ".join(ld.fitness_assumptions)
        out.append(Sentence("load.fitness", f"By your effort, you are {fresh}.", fit, ld.links))
    return out


def _outcome(h: Home) -> list[Sentence]:
    link = h.outcome_links
    if not h.outcome:
        return [Sentence("outcome", None, None, link, h.outcome_reason)]
    out = []
    for r in h.outcome:
        if r.window == "before" or (
            r.n_runs == 0 and r.balance_change_pp is None and r.verdict == "not started"
        ):
            continue
        words = {
            "improved": f"In {r.window} your balance became more even.",
            "worse": f"In {r.window} your balance moved further from even.",
            "no change": f"In {r.window} your balance did not change measurably.",
            "not enough runs": f"{r.window.capitalize()}: not enough runs to say.",
            "not started": f"{r.window.capitalize()} has not started.",
        }[r.verdict]
        nums = [f"{r.n_runs} runs"]
        if r.balance_change_pp is not None:
            nums.append(f"distance from even {_iv(r.balance_change_pp, 2, signed=True)} pp vs before")
        if r.drift_change_pp_per_h is not None:
            nums.append(f"drift {_iv(r.drift_change_pp_per_h, 2, signed=True)} pp/h vs before")
        out.append(Sentence("outcome", words, "; ".join(nums), link))
    if not out:
        first = next((r.start for r in h.outcome if r.window != "before"), None)
        return [
            Sentence(
                "outcome",
                None,
                None,
                link,
                f"the plan's first phase starts on {first}: nothing to measure yet",
            )
        ]
    return out


def home_sentences(h: Home, *, units: str = "metric") -> list[Sentence]:
    """Every statement of the home, in reading order: where you stand, why, what to do, is it working.
    ``units``: ``metric`` or ``imperial`` (paces in min/mi, distances in mi; the data stays SI)."""
    return [
        *_standing(h, units),
        _drift(h),
        _change(h),
        *_side(h),
        _today(h),
        *_experiment(h),
        *_load(h, units),
        *_outcome(h),
    ]


def _plain(x: Any) -> Any:
    if is_dataclass(x) and not isinstance(x, type):
        if hasattr(x, "to_dict"):
            return _plain(x.to_dict())
        return {f.name: _plain(getattr(x, f.name)) for f in fields(x)}
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x


def home_json(h: Home, *, units: str = "metric") -> dict[str, Any]:
    """The ``stridelab status --json`` contract: ``sentences`` (text, numbers, links, reason) and
    ``data`` (every section's numbers; null with ``reason`` where the data cannot say)."""
    side = h.side
    data = {
        "standing": [_plain(m) for m in h.standing],
        "drift": _plain(h.drift),
        "change": _plain(h.change),
        "side": {
            **{f.name: _plain(getattr(side, f.name)) for f in fields(side) if f.name != "assessment"},
            "assessment": side.assessment.to_dict() if side.assessment else None,
        },
        "today": _plain(h.session),
        "experiment": _plain(h.experiment),
        "load": _plain(h.load),
        "outcome": [_plain(r) for r in h.outcome],
        "outcome_reason": h.outcome_reason,
    }
    return {
        "athlete": h.athlete,
        "today": h.today.isoformat(),
        "n_runs": h.n_runs,
        "last_run_day": h.last_run_day,
        "ref_speed_m_s": h.ref_speed_m_s,
        "window_days": h.window_days,
        "messages": list(h.messages),
        "units": units,
        "sentences": [s.to_dict() for s in home_sentences(h, units=units)],
        "data": data,
    }


def home_text(h: Home, *, units: str = "metric") -> list[str]:
    """Plain-text lines: each statement, its numbers indented, its evidence as commands."""
    lines = [
        f"stridelab home for {h.athlete} on {h.today.isoformat()} "
        f"({h.n_runs} runs, latest {h.last_run_day or '-'})"
    ]
    lines += [f"! {m}" for m in h.messages]
    for s in home_sentences(h, units=units):
        if s.text is None:
            lines.append(f"- {s.section}: cannot say: {s.reason}")
        else:
            lines.append(f"- {s.text}")
            if s.numbers:
                lines.append(f"    {s.numbers}")
        if s.links:
            lines.append("    see: " + " | ".join(lk.command for lk in s.links[:3]))
    return lines
