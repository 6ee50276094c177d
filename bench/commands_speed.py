"""Every read command and dashboard page on a 2,000-run store (issue 15, point 2): goal, figure, met.

    python bench/commands_speed.py                    # 2,000 runs, 5 interleaved rounds, 50 requests
    python bench/commands_speed.py --runs 200 --rounds 3 --requests 20     # a quicker look

1. **Store** (built once, then reused from ``--store``): a synthetic season of ``--runs`` runs written
   as FIT files by :mod:`stridelab.sim` (``simulate_season``, cached in ``--archive``) and imported with
   ``stridelab import --workers 2``; then, in-process through the services, a training plan with a few
   logged sessions, balance tests, an alternating-runs experiment with 24 tagged runs, and the warm-up:
   ``stridelab trend`` once (the first analysis of every run, cached in the store; not timed).
2. **Commands** (warm): each command is a fresh ``python -m stridelab ...`` process, timed from the
   outside (wall) with its CPU time (user + sys of the child). The commands run in interleaved rounds
   (``--rounds``; every command once per round, in turn) so that load from other processes affects all
   of them alike; the median is reported. The peer is ``python -c "import pandas"`` measured in the
   same rounds: what a command importing pandas would pay before any work; the ratio is of CPU times
   (user + sys), which a busy machine inflates less than wall times. The source tree is byte-compiled
   first (as an installed copy is), so no process pays for compiling it.
3. **Pages**: ``stridelab serve`` on 127.0.0.1 (its own process); once the server has analysed every run,
   each page is requested 3 times to warm it, then ``--requests`` times, the pages taking turns; p95 of
   the wall time per request. The peer is ``GET /api/status`` (the server's floor per request).

Goals: every command <= 0.5 s wall, ``--help`` <= 0.3 s, every page p95 <= 150 ms. Exit status 1
when a goal is not met. ``rows(quick)`` returns the same rows for ``bench/run_all.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

GOAL_COMMAND_S = 0.5
GOAL_HELP_S = 0.3
GOAL_PAGE_MS = 150.0
ATHLETE = "me"
EXPERIMENT = "push vs pull"
REPO = Path(__file__).resolve().parents[1]
DEFAULT_DIR = Path(tempfile.gettempdir()) / "stridelab-bench-commands"


def _env(src_dir: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "COLUMNS": "150"}
    src = str(src_dir or REPO / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "stridelab", *args], capture_output=True, text=True, env=_env(), check=False
    )
    if check and proc.returncode != 0:
        raise RuntimeError(f"stridelab {' '.join(args)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return proc


# ---------------------------------------------------------------------------------------------- store
def build_store(store_dir: Path, archive: Path, n_runs: int) -> dict[str, Any]:
    """Make sure ``store_dir`` holds ``n_runs`` imported runs, a plan, tests, an experiment, and every
    run analysed once; returns what the commands need (a run id, the store's last day)."""
    sys.path.insert(0, str(REPO / "src"))
    from stridelab.services import open_store

    store = open_store(store_dir)
    have = len(store.list_activities(ATHLETE))
    if have < n_runs:
        weeks = max(13, -(-n_runs // 7))
        fits = sorted(archive.glob("*.fit")) if archive.is_dir() else []
        if len(fits) < n_runs:
            from stridelab.sim import simulate_season

            print(f"  simulating {n_runs} runs into {archive} ...", flush=True)
            t0 = time.perf_counter()
            simulate_season(archive, n_runs=n_runs, weeks=weeks, seed=7)
            print(f"  simulated in {time.perf_counter() - t0:.0f} s", flush=True)
        print(f"  importing into {store_dir} ...", flush=True)
        t0 = time.perf_counter()
        _cli("import", str(archive), "--store", str(store_dir), "--json", "--workers", "2", check=False)
        print(f"  imported in {time.perf_counter() - t0:.0f} s", flush=True)
    rows = store.list_activities(ATHLETE)
    if len(rows) < n_runs:
        raise RuntimeError(f"{store_dir} holds {len(rows)} runs, fewer than {n_runs}")
    last_day = rows[-1].start_time.date()
    _prepare_training(store, rows, last_day)
    print("  warming the analysis cache (stridelab trend, once) ...", flush=True)
    t0 = time.perf_counter()
    _cli("trend", "--store", str(store_dir), "--json")
    print(f"  warm in {time.perf_counter() - t0:.0f} s", flush=True)
    store.close()
    return {"run_id": rows[len(rows) // 2].id, "today": last_day.isoformat()}


def _prepare_training(store: Any, rows: list[Any], today: date) -> None:
    from stridelab.services import experiments as exp_service
    from stridelab.services import training as training_service

    if training_service.active_plan(store, ATHLETE) is None:
        inputs = training_service.PlanInputs(start=today - timedelta(days=14), weeks=12, sessions_per_week=3)
        plan = training_service.tailored_plan(store, ATHLETE, inputs, today, use_runs=False)
        training_service.save_plan(store, ATHLETE, plan)
        for s in plan.sessions:
            if s.date < today:
                training_service.log_session(store, ATHLETE, s.date, "done", rpe=6, pain=1)
        for k in range(8):
            day = today - timedelta(days=7 * k)
            training_service.record_balance_test(store, ATHLETE, "left", 25 + k, "open", day)
            training_service.record_balance_test(store, ATHLETE, "right", 31 + k, "open", day)
    if not any(e.name == EXPERIMENT for e in exp_service.list_experiments(store, ATHLETE)):
        exp_service.create_experiment(
            store, ATHLETE, EXPERIMENT, "pull,push", "alternating-runs", seed=3, runs=24
        )
        for k, row in enumerate(rows[-24:]):
            exp_service.add_tags(store, ATHLETE, row.id, [("cue", "push" if k % 2 else "pull")])


# ---------------------------------------------------------------------------------------------- timing
def compile_bytecode(src_dir: Path | None = None) -> None:
    """Byte-compile a source tree as ``pip install`` does, so the timed processes load bytecode: with
    ``PYTHONDONTWRITEBYTECODE`` set (CI, some shells) a source checkout would otherwise be compiled
    again by every process (~0.3 s for the modules a command loads), which no installed copy pays."""
    import compileall

    compileall.compile_dir(str(src_dir or REPO / "src"), quiet=1)


def _timed(argv: list[str], src_dir: Path | None = None) -> tuple[float, float]:
    """Wall and CPU (user + sys) seconds of one child process (``src_dir``: the stridelab it runs)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env(src_dir), check=False
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[2:])} failed ({proc.returncode}): {proc.stderr[-1500:]!r}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def commands(store_dir: Path, info: dict[str, Any]) -> list[tuple[str, list[str], float]]:
    """(label, argv after ``python -m stridelab``, goal in s) of every timed command."""
    s = ["--store", str(store_dir)]
    day = ["--today", info["today"]]
    rid = info["run_id"][:12]
    return [
        ("stridelab --help", ["--help"], GOAL_HELP_S),
        ("stridelab --version", ["--version"], GOAL_HELP_S),
        ("runs", ["runs", *s], GOAL_COMMAND_S),
        ("runs --json", ["runs", "--json", *s], GOAL_COMMAND_S),
        ("show ID", ["show", rid, *s], GOAL_COMMAND_S),
        ("analyze ID", ["analyze", rid, *s], GOAL_COMMAND_S),
        ("trend", ["trend", *s], GOAL_COMMAND_S),
        ("baseline", ["baseline", *s], GOAL_COMMAND_S),
        ("load", ["load", *day, *s], GOAL_COMMAND_S),
        ("plan today", ["plan", "today", *day, *s], GOAL_COMMAND_S),
        ("experiment analyze NAME", ["experiment", "analyze", EXPERIMENT, *s], GOAL_COMMAND_S),
    ]


def time_commands(
    store_dir: Path, info: dict[str, Any], rounds: int
) -> tuple[dict[str, tuple[float, float, float, float]], tuple[float, float]]:
    """Median wall, median CPU, min and max wall per command label, and the peer's median wall and
    CPU."""
    cmds = commands(store_dir, info)
    peer = [sys.executable, "-c", "import pandas"]
    walls: dict[str, list[float]] = {label: [] for label, _, _ in cmds}
    cpus: dict[str, list[float]] = {label: [] for label, _, _ in cmds}
    peer_walls: list[float] = []
    peer_cpus: list[float] = []
    compile_bytecode()
    for _label, argv, _ in cmds:  # one untimed pass: file-system caches
        _timed([sys.executable, "-m", "stridelab", *argv])
    for r in range(rounds):
        for label, argv, _ in cmds if r % 2 == 0 else list(reversed(cmds)):
            if label == cmds[len(cmds) // 2][0]:  # the peer in the middle of each round
                wall, cpu = _timed(peer)
                peer_walls.append(wall)
                peer_cpus.append(cpu)
            wall, cpu = _timed([sys.executable, "-m", "stridelab", *argv])
            walls[label].append(wall)
            cpus[label].append(cpu)
    out = {
        label: (
            statistics.median(walls[label]),
            statistics.median(cpus[label]),
            min(walls[label]),
            max(walls[label]),
        )
        for label in walls
    }
    return out, (statistics.median(peer_walls), statistics.median(peer_cpus))


def compare(
    store_dir: Path,
    info: dict[str, Any],
    other_src: Path,
    other_store: Path,
    rounds: int,
    only: list[str] | None = None,
) -> list[tuple[str, float, float, float, float]]:
    """Each command of this tree and of ``other_src`` (e.g. main's ``src``, on its own copy of the
    store: an older schema may not open a newer store) in interleaved pairs, one untimed pair first:
    (label, median wall and CPU of this tree, median wall and CPU of the other). Prints each line as
    it comes; a command that fails in either tree is reported and skipped."""
    theirs = dict((label, argv) for label, argv, _ in commands(other_store, info))
    compile_bytecode()
    compile_bytecode(other_src)
    out = []
    for label, argv, _ in commands(store_dir, info):
        if only and label not in only:
            continue
        pairs = []
        try:
            for r in range(rounds + 1):
                a = _timed([sys.executable, "-m", "stridelab", *argv])
                b = _timed([sys.executable, "-m", "stridelab", *theirs[label]], other_src)
                if r % 2:  # alternate which side goes first
                    b = _timed([sys.executable, "-m", "stridelab", *theirs[label]], other_src)
                    a = _timed([sys.executable, "-m", "stridelab", *argv])
                if r > 0:
                    pairs.append((*a, *b))
        except RuntimeError as exc:
            print(f"{label:<40} failed: {str(exc)[:200]}", flush=True)
            continue
        w1, c1, w2, c2 = (statistics.median(c) for c in zip(*pairs, strict=True))
        print(f"{label:<40} {w1:9.2f} {c1:6.2f} {w2:10.2f} {c2:6.2f} {c1 / c2:8.2f}x", flush=True)
        out.append((label, w1, c1, w2, c2))
    return out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_ms(client: Any, url: str) -> float:
    """Wall milliseconds of one GET of ``url`` (``client``: an ``httpx.Client``); fails on an error status."""
    t0 = time.perf_counter()
    client.get(url).raise_for_status()
    return (time.perf_counter() - t0) * 1000.0


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """Stop ``stridelab serve`` as Ctrl-C does; kill it when it has not left after 15 s."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


def wait_ready(client: Any, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    """Wait until ``stridelab serve`` answers (``client``: an ``httpx.Client`` on it) with its runs
    analysed (also used by home_speed.py)."""
    import httpx

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            status = client.get("/api/status").json()
            if status["analysis_pending"] == 0 and status["runs"] > 0:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError("the server did not become ready")
        time.sleep(0.5)


def pages(info: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        ("page /", "/"),
        ("page /runs/ID", f"/runs/{info['run_id']}"),
        ("page /trends", "/trends"),
        ("page /plan", "/plan"),
    ]


#: a page slower than this per request is reported as timed out (NOT met) and not requested again,
#: so that one very slow page cannot hold the whole benchmark for hours
PAGE_TIMEOUT_S = 30.0


def time_pages(
    store_dir: Path, info: dict[str, Any], requests: int
) -> tuple[dict[str, list[float]], list[float]]:
    """Milliseconds per request of every page, and of the peer ``/api/status``; a page whose warm-up
    request takes longer than :data:`PAGE_TIMEOUT_S` gets no timings (an empty list)."""
    import httpx

    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "stridelab", "serve", "--port", str(port), "--store", str(store_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_env(),
    )
    timings: dict[str, list[float]] = {label: [] for label, _ in pages(info)}
    peer: list[float] = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120.0) as client:
            wait_ready(client, proc, 900.0)
            slow: set[str] = set()
            for _ in range(3):
                for label, url in pages(info):
                    if label in slow:
                        continue
                    try:
                        client.get(url, timeout=PAGE_TIMEOUT_S).raise_for_status()
                    except httpx.TimeoutException:
                        print(f"  {label}: no answer within {PAGE_TIMEOUT_S:g} s, not timed", flush=True)
                        slow.add(label)
            time.sleep(1.0)  # let the background warm-ups the pages started finish
            for _ in range(requests):
                for label, url in pages(info):
                    if label in slow:
                        continue
                    timings[label].append(get_ms(client, url))
                peer.append(get_ms(client, "/api/status"))
    finally:
        stop_server(proc)
    return timings, peer


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    k = 0.95 * (len(ordered) - 1)
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


# ---------------------------------------------------------------------------------------------- rows
def measure(
    *, n_runs: int, rounds: int, requests: int, store_dir: Path | None = None, archive: Path | None = None
) -> list[dict[str, Any]]:
    """Build (or reuse) the store, time the commands and pages; the ``rows()`` protocol's rows."""
    store_dir = store_dir or DEFAULT_DIR / f"store-{n_runs}"
    archive = archive or DEFAULT_DIR / f"archive-{n_runs}"
    print(f"commands_speed: store {store_dir} ({n_runs} runs)", flush=True)
    info = build_store(store_dir, archive, n_runs)
    cmd_times, (peer_s, peer_cpu) = time_commands(store_dir, info, rounds)
    out: list[dict[str, Any]] = []
    for label, _, goal in commands(store_dir, info):
        wall, cpu, lo, hi = cmd_times[label]
        out.append(
            {
                "figure": f"{label} ({n_runs} runs), wall s",
                "goal": f"<= {goal:g} s",
                "measured": f"{wall:.2f} s ({lo:.2f}-{hi:.2f}; cpu {cpu:.2f} s)",
                "peer_ratio": cpu / peer_cpu if peer_cpu > 0 else None,
                "peer": f"CPU of python -c 'import pandas' ({peer_cpu:.2f} s cpu, {peer_s:.2f} s wall)",
                "met": bool(wall <= goal),
            }
        )
    page_ms, peer_ms = time_pages(store_dir, info, requests)
    peer_p95 = _p95(peer_ms)
    for label, values in page_ms.items():
        if not values:
            out.append(
                {
                    "figure": f"{label} ({n_runs} runs), p95 ms",
                    "goal": f"<= {GOAL_PAGE_MS:g} ms",
                    "measured": f"> {PAGE_TIMEOUT_S:g} s per request (timed out)",
                    "peer_ratio": None,
                    "peer": f"GET /api/status p95 {peer_p95:.0f} ms",
                    "met": False,
                }
            )
            continue
        p95 = _p95(values)
        out.append(
            {
                "figure": f"{label} ({n_runs} runs), p95 ms",
                "goal": f"<= {GOAL_PAGE_MS:g} ms",
                "measured": f"{p95:.0f} ms (median {statistics.median(values):.0f}, n={len(values)})",
                "peer_ratio": p95 / peer_p95 if peer_p95 > 0 else None,
                "peer": f"GET /api/status p95 {peer_p95:.0f} ms",
                "met": bool(p95 <= GOAL_PAGE_MS),
            }
        )
    return out


def rows(quick: bool = False) -> list[dict[str, Any]]:
    """The ``bench/run_all.py`` protocol: quick = 200 runs, 3 rounds, 15 requests."""
    if quick:
        return measure(n_runs=200, rounds=3, requests=15)
    return measure(n_runs=2000, rounds=5, requests=50)


def print_rows(table: list[dict[str, Any]]) -> None:
    from run_all import format_table  # bench/ is this script's folder: the one table of bench/

    print("\n" + format_table([("commands_speed", table)]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--runs", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds of every command")
    ap.add_argument("--requests", type=int, default=50, help="requests per page")
    ap.add_argument("--store", type=Path, default=None, help="store dir (reused when it holds the runs)")
    ap.add_argument("--archive", type=Path, default=None, help="where the simulated FIT files are cached")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    ap.add_argument(
        "--compare",
        nargs=2,
        type=Path,
        metavar=("SRC", "STORE"),
        help="also time every command of another source tree (e.g. ../main/src) on its own store copy",
    )
    ap.add_argument("--commands", nargs="+", metavar="LABEL", help="--compare: only these command labels")
    args = ap.parse_args(argv)
    if args.compare:
        store_dir = args.store or DEFAULT_DIR / f"store-{args.runs}"
        info = build_store(store_dir, args.archive or DEFAULT_DIR / f"archive-{args.runs}", args.runs)
        print(f"\n{'command':<40} {'this wall':>9} {'cpu':>6} {'other wall':>10} {'cpu':>6} {'cpu ratio':>9}")
        compare(store_dir, info, args.compare[0], args.compare[1], args.rounds, args.commands)
        return 0
    table = measure(
        n_runs=args.runs,
        rounds=args.rounds,
        requests=args.requests,
        store_dir=args.store,
        archive=args.archive,
    )
    if args.json:
        print(json.dumps(table, indent=2))
    else:
        print_rows(table)
    return 0 if all(r["met"] for r in table) else 1


if __name__ == "__main__":
    raise SystemExit(main())
