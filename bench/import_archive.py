"""End-to-end archive import: ``stridelab import`` of 2,000 synthetic one-hour runs on 2 cores.

    python bench/import_archive.py                    # 2,000 runs, 2 workers
    python bench/import_archive.py --runs 200         # a quicker look
    python bench/import_archive.py --compare-src ../main/src --repeat 2   # A/B against another tree

1. Builds (once; cached in ``--archive``) a directory of synthetic one-hour runs written by
   :mod:`stridelab.sim` (distinct seeds, start times and run kinds, so every file is a distinct
   activity). Building the archive is not timed.
2. Runs ``python -m stridelab import ARCHIVE --store STORE --json --workers 2`` in a fresh store
   pinned to 2 CPU cores, timing it from the outside (wall clock) and sampling the summed resident
   memory of the whole process tree (the CLI and its worker processes) every 20 ms.
3. Runs the same import again (unchanged archive: everything must be skipped).
4. Times the CLI's start-up (``python -m stridelab --version``, median of 5) so that the re-import's
   work can be stated beyond it.

With ``--compare-src DIR`` the same steps run with ``PYTHONPATH=DIR`` too (e.g. the main branch's
``src``), interleaved A/B/A/B over ``--repeat`` rounds, so that both see the same machine load; the
ratio of the medians is printed.

Goals (issue #15; #3 had 30 s / 2 s): first import <= 12 s, re-import <= 0.3 s beyond start-up,
start-up <= 0.3 s, peak RSS <= 500 MB. ``rows(quick)`` returns them for ``bench/run_all.py`` (quick:
200 runs against the goal scaled to 200 runs).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

GOAL_IMPORT_S = 12.0  # for 2,000 runs
GOAL_REIMPORT_S = 0.3  # beyond start-up
GOAL_STARTUP_S = 0.3
GOAL_RSS_MB = 500.0
GOAL_RUNS = 2000
SRC = Path(__file__).resolve().parents[1] / "src"
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _write_run(args: tuple[int, str]) -> int:
    """Simulate and write run ``i`` (in a worker process)."""
    i, out_dir = args
    from stridelab.sim import RUN_KINDS, RunTruth, simulate_run, write_fit

    kinds = [k for k in RUN_KINDS if k != "custom"]  # "custom" needs explicit segments
    truth = RunTruth(
        kind=kinds[i % len(kinds)],
        duration_s=3600.0,
        start_time=datetime(2024, 1, 1, 6, 0, tzinfo=UTC) + timedelta(hours=13 * i),
        balance_left_pct_at_ref=50.0 + (i % 11) * 0.2,
        serial_number=3_000_000_000 + i,
    )
    path = Path(out_dir) / f"run_{i:05d}.fit"
    write_fit(simulate_run(truth, seed=i), path, sidecar=False)
    return path.stat().st_size


def build_archive(archive: Path, runs: int, jobs: int) -> tuple[int, int]:
    """Make sure ``archive`` holds ``runs`` synthetic runs; returns (files, bytes)."""
    archive.mkdir(parents=True, exist_ok=True)
    missing = [i for i in range(runs) if not (archive / f"run_{i:05d}.fit").exists()]
    if missing:
        print(f"building the archive: {len(missing)} of {runs} runs to simulate in {archive} ...", flush=True)
        t0 = time.perf_counter()
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for _ in pool.map(_write_run, [(i, str(archive)) for i in missing], chunksize=16):
                pass
        print(f"  done in {time.perf_counter() - t0:.1f} s", flush=True)
    files = sorted(archive.glob("run_*.fit"))[:runs]
    return len(files), sum(f.stat().st_size for f in files)


def _tree_rss_bytes(root_pid: int) -> int:
    """Summed RSS of ``root_pid`` and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        pid, ppid = int(entry), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields[21]) * _PAGE
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def _env(src: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(src)
    return env


def startup_seconds(src: Path, cpus: set[int] | None, n: int = 5) -> float:
    """Median wall time of ``python -m stridelab --version`` (the CLI's start-up)."""
    return startup_figures(src, cpus, n)[0]


def startup_figures(src: Path, cpus: set[int] | None, n: int = 5) -> tuple[float, float]:
    """Median wall and CPU seconds of ``python -m stridelab --version`` (the CLI's start-up)."""

    def pin() -> None:
        if cpus and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, cpus)

    times, cpu = [], []
    for _ in range(n):
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "stridelab", "--version"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=_env(src),
            preexec_fn=pin,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        times.append(time.perf_counter() - t0)
        cpu.append(usage.ru_utime + usage.ru_stime)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError("python -m stridelab --version failed")
    return statistics.median(times), statistics.median(cpu)


def run_import(
    archive: Path, store: Path, workers: int, cpus: set[int] | None, src: Path = SRC
) -> dict[str, Any]:
    """One ``stridelab import`` run: wall seconds, peak tree RSS, the CLI's JSON."""
    cmd = [sys.executable, "-m", "stridelab", "import", str(archive), "--store", str(store), "--json"]
    cmd += ["--workers", str(workers)]

    def pin() -> None:
        if cpus and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, cpus)

    peak = 0
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=pin, env=_env(src)
    )
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_bytes(proc.pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    # read both pipes (threads: no pipe fills up), then reap with wait4: its rusage is the CPU time of
    # the CLI and of the worker processes it waited for (a load-independent figure beside the wall)
    chunks: dict[str, bytes] = {}

    def drain(name: str, pipe: Any) -> None:
        chunks[name] = pipe.read()

    readers = [
        threading.Thread(target=drain, args=(name, pipe))
        for name, pipe in (("out", proc.stdout), ("err", proc.stderr))
    ]
    for t in readers:
        t.start()
    for t in readers:
        t.join()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    out, err = chunks.get("out", b""), chunks.get("err", b"")
    try:
        result = json.loads(out.decode())
    except ValueError:
        result = {"error": (out + err).decode(errors="replace")[-2000:]}
    return {
        "seconds": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": peak / 1e6,
        "exit": proc.returncode,
        "result": result,
    }


def _archive_dir(archive: Path, runs: int, jobs: int) -> tuple[Path, int, int]:
    n_files, n_bytes = build_archive(archive, runs, jobs)
    if n_files < runs:
        raise SystemExit(f"the archive holds only {n_files} runs")
    if len(list(archive.glob("run_*.fit"))) > runs:  # a larger cached archive: a folder of links
        # beside the archive, never inside it (importing the archive would take the links too)
        sub = archive.parent / f"{archive.name}-subset_{runs}"
        sub.mkdir(exist_ok=True)
        for f in sorted(archive.glob("run_*.fit"))[:runs]:
            if not (sub / f.name).exists():
                os.link(f, sub / f.name)
        archive = sub
    return archive, n_files, n_bytes


def measure(
    archive: Path, n_files: int, workers: int, cpus: set[int] | None, src: Path, store: Path | None = None
) -> dict[str, Any]:
    """Import into a fresh store, re-import, time the start-up: the figures of one tree."""
    tmp = Path(tempfile.mkdtemp(prefix="stridelab-bench-store-"))
    target = store or tmp / "store"
    try:
        first = run_import(archive, target, workers, cpus, src)
        second = run_import(archive, target, workers, cpus, src)
    finally:
        if store is None:
            shutil.rmtree(tmp, ignore_errors=True)
    startup, startup_cpu = startup_figures(src, cpus)
    ok = (
        first["result"].get("imported") == n_files
        and second["result"].get("skipped") == n_files
        and first["exit"] == second["exit"] == 0  # sound files only: no failure, no damage
    )
    return {
        "import_cpu_s": first["cpu_s"],
        "reimport_cpu_s": second["cpu_s"],
        "import_s": first["seconds"],
        "reimport_s": second["seconds"],
        "reimport_work_s": second["result"].get("seconds"),
        "startup_s": startup,
        "startup_cpu_s": startup_cpu,
        "beyond_s": second["seconds"] - startup,
        # the same in CPU time (a figure the machine's load does not inflate as much)
        "beyond_cpu_s": second["cpu_s"] - startup_cpu,
        "peak_rss_mb": max(first["peak_rss_mb"], second["peak_rss_mb"]),
        "ok": ok,
        "first": first,
        "second": second,
    }


def goal_rows(m: dict[str, Any], runs: int) -> list[dict[str, Any]]:
    """The goal rows (import goal scaled to ``runs`` when not 2,000)."""
    goal_import = GOAL_IMPORT_S * runs / GOAL_RUNS
    scaled = "" if runs == GOAL_RUNS else f" (12 s scaled to {runs} runs)"
    return [
        {
            "figure": f"archive import, {runs} one-hour runs, 2 cores",
            "goal": f"<= {goal_import:.1f} s{scaled}",
            "measured": f"{m['import_s']:.2f} s wall, {m['import_cpu_s']:.1f} s CPU (2 cores: >= CPU/2)"
            + ("" if m["ok"] else " (counts or exit code wrong)"),
            "peer_ratio": None,
            "met": m["import_s"] <= goal_import and m["ok"],
        },
        {
            "figure": "re-import of the unchanged archive, beyond start-up",
            "goal": f"<= {GOAL_REIMPORT_S} s",
            "measured": f"{m['beyond_s']:.2f} s (wall {m['reimport_s']:.2f} s"
            f" - start-up {m['startup_s']:.2f} s;"
            f" CPU {m['reimport_cpu_s']:.2f} s - start-up CPU {m['startup_cpu_s']:.2f} s"
            f" = {m['beyond_cpu_s']:.2f} s; work inside the import {m['reimport_work_s']} s)",
            "peer_ratio": None,
            "met": m["beyond_s"] <= GOAL_REIMPORT_S,
        },
        {
            "figure": "CLI start-up (python -m stridelab --version, median of 5)",
            "goal": f"<= {GOAL_STARTUP_S} s",
            "measured": f"{m['startup_s']:.2f} s",
            "peer_ratio": None,
            "met": m["startup_s"] <= GOAL_STARTUP_S,
        },
        {
            "figure": "archive import peak RSS (CLI + workers)",
            "goal": f"<= {GOAL_RSS_MB:.0f} MB",
            "measured": f"{m['peak_rss_mb']:.0f} MB",
            "peer_ratio": None,
            "met": m["peak_rss_mb"] <= GOAL_RSS_MB,
        },
    ]


def _counts(run: dict[str, Any]) -> str:
    res = run["result"]
    if "error" in res:
        return f"exit {run['exit']}: {res['error'][-300:]}"
    failed = res.get("failed", [])
    return (
        f"exit {run['exit']} imported {res.get('imported')} skipped {res.get('skipped')} "
        f"failed {len(failed)} {failed[:2]} warnings {len(res.get('warnings', []))}"
    )


def _cpus(workers: int) -> set[int] | None:
    avail = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    return set(avail[:workers]) if avail else None


def rows(quick: bool = False) -> list[dict[str, Any]]:
    """Goal rows for ``bench/run_all.py`` (quick: 200 runs, goal scaled)."""
    runs = 200 if quick else GOAL_RUNS
    archive, _, _ = _archive_dir(Path(tempfile.gettempdir()) / "stridelab-bench-archive", runs, 2)
    return goal_rows(measure(archive, runs, 2, _cpus(2), SRC), runs)


def main(argv: list[str] | None = None) -> int:
    """Build the archive, import it twice, print the figures against the goals."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--runs", type=int, default=GOAL_RUNS)
    ap.add_argument("--workers", type=int, default=2, help="import worker processes (and CPU cores used)")
    ap.add_argument("--archive", type=Path, default=Path(tempfile.gettempdir()) / "stridelab-bench-archive")
    ap.add_argument("--store", type=Path, default=None, help="store directory (default: a fresh temp dir)")
    ap.add_argument("--jobs", type=int, default=2, help="processes used to build the archive")
    ap.add_argument("--compare-src", type=Path, default=None, help="another source tree, run A/B interleaved")
    ap.add_argument("--repeat", type=int, default=1, help="rounds (A/B pairs with --compare-src)")
    args = ap.parse_args(argv)

    archive, n_files, n_bytes = _archive_dir(args.archive, args.runs, args.jobs)
    if any(p.is_dir() for p in archive.iterdir()):
        print(f"{archive} holds folders (an old subset?): they would be imported too", file=sys.stderr)
        return 2
    cpus = _cpus(args.workers)
    print(
        f"archive: {n_files} runs, {n_bytes / 1e6:.1f} MB; workers {args.workers}; cores {sorted(cpus or [])}"
    )
    trees = [("this tree", SRC)] + ([("compare", args.compare_src.resolve())] if args.compare_src else [])
    results: dict[str, list[dict[str, Any]]] = {label: [] for label, _ in trees}
    for r in range(args.repeat):
        for label, src in trees if r % 2 == 0 else trees[::-1]:
            m = measure(archive, n_files, args.workers, cpus, src, args.store if len(trees) == 1 else None)
            results[label].append(m)
            print(
                f"[{label}] import {m['import_s']:7.2f} s (CPU {m['import_cpu_s']:.1f} s)"
                f"   re-import {m['reimport_s']:5.2f} s (CPU {m['reimport_cpu_s']:.2f} s)"
                f" (work {m['reimport_work_s']} s)   start-up {m['startup_s']:.2f} s"
                f"   peak RSS {m['peak_rss_mb']:6.0f} MB   counts/exit ok: {m['ok']}"
                + ("" if m["ok"] else f"  {_counts(m['first'])} then {_counts(m['second'])}"),
                flush=True,
            )
    ours = results["this tree"]
    med = {
        k: statistics.median(x[k] for x in ours) for k in ("import_s", "reimport_s", "startup_s", "beyond_s")
    }
    summary = {
        **med,
        "import_cpu_s": statistics.median(x["import_cpu_s"] for x in ours),
        "reimport_cpu_s": statistics.median(x["reimport_cpu_s"] for x in ours),
        "startup_cpu_s": statistics.median(x["startup_cpu_s"] for x in ours),
        "beyond_cpu_s": statistics.median(x["beyond_cpu_s"] for x in ours),
        "reimport_work_s": statistics.median(float(x["reimport_work_s"] or 0) for x in ours),
        "peak_rss_mb": max(x["peak_rss_mb"] for x in ours),
        "ok": all(x["ok"] for x in ours),
    }
    if args.compare_src:
        other = results["compare"]
        for k in ("import_s", "import_cpu_s", "reimport_s", "reimport_cpu_s"):
            a, b = statistics.median(x[k] for x in ours), statistics.median(x[k] for x in other)
            print(f"  {k}: compare tree {b:.2f} s / this tree {a:.2f} s = {b / a:.2f}x")
    print("goals (medians over rounds):")
    for row in goal_rows(summary, n_files):
        print(
            f"  {row['figure']}: goal {row['goal']}, measured {row['measured']} -> "
            f"{'met' if row['met'] else 'NOT met'}"
        )
    print(f"  every run imported, then skipped, exit code 0: {'yes' if summary['ok'] else 'NO'}")
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
