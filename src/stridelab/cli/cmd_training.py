"""Training commands: ``plan`` (create/show/today/export/outcome), ``log``, ``test balance``, ``load``,
``exercises``.

Every prompt of ``plan create`` has a flag; ``--yes`` accepts the defaults, and without a terminal on
stdin the missing answers take their defaults (named on stderr) instead of waiting for input.
"today" is injectable everywhere with ``--today YYYY-MM-DD``.
"""

import sys
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from stridelab.cli._common import (
    AthleteOpt,
    JsonOpt,
    StoreOpt,
    console,
    err_console,
    fail,
    open_store,
    print_json,
)
from stridelab.cli._table import FastTable
from stridelab.present import format as fmt
from stridelab.present.text import markup as esc
from stridelab.services.training import (
    CATEGORIES,
    EQUIPMENT,
    HOUSEHOLD_EQUIPMENT,
    PAIN_AREAS,
    WEEKDAYS,
    ExerciseLog,
    InputError,
    LogError,
    PlanInputs,
    active_plan,
    balance_chart,
    balance_history,
    balance_summary,
    balance_test_records,
    clear_stop,
    exercises,
    function_test_history,
    function_test_records,
    log_session,
    measure_function_test,
    outcome_chart,
    outcome_table,
    parse_weekdays,
    plan_adherence,
    plan_ics,
    plan_with_statuses,
    record_balance_test,
    record_function_test,
    save_plan,
    tailored_plan,
    today_session,
    usual_run_days,
    weekly_load,
)

__all__ = ["register"]

TodayOpt = typer.Option(
    None, "--today", help="Pretend today is this date (YYYY-MM-DD); default: the local date."
)

plan_app = typer.Typer(help="Build and follow a phased training plan.", no_args_is_help=True)
test_app = typer.Typer(
    help="Balance and function tests: one-leg stand, sit-to-stand, tandem walk; history.",
    no_args_is_help=True,
)


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"Invalid value for '{option}': expected a date YYYY-MM-DD, got {value!r}.") from None


def _today(value: str | None) -> date:
    return _date(value, "--today") or date.today()


def _interactive() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


class _Answers:
    """Resolves each answer: flag, else default (--yes or no terminal), else an interactive prompt."""

    def __init__(self, yes: bool) -> None:
        self.yes = yes
        self.interactive = _interactive()
        self.defaulted: list[str] = []

    def get(
        self, value: Any, flag: str, question: str, default: Any, check: Callable[[str], object] | None = None
    ) -> Any:
        """``check`` validates a typed answer (raising ValueError with the reason): a bad answer is
        asked again at once, instead of failing the command after all the other questions."""
        if value is not None:
            return value
        if self.yes or not self.interactive:
            if not self.yes:
                self.defaulted.append(flag)
            return default
        if isinstance(default, bool):
            return typer.confirm(question, default=default)
        if check is None:
            return typer.prompt(question, default=default)

        def proc(text: str) -> str:
            try:
                check(text)
            except ValueError as exc:
                raise typer.BadParameter(str(exc)) from None
            return text

        return typer.prompt(question, default=str(default), value_proc=proc)


def _date_check(text: str) -> object:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"--start: expected a date YYYY-MM-DD, got {text!r}") from None


def _in_range(kind: type[int] | type[float], low: float, high: float, flag: str) -> Callable[[str], object]:
    def check(text: str) -> object:
        try:
            value = kind(text)
        except ValueError:
            raise ValueError(f"{flag}: {text!r} is not a number") from None
        if not (low <= value <= high) or value != value:
            raise ValueError(f"{flag}: expected {low:g}-{high:g}, got {text}")
        return value

    return check


def _one_of(allowed: tuple[str, ...], flag: str) -> Callable[[str], object]:
    def check(text: str) -> object:
        if text.strip().lower() not in allowed:
            raise ValueError(f"{flag}: allowed values are {', '.join(allowed)}, got {text!r}")
        return text

    return check


def _csv_check(allowed: tuple[str, ...], flag: str) -> Callable[[str], object]:
    def check(text: str) -> object:
        parts = [p.strip().lower().replace("-", "_") for p in text.split(",") if p.strip()]
        if "none" in parts and len(parts) > 1:
            raise ValueError(f"{flag}: 'none' together with {[p for p in parts if p != 'none']}")
        bad = [p for p in parts if p not in (*allowed, "none")]
        if bad:
            raise ValueError(f"{flag}: {bad}; allowed: {', '.join(allowed)} (or none)")
        return parts

    return check


def _csv(text: str, option: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    parts = tuple(p.strip().lower().replace("-", "_") for p in text.split(",") if p.strip())
    if "none" in parts and len(parts) > 1:
        raise fail(
            f"Contradictory value for '{option}': 'none' together with {[p for p in parts if p != 'none']}."
        )
    parts = tuple(p for p in parts if p != "none")
    bad = [p for p in parts if p not in allowed]
    if bad:
        raise fail(f"Invalid value for '{option}': {bad}; allowed: {', '.join(allowed)} (or none).")
    return tuple(sorted(set(parts)))


@plan_app.command("create")
def plan_create(
    start: str | None = typer.Option(None, "--start", help="First day (YYYY-MM-DD); default next Monday."),
    weeks: int | None = typer.Option(None, "--weeks", help="Total weeks, split over 3 phases (default 12)."),
    sessions_per_week: int | None = typer.Option(
        None, "--sessions-per-week", help="Sessions a week (default 3)."
    ),
    minutes: float | None = typer.Option(
        None, "--minutes", help="Time budget per session in minutes (default 15)."
    ),
    run_days: str | None = typer.Option(
        None,
        "--run-days",
        help="Running weekdays, e.g. mon,wed,sat (default: from your runs, else tue,thu,sat).",
    ),
    weaker_side: str | None = typer.Option(
        None, "--weaker-side", help="left, right, none or auto (measured)."
    ),
    squat_quality_left: str | None = typer.Option(
        None, "--squat-quality-left", help="Single-leg squat on the left leg: good, fair, poor or unknown."
    ),
    squat_quality_right: str | None = typer.Option(
        None, "--squat-quality-right", help="Single-leg squat on the right leg: good, fair, poor or unknown."
    ),
    pain: str | None = typer.Option(None, "--pain", help=f"Painful areas: {', '.join(PAIN_AREAS)} or none."),
    equipment: str | None = typer.Option(
        None,
        "--equipment",
        help=f"Equipment beyond chair/step/wall/cushion/sock-and-shoe: {', '.join(EQUIPMENT)} or none.",
    ),
    lighter_week: bool | None = typer.Option(
        None, "--lighter-week/--no-lighter-week", help="Make the last week of each phase lighter."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Accept the defaults for every unanswered question."),
    use_runs: bool = typer.Option(
        True, "--use-runs/--no-use-runs", help="Tailor to imported runs' GCT balance."
    ),
    today: str | None = TodayOpt,
    json_out: bool = JsonOpt,
    store: Path | None = StoreOpt,
    athlete: str = AthleteOpt,
) -> None:
    """Create a 3-phase plan tailored to your answers, balance tests and runs (replaces the active plan)."""
    now = _today(today)
    st = open_store(store)
    ask = _Answers(yes)
    next_monday = now + timedelta(days=(7 - now.weekday()) % 7 or 7) if now.weekday() else now
    usual = usual_run_days(st, athlete, now)
    default_days = ",".join(WEEKDAYS[d] for d in usual) if usual else "tue,thu,sat"
    start_text = ask.get(
        start, "--start", "First day of the plan (YYYY-MM-DD)", next_monday.isoformat(), _date_check
    )
    start_d = _date(str(start_text), "--start")
    assert start_d is not None
    weeks_v = int(ask.get(weeks, "--weeks", "How many weeks", 12, _in_range(int, 1, 52, "--weeks")))
    spw = int(
        ask.get(
            sessions_per_week,
            "--sessions-per-week",
            "Sessions per week",
            3,
            _in_range(int, 1, 7, "--sessions-per-week"),
        )
    )
    mins = float(
        ask.get(minutes, "--minutes", "Minutes per session", 15.0, _in_range(float, 5, 120, "--minutes"))
    )
    run_days_text = str(
        ask.get(
            run_days, "--run-days", "Which days do you run (e.g. mon,wed,sat)", default_days, parse_weekdays
        )
    )
    side = str(
        ask.get(
            weaker_side,
            "--weaker-side",
            "Weaker side (left/right/none/auto)",
            "auto",
            _one_of(("left", "right", "none", "auto"), "--weaker-side"),
        )
    ).lower()
    ql = str(
        ask.get(
            squat_quality_left,
            "--squat-quality-left",
            "Left single-leg squat (good/fair/poor/unknown)",
            "unknown",
            _one_of(("good", "fair", "poor", "unknown"), "--squat-quality-left"),
        )
    ).lower()
    qr = str(
        ask.get(
            squat_quality_right,
            "--squat-quality-right",
            "Right single-leg squat (good/fair/poor/unknown)",
            "unknown",
            _one_of(("good", "fair", "poor", "unknown"), "--squat-quality-right"),
        )
    ).lower()
    pain_text = str(
        ask.get(
            pain,
            "--pain",
            f"Pain areas ({', '.join(PAIN_AREAS)} or none)",
            "none",
            _csv_check(PAIN_AREAS, "--pain"),
        )
    )
    equipment_text = str(
        ask.get(
            equipment,
            "--equipment",
            f"Extra equipment ({', '.join(EQUIPMENT)} or none)",
            "none",
            _csv_check(EQUIPMENT, "--equipment"),
        )
    )
    lighter = bool(ask.get(lighter_week, "--lighter-week", "Lighter last week in each phase", False))
    if ask.defaulted:
        err_console.print(
            "[yellow]note:[/] stdin is not a terminal, so these answers took their defaults: "
            + ", ".join(ask.defaulted)
            + " (pass the flags, or --yes to accept defaults silently)."
        )
    for q, flag in ((ql, "--squat-quality-left"), (qr, "--squat-quality-right")):
        if q not in ("good", "fair", "poor", "unknown"):
            raise fail(
                f"Invalid value for '{flag}'. Allowed values are 'good', 'fair', 'poor', 'unknown', "
                f"but got {q!r} instead."
            )
    try:
        inputs = PlanInputs(
            start=start_d,
            weeks=weeks_v,
            sessions_per_week=spw,
            minutes=mins,
            run_days=parse_weekdays(run_days_text),
            weaker_side=side,  # type: ignore[arg-type]
            squat_quality_left=None if ql == "unknown" else ql,  # type: ignore[arg-type]
            squat_quality_right=None if qr == "unknown" else qr,  # type: ignore[arg-type]
            pain_areas=_csv(pain_text, "--pain", PAIN_AREAS),
            equipment=tuple(
                sorted(set(HOUSEHOLD_EQUIPMENT) | set(_csv(equipment_text, "--equipment", EQUIPMENT)))
            ),
            lighter_week=lighter,
        )
        plan = tailored_plan(st, athlete, inputs, now, use_runs=use_runs)
    except InputError as exc:
        raise fail(str(exc)) from None
    plan_id = save_plan(st, athlete, plan)
    stored = active_plan(st, athlete)
    assert stored is not None
    if json_out:
        print_json({"plan_id": plan_id, "created_at": stored.created_at, **plan.to_dict()})
        return
    _print_plan_summary(plan.to_dict(), plan_id)


def _print_plan_summary(d: dict[str, Any], plan_id: int) -> None:
    console.print(
        f"[bold]Plan {plan_id}[/]: {d['start']} to {d['end']}, weaker side: {d['weaker_side'] or 'none'}"
    )
    console.print(f"  ({esc(d['tailoring']['weaker_side_reason'])})")
    side = (d["tailoring"].get("evidence") or {}).get("side")
    if side:
        console.print(f"  [dim]side rule: {esc(side['rule'])}[/]")
        for v in side["evidence"]:
            pts = f"{v['points']} pt toward {v['side']}" if v["side"] else "0 pt"
            extra = f" -- {v['uncertainty']}" if v.get("uncertainty") else ""
            console.print(f"  evidence \\[{pts}] {esc(v['source'])}: {esc(v['detail'])}{esc(extra)}")
    t = Table("phase", "name", "start", "weeks", "days")
    for p in d["phases"]:
        t.add_row(str(p["number"]), esc(p["name"]), p["start"], str(p["weeks"]), ",".join(p["weekdays"]))
    console.print(t)
    first_by_phase: dict[int, dict[str, Any]] = {}
    for s in d["sessions"]:
        first_by_phase.setdefault(s["phase"], s)
    for phase, s in first_by_phase.items():
        _print_session(s, title=f"Phase {phase}, first session ({s['date']}, ~{s['minutes_est']:g} min)")
    for w in d["warnings"]:
        err_console.print(f"[yellow]warning:[/] {esc(w)}")
    for n in d["notes"]:
        console.print(f"[dim]note: {esc(n)}[/]")


def _amount(item: dict[str, Any]) -> str:
    for key, unit in (("reps", ""), ("hold_s", " s"), ("distance_m", " m"), ("duration_s", " s")):
        if key in item:
            return f"{item[key]:g}{unit}"
    return "?"


def _print_session(s: dict[str, Any], title: str) -> None:
    t = Table("exercise", "side", "sets x", "why", title=title, title_justify="left")
    for i in s["items"]:
        t.add_row(i["name"], i["side"], f"{i['sets']} x {_amount(i)}", i["why"])
    console.print(t)


@plan_app.command("show")
def plan_show(
    week: int | None = typer.Option(None, "--week", help="Show the sessions of this plan week in detail."),
    today: str | None = TodayOpt,
    json_out: bool = JsonOpt,
    store: Path | None = StoreOpt,
    athlete: str = AthleteOpt,
) -> None:
    """Show the active plan with each session's log status and the adherence so far."""
    now = _today(today)
    d = plan_with_statuses(open_store(store), athlete, now)
    if d is None:
        raise fail("No plan yet: create one with `stridelab plan create`.", code=1)
    adh = d["adherence"]
    if json_out:
        print_json(d)
        return
    _print_plan_summary(d, d["plan_id"])
    t = Table("week", "phase", "dates", "statuses", "min")
    by_week: dict[int, list[dict[str, Any]]] = {}
    for s in d["sessions"]:
        by_week.setdefault(s["week"], []).append(s)
    for w, ss in by_week.items():
        t.add_row(
            str(w),
            str(ss[0]["phase"]),
            " ".join(s["date"][5:] for s in ss),
            " ".join(s["status"] for s in ss),
            f"{ss[0]['minutes_est']:g}",
        )
    console.print(t)
    if week is not None:
        for s in by_week.get(week, []):
            _print_session(s, title=f"{s['date']} ({s['status']})")
    pct = adh["adherence_pct"]
    console.print(
        f"Adherence: {pct if pct is not None else '-'} % of {adh['due']} due sessions "
        f"(done {adh['done']}, partly {adh['partial']}, skipped {adh['skipped']}, missed {adh['missed']})."
    )


@plan_app.command("today")
def plan_today(
    today: str | None = TodayOpt,
    json_out: bool = JsonOpt,
    store: Path | None = StoreOpt,
    athlete: str = AthleteOpt,
) -> None:
    """Today's session (adjusted for pain stops and a missed week), or the next one."""
    now = _today(today)
    view = today_session(open_store(store), athlete, now)
    if json_out:
        print_json(view)
        return
    for m in view["messages"]:
        style = "bold red" if m.startswith("STOP") else "yellow"
        console.print(f"[{style}]{esc(m)}[/]")
    s = view["session"] or view.get("first_session")
    if s is not None:
        first = view["session"] is None
        _print_session(
            s,
            title=f"{'first session, ' if first else ''}{s['date']}: phase {s['phase']}, week {s['week']} "
            f"(~{s['minutes_est']:g} min)",
        )
        for ex_id, info in s["exercises"].items():
            console.print(
                f"[bold]{info['name']}[/] ({ex_id}): {info['instructions']} Cues: {'; '.join(info['cues'])}"
            )


@plan_app.command("export")
def plan_export(
    ics: Path = typer.Option(..., "--ics", help="Write the plan as an iCalendar file here."),
    json_out: bool = JsonOpt,
    store: Path | None = StoreOpt,
    athlete: str = AthleteOpt,
) -> None:
    """Export the active plan as an iCalendar (.ics) file: one all-day event per session."""
    st = open_store(store)
    stored = active_plan(st, athlete)
    if stored is None:
        raise fail("No plan yet: create one with `stridelab plan create`.", code=1)
    data = plan_ics(stored)
    try:
        ics.parent.mkdir(parents=True, exist_ok=True)
        ics.write_bytes(data)
    except OSError as exc:
        raise fail(f"Cannot write {ics}: {exc.strerror or exc}") from None
    if json_out:
        print_json({"path": str(ics), "events": len(stored.plan.sessions), "plan_id": stored.id})
    else:
        console.print(f"Wrote {len(stored.plan.sessions)} sessions to {esc(ics)}")


@plan_app.command("outcome")
def plan_outcome(
    chart: Path | None = typer.Option(None, "--chart", help="Also write the outcome chart (.png/.svg/.pdf)."),
    today: str | None = TodayOpt,
    json_out: bool = JsonOpt,
    store: Path | None = StoreOpt,
    athlete: str = AthleteOpt,
) -> None:
    """Measured asymmetry before, during and after each phase, with adherence alongside."""
    now = _today(today)
    st = open_store(store)
    stored = active_plan(st, athlete)
    if stored is None:
        raise fail("No plan yet: create one with `stridelab plan create`.", code=1)
    rows = outcome_table(st, athlete, stored.plan, stored.id, now)
    from stridelab.services.home import phase_outcomes  # lazy: the analytics are heavy to import

    verdicts, why_not = phase_outcomes(st, athlete, now)
    by_window = {v.window: v for v in verdicts}
    for r in rows:
        v = by_window.get(r["window"])
        r["verdict"] = v.verdict if v and r["window"] != "before" else None
        r["distance_from_even_change_pp"] = (
            v.balance_change_pp.to_dict() if v and v.balance_change_pp else None
        )
        r["drift_change_pp_per_h"] = (
            v.drift_change_pp_per_h.to_dict() if v and v.drift_change_pp_per_h else None
        )
    marks = []  # the verdict of each started phase, drawn over it on the chart
    for v in verdicts:
        if v.window == "before" or v.verdict == "not started":
            continue
        c = v.balance_change_pp
        nums = ""
        if c is not None and c.low is not None and c.high is not None:
            nums = f"{c.estimate:+.2f} [{c.low:+.2f}, {c.high:+.2f}] pp from even"
        marks.append((date.fromisoformat(v.start), date.fromisoformat(v.end), v.verdict, nums))
    chart_path = (
        outcome_chart(st, athlete, stored.plan, stored.id, now, chart, verdicts=marks) if chart else None
    )
    if json_out:
        print_json({"plan_id": stored.id, "windows": rows, "chart": str(chart_path) if chart_path else None})
        return
    t = Table(
        "window",
        "dates",
        "balance eyes open L/R s",
        "asym %",
        "GCT bal. L %",
        "source",
        "adherence %",
        "from even vs before, pp [95 %]",
        "verdict",
    )
    for r in rows:
        ch = r["distance_from_even_change_pp"]
        change = (
            f"{ch['estimate']:+.2f} [{ch['ci_low']:+.2f}, {ch['ci_high']:+.2f}]"
            if ch and ch["ci_low"] is not None and ch["ci_high"] is not None
            else "-"
        )
        t.add_row(
            r["window"],
            f"{r['start']}..{r['end']}",
            f"{r['balance_open_left_s'] or '-'} / {r['balance_open_right_s'] or '-'}",
            str(r["balance_open_asymmetry_pct"] if r["balance_open_asymmetry_pct"] is not None else "-"),
            str(r["gct_balance_left_pct"] if r["gct_balance_left_pct"] is not None else "-"),
            r["gct_balance_source"] or "-",
            str(r["adherence_pct"] if r["adherence_pct"] is not None else "-"),
            change,
            r["verdict"] or "-",
        )
    console.print(t)
    if why_not:
        console.print(f"[dim]verdicts: {esc(why_not)}[/]")
    if chart_path:
        console.print(f"Chart: {esc(chart_path)}")


def _parse_item(text: str) -> ExerciseLog:
    """``ID:SIDE:VALUE[:PAIN]`` - VALUE is reps (``10``) or seconds (``30s``)."""
    parts = text.split(":")
    if len(parts) not in (3, 4):
        raise fail(
            f"Invalid value for '--item': {text!r}; expected ID:SIDE:VALUE[:PAIN], e.g. one_leg_squat:left:10"
        )
    ex_id, side, value = parts[0].strip(), parts[1].strip().lower(), parts[2].strip().lower()
    try:
        reps = seconds = None
        if value.endswith("s"):
            seconds = float(value[:-1])
        else:
            reps = int(value)
        pain = float(parts[3]) if len(parts) == 4 else None
    except ValueError:
        raise fail(
            f"Invalid value for '--item': {text!r}; VALUE is reps (10) or seconds (30s), PAIN 0-10."
        ) from None
    return ExerciseLog(ex_id, side, reps, seconds, pain)  # type: ignore[arg-type]


def log_cmd(
    status: str | None = typer.Option(None, "--status", help="done, partial or skipped (default done)."),
    day: str | None = typer.Option(None, "--date", help="Session date (YYYY-MM-DD); default today."),
    rpe: float | None = typer.Option(None, "--rpe", help="Session effort 0-10."),
    pain: float | None = typer.Option(
        None, "--pain", help="Worst pain during the session 0-10 (7+ pauses the plan)."
    ),
    item: list[str] | None = typer.Option(
        None, "--item", help="Per exercise and side: ID:SIDE:VALUE[:PAIN], VALUE reps (10) or seconds (30s)."
    ),
    note: str | None = typer.Option(None, "--note", help="Free text."),
    clear: str | None = typer.Option(
        None, "--clear-stop", help="A professional cleared you: lift the stop on this exercise id (or 'all')."
    ),
    today: str | None = TodayOpt,
    json_out: bool = JsonOpt,
    store: Path | None = StoreOpt,
    athlete: str = AthleteOpt,
) -> None:
    """Log a session (done/partial/skipped) with RPE, pain and per-exercise reps or seconds."""
    now = _today(today)
    st = open_store(store)
    if clear is not None:
        n = clear_stop(st, athlete, clear, now)
        if json_out:
            print_json({"cleared": n, "exercise_id": clear})
        else:
            console.print(f"Cleared {n} stop(s) on {esc(clear)}.")
        if status is None and not item:
            return
    when = _date(day, "--date") or now
    if when > now:
        raise fail(
            f"Invalid value for '--date': {when.isoformat()} is in the future (today is {now.isoformat()})."
        )
    items = tuple(_parse_item(t) for t in item or [])
    try:
        res = log_session(st, athlete, when, status or "done", rpe=rpe, pain=pain, exercises=items, note=note)
    except LogError as exc:
        raise fail(str(exc)) from None
    adh = plan_adherence(st, athlete, now)
    if json_out:
        print_json({**res.to_dict(), "adherence": adh})
        return
    console.print(f"Logged {when.isoformat()} as {res.log.status}.")
    for m in res.messages:
        console.print(f"[{'bold red' if m.startswith('STOP') else 'yellow'}]{esc(m)}[/]")
    if adh and adh["adherence_pct"] is not None:
        console.print(f"Adherence so far: {adh['adherence_pct']} % of {adh['due']} due sessions.")


@test_app.command("balance")
def test_balance(
    side: str | None = typer.Option(None, "--side", help="Standing leg: left or right."),
    seconds: float | None = typer.Option(
        None, "--seconds", help="Time until the lifted foot touched down (s)."
    ),
    eyes: str = typer.Option("open", "--eyes", help="open or closed."),
    day: str | None = typer.Option(None, "--date", help="Test date (YYYY-MM-DD); default today."),
    note: str | None = typer.Option(None, "--note", help="Free text (surface, shoes...)."),
    history: bool = typer.Option(False, "--history", help="List every test."),
    chart: Path | None = typer.Option(None, "--chart", help="Write the history chart (.png/.svg/.pdf)."),
    today: str | None = TodayOpt,
    json_out: bool = JsonOpt,
    store: Path | None = StoreOpt,
    athlete: str = AthleteOpt,
) -> None:
    """Record a one-leg balance test (``--side left --seconds 27.5 --eyes open``) or show the history."""
    now = _today(today)
    st = open_store(store)
    recorded = None
    if (side is None) != (seconds is None):
        missing = "--seconds" if seconds is None else "--side"
        raise fail(f"Missing option '{missing}': a test needs both --side and --seconds.")
    if side is not None and seconds is not None:
        when = _date(day, "--date") or now
        try:
            recorded = record_balance_test(st, athlete, side.lower(), seconds, eyes.lower(), when, note)
        except ValueError as exc:
            raise fail(
                str(exc)
                .replace("'side' parameter", "'--side'")
                .replace("'eyes' parameter", "'--eyes'")
                .replace("'seconds' parameter", "'--seconds'")
            ) from None
    tests = balance_history(st, athlete, until=now)
    summary = [asdict(b) | {"asymmetry_pct": round(b.asymmetry_pct, 1)} for b in balance_summary(tests)]
    chart_path = (
        balance_chart(tests, chart, function_tests=function_test_history(st, athlete, until=now))
        if chart
        else None
    )
    if json_out:
        out: dict[str, Any] = {
            "recorded_id": recorded,
            "summary": summary,
            "chart": str(chart_path) if chart_path else None,
        }
        if history or recorded is None:
            out["history"] = balance_test_records(tests)
        print_json(out)
        return
    if recorded is not None:
        console.print(
            f"Recorded {side} leg, eyes {eyes}: {seconds:g} s on {(_date(day, '--date') or now).isoformat()}."
        )
    if history or recorded is None:
        t = Table("date", "side", "eyes", "seconds", "note")
        for rec in balance_test_records(tests):
            t.add_row(rec["date"], rec["side"], rec["eyes"], f"{rec['seconds']:g}", esc(rec["note"] or ""))
        console.print(t)
    for s in summary:
        console.print(
            f"Recent eyes {s['eyes']}: left {s['left_s']:.1f} s (n={s['n_left']}), "
            f"right {s['right_s']:.1f} s (n={s['n_right']}), difference {s['asymmetry_pct']:.0f} %"
        )
    if chart_path:
        console.print(f"Chart: {esc(chart_path)}")


#: ``--test`` spellings of the function tests
_FUNCTION_TEST_NAMES = {
    "sit-to-stand": "sit_to_stand_5x",
    "sit_to_stand_5x": "sit_to_stand_5x",
    "tandem": "tandem_walk",
}
_FUNCTION_TEST_NAMES["tandem-walk"] = _FUNCTION_TEST_NAMES["tandem_walk"] = "tandem_walk"


@test_app.command("function")
def test_function(
    test: str | None = typer.Option(None, "--test", help="sit-to-stand (five times) or tandem-walk."),
    seconds: float | None = typer.Option(None, "--seconds", help="Test time (s), when timed by hand."),
    file: Path | None = typer.Option(
        None, "--file", help="Waist/lower-back IMU recording (or phone) of the test: timed from the sensor."
    ),
    steps_off: int | None = typer.Option(None, "--steps-off", help="Tandem walk: steps off the line."),
    rate_hz: float | None = typer.Option(
        None, "--rate-hz", help="Sampling rate of a file without timestamps."
    ),
    day: str | None = typer.Option(None, "--date", help="Test date (YYYY-MM-DD); default today."),
    note: str | None = typer.Option(None, "--note", help="Free text (chair height, shoes...)."),
    history: bool = typer.Option(False, "--history", help="List every function test."),
    chart: Path | None = typer.Option(None, "--chart", help="Write the tests chart (.png/.svg/.pdf)."),
    today: str | None = TodayOpt,
    json_out: bool = JsonOpt,
    store: Path | None = StoreOpt,
    athlete: str = AthleteOpt,
) -> None:
    """Record a function test -- five-times sit-to-stand or tandem walk -- timed by hand (``--seconds``)
    or from a waist sensor (``--file``), or show the history."""
    now = _today(today)
    st = open_store(store)
    recorded = None
    measured: dict[str, Any] | None = None
    if test is not None:
        kind = _FUNCTION_TEST_NAMES.get(test.lower())
        if kind is None:
            raise fail(f"Invalid value for '--test': {test!r}; allowed: sit-to-stand, tandem-walk.")
        if (seconds is None) == (file is None):
            raise fail("A function test needs exactly one of --seconds (timed by hand) or --file (a sensor).")
        when = _date(day, "--date") or now
        try:
            if file is not None:
                opts: dict[str, Any] = {"placement": "sacrum"}
                if rate_hz is not None:
                    opts["sampling_rate_hz"] = rate_hz
                measured = measure_function_test(file, kind, **opts)
                seconds = float(measured["duration_s"])
                steps_off = measured["steps_off"] if steps_off is None else steps_off
            assert seconds is not None
            recorded = record_function_test(
                st,
                athlete,
                kind,
                seconds,
                steps_off=steps_off,
                symmetry_index_pct=measured["symmetry_index_pct"] if measured else None,
                source="sensor" if measured else "manual",
                day=when,
                note=note,
            )
        except (ValueError, KeyError, FileNotFoundError) as exc:
            raise fail(
                str(exc)
                .replace("'seconds' parameter", "'--seconds'")
                .replace("'steps_off' parameter", "'--steps-off'")
            ) from None
    elif seconds is not None or file is not None:
        raise fail("Missing option '--test': sit-to-stand or tandem-walk.")
    tests = function_test_history(st, athlete, until=now)
    chart_path = (
        balance_chart(balance_history(st, athlete, until=now), chart, function_tests=tests) if chart else None
    )
    records = function_test_records(tests)
    if json_out:
        out: dict[str, Any] = {
            "recorded_id": recorded,
            "measured": measured,
            "chart": str(chart_path) if chart_path else None,
        }
        if history or recorded is None:
            out["history"] = records
        print_json(out)
        return
    if recorded is not None:
        r = next((x for x in records if x["id"] == recorded), None)
        if r is not None:
            extra = "" if r["steps_off"] is None else f", {r['steps_off']} step(s) off the line"
            if r["symmetry_index_pct"] is not None:
                extra += f", L/R step-time symmetry index {r['symmetry_index_pct']:+.1f} %"
            console.print(
                f"Recorded {r['test']}: {r['seconds']:.1f} s ({r['source']}){extra} on {r['date']}."
            )
    if history or recorded is None:
        t = Table("date", "test", "seconds", "steps off", "L/R SI %", "source", "note")
        for rec in records:
            t.add_row(
                rec["date"],
                rec["test"],
                f"{rec['seconds']:.1f}",
                "-" if rec["steps_off"] is None else str(rec["steps_off"]),
                "-" if rec["symmetry_index_pct"] is None else f"{rec['symmetry_index_pct']:+.1f}",
                rec["source"],
                esc(rec["note"] or ""),
            )
        console.print(t)
    if chart_path:
        console.print(f"Chart: {esc(chart_path)}")


def load_cmd(
    report: bool = typer.Option(
        False,
        "--report",
        help="With --json: print the full report (weeks, recommendation, form drift, caveats).",
    ),
    weeks: int = typer.Option(
        12, "--weeks", min=1, max=5200, help="Show the last N weeks (default 12; the ratios use all runs)."
    ),
    today: str | None = TodayOpt,
    json_out: bool = JsonOpt,
    store: Path | None = StoreOpt,
    athlete: str = AthleteOpt,
) -> None:
    """Weekly running load of the last 12 weeks (--weeks), the 10 % check, the acute:chronic ratio
    and next week's maximum."""
    now = _today(today)
    rep = weekly_load(open_store(store), athlete, today=now)
    shown = rep.weeks[-weeks:]
    if json_out:
        if report:
            print_json({**rep.to_dict(), "weeks": [w.to_dict() for w in shown]})
        else:
            print_json([w.to_dict() for w in shown])
        return
    if rep.message:
        console.print(f"[yellow]{esc(rep.message)}[/]")
        return
    t = FastTable()  # years of weeks: printed in linear time
    for col in ("week", "km", "h:mm", "runs", "change %", "ACWR", "EWMA", "zone", "warning"):
        t.add_column(col)
    for w in shown:
        t.add_row(
            w.week_start.isoformat() + ("*" if w.partial else ""),
            fmt.num(w.distance_m / 1000, 1),
            f"{int(w.duration_s // 3600)}:{int(w.duration_s % 3600 // 60):02d}",
            str(w.n_runs),
            fmt.num(w.change_pct, 0, signed=True, missing="-"),
            fmt.num(w.acwr, 2, missing="-"),
            fmt.num(w.acwr_ewma, 2, missing="-"),
            w.zone or "-",
            w.warning or "",
        )
    console.print(t)
    if len(rep.weeks) > len(shown):
        console.print(f"[dim]{len(rep.weeks) - len(shown)} earlier week(s) not shown (--weeks N)[/]")
    r = rep.recommendation
    if r and r.get("max_distance_m") is not None:
        console.print(
            f"Next week ({r['week_start']}): at most "
            f"{fmt.num(r['max_distance_m'] / 1000, 1, 'km', sep=' ')} / "
            f"{fmt.num(r['max_duration_s'] / 60, 0, 'min', sep=' ')}. [dim]{r['basis']}[/]"
        )
    elif r:
        console.print(r["basis"])
    if rep.form_drift:
        console.print(f"Form under load ({esc(rep.form_drift['source'])}): {esc(rep.form_drift['verdict'])}")
    for c in rep.caveats:
        console.print(f"[dim]{esc(c)}[/]")


def exercises_cmd(
    category: str | None = typer.Option(
        None, "--category", help=f"Only this category: {', '.join(CATEGORIES)}."
    ),
    phase: int | None = typer.Option(None, "--phase", help="Only exercises suiting this phase (1-3)."),
    json_out: bool = JsonOpt,
    store: Path | None = StoreOpt,  # accepted like every command (scripts pass it everywhere) ...
    athlete: str = AthleteOpt,  # ... though the library is the same for every store and athlete
) -> None:
    """List the exercise library (exercises, drills and running cues)."""
    del store, athlete
    if phase is not None and not 1 <= phase <= 3:
        raise fail(f"Invalid value for '--phase': expected 1-3, got {phase}.")
    if category is not None and category not in CATEGORIES:
        raise fail(
            f"Invalid value for '--category'. Allowed values are {', '.join(CATEGORIES)}, "
            f"but got {category!r}."
        )
    chosen = exercises(category, phase)
    if json_out:
        print_json([e.to_dict() for e in chosen])
        return
    t = Table("id", "name", "category", "phases", "dosage", "equipment")
    for e in chosen:
        d = e.dosage
        unit = {"reps": "", "hold": " s", "distance": " m", "duration": " s"}[d.kind]
        t.add_row(
            e.id,
            e.name,
            e.category,
            ",".join(map(str, e.phases)),
            f"{d.sets}x{d.amount:g}{unit}" + (" /leg" if e.unilateral else ""),
            ", ".join(e.equipment) or "-",
        )
    console.print(t)


def register(app: typer.Typer) -> None:
    """Add the training commands to the root app."""
    app.add_typer(plan_app, name="plan")
    app.add_typer(test_app, name="test")
    app.command("log")(log_cmd)
    app.command("load")(load_cmd)
    app.command("exercises")(exercises_cmd)
