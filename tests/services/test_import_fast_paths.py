"""The import's speed paths keep its contract: a re-import checks the source cache before reading a
file, streams written without a per-file fsync are synced before any catalog row points to them (and
a batch whose stream cannot be synced commits nothing), and the pool imports the same runs, summaries
and streams as the in-process path."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from stridelab.model import Activity
from stridelab.services.imports import import_paths
from stridelab.store import Store
from stridelab.store._store import STREAM_COMPRESSION
from stridelab.store.activities import prepare_activity
from stridelab.store.imports import SourceRow, commit_batch

FILES = [
    "dtcooper__python-fitparse/garmin-fenix-5-run.fit",
    "dtcooper__python-fitparse/activity-small-fenix2-run.fit",
    "Runalyze__Runalyze/Multisession.fit",
    "Runalyze__Runalyze/Fenix-2-pauses.fit",
    "tormoder__fit/mornindew-broken.fit",
]


@pytest.fixture
def folder(shared_data: Path, tmp_path: Path) -> Path:
    out = tmp_path / "in"
    out.mkdir()
    for rel in FILES:
        shutil.copy(shared_data / "fit" / rel, out / Path(rel).name)
    return out


def test_reimport_skips_known_files_before_reading_them(folder: Path, tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s")
    first = import_paths(store, [folder], workers=1)
    assert len(first.imported) == len(FILES)
    # same path, size and mtime, other bytes (not even FIT): the source cache decides, unread
    victim = folder / "garmin-fenix-5-run.fit"
    st = victim.stat()
    victim.write_bytes(b"\x00" * st.st_size)
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))
    second = import_paths(store, [folder], workers=1)
    assert len(second.skipped) == len(FILES) and not second.imported and not second.ignored
    assert dict(second.skipped)[str(victim)] == dict(first.imported)[str(victim)]
    # a changed mtime is a changed file: read again (and now refused: zeros are not FIT)
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    third = import_paths(store, [folder], workers=1)
    assert [p for p, _ in third.failed] == [str(victim)] and len(third.skipped) == len(FILES) - 1


def _activity(activity_id: str) -> Activity:
    index = pd.DatetimeIndex([pd.Timestamp("2024-05-01T06:00:00", tz="UTC")], name="time")
    return Activity(
        id=activity_id,
        source_path=None,
        format="fit",
        start_time=index[0],
        duration_s=60.0,
        elapsed_s=60.0,
        distance_m=200.0,
        sport="running",
        sub_sport=None,
        records=pd.DataFrame({"elapsed_s": [0.0]}, index=index),
    )


def test_a_batch_whose_stream_cannot_be_synced_commits_nothing(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s")
    good = prepare_activity(store, "me", _activity("a" * 64), durable=False)
    lost = prepare_activity(store, "me", _activity("b" * 64), durable=False)
    assert good.stream_path is not None and lost.stream_path is not None
    lost.stream_path.unlink()  # e.g. removed by a concurrent vacuum
    with pytest.raises(OSError):
        commit_batch(store, [(good, SourceRow("/x/a.fit", "file:1:1", "a" * 64)), (lost, None)])
    assert store.known_ids("me") == set()
    assert commit_batch(store, [(good, None)]) == [True]
    assert store.known_ids("me") == {"a" * 64}
    assert len(store.records("me", "a" * 64)) == 1


def test_pool_and_in_process_store_the_same_runs_summaries_and_streams(folder: Path, tmp_path: Path) -> None:
    stores = {}
    for workers in (1, 2):
        store = Store.open(tmp_path / f"s{workers}")
        # force the pool for the 2-worker import (below the in-process threshold otherwise)
        import stridelab.services.imports as imports

        saved = imports.IN_PROCESS_BYTES
        imports.IN_PROCESS_BYTES = 0 if workers == 2 else saved
        try:
            result = import_paths(store, [folder], workers=workers)
        finally:
            imports.IN_PROCESS_BYTES = saved
        assert len(result.imported) == len(FILES)
        stores[workers] = store
    a, b = stores[1], stores[2]
    rows_a = {r.id: r for r in a.list_activities("me", include_duplicates=True)}
    rows_b = {r.id: r for r in b.list_activities("me", include_duplicates=True)}
    assert rows_a.keys() == rows_b.keys()
    for activity_id, row in rows_a.items():
        assert row.summary == rows_b[activity_id].summary
        assert row.n_records == rows_b[activity_id].n_records
        pd.testing.assert_frame_equal(a.records("me", activity_id), b.records("me", activity_id))
        assert not list(a.stream_path("records", "me", activity_id).parent.glob("*.tmp"))


def test_streams_are_lz4_and_an_older_zstd_stream_reads_the_same(folder: Path, tmp_path: Path) -> None:
    """Record streams are written with the store's codec (LZ4); a stream written by an earlier
    version (zstd) reads back the same table and frame."""
    import pyarrow.parquet as pq

    store = Store.open(tmp_path / "s")
    (_, activity_id), *_ = import_paths(store, [folder / "garmin-fenix-5-run.fit"], workers=1).imported
    path = store.stream_path("records", "me", activity_id)
    meta = pq.ParquetFile(path).metadata
    codecs = {
        meta.row_group(g).column(c).compression
        for g in range(meta.num_row_groups)
        for c in range(meta.num_columns)
    }
    assert codecs <= {"LZ4", "LZ4_RAW"} and STREAM_COMPRESSION == "lz4"
    table = pq.read_table(path)
    frame = store.records("me", activity_id)
    pq.write_table(table, path, compression="zstd", use_dictionary=False)  # as earlier versions did
    assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"
    pd.testing.assert_frame_equal(store.records("me", activity_id), frame, check_exact=True)
    assert pq.read_table(path).schema == table.schema
