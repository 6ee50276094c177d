"""IMU pipeline speed (issue 15, point 1): one hour of three sensors (two feet + sacrum) at 200 Hz.

Usage::

    python bench/imu_speed.py [--quick] [--reps N]

Prints one table (figure, goal, measured, ratio to peer, met) and exits 1 when a goal is not met.
``rows(quick=False)`` returns the same rows as dicts (keys ``figure``, ``goal``, ``measured``,
``peer_ratio``, ``met``) for ``bench/run_all.py``.

**One core.** The goal is "on one core": :func:`measure_rows` pins the process to a single core
(``os.sched_setaffinity``, the highest-numbered core it may use; ``--core N`` picks another) and
limits the BLAS / OpenMP thread pools to one thread (``threadpoolctl``; ``OMP_NUM_THREADS``,
``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``, ``NUMBA_NUM_THREADS`` = 1 for the child processes of
the cold-start rows). Without this a BLAS call (a matrix-vector product over an hour of samples) may
run on two threads, and the process then shows more CPU than wall time. So the wall figure is the
time on one core (plus, on a shared machine, the wait for it: the load average is shown beside it),
and CPU ≤ wall. The previous affinity and pools are restored when the rows are measured.

Figures (medians of interleaved repeats; CPU = process time of this process, one core):

* **simulator** -- ``simulate_imu`` of 1 h × (left foot, right foot, sacrum), running; goal ≤ 5 s.
* **full analysis** -- ``analyze_recording`` of that hour: events, strides, steps, phases, foot strike,
  vertical oscillation, pelvic obliquity; goal ≤ 2 s wall on one core (CPU shown beside it: on a
  machine shared with other work the wall time is the CPU time plus waiting for a core).
* **vs the old pipeline** -- the code before issue 15 ran the ``ahrs`` filter five times per analysis;
  five ``ahrs`` sensor-hours, measured in the same run, are a lower bound of its cost: the ratio to the
  full analysis is a lower bound of the speed-up that a loaded machine cannot fool (both slow down
  together); goal ≥ 100×.
* **orientation** -- the compiled Madgwick filter against its peer, ``ahrs.filters.Madgwick`` (the same
  algorithm in pure Python), on the same sacrum data, interleaved, CPU time; the ratio is peer / ours.
  ``ahrs`` takes ~30 µs a sample (20 s for one sensor-hour), so the peer runs on the first 60 s (10 s
  with ``--quick``) and both figures are per sensor-hour (scaled); the largest quaternion difference on
  that stretch is shown too (the test suite proves the agreement on real data).
* **detection** -- foot (each) and sacrum (a sacrum-only hour, walking and running) event detection
  alone, for the 1.7 s / 36 s the issue measured before (no separate goal: part of the 2 s).
* **stages** (report only, CPU, the same 1 h × 3 recording; they add up to the full analysis): the
  orientations (Madgwick, three sensors side by side), foot event detection (both feet, each with its
  input check), the sacrum pass (input check, events and body frame, orientation given: the pelvis
  metrics need its frame), the foot-trajectory stage (ZUPT-aided RTS Kalman, foot tracks, spatial
  stride parameters and step widths of both feet), and the remainder (tables, phases, foot strike,
  bounce, pelvis: the full analysis minus the stages). "Analysis without the trajectory stage" is the
  full analysis minus the trajectory stage.
* **memory** -- peak memory allocated during the analysis (``tracemalloc``: numpy arrays and Python
  objects) over the raw samples' size (3 × 720,700 × 6 float64 = 104 MB); goal ≤ 10×.

* **cold start** (report only) -- the first analysis in a new process, timed from before
  ``import stridelab.gait``: once with the compiled kernels in numba's on-disk cache (every run on a
  machine after the first: import + loading the kernels), once with an empty cache (the very first run:
  every kernel compiled). Both in child processes on the same recording (``--quick``: 10 min).

Every other figure is a warm start: the kernels are compiled (and cached on disk) before timing, on a
recording long enough for every compiled path. The load average (1 min) is shown beside the wall times:
on a machine shared with other work the wall time is the CPU time plus the wait for a core.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

import stridelab
from stridelab.gait import SacrumEventDetection, analyze_recording
from stridelab.gait.events import FootEventDetection
from stridelab.gait.orientation import estimate_orientation, estimate_orientations, orientation_madgwick
from stridelab.gait.trajectory import ZuptRtsKalman, foot_track, step_widths, stride_spatial
from stridelab.io.imu import ImuRecording
from stridelab.sim.imu import ImuTruth, simulate_imu

HOUR_S = 3600.0
PLACEMENTS = ("foot", "sacrum")  # two feet + sacrum
ACC = ["acc_x", "acc_y", "acc_z"]
GYR = ["gyr_x", "gyr_y", "gyr_z"]


#: thread pools of the libraries the analysis uses, one thread each (child processes: environment)
ONE_THREAD_ENV = {
    name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
}


@contextlib.contextmanager
def one_core(core: int | None = None) -> Iterator[int | None]:
    """Run the body on one core: the process pinned to ``core`` (default: the highest-numbered core it
    may use) and the BLAS/OpenMP pools at one thread; both restored afterwards. Yields the core (None
    where the platform cannot pin)."""
    before = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    chosen = None
    if before is not None:
        chosen = core if core is not None else max(before)
        os.sched_setaffinity(0, {chosen})
    try:
        with threadpool_limits(limits=1):
            yield chosen
    finally:
        if before is not None:
            os.sched_setaffinity(0, before)


def _timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall s, CPU s, result) of one call."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w0, time.process_time() - c0, out


def _row(figure: str, goal: str, measured: str, peer_ratio: float | None, met: bool | None) -> dict[str, Any]:
    return {"figure": figure, "goal": goal, "measured": measured, "peer_ratio": peer_ratio, "met": met}


def _simulate(activity: str, placements: tuple[str, ...], seed: int) -> ImuRecording:
    truth = ImuTruth(
        activity=activity,  # type: ignore[arg-type]
        duration_s=HOUR_S,
        placements=placements,  # type: ignore[arg-type]
        cadence_spm=170.0 if activity == "running" else 110.0,
        contact_time_s=0.25 if activity == "running" else 0.7,
    )
    return simulate_imu(truth, seed=seed).recording


def _warm() -> None:
    """Compile (or load from the on-disk cache) every numba kernel: 5 minutes (60,000 samples a sensor)
    take every compiled path (the filters, norms and covariance are compiled from 50,000 values on)."""
    rec = simulate_imu(ImuTruth(duration_s=300.0, placements=("foot", "sacrum")), seed=1).recording
    analyze_recording(rec)
    big = np.random.default_rng(0).standard_normal((60_000, 3))
    estimate_orientation(big + np.array([0.0, 0.0, 9.81]), big, 200.0)


_COLD_CHILD = """
import pickle, sys, time
with open(sys.argv[1], "rb") as f:
    rec = pickle.load(f)
w0, c0 = time.perf_counter(), time.process_time()
from stridelab.gait import analyze_recording
analyze_recording(rec)
print(time.perf_counter() - w0, time.process_time() - c0)
"""


def _cold_first_call(rec: ImuRecording, *, empty_cache: bool) -> tuple[float, float]:
    """(wall s, CPU s) of ``import stridelab.gait`` + the first analysis of ``rec`` in a new process;
    ``empty_cache``: with numba's on-disk cache in an empty directory (every kernel compiled)."""
    env = dict(os.environ) | ONE_THREAD_ENV
    env["PYTHONPATH"] = os.pathsep.join([str(Path(stridelab.__file__).parents[1]), env.get("PYTHONPATH", "")])
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "rec.pkl"
        data.write_bytes(pickle.dumps(rec))
        if empty_cache:
            env["NUMBA_CACHE_DIR"] = str(Path(tmp) / "numba")
        out = subprocess.run(  # the child inherits this process's one-core affinity
            [sys.executable, "-c", _COLD_CHILD, str(data)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    wall, cpu = (float(v) for v in out.stdout.split()[-2:])
    return wall, cpu


def _load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def rows(quick: bool = False) -> list[dict[str, Any]]:
    """The ``bench/run_all.py`` protocol (default repeats)."""
    return measure_rows(quick=quick)


def measure_rows(
    quick: bool = False, reps: int | None = None, core: int | None = None
) -> list[dict[str, Any]]:
    """The benchmark rows (see the module docstring), measured on one core (:func:`one_core`)."""
    with one_core(core) as pinned:
        out = _measure(quick, reps or (1 if quick else 3))
    where = f"core {pinned}" if pinned is not None else "not pinned (no sched_setaffinity)"
    out.insert(
        0, _row("process pinned to one core, BLAS/OpenMP pools at 1 thread", "(setup)", where, None, None)
    )
    return out


def _trajectory_stage(rec: ImuRecording, feet: dict[str, FootEventDetection]) -> None:
    """The analysis' foot-trajectory stage alone, both feet: Kalman, foot track, spatial stride
    parameters, step widths (the public calls ``analyze_recording`` makes)."""
    tracks = {}
    for s in rec.sensors:
        det = feet.get(s.name)
        if det is None or s.side is None:
            continue
        kf = ZuptRtsKalman().estimate(s.data, sampling_rate_hz=s.sampling_rate_hz)
        axes = det.body_frame_.rotation
        tr = foot_track(
            s.side, kf.position_, kf.orientation_, kf.zupt_, s.sampling_rate_hz, det.ic_s_, det.to_s_, axes[0]
        )
        tracks[s.side] = tr
        stride_spatial(tr.prints, kf.position_, kf.orientation_, s.sampling_rate_hz, s.side, axes[1])
    step_widths(tracks["left"], tracks["right"])


def _stage_rows(rec: ImuRecording, reps: int, full_cpu: float) -> list[dict[str, Any]]:
    """Report-only rows: CPU of each stage of the full analysis of ``rec`` (medians of ``reps``)."""
    acc_gyr = [
        (s.data[ACC].to_numpy(float), s.data[GYR].to_numpy(float), s.sampling_rate_hz) for s in rec.sensors
    ]
    feet = {s.name: s for s in rec.sensors if s.placement == "foot"}
    sac = next(s for s in rec.sensors if s.placement == "sacrum")
    dets = {
        name: FootEventDetection().detect(s.data, sampling_rate_hz=s.sampling_rate_hz, side=s.side)
        for name, s in feet.items()
    }
    sac_orientation = estimate_orientation(*acc_gyr[rec.sensors.index(sac)])
    stages: dict[str, Callable[[], Any]] = {
        "orientations (Madgwick, 3 sensors side by side)": lambda: estimate_orientations(acc_gyr),
        "foot event detection, both feet (with input checks)": lambda: [
            FootEventDetection().detect(s.data, sampling_rate_hz=s.sampling_rate_hz, side=s.side)
            for s in feet.values()
        ],
        "sacrum pass (input check, events, body frame; orientation given)": lambda: (
            SacrumEventDetection().detect(
                sac.data, sampling_rate_hz=sac.sampling_rate_hz, orientation=sac_orientation
            )
        ),
        "foot-trajectory stage, two feet (Kalman, tracks, spatial, step width)": lambda: _trajectory_stage(
            rec, dets
        ),
    }
    cpu: dict[str, list[float]] = {k: [] for k in stages}
    for _ in range(reps):  # interleaved
        for name, fn in stages.items():
            cpu[name].append(_timed(fn)[1])
    med = {k: statistics.median(v) for k, v in cpu.items()}
    traj = med["foot-trajectory stage, two feet (Kalman, tracks, spatial, step width)"]
    out = [
        _row(
            f"stage: {name}, 1 h (CPU)",
            "(report)",
            f"{med[name]:.3f} s ({med[name] / full_cpu:.0%})",
            None,
            None,
        )
        for name in stages
    ]
    rest = full_cpu - sum(med.values())
    out.append(
        _row(
            "stage: remainder -- tables, phases, foot strike, bounce, pelvis (full minus stages, CPU)",
            "(report)",
            f"{rest:.3f} s ({rest / full_cpu:.0%})",
            None,
            None,
        )
    )
    out.append(
        _row(
            "IMU full analysis without the trajectory stage, 1 h × 3 (CPU, full minus trajectory)",
            "(report)",
            f"{full_cpu - traj:.2f} s",
            None,
            None,
        )
    )
    return out


def _measure(quick: bool, reps: int) -> list[dict[str, Any]]:
    _warm()
    out: list[dict[str, Any]] = []

    # --- simulator
    sim_runs = [_timed(lambda: _simulate("running", PLACEMENTS, 15)) for _ in range(reps)]
    rec: ImuRecording = sim_runs[-1][2]
    sim_wall = statistics.median(r[0] for r in sim_runs)
    sim_cpu = statistics.median(r[1] for r in sim_runs)
    n = len(rec.sensors[0].data)
    out.append(
        _row(
            "IMU simulator, 1 h × 3 sensors (wall; CPU)",
            "≤ 5 s",
            f"{sim_wall:.2f} s ({_load()}); {sim_cpu:.2f} s CPU",
            None,
            sim_wall <= 5.0,
        )
    )

    # --- orientation vs ahrs (interleaved, CPU, per sensor-hour)
    sac = next(s for s in rec.sensors if s.placement == "sacrum")
    acc = sac.data[ACC].to_numpy(float)
    gyr = sac.data[GYR].to_numpy(float)
    fs = sac.sampling_rate_hz
    k = int((10.0 if quick else 60.0) * fs)
    ours, peer = [], []
    q_ours = q_peer = np.zeros((0, 4))
    for _ in range(max(reps, 2)):
        _, c_peer, q_peer = _timed(lambda: orientation_madgwick(acc[:k], gyr[:k], fs))
        peer.append(c_peer * n / k)
        _, c_ours, o = _timed(lambda: estimate_orientation(acc, gyr, fs))
        ours.append(c_ours)
        q_ours = o.quaternions[:k]
    t_ours, t_peer = statistics.median(ours), statistics.median(peer)
    dq = float(np.abs(q_ours - q_peer).max())
    out.append(
        _row(
            "Madgwick orientation per sensor-hour, compiled vs ahrs (CPU)",
            "≥ 100× ahrs, same quaternions",
            f"{t_ours * 1000:.0f} ms vs {t_peer:.1f} s (max |Δq| {dq:.1e} over {k} samples)",
            t_peer / t_ours,
            t_peer / t_ours >= 100 and dq < 1e-9,
        )
    )
    out.append(
        _row(
            "orientation passes per analysis (sensors with a gyroscope)",
            "1 per sensor",
            "1 per sensor (shared Orientation)",
            None,
            True,
        )
    )

    # --- full analysis
    runs = []
    for _ in range(reps):
        load = os.getloadavg()[0]
        runs.append((*_timed(lambda: analyze_recording(rec)), load))
    wall = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    res = runs[-1][2]
    best = min(runs, key=lambda r: r[0])
    out.append(
        _row(
            f"IMU full analysis, 1 h × 3 sensors × 200 Hz ({len(res.events)} events) wall",
            "≤ 2 s",
            f"{wall:.2f} s (min {best[0]:.2f} at load {best[3]:.1f}; load {min(r[3] for r in runs):.1f}-"
            f"{max(r[3] for r in runs):.1f})",
            None,
            wall <= 2.0,
        )
    )
    out.append(_row("IMU full analysis, same, CPU (one core)", "≤ 2 s", f"{cpu:.2f} s", None, cpu <= 2.0))
    out += _stage_rows(rec, reps, cpu)
    # the pipeline before issue 15 ran the ahrs filter 5 times per analysis (3 metrics + the sacrum
    # detector), each over a whole sensor-hour: that alone is a lower bound of its cost, measured now
    old_orientation = 5 * t_peer
    out.append(
        _row(
            "IMU full analysis vs the old pipeline's 5 ahrs passes alone (CPU, same run)",
            "≥ 100× faster",
            f"{cpu:.2f} s vs ≥ {old_orientation:.0f} s",
            old_orientation / cpu,
            old_orientation / cpu >= 100,
        )
    )

    # --- detection alone
    feet = [s for s in rec.sensors if s.placement == "foot"]
    foot_cpu = statistics.median(
        _timed(lambda s=s: FootEventDetection().detect(s.data, sampling_rate_hz=fs, side=s.side))[1]
        for s in feet
        for _ in range(reps)
    )
    out.append(
        _row("foot event detection, 1 h, per foot (CPU)", "(was 1.7 s)", f"{foot_cpu:.2f} s", None, None)
    )
    for activity, seed in (("walking", 16), ("running", 17)):
        sac_rec = _simulate(activity, ("sacrum",), seed)
        s = sac_rec.sensors[0]
        c = statistics.median(
            _timed(lambda s=s: SacrumEventDetection().detect(s.data, sampling_rate_hz=fs))[1]
            for _ in range(reps)
        )
        out.append(
            _row(f"sacrum event detection, 1 h {activity} (CPU)", "(was 36 s)", f"{c:.2f} s", None, None)
        )

    # --- cold start: a new process, with the kernels in the on-disk cache, and with an empty cache
    cold_rec = rec
    if quick:  # a 10-minute recording: the compile cost is the same, the analysis shorter
        cold_rec = simulate_imu(ImuTruth(duration_s=600.0, placements=("foot", "sacrum")), seed=15).recording
    label = "1 h × 3 sensors" if not quick else "10 min × 3 sensors"
    for empty, what in (
        (False, "kernels in the on-disk cache"),
        (True, "empty cache: every kernel compiled"),
    ):
        c_wall, c_cpu = _cold_first_call(cold_rec, empty_cache=empty)
        out.append(
            _row(
                f"cold start: import + first analysis, {label}, {what}",
                "(report; warm figure above)",
                f"{c_wall:.2f} s wall ({_load()}); {c_cpu:.2f} s CPU",
                None,
                None,
            )
        )

    # --- memory
    raw = sum(s.data.to_numpy(float).nbytes for s in rec.sensors)
    tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    analyze_recording(rec)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    ratio = (peak - base) / raw
    out.append(
        _row(
            "peak memory of the analysis / raw samples",
            "≤ 10×",
            f"{(peak - base) / 1e6:.0f} MB / {raw / 1e6:.0f} MB = {ratio:.1f}×",
            None,
            ratio <= 10.0,
        )
    )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one repeat, 10 s of ahrs peer")
    ap.add_argument("--reps", type=int, default=None, help="repeats per figure (default 3; quick 1)")
    ap.add_argument(
        "--core", type=int, default=None, help="the core to pin to (default: the highest allowed)"
    )
    args = ap.parse_args(argv)
    table = measure_rows(quick=args.quick, reps=args.reps, core=args.core)
    from run_all import format_table  # bench/ is this script's folder: the one table of bench/

    print(format_table([("imu_speed", table)]))
    return 0 if all(r["met"] is not False for r in table) else 1


if __name__ == "__main__":
    sys.exit(main())
