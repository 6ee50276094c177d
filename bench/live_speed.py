"""Live gait engine: CPU for three sensors at 200 Hz, latency, and agreement with the offline engine.

    PYTHONPATH=src python bench/live_speed.py [--quick]

Figures (one table; goal, measured, peer ratio, met / not met):

* CPU of :class:`stridelab.gait.streaming.StreamingGait` fed left foot + right foot + sacrum at 200 Hz
  in 0.1 s chunks, as % of one core (process CPU time / stream seconds; goal ≤ 5 %). Peer: the
  offline pipeline (:func:`stridelab.gait.analyze_recording`) on the same recording, measured in the
  same run, interleaved, medians of the repeats; ``peer_ratio`` = streaming CPU / offline CPU.
* latency: the longest time from a chunk's arrival to the update it produced (the engine runs as the
  chunk arrives, so this is the compute time of that push; goal ≤ 0.5 s); peer ratio against one
  offline analysis of the whole recording.
* agreement: largest |event time difference| (goal ≤ 5 ms) and largest relative window-metric
  difference (goal ≤ 1 %) between streaming and offline on the same recording, for the temporal
  metrics and, separately, for the kinematics (foot strike angle per foot, pelvic drop per side and
  obliquity range: the window's strides whose IC and next IC lie in it).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from typing import Any

import numpy as np
import pandas as pd

from stridelab.gait import analyze_recording
from stridelab.gait.streaming import LIVE_KINEMATICS, LIVE_METRICS, StreamingGait, window_metrics
from stridelab.sim.imu import ImuTruth, simulate_imu

CHUNK = 20  # 0.1 s at 200 Hz


def _stream(rec: Any) -> tuple[float, float, list[Any]]:
    arrays = {s.name: s.data.to_numpy(float) for s in rec.sensors}
    gait = StreamingGait(tuple((s.name, s.placement, s.side) for s in rec.sensors), 200.0)
    n = min(len(a) for a in arrays.values())
    worst = 0.0
    updates = []
    cpu0 = time.process_time()
    for i in range(0, n, CHUNK):
        for name, a in arrays.items():
            t0 = time.perf_counter()
            gait.push(name, a[i : i + CHUNK])
            if gait.update_ is not None:
                worst = max(worst, time.perf_counter() - t0)
                updates.append(gait.update_)
    gait.finish()
    updates.append(gait.update_)
    return time.process_time() - cpu0, worst, updates


def rows(quick: bool = False) -> list[dict[str, Any]]:
    duration = 20.0 if quick else 60.0
    repeats = 1 if quick else 3
    sim = simulate_imu(
        ImuTruth(duration_s=duration, gct_balance_left_pct=51.5, placements=("foot", "sacrum")), seed=11
    )
    rec = sim.recording
    stream_s = len(rec.sensors[0].data) / 200.0
    cpu_live, cpu_off, worst = [], [], []
    updates: list[Any] = []
    offline = None
    for _ in range(repeats):  # interleaved: streaming, then the offline peer, each repeat
        c, w, updates = _stream(rec)
        cpu_live.append(c)
        worst.append(w)
        t0 = time.process_time()
        offline = analyze_recording(rec)
        cpu_off.append(time.process_time() - t0)
    assert offline is not None
    live_cpu = statistics.median(cpu_live)
    off_cpu = statistics.median(cpu_off)
    cpu_pct = 100.0 * live_cpu / stream_s
    lat = max(worst)
    live_ev = pd.concat([u.new_events for u in updates]).sort_values(["time_s", "event"], kind="stable")
    off_ev = offline.events
    ev_err = 0.0
    for side in ("left", "right"):
        for kind in ("IC", "TO"):
            a = live_ev[(live_ev["side"] == side) & (live_ev["event"] == kind)]["time_s"].to_numpy(float)
            b = off_ev[(off_ev["side"] == side) & (off_ev["event"] == kind)]["time_s"].to_numpy(float)
            ev_err = max(ev_err, float(np.max(np.abs(a - b))) if len(a) == len(b) and len(a) else math.inf)
    met_err = 0.0
    for u in updates:
        ref = window_metrics(off_ev, u.window_start_s, u.window_end_s)
        for name in LIVE_METRICS:
            if name == "step_time_symmetry_index_pct" or not math.isfinite(ref[name]) or ref[name] == 0:
                continue
            met_err = max(met_err, abs(u.metrics[name] - ref[name]) / abs(ref[name]))
    kin_err, n_kin = 0.0, 0
    st = offline.strides
    for u in updates:
        for name in LIVE_KINEMATICS["foot"] + LIVE_KINEMATICS["sacrum"]:
            col, _, side = name.rpartition("_rad_")
            col, sel = (name, st) if not col else (col + "_rad", st[st["side"] == side])
            v = sel[(sel["ic_s"] >= u.window_start_s) & (sel["next_ic_s"] <= u.window_end_s)][col].dropna()
            got = u.metrics.get(name, math.nan)
            if not len(v) or not math.isfinite(got):
                kin_err = kin_err if (not len(v)) == (not math.isfinite(got)) else math.inf
                continue
            want = float(np.median(v))
            kin_err = max(kin_err, abs(got - want) / abs(want))
            n_kin += 1
    return [
        {
            "figure": "CPU, 3 sensors at 200 Hz (% of one core)",
            "goal": "<= 5 %",
            "measured": round(cpu_pct, 2),
            "peer_ratio": round(live_cpu / off_cpu, 2),
            "met": cpu_pct <= 5.0,
        },
        {
            "figure": "latency, chunk arrival -> update (s)",
            "goal": "<= 0.5 s",
            "measured": round(lat, 4),
            "peer_ratio": round(lat / off_cpu, 3),
            "met": lat <= 0.5,
        },
        {
            "figure": "event times, streaming vs offline (max |diff|, ms)",
            "goal": "<= 5 ms",
            "measured": round(ev_err * 1000, 3),
            "peer_ratio": None,
            "met": ev_err <= 0.005,
        },
        {
            "figure": "window metrics, streaming vs offline (max rel diff, %)",
            "goal": "<= 1 %",
            "measured": round(100 * met_err, 4),
            "peer_ratio": None,
            "met": met_err <= 0.01,
        },
        {
            "figure": f"kinematics, streaming vs offline (max rel diff, %; {n_kin} values)",
            "goal": "<= 1 %",
            "measured": round(100 * kin_err, 4),
            "peer_ratio": None,
            "met": kin_err <= 0.01 and n_kin > 0,
        },
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="20 s recording, one repeat")
    args = ap.parse_args(argv)
    table = rows(quick=args.quick)
    print(f"{'figure':58} {'goal':>10} {'measured':>10} {'peer_ratio':>10}  met")
    for r in table:
        peer = "-" if r["peer_ratio"] is None else f"{r['peer_ratio']}"
        met = "met" if r["met"] else "NOT MET"
        print(f"{r['figure']:58} {r['goal']:>10} {r['measured']!s:>10} {peer:>10}  {met}")
    return 0 if all(r["met"] for r in table) else 1


if __name__ == "__main__":
    raise SystemExit(main())
