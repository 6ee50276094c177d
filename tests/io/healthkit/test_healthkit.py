"""The Apple Health reader on exports generated to the export's DTD (versions 11 and 14) with known
truth. No public repository holds a real (small) export.xml to test on (searched: only hand-written
fixtures of other projects), so these are generated; the DTD header is Apple's (see hk_export.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hk_export import PHONE, WATCH, ExportBuilder
from hypothesis import given, settings
from hypothesis import strategies as st

from stridelab.io import archive_reader, file_head, find_reader
from stridelab.io.healthkit import DailyGaitMetrics, HealthExportError, HealthKitReader, parse_time_ns
from stridelab.model import Activity
from stridelab.services.imports import import_paths
from stridelab.store import Store
from stridelab.store import health as health_store

START, END = "2023-05-01 07:00:00 +0200", "2023-05-01 07:30:00 +0200"  # 05:00-05:30 UTC


def _t(hms: str) -> str:
    return f"2023-05-01 {hms} +0200"


def _utc(hms: str) -> pd.Timestamp:
    return pd.Timestamp(f"2023-05-01 {hms}", tz="Europe/Berlin").tz_convert("UTC")


def _run_export(version: int = 14) -> ExportBuilder:
    b = ExportBuilder(version=version)
    b.record("HeartRate", _t("07:00:05"), None, 141, "count/min")
    b.record("RunningGroundContactTime", _t("07:00:05"), _t("07:00:10"), 250, "ms")
    b.record("RunningVerticalOscillation", _t("07:00:05"), _t("07:00:10"), 8.5, "cm")
    b.record("RunningStrideLength", _t("07:00:05"), _t("07:00:10"), 1.2, "m")
    b.record("RunningPower", _t("07:00:05"), _t("07:00:10"), 250, "W")
    b.record("RunningSpeed", _t("07:00:05"), _t("07:00:10"), 10.8, "km/hr")
    b.record("DistanceWalkingRunning", _t("07:00:00"), _t("07:00:10"), 30, "m")
    b.record("DistanceWalkingRunning", _t("07:00:10"), _t("07:00:20"), 0.031, "km")
    b.record(
        "DistanceWalkingRunning", _t("07:00:00"), _t("07:00:20"), 999, "m", source=PHONE
    )  # not preferred
    b.record("StepCount", _t("07:00:10"), _t("07:00:20"), 28, "count")
    # span edges: ends exactly at the workout's end (in); starts 1 s before its start (out)
    b.record("HeartRate", END, END, 150, "count/min")
    b.record("HeartRate", _t("06:59:59"), _t("07:00:01"), 99, "count/min")
    b.record("HeartRate", _t("07:30:01"), None, 98, "count/min")
    # walking gait on two days (iPhone), fractions in "%"
    for day, asym in (("2023-05-02", (0.04, 0.06)), ("2023-05-03", (0.10,))):
        for i, v in enumerate(asym):
            b.record(
                "WalkingAsymmetryPercentage",
                f"{day} 09:0{i}:00 +0200",
                f"{day} 09:0{i}:30 +0200",
                v,
                "%",
                PHONE,
            )
        b.record("WalkingStepLength", f"{day} 10:00:00 +0200", f"{day} 10:01:00 +0200", 68, "cm", PHONE)
        b.record(
            "WalkingDoubleSupportPercentage",
            f"{day} 10:00:00 +0200",
            f"{day} 10:01:00 +0200",
            0.284,
            "%",
            PHONE,
        )
        b.record("WalkingSpeed", f"{day} 10:00:00 +0200", f"{day} 10:01:00 +0200", 4.5, "km/hr", PHONE)
    route = b.route(
        "route_2023-05-01_7.00am.gpx",
        [("2023-05-01T05:00:05Z", 52.5, 13.4, 35.0), ("2023-05-01T05:00:15Z", 52.5001, 13.4002, 36.5)],
    )
    events = (
        f'<WorkoutEvent type="HKWorkoutEventTypePause" date="{_t("07:10:00")}"/>\n'
        f'<WorkoutEvent type="HKWorkoutEventTypeResume" date="{_t("07:12:00")}"/>\n'
        f'<WorkoutEvent type="HKWorkoutEventTypeSegment" date="{START}" duration="5.5" durationUnit="min"/>\n'
    )
    b.record("HeartRate", _t("07:11:00"), None, 120, "count/min")  # during the pause
    b.workout(
        "Running",
        START,
        END,
        duration_min=28.0,
        distance_km=5.01,
        energy_kcal=300,
        children=events + f'<WorkoutRoute sourceName="{WATCH}" startDate="{START}" endDate="{END}">'
        f'<FileReference path="{route}"/></WorkoutRoute>\n',
    )
    b.workout("Walking", "2023-05-02 18:00:00 +0200", "2023-05-02 18:20:00 +0200", duration_min=20.0)
    return b


def _activities(results: list[object]) -> list[Activity]:
    return [r for r in results if isinstance(r, Activity)]


@pytest.mark.parametrize("version", [11, 14])
def test_workout_records_in_si_with_pauses_route_and_summary(tmp_path: Path, version: int) -> None:
    z = _run_export(version).write_zip(tmp_path / "export.zip")
    results = list(HealthKitReader().read_all(z))
    runs = _activities(results)
    assert [a.sport for a in runs] == ["running", "walking"]
    run = runs[0]
    assert run.format == "healthkit" and run.start_time == _utc("07:00:00")
    assert run.duration_s == pytest.approx(28 * 60) and run.elapsed_s == pytest.approx(1800)
    assert run.distance_m == pytest.approx(5010.0)
    assert run.devices[0]["active_energy_j"] == pytest.approx(300 * 4184)
    assert run.devices[0]["export_version"] == version
    assert run.manufacturer == "apple" and run.product == "Watch6,10"
    r = run.records
    assert isinstance(r.index, pd.DatetimeIndex) and str(r.index.tz) == "UTC"
    row = r.loc[_utc("07:00:10")]
    assert row["stance_time_s"] == pytest.approx(0.250)
    assert row["vertical_oscillation_m"] == pytest.approx(0.085)
    assert row["step_length_m"] == pytest.approx(1.2)
    assert row["power_w"] == pytest.approx(250)
    assert row["speed_m_s"] == pytest.approx(3.0)
    assert row["distance_m"] == pytest.approx(30.0)  # the watch's own samples, not the phone's
    at20 = r.loc[_utc("07:00:20")]
    assert at20["distance_m"] == pytest.approx(61.0)
    assert at20["cadence_spm"] == pytest.approx(28 / 10 * 60)
    hr = r["heart_rate_bpm"].dropna()
    assert hr.loc[_utc("07:00:05")] == 141
    assert hr.loc[_utc("07:30:00")] == 150  # ends on the workout's end: inside
    assert 99 not in hr.to_numpy() and 98 not in hr.to_numpy()  # straddles the start / after the end
    # the pause: the sample inside is marked (never dropped) and the timer stops
    assert bool(r.loc[_utc("07:11:00"), "paused"]) and not bool(r.loc[_utc("07:00:10"), "paused"])
    assert r.loc[_utc("07:30:00"), "timer_s"] == pytest.approx(r.loc[_utc("07:30:00"), "elapsed_s"] - 120)
    # the route: position and altitude at its times
    assert r.loc[_utc("07:00:15"), "lat_deg"] == pytest.approx(52.5001)
    assert r.loc[_utc("07:00:15"), "lon_deg"] == pytest.approx(13.4002)
    assert r.loc[_utc("07:00:15"), "altitude_m"] == pytest.approx(36.5)
    assert len(run.laps) == 1 and run.laps[0].elapsed_s == pytest.approx(330)
    assert run.has_running_dynamics
    daily = [x for x in results if isinstance(x, DailyGaitMetrics)]
    assert len(daily) == 1


def test_daily_walking_gait_metrics(tmp_path: Path) -> None:
    results = list(HealthKitReader().read_all(_run_export().write_folder(tmp_path / "apple_health_export")))
    (daily,) = [x for x in results if isinstance(x, DailyGaitMetrics)]
    got = {(v.day, v.metric): (v.value, v.unit, v.n_samples) for v in daily.values}
    assert got[("2023-05-02", "walking_asymmetry_pct")] == (pytest.approx(5.0), "%", 2)
    assert got[("2023-05-03", "walking_asymmetry_pct")] == (pytest.approx(10.0), "%", 1)
    assert got[("2023-05-02", "walking_double_support_pct")][0] == pytest.approx(28.4)
    assert got[("2023-05-02", "walking_step_length_m")][0] == pytest.approx(0.68)
    assert got[("2023-05-02", "walking_speed_m_s")][0] == pytest.approx(1.25)
    assert {v.source for v in daily.values} == {PHONE}


def test_export_xml_in_a_folder_reads_routes_beside_it(tmp_path: Path) -> None:
    xml = _run_export().write_folder(tmp_path / "apple_health_export")
    assert find_reader(file_head(xml), str(xml)).name == "healthkit"  # type: ignore[union-attr]
    run = _activities(list(HealthKitReader().read_all(xml)))[0]
    assert run.records["lat_deg"].notna().sum() == 2 and not run.notes


def test_timestamps_with_offsets() -> None:
    assert parse_time_ns("2023-05-01 07:12:03 +0200") == pd.Timestamp("2023-05-01 05:12:03Z").value
    assert parse_time_ns("2023-05-01 00:12:03 -0530") == pd.Timestamp("2023-05-01 05:42:03Z").value
    with pytest.raises(ValueError, match="zone"):
        parse_time_ns("2023-05-01 07:12:03")


def test_a_workout_without_a_zone_fails_naming_the_file(tmp_path: Path) -> None:
    b = ExportBuilder()
    b.workout("Running", "2023-05-01 07:00:00", "2023-05-01 07:30:00")
    (tmp_path / "export.xml").write_text(b.xml(), encoding="utf-8")
    with pytest.raises(HealthExportError, match=r"export\.xml: workout 1.*zone"):
        list(HealthKitReader().read_all(tmp_path / "export.xml"))


def test_unknown_units_are_left_out_never_guessed(tmp_path: Path) -> None:
    b = ExportBuilder()
    b.record("RunningGroundContactTime", _t("07:00:05"), _t("07:00:10"), 250, "furlong")
    b.record("RunningVerticalOscillation", _t("07:00:05"), _t("07:00:10"), 8.5, None)
    b.workout("Running", START, END)
    run = _activities(list(HealthKitReader().read_all(b.xml().encode())))[0]
    assert "stance_time_s" not in run.records.columns and "vertical_oscillation_m" not in run.records.columns
    assert any("in unit 'furlong'" in n for n in run.notes) and any("in unit None" in n for n in run.notes)


def test_archive_hook_and_import_idempotent(tmp_path: Path) -> None:
    z = _run_export().write_zip(tmp_path / "in" / "export.zip")
    import zipfile

    with zipfile.ZipFile(z) as zf:
        assert archive_reader(zf.namelist()).name == "healthkit"  # type: ignore[union-attr]
    assert archive_reader(["a.fit", "b/c.gpx"]) is None
    store = Store.open(tmp_path / "store")
    first = import_paths(store, [z], workers=1)
    assert not first.failed, first.failed
    assert [p for p, _ in first.imported] == [f"{z}#1", f"{z}#2"]  # routes are not separate activities
    assert not first.ignored
    assert any("daily walking gait" in n for _, n in first.notes)
    ids = {a.id for a in store.list_activities("me")}
    daily = health_store.daily_gait(store, "me")
    assert len(daily) == 8 and set(daily["unit"]) == {"%", "m", "m/s"}
    again = import_paths(store, [z], workers=1)  # the source cache: unchanged file
    assert not again.imported and len(again.skipped) == 1
    copy = tmp_path / "copy" / "export.zip"  # the same export elsewhere: every workout skipped
    copy.parent.mkdir()
    copy.write_bytes(z.read_bytes())
    third = import_paths(store, [copy], workers=1)
    assert not third.imported and len(third.skipped) == 2 and not third.failed
    assert {a.id for a in store.list_activities("me")} == ids
    pd.testing.assert_frame_equal(health_store.daily_gait(store, "me"), daily)
    rec = store.records("me", sorted(ids)[0])
    assert len(rec) > 0


def test_truncated_export_fails_naming_the_file_and_stores_nothing(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "store")
    good = ExportBuilder()
    good.record("HeartRate", "2023-04-01 07:00:05 +0200", None, 140, "count/min")
    good.workout("Running", "2023-04-01 07:00:00 +0200", "2023-04-01 07:30:00 +0200")
    assert not import_paths(store, [good.write_zip(tmp_path / "old" / "export.zip")], workers=1).failed
    before = ({a.id for a in store.list_activities("me")}, health_store.daily_gait(store, "me"))
    text = _run_export().xml()
    cut = tmp_path / "cut" / "export.xml"
    cut.parent.mkdir()
    cut.write_text(text[: len(text) - 200], encoding="utf-8")
    result = import_paths(store, [cut], workers=1)
    assert not result.imported
    ((path, reason),) = result.failed
    assert path == str(cut) and "export.xml" in reason and "truncated" in reason
    assert {a.id for a in store.list_activities("me")} == before[0]
    pd.testing.assert_frame_equal(health_store.daily_gait(store, "me"), before[1])


def test_references_in_attributes_and_bad_values(tmp_path: Path) -> None:
    b = ExportBuilder()
    b.record("HeartRate", _t("07:00:05"), None, 140, "count/min", source="Alex &amp; Sam&#8217;s Watch")
    b.record("HeartRate", _t("07:00:06"), None, "n/a", "count/min")
    b.workout("Running", START, END, source="Alex &amp; Sam&#8217;s Watch")
    run = _activities(list(HealthKitReader().read_all(b.xml().encode())))[0]
    assert run.records["heart_rate_bpm"].dropna().tolist() == [140.0]
    assert run.devices[0]["source_name"] == "Alex & Sam’s Watch"
    assert any("HeartRate without a numeric value" in n for n in run.notes)


def test_not_an_export_and_a_zip_bomb(tmp_path: Path) -> None:
    with pytest.raises(HealthExportError, match="not an Apple Health export"):
        list(HealthKitReader().read_all(b'<?xml version="1.0"?><ClinicalDocument/>'))
    import zipfile

    bomb = tmp_path / "export.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("apple_health_export/export.xml", "<HealthData>" + " " * 20_000_000 + "</HealthData>")
    with pytest.raises(HealthExportError, match="zip bomb"):
        list(HealthKitReader().read_all(bomb))


def test_bucketing_picks_the_enclosing_workout(tmp_path: Path) -> None:
    b = ExportBuilder()
    for minute in range(0, 60, 5):
        b.record("RunningPower", _t(f"08:{minute:02d}:00"), _t(f"08:{minute:02d}:04"), 200 + minute, "W")
    b.workout("Running", _t("08:00:00"), _t("08:20:00"))
    b.workout("Running", _t("08:20:00"), _t("08:40:00"))  # back to back: the shared edge
    runs = _activities(list(HealthKitReader().read_all(b.xml().encode())))
    p0 = runs[0].records["power_w"].dropna().to_numpy()
    p1 = runs[1].records["power_w"].dropna().to_numpy()
    assert np.array_equal(p0, [200, 205, 210, 215]) and np.array_equal(p1, [220, 225, 230, 235])
    assert runs[0].id != runs[1].id


def test_an_unzipped_export_folder_is_one_export(tmp_path: Path) -> None:
    folder = tmp_path / "in" / "apple_health_export"
    _run_export().write_folder(folder)
    (folder / "workout-routes" / "stray.fit").write_bytes(b"not walked")
    store = Store.open(tmp_path / "store")
    result = import_paths(store, [tmp_path / "in"], workers=1)
    assert not result.failed and not result.ignored
    assert [p for p, _ in result.imported] == [f"{folder / 'export.xml'}#1", f"{folder / 'export.xml'}#2"]
    run = store.records("me", result.imported[0][1])
    assert run["lat_deg"].notna().sum() == 2


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(min_value=datetime(1971, 1, 2), max_value=datetime(2099, 12, 30)),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_parse_time_matches_the_calendar(moment: datetime, offset_min: int) -> None:
    moment = moment.replace(microsecond=0)
    sign = "-" if offset_min < 0 else "+"
    text = f"{moment:%Y-%m-%d %H:%M:%S} {sign}{abs(offset_min) // 60:02d}{abs(offset_min) % 60:02d}"
    expected = pd.Timestamp(moment, tz=timezone(timedelta(minutes=offset_min))).tz_convert("UTC").value
    assert parse_time_ns(text) == expected


def test_samples_without_a_zone_are_left_out_and_counted() -> None:
    b = ExportBuilder()
    b.record("HeartRate", "2023-05-01 07:00:05", None, 140, "count/min")
    b.record("HeartRate", _t("07:00:06"), None, 141, "count/min")
    b.workout("Running", START, END)
    run = _activities(list(HealthKitReader().read_all(b.xml().encode())))[0]
    assert run.records["heart_rate_bpm"].dropna().tolist() == [141.0]
    assert any("1 sample(s) left out: timestamp without a zone" in n for n in run.notes)
