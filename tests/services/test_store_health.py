"""Issue 19, parts 4 and 6: device-relative FIT times (resolved from another message, else flagged and
kept out of date-based views, never stored as 1990), leftovers removed when a store opens, and
``stridelab doctor`` (integrity, leftovers, re-derivation after an upgrade, retry of failed files,
--json, exit codes) on real stores."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from stridelab.cli import app
from stridelab.io.fit import FIT_EPOCH_UNIX_S, FitWriter, Message, activity_messages, mesg_num, read_activity
from stridelab.model import Activity
from stridelab.services import open_store
from stridelab.services.doctor import run_doctor
from stridelab.services.imports import import_paths
from stridelab.version import DECODER_VERSION

DEVICE_TIME = ("antfs-dump.63.fit", "compressed-speed-distance.fit")  # FR70 files, uptime only
DATED = "garmin-fenix-5-run.fit"
UPTIME_S = 5_000_000  # the device had been on for ~58 days: a time below 0x10000000
UTC_START = pd.Timestamp("2024-05-04 06:30:00", tz="UTC")


def _fit_dir(shared_data: Path) -> Path:
    return shared_data / "fit" / "dtcooper__python-fitparse"


def _device_time_fit(correlate: str | None) -> bytes:
    """A run whose record, lap and session times count from power-on (``UPTIME_S`` at the start);
    ``correlate``: ``"correlation"`` adds a timestamp_correlation message, ``"created"`` an absolute
    ``file_id.time_created``, None neither."""
    start = pd.Timestamp(FIT_EPOCH_UNIX_S + UPTIME_S, unit="s", tz="UTC")
    t = pd.date_range(start, periods=300, freq="1s", name="time")
    rec = pd.DataFrame({"speed_m_s": np.full(300, 3.0), "distance_m": np.arange(300) * 3.0}, index=t)
    activity = Activity("1" * 64, None, "fit", start, 299.0, 299.0, 897.0, "running", None, rec)
    messages = activity_messages(activity)
    utc_s = int(UTC_START.timestamp()) - FIT_EPOCH_UNIX_S
    if correlate == "created":
        first = messages[0]
        assert isinstance(first, Message)
        messages[0] = Message(first.mesg_num, {**first.fields, "time_created": utc_s})
    elif correlate == "correlation":  # 100 s into the run, the device learnt the UTC time
        fields = {"timestamp": utc_s + 100, "system_timestamp": UPTIME_S + 100}
        messages.insert(1, Message(mesg_num("timestamp_correlation"), fields))
    w = FitWriter()
    for m in messages:
        w.write(m)
    return w.close()


@pytest.mark.parametrize("correlate", ["correlation", "created"])
def test_device_relative_times_are_resolved_from_another_message(correlate: str) -> None:
    a = read_activity(_device_time_fit(correlate))
    assert a.time_absolute
    assert a.start_time == UTC_START
    assert a.records.index[0] == UTC_START and a.records.index[-1] == UTC_START + pd.Timedelta(seconds=299)
    assert a.laps[0].start_time == UTC_START and a.sessions[0].start_time == UTC_START
    assert a.duration_s == pytest.approx(299.0)


def test_unresolved_device_times_are_flagged_never_1990(shared_data: Path, tmp_path: Path) -> None:
    unresolved = read_activity(_device_time_fit(None))
    assert not unresolved.time_absolute and unresolved.start_time.year == 1970

    store = open_store(tmp_path / "store")
    fit = _fit_dir(shared_data)
    result = import_paths(store, [fit / n for n in (*DEVICE_TIME, DATED)], workers=1)
    assert len(result.imported) == 3, result.to_json()
    rows = store.list_activities("me", include_undated=True)
    undated = [r for r in rows if not r.time_absolute]
    assert len(undated) == 2 and all(r.start_time.year == 1970 for r in undated)
    assert min(r.start_time.year for r in rows if r.time_absolute) >= 2000
    years = {r[0][:4] for r in store.connect().execute("SELECT start_time FROM activities")}
    assert "1990" not in years
    # date-based views leave them out; the run list shows them without a date
    assert len(store.list_activities("me")) == 1
    runner = CliRunner()
    weeks = json.loads(runner.invoke(app, ["load", "--store", str(store.root), "--json"]).stdout)
    assert weeks and min(w["week_start"] for w in weeks) >= "2017"
    listed = json.loads(runner.invoke(app, ["runs", "--store", str(store.root), "--json"]).stdout)
    assert sorted(str(r["start_time"]) for r in listed if not r["time_absolute"]) == ["None", "None"]
    text = runner.invoke(app, ["runs", "--store", str(store.root)]).output
    assert text.count("no absolute time") == 2 and "1990" not in text and "1970" not in text
    trend = json.loads(runner.invoke(app, ["trend", "--store", str(store.root), "--json"]).stdout)
    assert [t["start_time"][:4] for t in trend] == ["2017"]


def _age(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_opening_a_store_removes_old_leftovers_only(shared_data: Path, tmp_path: Path) -> None:
    store = open_store(tmp_path / "store")
    import_paths(store, [_fit_dir(shared_data) / DATED], workers=1)
    folder = next((store.root / "streams" / "records").iterdir())
    old_tmp, new_tmp = folder / f".{'a' * 64}.x1.tmp", folder / f".{'b' * 64}.x2.tmp"
    old_orphan, new_orphan = folder / f"{'c' * 64}.parquet", folder / f"{'d' * 64}.parquet"
    for f in (old_tmp, new_tmp, old_orphan, new_orphan):
        f.write_bytes(b"partial")
    for f in (old_tmp, old_orphan):
        _age(f, 3600)
    (store.root / "streams" / ".last-sweep").unlink()  # as if the last sweep was long ago
    store.close()
    reopened = open_store(store.root)
    assert not old_tmp.exists() and not old_orphan.exists()
    assert new_tmp.exists() and new_orphan.exists()  # a concurrent import may still commit them
    assert len(reopened.list_activities("me")) == 1


def _cli(*args: str) -> tuple[int, dict[str, object]]:
    res = CliRunner().invoke(app, [*args, "--json"])
    return res.exit_code, json.loads(res.stdout)


def test_doctor_finds_and_fixes(shared_data: Path, tmp_path: Path) -> None:
    fit = _fit_dir(shared_data)
    store = open_store(tmp_path / "store")
    import_paths(store, [fit / n for n in (*DEVICE_TIME, DATED)], workers=1)
    code, healthy = _cli("doctor", "--store", str(store.root))
    assert code == 0 and healthy["healthy"] is True and healthy["runs_checked"] == 3

    # a store imported by an older version: no decoder version, 1990 dates, an old timer time
    dated = next(r for r in store.list_activities("me"))
    with store.transaction() as tx:
        tx.execute("UPDATE activities SET decoder_version = 0")
        tx.execute(
            "UPDATE activities SET start_time = '1990-07-09T07:00:41.000000Z', time_absolute = 1 "
            "WHERE time_absolute = 0"
        )
        tx.execute("UPDATE activities SET duration_s = 1.0 WHERE id = ?", (dated.id,))
    # a file that failed with the old decoder (and imports now), one that is gone
    now_fine = fit / "2013-02-06-12-11-14.fit"
    with store.transaction() as tx:
        tx.executemany(
            "INSERT INTO import_failures VALUES ('me', ?, 'old decoder fault', 0, '2020-01-01T00:00:00Z')",
            [(str(now_fine),), (str(tmp_path / "gone.fit"),)],
        )
    # leftovers of a killed import, and an old import temp folder
    folder = store.root / "streams" / "records" / "me"
    leftovers = [folder / f".{dated.id}.k9.tmp", folder / f"{'e' * 64}.parquet"]
    for f in leftovers:
        f.write_bytes(b"x")
        _age(f, 3600)
    temp_dir = tmp_path / "tmp"
    old_import = temp_dir / "stridelab-import-abc123"
    old_import.mkdir(parents=True)
    _age(old_import, 3 * 86400)
    # a stream that went missing
    missing = next(r for r in store.list_activities("me") if r.start_time.year == 1990)
    (folder / f"{missing.id}.parquet").rename(tmp_path / "aside.parquet")

    report = run_doctor(store, temp_dir=temp_dir)  # check only: nothing changes
    kinds = sorted(f.kind for f in report.findings)
    assert kinds == sorted(
        ["temp_file", "orphan_stream", "import_temp_dir", "stream"]
        + ["outdated_run"] * 3
        + ["failed_file"] * 2
    ), kinds
    assert all(f.fixed is None for f in report.findings) and report.exit_code == 1
    assert all(f.exists() for f in leftovers) and old_import.exists()

    report = run_doctor(store, fix=True, temp_dir=temp_dir)
    by_kind = {(f.kind, f.what): f for f in report.findings}
    assert report.exit_code == 1  # problems were found (and fixed)
    assert not any(f.exists() for f in leftovers) and not old_import.exists()
    fixed = {k for k, f in by_kind.items() if f.fixed}
    assert ("failed_file", str(now_fine)) in fixed
    assert ("failed_file", str(tmp_path / "gone.fit")) not in fixed  # reported, forgotten
    assert sum(1 for k in fixed if k[0] == "outdated_run") == 2  # the third: with its stream
    assert any(k[0] == "stream" for k in fixed)  # re-derived from its source file
    rows = {r.id: r for r in store.list_activities("me", include_undated=True)}
    assert len(rows) == 4  # the retried file imported
    assert rows[dated.id].duration_s == pytest.approx(dated.duration_s)  # re-derived
    assert sum(1 for r in rows.values() if not r.time_absolute) == 2
    assert all(r.start_time.year != 1990 for r in rows.values())
    versions = {v for (v,) in store.connect().execute("SELECT decoder_version FROM activities")}
    assert versions == {DECODER_VERSION}

    code, after = _cli("doctor", "--store", str(store.root))
    assert code == 0 and after["healthy"] is True, after


def test_doctor_reports_a_damaged_catalog(shared_data: Path, tmp_path: Path) -> None:
    store = open_store(tmp_path / "store")
    import_paths(store, [_fit_dir(shared_data) / DATED], workers=1)
    row = store.list_activities("me")[0]
    store.close()
    conn = sqlite3.connect(store.root / "catalog.sqlite")  # a row pointing at a missing parent
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("DELETE FROM activities WHERE id = ?", (row.id,))
    conn.commit()
    conn.close()
    code, out = _cli("doctor", "--store", str(store.root), "--fix")
    assert code == 1 and out["healthy"] is False
    findings = out["findings"]
    assert isinstance(findings, list)
    assert any(f["kind"] == "catalog" and "missing activities row" in f["detail"] for f in findings)
    assert any(f["kind"] == "catalog" and f["fixed"] is False for f in findings)
