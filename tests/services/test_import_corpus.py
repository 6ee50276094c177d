"""Import of the real FIT corpus: every file imported or rejected with a reason; REFERENCE.tsv means."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from stridelab.cli import app
from stridelab.services.imports import ImportResult, import_paths
from stridelab.store import Store

runner = CliRunner()

#: damaged files the corpus README lists: the lenient engine keeps what precedes each fault
DAMAGED = {
    "dtcooper__python-fitparse/activity-filecrc.fit",
    "dtcooper__python-fitparse/activity-activity-filecrc.fit",
    "dtcooper__python-fitparse/activity-unexpected-eof.fit",
    "dtcooper__python-fitparse/nick.fit",
    "dtcooper__python-fitparse/activity-settings-nodata.fit",
    "dtcooper__python-fitparse/activity-settings-corruptheader.fit",
    "dtcooper__python-fitparse/strava-android-app-201.10-b1218918.fit",
}
#: sound files imported with a note: a tolerated quirk, or records without a timestamp (pool swims)
NOTED = {
    "dtcooper__python-fitparse/coros-pace-2-cycling-misaligned-fields.fit",
    "GoldenCheetah__GoldenCheetah/20160517-063148-1-1328-ANTFS-4-0.FIT",
    "GoldenCheetah__GoldenCheetah/AleV_Swim_2015-02-09-16-15.fit",
    "Runalyze__Runalyze/swim-25m-lane.fit",
}
#: compressed-timestamp files: the SDK rejects them, the engine decodes them fully
COMPRESSED_TIMESTAMPS = {
    "dtcooper__python-fitparse/antfs-dump.63.fit",
    "dtcooper__python-fitparse/compressed-speed-distance.fit",
    "Runalyze__Runalyze/FR70-intervals.fit",
}


@pytest.fixture(scope="session")
def corpus_import(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, ImportResult]:
    store = Store.open(tmp_path_factory.mktemp("corpus") / "store")
    result = import_paths(store, [shared_data / "fit"], workers=2)
    return store, result


def _manifest(shared_data: Path) -> list[dict[str, str]]:
    with (shared_data / "fit" / "MANIFEST.tsv").open(newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


#: the corpus' files that hold no activity by design (MANIFEST.tsv's sport column gives their file type)
NOT_ACTIVITIES = {
    "dtcooper__python-fitparse/MonitoringFile.fit": "monitoring_b",
    "dtcooper__python-fitparse/Settings.fit": "settings",
    "dtcooper__python-fitparse/Settings2.fit": "settings",
    "dtcooper__python-fitparse/WeightScaleMultiUser.fit": "weight",
    "dtcooper__python-fitparse/WeightScaleSingleUser.fit": "weight",
    "dtcooper__python-fitparse/WorkoutCustomTargetValues.fit": "workout",
    "dtcooper__python-fitparse/WorkoutIndividualSteps.fit": "workout",
    "dtcooper__python-fitparse/WorkoutRepeatGreaterThanStep.fit": "workout",
    "dtcooper__python-fitparse/WorkoutRepeatSteps.fit": "workout",
    "stadelmanma__fitparse-rs/Settings.fit": "settings",
}
#: activity files (or files without a type) with nothing timed in them: failed
NOTHING_TO_IMPORT = {"dtcooper__python-fitparse/DeveloperData.fit", "muktihari__fit/TestEncode.fit"}


def test_every_corpus_file_is_imported_or_rejected_with_reason(
    corpus_import: tuple[Store, ImportResult], shared_data: Path
) -> None:
    store, result = corpus_import
    fit_dir = shared_data / "fit"

    def rel(p: str) -> str:
        return Path(p).relative_to(fit_dir).as_posix()

    accounted = {rel(p) for p, _ in result.imported + result.skipped}
    failed = {rel(p): reason for p, reason in result.failed}
    not_activities = {rel(p): reason for p, reason in result.not_activities}
    manifest = _manifest(shared_data)
    assert len(manifest) == 140
    for row in manifest:
        r = row["relpath"]
        assert [r in accounted, r in failed, r in not_activities].count(True) == 1, r
    by_rel = {r["relpath"]: r for r in manifest}
    # a non-activity file (settings, workout, weight, monitoring) is skipped, named by its file type
    assert {r: f"not an activity (file type {t})" for r, t in NOT_ACTIVITIES.items()} == not_activities
    assert all(by_rel[r]["sport"] == t for r, t in NOT_ACTIVITIES.items())  # the manifest agrees
    # a failure is an activity file with nothing timed in it
    assert set(failed) == NOTHING_TO_IMPORT
    assert all(reason.startswith("nothing to import") for reason in failed.values()), failed
    warned = {rel(p): w for p, w in result.warnings}
    assert not result.skipped  # a fresh store: every damaged file is in the warnings
    assert set(warned) == DAMAGED  # damaged = exit code 1; nothing else is called damaged
    assert result.exit_code == 1
    noted = {rel(p): n for p, n in result.notes}
    assert set(noted) == NOTED, noted
    for r in COMPRESSED_TIMESTAMPS:
        assert r in accounted and r not in warned and r not in noted, r
    assert len(accounted) == 140 - len(failed) - len(not_activities) == 128
    # same bytes -> one activity
    ids = {sha for _, sha in result.imported + result.skipped}
    assert len(ids) == len({r["sha256"] for r in manifest if r["relpath"] in accounted})
    assert len(store.known_ids("me")) == len(ids)


def _reference_rows(shared_data: Path) -> list[dict[str, str]]:
    with (shared_data / "fit" / "REFERENCE.tsv").open(newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _close(actual: float | None, expected: str) -> bool:
    if expected == "":
        return actual is None
    return actual is not None and abs(actual - float(expected)) <= 1e-6 * abs(float(expected)) + 1e-9


def test_reference_means_match_the_official_decoder(
    corpus_import: tuple[Store, ImportResult], shared_data: Path
) -> None:
    store, _ = corpus_import
    rows = _reference_rows(shared_data)
    assert len(rows) == 27
    for ref in rows:
        sha = next(r["sha256"] for r in _manifest(shared_data) if r["relpath"] == ref["relpath"])
        out = runner.invoke(app, ["show", sha[:12], "--json", "--store", str(store.root)])
        assert out.exit_code == 0, out.output
        shown = json.loads(out.stdout)
        d = shown["dynamics"]
        assert shown["n_records"] == int(ref["n_record"]), ref["relpath"]
        assert _close(d["stance_time_ms_mean"], ref["mean_stance_time_ms_nonzero"]), ref["relpath"]
        assert _close(d["stance_time_balance_left_pct_mean"], ref["mean_stance_time_balance_pct_nonzero"]), (
            ref["relpath"]
        )
        assert _close(d["vertical_oscillation_mm_mean"], ref["mean_vertical_oscillation_mm_nonzero"]), ref[
            "relpath"
        ]
        assert _close(d["step_length_mm_mean"], ref["mean_step_length_mm_nonzero"]), ref["relpath"]


def test_stryd_developer_fields_are_kept_with_units(
    corpus_import: tuple[Store, ImportResult], shared_data: Path
) -> None:
    store, _ = corpus_import
    ref = next(r for r in _reference_rows(shared_data) if r["relpath"].endswith("Fr955v19.28andStryd.fit"))
    sha = next(r["sha256"] for r in _manifest(shared_data) if r["relpath"] == ref["relpath"])
    rec = store.records("me", sha)
    form = rec["dev_stryd_form_power_w"].dropna()
    assert abs(form.mean() - float(ref["mean_form_power_w"])) < 1e-6 * float(ref["mean_form_power_w"])
    lss = rec["dev_stryd_leg_spring_stiffness_n_per_m"].dropna()  # kN/m in the file, N/m inside
    assert abs(lss.mean() / 1000 - float(ref["mean_leg_spring_stiffness_kn_m"])) < 1e-4
    ground = rec["dev_stryd_ground_time_s"].dropna()  # ms in the file, s inside
    assert abs(ground.mean() * 1000 - float(ref["mean_ground_time_ms"])) < 1e-4


def test_developer_sentinels_are_missing_and_redefinitions_share_a_column(
    corpus_import: tuple[Store, ImportResult], shared_data: Path
) -> None:
    """mornindew-broken.fit re-sends identical Stryd field descriptions (same app id, index and field
    number): one field, one column. Its uint16 sentinels (65535) must not leak as values."""
    store, _ = corpus_import
    sha = next(
        r["sha256"] for r in _manifest(shared_data) if r["relpath"] == "tormoder__fit/mornindew-broken.fit"
    )
    row = store.activity("me", sha)
    columns = [d["column"] for d in row.summary["developer_columns"]]
    assert len(columns) == len(set(columns))
    assert [d["field_name"] for d in row.summary["developer_columns"]].count("Power") == 1
    rec = store.records("me", sha)
    for col in columns:
        assert not (rec[col] >= 65535).any(), col
    ref = next(
        r for r in _reference_rows(shared_data) if r["relpath"] == "tormoder__fit/mornindew-broken.fit"
    )
    # REFERENCE.tsv used only the most-filled of the two identical definitions (key 5, 6497 values);
    # we keep both halves of the same field, so we hold more values of the same magnitude
    form = rec["dev_stryd_form_power_w"].dropna()
    assert len(form) > int(ref["n_form_power_w"])
    assert abs(form.mean() - float(ref["mean_form_power_w"])) < 0.05 * float(ref["mean_form_power_w"])


def test_same_name_from_two_apps_gets_two_columns() -> None:
    from stridelab.io.fit._sdk import describe_developer_fields

    apps = [
        {"developer_data_index": 0, "application_id": list(range(16))},
        {"developer_data_index": 1, "application_id": list(range(16, 32))},
    ]
    fields = [
        {"developer_data_index": 0, "field_definition_number": 0, "field_name": "Power", "units": "Watts"},
        {"developer_data_index": 1, "field_definition_number": 0, "field_name": "Power", "units": "Watts"},
    ]
    infos = describe_developer_fields(apps, fields)
    assert len({i.column for i in infos}) == 2
    assert all(i.name == "Power" for i in infos)


def test_records_are_time_indexed_si_with_explicit_left_share(
    corpus_import: tuple[Store, ImportResult],
) -> None:
    store, _ = corpus_import
    rows = [r for r in store.list_activities("me") if r.summary.get("stance_time_balance_left_pct_mean")]
    assert rows
    rec = store.records("me", rows[0].id)
    assert str(rec.index.dtype).startswith("datetime64") and rec.index.tz is not None
    gct = rec["stance_time_s"].dropna()
    assert gct[gct > 0].between(0.05, 2.0).all()  # seconds, not ms (0 = standing, a valid FIT value)
    bal = rec["stance_time_balance_left_pct"].dropna()
    assert bal[bal > 0].between(30, 70).all()
    assert {"elapsed_s", "timer_s", "paused", "lap_index", "session_index"} <= set(rec.columns)


def test_pauses_are_marked_not_dropped(corpus_import: tuple[Store, ImportResult], shared_data: Path) -> None:
    store, _ = corpus_import
    sha = next(
        r["sha256"] for r in _manifest(shared_data) if r["relpath"] == "Runalyze__Runalyze/Fenix-2-pauses.fit"
    )
    rec = store.records("me", sha)
    row = store.activity("me", sha)
    assert len(rec) == row.n_records == 2810
    # timer time excludes pauses, elapsed time does not: every pause counts whole, also when the first
    # record after the restart comes exactly at the restart (no record inside the pause)
    assert rec["elapsed_s"].iloc[-1] > rec["timer_s"].iloc[-1]
    assert row.duration_s == 2810.0  # the session's total_timer_time
    assert abs(rec["timer_s"].iloc[-1] - row.duration_s) <= 2.0
    assert rec["timer_s"].is_monotonic_increasing
    # a clock glitch (records two years ahead, then back) adds no time
    sha = next(
        r["sha256"] for r in _manifest(shared_data) if r["relpath"].endswith("2013-04-11-17-32-50.fit")
    )
    glitchy = store.records("me", sha)
    assert glitchy["timer_s"].iloc[-1] <= store.activity("me", sha).duration_s


def test_steps_per_minute_only_where_the_record_is_on_foot(
    corpus_import: tuple[Store, ImportResult], shared_data: Path
) -> None:
    """A multisport file's swim and bike cadences are strokes and revolutions, not steps: cadence_spm
    follows the record's activity_type when the device wrote one, else its session's sport."""
    store, _ = corpus_import
    manifest = {r["relpath"]: r["sha256"] for r in _manifest(shared_data)}
    for rel, foot_sessions in (
        ("Runalyze__Runalyze/multisport-triathlon-fenix3.fit", {1, 3, 4}),  # swim, T1, bike, T2, run
        ("muktihari__fit/chained_Activity_activity_poolswim.fit", set()),  # paddleboarding + pool swim
        ("dtcooper__python-fitparse/activity-large-fenxi2-multisport.fit", {0, 1, 2, 3, 4, 5}),
    ):
        rec = store.records("me", manifest[rel])
        assert rec["cadence_rpm"].notna().any(), rel
        steps = rec["cadence_spm"] if "cadence_spm" in rec.columns else pd.Series(np.nan, index=rec.index)
        with_steps = set(rec.loc[steps.notna(), "session_index"])
        assert with_steps <= foot_sessions, (rel, with_steps)
        if foot_sessions:
            run = rec[rec["session_index"] == max(foot_sessions)]
            both = run["cadence_spm"].notna()
            assert both.any(), rel
            assert (run.loc[both, "cadence_spm"] == 2 * run.loc[both, "cadence_rpm"]).all(), rel


def test_runscribe_fields_are_named_after_the_app_with_si_units(
    corpus_import: tuple[Store, ImportResult], shared_data: Path
) -> None:
    """RunScribe's Connect IQ fields (RS_ContactTime_L in ms, RS_Pronation_L in °) are kept as
    ``dev_runscribe_<field>_<unit>``, left/right explicit, contact time converted to s."""
    store, _ = corpus_import
    manifest = {r["relpath"]: r["sha256"] for r in _manifest(shared_data)}
    sha = manifest["Runalyze__Runalyze/FR920xt-with-runscribe-plus.fit"]
    row = store.activity("me", sha)
    cols = {d["column"]: d for d in row.summary["developer_columns"]}
    assert {d["app"] for d in cols.values()} == {"runscribe"}
    assert cols["dev_runscribe_rs_contacttime_l_s"]["field_name"] == "RS_ContactTime_L"
    assert cols["dev_runscribe_rs_pronation_r_deg"]["units"] == "°"
    rec = store.records("me", sha)
    gct = rec["dev_runscribe_rs_contacttime_l_s"].dropna()
    assert 0.15 < gct[gct > 0].median() < 0.4
    # the unnamed fields of RunScribe v1.38 still say which app they come from
    unnamed = store.activity("me", manifest["Runalyze__Runalyze/Fenix-3-with-runscribe-v1-38.fit"])
    assert {d["column"] for d in unnamed.summary["developer_columns"]} >= {"dev_runscribe_field0"}


def test_every_record_column_is_documented(corpus_import: tuple[Store, ImportResult]) -> None:
    """The canonical column list is the truth: no stored column escapes it, developer columns are the
    ones the catalog declares, and every column is float/bool/int in SI."""
    from stridelab.model import RECORD_COLUMNS

    store, _ = corpus_import
    for row in store.list_activities("me", include_undated=True):
        rec = store.records("me", row.id)
        declared = {d["column"] for d in row.summary["developer_columns"]}
        undocumented = set(rec.columns) - set(RECORD_COLUMNS) - declared
        assert not undocumented, (row.source_path, undocumented)
        assert {c for c in rec.columns if c.startswith("dev_")} == declared, row.source_path
        assert rec.index.name == "time" and str(rec.index.tz) == "UTC"
        assert all(rec[c].dtype.kind in "fbi" for c in rec.columns), row.source_path
