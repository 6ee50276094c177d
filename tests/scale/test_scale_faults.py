"""Bad input for the batch import (issue 18): two drivers on one store at once, a dataset root that is
full (a real 48 KiB tmpfs) or read-only (a real read-only mount), and plan adherence in the cohort."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from _hang import HANG_GUARD_S
from stridelab.cli import app
from stridelab.scale import DatasetRootError, cohort, scale_import
from stridelab.services.training import PlanInputs, log_session, plan_adherence, save_plan, tailored_plan
from stridelab.store import Store
from stridelab.store.scale import driver_lock, write_summaries

FILES = [
    "dtcooper__python-fitparse/garmin-fenix-5-run.fit",
    "GoldenCheetah__GoldenCheetah/Move_2020_01_15_19_27_16_Running.fit",
    "dtcooper__python-fitparse/garmin-fenix-5-walk.fit",
    "GoldenCheetah__GoldenCheetah/FR55-CoreTemp-Walk.fit",
]
SRC = Path(__file__).resolve().parents[2] / "src"
FOUR = ("a0", "a1", "a2", "a3")


@pytest.fixture
def archive(tmp_path: Path, shared_data: Path) -> Path:
    """``archive/ann`` and ``archive/bob``: two real FIT files each, no broken one."""
    root = tmp_path / "archive"
    for i, name in enumerate(FILES):
        folder = root / ("ann" if i < 2 else "bob")
        folder.mkdir(parents=True, exist_ok=True)
        src = shared_data / "fit" / name
        if not src.exists():
            pytest.fail(f"shared FIT file {src} is missing")
        shutil.copy2(src, folder / src.name)
    return root


def _catalog_ids(store_dir: Path, athletes: tuple[str, ...] = ("ann", "bob")) -> list[str]:
    store = Store.open(store_dir)
    try:
        return [r.id for a in athletes for r in store.list_activities(a, include_undated=True)]
    finally:
        store.close()


def _summary_ids(root: Path) -> list[str]:
    return sorted(p.stem.removeprefix("run-") for p in (root / "summaries").rglob("*.parquet"))


def _assert_whole(root: Path) -> None:
    """No temporary leftover, and every Parquet file under ``root`` reads whole."""
    assert not [p for p in root.rglob("*") if p.name.startswith(".tmp-")]
    for p in root.rglob("*.parquet"):
        pq.read_table(p)


# ------------------------------------------------------------------------------ two drivers at once


def test_two_imports_at_once_on_one_store_neither_duplicate_nor_corrupt(
    archive: Path, tmp_path: Path
) -> None:
    """Two real ``stridelab import`` processes on one store and one dataset: both wait while the lock is
    held, then one imports the 4 runs and the other finds nothing left; no duplicate, nothing torn."""
    store_dir, ds = tmp_path / "store", tmp_path / "ds"
    Store.open(store_dir).close()
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    cmd = [sys.executable, "-m", "stridelab", "import", str(archive), "--athlete-from", "folder"]
    cmd += ["--store", str(store_dir), "--dataset", str(ds), "--workers", "1", "--json"]
    with driver_lock(store_dir):  # a first driver holds the store: both new ones must wait
        procs = [
            subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        for p in procs:  # each says it waits (on stderr) before the lock is released
            assert p.stderr is not None
            line = p.stderr.readline()
            assert "another import holds" in line and ".batch-import.lock" in line, line
    outs = [p.communicate(timeout=HANG_GUARD_S * 4) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    imported = sorted(json.loads(out)["imported"] for out, _ in outs)
    assert imported == [0, 4]  # one driver did the work, the other planned nothing
    ids = _catalog_ids(store_dir)
    assert len(ids) == len(set(ids)) == 4
    assert _summary_ids(ds) == sorted(ids)
    _assert_whole(ds)


# ---------------------------------------------------------------------------- full / read-only roots


def _mount_tmpfs(path: Path, size: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"cannot mount a tmpfs in CI (root expected): {done.stderr.strip()}")
        pytest.skip(f"mounting a tmpfs needs root: {done.stderr.strip()}")


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    """A real 48 KiB tmpfs (room for one or two runs' Parquet files, not four), unmounted after."""
    mnt = tmp_path / "tiny"
    _mount_tmpfs(mnt, "48k")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_dataset_root_stops_with_its_path_and_resumes_after_room_is_made(
    archive: Path, tmp_path: Path, tiny_fs: Path
) -> None:
    store_dir = tmp_path / "store"
    args = ["import", str(archive), "--athlete-from", "folder", "--store", str(store_dir)]
    args += ["--dataset", str(tiny_fs), "--workers", "1"]
    r = CliRunner().invoke(app, [*args, "--json"])
    assert r.exit_code == 1, r.output
    error = json.loads(r.output)["error"]
    assert str(tiny_fs) in error["message"] and "No space left on device" in error["message"]
    _assert_whole(tiny_fs)
    ids = _catalog_ids(store_dir)
    assert len(ids) < 4
    assert _summary_ids(tiny_fs) == sorted(ids)  # the catalog holds exactly the runs written whole
    assert f"{len(ids)} runs were imported" in error["message"]
    # make room (the same mount, larger) and run the same command again: it resumes
    subprocess.run(["mount", "-o", "remount,size=8m", str(tiny_fs)], check=True)
    r = CliRunner().invoke(app, [*args, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["imported"] == 4 - len(ids)
    ids = _catalog_ids(store_dir)
    assert len(ids) == len(set(ids)) == 4 and _summary_ids(tiny_fs) == sorted(ids)
    _assert_whole(tiny_fs)


def test_a_read_only_dataset_root_is_named_before_any_work(
    archive: Path, tmp_path: Path, tiny_fs: Path
) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_fs)], check=True)
    store = Store.open(tmp_path / "store")
    with pytest.raises(DatasetRootError, match="Read-only file system") as info:
        scale_import(store, [archive], athlete_from="folder", dataset_root=tiny_fs, workers=1)
    assert str(tiny_fs) in str(info.value)
    store.close()
    assert _catalog_ids(tmp_path / "store") == []  # nothing imported, nothing half-written
    assert not list((tmp_path / "store").rglob("*.parquet"))
    args = ["import", str(archive), "--athlete-from", "folder", "--store", str(tmp_path / "store")]
    r = CliRunner().invoke(app, [*args, "--dataset", str(tiny_fs)])
    assert r.exit_code == 1 and "Read-only file system" in r.output and "tiny" in r.output


# ------------------------------------------------------------------------------------ adherence


def test_cohort_carries_each_athletes_plan_adherence(tmp_path: Path) -> None:
    today = date(2025, 6, 30)
    ds = tmp_path / "ds"
    for athlete in ("ann", "bob"):
        rows = [
            {
                "run_id": f"{athlete}{i}",
                "start_time": datetime(2025, 6, 1 + i, 7, tzinfo=UTC),
                "speed_m_s_mean": 3.0 + 0.1 * i,
                "balance_left_pct_mean": 50.0 + 0.1 * i,
            }
            for i in range(6)
        ]
        write_summaries(ds, athlete, 2025, rows, "part-0.parquet")
    store = Store.open(tmp_path / "store")
    start = today - timedelta(days=21)
    plan = tailored_plan(store, "ann", PlanInputs(start=start, weeks=4), start, use_runs=False)
    save_plan(store, "ann", plan, created_at=f"{start.isoformat()}T06:00:00+00:00")
    due = [s.date for s in plan.sessions if s.date < today]
    assert len(due) >= 4
    for i, day in enumerate(due):  # done, skipped, done, skipped, ...: half of them
        log_session(store, "ann", day, "done" if i % 2 == 0 else "skipped")
    rows = {r.athlete: r for r in cohort(ds, store=store, today=today)}
    expected = 100.0 * len(due[::2]) / len(due)
    assert rows["ann"].sessions_due == len(due)
    assert rows["ann"].adherence_pct == pytest.approx(expected, abs=0.05)
    assert rows["ann"].adherence_pct == plan_adherence(store, "ann", today)["adherence_pct"]  # type: ignore[index]
    assert ("low adherence" in rows["ann"].flags) == (expected < 60.0)
    assert rows["bob"].adherence_pct is None and rows["bob"].sessions_due is None  # no plan
    assert cohort(ds)[0].adherence_pct is None  # without a store: no adherence
    store.close()


# --------------------------------------------------------------------- unreachable scheduler, killed driver


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    import socket

    from stridelab.scale import ClusterError, make_executor

    with socket.socket() as sock:  # a free loopback port: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with (
        pytest.raises(ClusterError, match=rf"tcp://127\.0\.0\.1:{port}: the Dask scheduler does not answer"),
        make_executor(f"tcp://127.0.0.1:{port}", connect_timeout_s=1.0),
    ):
        pass


def test_a_killed_driver_resumes_to_exactly_the_expected_runs(archive: Path, tmp_path: Path) -> None:
    """``stridelab import`` killed (SIGKILL) once its first batch is in the catalog; the same command run
    again imports exactly the rest: 4 runs, no duplicate, the dataset matching the catalog."""
    import signal
    import time

    # one athlete per file: a batch holds one athlete, so four batches, committed one by one
    for i, f in enumerate(sorted(archive.rglob("*.fit"))):
        (archive / f"a{i}").mkdir()
        f.rename(archive / f"a{i}" / f.name)
    store_dir, ds = tmp_path / "store", tmp_path / "ds"
    Store.open(store_dir).close()
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    cmd = [sys.executable, "-m", "stridelab", "import", str(archive), "--athlete-from", "folder"]
    cmd += ["--store", str(store_dir), "--dataset", str(ds), "--workers", "1", "--json"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + HANG_GUARD_S * 4  # a hang guard, not a speed check
    try:
        while proc.poll() is None and not _catalog_ids(store_dir, FOUR):
            assert time.monotonic() < deadline, "the import committed nothing"
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    first = _catalog_ids(store_dir, FOUR)
    assert 1 <= len(first) <= 4
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=HANG_GUARD_S * 4)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["imported"] == 4 - len(first)
    ids = _catalog_ids(store_dir, FOUR)
    assert len(ids) == len(set(ids)) == 4 and set(first) <= set(ids)
    assert _summary_ids(ds) == sorted(ids)
    _assert_whole(ds)


def test_a_killed_writers_temp_files_are_swept_by_the_next_import(tmp_path: Path) -> None:
    """A driver killed mid-write leaves a ``.tmp-*.parquet.tmp`` (never read); the next import on the
    store, holding the driver lock, removes it and keeps every whole file."""
    ds = tmp_path / "ds"
    part = ds / "summaries" / "athlete=a" / "year=2020"
    part.mkdir(parents=True)
    (part / ".tmp-k1ll3d.parquet.tmp").write_bytes(b"PAR1 half")
    kept = write_summaries(ds, "a", 2020, [{"run_id": "r1", "athlete": "a"}], "run-r1.parquet")
    empty = tmp_path / "nothing"
    empty.mkdir()
    store = Store.open(tmp_path / "store")
    result = scale_import(store, [empty], dataset_root=ds)  # nothing to import: only the sweep
    assert result.count("imported") == 0
    assert not list(ds.rglob(".tmp-*")) and kept.exists()
    _assert_whole(ds)
    store.close()
