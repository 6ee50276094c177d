"""Coach and platform scale (docs/scale.md): batch planning from a manifest, batches decoded on any
executor (a process pool or a Dask cluster) into hive-partitioned Parquet datasets, the catalog
written by the driver alone, and cohort views queried with DuckDB over the datasets.

Dask is imported only when a ``--cluster`` executor is made (:func:`make_executor`).
"""

from __future__ import annotations

from stridelab.scale.batch import BatchReport, FileOutcome, process_batch, run_summary
from stridelab.scale.cohort import CohortRow, cohort
from stridelab.scale.plan import Batch, ManifestEntry, athlete_mapping, fingerprint, plan_batches, scan
from stridelab.scale.runner import ClusterError, ScaleResult, make_executor, pending, run_batches
from stridelab.scale.service import scale_import
from stridelab.store.scale import DatasetRootError

__all__ = [
    "Batch",
    "BatchReport",
    "ClusterError",
    "CohortRow",
    "DatasetRootError",
    "FileOutcome",
    "ManifestEntry",
    "ScaleResult",
    "athlete_mapping",
    "cohort",
    "fingerprint",
    "make_executor",
    "pending",
    "plan_batches",
    "process_batch",
    "run_batches",
    "run_summary",
    "scale_import",
    "scan",
]
