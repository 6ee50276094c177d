"""The scale repository: per-run Parquet datasets a cluster can reach, and the cohort queries over them.

Two hive-partitioned datasets under a dataset root (``athlete=<name>/year=<yyyy>/``), readable by
DuckDB, Dask and Spark alike:

* ``summaries/athlete=A/year=Y/run-<id>.parquet`` -- one row per run (:data:`SUMMARY_SCHEMA`);
* ``streams/athlete=A/year=Y/run-<id>.parquet`` -- the run's record stream (``time`` + columns).

Names are deterministic (the run id is the sha256 of the source bytes), every file is written to a
temporary name and renamed, so a retried or resumed batch replaces a file with the same bytes and a
killed writer leaves at most a ``.tmp-*`` file that no reader globs. The cohort query reads only the
summaries dataset, in DuckDB (never every run into pandas).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

#: dataset roots on object storage (fsspec URLs; ``s3://`` needs s3fs, endpoint from ``AWS_ENDPOINT_URL``)
REMOTE_SCHEMES: Final = ("s3://", "gs://", "az://", "memory://")


def is_remote(root: Path | str) -> bool:
    """Is ``root`` an object-store URL (written through fsspec) rather than a local folder?"""
    return str(root).startswith(REMOTE_SCHEMES)


__all__ = [
    "REMOTE_SCHEMES",
    "ROOT_ERRNOS",
    "SUMMARY_SCHEMA",
    "DatasetRootError",
    "check_root_writable",
    "cohort_table",
    "dataset_paths",
    "driver_lock",
    "is_remote",
    "run_file_name",
    "sweep_leftovers",
    "write_run",
    "write_summaries",
]

#: one row per run in the summaries dataset (the partition columns ``athlete``/``year`` are the path)
SUMMARY_SCHEMA: Final = pa.schema(
    [
        ("run_id", pa.string()),
        ("source_path", pa.string()),
        ("sport", pa.string()),
        ("start_time", pa.timestamp("us", tz="UTC")),
        ("duration_s", pa.float64()),
        ("distance_m", pa.float64()),
        ("n_records", pa.int64()),
        ("speed_m_s_mean", pa.float64()),
        ("balance_left_pct_mean", pa.float64()),
        ("cadence_spm_mean", pa.float64()),
        ("heart_rate_bpm_mean", pa.float64()),
        ("decoder_version", pa.int64()),
    ]
)


def run_file_name(run_id: str) -> str:
    """The deterministic file name of a run in both datasets."""
    return f"run-{run_id}.parquet"


def dataset_paths(root: Path, athlete: str, year: int, run_id: str) -> tuple[Path, Path]:
    """(summary file, stream file) of one run under the dataset ``root``."""
    part = Path(f"athlete={athlete}") / f"year={year:04d}"
    name = run_file_name(run_id)
    return root / "summaries" / part / name, root / "streams" / part / name


#: errors of the dataset root itself (not of one file): full, read-only, no permission, over quota
ROOT_ERRNOS: Final = frozenset({errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT})


class DatasetRootError(OSError):
    """The dataset root cannot take any more files (full, read-only, no permission): the import stops.

    ``str()`` names the root and the reason; ``errno`` is the system's. ``result``: what the import
    had done before it stopped (set by the runner)."""

    result: Any = None

    def __init__(self, root: Path | str, code: int, reason: str) -> None:
        super().__init__(code, f"the dataset root {root} cannot be written: {reason}")
        self.root = str(root)


def _errno_of(exc: BaseException) -> int | None:
    """The errno of an OSError, or of pyarrow's IOError that carries it only in its text."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return exc.errno
    text = str(exc)
    for code in ROOT_ERRNOS:
        if f"errno {code}]" in text.lower() or os.strerror(code) in text:
            return code
    return None


def _root_error(root: Path | str, exc: BaseException) -> BaseException:
    code = _errno_of(exc)
    if code in ROOT_ERRNOS:
        return DatasetRootError(root, code, os.strerror(code))
    return exc


def _write_atomic(table: pa.Table, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".parquet.tmp", dir=target.parent)
    os.close(fd)
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sweep_leftovers(root: Path | str) -> int:
    """Remove the ``.tmp-*.parquet.tmp`` files a killed writer left under a local dataset root (call it
    holding :func:`driver_lock`: no other driver of this store writes then). Returns how many."""
    if is_remote(root) or not Path(root).is_dir():
        return 0
    n = 0
    for p in Path(root).rglob(".tmp-*.parquet.tmp"):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
            n += 1
    return n


def check_root_writable(root: Path | str) -> None:
    """Create ``root`` if needed and prove a file can be made there (then removed).

    Raises :class:`DatasetRootError` naming ``root`` (read-only, no permission, full) before any work.
    Object-store roots are not probed (their errors surface on the first write)."""
    if is_remote(root):
        return
    path = Path(root)
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".tmp-probe-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise _root_error(path, exc) from None


def _put(table: pa.Table, url: str) -> None:
    """One object, one PUT: an object store shows it whole or not at all (no rename needed)."""
    import fsspec  # type: ignore[import-untyped]  # lazy: only object-store roots

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    fs, path = fsspec.core.url_to_fs(url)
    fs.pipe_file(path, sink.getvalue().to_pybytes())


def write_run(
    root: Path | str, athlete: str, year: int, summary: Mapping[str, Any], records: pa.Table | None
) -> tuple[Path, Path | None]:
    """Write one run's summary row (and its record stream unless ``records`` is None), each atomically
    (temp + rename) under its deterministic name. Returns the paths written. Raises OSError (a full or
    read-only root) with nothing half-visible."""
    row = pa.Table.from_pylist([{name: summary.get(name) for name in SUMMARY_SCHEMA.names}], SUMMARY_SCHEMA)
    if is_remote(root):
        part = f"athlete={athlete}/year={year:04d}/{run_file_name(str(summary['run_id']))}"
        base = str(root).rstrip("/")
        if records is not None:
            _put(records, f"{base}/streams/{part}")
        _put(row, f"{base}/summaries/{part}")
        return Path(f"{base}/summaries/{part}"), Path(
            f"{base}/streams/{part}"
        ) if records is not None else None
    summary_path, stream_path = dataset_paths(Path(root), athlete, year, str(summary["run_id"]))
    new_stream = records is not None and not stream_path.exists()
    try:
        if records is not None:
            _write_atomic(records, stream_path)  # stream first: a summary never points to a missing stream
        _write_atomic(row, summary_path)
    except Exception as exc:
        if new_stream:  # the summary could not follow: leave no stream of a run the dataset lacks
            stream_path.unlink(missing_ok=True)
        raise _root_error(root, exc) from exc
    return summary_path, stream_path if records is not None else None


#: the lock file of a store's batch import (one driver at a time commits into one catalog)
LOCK_NAME: Final = ".batch-import.lock"


@contextlib.contextmanager
def driver_lock(
    store_root: Path, *, on_wait: Callable[[str], None] | None = None, poll_s: float = 0.2
) -> Iterator[None]:
    """Hold the store's batch-import lock (a POSIX record lock, ``fcntl.lockf``, on
    ``<store>/.batch-import.lock``).

    A second driver on the same store waits here until the first has finished (``on_wait`` is told
    once, with the holder's pid), then plans only what the first left undone: two imports at once
    neither duplicate nor interleave their commits. The lock belongs to the driver process alone -- a
    forked worker does not inherit it (unlike ``flock``) -- and dies with it: no stale lock."""
    path = Path(store_root) / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        told = False
        while True:
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:  # EAGAIN / EACCES: held by another process
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if not told and on_wait is not None:
                    holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
                    on_wait(f"another import holds {path} (pid {holder}); waiting for it to finish")
                    told = True
                time.sleep(poll_s)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.lockf(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def write_summaries(root: Path, athlete: str, year: int, rows: list[Mapping[str, Any]], name: str) -> Path:
    """Write many summary rows of one partition as one file ``name`` (bulk loads: the benchmark)."""
    target = root / "summaries" / f"athlete={athlete}" / f"year={year:04d}" / name
    table = pa.Table.from_pylist([{n: r.get(n) for n in SUMMARY_SCHEMA.names} for r in rows], SUMMARY_SCHEMA)
    _write_atomic(table, target)
    return target


#: the cohort query: per athlete, balance regressed on speed (pace-adjusted at ``ref_speed``), the
#: trend of balance over time (per 30 days, with its standard error) and the drift (the last
#: ``recent_days`` against the runs before them)
_COHORT_SQL: Final = """
WITH runs AS (
    SELECT athlete, start_time, speed_m_s_mean AS v, balance_left_pct_mean AS b,
           epoch(start_time) / 86400.0 AS day
    FROM read_parquet(?, hive_partitioning = true, union_by_name = true)
    WHERE balance_left_pct_mean IS NOT NULL AND speed_m_s_mean IS NOT NULL
),
last AS (SELECT athlete, max(day) AS last_day FROM runs GROUP BY athlete),
r AS (SELECT runs.*, last.last_day FROM runs JOIN last USING (athlete))
SELECT athlete,
       count(*) AS n_runs,
       avg(b) AS balance_mean,
       regr_intercept(b, v) + regr_slope(b, v) * ? AS balance_adjusted,
       regr_slope(b, v) AS speed_slope,
       regr_slope(b, day) * 30 AS trend_per_30d,
       regr_count(b, day) AS trend_n,
       regr_sxx(b, day) AS sxx_day,
       regr_syy(b, day) AS syy_b,
       regr_slope(b, day) AS slope_day,
       avg(b) FILTER (WHERE day > last_day - ?) AS recent_mean,
       avg(b) FILTER (WHERE day <= last_day - ?) AS before_mean,
       count(*) FILTER (WHERE day > last_day - ?) AS recent_n,
       min(start_time) AS first_run,
       max(start_time) AS last_run
FROM r
GROUP BY athlete
ORDER BY athlete
"""


def cohort_table(root: Path | str, *, ref_speed_m_s: float, recent_days: float) -> list[dict[str, Any]]:
    """The per-athlete cohort aggregates over the summaries dataset under ``root`` (DuckDB, one scan).

    Raises FileNotFoundError when the root holds no summaries dataset, ValueError (naming the file)
    when a file there cannot be read."""
    if is_remote(root):
        return _remote_cohort(str(root), ref_speed_m_s, recent_days)
    pattern = f"{str(root).rstrip('/')}/summaries/**/*.parquet"
    if not any(Path(root, "summaries").glob("athlete=*/year=*/*.parquet")):
        raise FileNotFoundError(f"{root}: no summaries dataset (import with --dataset first)")
    con = duckdb.connect()
    try:
        cur = con.execute(_COHORT_SQL, [pattern, ref_speed_m_s, recent_days, recent_days, recent_days])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    except duckdb.Error as exc:  # a foreign or damaged file in the dataset: say which, never a 500
        raise ValueError(f"{root}: the summaries dataset cannot be read: {str(exc).strip()[:400]}") from None
    finally:
        con.close()


def _remote_cohort(root: str, ref_speed_m_s: float, recent_days: float) -> list[dict[str, Any]]:
    """The cohort over an object-store dataset: a pyarrow dataset through fsspec, scanned by DuckDB
    (no DuckDB extension to download)."""
    import fsspec
    import pyarrow.dataset as pds

    fs, path = fsspec.core.url_to_fs(f"{root.rstrip('/')}/summaries")
    dataset = pds.dataset(path, filesystem=fs, format="parquet", partitioning="hive")
    con = duckdb.connect()
    try:
        con.register("remote_runs", dataset)
        sql = _COHORT_SQL.replace(
            "read_parquet(?, hive_partitioning = true, union_by_name = true)", "remote_runs"
        )
        cur = con.execute(sql, [ref_speed_m_s, recent_days, recent_days, recent_days])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()
