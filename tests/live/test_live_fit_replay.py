"""FIT replay through the metric path (a shared FIT file with running dynamics), lap announcements
from an experiment protocol, target bands, and the CLI's --source replay:FILE.fit --json."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from datetime import date, timedelta

import numpy as np
import pytest

from stridelab.analysis import make_protocol
from stridelab.io.fit import read_activity
from stridelab.live.cues import Cues, parse_band
from stridelab.live.fit_replay import FitReplay, metric_batches
from stridelab.live.laps import LapPlan, plan_target_bands, target_bands

FIT = "Runalyze__Runalyze/Fenix-3-with-runscribe-v1-38.fit"  # fenix 3 + HRM-Run: GCT balance per record


@pytest.fixture(scope="module")
def activity(shared_data):
    path = shared_data / "fit" / FIT
    return path, read_activity(path.read_bytes(), source_path=str(path))


def test_lap_plan_announces_arms():
    proto = make_protocol("alternating-laps", ("baseline", "push-behind"), 11, runs=2, blocks_per_run=4)
    plan = LapPlan("cue test", "alternating-laps", proto, run=2)
    order = proto["orders"][1]
    assert plan.announce(1) == "lap 1: warm-up"
    assert [plan.arm(k) for k in range(2, 6)] == order
    assert plan.announce(order.index("push-behind") + 2).endswith(": push behind")
    assert plan.announce(6) == "lap 6: cool-down"
    with pytest.raises(ValueError, match="plans 2 runs"):
        LapPlan("cue test", "alternating-laps", proto, run=3)
    proto2 = make_protocol("alternating-laps", ("a", "b"), 1, ref_speed_m_s=3.0)
    assert target_bands(proto2) == {"speed_m_s": (2.91, 3.09)}


def test_metric_batches_pace_and_cover_every_record(activity):
    _, act = activity
    waits: list[float] = []
    now = [0.0]

    def sleep(s: float) -> None:
        waits.append(s)
        now[0] += s

    batches = list(metric_batches(act.records, speed=50.0, chunk_s=10.0, sleep=sleep, clock=lambda: now[0]))
    moving = act.records[~act.records["paused"].astype(bool)]
    assert sum(len(b.time_s) for b in batches) == len(moving)
    span = batches[-1].time_s[-1]
    assert now[0] == pytest.approx((span // 10 + 1) * 10 / 50.0, rel=0.02)  # paced at 50 ×


def test_fit_replay_windows_cues_and_laps(activity):
    _, act = activity
    proto = make_protocol("alternating-laps", ("baseline", "push-behind"), 3, runs=1, blocks_per_run=8)
    plan = LapPlan("cue test", "alternating-laps", proto, run=1)
    cues = Cues((parse_band("stance_time_balance_left_pct=49.2:50.8", hold_s=10.0, min_gap_s=60.0),))
    replay = FitReplay(act.records, speed=None, window_s=30.0, interval_s=5.0, cues=cues, laps=plan)
    items = list(replay.run())
    laps = [i for i in items if i["type"] == "lap"]
    assert [lp["lap"] for lp in laps] == list(range(1, len(act.laps) + 1))
    assert laps[0]["text"] == "lap 1: warm-up"
    assert laps[2]["text"] == f"lap 3: {proto['orders'][0][1].replace('-', ' ')}"
    ups = [i for i in items if i["type"] == "update"]
    # the window median equals the median of the records in that window (the same numbers offline)
    rec = act.records[~act.records["paused"].astype(bool)]
    t = rec["timer_s"].to_numpy(float) - rec["timer_s"].iloc[0]
    u = ups[len(ups) // 2]
    sel = (t > u["time_s"] - 30.0) & (t <= u["time_s"])
    assert u["stance_time_balance_left_pct"] == pytest.approx(
        float(np.nanmedian(rec["stance_time_balance_left_pct"].to_numpy(float)[sel]))
    )
    assert u["cadence_spm"] == pytest.approx(float(np.nanmedian(rec["cadence_spm"].to_numpy(float)[sel])))
    fired = [c for i in ups for c in i["cues"]]
    assert fired and fired[0]["text"].startswith("even out: left")
    assert all(b["time_s"] - a["time_s"] >= 60.0 for a, b in itertools.pairwise(fired))


def test_fit_without_running_dynamics_is_refused(shared_data):
    path = shared_data / "fit" / "GoldenCheetah__GoldenCheetah" / "2012_01_11_11_51_01.fit"
    with pytest.raises(ValueError, match="no running dynamics"):
        FitReplay.from_file(path, speed=None)


def test_cli_replays_a_fit_file(activity, tmp_path):
    path, _ = activity
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "stridelab",
            "live",
            "--source",
            f"replay:{path}",
            "--as-fast-as-possible",
            "--json",
            "--interval",
            "30",
            "--store",
            str(tmp_path / "store"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert any(x["type"] == "lap" and x["text"] == "lap 2" for x in lines)
    ups = [x for x in lines if x["type"] == "update"]
    assert ups and all("stance_time_balance_left_pct" in x and "latency_s" in x for x in ups)


def test_a_running_plan_sets_the_balanced_zone_as_target():
    today = date(2026, 12, 3)
    plan = {"weaker_side": "right", "start": "2026-11-30", "end": "2027-02-21"}
    assert plan_target_bands(plan, today) == {"stance_time_balance_left_pct": pytest.approx((49.3, 50.7))}
    assert plan_target_bands({**plan, "weaker_side": None}, today) == {}  # both sides trained alike
    assert plan_target_bands(plan, date(2026, 11, 29)) == {}  # not started
    assert plan_target_bands(plan, date(2027, 2, 22)) == {}  # over
    assert plan_target_bands(None, today) == {}


def test_cli_live_takes_the_plan_band(activity, tmp_path):
    """With a running plan (weaker side named), `live` shows and cues the plan's band, not the default."""
    path, _ = activity
    store = str(tmp_path / "store")
    start = (date.today() - timedelta(days=1)).isoformat()
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "stridelab",
            "plan",
            "create",
            "--start",
            start,
            "--weaker-side",
            "right",
            "--store",
            store,
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "stridelab",
            "live",
            "--source",
            f"replay:{path}",
            "--as-fast-as-possible",
            "--json",
            "--interval",
            "60",
            "--store",
            store,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    targets = [json.loads(x) for x in out.stdout.splitlines() if '"target"' in x]
    assert [(t["metric"], t["low"], t["high"]) for t in targets] == [
        ("stance_time_balance_left_pct", pytest.approx(49.3), pytest.approx(50.7))
    ]


def test_imu_replay_announces_timer_laps_and_targets(tmp_path):
    from stridelab.live import LiveSession
    from stridelab.live.sources.replay import ReplaySource
    from stridelab.sim.imu import ImuTruth, simulate_imu

    sim = simulate_imu(ImuTruth(duration_s=35, placements=("sacrum",), sampling_rate_hz=100.0), seed=2)
    proto = make_protocol("alternating-laps", ("baseline", "hips-level"), 5, runs=1, blocks_per_run=2)
    plan = LapPlan("hips", "alternating-laps", proto, run=1)
    session = LiveSession(
        ReplaySource(sim.recording, speed=None),
        tmp_path / "s.jsonl",
        window_s=10.0,
        laps=plan,
        lap_s=10.0,
        targets={"stance_time_balance_left_pct": (49.2, 50.8)},
    )
    items = list(session.run())
    assert items[0] == {"type": "target", "metric": "stance_time_balance_left_pct", "low": 49.2, "high": 50.8}
    laps = [(i["time_s"], i["text"]) for i in items if i["type"] == "lap"]
    order = [a.replace("-", " ") for a in proto["orders"][0]]
    assert laps == [
        (0.0, "lap 1: warm-up"),
        (10.0, f"lap 2: {order[0]}"),
        (20.0, f"lap 3: {order[1]}"),
        (30.0, "lap 4: cool-down"),
    ]
    first_lap2 = next(k for k, i in enumerate(items) if i["type"] == "lap" and i["lap"] == 2)
    assert all(i["time_s"] <= 10.1 for i in items[:first_lap2] if i["type"] == "update")  # 0.1 s chunks
    with pytest.raises(ValueError, match="lap length"):
        LiveSession(ReplaySource(sim.recording, speed=None), tmp_path / "t.jsonl", lap_s=0.0)
