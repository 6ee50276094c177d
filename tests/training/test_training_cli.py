"""The training CLI through typer's CliRunner (no TTY on stdin, as in CI), against a real store."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar
from typer.testing import CliRunner

from stridelab.cli import app

CONTRACT = [
    "plan",
    "create",
    "--start",
    "2026-12-07",
    "--weeks",
    "12",
    "--sessions-per-week",
    "3",
    "--minutes",
    "15",
    "--run-days",
    "mon,wed,sat",
    "--weaker-side",
    "left",
    "--json",
]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _run(runner: CliRunner, args: list[str], store: Path, code: int = 0) -> Any:
    res = runner.invoke(app, [*args, "--store", str(store)])
    assert res.exit_code == code, res.output
    return res


def _json(runner: CliRunner, args: list[str], store: Path) -> Any:
    return json.loads(_run(runner, args, store).stdout)


def test_plan_create_contract(runner: CliRunner, store_path: Path) -> None:
    res = _run(runner, [*CONTRACT, "--yes", "--today", "2026-11-21"], store_path)
    out = json.loads(res.stdout)
    assert "note:" not in res.stderr  # --yes: defaults accepted silently
    assert [(p["name"], p["start"], p["weeks"]) for p in out["phases"]] == [
        ("Strength & balance", "2026-12-07", 4),
        ("Drills", "2027-01-04", 4),
        ("Apply while running", "2027-02-01", 4),
    ]
    assert len(out["sessions"]) == 36
    for s in out["sessions"]:
        assert {"date", "phase", "minutes_est", "items"} <= set(s)
        assert s["minutes_est"] <= 15
        for it in s["items"]:
            assert {"exercise_id", "side", "sets", "why"} <= set(it)
            assert it["side"] in ("left", "right", "both")
            assert sum(k in it for k in ("reps", "hold_s", "distance_m", "duration_s")) == 1
            assert it["why"]
    assert out["weaker_side"] == "left" and out["plan_id"] == 1
    # the same answers give the same plan
    again = _json(runner, [*CONTRACT, "--yes", "--today", "2026-11-21"], store_path)
    assert again["sessions"] == out["sessions"] and again["plan_id"] == 2


def test_plan_create_without_tty_takes_defaults_and_names_them(runner: CliRunner, store_path: Path) -> None:
    res = _run(runner, ["plan", "create", "--json", "--today", "2026-11-21"], store_path)
    out = json.loads(res.stdout)
    assert "stdin is not a terminal" in res.stderr
    for flag in ("--start", "--weeks", "--minutes", "--run-days", "--weaker-side", "--pain", "--equipment"):
        assert flag in res.stderr
    assert out["start"] == "2026-11-23"  # the next Monday
    assert out["inputs"]["run_days"] == ["tue", "thu", "sat"]
    assert len(out["sessions"]) == 36


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--weaker-side", "middle"], "--weaker-side"),
        (["--run-days", "mon,funday"], "--run-days"),
        (["--minutes", "1"], "--minutes"),
        (["--pain", "none,knee"], "Contradictory value for '--pain'"),
        (["--equipment", "treadmill"], "--equipment"),
        (["--squat-quality-left", "great"], "--squat-quality-left"),
        (["--start", "07/12/2026"], "--start"),
    ],
)
def test_plan_create_rejects_bad_answers_naming_the_flag(
    runner: CliRunner, store_path: Path, extra: list[str], needle: str
) -> None:
    res = _run(runner, ["plan", "create", "--yes", "--json", *extra], store_path, code=2)
    assert needle in json.loads(res.stdout)["error"]["message"]  # --json: errors are JSON (issue 19)


def test_contradictions_and_past_start_are_reported(runner: CliRunner, store_path: Path) -> None:
    for day, side, secs in (("2026-11-10", "left", 30.0), ("2026-11-10", "right", 15.0)):
        _run(
            runner,
            [
                "test",
                "balance",
                "--side",
                side,
                "--seconds",
                str(secs),
                "--date",
                day,
                "--today",
                "2026-11-21",
            ],
            store_path,
        )
    out = _json(
        runner,
        [
            "plan",
            "create",
            "--yes",
            "--json",
            "--start",
            "2026-11-02",
            "--weaker-side",
            "left",
            "--today",
            "2026-11-21",
        ],
        store_path,
    )
    text = " ".join(out["warnings"])
    assert "starts in the past" in text and "contradicts" in text
    assert out["weaker_side"] == "left"
    auto = _json(runner, ["plan", "create", "--yes", "--json", "--today", "2026-11-21"], store_path)
    assert auto["weaker_side"] == "right" and "one-leg balance" in auto["tailoring"]["weaker_side_reason"]


def test_show_today_log_and_export(runner: CliRunner, store_path: Path, tmp_path: Path) -> None:
    plan = _json(runner, [*CONTRACT, "--yes", "--pain", "none", "--today", "2026-11-21"], store_path)
    first = plan["sessions"][0]
    today = _json(runner, ["plan", "today", "--json", "--today", first["date"]], store_path)
    assert today["session"]["items"] == first["items"] and today["plan_id"] == plan["plan_id"]
    assert "instructions" in next(iter(today["session"]["exercises"].values()))
    rest = _json(runner, ["plan", "today", "--json", "--today", "2026-12-07"], store_path)
    assert rest["session"] is None and rest["next_date"] == first["date"]
    logged = _json(
        runner,
        [
            "log",
            "--json",
            "--status",
            "done",
            "--rpe",
            "6",
            "--pain",
            "2",
            "--item",
            "one_leg_squat:left:30",
            "--item",
            "single_leg_stand_eyes_open:right:45s:8",
            "--today",
            first["date"],
        ],
        store_path,
    )
    assert logged["planned"] and logged["adherence"]["done"] == 1
    assert logged["log"]["exercises"][1] == {
        "exercise_id": "single_leg_stand_eyes_open",
        "side": "right",
        "reps": None,
        "seconds": 45.0,
        "pain": 8.0,
    }
    assert any(m.startswith("STOP") for m in logged["messages"])
    bad = _run(runner, ["log", "--item", "one_leg_squat-left", "--today", first["date"]], store_path, code=2)
    assert "--item" in bad.stderr
    future = _run(runner, ["log", "--date", "2030-01-01", "--today", first["date"]], store_path, code=2)
    assert "future" in future.stderr
    shown = _json(runner, ["plan", "show", "--json", "--today", plan["sessions"][2]["date"]], store_path)
    assert [s["status"] for s in shown["sessions"][:4]] == ["done", "missed", "today", "planned"]
    assert shown["adherence"]["due"] == 2  # today's session is not due until logged or over
    human = _run(runner, ["plan", "show", "--week", "1", "--today", first["date"]], store_path)
    assert "Adherence" in human.stdout
    cleared = _json(
        runner,
        ["log", "--json", "--clear-stop", "single_leg_stand_eyes_open", "--today", first["date"]],
        store_path,
    )
    assert cleared["cleared"] == 1
    ics = tmp_path / "plan.ics"
    exported = _json(runner, ["plan", "export", "--ics", str(ics), "--json"], store_path)
    assert exported["events"] == 36
    cal = Calendar.from_ical(ics.read_bytes())
    assert str(cal["VERSION"]) == "2.0" and "stridelab" in str(cal["PRODID"])
    events = list(cal.walk("VEVENT"))
    assert len(events) == 36
    assert [e.decoded("DTSTART") for e in events] == [date.fromisoformat(s["date"]) for s in plan["sessions"]]
    assert len({str(e["UID"]) for e in events}) == 36
    assert all(e.get("DTSTAMP") is not None and e.get("SUMMARY") for e in events)
    assert "One-legged" in str(events[0]["DESCRIPTION"])
    # re-export gives byte-identical output (stable UIDs and DTSTAMP)
    _run(runner, ["plan", "export", "--ics", str(tmp_path / "again.ics")], store_path)
    assert (tmp_path / "again.ics").read_bytes() == ics.read_bytes()


def test_no_plan_yet_is_a_clear_error(runner: CliRunner, store_path: Path, tmp_path: Path) -> None:
    for args in (["plan", "show"], ["plan", "export", "--ics", str(tmp_path / "x.ics")], ["plan", "outcome"]):
        res = _run(runner, args, store_path, code=1)
        assert "No plan yet" in res.stderr
    today = _json(runner, ["plan", "today", "--json", "--today", "2026-11-21"], store_path)
    assert today["session"] is None and "No plan yet" in today["messages"][0]


def test_balance_test_command(runner: CliRunner, store_path: Path, tmp_path: Path) -> None:
    out = _json(
        runner,
        [
            "test",
            "balance",
            "--side",
            "left",
            "--seconds",
            "27.5",
            "--eyes",
            "open",
            "--json",
            "--today",
            "2026-11-20",
        ],
        store_path,
    )
    assert out["recorded_id"] == 1 and out["summary"] == []
    _run(
        runner, ["test", "balance", "--side", "right", "--seconds", "35", "--today", "2026-11-20"], store_path
    )
    chart = tmp_path / "b.png"
    out = _json(
        runner,
        ["test", "balance", "--history", "--json", "--chart", str(chart), "--today", "2026-11-21"],
        store_path,
    )
    assert [(h["side"], h["seconds"], h["date"]) for h in out["history"]] == [
        ("left", 27.5, "2026-11-20"),
        ("right", 35.0, "2026-11-20"),
    ]
    assert out["summary"][0]["eyes"] == "open" and out["summary"][0]["asymmetry_pct"] == pytest.approx(21.4)
    assert chart.stat().st_size > 1000
    res = _run(runner, ["test", "balance", "--side", "left"], store_path, code=2)
    assert "--seconds" in res.stderr
    res = _run(runner, ["test", "balance", "--side", "up", "--seconds", "3"], store_path, code=2)
    assert "--side" in res.stderr


def test_load_command(runner: CliRunner, store_path: Path, add_run_at) -> None:
    assert _json(runner, ["load", "--json", "--today", "2026-11-21"], store_path) == []
    report = _json(runner, ["load", "--json", "--report", "--today", "2026-11-21"], store_path)
    assert "No runs imported yet" in report["message"]
    for day, km in (("2026-11-02", 10), ("2026-11-04", 10), ("2026-11-09", 12), ("2026-11-11", 14)):
        add_run_at(store_path, date.fromisoformat(day), km * 1000, km * 330)
    rows = _json(runner, ["load", "--json", "--today", "2026-11-15"], store_path)
    assert [
        set(r) >= {"week_start", "distance_m", "duration_s", "change_pct", "acwr", "warning"} for r in rows
    ] == [
        True,
        True,
    ]
    assert rows[1]["change_pct"] == 30.0 and "heuristic" in rows[1]["warning"]
    human = _run(runner, ["load", "--today", "2026-11-15"], store_path)
    assert "Next week" in human.stdout and "heuristic" in human.stdout


def test_outcome_command(runner: CliRunner, store_path: Path, tmp_path: Path) -> None:
    _run(runner, [*CONTRACT, "--yes", "--today", "2026-11-21"], store_path)
    chart = tmp_path / "outcome.svg"
    out = _json(
        runner, ["plan", "outcome", "--json", "--chart", str(chart), "--today", "2026-12-20"], store_path
    )
    assert [w["window"] for w in out["windows"]] == ["before", "phase 1", "phase 2", "phase 3"]
    assert out["windows"][1]["sessions_due"] in (5, 6)  # 6 once today's session is logged or over
    assert chart.read_text().lstrip().startswith("<?xml")


def test_plan_create_prompts_on_a_terminal(
    runner: CliRunner, store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import stridelab.cli.cmd_training as cmd

    monkeypatch.setattr(cmd, "_interactive", lambda: True)
    answers = "\n".join(
        ["2026-12-07", "6", "2", "20", "tue,sat", "right", "good", "poor", "knee", "band", "y"]
    )
    res = runner.invoke(
        app,
        ["plan", "create", "--json", "--today", "2026-11-21", "--store", str(store_path)],
        input=answers + "\n",
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout[res.stdout.index("{") :])
    i = out["inputs"]
    assert (i["start"], i["weeks"], i["sessions_per_week"], i["minutes"]) == ("2026-12-07", 6, 2, 20.0)
    assert i["run_days"] == ["tue", "sat"] and i["weaker_side"] == "right"
    assert (i["squat_quality_left"], i["squat_quality_right"]) == ("good", "poor")
    assert i["pain_areas"] == ["knee"] and "band" in i["equipment"] and i["lighter_week"] is True
    assert len(out["sessions"]) == 12 and out["weaker_side"] == "right"


def test_every_training_command_takes_json_store_and_athlete(runner: CliRunner, store_path: Path) -> None:
    """docs/training.md: "Every command takes --json, --store DIR, --athlete NAME" -- the exercise
    library too (scripts pass them everywhere), and it rejects a phase that does not exist."""
    common = ["--json", "--athlete", "me", "--today", "2026-11-21"]
    _json(runner, [*CONTRACT, "--yes", *common], store_path)
    for args in (
        ["plan", "show"],
        ["plan", "today"],
        ["log", "--status", "done", "--rpe", "5", "--pain", "0"],
        ["test", "balance", "--side", "left", "--seconds", "20"],
        ["test", "function", "--test", "tandem-walk", "--seconds", "12", "--steps-off", "1"],
        ["load"],
        ["plan", "outcome"],
    ):
        assert isinstance(_json(runner, [*args, *common], store_path), dict | list), args
    lib = _json(runner, ["exercises", "--json", "--athlete", "me"], store_path)
    assert len(lib) >= 40 and {"id", "name", "instructions", "cues"} <= set(lib[0])
    phase2 = _json(runner, ["exercises", "--json", "--phase", "2"], store_path)
    assert phase2 and all(2 in e["phases"] for e in phase2) and len(phase2) < len(lib)
    res = _run(runner, ["exercises", "--phase", "7"], store_path, code=2)
    assert "--phase" in res.output


def test_a_bad_answer_at_the_prompt_is_asked_again(
    runner: CliRunner, store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At a terminal a typo is re-asked at once (naming the flag), instead of failing the command
    after every other question has been answered."""
    import stridelab.cli.cmd_training as cmd

    monkeypatch.setattr(cmd, "_interactive", lambda: True)
    answers = [
        "2026-13-07",  # no 13th month
        "2026-12-07",
        "abc",
        "99",
        "6",
        "2",
        "20",
        "tue,tue",  # a day twice
        "tue,sat",
        "middle",
        "right",
        "good",
        "poor",
        "none,knee",  # contradictory
        "knee",
        "treadmill",
        "band",
        "y",
    ]
    res = runner.invoke(
        app,
        ["plan", "create", "--json", "--today", "2026-11-21", "--store", str(store_path)],
        input="\n".join(answers) + "\n",
    )
    assert res.exit_code == 0, res.output
    for message in (
        "--start: expected a date YYYY-MM-DD",
        "--weeks: 'abc' is not a number",
        "--weeks: expected 1-52, got 99",
        "'tue' is given twice",
        "--weaker-side: allowed values",
        "--pain: 'none' together with ['knee']",
        "--equipment: ['treadmill']",
    ):
        assert message in res.output, message
    out = json.loads(res.stdout[res.stdout.index("\n{") :])
    i = out["inputs"]
    assert (i["start"], i["weeks"], i["run_days"], i["weaker_side"]) == (
        "2026-12-07",
        6,
        ["tue", "sat"],
        "right",
    )
    assert i["pain_areas"] == ["knee"] and "band" in i["equipment"]
