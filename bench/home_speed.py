"""How fast the home (``stridelab status``) is built, warm (issue 16): goal, figure, met.

    python bench/home_speed.py                 # 60-run demo store (+ the 2,000-run store if cached)
    python bench/home_speed.py --rounds 3      # fewer interleaved rounds

1. **Stores.** The 60-run demo season (``stridelab demo``, 13 weeks ending on a fixed day, built once
   under ``--dir`` and reused), and the 2,000-run store of ``bench/commands_speed.py`` when it is cached
   under ``/tmp/stridelab-bench-commands/store-2000`` (this script does not build it: ~1 h on 2 cores).
   Each store is warmed with one ``status`` (the per-run analyses are cached in the store).
2. **Figures** (interleaved rounds, medians):
   - ``status`` as a fresh ``python -m stridelab status --store S --today D`` process: wall seconds and
     the child's CPU (user + sys). Goal: <= 0.5 s wall, warm. Peer: ``python -c "import pandas"`` in
     the same rounds (the floor any command reading the store pays); the ratio is of CPU times.
   - ``services.home.home()`` in this process (the part of ``status`` that is not start-up; warm: the
     kept home): CPU seconds (``time.process_time``). Peer: ``services.runs.list_runs`` (the catalog
     read), same rounds. Report only: ``build_home()``, the cold home the first call after an import
     (or on a new day) pays.
   - the dashboard's home page ``/``: ``stridelab serve`` on 127.0.0.1 (its own process, the machine's
     date), once the background analysis is done and after 3 warm-up requests, ``--requests`` requests;
     p95 of the wall time. Goal: <= 150 ms. Peer: ``GET /api/status`` in the same loop.

Exit status 1 when a goal is not met. ``rows(quick)`` returns the rows for ``bench/run_all.py``.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from commands_speed import _env as bench_env  # the same bench helpers (bench/ is on sys.path)
from commands_speed import _free_port as free_port
from commands_speed import get_ms, stop_server, wait_ready

GOAL_STATUS_S = 0.5
GOAL_PAGE_MS = 150.0
ATHLETE = "me"
REPO = Path(__file__).resolve().parents[1]
DEFAULT_DIR = Path(tempfile.gettempdir()) / "stridelab-bench-home"
BIG_STORE = Path(tempfile.gettempdir()) / "stridelab-bench-commands" / "store-2000"
#: the demo season ends here (fixed, so every run of the bench measures the same store)
DEMO_END = date(2026, 11, 29)


def _timed(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + sys) seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=bench_env(), check=False
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[2:])} failed ({proc.returncode}): {proc.stderr[-1500:]!r}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def demo_store(base: Path) -> Path:
    """The 60-run demo store under ``base`` (built once)."""
    store = base / "demo-60"
    if not (store / "catalog.sqlite").exists():
        store.parent.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "stridelab",
                "demo",
                "--store",
                str(store),
                "--end-date",
                DEMO_END.isoformat(),
            ],
            capture_output=True,
            text=True,
            env=bench_env(),
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"stridelab demo failed: {proc.stderr[-1500:]}")
    return store


def _today_of(store: Path) -> str:
    sys.path.insert(0, str(REPO / "src"))
    from stridelab.services import open_store

    st = open_store(store)
    last = max(a.start_time for a in st.list_activities(ATHLETE))
    return (last.date()).isoformat()


def measure_store(label: str, store: Path, rounds: int) -> list[dict[str, Any]]:
    """The two rows (status process, home() in-process) of one store."""
    sys.path.insert(0, str(REPO / "src"))
    from stridelab.services import open_store
    from stridelab.services import runs as runs_service
    from stridelab.services.home import build_home, home

    today = _today_of(store)
    status = [sys.executable, "-m", "stridelab", "status", "--store", str(store), "--today", today]
    peer = [sys.executable, "-c", "import pandas"]
    _timed(status)  # warm: analyses cached, files in the page cache
    st = open_store(store)
    day = date.fromisoformat(today)
    home(st, ATHLETE, today=day)
    walls, cpus, peer_cpus, home_cpu, list_cpu, build_cpu = [], [], [], [], [], []
    for _ in range(rounds):  # interleaved: load from other processes hits all figures alike
        w, c = _timed(status)
        walls.append(w)
        cpus.append(c)
        peer_cpus.append(_timed(peer)[1])
        t0 = time.process_time()
        home(st, ATHLETE, today=day)
        home_cpu.append(time.process_time() - t0)
        t0 = time.process_time()
        runs_service.list_runs(st, ATHLETE)
        list_cpu.append(time.process_time() - t0)
        t0 = time.process_time()
        build_home(st, ATHLETE, today=day)  # what the first status after an import or a new day pays
        build_cpu.append(time.process_time() - t0)
    wall, cpu, pcpu = statistics.median(walls), statistics.median(cpus), statistics.median(peer_cpus)
    hc, lc, bc = statistics.median(home_cpu), statistics.median(list_cpu), statistics.median(build_cpu)
    return [
        {
            "figure": f"status, warm, {label}",
            "goal": f"<= {GOAL_STATUS_S} s",
            "measured": f"{wall:.2f} s wall, {cpu:.2f} s CPU (median of {rounds})",
            "peer": 'python -c "import pandas" (CPU)',
            "peer_ratio": round(cpu / pcpu, 2) if pcpu > 0 else None,
            "met": wall <= GOAL_STATUS_S,
        },
        {
            "figure": f"home() warm in-process, {label}",
            "goal": f"<= {GOAL_STATUS_S} s",
            "measured": f"{hc:.2f} s CPU (median of {rounds})",
            "peer": "services.runs.list_runs (CPU)",
            "peer_ratio": round(hc / lc, 1) if lc > 0 else None,
            "met": hc <= GOAL_STATUS_S,
        },
        {
            "figure": f"build_home() (cold home) in-process, {label}",
            "goal": "report only",
            "measured": f"{bc:.2f} s CPU (median of {rounds})",
            "peer": "services.runs.list_runs (CPU)",
            "peer_ratio": round(bc / lc, 1) if lc > 0 else None,
            "met": None,
        },
    ]


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    k = 0.95 * (len(ordered) - 1)
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def measure_page(label: str, store: Path, requests: int) -> dict[str, Any]:
    """p95 (ms) of ``GET /`` on a real ``stridelab serve`` of ``store``, peer ``GET /api/status``."""

    import httpx

    port = free_port()
    argv = [sys.executable, "-m", "stridelab", "serve", "--port", str(port), "--store", str(store)]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=bench_env())
    home_ms: list[float] = []
    peer_ms: list[float] = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300.0) as client:
            wait_ready(client, proc, 1800.0)
            for _ in range(3):
                client.get("/").raise_for_status()
            for _ in range(requests):
                home_ms.append(get_ms(client, "/"))
                peer_ms.append(get_ms(client, "/api/status"))
    finally:
        stop_server(proc)
    p95, peer = _p95(home_ms), _p95(peer_ms)
    return {
        "figure": f"page / p95, {label}",
        "goal": f"<= {GOAL_PAGE_MS:.0f} ms",
        "measured": f"{p95:.0f} ms (median {statistics.median(home_ms):.0f}, n={requests})",
        "peer": "GET /api/status (p95)",
        "peer_ratio": round(p95 / peer, 2) if peer > 0 else None,
        "met": p95 <= GOAL_PAGE_MS,
    }


def measure(
    rounds: int = 5, base: Path = DEFAULT_DIR, big: Path = BIG_STORE, requests: int = 40
) -> list[dict[str, Any]]:
    demo = demo_store(base)
    out = measure_store("60-run demo", demo, rounds)
    out.append(measure_page("60-run demo", demo, requests))
    if (big / "catalog.sqlite").exists():
        out += measure_store("2,000-run store", big, max(1, rounds // 2))
        out.append(measure_page("2,000-run store", big, requests))
    else:
        out.append(
            {
                "figure": "status, warm, 2,000-run store",
                "goal": f"<= {GOAL_STATUS_S} s",
                "measured": f"not measured: no cached store at {big} (bench/commands_speed.py builds it)",
                "peer": None,
                "peer_ratio": None,
                "met": False,
            }
        )
    return out


def rows(quick: bool = False) -> list[dict[str, Any]]:
    """The ``bench/run_all.py`` protocol: quick = 3 rounds (and the 2,000-run store only if cached)."""
    return measure(rounds=3 if quick else 7, requests=20 if quick else 40)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="where the demo store is cached")
    ap.add_argument("--big", type=Path, default=BIG_STORE, help="the 2,000-run store (used if present)")
    ap.add_argument("--requests", type=int, default=40, help="requests of / per store")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    table = measure(a.rounds, a.dir, a.big, a.requests)
    if a.json:
        print(json.dumps(table, indent=2))
    else:
        for r in table:
            ratio = f"{r['peer_ratio']}x" if r["peer_ratio"] is not None else "-"
            met = {True: "met", False: "NOT met", None: "report only"}[r["met"]]
            print(f"{r['figure']:<40} {r['goal']:>9}  {r['measured']:<48} {ratio:>7}  {met}")
    return 0 if all(r["met"] is not False for r in table) else 1


if __name__ == "__main__":
    sys.exit(main())
