"""The journal survives a kill -9 mid-session and reads back up to the last batch; a finished
session becomes an IMU recording in the store; replay feeds the loop and the CLI prints JSON lines."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from _hang import HANG_GUARD_S
from stridelab.live import CueRule, Cues, LiveSession, Recorder, SensorInfo, read_journal
from stridelab.live.sources import Batch
from stridelab.live.sources.replay import ReplaySource
from stridelab.services import open_store
from stridelab.services.live import save_session
from stridelab.sim.imu import ImuTruth, simulate_imu, write_table_with_sidecar

REPO = Path(__file__).resolve().parents[2]

_WRITER = """
import sys, time
import numpy as np
from stridelab.live import Recorder, SensorInfo
from stridelab.live.sources import Batch
rec = Recorder(sys.argv[1], (SensorInfo("lf", "foot", "left", 100.0),))
k = 0
while True:
    rows = np.arange(k * 10, k * 10 + 10, dtype=float)[:, None] * np.ones((1, 6))
    rec.append(Batch("lf", k * 10, rows, 0.0))
    print(k, flush=True)
    k += 1
    time.sleep(0.001)
"""


def test_killed_recorder_leaves_every_batch_up_to_the_last(tmp_path: Path):
    path = tmp_path / "session.jsonl"
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, env=env, text=True
    )
    assert proc.stdout is not None
    confirmed = -1
    deadline = time.monotonic() + HANG_GUARD_S
    while confirmed < 30:
        assert time.monotonic() < deadline, "the recorder never wrote"
        confirmed = int(proc.stdout.readline())
    proc.send_signal(signal.SIGKILL)
    proc.wait(HANG_GUARD_S)
    proc.stdout.close()
    j = read_journal(path)
    assert not j.ended
    arr = j.data["lf"]
    # every batch acknowledged before the kill is there, whole and in place
    assert len(arr) >= (confirmed + 1) * 10
    np.testing.assert_array_equal(arr[:, 0], np.arange(len(arr), dtype=float))


def test_torn_line_and_gap_are_noted(tmp_path: Path):
    path = tmp_path / "s.jsonl"
    rec = Recorder(path, (SensorInfo("lf", "foot", "left", 100.0),))
    rec.append(Batch("lf", 0, np.ones((10, 3)), 0.0))
    rec.append(Batch("lf", 30, np.ones((10, 3)), 0.0, ("clock jumped",)))
    rec.close()
    with path.open("ab") as f:
        f.write(b'{"kind":"batch","sensor":"lf","first_')  # a crash mid-line after the end
    j = read_journal(path)
    assert np.isnan(j.data["lf"][10:30]).all() and len(j.data["lf"]) == 40
    assert any("cut by a crash" in n for n in j.notes)
    assert any("never arrived" in n for n in j.notes) and "clock jumped" in j.notes
    with pytest.raises(FileExistsError):
        Recorder(path, (SensorInfo("lf", "foot", "left", 100.0),))  # never overwrites a journal


def test_replay_session_cues_and_store(tmp_path: Path):
    sim = simulate_imu(ImuTruth(duration_s=25, gct_balance_left_pct=52.6, placements=("foot",)), seed=3)
    cues = Cues((CueRule("stance_time_balance_left_pct", 49.2, 50.8, hold_s=5.0, min_gap_s=10.0),))
    session = LiveSession(ReplaySource(sim.recording, speed=None), tmp_path / "j.jsonl", cues=cues)
    items = list(session.run())
    updates = [i for i in items if i["type"] == "update"]
    said = [c for u in updates for c in u["cues"]]
    assert said and said[0]["text"] == f"even out: left {said[0]['value']:.1f} %"
    assert said[0]["value"] == pytest.approx(52.6, abs=0.7)
    times = [c["time_s"] for c in said]
    assert all(b - a >= 10.0 for a, b in itertools.pairwise(times))  # rate-limited
    j = read_journal(tmp_path / "j.jsonl")
    assert j.ended
    store = open_store(tmp_path / "store")
    rec_id = save_session(store, "me", tmp_path / "j.jsonl", j.recording(gap_free=True))
    assert len(rec_id) == 64


def test_replay_pacing_uses_the_injected_clock():
    sim = simulate_imu(ImuTruth(duration_s=6, placements=("foot",)), seed=1)
    now = [0.0]
    waits: list[float] = []

    def sleep(dt: float) -> None:
        waits.append(dt)
        now[0] += dt

    src = ReplaySource(sim.recording, speed=10.0, chunk_s=0.5, sleep=sleep, clock=lambda: now[0])
    batches = list(src.batches())
    stream_s = max(b.first_index + b.n for b in batches) / 200.0
    assert now[0] == pytest.approx(stream_s / 10.0, abs=0.06)
    with pytest.raises(ValueError, match="between 1 and 100"):
        ReplaySource(sim.recording, speed=500.0)


def test_cli_live_json_lines(tmp_path: Path):
    sim = simulate_imu(ImuTruth(duration_s=15, gct_balance_left_pct=53.0, placements=("foot",)), seed=2)
    f = write_table_with_sidecar(sim.recording, tmp_path / "run.csv")
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "stridelab",
            "live",
            "--source",
            f"replay:{f}",
            "--as-fast-as-possible",
            "--json",
            "--hold",
            "2",
            "--cue-gap",
            "5",
            "--store",
            str(tmp_path / "store"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=HANG_GUARD_S,
        check=True,
    )
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    updates = [x for x in lines if x["type"] == "update"]
    assert updates and {
        "time_s",
        "latency_s",
        "stance_time_balance_left_pct",
        "stance_time_s",
        "cadence_spm",
    } <= set(updates[-1])
    assert any(c["text"].startswith("even out: left 5") for u in updates for c in u["cues"])
    assert lines[-1]["type"] == "stored"
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "stridelab",
            "live",
            "--source",
            "carrier-pigeon",
            "--json",
            "--store",
            str(tmp_path / "s"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=HANG_GUARD_S,
    )
    assert bad.returncode == 2 and "replay:FILE" in bad.stdout
