"""One batch on one worker: decode each file, summarise it, write its Parquet -- never abort.

:func:`process_batch` is a pure function of its arguments (a :class:`~stridelab.scale.plan.Batch`, the
dataset root and optionally the store root) that any executor can run: a process pool, a Dask worker,
a thread. Each file gets a :class:`FileOutcome` (imported, skipped, not an activity, failed); an error
in one file never stops the others. The catalog is not touched here: an imported run's rows travel
back in the report (:class:`~stridelab.store.activities.PreparedActivity`), and the driver alone
commits them (:func:`stridelab.scale.runner.run_batches`).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from stridelab.io import NotAnActivityError, read_any
from stridelab.model import Activity
from stridelab.scale.plan import Batch, ManifestEntry
from stridelab.store import Store
from stridelab.store.activities import PreparedActivity, activity_summary, prepare_activity, records_table
from stridelab.store.scale import DatasetRootError, is_remote, write_run
from stridelab.version import DECODER_VERSION

__all__ = ["BatchReport", "FileOutcome", "process_batch", "run_summary"]


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What became of one file of a batch."""

    entry: ManifestEntry
    status: str  # imported | skipped | not_activity | failed
    run_id: str | None = None
    error: str | None = None
    prepared: PreparedActivity | None = None
    summary_path: str | None = None
    warnings: tuple[str, ...] = ()
    #: the dataset root itself failed (full, read-only): the import stops after this batch
    root_error: bool = False


@dataclass(slots=True)
class BatchReport:
    """The outcome of one batch: one :class:`FileOutcome` per entry, in the batch's order."""

    batch_id: str
    athlete: str
    outcomes: list[FileOutcome] = field(default_factory=list)
    worker: str = ""

    @property
    def errors(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]


def run_summary(activity: Activity) -> dict[str, Any]:
    """The summaries dataset row of one run (:data:`stridelab.store.scale.SUMMARY_SCHEMA`)."""
    s = activity_summary(activity)
    return {
        "run_id": activity.id,
        "source_path": activity.source_path,
        "sport": activity.sport,
        "start_time": pd.Timestamp(activity.start_time).tz_convert("UTC").to_pydatetime(),
        "duration_s": activity.duration_s,
        "distance_m": activity.distance_m,
        "n_records": len(activity.records),
        "speed_m_s_mean": s.get("speed_m_s_mean"),
        "balance_left_pct_mean": s.get("stance_time_balance_left_pct_mean"),
        "cadence_spm_mean": s.get("cadence_spm_mean"),
        "heart_rate_bpm_mean": s.get("heart_rate_bpm_mean"),
        "decoder_version": DECODER_VERSION,
    }


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _one(entry: ManifestEntry, root: Path | str, store: Store | None, streams: bool) -> FileOutcome:
    try:
        if entry.sha256 is not None:
            with open(entry.path, "rb") as fh:
                digest = hashlib.file_digest(fh, "sha256").hexdigest()
            if digest != entry.sha256:
                raise ValueError("its content changed since the manifest was written (sha256 differs)")
        result = read_any(entry.path)
        if not isinstance(result, Activity):
            raise TypeError(f"holds a {type(result).__name__}, not a run (import it without --cluster)")
        year = int(pd.Timestamp(result.start_time).year)
        table = records_table(result.records) if streams else None
        summary_path, _ = write_run(root, entry.athlete, year, run_summary(result), table)
        prepared = None
        if store is not None:
            if store.has_activity(entry.athlete, result.id):
                return FileOutcome(entry, "skipped", result.id, summary_path=str(summary_path))
            prepared = prepare_activity(store, entry.athlete, result, durable=False)
        return FileOutcome(
            entry,
            "imported",
            result.id,
            prepared=prepared,
            summary_path=str(summary_path),
            warnings=result.problems,
        )
    except NotAnActivityError as exc:
        return FileOutcome(entry, "not_activity", error=exc.reason)
    except DatasetRootError as exc:
        return FileOutcome(entry, "failed", error=f"{entry.path}: {exc.strerror}", root_error=True)
    except Exception as exc:  # one file's fault stays in its outcome: the batch goes on
        text = _describe(exc)
        return FileOutcome(entry, "failed", error=text if entry.path in text else f"{entry.path}: {text}")


def process_batch(
    batch: Batch, dataset_root: str | Path, store_root: str | Path | None = None, *, streams: bool = True
) -> BatchReport:
    """Decode, summarise and write every file of ``batch`` (see the module docstring).

    ``dataset_root``: where the Parquet datasets go. ``store_root``: also write each run's record
    stream into that store (not its catalog: the driver commits the returned rows)."""
    root = dataset_root if is_remote(dataset_root) else Path(dataset_root)
    store = Store(Path(store_root)) if store_root is not None else None
    report = BatchReport(batch.batch_id, batch.athlete, worker=f"pid {os.getpid()}")
    try:
        for i, entry in enumerate(batch.entries):
            outcome = _one(entry, root, store, streams)
            report.outcomes.append(outcome)
            if outcome.root_error:  # the root is full or read-only: the rest would fail the same way
                for rest in batch.entries[i + 1 :]:
                    report.outcomes.append(
                        FileOutcome(rest, "failed", error=f"{rest.path}: not attempted", root_error=True)
                    )
                break
    finally:
        if store is not None:
            store.close()
    return report
