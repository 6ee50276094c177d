"""``stridelab import --cluster`` / ``--athlete-from``: scan, resume, plan, run, commit."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from stridelab.scale.batch import BatchReport
from stridelab.scale.plan import DEFAULT_MAX_BYTES, DEFAULT_MAX_FILES, plan_batches, scan
from stridelab.scale.runner import ScaleResult, make_executor, pending, run_batches
from stridelab.store import Store, check_athlete
from stridelab.store.scale import check_root_writable, driver_lock, is_remote, sweep_leftovers

__all__ = ["default_dataset_root", "scale_import"]


def default_dataset_root(store: Store) -> Path:
    """The datasets of a store: ``<store>/datasets`` unless ``--dataset`` names another root."""
    return store.root / "datasets"


def scale_import(
    store: Store,
    paths: Iterable[Path | str],
    *,
    athlete: str = "me",
    athlete_from: str | None = None,
    cluster: str | None = None,
    workers: int | None = None,
    dataset_root: str | Path | None = None,
    max_files: int = DEFAULT_MAX_FILES,
    max_bytes: int = DEFAULT_MAX_BYTES,
    on_report: Callable[[BatchReport], None] | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> ScaleResult:
    """Import ``paths`` in batches on ``cluster`` (None: a local process pool), each run's stream
    into the store, its summary and stream into the Parquet datasets, the catalog from this process.
    Files the catalog already holds are not planned again (resume).

    One driver per store at a time: a second import on the same store waits (``on_wait`` is told)
    until the first ends, then plans what is left. A dataset root that is read-only or full raises
    :class:`~stridelab.store.scale.DatasetRootError` naming it: before any work when it cannot take a
    file at all, else after committing the runs written whole (re-run the command to resume)."""
    check_athlete(athlete)
    root: Path | str = default_dataset_root(store) if dataset_root is None else dataset_root
    if not is_remote(root):
        root = Path(root)
    check_root_writable(root)
    with driver_lock(store.root, on_wait=on_wait):
        sweep_leftovers(root)  # a killed earlier driver's half-written temp files (never read)
        entries = (
            e for e in scan(paths, athlete=athlete, athlete_from=athlete_from) if check_athlete(e.athlete)
        )
        batches = plan_batches(pending(entries, store), max_files=max_files, max_bytes=max_bytes)
        with make_executor(cluster, workers) as executor:
            return run_batches(batches, executor, root, store=store, on_report=on_report)
