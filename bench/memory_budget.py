"""Peak resident memory of ``stridelab import`` (CLI) and of the dashboard's upload import against the
600 MB budget of issue 19, on amplified FIT files up to 256 MB.

    python bench/memory_budget.py            # full: amplified files of 8 ... 256 MB (a few minutes)
    python bench/memory_budget.py --quick    # 4 and 40 MB files only

The files are valid FIT activities made by the project's FIT writer (:func:`stridelab.sim.amplified_fit`:
a simulated run's records repeated): plain, in a zip (deflated: the "0.97 MB zip holding a 126 MB FIT"
of the issue) and gzip-compressed. Each CLI case is one fresh ``python -m stridelab import`` process;
its peak RSS is the ``ru_maxrss`` that ``wait4`` reports for it (its pool workers included: the max
over the process tree). The server cases upload to a real ``stridelab serve`` on 127.0.0.1 and read
the peak RSS (``VmHWM``) of the server process and of its import worker.

Peer: the same 126 MB zip imported with the budget lifted (``--max-memory 8192``: what main did before
the budget), measured in the same run; ``peer_ratio`` = budgeted peak / unbudgeted peak.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx

from stridelab.services.memory import DEFAULT_MEMORY_BUDGET_BYTES, MIB
from stridelab.sim import amplified_fit

BUDGET_MB = DEFAULT_MEMORY_BUDGET_BYTES // MIB


#: a tiny launcher between this (large) process and the measured one: Linux carries the RSS high-water
#: mark of the forking process into its child's ``ru_maxrss``, so the CLI must be forked by a small one
_LAUNCH = """
import os, subprocess, sys
p = subprocess.Popen(sys.argv[1:])
_, status, usage = os.wait4(p.pid, 0)
sys.stderr.write(f"\\nPEAK_KB={usage.ru_maxrss}\\n")
"""


def _cli_peak(store: Path, path: Path, *extra: str) -> tuple[float, dict[str, Any]]:
    """Peak RSS (MB) of one ``stridelab import`` process tree, and its JSON result."""
    cmd = [sys.executable, "-m", "stridelab", "import", str(path), "--json", "--store", str(store), *extra]
    proc = subprocess.run([sys.executable, "-c", _LAUNCH, *cmd], capture_output=True, text=True)
    peak_kb = int(proc.stderr.rsplit("PEAK_KB=", 1)[1].split()[0])
    try:
        result = json.loads(proc.stdout)
    except json.JSONDecodeError:
        result = {"error": proc.stdout[-300:] + proc.stderr[-300:]}
    return peak_kb / 1024, result


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
                out.append(int(entry))
    return out


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_case(store: Path, path: Path) -> tuple[float, float, dict[str, Any]]:
    """Upload ``path`` to a fresh server: (server peak MB, import worker peak MB, job)."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "stridelab", "serve", "--port", str(port), "--store", str(store)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker_peak_kb = 0
    try:
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, timeout=600.0) as c:
            for _ in range(600):
                try:
                    if c.get("/api/runs").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            token = c.get("/api/csrf").json()["csrf_token"]
            with path.open("rb") as fh:
                r = c.post(
                    "/api/import",
                    params={"filename": path.name},
                    content=fh.read(),
                    headers={"X-CSRF-Token": token},
                )
            job: dict[str, Any] = r.json()
            if r.status_code == 202:
                while job.get("status") not in ("done", "failed"):
                    for child in _children(server.pid):
                        worker_peak_kb = max(worker_peak_kb, _status_kb(child, "VmHWM"))
                    time.sleep(0.02)
                    job = c.get(f"/api/import/jobs/{job['id']}").json()
        server_peak_kb = _status_kb(server.pid, "VmHWM")
    finally:
        server.terminate()
        server.wait()
    return server_peak_kb / 1024, worker_peak_kb / 1024, job


def _outcome(result: dict[str, Any]) -> str:
    if result.get("imported"):
        return "imported"
    failed = result.get("failed") or []
    if failed:
        return "refused: " + ("memory budget" if "memory" in failed[0]["error"] else failed[0]["error"][:40])
    return json.dumps(result)[:60]


def rows(quick: bool = False) -> list[dict[str, Any]]:
    """One row per case: figure, goal, measured, peer_ratio, met (for bench/run_all.py)."""
    sizes = [4, 32] if quick else [8, 16, 28, 64, 126, 256]
    out: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="stridelab-membench-") as tmp:
        root = Path(tmp)
        files: list[tuple[str, Path]] = []
        for mb in sizes:
            blob = amplified_fit(mb * MIB)
            plain = root / f"amp{mb}.fit"
            plain.write_bytes(blob)
            files.append((f"{mb} MB FIT", plain))
            if mb in (32, 126):
                zipped = root / f"amp{mb}.zip"
                with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
                    zf.writestr(f"amp{mb}.fit", blob)
                ratio = len(blob) / zipped.stat().st_size
                files.append(
                    (f"{mb} MB FIT in a {zipped.stat().st_size / MIB:.2f} MB zip ({ratio:.0f}:1)", zipped)
                )
            if mb in (32, 256):
                gz = root / f"amp{mb}.fit.gz"
                gz.write_bytes(gzip.compress(blob, compresslevel=6))
                files.append((f"{mb} MB FIT as a {gz.stat().st_size / MIB:.1f} MB .fit.gz", gz))
            del blob
        peer_case = files[-1] if quick else next(f for f in files if "126 MB FIT in" in f[0])
        for i, (label, path) in enumerate(files):
            peak, result = _cli_peak(root / f"s{i}", path)
            out.append(
                {
                    "figure": f"CLI import peak RSS, {label} -> {_outcome(result)}",
                    "goal": f"<= {BUDGET_MB} MB",
                    "measured": f"{peak:.0f} MB",
                    "peer_ratio": None,
                    "met": peak <= BUDGET_MB,
                    "_peak": peak,
                    "_label": label,
                }
            )
        peer_peak, peer_result = _cli_peak(root / "peer", peer_case[1], "--max-memory", "8192")
        for row in out:
            if row["_label"] == peer_case[0]:
                row["peer_ratio"] = round(row["_peak"] / peer_peak, 3)
        out.append(
            {
                "figure": f"peer: CLI import without a budget (--max-memory 8192), {peer_case[0]} -> "
                f"{_outcome(peer_result)}",
                "goal": "(reference: what main did)",
                "measured": f"{peer_peak:.0f} MB",
                "peer_ratio": None,
                "met": True,
            }
        )
        server_cases = [files[0], peer_case]
        for j, (label, path) in enumerate(server_cases):
            server_peak, worker_peak, job = _server_case(root / f"web{j}", path)
            result = job.get("result") or {"error": job.get("error") or job.get("detail")}
            out.append(
                {
                    "figure": f"server upload: server process peak RSS, {label} -> {_outcome(result)}",
                    "goal": f"<= {BUDGET_MB} MB",
                    "measured": f"{server_peak:.0f} MB",
                    "peer_ratio": None,
                    "met": server_peak <= BUDGET_MB,
                }
            )
            out.append(
                {
                    "figure": f"server upload: import worker peak RSS, {label}",
                    "goal": f"<= {BUDGET_MB} MB",
                    "measured": f"{worker_peak:.0f} MB",
                    "peer_ratio": None,
                    "met": worker_peak <= BUDGET_MB,
                }
            )
    for row in out:
        row.pop("_peak", None)
        row.pop("_label", None)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    table = rows(quick=args.quick)
    from run_all import format_table  # bench/ is this script's folder: the one table of bench/

    print(format_table([("memory_budget", table)]))
    print(f"({time.perf_counter() - t0:.0f} s)")
    return 0 if all(r["met"] for r in table) else 1


if __name__ == "__main__":
    raise SystemExit(main())
