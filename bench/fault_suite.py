"""The fault suite of issue 19: hostile inputs and hostile conditions, one table.

    python bench/fault_suite.py                       # full: 100,000 fuzzed FIT inputs, 20 kill trials
    python bench/fault_suite.py --quick               # the CI slice: 10,000 inputs, 2 kill trials
    python bench/fault_suite.py --fuzz 20000 --kills 4 --seed 3

Seeded and bounded. Each fault, and what must hold:

* **fuzz**: mutations of the real shared FIT files (truncate, overwrite bytes, splice two files, random
  header, insert/delete a chunk; ``bench/fuzz_fit.py``) read the way ``stridelab import`` reads them
  (:func:`stridelab.io.fit.read_activity` and the catalog summary; the full run also checks the lenient
  and strict decoders): anything raised other than the reader's documented errors
  (``FitDecodeError``, ``NotAnActivityError``) or the decoder's internal-error safety net is an
  *unhandled exception*. The quick slice draws from the files up to 4 kB (the CPU budget of the tests).
* **kill -9 during import**: ``stridelab import`` (2 decoder processes) of a folder of real files is
  killed at a seeded random moment -- every other trial its whole process group, the others its
  parent process alone (what the OOM killer does); then the folder is imported again. *Lost*: an
  activity of the folder missing after the re-import; *duplicated*: a catalog row more than the
  distinct activities; every row's stream must read back. Parent-only kills also time how long the
  orphaned workers and the resource tracker take to exit (goal: 2 s).
* **kill -9 during live recording**: ``stridelab live --source replay:FILE --json`` (a simulated
  left/right-foot run, replayed at 20×) is killed with SIGKILL at a seeded random moment after its first
  update; its journal (``<store>/live/*.jsonl``) is read back. *Lost*: a batch missing before the last
  one recorded (a hole in the journal's grid) or samples of the replayed file not journaled although an
  update already used them (the update's ``time_s``: the journal is fsync-ed before the engine sees a
  batch); *corrupt*: a journaled sample different from the file's; *unreadable*: a journal that does
  not read back.
* **disk full**: the store on a 1 MB tmpfs (``RLIMIT_FSIZE`` when mounting is not permitted);
  the import must fail file by file with "disk full", never with a traceback, and lose nothing
  stored; the same files then import into a store with room.
* **read-only store**: an import into a store the user cannot write (a non-root uid, or ``chmod``)
  fails with a one-line reason, no traceback, and the store is unchanged.
* **concurrent CLI + server writers**: a CLI import runs while files are uploaded to a live
  ``stridelab serve`` over the same store: every activity stored exactly once, no request failed.
* **peak RSS**: of the CLI imports above (their process trees) and of the server, against the budget.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _shared import shared_data
from fuzz_fit import check as full_check
from fuzz_fit import mutate
from stridelab.io import NotAnActivityError
from stridelab.io.fit import FitDecodeError, read_activity
from stridelab.io.fit._decoder import INTERNAL_ERROR
from stridelab.services.imports import import_paths
from stridelab.services.memory import DEFAULT_MEMORY_BUDGET_BYTES, MIB
from stridelab.store import Store
from stridelab.store.activities import activity_summary

DATA = Path(os.environ.get("STRIDELAB_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
BUDGET_MB = DEFAULT_MEMORY_BUDGET_BYTES // MIB
ORPHAN_GOAL_S = 2.0
#: launcher between this process and a measured one (Linux carries the forking process's RSS
#: high-water mark into the child's ``ru_maxrss``: the fork must come from a small process)
_LAUNCH = """
import os, subprocess, sys
p = subprocess.Popen(sys.argv[1:])
_, status, usage = os.wait4(p.pid, 0)
sys.stderr.write(f"\\nPEAK_KB={usage.ru_maxrss}\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def _env() -> dict[str, str]:
    src = str(Path(__file__).resolve().parents[1] / "src")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "stridelab", *args]


def _measured(cmd: list[str], **kwargs: Any) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run ``cmd`` under the launcher: its completed process and its tree's peak RSS (MB)."""
    proc = subprocess.run(
        [sys.executable, "-c", _LAUNCH, *cmd], capture_output=True, text=True, env=_env(), **kwargs
    )
    tail = proc.stderr.rsplit("PEAK_KB=", 1)
    peak = int(tail[1].split()[0]) / 1024 if len(tail) == 2 else 0.0
    return proc, peak


# ---------------------------------------------------------------------------------------------- fuzz
def _import_check(blob: bytes) -> str | None:
    """The import path only (the quick slice): documented errors or an activity and its summary."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            activity = read_activity(blob)
            json.dumps(activity_summary(activity), allow_nan=False, default=str)
        except (FitDecodeError, NotAnActivityError) as exc:
            if INTERNAL_ERROR in str(exc):
                return f"internal decoder error: {exc}"
            return None
        except Exception:
            return traceback.format_exc(limit=4)
    bad = [p for p in activity.problems if INTERNAL_ERROR in p]
    return f"lenient decoder used its safety net: {bad[0]}" if bad else None


def _fuzz_chunk(args: tuple[int, int, int, bool, int]) -> tuple[Counter[str], list[str], float]:
    """``count`` cases of chunk ``chunk`` (its own seeded generator: the result does not depend on how
    chunks are spread over processes)."""
    seed, chunk, count, quick, max_bytes = args
    paths = sorted(p for p in shared_data("fit").rglob("*") if p.suffix.lower() == ".fit")
    files = [p.read_bytes() for p in paths if p.stat().st_size <= max_bytes]
    rng = random.Random(f"{seed}:{chunk}")
    kinds: Counter[str] = Counter()
    failures: list[str] = []
    check = _import_check if quick else full_check
    t0 = time.process_time()
    for i in range(count):
        kind, blob = mutate(rng, files)
        kinds[kind] += 1
        err = check(blob)
        if err is not None:
            failures.append(f"chunk {chunk} case {i} ({kind}): {err.strip().splitlines()[-1]}")
    return kinds, failures, time.process_time() - t0


def fuzz(cases: int, seed: int, *, quick: bool, jobs: int = 1) -> dict[str, Any]:
    """Fuzz ``cases`` inputs in chunks of 5,000 (``jobs`` processes)."""
    max_bytes = 4_000 if quick else 20_000
    chunks = [
        (seed, k, min(5_000, cases - k * 5_000), quick, max_bytes) for k in range((cases + 4_999) // 5_000)
    ]
    if jobs > 1:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(jobs) as pool:
            parts = pool.map(_fuzz_chunk, chunks)
    else:
        parts = [_fuzz_chunk(c) for c in chunks]
    kinds: Counter[str] = Counter()
    failures: list[str] = []
    for k, f, _ in parts:
        kinds.update(k)
        failures.extend(f)
    n_files = sum(
        1 for p in (DATA / "fit").rglob("*") if p.suffix.lower() == ".fit" and p.stat().st_size <= max_bytes
    )
    return {
        "cases": cases,
        "corpus": n_files,
        "max_bytes": max_bytes,
        "unexpected": len(failures),
        "examples": failures[:5],
        "kinds": dict(kinds),
        "cpu_s": sum(t for _, _, t in parts),
    }


# ---------------------------------------------------------------------------------------------- kills
def _descendants(pid: int) -> set[int]:
    parent: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent[int(entry)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    out: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {c for c, p in parent.items() if p in frontier} - out
        out |= frontier
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def _stored(store_path: Path) -> tuple[int, set[str], int]:
    """(catalog rows, distinct ids, rows whose stream does not read back)."""
    store = Store.open(store_path)
    rows = store.list_activities("me", include_duplicates=True)
    unreadable = 0
    for row in rows:
        try:
            if len(store.records("me", row.id)) != row.n_records:
                unreadable += 1
        except Exception:
            unreadable += 1
    store.close()
    return len(rows), {r.id for r in rows}, unreadable


def _corpus(root: Path, n: int | None) -> tuple[Path, set[str]]:
    """A folder of real FIT files (the first ``n``) and the ids a clean import stores from it."""
    src = root / "archive"
    src.mkdir()
    files = sorted((DATA / "fit").rglob("*.fit"))
    for i, f in enumerate(files[:n] if n else files):
        shutil.copy(f, src / f"{i:03d}_{f.name}")
    result = import_paths(Store.open(root / "reference"), [src], workers=1)
    return src, {sha for _, sha in result.imported + result.skipped}


def kill_trials(n: int, seed: int, root: Path, *, quick: bool) -> dict[str, Any]:
    src, expected = _corpus(root, 40 if quick else None)
    rng = random.Random(seed)
    lost = duplicated = unreadable = orphans_late = 0
    orphan_s: list[float] = []
    for trial in range(n):
        store = root / f"kill{trial}"
        Store.open(store).close()
        proc = subprocess.Popen(
            _cli("import", str(src), "--json", "--store", str(store), "--workers", "2"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env=_env(),
        )
        parent_only = trial % 2 == 1
        family: set[int] = set()
        guard = time.monotonic() + 600.0  # a hang guard
        while time.monotonic() < guard and proc.poll() is None:  # until the decoder pool is up
            family |= _descendants(proc.pid)
            if sum("spawn_main" in _cmdline(p) for p in family) >= 2:
                break
            time.sleep(0.02)
        deadline = time.monotonic() + rng.uniform(0.0, 1.0 if quick else 4.0)
        while time.monotonic() < deadline and proc.poll() is None:
            family |= _descendants(proc.pid)
            time.sleep(0.02)
        if proc.poll() is None:
            family |= _descendants(proc.pid)
            if parent_only:
                proc.send_signal(signal.SIGKILL)
            else:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            t0 = time.monotonic()
            while any(_alive(p) for p in family) and time.monotonic() - t0 < 60:
                time.sleep(0.01)
            took = time.monotonic() - t0
            if parent_only and family:
                orphan_s.append(took)
                orphans_late += took > ORPHAN_GOAL_S
            for p in family:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p, signal.SIGKILL)
        else:
            proc.wait()
        import_paths(Store.open(store), [src], workers=1 if quick else 2)
        rows, ids, bad = _stored(store)
        lost += len(expected - ids)
        duplicated += rows - len(ids)
        unreadable += bad
    return {
        "trials": n,
        "lost": lost,
        "duplicated": duplicated,
        "unreadable": unreadable,
        "orphan_trials": len(orphan_s),
        "orphans_late": orphans_late,
        "orphan_exit_max_s": max(orphan_s, default=0.0),
    }


# ---------------------------------------------------------------------------------------------- live
def _live_file(root: Path) -> Path:
    from stridelab.sim.imu import ImuTruth, simulate_imu, write_table_with_sidecar

    truth = ImuTruth(duration_s=60, placements=("foot",), sampling_rate_hz=100.0)
    return write_table_with_sidecar(simulate_imu(truth, seed=4).recording, root / "live-run.csv")


def live_kill_trials(n: int, seed: int, root: Path) -> dict[str, Any]:
    """Kill ``stridelab live`` (replay source) with SIGKILL mid-session; read its journal back."""
    import numpy as np

    from stridelab.live import read_journal
    from stridelab.services.live import read_recording

    root.mkdir(parents=True, exist_ok=True)
    run = _live_file(root)
    ref = {
        s.name: s.data[[c for c in s.data.columns if c[:4] in ("acc_", "gyr_")]].to_numpy(float)
        for s in read_recording(run).sensors
    }
    rng = random.Random(seed)
    lost = corrupt = unreadable = killed = batches = 0
    for trial in range(n):
        store = root / f"live{trial}"
        proc = subprocess.Popen(
            _cli(
                "live",
                "--source",
                f"replay:{run}",
                "--speed",
                "20",
                "--json",
                "--no-save",
                "--store",
                str(store),
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
            env=_env(),
        )
        assert proc.stdout is not None
        last_update_s = 0.0
        guard = time.monotonic() + 600.0  # a hang guard
        for line in proc.stdout:  # until the first update: the session is live
            item = json.loads(line)
            if item.get("type") == "update":
                last_update_s = float(item["time_s"])
                break
            if time.monotonic() > guard:
                break
        deadline = time.monotonic() + rng.uniform(0.1, 1.5)
        seen: list[float] = []

        def _read(out: Any = proc.stdout, seen: list[float] = seen) -> None:
            for line in out:
                with contextlib.suppress(ValueError):
                    item = json.loads(line)
                    if item.get("type") == "update":
                        seen.append(float(item["time_s"]))

        import threading

        reader = threading.Thread(target=_read, daemon=True)
        reader.start()
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            killed += 1
        proc.wait()
        reader.join(10)
        proc.stdout.close()
        last_update_s = max([last_update_s, *seen])
        journals = sorted((store / "live").glob("*.jsonl"))
        try:
            j = read_journal(journals[0])
        except Exception:
            unreadable += 1
            continue
        batches += sum(1 for line in journals[0].read_text().splitlines() if '"kind":"batch"' in line)
        for name, data in j.data.items():
            ok = np.isfinite(data).all(axis=1)
            if not ok.all():  # a hole: a batch lost before the last one recorded
                lost += 1
            if len(data) < round(last_update_s * 100.0):
                lost += 1
            m = min(len(data), len(ref[name]))
            if not np.allclose(data[:m][ok[:m]], ref[name][:m][ok[:m]], atol=1e-5):
                corrupt += 1
    return {
        "trials": n,
        "killed": killed,
        "batches": batches,
        "lost": lost,
        "corrupt": corrupt,
        "unreadable": unreadable,
    }


# ---------------------------------------------------------------------------------------------- disk
@contextlib.contextmanager
def _small_fs(root: Path, size: str) -> Iterator[Path | None]:
    """A tiny tmpfs (None when mounting is not permitted here)."""
    mnt = root / "tinyfs"
    mnt.mkdir()
    ok = (
        os.geteuid() == 0
        and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)], capture_output=True
        ).returncode
        == 0
    )
    try:
        yield mnt if ok else None
    finally:
        if ok:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _limit_fsize() -> None:
    import resource

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, 40_000))


def disk_full(root: Path) -> dict[str, Any]:
    (root / "disk").mkdir()
    src, expected = _corpus(root / "disk", 30)
    with _small_fs(root, "1m") as mnt:
        how = "1 MB tmpfs" if mnt is not None else "RLIMIT_FSIZE 40 kB"
        store = (mnt if mnt is not None else root) / "store"
        Store.open(store).close()
        proc, peak = _measured(
            _cli("import", str(src), "--json", "--store", str(store), "--workers", "1"),
            preexec_fn=None if mnt is not None else _limit_fsize,
        )
        try:
            result = json.loads(proc.stdout)
        except json.JSONDecodeError:
            result = {}
        full = sum("disk full" in f["error"] for f in result.get("failed", []))
        crashed = "Traceback" in proc.stderr or not result
        rows, _, bad = _stored(store)
        kept = shutil.copytree(store, root / "disk" / "roomy")  # the same store on a disk with room
    import_paths(Store.open(kept), [src], workers=1)
    rows2, ids2, bad2 = _stored(kept)
    return {
        "how": how,
        "disk_full_failures": full,
        "unhandled": int(crashed),
        "lost": len(expected - ids2) + bad + bad2,
        "duplicated": rows2 - len(ids2),
        "peak_mb": peak,
        "stored_before_full": rows,
    }


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[str]:
    """``path`` made read-only for this process's children: a read-only bind mount when permitted
    (root ignores file modes), else ``chmod`` (an ordinary user)."""
    if (
        os.geteuid() == 0
        and subprocess.run(["mount", "--bind", str(path), str(path)], capture_output=True).returncode == 0
    ):
        try:
            subprocess.run(["mount", "-o", "remount,ro,bind", str(path)], check=True, capture_output=True)
            yield "read-only bind mount"
        finally:
            subprocess.run(["umount", "-l", str(path)], capture_output=True)
        return
    for p in [path, *path.rglob("*")]:
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        yield "chmod a-w"
    finally:
        for p in [path, *path.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)


def read_only(root: Path) -> dict[str, Any]:
    base = root / "ro"
    base.mkdir()
    src, _ = _corpus(base, 6)
    store = base / "store"
    files = sorted(src.iterdir())
    import_paths(Store.open(store), files[:3], workers=1)
    rows_before, _, _ = _stored(store)
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in store.rglob("*") if p.is_file()}
    with _read_only(store) as how:
        proc, peak = _measured(_cli("import", str(src), "--json", "--store", str(store)))
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in store.rglob("*") if p.is_file()}
    rows_after, _, bad = _stored(store)
    output = (proc.stderr.rsplit("PEAK_KB=", 1)[0].strip() + "\n" + proc.stdout.strip()).strip()
    message = output.splitlines()[-1:] if proc.returncode else []
    with contextlib.suppress(json.JSONDecodeError, KeyError, IndexError):
        message = [json.loads(proc.stdout)["failed"][0]["error"]]
    return {
        "how": how,
        "exit_code": proc.returncode,
        "unhandled": int("Traceback" in output),
        "changed": int(before != after or rows_after != rows_before) + bad,
        "message": message,
        "output": output,
        "peak_mb": peak,
    }


# ---------------------------------------------------------------------------------------------- concurrent
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _vmhwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def concurrent(root: Path, *, quick: bool) -> dict[str, Any]:
    import httpx

    from stridelab.sim import simulate_season

    base = root / "conc"
    cli_dir, web_dir = base / "cli", base / "web"
    simulate_season(cli_dir, n_runs=6 if quick else 20, seed=11)
    simulate_season(web_dir, n_runs=3 if quick else 10, seed=12)
    uploads = sorted(web_dir.glob("*.fit"))
    expected = len(list(cli_dir.glob("*.fit"))) + len(uploads)
    store = base / "store"
    Store.open(store).close()
    port = _free_port()
    server = subprocess.Popen(
        _cli("serve", "--port", str(port), "--store", str(store)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_env(),
    )
    errors: list[str] = []
    server_peak = 0.0
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600.0) as c:
            for _ in range(3000):
                try:
                    if c.get("/api/runs").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            token = c.get("/api/csrf").json()["csrf_token"]
            cli = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _LAUNCH,
                    *_cli("import", str(cli_dir), "--json", "--store", str(store)),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=_env(),
            )
            jobs = []
            for f in uploads:
                r = c.post(
                    "/api/import",
                    params={"filename": f.name},
                    content=f.read_bytes(),
                    headers={"X-CSRF-Token": token},
                )
                if r.status_code != 202:
                    errors.append(f"upload {f.name}: {r.status_code} {r.text[:100]}")
                else:
                    jobs.append(r.json()["id"])
            for job_id in jobs:
                while True:
                    job = c.get(f"/api/import/jobs/{job_id}").json()
                    if job["status"] in ("done", "failed"):
                        break
                    time.sleep(0.05)
                if job["status"] != "done" or job["result"]["failed"]:
                    errors.append(f"job {job_id}: {job}")
            _, err = cli.communicate()
            if cli.returncode != 0:
                errors.append(f"CLI import exit {cli.returncode}: {err[-300:]}")
            tail = err.rsplit("PEAK_KB=", 1)
            cli_peak = int(tail[1].split()[0]) / 1024 if len(tail) == 2 else 0.0
        server_peak = _vmhwm_mb(server.pid)
    finally:
        server.terminate()
        server.wait()
    rows, ids, bad = _stored(store)
    return {
        "expected": expected,
        "errors": len(errors),
        "error_examples": errors[:3],
        "lost": expected - len(ids) + bad,
        "duplicated": rows - len(ids),
        "cli_peak_mb": cli_peak,
        "server_peak_mb": server_peak,
    }


# ---------------------------------------------------------------------------------------------- table
def _row(figure: str, goal: str, measured: str, met: bool) -> dict[str, Any]:
    return {"figure": figure, "goal": goal, "measured": measured, "peer_ratio": None, "met": bool(met)}


def rows(
    quick: bool = False,
    *,
    fuzz_cases: int | None = None,
    kills: int | None = None,
    seed: int = 0,
    jobs: int = 1,
) -> list[dict[str, Any]]:
    """The suite's table (keys figure, goal, measured, peer_ratio, met) for bench/run_all.py."""
    n_fuzz = fuzz_cases if fuzz_cases is not None else (10_000 if quick else 100_000)
    n_kills = kills if kills is not None else (2 if quick else 20)
    out: list[dict[str, Any]] = []
    fz = fuzz(n_fuzz, seed, quick=quick, jobs=jobs)
    out.append(
        _row(
            f"fuzz: {fz['cases']:,} mutated FIT inputs from {fz['corpus']} real files "
            f"<= {fz['max_bytes'] // 1000} kB "
            f"({'import path' if quick else 'lenient, strict and import paths'}; {fz['cpu_s']:.0f} s CPU)",
            "0 unhandled exceptions",
            f"{fz['unexpected']} unhandled" + (f" e.g. {fz['examples'][0][:80]}" if fz["examples"] else ""),
            fz["unexpected"] == 0,
        )
    )
    with tempfile.TemporaryDirectory(prefix="stridelab-faults-") as tmp:
        root = Path(tmp)
        (root / "kills").mkdir()
        kt = kill_trials(n_kills, seed, root / "kills", quick=quick)
        out.append(
            _row(
                f"kill -9 during import: {kt['trials']} trials (process group / parent alone), re-imported",
                "0 lost, 0 duplicated",
                f"{kt['lost']} lost, {kt['duplicated']} duplicated, {kt['unreadable']} unreadable",
                kt["lost"] == kt["duplicated"] == kt["unreadable"] == 0,
            )
        )
        out.append(
            _row(
                f"orphans after killing the import's parent alone: {kt['orphan_trials']} trials",
                f"workers gone <= {ORPHAN_GOAL_S:.0f} s",
                f"max {kt['orphan_exit_max_s']:.2f} s, {kt['orphans_late']} late",
                kt["orphans_late"] == 0,
            )
        )
        lk = live_kill_trials(n_kills, seed, root / "live")
        out.append(
            _row(
                f"kill -9 during live recording (replay source): {lk['trials']} trials, "
                f"{lk['batches']} batches journaled, journal read back",
                "0 lost, 0 corrupt, 0 unreadable",
                f"{lk['lost']} lost, {lk['corrupt']} corrupt, {lk['unreadable']} unreadable",
                lk["lost"] == lk["corrupt"] == lk["unreadable"] == 0 and lk["killed"] == lk["trials"],
            )
        )
        dk = disk_full(root)
        out.append(
            _row(
                f"disk full ({dk['how']}): {dk['stored_before_full']} stored, "
                f"{dk['disk_full_failures']} refused 'disk full'; then imported with room",
                "0 unhandled, 0 lost, 0 duplicated",
                f"{dk['unhandled']} unhandled, {dk['lost']} lost, {dk['duplicated']} duplicated",
                dk["unhandled"] == dk["lost"] == dk["duplicated"] == 0 and dk["disk_full_failures"] > 0,
            )
        )
        ro = read_only(root)
        msg = ro["message"][0][:70] if ro["message"] else "(no message)"
        out.append(
            _row(
                f"read-only store ({ro['how']}): exit {ro['exit_code']}, {msg!r}",
                "clear error, store unchanged",
                f"{ro['unhandled']} unhandled, {ro['changed']} changed",
                ro["exit_code"] != 0 and ro["unhandled"] == 0 and ro["changed"] == 0,
            )
        )
        cc = concurrent(root, quick=quick)
        out.append(
            _row(
                f"concurrent CLI import + server uploads: {cc['expected']} activities",
                "0 errors, 0 lost, 0 duplicated",
                f"{cc['errors']} errors, {cc['lost']} lost, {cc['duplicated']} duplicated",
                cc["errors"] == cc["lost"] == cc["duplicated"] == 0,
            )
        )
        peak = max(dk["peak_mb"], ro["peak_mb"], cc["cli_peak_mb"], cc["server_peak_mb"])
        out.append(
            _row(
                "peak RSS of the suite's imports (CLI trees, server)",
                f"<= {BUDGET_MB} MB",
                f"{peak:.0f} MB",
                0 < peak <= BUDGET_MB,
            )
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--fuzz", type=int, default=None, help="fuzzed inputs (default 100,000; quick 10,000)")
    ap.add_argument("--kills", type=int, default=None, help="kill trials (default 20; quick 2)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=1, help="fuzzing processes")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    table = rows(args.quick, fuzz_cases=args.fuzz, kills=args.kills, seed=args.seed, jobs=args.jobs)
    from run_all import format_table  # bench/ is this script's folder: the one table of bench/

    print(format_table([("fault_suite", table)]))
    print(f"({time.perf_counter() - t0:.0f} s wall)")
    return 0 if all(r["met"] for r in table) else 1


if __name__ == "__main__":
    raise SystemExit(main())
