"""The home (services/home.py, present/home.py, ``stridelab status --json``) on a real store: a
simulated 52 % L season (known truth) ending on a fixed day, and the shared real FIT files."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stridelab.cli import app
from stridelab.present.home import home_json, home_sentences
from stridelab.services import open_store
from stridelab.services.experiments import add_tags, create_experiment
from stridelab.services.home import home
from stridelab.services.imports import import_paths
from stridelab.services.training import PlanInputs, record_balance_test, save_plan, tailored_plan
from stridelab.sim import simulate_season

END = date(2026, 6, 28)  # a Sunday: the last day of the simulated season
TODAY = END + timedelta(days=1)
TRUTH_LEFT_PCT = 52.5  # at the season's start
TREND_PP_PER_MONTH = -0.8  # toward even: the program "works" (6 runs a window resolve ~0.4 pp)
WEEKS = 8


@pytest.fixture(scope="module")
def season_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """16 runs over 8 weeks, true pace-adjusted balance 52.5 % L moving 0.8 pp a month toward even."""
    base = tmp_path_factory.mktemp("home")
    weeks = WEEKS
    start = datetime.combine(END - timedelta(days=7 * weeks - 1), datetime.min.time(), tzinfo=UTC)
    paths = simulate_season(
        base / "fit",
        n_runs=16,
        weeks=weeks,
        seed=3,
        start=start,
        balance_left_pct_at_start=TRUTH_LEFT_PCT,
        trend_pp_per_month=TREND_PP_PER_MONTH,
        pause_probability=0.0,
        walk_break_probability=0.0,
    )
    st = open_store(base / "store")
    result = import_paths(st, paths, workers=1)
    assert len(result.imported) == 16, result.to_json()
    st.close()
    return base / "store"


@pytest.fixture
def store_copy(season_store: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "store"
    shutil.copytree(season_store, dst)
    return dst


def test_home_says_where_she_stands_with_intervals(store_copy: Path) -> None:
    st = open_store(store_copy)
    h = home(st, "me", today=TODAY)
    bal = h.standing[0]
    assert bal.metric == "balance" and bal.current is not None
    assert bal.current.low is not None and bal.current.high is not None
    assert bal.current.low < bal.current.estimate < bal.current.high
    # the sim's pace-adjusted truth at the middle of the last 4 weeks
    days = 7 * WEEKS - 14
    truth_now = TRUTH_LEFT_PCT + TREND_PP_PER_MONTH * days / (365.2425 / 12)
    assert abs(bal.current.estimate - truth_now) < 0.4
    # 4 weeks later the truth is 0.74 pp closer to even: "better", with its interval
    assert bal.change is not None and bal.change.low is not None and bal.change.high is not None
    assert bal.verdict == "better" and -1.2 < bal.change.estimate < -0.3 and bal.change.high < 0
    assert {m.metric for m in h.standing} == {"balance", "gct", "vo"}
    # the sim's balance drifts toward the left as she tires (RunTruth default)
    assert h.drift.typical is not None and h.drift.typical.estimate > 0
    # the side rule names the left side from the runs, with the evidence shown
    a = h.side.assessment
    assert a is not None and a.side == "left" and a.confidence in ("clear", "probable")
    run_vote = next(v for v in a.votes if v.source.startswith("runs:") and "GCT balance" in v.source)
    assert run_vote.side == "left" and run_vote.points == 2
    # every sentence says something with its evidence, or says why it cannot
    sentences = home_sentences(h)
    assert sentences
    for s in sentences:
        assert (s.text is not None) != (s.reason is not None), s
        assert s.links, s
    by = {s.section: s for s in sentences}
    assert by["side"].text is not None and "left" in by["side"].text
    assert by["experiment"].text is None and "no experiment" in (by["experiment"].reason or "")
    assert by["today"].text is None and "no training plan" in (by["today"].reason or "")
    st.close()


def test_plan_auto_side_follows_the_evidence_and_replan_is_suggested(store_copy: Path) -> None:
    st = open_store(store_copy)
    plan = tailored_plan(st, "me", PlanInputs(start=TODAY, weeks=3, weaker_side="auto"), TODAY)
    assert plan.weaker_side == "left"
    side = plan.tailoring["evidence"]["side"]
    assert side["side"] == "left" and side["evidence"] and side["rule"]
    save_plan(st, "me", plan)
    h = home(st, "me", today=TODAY)
    assert h.session.session is not None  # the plan starts today: today's session with its why
    today = next(s for s in home_sentences(h) if s.section == "today")
    assert today.text is not None and "left" in today.text and "% L" in today.text
    assert not h.side.replan_suggested
    # new evidence: the right leg clearly weaker on one-leg stands, eyes open and closed
    for eyes in ("open", "closed"):
        for _ in range(3):
            record_balance_test(st, "me", "left", 40.0, eyes, TODAY)
            record_balance_test(st, "me", "right", 15.0, eyes, TODAY)
    h = home(st, "me", today=TODAY)
    assert h.side.assessment is not None and h.side.assessment.side != "left"
    assert h.side.replan_suggested and "plan create" in (h.side.replan_reason or "")
    assert any(s.section == "side.replan" for s in home_sentences(h))
    st.close()


def test_outcome_per_phase_with_interval_and_verdict(store_copy: Path) -> None:
    st = open_store(store_copy)
    start = TODAY - timedelta(days=28)
    save_plan(st, "me", tailored_plan(st, "me", PlanInputs(start=start, weeks=6), TODAY))
    h = home(st, "me", today=TODAY)
    rows = {r.window: r for r in h.outcome}
    assert set(rows) == {"before", "phase 1", "phase 2", "phase 3"}
    assert rows["phase 3"].verdict == "not enough runs" and rows["phase 3"].n_runs == 0  # starts today
    p2 = rows["phase 2"]  # ~5 weeks after the middle of "before": ~0.45 pp closer to even
    assert p2.n_runs >= 3 and p2.balance_change_pp is not None and p2.balance_change_pp.high is not None
    assert p2.verdict == "improved" and p2.balance_change_pp.high < 0
    assert rows["phase 1"].verdict in ("improved", "no change")
    words = [s.text for s in home_sentences(h) if s.section == "outcome"]
    assert any(w and "phase 2" in w and "more even" in w for w in words)
    r = CliRunner().invoke(
        app, ["plan", "outcome", "--store", str(store_copy), "--today", TODAY.isoformat(), "--json"]
    )
    assert r.exit_code == 0, r.output
    windows = {w["window"]: w for w in json.loads(r.stdout)["windows"]}
    assert windows["phase 2"]["verdict"] == "improved" and windows["before"]["verdict"] is None
    assert windows["phase 2"]["distance_from_even_change_pp"]["ci_high"] < 0
    # the outcome chart draws the verdicts over their phases (SVG text kept as text to read it back)
    import matplotlib

    svg = store_copy.parent / "outcome.svg"
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        r = CliRunner().invoke(
            app,
            [
                "plan",
                "outcome",
                "--store",
                str(store_copy),
                "--today",
                TODAY.isoformat(),
                "--chart",
                str(svg),
            ],
        )
    assert r.exit_code == 0, r.output
    text = svg.read_text(encoding="utf-8")
    assert 'id="verdict-improved"' in text and "improved" in text
    assert "not started" not in text  # future phases carry no verdict
    assert re.search(r"[+-]\d\.\d\d \[[+-]\d\.\d\d, [+-]\d\.\d\d\] pp from even", text)
    st.close()


def test_experiment_state_today_arm_and_runs_to_an_answer(store_copy: Path) -> None:
    st = open_store(store_copy)
    exp = create_experiment(st, "me", "cues", "pull-up,push-behind", "alternating-runs", seed=5, runs=8)
    order = exp.protocol["order"]
    runs = st.list_activities("me")[-2:]
    for run, arm in zip(runs, order, strict=False):
        add_tags(st, "me", run.id, [("cue", arm)])
    h = home(st, "me", today=TODAY)
    e = h.experiment
    assert e.name == "cues" and e.runs_done == 2 and e.planned_runs == 8
    assert e.today_arm == order[2]
    assert e.runs_to_final == 6
    assert e.runs_to_decisive is not None and 1 <= e.runs_to_decisive <= 6
    texts = [s.text for s in home_sentences(h) if s.section.startswith("experiment")]
    assert any(t and order[2] in t for t in texts)
    st.close()


def test_status_json_on_the_simulated_store(store_copy: Path) -> None:
    r = CliRunner().invoke(
        app, ["status", "--store", str(store_copy), "--today", TODAY.isoformat(), "--json"]
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["today"] == TODAY.isoformat() and out["n_runs"] == 16
    assert out["data"]["standing"][0]["current"]["ci_low"] is not None
    load = out["data"]["load"]
    assert load["fitness_load"] == "trimp" and load["ctl"] > 0 and load["atl"] > 0  # the sim records HR
    assert any("estimated" in a for a in load["fitness_assumptions"])
    assert any(s["section"] == "load.fitness" and "(CTL)" in s["numbers"] for s in out["sentences"])
    for s in out["sentences"]:
        assert (s["text"] is None) == (s["reason"] is not None)
        assert all(lk["href"].startswith("/") and lk["command"].startswith("stridelab ") for lk in s["links"])
    text = CliRunner().invoke(app, ["status", "--store", str(store_copy), "--today", TODAY.isoformat()])
    assert text.exit_code == 0 and "Work on your left side" in text.stdout


REAL_RUNS = (
    "Runalyze__Runalyze/with-new-dynamics.fit",
    "Runalyze__Runalyze/Fenix-2.fit",
    "GoldenCheetah__GoldenCheetah/Fr955v19.28andStryd.fit",
    "dtcooper__python-fitparse/garmin-fenix-5-run.fit",
    "GoldenCheetah__GoldenCheetah/2012_01_11_11_51_01.fit",  # a ride: not a run, never in the home
)


def test_status_json_on_real_fit_files(shared_data: Path, tmp_path: Path) -> None:
    files = [shared_data / "fit" / p for p in REAL_RUNS]
    st = open_store(tmp_path / "store")
    result = import_paths(st, files, workers=1)
    assert result.imported
    last = max(a.start_time for a in st.list_activities("me")).date()
    st.close()
    today = last + timedelta(days=1)
    r = CliRunner().invoke(
        app, ["status", "--store", str(tmp_path / "store"), "--today", today.isoformat(), "--json"]
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert 1 <= out["n_runs"] <= 4  # the ride is not a run
    sentences = {s["section"]: s for s in out["sentences"]}
    # a handful of runs years apart: no month-on-month comparison, no baseline -- said, not invented
    bal = out["data"]["standing"][0]
    assert bal["change"] is None and bal["verdict"] == "not enough runs"
    assert sentences["change"]["text"] is None and sentences["change"]["reason"]
    for s in out["sentences"]:
        assert (s["text"] is None) == (s["reason"] is not None), s


def test_home_on_an_empty_store(tmp_path: Path) -> None:
    st = open_store(tmp_path / "store")
    h = home(st, "me", today=TODAY)
    out = home_json(h)
    assert out["n_runs"] == 0
    assert all(s["text"] is None and s["reason"] for s in out["sentences"] if s["section"] != "load")
    st.close()


def test_laps_table_marks_the_experiment_arm_of_each_lap(store_copy: Path) -> None:
    st = open_store(store_copy)
    run = st.list_activities("me")[-1]
    create_experiment(st, "me", "laps", "pull-up,push-behind", "alternating-laps", seed=2, runs=4)
    add_tags(st, "me", run.id, [("cue", "push-behind")], laps=[1, 3])
    add_tags(st, "me", run.id, [("cue", "pull-up")], laps=[2])
    st.close()
    r = CliRunner().invoke(app, ["laps", run.id[:8], "--store", str(store_copy), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    by = {s["number"]: s for s in out["splits"]}
    assert by[2]["arms"] == ["cue=push-behind"] and by[4]["arms"] == ["cue=push-behind"]
    assert by[3]["arms"] == ["cue=pull-up"] and by[1]["arms"] == []
    first = by[1]
    for col in ("stance_time_balance_left_pct", "stance_time_s", "vertical_oscillation_m", "heart_rate_bpm"):
        assert first[col] is not None, col
    assert 40 < first["stance_time_balance_left_pct"] < 60 and first["distance_m"] > 0
    text = CliRunner().invoke(
        app, ["laps", run.id[:8], "--store", str(store_copy), "--km", "--units", "imperial"]
    )
    # imperial splits per mile (wave 3): a mile runner's splits, paces per mile
    assert text.exit_code == 0 and "/mi" in text.stdout and "mi 1" in text.stdout
    assert "miles of run" in text.stdout and "km 1" not in text.stdout
    bad = CliRunner().invoke(app, ["laps", run.id[:8], "--store", str(store_copy), "--units", "furlongs"])
    assert bad.exit_code == 2 and "furlongs" in bad.output
    report = store_copy.parent / "run.html"
    r = CliRunner().invoke(app, ["report", run.id[:8], "-o", str(report), "--store", str(store_copy)])
    assert r.exit_code == 0, r.output
    html = report.read_text(encoding="utf-8")
    assert "<h2>Laps</h2>" in html and "<h2>Kilometres</h2>" in html and "cue=push-behind" in html


def test_the_cue_that_moved_the_balance_toward_even_is_recommended() -> None:
    from stridelab.services.home import recommended_cue

    arms = ("pull-up", "push-behind")  # effect = push-behind - pull-up
    assert recommended_cue(arms, -0.6, 51.2) == "push-behind"  # left-heavy, less left share: helped
    assert recommended_cue(arms, +0.6, 51.2) == "pull-up"
    assert recommended_cue(arms, -0.6, 48.8) == "pull-up"  # right-heavy: a lower left share hurt
    assert recommended_cue(arms, +0.6, 48.8) == "push-behind"


def test_runs_list_and_trend_on_real_files(shared_data: Path, tmp_path: Path) -> None:
    """A ride reads in km/h (not min/km); ``trend`` lists runs with dynamics unless ``--all``."""
    files = [
        shared_data / "fit" / "Runalyze__Runalyze/with-new-dynamics.fit",
        shared_data / "fit" / "GoldenCheetah__GoldenCheetah/10kUNLP2014-Garmin15.fit",  # no dynamics
        shared_data / "fit" / "GoldenCheetah__GoldenCheetah/2012_01_11_11_51_01.fit",  # a ride
    ]
    st = open_store(tmp_path / "store")
    import_paths(st, files, workers=1)
    st.close()
    store = ["--store", str(tmp_path / "store")]
    runs = CliRunner().invoke(app, ["runs", *store])
    assert runs.exit_code == 0
    ride = next(line for line in runs.stdout.splitlines() if "cycling" in line)
    assert "km/h" in ride and "/km" not in ride.replace("km/h", "")
    assert "date (local)" in runs.stdout
    imperial = CliRunner().invoke(app, ["runs", *store, "--units", "imperial"]).stdout
    assert "mph" in imperial and "/mi" in imperial and " mi " in imperial
    rows = json.loads(CliRunner().invoke(app, ["trend", *store, "--json"]).stdout)
    every = json.loads(CliRunner().invoke(app, ["trend", *store, "--json", "--all"]).stdout)
    assert len(rows) == 1 and rows[0]["balance_mean_left_pct"] is not None
    assert len(every) == 2
    text = CliRunner().invoke(app, ["trend", *store])
    assert "1 run(s) without running dynamics not shown" in text.stdout
    import asyncio

    import httpx

    from stridelab.web import WebConfig, create_app

    web = create_app(WebConfig(store_path=tmp_path / "store", background_analysis=False))

    async def runs_page() -> str:
        transport = httpx.ASGITransport(app=web)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            return (await c.get("/runs", params={"all": "true"})).text  # rides too

    try:
        assert "km/h" in asyncio.run(runs_page())  # the ride, not "2:05/km"
    finally:
        web.state.web.close()


def test_show_reads_stryd_fields_in_kn_per_m_and_ms(shared_data: Path, tmp_path: Path) -> None:
    st = open_store(tmp_path / "store")
    result = import_paths(st, [shared_data / "fit" / "GoldenCheetah__GoldenCheetah/Fr955v19.28andStryd.fit"])
    run_id = result.imported[0] if isinstance(result.imported[0], str) else st.list_activities("me")[0].id
    st.close()
    out = CliRunner().invoke(app, ["show", str(run_id)[:8], "--store", str(tmp_path / "store")]).stdout
    stiffness = next(line for line in out.splitlines() if "Leg Spring Stiffness" in line)
    ground = next(line for line in out.splitlines() if "Ground Time" in line)
    assert "kN/m" in stiffness and "e+" not in stiffness
    assert " ms " in ground and "0.2" not in ground.split("(")[0]


def test_trend_filters_by_type_and_distance(store_copy: Path) -> None:
    base = ["trend", "--store", str(store_copy), "--json"]
    every = json.loads(CliRunner().invoke(app, base).stdout)
    steady = json.loads(CliRunner().invoke(app, [*base, "--type", "steady"]).stdout)
    intervals = json.loads(CliRunner().invoke(app, [*base, "--type", "intervals"]).stdout)
    assert steady and all("steady" in r["flags"] for r in steady)
    assert all("intervals" in r["flags"] for r in intervals)
    assert len(steady) + len(intervals) == len(every)
    st = open_store(store_copy)
    dist = {a.id: a.distance_m for a in st.list_activities("me")}
    st.close()
    mid = json.loads(CliRunner().invoke(app, [*base, "--distance", "6k-9k"]).stdout)
    assert mid and all(6000 <= dist[r["id"]] <= 9000 for r in mid)
    assert len(mid) == sum(1 for r in every if 6000 <= dist[r["id"]] <= 9000)
    # --tag KEY[=VALUE]: the runs tagged so (on the run or a lap); a new tag is seen at once
    ids = [r["id"] for r in every]
    st = open_store(store_copy)
    add_tags(st, "me", ids[0], [("shoes", "new")])
    add_tags(st, "me", ids[1], [("shoes", "old")])
    shoes = json.loads(CliRunner().invoke(app, [*base, "--tag", "shoes"]).stdout)
    new = json.loads(CliRunner().invoke(app, [*base, "--tag", "shoes=new"]).stdout)
    assert [r["id"] for r in shoes] == ids[:2] and [r["id"] for r in new] == ids[:1]
    add_tags(st, "me", ids[2], [("shoes", "new")])
    st.close()
    new = json.loads(CliRunner().invoke(app, [*base, "--tag", "shoes=new"]).stdout)
    assert [r["id"] for r in new] == [ids[0], ids[2]]
    for bad, word in (
        (["--distance", "15k-5k"], "maximum"),
        (["--distance", "far"], "5k-15k"),
        (["--type", "jog"], "steady"),
        (["--tag", "=x"], "KEY=VALUE"),
    ):
        r = CliRunner().invoke(app, [*base, *bad])
        assert r.exit_code == 2 and word in r.output, r.output


def test_units_imperial_on_show_trend_analyze_and_status(store_copy: Path) -> None:
    """``--units imperial`` is a display setting: min/mi and mi in every view, SI in the JSON data."""
    runner = CliRunner()
    s = ["--store", str(store_copy)]
    runs = json.loads(runner.invoke(app, ["runs", *s, "--json"]).stdout)
    rid = runs[-1]["id"]
    metric = runner.invoke(app, ["show", rid, *s])
    imperial = runner.invoke(app, ["show", rid, *s, "--units", "imperial"])
    assert metric.exit_code == 0 and imperial.exit_code == 0, imperial.output
    assert "/km" in metric.stdout and re.search(r"\d\s*km", metric.stdout) and "/mi" not in metric.stdout
    assert "/mi" in imperial.stdout and "/km" not in imperial.stdout
    miles = runs[-1]["distance_m"] / 1609.344
    assert re.search(rf"{miles:.2f}\s*mi\b", imperial.stdout), imperial.stdout
    for cmd in (["trend", *s], ["analyze", rid, *s], ["status", *s, "--today", TODAY.isoformat()]):
        out = runner.invoke(app, [*cmd, "--units", "imperial"], terminal_width=200)
        assert out.exit_code == 0, out.output
        assert "/mi" in out.stdout and "/km" not in out.stdout, cmd
    st_json = json.loads(
        runner.invoke(
            app, ["status", *s, "--today", TODAY.isoformat(), "--json", "--units", "imperial"]
        ).stdout
    )
    assert st_json["units"] == "imperial"
    assert st_json["ref_speed_m_s"] > 2.0  # the data stays SI
    assert any(
        re.search(r"\d\s*mi\b", x["numbers"] or "") for x in st_json["sentences"] if x["section"] == "load"
    )
    bad = runner.invoke(app, ["show", rid, *s, "--units", "furlongs"])
    assert bad.exit_code == 2 and "furlongs" in bad.output


def test_local_time_from_the_files_own_offset(store_copy: Path, shared_data: Path) -> None:
    """The run's UTC offset comes from its FIT ``activity.local_timestamp`` (the simulator writes
    UTC+01:00) and is stored per run; ``show`` and ``runs`` print local time with it. Real files: every
    offset read is a whole quarter hour within ±14 h; a device with an unset clock gives None."""
    from stridelab.io.fit import decode_fit
    from stridelab.io.fit._activity import utc_offset_s

    runner = CliRunner()
    s = ["--store", str(store_copy)]
    runs = json.loads(runner.invoke(app, ["runs", *s, "--json"]).stdout)
    assert {r["utc_offset_s"] for r in runs} == {3600}
    rid = runs[-1]["id"]
    utc = datetime.fromisoformat(runs[-1]["start_time"])
    local = (utc + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")
    shown = runner.invoke(app, ["show", rid, *s], terminal_width=200).stdout
    assert f"{local} UTC+01:00" in shown and "the file's local time" in shown, shown
    listed = runner.invoke(app, ["runs", *s], terminal_width=200).stdout
    assert f"{local} UTC+01:00" in listed
    found: dict[int | None, int] = {}
    for path in sorted((shared_data / "fit").rglob("*.fit"))[:60]:
        try:
            fit = decode_fit(path.read_bytes())
        except Exception:  # damaged files are another test's subject
            continue
        off = utc_offset_s(fit)
        found[off] = found.get(off, 0) + 1
        if off is not None:
            assert off % 900 == 0 and abs(off) <= 14 * 3600, (path, off)
    assert sum(n for off, n in found.items() if off is not None) >= 10, found
    assert any(off not in (None, 0) for off in found), found


def test_a_simulated_cue_effect_drives_the_experiment_to_a_recommendation(tmp_path: Path) -> None:
    """End to end: the simulator gives the "push-behind" cue a known effect (-0.6 pp left share) on a
    52 % L runner; runs are tagged with the experiment's randomised arms, imported, and the home says
    the experiment is decided and recommends "push-behind" with an interval around -0.6 pp."""
    effect = -0.6
    st = open_store(tmp_path / "store")
    exp = create_experiment(st, "me", "cues", "pull-up,push-behind", "alternating-runs", seed=11, runs=12)
    order = list(exp.protocol["order"])[:12]
    weeks = 6
    start = datetime.combine(END - timedelta(days=7 * weeks - 1), datetime.min.time(), tzinfo=UTC)
    paths = simulate_season(
        tmp_path / "fit",
        n_runs=12,
        weeks=weeks,
        seed=21,
        start=start,
        balance_left_pct_at_start=52.0,
        trend_pp_per_month=0.0,
        run_to_run_sd_pp=0.1,
        pause_probability=0.0,
        walk_break_probability=0.0,
        arms=order,
        arm_effects_pp={"push-behind": effect},
    )
    result = import_paths(st, paths, workers=1)
    assert len(result.imported) == 12, result.to_json()
    runs = sorted(st.list_activities("me"), key=lambda r: r.start_time)
    for run, arm in zip(runs, order, strict=True):
        add_tags(st, "me", run.id, [("cue", arm)])
    h = home(st, "me", today=TODAY)
    e = h.experiment
    assert e.effect is not None and e.effect.low is not None and e.effect.high is not None, e
    assert e.effect.low < effect < e.effect.high and e.effect.high < 0, e.effect  # covers the truth
    assert e.cue_recommendation == "push-behind", e
    words = [s.text or "" for s in home_sentences(h) if s.section.startswith("experiment")]
    assert any('Keep the cue "push-behind"' in w for w in words), words
    st.close()


def test_the_home_is_kept_until_anything_it_reads_changes(
    store_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warm home is the kept one (no rebuild) and equals a fresh build; a tag, a balance test,
    another day rebuild it. The windowed build (the analyses of its windows plus ``HISTORY_RUNS``
    before them) equals the one reading every run, also when the history read falls short."""
    import stridelab.services.home as home_module

    st = open_store(store_copy)
    builds: list[date] = []
    original = home_module.build_home

    def counting(store: object, athlete: str = "me", *, today: date | None = None) -> object:
        assert today is not None
        builds.append(today)
        return original(st, athlete, today=today)

    monkeypatch.setattr(home_module, "build_home", counting)
    first = home(st, "me", today=TODAY)
    again = home(st, "me", today=TODAY)
    assert builds == [TODAY] and again == first == original(st, "me", today=TODAY)
    assert home_json(again) == home_json(first)
    run_id = st.list_activities("me")[-1].id
    add_tags(st, "me", run_id, [("shoes", "new")])
    home(st, "me", today=TODAY)
    record_balance_test(st, "me", "left", 10.0, day=TODAY)
    record_balance_test(st, "me", "right", 40.0, day=TODAY)
    after_test = home(st, "me", today=TODAY)
    assert len(builds) == 3 and after_test.side.assessment != first.side.assessment  # a new vote
    home(st, "me", today=TODAY + timedelta(days=1))
    assert len(builds) == 4
    # a write through another connection (another process: the dashboard, an import) is seen too
    from stridelab.services.analysis import clear_cache
    from stridelab.store import cache as cache_repo

    other = open_store(store_copy)
    record_balance_test(other, "me", "right", 35.0, day=TODAY)
    home(st, "me", today=TODAY)
    assert len(builds) == 5
    memo = cache_repo.current_fingerprint(st, "me")
    assert memo == cache_repo.derived_fingerprint(st, "me")
    assert clear_cache(other, "me") == 16  # the cached analyses go, through the other connection
    assert cache_repo.current_fingerprint(st, "me") == cache_repo.derived_fingerprint(st, "me") != memo
    other.close()
    later = END + timedelta(days=30)  # no run in the last 28 days: the latest run's baseline is older
    full = original(st, "me", today=later)
    for history in (1, 3, 10_000):
        monkeypatch.setattr(home_module, "HISTORY_RUNS", history)
        assert original(st, "me", today=later) == full
    assert full.change.run_id == st.list_activities("me")[-1].id


def test_runs_imported_before_local_time_gain_it_from_their_files(store_copy: Path, tmp_path: Path) -> None:
    """Issue 16: runs stored without their file's UTC offset (imported before it was kept) gain it
    from their source file, once, without a re-import: only files whose bytes are the run's are read,
    an offset already set is never replaced, a run whose file is gone keeps none; the next ``import``
    and ``doctor --fix`` do it."""
    import sqlite3

    from stridelab.services.doctor import run_doctor
    from stridelab.services.local_time import backfill_utc_offsets, runs_without_local_time
    from stridelab.store.offsets import record_utc_offsets

    st = open_store(store_copy)
    runs = sorted(st.list_activities("me"), key=lambda r: r.start_time)
    assert {r.utc_offset_s for r in runs} == {3600} and runs_without_local_time(st) == 0
    con = sqlite3.connect(store_copy / "catalog.sqlite")  # the store as an older stridelab left it
    with con:
        con.execute("UPDATE activities SET utc_offset_s = NULL")
        con.execute("DELETE FROM utc_offset_checks")
        # one run's file is gone, another's path now holds other bytes (a different run's file)
        con.execute("UPDATE sources SET path = path || '.moved' WHERE sha256 = ?", (runs[0].id,))
        other = con.execute("SELECT path FROM sources WHERE sha256 = ?", (runs[2].id,)).fetchone()[0]
        swapped = tmp_path / "swapped.fit"
        swapped.write_bytes(Path(other).read_bytes())
        con.execute("UPDATE sources SET path = ? WHERE sha256 = ?", (str(swapped), runs[1].id))
    con.close()
    before = {r.id: (r.start_time, r.n_records, r.summary) for r in st.list_activities("me")}
    assert runs_without_local_time(st) == 16
    report = run_doctor(st)
    assert any(f.kind == "no_local_time" and "16 FIT runs" in f.detail for f in report.findings)
    done = backfill_utc_offsets(st)
    assert (done.checked, done.gained, done.missing_files) == (16, 14, 2)
    after = {r.id: r for r in st.list_activities("me")}
    assert after[runs[0].id].utc_offset_s is None and after[runs[1].id].utc_offset_s is None
    assert {after[r.id].utc_offset_s for r in runs[2:]} == {3600}
    assert {i: (r.start_time, r.n_records, r.summary) for i, r in after.items()} == before  # nothing else
    assert backfill_utc_offsets(st).checked == 0  # each run is looked at once
    assert record_utc_offsets(st, "me", {runs[3].id: 7200}) == 0  # never replaces an offset
    assert st.activity("me", runs[3].id).utc_offset_s == 3600
    # an older store's runs gain it at the next import (of anything) and with doctor --fix
    con = sqlite3.connect(store_copy / "catalog.sqlite")
    with con:
        con.execute("UPDATE activities SET utc_offset_s = NULL WHERE id = ?", (runs[5].id,))
        con.execute("DELETE FROM utc_offset_checks WHERE activity_id = ?", (runs[5].id,))
    con.close()
    source = st.activity("me", runs[5].id).source_path
    assert source is not None
    import_paths(st, [source], workers=1)  # already stored: skipped, yet the back-fill runs
    assert st.activity("me", runs[5].id).utc_offset_s == 3600
    con = sqlite3.connect(store_copy / "catalog.sqlite")
    with con:
        con.execute("UPDATE activities SET utc_offset_s = NULL WHERE id = ?", (runs[6].id,))
        con.execute("DELETE FROM utc_offset_checks WHERE activity_id = ?", (runs[6].id,))
    con.close()
    fixed = run_doctor(st, fix=True)
    assert [f.fixed for f in fixed.findings if f.kind == "no_local_time"] == [True]
    assert st.activity("me", runs[6].id).utc_offset_s == 3600
    assert not [f for f in run_doctor(st).findings if f.kind == "no_local_time"]


def test_reports_and_splits_in_imperial_units(store_copy: Path, tmp_path: Path) -> None:
    """``report --units imperial``: the run report's paces, splits (per mile, elevation in ft) and
    speed axis per mile; the trend report's paces per mile; ``laps --km --units imperial`` splits per
    mile, each split one mile long."""
    runner = CliRunner()
    s = ["--store", str(store_copy)]
    rid = json.loads(runner.invoke(app, ["runs", *s, "--json"]).stdout)[-1]["id"]
    out = tmp_path / "run.html"
    r = runner.invoke(app, ["report", rid, "-o", str(out), "--units", "imperial", *s])
    assert r.exit_code == 0, r.output
    html = out.read_text()
    assert "Miles" in html and "elev +/- (ft)" in html and "Kilometres" not in html
    assert "/mi" in html and "pace per mile" in html and "UTC+01:00" in html
    assert not re.search(r"\d:\d\d\u202f?/km", html)
    metric = tmp_path / "metric.html"
    assert runner.invoke(app, ["report", rid, "-o", str(metric), *s]).exit_code == 0
    assert "Kilometres" in metric.read_text() and "pace per km" in metric.read_text()
    trend = tmp_path / "trend.html"
    r = runner.invoke(app, ["report", "--trend", "-o", str(trend), "--units", "imperial", *s])
    assert r.exit_code == 0, r.output
    assert re.search(r"\d:\d\d\u202f?/mi", trend.read_text()) and not re.search(
        r"\d:\d\d\u202f?/km", trend.read_text()
    )
    laps = runner.invoke(app, ["laps", rid, "--km", "--units", "imperial", *s], terminal_width=250)
    assert laps.exit_code == 0 and "miles of run" in laps.stdout and "mi 1" in laps.stdout
    from stridelab.services.splits import run_splits

    miles = run_splits(open_store(store_copy), "me", rid, by="mi").frame
    full = miles["distance_m"].iloc[:-1]
    assert len(miles) >= 2 and ((full - 1609.344).abs() < 30).all()  # whole miles, the last one partial


def test_a_new_run_without_local_time_is_never_waiting(tmp_path: Path, shared_data: Path) -> None:
    """A FIT run read by today's decoder whose file holds no local time is marked as looked at in the
    transaction that stores it: no window in which ``doctor`` (or a backup taken then) sees it waiting
    for the back-fill of older runs."""
    import dataclasses

    from stridelab.io.fit import read_activity
    from stridelab.services.local_time import runs_without_local_time
    from stridelab.store import Store
    from stridelab.store.activities import add_activity
    from stridelab.store.offsets import ensure_offsets_schema

    path = shared_data / "fit" / "Runalyze__Runalyze" / "Fenix-3-with-runscribe-v1-38.fit"
    act = dataclasses.replace(read_activity(path.read_bytes(), source_path=str(path)), utc_offset_s=None)
    st = Store.open(tmp_path / "store")
    ensure_offsets_schema(st)
    assert add_activity(st, "me", act)
    assert st.activity("me", act.id).utc_offset_s is None
    assert runs_without_local_time(st) == 0
    st.close()
