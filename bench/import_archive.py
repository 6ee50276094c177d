"""End-to-end archive import: ``stridelab import`` of 2,000 synthetic one-hour runs on 2 cores.

    python bench/import_archive.py                    # 2,000 runs, 2 workers
    python bench/import_archive.py --runs 200         # a quicker look

1. Builds (once; cached in ``--archive``) a directory of synthetic one-hour runs written by
   :mod:`stridelab.sim` (distinct seeds, start times and run kinds, so every file is a distinct
   activity). Building the archive is not timed.
2. Runs ``python -m stridelab import ARCHIVE --store STORE --json --workers 2`` in a fresh store
   pinned to 2 CPU cores, timing it from the outside (wall clock) and sampling the summed resident
   memory of the whole process tree (the CLI and its worker processes) every 20 ms.
3. Runs the same import again (unchanged archive: everything must be skipped).

Goals (issue #3): first import <= 30 s, re-import <= 2 s, peak RSS <= 500 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

GOAL_IMPORT_S = 30.0
GOAL_REIMPORT_S = 2.0
GOAL_RSS_MB = 500.0
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


def run_import(archive: Path, store: Path, workers: int, cpus: set[int] | None) -> dict[str, Any]:
    """One ``stridelab import`` run: wall seconds, peak tree RSS, the CLI's JSON."""
    cmd = [sys.executable, "-m", "stridelab", "import", str(archive), "--store", str(store), "--json"]
    cmd += ["--workers", str(workers)]

    def pin() -> None:
        if cpus and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, cpus)

    peak = 0
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=pin)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_bytes(proc.pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    try:
        result = json.loads(out.decode())
    except ValueError:
        result = {"error": (out + err).decode(errors="replace")[-2000:]}
    return {"seconds": wall, "peak_rss_mb": peak / 1e6, "exit": proc.returncode, "result": result}


def main(argv: list[str] | None = None) -> int:
    """Build the archive, import it twice, print the figures against the goals."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=2, help="import worker processes (and CPU cores used)")
    ap.add_argument("--archive", type=Path, default=Path(tempfile.gettempdir()) / "stridelab-bench-archive")
    ap.add_argument("--store", type=Path, default=None, help="store directory (default: a fresh temp dir)")
    ap.add_argument("--jobs", type=int, default=2, help="processes used to build the archive")
    args = ap.parse_args(argv)

    n_files, n_bytes = build_archive(args.archive, args.runs, args.jobs)
    if n_files < args.runs:
        print(f"the archive holds only {n_files} runs", file=sys.stderr)
        return 2
    archive = args.archive
    if n_files > args.runs:  # a larger cached archive: import a sub-directory of links
        archive = args.archive / f"subset_{args.runs}"
        archive.mkdir(exist_ok=True)
        for f in sorted(args.archive.glob("run_*.fit"))[: args.runs]:
            if not (archive / f.name).exists():
                os.link(f, archive / f.name)
    avail = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    cpus = set(avail[: args.workers]) if avail else None
    tmp = Path(tempfile.mkdtemp(prefix="stridelab-bench-store-"))
    store = args.store or tmp / "store"
    try:
        cores = sorted(cpus or [])
        print(f"archive: {n_files} runs, {n_bytes / 1e6:.1f} MB; workers {args.workers}; cores {cores}")
        first = run_import(archive, store, args.workers, cpus)
        second = run_import(archive, store, args.workers, cpus)
    finally:
        if args.store is None:
            shutil.rmtree(tmp, ignore_errors=True)
    for label, r in (("import", first), ("re-import", second)):
        res = r["result"]
        counts = {k: res.get(k) for k in ("imported", "skipped", "ignored")} if "error" not in res else res
        failed = len(res.get("failed", [])) if isinstance(res.get("failed"), list) else res.get("failed")
        print(
            f"{label:10s} {r['seconds']:7.2f} s   peak RSS {r['peak_rss_mb']:7.1f} MB   exit {r['exit']}   "
            f"{counts} failed={failed}"
        )
    ok_counts = (
        first["result"].get("imported") == n_files
        and second["result"].get("skipped") == n_files
        and first["exit"] == second["exit"] == 0  # sound files only: no failure, no damage
    )
    peak = max(first["peak_rss_mb"], second["peak_rss_mb"])
    print("goals:")
    verdict = "met" if first["seconds"] <= GOAL_IMPORT_S else "NOT met"
    print(f"  import <= {GOAL_IMPORT_S:.0f} s: {first['seconds']:.2f} s -> {verdict}")
    print(
        f"  re-import <= {GOAL_REIMPORT_S:.0f} s: {second['seconds']:.2f} s -> "
        f"{'met' if second['seconds'] <= GOAL_REIMPORT_S else 'NOT met'}"
    )
    print(
        f"  peak RSS <= {GOAL_RSS_MB:.0f} MB: {peak:.1f} MB -> {'met' if peak <= GOAL_RSS_MB else 'NOT met'}"
    )
    print(f"  every run imported, then skipped, exit code 0: {'yes' if ok_counts else 'NO'}")
    return 0 if ok_counts else 1


if __name__ == "__main__":
    raise SystemExit(main())
