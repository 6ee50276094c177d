"""The driver: batches out to any :class:`concurrent.futures.Executor`, reports back, catalog written here.

:func:`run_batches` keeps at most ``max_in_flight`` batches submitted (memory flat over any number
of batches), commits each report's runs to the catalog as it arrives -- the driver is the catalog's
only writer, one short transaction per batch (:func:`stridelab.store.imports.commit_batch`) -- and
retries a batch whose worker died (the executor raised instead of returning a report). A batch that
fails again is split into single files run one at a time (each retried once), so a file that
crashes its worker is isolated and reported as failed while the others are imported. The written
Parquet names are deterministic, so a retried batch replaces the same files: no duplicate run.

Resume: :func:`pending` drops from a manifest the files the catalog already holds (same path, size
and mtime as the local import's source cache), so re-running an interrupted import finishes with
exactly the expected runs.

:func:`make_executor` gives the executor of a ``--cluster`` value: ``local:N`` (a Dask LocalCluster
of N worker processes), ``tcp://HOST:PORT`` (an existing Dask scheduler) or None (a process pool).
Dask (the ``scale`` extra) is imported only there.
"""

from __future__ import annotations

import collections
import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from stridelab.procs import children_follow, follow_parent
from stridelab.scale.batch import BatchReport, FileOutcome, process_batch
from stridelab.scale.plan import Batch, ManifestEntry, fingerprint
from stridelab.store import Store
from stridelab.store.imports import SourceRow, checkpoint, commit_batch, known_fingerprints
from stridelab.store.scale import ROOT_ERRNOS, DatasetRootError

__all__ = ["ClusterError", "ScaleResult", "make_executor", "pending", "run_batches"]


class ClusterError(RuntimeError):
    """A ``--cluster`` value that is malformed, or a scheduler that cannot be reached."""


@dataclass(slots=True)
class ScaleResult:
    """Totals of a scaled import: every file's outcome and the batches retried."""

    outcomes: list[FileOutcome] = field(default_factory=list)
    batches: int = 0
    retried: int = 0
    committed: int = 0

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def to_json(self) -> dict[str, Any]:
        return {
            "batches": self.batches,
            "retried": self.retried,
            "imported": self.count("imported"),
            "skipped": self.count("skipped"),
            "not_activity": self.count("not_activity"),
            "failed": [
                {"path": o.entry.path, "error": o.error} for o in self.outcomes if o.status == "failed"
            ],
        }

    @property
    def exit_code(self) -> int:
        return 1 if self.count("failed") or any(o.warnings for o in self.outcomes) else 0


def pending(manifest: Iterable[ManifestEntry], store: Store) -> Iterator[ManifestEntry]:
    """The entries whose file (absolute path, size, mtime) the catalog does not already hold."""
    known: dict[str, set[tuple[str, str]]] = {}
    for entry in manifest:
        if entry.athlete not in known:
            known[entry.athlete] = set(known_fingerprints(store, entry.athlete))
        if (os.path.abspath(entry.path), fingerprint(entry)) not in known[entry.athlete]:
            yield entry


def _commit(store: Store, report: BatchReport) -> int:
    items = [
        (
            o.prepared,
            SourceRow(os.path.abspath(o.entry.path), fingerprint(o.entry), o.run_id)
            if o.run_id is not None
            else None,
        )
        for o in report.outcomes
        if o.status in ("imported", "skipped")
    ]
    return sum(commit_batch(store, items)) if items else 0


def run_batches(
    batches: Iterable[Batch],
    executor: Executor,
    dataset_root: str | Path,
    *,
    store: Store | None = None,
    max_in_flight: int = 8,
    retries: int = 1,
    on_report: Callable[[BatchReport], None] | None = None,
    task: Callable[..., BatchReport] = process_batch,
) -> ScaleResult:
    """Run ``batches`` on ``executor`` (any :class:`~concurrent.futures.Executor`; a Dask
    ``Client`` is one) and commit each report's runs into ``store`` (when given) from this process.

    ``task`` is the function each worker runs (default :func:`process_batch`; tests pass a wrapper).
    """
    result = ScaleResult()
    store_root = str(store.root) if store is not None else None
    it = iter(batches)
    in_flight: dict[Future[BatchReport], tuple[Batch, int, bool]] = {}
    # files of failed batches, run one at a time: a file that kills its worker then takes down no
    # neighbour, and a neighbour killed with it earlier (collateral) now succeeds
    quarantine: collections.deque[tuple[Batch, int]] = collections.deque()

    def submit(batch: Batch, attempt: int, alone: bool = False) -> None:
        fut = executor.submit(task, batch, str(dataset_root), store_root)
        in_flight[fut] = (batch, attempt, alone)

    def refill() -> None:
        if quarantine and not any(alone for _, _, alone in in_flight.values()):
            submit(*quarantine.popleft(), alone=True)
        while len(in_flight) < max_in_flight:
            batch = next(it, None)
            if batch is None:
                return
            result.batches += 1
            submit(batch, 0)

    root_error: FileOutcome | None = None  # the dataset root failed: drain, commit, stop

    refill()
    while in_flight:
        done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
        for fut in done:
            batch, attempt, alone = in_flight.pop(fut)
            try:
                report = fut.result()
            except Exception as exc:  # the worker died or the task could not run: retry, then isolate
                result.retried += 1
                if attempt < retries and not alone:
                    submit(batch, attempt + 1)
                elif not alone:
                    for i, entry in enumerate(batch.entries):
                        quarantine.append((Batch(f"{batch.batch_id}/{i}", batch.athlete, (entry,)), 0))
                elif attempt < retries:
                    quarantine.appendleft((batch, attempt + 1))
                else:
                    error = f"{batch.entries[0].path}: crashed its worker ({type(exc).__name__}: {exc})"
                    result.outcomes.append(FileOutcome(batch.entries[0], "failed", error=error[:400]))
                continue
            if store is not None:
                result.committed += _commit(store, report)
            result.outcomes.extend(report.outcomes)
            if on_report is not None:
                on_report(report)
            root_error = root_error or next((o for o in report.outcomes if o.root_error), None)
        if root_error is None:
            refill()
    if store is not None:
        checkpoint(store)
    if root_error is not None:
        failure = DatasetRootError(dataset_root, _errno(root_error), _reason(root_error))
        failure.result = result
        raise failure
    return result


def _errno(outcome: FileOutcome) -> int:
    import errno

    text = outcome.error or ""
    return next((c for c in sorted(ROOT_ERRNOS) if os.strerror(c) in text), errno.EIO)


def _reason(outcome: FileOutcome) -> str:
    return os.strerror(_errno(outcome))


#: the environment variable that, when set, keeps Dask's own worker start method (see below)
START_METHOD_ENV: Final = "DASK_DISTRIBUTED__WORKER__MULTIPROCESSING_METHOD"


def _local_cluster_config() -> dict[str, Any]:
    """Dask settings of a ``local:N`` cluster.

    Dask starts worker processes with ``spawn`` by default: each worker is a fresh interpreter that
    imports distributed, numpy, pandas, pyarrow and stridelab again before its first task -- the bulk
    of the cluster's fixed cost (measured: start + first task + close 27 s with spawn against 1.0 s with
    fork on the loaded 2-core box; docs/scale.md). A local cluster's workers are forked from this
    process instead, which has those modules imported already (as the local process pool's are).
    Set ``DASK_DISTRIBUTED__WORKER__MULTIPROCESSING_METHOD`` to keep another method.

    The workers' background work is thinned for batches that each run for seconds: no statistical
    profiler (a stack sample every 10 ms), system and memory monitors every 2 s instead of every
    0.1-0.5 s, the event-loop tick check every 1 s, no work stealing (batches are even), and no
    scheduler-side queue: each worker holds its next batches as a pool's workers do."""
    config: dict[str, Any] = {
        "distributed.worker.profile.enabled": False,
        "distributed.admin.system-monitor.interval": "2s",
        "distributed.worker.memory.monitor-interval": "2s",
        "distributed.admin.tick.interval": "1s",
        "distributed.scheduler.work-stealing": False,
        # every submitted batch goes to a worker at once (at most max_in_flight of them): a worker
        # starts its next batch without waiting for the scheduler -- in the driver, busy committing --
        # to hear that the last one finished (a process pool's call queue does the same)
        "distributed.scheduler.worker-saturation": float("inf"),
    }
    if START_METHOD_ENV not in os.environ and os.name == "posix":
        config["distributed.worker.multiprocessing-method"] = "fork"
    return config


@contextlib.contextmanager
def make_executor(
    cluster: str | None, workers: int | None = None, *, connect_timeout_s: float = 10.0
) -> Iterator[Executor]:
    """The executor of a ``--cluster`` value (see the module docstring), closed on exit.

    Raises :class:`ClusterError` for a malformed value, a missing ``scale`` extra or a scheduler that
    does not answer within ``connect_timeout_s``."""
    if cluster is None:
        # workers die with the driver (a killed driver leaves no orphan holding files or locks)
        with (
            children_follow(),
            ProcessPoolExecutor(
                max_workers=workers or os.cpu_count() or 1, initializer=follow_parent, initargs=(os.getpid(),)
            ) as pool,
        ):
            yield pool
        return
    try:
        from distributed import Client, LocalCluster  # lazy: the scale extra
    except ImportError:
        raise ClusterError("--cluster needs Dask: pip install 'stridelab[scale]'") from None
    if cluster.startswith("local:"):
        try:
            n = int(cluster[6:])
        except ValueError:
            n = 0
        if n < 1:
            raise ClusterError(f"--cluster {cluster!r}: use local:N with N >= 1 workers")
        import dask

        config = _local_cluster_config()
        method = config.pop("distributed.worker.multiprocessing-method", None)
        with dask.config.set(config):  # for the cluster's whole life
            # the first workers are forked while the driver does nothing else; a worker restarted
            # after a death is spawned (a fork then, with the driver's threads busy, could inherit a
            # held lock and hang: seen once in the suite)
            with dask.config.set({"distributed.worker.multiprocessing-method": method} if method else {}):
                lc = LocalCluster(  # type: ignore[no-untyped-call]
                    n_workers=n,
                    threads_per_worker=1,
                    host="127.0.0.1",
                    dashboard_address=None,  # no dashboard (nor bokeh) ...
                    # ... and its health/metrics HTTP server on loopback, any free port: never 0.0.0.0,
                    # never a clash with another cluster's 8787
                    scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                )
            with lc, Client(lc) as client:  # type: ignore[no-untyped-call]
                yield client.get_executor(pure=False)
        return
    if cluster.startswith("tcp://"):
        try:
            client = Client(cluster, timeout=connect_timeout_s)  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError) as exc:
            raise ClusterError(f"--cluster {cluster}: the Dask scheduler does not answer ({exc})") from None
        with client:
            yield client.get_executor(pure=False)  # type: ignore[no-untyped-call]
        return
    raise ClusterError(f"--cluster {cluster!r}: use local:N or tcp://HOST:PORT")
