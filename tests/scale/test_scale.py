"""The batch pipeline (stridelab.scale): planning, batches on a real local Dask cluster, the catalog
written by the driver, per-file errors, crash isolation, resume; the DuckDB cohort against numpy."""

from __future__ import annotations

import itertools
import json
import os
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from typer.testing import CliRunner

from stridelab.cli import app
from stridelab.jsonsafe import dumps
from stridelab.scale import (
    Batch,
    BatchReport,
    ManifestEntry,
    cohort,
    pending,
    plan_batches,
    process_batch,
    run_batches,
    scale_import,
    scan,
)
from stridelab.services.analysis import analyze_activity
from stridelab.services.imports import import_paths
from stridelab.store import Store
from stridelab.store.scale import write_summaries

#: small real FIT files (running ones with GCT balance among them), two per athlete folder
FILES = {
    "ann": [
        "dtcooper__python-fitparse/garmin-fenix-5-run.fit",
        "GoldenCheetah__GoldenCheetah/Move_2020_01_15_19_27_16_Running.fit",
    ],
    "bob": [
        "dtcooper__python-fitparse/garmin-fenix-5-walk.fit",
        "GoldenCheetah__GoldenCheetah/FR55-CoreTemp-Walk.fit",
    ],
}


@pytest.fixture
def archive(tmp_path: Path, shared_data: Path) -> Path:
    """``archive/<athlete>/<file>``: real FIT files, plus one broken file in bob's folder."""
    root = tmp_path / "archive"
    for athlete, names in FILES.items():
        (root / athlete).mkdir(parents=True)
        for name in names:
            src = shared_data / "fit" / name
            if not src.exists():
                pytest.fail(f"shared FIT file {src} is missing")
            shutil.copy2(src, root / athlete / src.name)
    (root / "bob" / "zz-broken.fit").write_bytes(b"\x0e\x10" + bytes(range(200)))
    return root


@pytest.fixture
def dask_executor() -> Iterator[object]:
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            processes=False,
            n_workers=2,
            threads_per_worker=1,
            protocol="tcp://",
            host="127.0.0.1",
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},  # no clash with another 8787
        ) as lc,
        distributed.Client(lc) as client,
    ):
        yield client.get_executor(pure=False)


# ---------------------------------------------------------------------------------------- planning


def _entries(n: int, athletes: int = 3, size: int = 1000) -> Iterator[ManifestEntry]:
    for i in range(n):
        yield ManifestEntry(f"/d/{i % athletes}/{i}.fit", size + i % 7, i, f"a{i % athletes}")


@settings(max_examples=60, deadline=None)
@given(
    sizes=hs.lists(hs.tuples(hs.integers(0, 3), hs.integers(1, 5000)), max_size=80),
    max_files=hs.integers(1, 9),
    max_bytes=hs.integers(1, 12000),
)
def test_plan_covers_each_entry_once_within_the_cuts(
    sizes: list[tuple[int, int]], max_files: int, max_bytes: int
) -> None:
    manifest = [ManifestEntry(f"/x/{i}", s, 0, f"a{a}") for i, (a, s) in enumerate(sizes)]
    batches = list(plan_batches(manifest, max_files=max_files, max_bytes=max_bytes))
    seen = [e for b in batches for e in b.entries]
    assert sorted(e.path for e in seen) == sorted(e.path for e in manifest)
    for b in batches:
        assert {e.athlete for e in b.entries} == {b.athlete}
        assert 1 <= len(b.entries) <= max_files
        assert b.n_bytes <= max_bytes or len(b.entries) == 1
    # order within an athlete is the manifest's
    for a in {e.athlete for e in manifest}:
        assert [e.path for e in seen if e.athlete == a] == [e.path for e in manifest if e.athlete == a]


def test_plan_is_a_stream_and_deterministic() -> None:
    # an endless manifest: batches come out as they fill (memory does not grow with the manifest)
    first = list(itertools.islice(plan_batches(_entries(10**12), max_files=4), 5))
    assert [len(b.entries) for b in first] == [4] * 5
    again = list(itertools.islice(plan_batches(_entries(10**12), max_files=4), 5))
    assert [b.batch_id for b in first] == [b.batch_id for b in again]
    cut = list(plan_batches(_entries(10, athletes=1, size=100), max_bytes=350))
    assert [len(b.entries) for b in cut] == [3, 3, 3, 1]


def test_scan_athlete_from_folder_and_csv(archive: Path, tmp_path: Path) -> None:
    by_folder = list(scan([archive], athlete_from="folder"))
    assert {e.athlete for e in by_folder} == {"ann", "bob"}
    assert len(by_folder) == 5
    mapping = tmp_path / "map.csv"
    mapping.write_text("path,athlete\nann,anna-k\nbob/zz-broken.fit,bad\n")
    by_csv = {
        Path(e.path).name: e.athlete for e in scan([archive], athlete="rest", athlete_from=f"csv:{mapping}")
    }
    assert by_csv["zz-broken.fit"] == "bad"
    assert {by_csv[Path(n).name] for n in FILES["ann"]} == {"anna-k"}
    assert {by_csv[Path(n).name] for n in FILES["bob"]} == {"rest"}
    with pytest.raises(ValueError, match="not UTF-8 text"):
        list(scan([archive], athlete_from=f"csv:{archive / 'ann' / Path(FILES['ann'][0]).name}"))


# ------------------------------------------------------------------------------ batches and drivers


def test_dask_cluster_import_equals_the_local_import(
    archive: Path, tmp_path: Path, dask_executor: object
) -> None:
    local = Store.open(tmp_path / "local")
    for athlete in FILES:
        import_paths(local, [str(archive / athlete)], athlete=athlete, workers=1)
    scaled = Store.open(tmp_path / "scaled")
    batches = plan_batches(pending(scan([str(archive)], athlete_from="folder"), scaled), max_files=2)
    result = run_batches(batches, dask_executor, tmp_path / "ds", store=scaled)  # type: ignore[arg-type]

    assert result.count("imported") == 4
    failed = [o for o in result.outcomes if o.status == "failed"]
    assert [Path(o.entry.path).name for o in failed] == ["zz-broken.fit"]
    assert failed[0].error is not None and "zz-broken.fit" in failed[0].error
    for athlete in FILES:
        a = {r.id: r for r in local.list_activities(athlete)}
        b = {r.id: r for r in scaled.list_activities(athlete)}
        assert a.keys() == b.keys() and len(a) == 2
        for rid in a:
            assert a[rid] == b[rid]  # catalog row and summary, field for field
            pd.testing.assert_frame_equal(local.records(athlete, rid), scaled.records(athlete, rid))
            rel = Path("records") / athlete / f"{rid}.parquet"
            assert (local.root / "streams" / rel).read_bytes() == (scaled.root / "streams" / rel).read_bytes()
            # the analysis results too (computed from the stored runs, no cache): the same JSON
            ra = analyze_activity(local, athlete, rid, use_cache=False).to_cache()
            rb = analyze_activity(scaled, athlete, rid, use_cache=False).to_cache()
            assert dumps(ra) == dumps(rb)
    # the summaries dataset: one deterministic file per run under athlete=/year=
    files = sorted(p.relative_to(tmp_path / "ds") for p in (tmp_path / "ds" / "summaries").rglob("*.parquet"))
    assert len(files) == 4
    assert all(p.parts[1].startswith("athlete=") and p.parts[2].startswith("year=") for p in files)
    assert {p.name for p in files} == {f"run-{o.run_id}.parquet" for o in result.outcomes if o.run_id}

    # the same batches on a thread pool give byte-identical datasets (deterministic names and bytes)
    other = Store.open(tmp_path / "other")
    with ThreadPoolExecutor(2) as pool:
        run_batches(
            plan_batches(scan([str(archive)], athlete_from="folder")), pool, tmp_path / "ds2", store=other
        )
    for p in files:
        t1 = pd.read_parquet(tmp_path / "ds" / p)
        t2 = pd.read_parquet(tmp_path / "ds2" / p)
        pd.testing.assert_frame_equal(t1, t2)


def _crashing(batch: Batch, dataset_root: str, store_root: str | None) -> BatchReport:
    """A task whose worker dies on one file (raises instead of returning a report)."""
    if any("CoreTemp" in e.path for e in batch.entries):
        raise RuntimeError("worker died")
    return process_batch(batch, dataset_root, store_root)


def test_a_file_that_crashes_its_worker_is_isolated(archive: Path, tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s")
    with ThreadPoolExecutor(2) as pool:
        result = run_batches(
            plan_batches(scan([str(archive)], athlete_from="folder"), max_files=8),
            pool,
            tmp_path / "ds",
            store=store,
            task=_crashing,
        )
    crashed = [o for o in result.outcomes if o.error and "crashed its worker" in o.error]
    assert [Path(o.entry.path).name for o in crashed] == ["FR55-CoreTemp-Walk.fit"]
    assert result.retried >= 2
    assert {len(store.list_activities(a)) for a in FILES} == {2, 1} and result.count("imported") == 3


class _Interrupted(Exception):
    pass


def test_resume_after_an_interrupted_driver_gives_exactly_the_expected_runs(
    archive: Path, tmp_path: Path
) -> None:
    store = Store.open(tmp_path / "s")
    seen: list[BatchReport] = []

    def stop_after_first(report: BatchReport) -> None:
        seen.append(report)
        raise _Interrupted

    with ThreadPoolExecutor(1) as pool, pytest.raises(_Interrupted):
        run_batches(
            plan_batches(scan([str(archive)], athlete_from="folder"), max_files=1),
            pool,
            tmp_path / "ds",
            store=store,
            max_in_flight=1,
            on_report=stop_after_first,
        )
    assert len(seen) == 1
    first = {r.id for a in FILES for r in store.list_activities(a)}
    assert len(first) == 1
    result = scale_import(
        store, [str(archive)], athlete_from="folder", cluster=None, workers=1, dataset_root=tmp_path / "ds"
    )
    assert result.count("imported") == 3  # the committed file is not planned again
    ids = {a: {r.id for r in store.list_activities(a)} for a in FILES}
    assert sum(len(v) for v in ids.values()) == 4 and first <= ids["ann"] | ids["bob"]
    summaries = list((tmp_path / "ds" / "summaries").rglob("*.parquet"))
    assert sorted(p.name for p in summaries) == sorted(f"run-{i}.parquet" for v in ids.values() for i in v)
    again = scale_import(
        store, [str(archive)], athlete_from="folder", workers=1, dataset_root=tmp_path / "ds"
    )
    assert again.count("imported") == 0 and [Path(o.entry.path).name for o in again.outcomes] == [
        "zz-broken.fit"
    ]


# ------------------------------------------------------------------------------------------ cohort


def test_cohort_matches_numpy_least_squares(tmp_path: Path) -> None:
    rng = np.random.default_rng(18)
    truth = {"ann": (50.0, 0.0), "bob": (52.0, 0.6), "cy": (49.0, -0.3)}  # balance at ref, trend per 30 d
    frames = {}
    for athlete, (level, trend) in truth.items():
        n = 60
        days = np.sort(rng.uniform(0, 360, n))
        speed = rng.uniform(2.6, 4.2, n)
        bal = level + 0.8 * (speed - 10 / 3) + trend * days / 30 + rng.normal(0, 0.3, n)
        start = (pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(days, unit="D")).floor("us")
        days = (start - pd.Timestamp("1970-01-01", tz="UTC")).total_seconds().to_numpy() / 86400.0
        rows = [
            {
                "run_id": f"{athlete}{i:03d}",
                "start_time": start[i].to_pydatetime(),
                "speed_m_s_mean": speed[i],
                "balance_left_pct_mean": bal[i],
            }
            for i in range(n)
        ]
        by_year: dict[int, list[dict[str, object]]] = {}
        for r in rows:
            by_year.setdefault(r["start_time"].year, []).append(r)  # type: ignore[attr-defined]
        for year, part in by_year.items():
            write_summaries(tmp_path, athlete, year, part, "part-0.parquet")
        frames[athlete] = (days, speed, bal)
    got = {r.athlete: r for r in cohort(tmp_path)}
    assert set(got) == set(truth)
    for athlete, (days, speed, bal) in frames.items():
        slope_v, icpt_v = np.polyfit(speed, bal, 1)
        assert got[athlete].balance_adjusted_pct == pytest.approx(icpt_v + slope_v * 10 / 3, abs=1e-9)
        slope_t = np.polyfit(days, bal, 1)[0] * 30
        r = got[athlete]
        assert r.trend_pct_per_30d == pytest.approx(slope_t, abs=1e-9)
        assert r.trend_low is not None and r.trend_high is not None and r.trend_low < slope_t < r.trend_high
        assert r.n_runs == 60
    assert "asymmetry left" in got["bob"].flags and "worsening" in got["bob"].flags
    assert "asymmetry right" in got["cy"].flags
    assert not any(f in got["ann"].flags for f in ("worsening", "asymmetry left", "asymmetry right"))


def test_cli_cluster_import_and_cohort_json(archive: Path, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    runner = CliRunner()
    store = str(tmp_path / "store")
    # a real Dask LocalCluster with one worker process (the test with worker processes)
    res = runner.invoke(
        app,
        [
            "import",
            str(archive),
            "--store",
            store,
            "--athlete-from",
            "folder",
            "--cluster",
            "local:1",
            "--json",
        ],
    )
    assert res.exit_code == 1, res.output  # the broken file
    out = json.loads(res.stdout)
    assert out["imported"] == 4 and len(out["failed"]) == 1
    res = runner.invoke(app, ["cohort", "--store", store, "--json"])
    assert res.exit_code == 0, res.output
    athletes = {a["athlete"]: a for a in json.loads(res.stdout)["athletes"]}
    assert set(athletes) == {"ann", "bob"}
    assert all(a["balance_mean_pct"] is not None and "few runs" in a["flags"] for a in athletes.values())
    res = runner.invoke(app, ["import", str(archive), "--store", store, "--cluster", "nowhere:1"])
    assert res.exit_code == 2 and "local:N or tcp://HOST:PORT" in res.output
    assert os.listdir(tmp_path / "store" / "datasets")
    # the default batch executor (a process pool) over the same store: everything already there
    res = runner.invoke(app, ["import", str(archive), "--store", store, "--athlete-from", "folder", "--json"])
    assert json.loads(res.stdout)["imported"] == 0 and res.exit_code == 1


def test_athlete_mapping_without_its_columns_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "m.csv"
    bad.write_text("file,who\nx,y\n")
    with pytest.raises(ValueError, match=r"m\.csv: an athlete mapping needs the columns 'path'"):
        list(scan([tmp_path], athlete_from=f"csv:{bad}"))


def _dies_on_coretemp(batch: Batch, dataset_root: str, store_root: str | None) -> BatchReport:
    """A task that kills its worker process on one file (a decoder crash in C, an OOM kill)."""
    if any("CoreTemp" in e.path for e in batch.entries):
        os._exit(1)
    return process_batch(batch, dataset_root, store_root)


def test_a_killed_worker_process_is_retried_and_its_file_isolated(archive: Path, tmp_path: Path) -> None:
    dask = pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    store = Store.open(tmp_path / "s")
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        # two workers: while the nanny restarts the killed one (a fresh interpreter: slow on a loaded
        # box), the other runs the retries, so progress never waits on a restart; retries=0 keeps the
        # deaths to two (the batch, then the file alone)
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        ) as lc,
        distributed.Client(lc) as client,
    ):
        result = run_batches(
            plan_batches(scan([str(archive)], athlete_from="folder"), max_files=8),
            client.get_executor(pure=False),
            tmp_path / "ds",
            store=store,
            retries=0,
            task=_dies_on_coretemp,
        )
    crashed = [o for o in result.outcomes if o.error and "crashed its worker" in o.error]
    assert [Path(o.entry.path).name for o in crashed] == ["FR55-CoreTemp-Walk.fit"]
    assert result.count("imported") == 3
    ids = [r.id for a in FILES for r in store.list_activities(a)]
    assert len(ids) == len(set(ids)) == 3  # no duplicate, nothing half-written in the catalog
    assert len(list((tmp_path / "ds" / "summaries").rglob("*.parquet"))) == 3


@pytest.fixture
def s3_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A real S3-compatible server (moto) on 127.0.0.1 with one bucket; yields its endpoint."""
    server_mod = pytest.importorskip("moto.server")
    s3fs = pytest.importorskip("s3fs")
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    for key, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    s3fs.S3FileSystem.clear_instance_cache()
    s3fs.S3FileSystem().mkdir("runs-bucket")
    try:
        yield endpoint
    finally:
        s3fs.S3FileSystem.clear_instance_cache()
        server.stop()


# last in this file: after moto's server stopped, a new Dask worker process did not start here (seen
# once, not diagnosed)
def test_dataset_on_an_s3_compatible_server(archive: Path, tmp_path: Path, s3_server: str) -> None:
    local_store, s3_store = Store.open(tmp_path / "a"), Store.open(tmp_path / "b")
    with ThreadPoolExecutor(2) as pool:
        local = run_batches(
            plan_batches(scan([str(archive)], athlete_from="folder")),
            pool,
            tmp_path / "ds",
            store=local_store,
        )
        remote = run_batches(
            plan_batches(scan([str(archive)], athlete_from="folder")),
            pool,
            "s3://runs-bucket/ds",
            store=s3_store,
        )
    assert remote.count("imported") == local.count("imported") == 4
    import s3fs

    keys = sorted(s3fs.S3FileSystem().find("runs-bucket/ds/summaries"))
    local_keys = sorted(
        str(p.relative_to(tmp_path / "ds" / "summaries"))
        for p in (tmp_path / "ds" / "summaries").rglob("*.parquet")
    )
    assert [k.split("summaries/", 1)[1] for k in keys] == local_keys
    assert cohort("s3://runs-bucket/ds") == cohort(tmp_path / "ds")
