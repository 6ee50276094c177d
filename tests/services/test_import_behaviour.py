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

from _hang import HANG_GUARD_S
from stridelab.cli import app
from stridelab.model import Activity
from stridelab.services.imports import import_paths
from stridelab.store import AmbiguousIdError, Store, StoreError

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
    for row in store.list_activities("me", include_duplicates=True, include_undated=True):
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
        zf.write(small_files[2], "DI_CONNECT/uploads/12345678")  # no suffix: found by its FIT header
    store = Store.open(tmp_path / "s")
    result = import_paths(store, [outer], workers=1)
    assert len(result.imported) == 3 and not result.failed
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
    rows = {
        Path(r.source_path).name: r
        for r in store.list_activities("me", include_duplicates=True)  # truncated.fit is a duplicate
        if r.source_path
    }
    assert 0 < rows["truncated.fit"].n_records < rows["garmin-fenix-5-run.fit"].n_records
    # an explicitly named non-FIT file fails with its reason (exit code 1)
    code, out = _cli("import", str(bad / "notes.txt"), "--json", "--store", str(store_path))
    res = json.loads(out)
    assert code == 1
    assert {Path(f["path"]).name for f in res["failed"]} == {"notes.txt"}
    # a path that does not exist is a usage error (exit code 2), like a bad option: nothing is read
    res2 = runner.invoke(
        app, ["import", str(bad / "notes.txt"), str(tmp_path / "nope"), "--json", "--store", str(store_path)]
    )
    assert res2.exit_code == 2  # under --json the error is a JSON object (issue 19)
    error = json.loads(res2.stdout)["error"]
    assert error["code"] == "bad_input" and "nope: no such file or directory" in error["message"]
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


def test_gzip_bomb_is_refused_with_a_clear_reason(
    tmp_path: Path, small_files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import stridelab.services.imports as imports

    monkeypatch.setattr(imports, "MAX_FILE_BYTES", 100_000)
    bomb = small_files[0].parent / "bomb.fit.gz"
    bomb.write_bytes(gzip.compress(b"\0" * 1_000_000))
    result = import_paths(Store.open(tmp_path / "s"), [small_files[0].parent], workers=1)
    assert len(result.imported) == 3
    assert result.failed == [
        (str(bomb), "refused: more than 100,000 bytes (no FIT activity is that large; a gzip/zip bomb guard)")
    ]


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
    deadline = time.monotonic() + HANG_GUARD_S  # a hang guard, not a speed check
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
    outcomes = result.imported + result.skipped + result.failed + result.not_activities
    assert len(outcomes) == len(files)
    assert len(result.failed) + len(result.not_activities) <= 22  # see test_import_corpus
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
    # without --format the suffix decides: a .parquet file is never CSV text
    inferred = tmp_path / "inferred.parquet"
    code, _ = _cli("export", run_id[:8], "-o", str(inferred), "--store", store_path)
    assert code == 0 and inferred.read_bytes()[:4] == b"PAR1"
    code, _ = _cli("export", run_id[:8], "--format", "CSV", "-o", str(out_csv), "--store", store_path)
    assert code == 0 and out_csv.read_text().startswith("time,")
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


def test_damaged_files_give_exit_code_1_and_sound_files_with_notes_give_0(
    shared_data: Path, tmp_path: Path, small_files: list[Path]
) -> None:
    """Issue: truncated and bad-CRC inputs must give exit code 1 even though what precedes the fault is
    imported; a sound file with a tolerated quirk (COROS misaligned field) is a note, exit code 0."""
    fit = shared_data / "fit" / "dtcooper__python-fitparse"
    store_path = str(tmp_path / "s")
    damaged = fit / "activity-filecrc.fit"
    code, out = _cli("import", str(small_files[0]), str(damaged), "--json", "--store", store_path)
    res = json.loads(out)
    assert code == 1
    assert res["imported"] == 2 and res["failed"] == []
    assert [(w["path"], w["warning"][:8]) for w in res["warnings"]] == [(str(damaged), "file_crc")]
    # the same in the human table, and re-importing (nothing new to say) is exit 0
    code, out = _cli("import", str(damaged), "--store", store_path)
    assert code == 0 and "already present" in out
    quirky = fit / "coros-pace-2-cycling-misaligned-fields.fit"
    code, out = _cli("import", str(quirky), "--json", "--store", store_path)
    res = json.loads(out)
    assert code == 0, res
    assert res["warnings"] == [] and res["imported"] == 1
    assert [n["path"] for n in res["notes"]] == [str(quirky)]
    assert res["notes"][0]["note"].startswith("misaligned_field at byte ")
    shown = json.loads(_cli("show", res["imported_ids"][0][:10], "--json", "--store", store_path)[1])
    assert shown["problems"] == [] and shown["notes"] == [res["notes"][0]["note"]]
    # the human table of a damaged import lists the fault and exits 1 too
    store2 = str(tmp_path / "s2")
    code, out = _cli("import", str(damaged), "--store", store2)
    assert code == 1 and "of which damaged" in out and "file CRC" in out


def test_nested_zip_larger_than_a_fit_file_limit_is_streamed_not_refused(
    small_files: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Garmin account export nests zips of several GB: a nested zip is extracted to a temporary file
    (bounded by the zip-bomb guards), never refused for exceeding the size limit of one FIT file nor
    held in memory; its members are skipped by fingerprint on re-import; the temp files are removed."""
    import stridelab.services.imports as imports

    limit = max(f.stat().st_size for f in small_files) + 100
    monkeypatch.setattr(imports, "MAX_FILE_BYTES", limit)
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_STORED) as zf:
        for f in small_files:
            zf.write(f, f"Part1/{f.name}")
    assert inner.stat().st_size > limit
    outer = tmp_path / "export.zip"
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_STORED) as zf:
        zf.write(inner, "DI_CONNECT/UploadedFiles_0-_Part1.zip")
    spills: list[str] = []
    real_tmpdir = tempfile.TemporaryDirectory

    def _spy(*args: object, **kwargs: object) -> tempfile.TemporaryDirectory[str]:
        tmp = real_tmpdir(*args, **kwargs)  # type: ignore[call-overload]
        spills.append(tmp.name)
        return tmp  # type: ignore[no-any-return]

    monkeypatch.setattr(imports.tempfile, "TemporaryDirectory", _spy)
    store = Store.open(tmp_path / "s")
    result = import_paths(store, [outer], workers=1)
    assert result.failed == [] and len(result.imported) == 3
    assert all("!DI_CONNECT/UploadedFiles_0-_Part1.zip!Part1/" in p for p, _ in result.imported)
    assert spills and not any(Path(s).exists() for s in spills)
    again = import_paths(store, [outer], workers=1)
    assert len(again.skipped) == 3 and not again.imported and not again.failed
    # zips nested deeper than the guard allows are refused with a reason, the rest still imports
    monkeypatch.setattr(imports, "MAX_ZIP_DEPTH", 0)
    deep = import_paths(Store.open(tmp_path / "s2"), [outer, small_files[0]], workers=1)
    assert len(deep.imported) == 1
    assert deep.failed == [
        (f"{outer}!DI_CONNECT/UploadedFiles_0-_Part1.zip", "refused: zips nested over 0 levels deep")
    ]


def test_small_imports_decode_in_process_without_starting_a_pool(
    small_files: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Re-importing an archive whose non-activity files are retried must stay near-instant: a few small
    files never pay for starting decoder processes."""
    import stridelab.services.imports as imports

    def _no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("a process pool was started for a tiny import")

    monkeypatch.setattr(imports, "ProcessPoolExecutor", _no_pool)
    (small_files[0].parent / "junk.fit").write_bytes(b"not fit")
    result = import_paths(Store.open(tmp_path / "s"), [small_files[0].parent], workers=2)
    assert len(result.imported) == 3 and len(result.failed) == 1


def test_bad_cli_values_are_one_clear_line_not_a_traceback(tmp_path: Path) -> None:
    store_path = str(tmp_path / "s")
    for args in (["runs", "--since", ""], ["runs", "--until", "2026-13-45"]):
        res = runner.invoke(app, [*args, "--store", store_path])
        assert res.exit_code == 2, res.output
        assert res.exception is None or isinstance(res.exception, SystemExit)
        assert "is not a date" in res.output
    # an athlete name that cannot be a store key is refused up front, not once per imported file
    res = runner.invoke(app, ["import", str(tmp_path), "--athlete", "../x", "--json", "--store", store_path])
    assert res.exit_code == 2 and "Invalid value for '--athlete'" in " ".join(res.output.split())
    with pytest.raises(StoreError, match="Invalid athlete"):
        import_paths(Store.open(store_path), [tmp_path], athlete="")
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "catalog.sqlite").write_text("not a database, just text " * 40)
    res = runner.invoke(app, ["runs", "--store", str(corrupt)])
    assert res.exit_code == 2 and "is it a stridelab store?" in " ".join(res.output.split())
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    res = runner.invoke(app, ["runs", "--store", str(not_a_dir)])
    assert res.exit_code == 2 and "is a file, not a directory" in res.output


def _fake_activity(activity_id: str, start: str) -> Activity:
    index = pd.DatetimeIndex([pd.Timestamp(start, tz="UTC")], name="time")
    return Activity(
        id=activity_id,
        source_path=None,
        format="fit",
        start_time=pd.Timestamp(start, tz="UTC"),
        duration_s=60.0,
        elapsed_s=60.0,
        distance_m=200.0,
        sport="running",
        sub_sport=None,
        records=pd.DataFrame({"elapsed_s": [0.0]}, index=index),
    )


def test_ambiguous_run_id_names_the_candidates(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s")
    a, b = "abcd1" + "0" * 59, "abcd2" + "0" * 59
    store.add_activity("me", _fake_activity(a, "2026-01-02T07:00"))
    store.add_activity("me", _fake_activity(b, "2026-01-03T07:00"))
    res = runner.invoke(app, ["show", "ABCD", "--store", str(store.root)])
    assert res.exit_code == 2
    text = " ".join(res.output.split())
    assert "ambiguous" in text and a[:12] in text and b[:12] in text and "2026-01-03 07:00" in text
    with pytest.raises(AmbiguousIdError):
        store.resolve_id("me", "abcd")
    assert store.resolve_id("me", "abcd2") == b
    # a stream lost from the store is a clear error on export, not a traceback
    store.stream_path("records", "me", b).unlink()
    res = runner.invoke(app, ["export", "abcd2", "-o", str(tmp_path / "x.csv"), "--store", str(store.root)])
    assert res.exit_code == 2 and "is missing from store" in " ".join(res.output.split())


def test_pipes_in_a_folder_or_named_never_block_the_import(small_files: list[Path], tmp_path: Path) -> None:
    folder = small_files[0].parent
    pipe = folder / "pipe"
    os.mkfifo(pipe)  # opening it to sniff a FIT header would block forever
    result = import_paths(Store.open(tmp_path / "s"), [folder, pipe], workers=1)
    assert len(result.imported) == 3
    assert result.ignored == [str(pipe)]
    assert result.failed == [(str(pipe), "not a regular file (a pipe, socket or device)")]


def test_demo_builds_a_season_offline_and_shows_each_runs_balance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue: ~60 runs over ~3 months, imported into --store, the runs table with each run's mean GCT
    balance; offline. (Its budget, well under 60 s, is checked by bench/speed_checks.py, not here.)"""
    import socket

    def _offline(*args: object, **kwargs: object) -> None:
        raise AssertionError("demo tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", _offline)
    store_path = str(tmp_path / "demo")
    res = runner.invoke(app, ["demo", "--store", store_path])
    assert res.exit_code == 0, res.output
    assert "ignored" not in res.output  # the truth sidecars are not offered to the import
    runs = json.loads(_cli("runs", "--json", "--store", store_path)[1])
    assert len(runs) == 60
    span = pd.Timestamp(runs[-1]["start_time"]) - pd.Timestamp(runs[0]["start_time"])
    assert pd.Timedelta(days=75) <= span <= pd.Timedelta(days=100)
    balances = [r["balance_mean_left_pct"] for r in runs]
    assert all(45 < b < 56 for b in balances)
    for r in runs:  # each run's row shows its id and its mean balance
        assert f"{r['balance_mean_left_pct']:.1f} %" in res.output and r["id"][:8] in res.output
    assert "mean GCT balance over 60 runs" in res.output


def test_migrations_may_hold_triggers_and_semicolons_in_strings(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s")
    store.ensure_schema(
        "trigger-area",
        [
            """
            CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL DEFAULT 'a; b');
            CREATE TABLE log (n INTEGER);
            CREATE TRIGGER notes_log AFTER INSERT ON notes BEGIN
                INSERT INTO log (n) VALUES (new.id);
                UPDATE notes SET text = text || '; seen' WHERE id = new.id;
            END;
            """
        ],
    )
    with store.transaction() as tx:
        tx.execute("INSERT INTO notes (id) VALUES (7)")
    conn = store.connect()
    assert conn.execute("SELECT text FROM notes").fetchone()[0] == "a; b; seen"
    assert [tuple(r) for r in conn.execute("SELECT n FROM log").fetchall()] == [(7,)]


def test_default_store_is_the_user_data_dir_unless_overridden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stridelab.store import default_store_path

    monkeypatch.delenv("STRIDELAB_STORE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_store_path() == tmp_path / "xdg" / "stridelab" / "store"
    code, out = _cli("runs", "--json")
    assert code == 0 and json.loads(out) == []
    assert (tmp_path / "xdg" / "stridelab" / "store" / "catalog.sqlite").exists()
    monkeypatch.setenv("STRIDELAB_STORE", str(tmp_path / "env"))
    assert default_store_path() == tmp_path / "env"
    code, _ = _cli("runs", "--store", str(tmp_path / "flag"))  # --store wins over the environment
    assert code == 0 and (tmp_path / "flag" / "catalog.sqlite").exists()
    assert not (tmp_path / "env").exists()
