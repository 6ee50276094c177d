"""Scale figures (issue 18): batch planning of a 1,000,000-file manifest, the DuckDB cohort query over
200 athletes x 500 runs, and the archive through ``--cluster local:2`` against the process pool.

    python bench/scale.py            # full: 10^6 files, 200 x 500 runs, 2,000-run archive (cached)
    python bench/scale.py --quick    # 10^6 files, 50 x 100 runs, the 40-run archive

Each figure has a peer measured in the same run (interleaved repeats, medians):
* planning: generating the same simulated manifest without planning (the floor); memory: the
  tracemalloc peak of planning 10^5 and 10^6 entries (flat = ratio near 1);
* cohort: DuckDB over the summaries dataset vs loading the dataset into pandas and grouping;
* archive: ``scale_import(cluster="local:2")`` vs ``scale_import(cluster=None, workers=2)``
  (a ProcessPoolExecutor), each into a fresh store, wall time.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stridelab.scale import ManifestEntry, cohort, plan_batches, scale_import
from stridelab.store import Store
from stridelab.store.scale import write_summaries

sys.path.insert(0, str(Path(__file__).parent))


def _manifest(n: int, athletes: int = 200) -> Iterator[ManifestEntry]:
    for i in range(n):
        a = i % athletes
        yield ManifestEntry(
            f"/archive/a{a:03d}/run_{i:07d}.fit", 150_000 + (i * 7919) % 200_000, i, f"a{a:03d}"
        )


def _plan_seconds(n: int) -> tuple[float, int]:
    t0 = time.process_time()
    count = sum(1 for _ in plan_batches(_manifest(n)))
    return time.process_time() - t0, count


def _gen_seconds(n: int) -> float:
    t0 = time.process_time()
    for _ in _manifest(n):
        pass
    return time.process_time() - t0


def _plan_peak_bytes(n: int) -> int:
    tracemalloc.start()
    for _ in plan_batches(_manifest(n)):
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def planning_rows(n: int = 1_000_000, rounds: int = 3) -> list[dict[str, Any]]:
    plan, gen = [], []
    for _ in range(rounds):
        s, batches = _plan_seconds(n)
        plan.append(s)
        gen.append(_gen_seconds(n))
    p, g = statistics.median(plan), statistics.median(gen)
    small, large = _plan_peak_bytes(n // 10), _plan_peak_bytes(n)
    return [
        {
            "figure": f"plan {n:,} simulated files into {batches:,} batches, CPU s",
            "goal": "<= 10 s",
            "measured": f"{p:.2f} s (manifest alone {g:.2f} s)",
            "peer_ratio": p / g,
            "peer": "generating the manifest without planning",
            "met": p <= 10.0,
        },
        {
            "figure": f"planning memory peak, {n // 10:,} vs {n:,} files",
            "goal": "flat (<= 1.5x)",
            "measured": f"{small / 1e6:.1f} MB vs {large / 1e6:.1f} MB",
            "peer_ratio": large / small,
            "peer": "planning a manifest 10x smaller",
            "met": large <= 1.5 * small,
        },
    ]


def _write_cohort_dataset(root: Path, athletes: int, runs: int) -> None:
    rng = np.random.default_rng(18)
    t0 = pd.Timestamp("2024-01-01", tz="UTC")
    for a in range(athletes):
        days = np.sort(rng.uniform(0, 720, runs))
        speed = rng.uniform(2.5, 4.5, runs)
        bal = 50 + rng.normal(0, 1) + 0.5 * (speed - 3.3) + rng.normal(0, 0.4, runs)
        starts = (t0 + pd.to_timedelta(days, unit="D")).floor("us")
        rows = [
            {
                "run_id": f"{a:03d}-{i:04d}",
                "start_time": starts[i].to_pydatetime(),
                "speed_m_s_mean": float(speed[i]),
                "balance_left_pct_mean": float(bal[i]),
                "duration_s": 3600.0,
            }
            for i in range(runs)
        ]
        for year in sorted({r["start_time"].year for r in rows}):  # type: ignore[attr-defined]
            part = [r for r in rows if r["start_time"].year == year]  # type: ignore[attr-defined]
            write_summaries(root, f"a{a:03d}", year, part, "part-0.parquet")


def _pandas_cohort(root: Path) -> int:
    df = pd.read_parquet(root / "summaries")  # the peer: every run into pandas
    g = df.dropna(subset=["balance_left_pct_mean", "speed_m_s_mean"]).groupby("athlete", observed=True)
    out = g.apply(
        lambda d: np.polyfit(d["speed_m_s_mean"], d["balance_left_pct_mean"], 1)[0], include_groups=False
    )
    return len(out)


def _plans_store(path: Path, athletes: int) -> Store:
    """A store where every athlete has an active 8-week plan and a few logged sessions."""
    from datetime import date

    from stridelab.services.training import PlanInputs, build_plan, log_session, save_plan

    store = Store.open(path)
    plan = build_plan(PlanInputs(start=date(2025, 11, 3), weeks=8))
    for a in range(athletes):
        save_plan(store, f"a{a:03d}", plan, created_at="2025-11-03T06:00:00+00:00")
        for s in plan.sessions[: a % 6]:
            log_session(store, f"a{a:03d}", s.date, "done")
    return store


def cohort_rows(athletes: int, runs: int, rounds: int = 5) -> list[dict[str, Any]]:
    from datetime import date

    with tempfile.TemporaryDirectory(prefix="stridelab-bench-cohort-") as tmp:
        root = Path(tmp)
        _write_cohort_dataset(root, athletes, runs)
        store = _plans_store(root / "store", athletes)
        duck, with_plans, pandas_ = [], [], []
        for _ in range(rounds):
            t0 = time.perf_counter()
            n = len(cohort(root))
            duck.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            rows = cohort(root, store=store, today=date(2025, 12, 1))
            with_plans.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            _pandas_cohort(root)
            pandas_.append(time.perf_counter() - t0)
        assert n == athletes and all(r.adherence_pct is not None for r in rows)
        store.close()
    d, w, p = statistics.median(duck), statistics.median(with_plans), statistics.median(pandas_)
    return [
        {
            "figure": f"cohort query, {athletes} athletes x {runs} runs, wall s",
            "goal": "<= 1 s",
            "measured": f"{d:.3f} s (pandas load+group {p:.3f} s)",
            "peer_ratio": d / p,
            "peer": "pandas: read the dataset and group",
            "met": d <= 1.0,
        },
        {
            "figure": f"cohort with plan adherence ({athletes} plans), wall s",
            "goal": "<= 1 s",
            "measured": f"{w:.3f} s (pandas load+group {p:.3f} s)",
            "peer_ratio": w / p,
            "peer": "pandas: read the dataset and group",
            "met": w <= 1.0,
        },
    ]


def archive_rows(runs: int, rounds: int) -> list[dict[str, Any]]:
    from import_archive import build_archive  # bench/import_archive.py: the cached synthetic archive

    archive = Path(tempfile.gettempdir()) / "stridelab-bench-archive"
    n_files, _ = build_archive(archive, runs, 2)
    src = archive
    if n_files > runs or len(list(archive.glob("run_*.fit"))) > runs:
        src = Path(tempfile.mkdtemp(prefix="stridelab-bench-scale-src-"))
        for f in sorted(archive.glob("run_*.fit"))[:runs]:
            (src / f.name).symlink_to(f)
    times: dict[str, list[float]] = {"local:2": [], "pool": []}
    cpu: dict[str, list[float]] = {"local:2": [], "pool": []}
    order = (("local:2", "local:2"), ("pool", None))
    for r in range(rounds):
        for label, cluster in order if r % 2 == 0 else order[::-1]:  # ABBA: neither always first
            tmp = Path(tempfile.mkdtemp(prefix="stridelab-bench-scale-"))
            try:
                store = Store.open(tmp / "store")
                c0 = _cpu_with_children()
                t0 = time.perf_counter()
                result = scale_import(store, [src], cluster=cluster, workers=2, max_files=16)
                times[label].append(time.perf_counter() - t0)
                cpu[label].append(_cpu_with_children() - c0)  # the workers are reaped by now
                assert result.count("imported") == runs, result.to_json()
                store.close()
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    c, p = statistics.median(times["local:2"]), statistics.median(times["pool"])
    cc, pc = statistics.median(cpu["local:2"]), statistics.median(cpu["pool"])
    return [
        {
            "figure": f"archive of {runs} runs, --cluster local:2 vs process pool (2), wall s",
            "goal": "<= 1.15x",
            "measured": f"{c:.1f} s vs {p:.1f} s ({rounds} rounds, ABBA)",
            "peer_ratio": c / p,
            "peer": "the same batches on a ProcessPoolExecutor(2)",
            "met": c <= 1.15 * p,
        },
        {
            "figure": f"archive of {runs} runs, local:2 vs pool, CPU s (driver + workers)",
            "goal": "report",
            "measured": f"{cc:.1f} s vs {pc:.1f} s",
            "peer_ratio": cc / pc,
            "peer": "the same batches on a ProcessPoolExecutor(2)",
            "met": None,
        },
    ]


def _cpu_with_children() -> float:
    """CPU seconds of this process and its reaped children (pool and Dask worker processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def rows(quick: bool = False) -> list[dict[str, Any]]:
    """The ``bench/run_all.py`` protocol."""
    if quick:
        return [*planning_rows(1_000_000, 1), *cohort_rows(50, 100, 3), *archive_rows(40, 1)]
    return [*planning_rows(1_000_000, 3), *cohort_rows(200, 500, 5), *archive_rows(2000, 2)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", choices=("plan", "cohort", "archive"), default=None)
    ap.add_argument("--runs", type=int, default=None, help="archive runs (default 2000, quick 40)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.only == "plan":
        table = planning_rows(1_000_000, 1 if args.quick else 3)
    elif args.only == "cohort":
        table = cohort_rows(*((50, 100, 3) if args.quick else (200, 500, 5)))
    elif args.only == "archive":
        table = archive_rows(args.runs or (40 if args.quick else 2000), 1 if args.quick else 2)
    else:
        table = rows(args.quick)
    if args.json:
        print(json.dumps(table, indent=2))
    from run_all import format_table  # bench/run_all.py: the one printer

    print(format_table([("scale", table)]))
    return 0 if all(r["met"] is not False for r in table) else 1


if __name__ == "__main__":
    raise SystemExit(main())
