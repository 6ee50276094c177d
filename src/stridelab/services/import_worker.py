"""An import in a child process with a memory limit: how the dashboard imports an upload.

A long-running server must never decode a hostile file in its own process (a 1 MB zip holding a
126 MB FIT file once drove the dashboard from 290 MB to 2.1 GB). :func:`import_in_worker` runs
:func:`stridelab.services.imports.import_paths` in a fresh (spawned) child that

* applies the import's memory budget to every file before decoding it (a file that would not fit is
  refused with its reason, like the CLI does: :mod:`stridelab.services.memory`);
* is watched by the caller, which samples the child's resident memory (``/proc/PID/status``) every
  :data:`SAMPLE_PERIOD_S` and kills it the moment it exceeds ``memory_limit`` (the backstop for an
  estimate that was wrong): the file is then reported as failed with the limit, and nothing half-done
  is stored (the stream writes are atomic, the catalog rows are one transaction per batch);
* dies with its parent (:func:`stridelab.procs.follow_parent`).

``RLIMIT_AS`` is not used: NumPy, pyarrow and DuckDB reserve far more address space than they touch
(1.7 GB of address space for 300 MB resident), so a limit on it fails imports that fit in memory.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Final

from stridelab.procs import children_follow, follow_parent
from stridelab.services.imports import ImportResult, ProgressFn, import_paths
from stridelab.services.memory import DEFAULT_MEMORY_BUDGET_BYTES, MIB, check_budget, peak_rss_bytes
from stridelab.store import Store

__all__ = ["SAMPLE_PERIOD_S", "WorkerImport", "import_in_worker", "resident_bytes"]

#: how often the parent samples the child's resident memory
SAMPLE_PERIOD_S: Final[float] = 0.02

#: the child's own watchdog samples its resident memory this often and exits with
#: :data:`OVER_LIMIT_EXIT_CODE` above the limit (it runs whenever the child runs: on a loaded machine
#: the parent's sampling alone can be descheduled while the child allocates)
CHILD_SAMPLE_PERIOD_S: Final[float] = 0.005
OVER_LIMIT_EXIT_CODE: Final[int] = 86


@dataclass(frozen=True, slots=True)
class WorkerImport:
    """What the child did: the import's result, its pid and its peak resident memory (bytes; the
    child's own ``ru_maxrss`` when it finished, else the largest sample the parent took)."""

    result: ImportResult
    pid: int
    peak_rss_bytes: int
    killed: bool = False


def resident_bytes(pid: int) -> int | None:
    """Resident memory of process ``pid`` (Linux ``/proc``), None when unknown or gone."""
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _child(
    conn: Connection,
    parent_pid: int,
    store_root: str,
    paths: list[str],
    athlete: str,
    relabel: tuple[str, str] | None,
    memory_budget: int,
    keep_duplicates: bool,
    memory_limit: int,
) -> None:
    follow_parent(parent_pid)

    def watch() -> None:
        me = os.getpid()
        while True:
            rss = resident_bytes(me)
            if rss is not None and rss > memory_limit:
                os._exit(OVER_LIMIT_EXIT_CODE)  # nothing half-written stays: every write is atomic
            time.sleep(CHILD_SAMPLE_PERIOD_S)

    threading.Thread(target=watch, name="stridelab-memory-watchdog", daemon=True).start()

    def progress(done: int, total: int, path: str) -> None:
        conn.send(("progress", done, total, path))

    try:
        result = import_paths(
            Store.open(store_root),
            paths,
            athlete=athlete,
            workers=1,
            progress=progress,
            relabel=relabel,
            keep_duplicates=keep_duplicates,
            memory_budget=memory_budget,
        )
    except Exception as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    else:
        conn.send(("done", result, peak_rss_bytes()))
    finally:
        conn.close()


def import_in_worker(
    store: Store,
    paths: Sequence[Path | str],
    *,
    athlete: str = "me",
    progress: ProgressFn | None = None,
    relabel: tuple[str, str] | None = None,
    memory_limit: int = DEFAULT_MEMORY_BUDGET_BYTES,
    keep_duplicates: bool = False,
    decode_budget: int | None = None,
) -> WorkerImport:
    """Import ``paths`` into ``store`` in a child process limited to ``memory_limit`` resident bytes.

    ``decode_budget`` (default ``memory_limit``) is the budget the child checks each file against
    before decoding it; the limit is enforced on the child whatever the estimates say.
    The other arguments are those of :func:`~stridelab.services.imports.import_paths` (one decoder: the
    child). When the child is killed for exceeding the limit, or dies, every path is reported as
    failed with the reason; what the child committed before stays (atomic writes).
    Raises ValueError for a limit below :data:`~stridelab.services.memory.MIN_MEMORY_BUDGET_BYTES`
    and whatever ``import_paths`` raises before reading anything (an invalid athlete name).
    """
    check_budget(memory_limit, "the 'memory_limit' parameter")
    budget = (
        memory_limit
        if decode_budget is None
        else check_budget(decode_budget, "the 'decode_budget' parameter")
    )
    ctx = mp.get_context("spawn")
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=_child,
        args=(
            sender,
            os.getpid(),
            str(store.root),
            [str(p) for p in paths],
            athlete,
            relabel,
            budget,
            keep_duplicates,
            memory_limit,
        ),
        name="stridelab-import-worker",
    )
    with children_follow():
        proc.start()
    sender.close()
    assert proc.pid is not None
    peak = 0
    outcome: tuple[object, ...] | None = None
    killed = False
    try:
        while outcome is None:
            rss = resident_bytes(proc.pid)
            if rss is not None:
                peak = max(peak, rss)
                if rss > memory_limit:
                    proc.kill()
                    killed = True
                    break
            if receiver.poll(SAMPLE_PERIOD_S):
                try:
                    msg = receiver.recv()
                except EOFError:  # died without a word
                    break
                if msg[0] == "progress":
                    if progress is not None:
                        progress(msg[1], msg[2], msg[3])
                else:
                    outcome = msg
            elif not proc.is_alive() and not receiver.poll(0):
                break
    finally:
        receiver.close()
        proc.join(timeout=10.0)
        if proc.is_alive():
            proc.kill()
            proc.join()
    if outcome is not None and outcome[0] == "done":
        result = outcome[1]
        assert isinstance(result, ImportResult)
        child_peak = outcome[2]
        assert isinstance(child_peak, int)
        return WorkerImport(result, proc.pid, max(peak, child_peak))
    if outcome is not None:  # the import raised before reading anything (an invalid athlete name)
        raise ValueError(str(outcome[1]))
    result = ImportResult()
    killed = killed or proc.exitcode == OVER_LIMIT_EXIT_CODE
    if killed:
        reason = (
            f"refused: importing it needed more than the memory limit of {memory_limit // MIB} MB "
            "(the import worker was stopped; nothing of this file was stored)"
        )
    else:
        reason = f"the import worker died (exit code {proc.exitcode}); nothing of this file was stored"
    result.failed.extend((str(p), reason) for p in paths)
    if relabel is not None:
        result.relabel(*relabel)
    return WorkerImport(result, proc.pid, peak, killed=killed)
