"""Import behaviour: idempotence, archives, bad input, atomicity under kill and disk-full, CLI contracts."""

from __future__ import annotations

import gzip
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from stridelab.cli import app
from stridelab.ingest import import_paths
from stridelab.store import Store, StoreError

runner = CliRunner()

SMALL = [
    "dtcooper__python-fitparse/garmin-fenix-5-run.fit",
    "dtcooper__python-fitparse/garmin-fenix-5-walk.fit",
    "Runalyze__Runalyze/Multisession.fit",
]


@pytest.fixture
def small_files(shared_data: Path, tmp_path: Path) -> list[Path]:
    out = []
    for rel in SMALL:
        dst = tmp_path / "in" / Path(rel).name
        dst.parent.mkdir(exist_ok=True)
        shutil.copy(shared_data / "fit" / rel, dst)
        out.append(dst)
    return out


def _cli(*args: str) -> tuple[int, str]:
    res = runner.invoke(app, list(args))
    return res.exit_code, res.stdout


def _consistent(store: Store) -> int:
    """Every catalog row has a readable stream with its record count and its laps; returns the count."""
    n = 0
    for row in store.list_activities("me"):
        rec = store.records("me", row.id)
        assert len(rec) == row.n_records
        n += 1
    conn = sqlite3.connect(store.catalog_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    orphans = conn.execute(
        "SELECT COUNT(*) FROM laps l LEFT JOIN activities a ON a.id = l.activity_id WHERE a.id IS NULL"
    ).fetchone()[0]
    assert orphans == 0
    return n


def test_import_is_idempotent_and_reimport_reads_nothing(small_files: list[Path], store_path: Path) -> None:
    code, out = _cli("import", str(small_files[0].parent), "--json", "--store", str(store_path))
    assert code == 0
    first = json.loads(out)
    assert first["imported"] == 3 and first["skipped"] == 0 and first["failed"] == []
    code, out = _cli("import", str(small_files[0].parent), "--json", "--store", str(store_path))
    second = json.loads(out)
    assert code == 0 and second["imported"] == 0 and second["skipped"] == 3
    # the same bytes under another name and inside a zip and a .fit.gz are the same activities
    other = small_files[0].parent.parent / "other"
    other.mkdir()
    shutil.copy(small_files[0], other / "renamed.fit")
    (other / "run.fit.gz").write_bytes(gzip.compress(small_files[1].read_bytes()))
    with zipfile.ZipFile(other / "export.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(small_files[2], "DI_CONNECT/uploads/activity_1.fit")
    code, out = _cli("import", str(other), "--json", "--store", str(store_path))
    third = json.loads(out)
    assert code == 0 and third["imported"] == 0 and third["skipped"] == 3, third
    assert _consistent(Store.open(store_path)) == 3


def test_zip_exports_nested_zips_and_gz_are_imported(small_files: list[Path], tmp_path: Path) -> None:
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(small_files[0], "a.FIT")
    outer = tmp_path / "export.zip"
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(inner, "DI_CONNECT/UploadedFiles_0-_Part1.zip")
        zf.writestr("DI_CONNECT/summary.json", "{}")
        zf.writestr("run2.fit.gz", gzip.compress(small_files[1].read_bytes()))
    store = Store.open(tmp_path / "s")
    result = import_paths(store, [outer], workers=1)
    assert len(result.imported) == 2 and not result.failed
    assert result.ignored == [f"{outer}!DI_CONNECT/summary.json"]


def test_bad_files_get_one_clear_line_each_and_the_rest_imports(
    small_files: list[Path], shared_data: Path, tmp_path: Path
) -> None:
    bad = small_files[0].parent
    good = small_files[0].read_bytes()
    (bad / "empty.fit").write_bytes(b"")
    (bad / "notfit.fit").write_text("this is not a FIT file at all, just text\n")
    (bad / "truncated.fit").write_bytes(good[: len(good) // 2])
    crc = bytearray(good)
    crc[-1] ^= 0xFF
    (bad / "badcrc.fit").write_bytes(bytes(crc))
    (bad / "broken.fit.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    (bad / "notes.txt").write_text("ignored")
    store_path = tmp_path / "s"
    code, out = _cli("import", str(bad), "--json", "--store", str(store_path))
    res = json.loads(out)
    assert code == 1
    # damaged files keep what precedes the fault and say so; unusable ones fail with a reason
    assert res["imported"] == 5
    warnings = {Path(w["path"]).name: w["warning"] for w in res["warnings"]}
    assert set(warnings) == {"truncated.fit", "badcrc.fit"}
    assert "exceeds the file" in warnings["truncated.fit"] or "truncated" in warnings["truncated.fit"]
    assert "CRC" in warnings["badcrc.fit"]
    errors = {Path(f["path"]).name: f["error"] for f in res["failed"]}
    assert set(errors) == {"empty.fit", "notfit.fit", "broken.fit.gz"}
    assert "empty" in errors["empty.fit"]
    assert "not a FIT file" in errors["notfit.fit"]
    assert "gzip" in errors["broken.fit.gz"]
    assert all("Traceback" not in e for e in errors.values())
    assert res["ignored"] == 1
    store = Store.open(store_path)
    rows = {Path(r.source_path).name: r for r in store.list_activities("me") if r.source_path}
    assert 0 < rows["truncated.fit"].n_records < rows["garmin-fenix-5-run.fit"].n_records
    # an explicitly named non-FIT file fails with its reason; a missing path too
    code, out = _cli(
        "import", str(bad / "notes.txt"), str(tmp_path / "nope"), "--json", "--store", str(store_path)
    )
    res = json.loads(out)
    assert code == 1
    assert {Path(f["path"]).name for f in res["failed"]} == {"notes.txt", "nope"}
    assert _consistent(Store.open(store_path)) == 5


def test_zip_bomb_is_refused(tmp_path: Path, small_files: list[Path]) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("huge.fit", b"\0" * (20 * 1024 * 1024))
        zf.write(small_files[0], "ok.fit")
    store = Store.open(tmp_path / "s")
    result = import_paths(store, [bomb], workers=1)
    assert len(result.imported) == 1
    assert len(result.failed) == 1 and "zip bomb" in result.failed[0][1]


def test_directory_of_ten_thousand_mixed_files(tmp_path: Path, small_files: list[Path]) -> None:
    mixed = tmp_path / "mixed"
    for i in range(100):
        sub = mixed / f"d{i:02d}"
        sub.mkdir(parents=True)
        for j in range(99):
            (sub / f"f{j}.{('json', 'txt', 'png')[j % 3]}").write_bytes(b"x" * (j % 7))
        (sub / "junk.fit").write_bytes(os.urandom(64))
    shutil.copytree(small_files[0].parent, mixed / "real")
    store = Store.open(tmp_path / "s")
    result = import_paths(store, [mixed], workers=2)
    assert len(result.imported) == 3
    assert len(result.ignored) == 9900
    assert len(result.failed) == 100
    assert all("not a FIT file" in reason for _, reason in result.failed)


def test_unreadable_file_is_reported(small_files: list[Path]) -> None:
    tmp_path = Path(tempfile.mkdtemp(prefix="stridelab-perm-"))  # under /tmp, reachable by any user
    locked = tmp_path / "locked.fit"
    shutil.copy(small_files[0], locked)
    locked.chmod(0)
    readable = tmp_path / "ok.fit"
    shutil.copy(small_files[1], readable)
    store = Store.open(tmp_path / "s")
    if os.geteuid() == 0:  # root reads everything: drop the effective uid for the import itself
        for p in [tmp_path, *tmp_path.rglob("*")]:
            if p != locked:
                p.chmod(0o777 if p.is_dir() else 0o666)
        os.seteuid(65534)
        try:
            result = import_paths(Store(store.root), [locked, readable], workers=1)
        finally:
            os.seteuid(0)
    else:
        result = import_paths(store, [locked, readable], workers=1)
    shutil.rmtree(tmp_path)
    assert len(result.imported) == 1
    assert result.failed == [(str(locked), "permission denied (cannot read the file)")]


def _limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))


def test_disk_full_loses_nothing_already_stored(
    tmp_path: Path, small_files: list[Path], shared_data: Path
) -> None:
    store_path = tmp_path / "s"
    code, _ = _cli("import", str(small_files[0]), "--store", str(store_path))
    assert code == 0
    before = _consistent(Store.open(store_path))
    big = shared_data / "fit" / "Runalyze__Runalyze/garmin-runPower.fit"
    # a process that cannot write more than 20 kB per file: the big stream cannot be written
    proc = subprocess.run(
        [sys.executable, "-m", "stridelab.cli", "import", str(big), "--json", "--store", str(store_path)],
        capture_output=True,
        text=True,
        preexec_fn=_limit_file_size,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    res = json.loads(proc.stdout)
    assert "disk full" in res["failed"][0]["error"]
    store = Store.open(store_path)
    assert _consistent(store) == before
    assert not list((store.root / "streams").rglob("*.tmp"))


def test_killed_import_leaves_a_consistent_store(tmp_path: Path, shared_data: Path) -> None:
    src = tmp_path / "archive"
    src.mkdir()
    files = sorted((shared_data / "fit").rglob("*.fit"))
    for i, f in enumerate(files):
        shutil.copy(f, src / f"{i:03d}_{f.name}")
    store_path = tmp_path / "s"
    Store.open(store_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "stridelab.cli", "import", str(src), "--json", "--store", str(store_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    conn = sqlite3.connect(store_path / "catalog.sqlite", timeout=30)
    while time.monotonic() < deadline:
        n = conn.execute("SELECT COUNT(*) FROM activities").fetchone()[0]
        if n >= 10:
            break
        time.sleep(0.05)
    conn.close()
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its decoder processes, mid-way
    proc.wait()
    store = Store.open(store_path)
    partial = _consistent(store)
    assert 10 <= partial < len(files) - 22
    store.vacuum()
    result = import_paths(store, [src], workers=2)
    assert len(result.skipped) >= partial
    assert len(result.imported) + len(result.skipped) + len(result.failed) == len(files)
    assert len(result.failed) <= 22  # the corpus' broken and non-activity files (see test_import_corpus)
    assert (
        _consistent(store)
        == len(store.known_ids("me"))
        == len({sha for _, sha in result.imported + result.skipped})
    )


def test_cli_contracts_runs_show_export(small_files: list[Path], tmp_path: Path) -> None:
    store_path = str(tmp_path / "s")
    code, out = _cli("import", str(small_files[0].parent), "--json", "--store", store_path)
    assert code == 0
    code, out = _cli("runs", "--json", "--store", store_path)
    runs = json.loads(out)
    assert len(runs) == 3
    assert {"id", "start_time", "sport", "source_path"} <= set(runs[0])
    assert runs == sorted(runs, key=lambda r: r["start_time"])
    code, out = _cli("runs", "--json", "--since", runs[1]["start_time"][:10], "--store", store_path)
    assert all(r["start_time"] >= runs[1]["start_time"][:10] for r in json.loads(out))
    code, out = _cli("runs", "--json", "--sport", "walking", "--store", store_path)
    assert [r["sport"] for r in json.loads(out)] == ["walking"]
    run_id = next(r["id"] for r in runs if r["source_path"].endswith("garmin-fenix-5-run.fit"))
    code, out = _cli("show", run_id[:7], "--json", "--store", store_path)
    assert code == 0
    shown = json.loads(out)
    assert shown["id"] == run_id
    for key in ("sport", "start_time", "duration_s", "distance_m", "n_records"):
        assert key in shown
    assert shown["start_time"].endswith("Z")
    assert set(shown["dynamics"]) >= {
        "stance_time_ms_mean",
        "stance_time_balance_left_pct_mean",
        "vertical_oscillation_mm_mean",
        "step_length_mm_mean",
        "vertical_ratio_pct_mean",
        "cadence_spm_mean",
    }
    assert abs(shown["dynamics"]["stance_time_balance_left_pct_mean"] - 52.5079) < 1e-3
    code, _ = _cli("show", "zzzz", "--store", store_path)
    assert code == 2
    code, _ = _cli("show", "ffffffff", "--store", store_path)
    assert code == 2
    out_csv = tmp_path / "run.csv"
    code, _ = _cli("export", run_id[:8], "--format", "csv", "-o", str(out_csv), "--store", store_path)
    assert code == 0
    df = pd.read_csv(out_csv)
    assert len(df) == shown["n_records"] and "stance_time_balance_left_pct" in df.columns
    out_pq = tmp_path / "run.parquet"
    code, _ = _cli("export", run_id[:8], "--format", "parquet", "-o", str(out_pq), "--store", store_path)
    assert code == 0 and len(pd.read_parquet(out_pq)) == shown["n_records"]
    code, _ = _cli("export", run_id[:8], "--format", "xml", "-o", str(out_pq), "--store", store_path)
    assert code == 2
    code, out = _cli("--version")
    assert code == 0 and out.startswith("stridelab ")


def test_store_env_var_and_multi_athlete(
    small_files: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRIDELAB_STORE", str(tmp_path / "env-store"))
    code, _ = _cli("import", str(small_files[0]), "--athlete", "anna")
    assert code == 0
    code, out = _cli("runs", "--json", "--athlete", "anna")
    assert len(json.loads(out)) == 1
    code, out = _cli("runs", "--json")
    assert json.loads(out) == []
    assert (tmp_path / "env-store" / "catalog.sqlite").exists()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s")
    with store.transaction() as tx:
        tx.execute("UPDATE schema_versions SET version = 99 WHERE namespace = 'core'")
    store.close()
    with pytest.raises(StoreError, match="newer"):
        Store.open(tmp_path / "s")


def test_migrations_apply_once_per_namespace(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s")
    migrations = ["CREATE TABLE t1 (a INTEGER)", "ALTER TABLE t1 ADD COLUMN b TEXT"]
    store.ensure_schema("demo-area", migrations[:1])
    assert store.schema_version("demo-area") == 1
    again = Store.open(tmp_path / "s")
    again.ensure_schema("demo-area", migrations)
    assert again.schema_version("demo-area") == 2
    with again.transaction() as tx:
        tx.execute("INSERT INTO t1 (a, b) VALUES (1, 'x')")
    # a failing migration leaves the previous version intact (atomic)
    with pytest.raises(sqlite3.Error):
        Store.open(tmp_path / "s").ensure_schema("demo-area", [*migrations, "CREATE TABLE t1 (dup INTEGER)"])
    assert Store.open(tmp_path / "s").schema_version("demo-area") == 2


def test_import_takes_imu_recordings_with_a_sidecar(small_files: list[Path], tmp_path: Path) -> None:
    import dataclasses

    from stridelab.sim.imu import ImuTruth, simulate_imu, write_table_with_sidecar

    folder = small_files[0].parent
    sim = simulate_imu(ImuTruth(duration_s=8.0, placements=("shank",)), seed=4)
    write_table_with_sidecar(
        dataclasses.replace(sim.recording, activity="running"), folder / "shanks.parquet"
    )
    store_path = str(tmp_path / "s")
    code, out = _cli("import", str(folder), "--json", "--store", store_path)
    res = json.loads(out)
    assert code == 0, res
    assert res["imported"] == 4 and res["ignored"] == 0  # 3 FIT + 1 IMU; the sidecar is not "ignored"
    store = Store.open(store_path)
    rows = store.connect().execute("SELECT placements, n_strides FROM imu_recordings").fetchall()
    assert len(rows) == 1 and rows[0][1] > 5
    code, out = _cli("import", str(folder), "--json", "--store", store_path)
    assert json.loads(out)["skipped"] == 4


def test_tags_are_shown_where_runs_are(small_files: list[Path], tmp_path: Path) -> None:
    store_path = str(tmp_path / "s")
    code, out = _cli("import", str(small_files[0]), "--json", "--store", store_path)
    run_id = json.loads(out)["imported_ids"][0]
    code, _ = _cli("tag", run_id[:8], "shoes=fly3", "--store", store_path)
    assert code == 0
    code, out = _cli("runs", "--json", "--store", store_path)
    assert json.loads(out)[0]["tags"] == ["shoes=fly3"]
    code, out = _cli("show", run_id[:8], "--json", "--store", store_path)
    assert json.loads(out)["tags"] == ["shoes=fly3"]
    code, out = _cli("runs", "--store", store_path)
    assert "shoes=fly3" in out
