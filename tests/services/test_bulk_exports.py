"""Bulk exports and non-activity files (issue 14, points 3 and 4).

- FIT files that hold no activity by design (``file_id.type`` settings, monitoring, workout, course,
  weight, ...) are skipped as "not an activity (file type <name>)" and keep the exit code at 0.
- A Strava export zip's ``activities.csv`` names each activity, gives its gear and (when the file has
  none) its sport; the csv itself is neither ignored nor failed.
- A Garmin Connect account export (FIT files in nested zips beside JSON) imports with exit code 0.

Real files come from the shared FIT corpus; the other file types are written with the official SDK
encoder (``garmin_fit_sdk.Encoder``).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from garmin_fit_sdk import Encoder, Profile
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from stridelab.cli import app
from stridelab.io import NotAnActivityError, read_any
from stridelab.services._bulk_exports import ExportMetadata, apply_metadata, strava_metadata, strava_sport
from stridelab.services.imports import import_paths
from stridelab.store import Store

runner = CliRunner()

FIT = "dtcooper__python-fitparse"
#: real non-activity files of the corpus and the file type MANIFEST.tsv gives for each
REAL_NOT_ACTIVITIES = {
    f"{FIT}/Settings.fit": "settings",
    f"{FIT}/MonitoringFile.fit": "monitoring_b",
    f"{FIT}/WorkoutRepeatSteps.fit": "workout",
    f"{FIT}/WeightScaleSingleUser.fit": "weight",
}
RUN = f"{FIT}/garmin-fenix-5-run.fit"
WALK = f"{FIT}/garmin-fenix-5-walk.fit"
#: an activity file with records but no sport, session or sport message (sport comes from the csv)
NO_SPORT = "garmin__fit-python-sdk/WithGearChangeData.fit"

#: the header of a Strava export's activities.csv (the columns up to the repeated ones, as Strava
#: writes them; public parsers of the export read the same: e.g. eikek/fit4s StravaExportExtract)
STRAVA_HEADER = [
    "Activity ID",
    "Activity Date",
    "Activity Name",
    "Activity Type",
    "Activity Description",
    "Elapsed Time",
    "Distance",
    "Max Heart Rate",
    "Relative Effort",
    "Commute",
    "Activity Private Note",
    "Activity Gear",
    "Filename",
    "Athlete Weight",
    "Bike Weight",
    "Elapsed Time",
    "Moving Time",
    "Distance",
]

T0 = datetime(2024, 5, 1, 7, 0, tzinfo=UTC)


def _cli_json(*args: str) -> tuple[int, dict[str, object]]:
    res = runner.invoke(app, [*args, "--json"])
    return res.exit_code, json.loads(res.stdout)


def _fit_of_type(file_type: str | int, *, with_records: bool = False) -> bytes:
    """A small FIT file of ``file_type`` written with the official SDK encoder."""
    enc = Encoder()
    enc.write_mesg(
        {
            "mesg_num": Profile["mesg_num"]["FILE_ID"],
            "type": file_type,
            "manufacturer": "development",
            "product": 1,
            "serial_number": 12345,
            "time_created": T0,
        }
    )
    if with_records:  # a course has timed points and a lap: still not an activity
        enc.write_mesg({"mesg_num": Profile["mesg_num"]["COURSE"], "name": "loop", "sport": "running"})
        enc.write_mesg({"mesg_num": Profile["mesg_num"]["LAP"], "timestamp": T0, "start_time": T0})
        for i in range(5):
            enc.write_mesg(
                {
                    "mesg_num": Profile["mesg_num"]["RECORD"],
                    "timestamp": datetime.fromtimestamp(T0.timestamp() + i, UTC),
                    "distance": 3.0 * i,
                }
            )
    return bytes(enc.close())


# ---------------------------------------------------------------------------- point 4: not activities
@pytest.mark.parametrize(("rel", "file_type"), sorted(REAL_NOT_ACTIVITIES.items()))
def test_real_non_activity_files_raise_not_an_activity_with_their_file_type(
    shared_data: Path, rel: str, file_type: str
) -> None:
    with pytest.raises(NotAnActivityError) as info:
        read_any(shared_data / "fit" / rel)
    assert info.value.kind == f"file type {file_type}"
    assert info.value.reason == f"not an activity (file type {file_type})"


@pytest.mark.parametrize(
    ("file_type", "name"),
    [
        *[(n, n) for n in sorted(Profile["types"]["file"].values()) if n != "activity"],
        (49, "49"),  # a type newer than the profile (e.g. a sleep file): named by its number
    ],
)
def test_every_sdk_file_type_but_activity_is_skipped(tmp_path: Path, file_type: str | int, name: str) -> None:
    path = tmp_path / "f.fit"
    path.write_bytes(_fit_of_type(file_type, with_records=file_type == "course"))
    result = import_paths(Store.open(tmp_path / "s"), [path], workers=1)
    assert result.not_activities == [(str(path), f"not an activity (file type {name})")]
    assert not result.failed and not result.imported and result.exit_code == 0


def test_an_activity_file_with_nothing_timed_still_fails(tmp_path: Path) -> None:
    path = tmp_path / "empty-activity.fit"
    path.write_bytes(_fit_of_type("activity"))
    result = import_paths(Store.open(tmp_path / "s"), [path], workers=1)
    assert not result.not_activities and result.exit_code == 1
    assert result.failed == [
        (str(path), "nothing to import: an activity file with no timed records, laps or sessions")
    ]


def test_a_folder_of_activities_and_non_activity_files_exits_0(shared_data: Path, tmp_path: Path) -> None:
    folder = tmp_path / "watch"
    folder.mkdir()
    for rel in [RUN, *REAL_NOT_ACTIVITIES]:
        shutil.copy(shared_data / "fit" / rel, folder / Path(rel).name)
    store = str(tmp_path / "s")
    code, out = _cli_json("import", str(folder), "--store", store)
    assert code == 0
    assert out["imported"] == 1 and out["failed"] == [] and out["ignored"] == 0
    assert out["not_activities"] == [
        {"path": str(folder / Path(rel).name), "reason": f"not an activity (file type {t})"}
        for rel, t in sorted(REAL_NOT_ACTIVITIES.items(), key=lambda kv: Path(kv[0]).name)
    ]
    # the JSON contract: the keys it had, plus not_activities, linked (duplicates across sources) and
    # link_warning (None unless linking them failed after the commits)
    assert out["linked"] == [] and out["link_warning"] is None
    assert set(out) == {
        "imported",
        "skipped",
        "failed",
        "ignored",
        "warnings",
        "notes",
        "imported_ids",
        "seconds",
        "not_activities",
        "linked",
        "link_warning",
    }
    # named one by one on the command line too; re-import: already present + skipped, exit 0
    named = [str(folder / Path(rel).name) for rel in [RUN, *REAL_NOT_ACTIVITIES]]
    code, out = _cli_json("import", *named, "--store", store)
    assert code == 0 and out["skipped"] == 1 and len(out["not_activities"]) == 4  # type: ignore[arg-type]
    # the table names each skipped file and why
    res = runner.invoke(app, ["import", str(folder), "--store", store])
    text = " ".join(res.stdout.split())
    assert res.exit_code == 0
    assert "skipped: not an activity" in text and "skipped: not an activity (file type settings)" in text


def test_many_non_activity_files_are_counted_by_reason_in_the_table(tmp_path: Path) -> None:
    folder = tmp_path / "monitoring"
    folder.mkdir()
    for i in range(25):
        (folder / f"m{i:02}.fit").write_bytes(_fit_of_type("monitoring_b" if i % 5 else "settings"))
    res = runner.invoke(app, ["import", str(folder), "--store", str(tmp_path / "s")])
    assert res.exit_code == 0, res.output
    lines = [" ".join(line.split()) for line in res.stdout.splitlines()]
    assert any("skipped: not an activity (file type monitoring_b) │ 20" in line for line in lines), lines
    assert any("skipped: not an activity (file type settings) │ 5" in line for line in lines), lines


def test_usage_errors_exit_2_and_import_nothing(shared_data: Path, tmp_path: Path) -> None:
    store = tmp_path / "s"
    run = shared_data / "fit" / RUN
    missing = runner.invoke(app, ["import", str(run), str(tmp_path / "nope.fit"), "--store", str(store)])
    assert missing.exit_code == 2 and "no such file or directory" in missing.output
    assert not (store / "catalog.sqlite").exists() or not Store.open(store).known_ids("me")
    for bad in (["--workers", "0"], ["--no-such-option"], []):
        res = runner.invoke(app, ["import", *([str(run)] if bad else []), *bad, "--store", str(store)])
        assert res.exit_code == 2, (bad, res.output)


# ---------------------------------------------------------------------------- point 3: Strava
def _strava_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(STRAVA_HEADER)
    for row in rows:
        w.writerow([row.get(c, "") for c in STRAVA_HEADER])
    return ("\ufeff" + out.getvalue()).encode()  # Strava's csv may start with a BOM


def _strava_export(shared_data: Path, target: Path, *, prefix: str = "") -> Path:
    """A Strava export zip: activities/<id>.fit.gz (+ a .gpx.gz and a manual entry), activities.csv,
    the other csv files of an export, media."""
    rows = [
        {"Activity ID": "101", "Activity Name": "Tempo, then easy", "Activity Type": "Run",
         "Activity Gear": "Pegasus 40", "Filename": "activities/101.fit.gz"},
        {"Activity ID": "102", "Activity Name": "Sunday walk", "Activity Type": "Walk",
         "Filename": "activities/102.fit.gz"},
        {"Activity ID": "103", "Activity Name": "Commute", "Activity Type": "Ride",
         "Activity Gear": "Old bike", "Filename": "activities/103.fit.gz"},
        {"Activity ID": "104", "Activity Name": "Track", "Activity Type": "Run",
         "Filename": "activities/104.gpx.gz"},
        {"Activity ID": "105", "Activity Name": "Treadmill (manual)", "Activity Type": "Run"},
    ]  # fmt: skip
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{prefix}activities.csv", _strava_csv(rows))
        zf.writestr(f"{prefix}profile.csv", "Athlete ID,Email Address\n1,a@b.c\n")
        for name, rel in (("101", RUN), ("102", WALK), ("103", NO_SPORT)):
            zf.writestr(
                f"{prefix}activities/{name}.fit.gz", gzip.compress((shared_data / "fit" / rel).read_bytes())
            )
        zf.writestr(f"{prefix}activities/104.gpx.gz", gzip.compress(_TIMED_GPX))
        zf.writestr(f"{prefix}media/abc.jpg", b"\xff\xd8\xff\xe0 not really a jpeg")
    return target


#: a timed GPX track of 4 points (no sport of its own: the csv's "Run" gives it)
_TIMED_GPX = (
    b'<?xml version="1.0"?><gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>'
    + b"".join(
        f'<trkpt lat="52.{5000 + 3 * i}" lon="13.4000">'
        f"<time>2024-05-01T06:00:{10 * i:02d}Z</time></trkpt>".encode()
        for i in range(4)
    )
    + b"</trkseg></trk></gpx>"
)


def _shown(store: Path, display_suffix: str, result: dict[str, object]) -> dict[str, object]:
    runs = json.loads(runner.invoke(app, ["runs", "--json", "--store", str(store)]).stdout)
    run = next(r for r in runs if r["source_path"].endswith(display_suffix))
    res = runner.invoke(app, ["show", run["id"], "--json", "--store", str(store)])
    assert res.exit_code == 0, res.output
    shown: dict[str, object] = json.loads(res.stdout)
    return shown


@pytest.mark.parametrize("prefix", ["", "export_12345/"])
def test_strava_export_names_types_and_gear_come_from_activities_csv(
    shared_data: Path, tmp_path: Path, prefix: str
) -> None:
    export = _strava_export(shared_data, tmp_path / "export_12345.zip", prefix=prefix)
    store = tmp_path / "s"
    code, out = _cli_json("import", str(export), "--store", str(store))
    assert code == 0, out
    assert out["imported"] == 4 and out["failed"] == [] and out["not_activities"] == []
    # profile.csv and the media are ignored; activities.csv is read, not ignored; the .gpx.gz is read
    # by the GPX reader and gets the csv's name and sport like the FIT files
    assert out["ignored"] == 2
    run = _shown(store, f"{prefix}activities/101.fit.gz", out)
    assert run["name"] == "Tempo, then easy" and run["gear"] == "Pegasus 40"
    assert run["sport"] == "running"  # the file's own sport
    walk = _shown(store, f"{prefix}activities/102.fit.gz", out)
    assert walk["name"] == "Sunday walk" and walk["gear"] is None and walk["sport"] == "walking"
    track = _shown(store, f"{prefix}activities/104.gpx.gz", out)
    assert track["name"] == "Track" and track["sport"] == "running"
    ride = _shown(store, f"{prefix}activities/103.fit.gz", out)
    assert ride["sport"] == "cycling"  # the file has no sport: the csv's "Ride"
    assert ride["name"] == "Commute" and ride["gear"] == "Old bike"
    # show prints them
    res = runner.invoke(app, ["show", str(run["id"]), "--store", str(store)])
    text = " ".join(res.stdout.split())
    assert "Tempo, then easy" in text and "Pegasus 40" in text
    # re-import: everything already present, exit 0
    code, again = _cli_json("import", str(export), "--store", str(store))
    assert code == 0 and again["imported"] == 0 and again["skipped"] == 4


def test_a_plain_folder_and_a_zip_without_a_strava_csv_are_unchanged(
    shared_data: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    shutil.copy(shared_data / "fit" / RUN, folder / "run.fit")
    (folder / "activities.csv").write_text("Date,Title\n2024-01-01,x\n")
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as zf:  # an activities.csv that is not Strava's: ignored as before
        zf.writestr("activities.csv", "Date,Title,Distance\n2024-01-01,x,5\n")
        zf.write(shared_data / "fit" / WALK, "walk.fit")
    result = import_paths(Store.open(tmp_path / "s"), [folder, other], workers=1)
    assert len(result.imported) == 2 and not result.failed
    assert result.ignored == [str(folder / "activities.csv"), f"{other}!activities.csv"]


def test_an_unreadable_strava_csv_fails_alone_and_the_activities_still_import(
    shared_data: Path, tmp_path: Path
) -> None:
    export = tmp_path / "export.zip"
    with zipfile.ZipFile(export, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("activities.csv", b"Activity ID," + b" " * 3_000_000)  # a compression bomb
        zf.writestr("activities/1.fit.gz", gzip.compress((shared_data / "fit" / RUN).read_bytes()))
    result = import_paths(Store.open(tmp_path / "s"), [export], workers=1)
    assert len(result.imported) == 1
    assert len(result.failed) == 1 and result.failed[0][0] == f"{export}!activities.csv"
    assert result.failed[0][1].startswith("cannot read the Strava activity list: refused")


@pytest.mark.parametrize(
    ("strava_type", "expected"),
    [
        ("Run", ("running", None)),
        ("Trail Run", ("running", "trail")),
        ("TrailRun", ("running", "trail")),  # the API's spelling
        ("Virtual Run", ("running", "virtual_activity")),
        ("Walk", ("walking", None)),
        ("Hike", ("hiking", None)),
        ("Ride", ("cycling", None)),
        ("E-Bike Ride", ("cycling", "e_bike_fitness")),
        ("Swim", ("swimming", None)),
        ("Inline Skate", ("inline_skate", None)),
    ],
)
def test_strava_types_map_to_fit_sport_names(strava_type: str, expected: tuple[str, str | None]) -> None:
    assert strava_sport(strava_type) == expected
    sport, sub_sport = expected
    if sport != "inline_skate":
        assert sport in Profile["types"]["sport"].values()
    if sub_sport is not None:
        assert sub_sport in Profile["types"]["sub_sport"].values()


_cell = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)


@given(name=_cell, gear=_cell, activity_type=_cell)
def test_strava_csv_cells_are_read_back_as_written(name: str, gear: str, activity_type: str) -> None:
    """Any cell text (commas, quotes, newlines, BOM-like characters) reads back, stripped; empty is None."""
    row = {"Activity ID": "1", "Activity Name": name, "Activity Type": activity_type,
           "Activity Gear": gear, "Filename": "activities/1.fit.gz"}  # fmt: skip
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("activities.csv", _strava_csv([row]))
    with zipfile.ZipFile(buf) as zf:
        meta = strava_metadata(zf, "activities.csv", limit=1_000_000)
    # csv normalises a lone "\r" inside a quoted cell the way the writer quoted it; compare stripped text
    expected = ExportMetadata(
        name=name.strip() or None, activity_type=activity_type.strip() or None, gear=gear.strip() or None
    )
    assert meta == {"activities/1.fit.gz": expected}


def test_apply_metadata_keeps_the_files_sport_and_fills_a_missing_one(shared_data: Path) -> None:
    run = read_any(shared_data / "fit" / RUN)
    tagged = apply_metadata(run, ExportMetadata(name="x", activity_type="Ride", gear="g"))
    assert (tagged.sport, tagged.name, tagged.gear) == ("running", "x", "g")
    bare = read_any(shared_data / "fit" / NO_SPORT)
    assert bare.sport is None
    filled = apply_metadata(bare, ExportMetadata(activity_type="Trail Run"))
    assert (filled.sport, filled.sub_sport, filled.name) == ("running", "trail", None)
    assert apply_metadata(run, None) is run


# ---------------------------------------------------------------------------- point 3: Garmin Connect
def _garmin_export(shared_data: Path, target: Path) -> tuple[Path, list[str], list[str]]:
    """A Garmin Connect account export: DI_CONNECT/... with the uploaded FIT files in nested zips
    (activities and non-activity files) and JSON everywhere else."""
    activities = [RUN, WALK, "Runalyze__Runalyze/Multisession.fit"]
    not_activities = list(REAL_NOT_ACTIVITIES)
    part1, part2 = io.BytesIO(), io.BytesIO()
    with zipfile.ZipFile(part1, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, rel in enumerate(activities[:2] + not_activities[:2]):
            zf.write(shared_data / "fit" / rel, f"user@example.com_{1000 + i}.fit")
    with zipfile.ZipFile(part2, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, rel in enumerate(activities[2:] + not_activities[2:]):
            zf.write(shared_data / "fit" / rel, f"user@example.com_{2000 + i}.fit")
        zf.writestr("user@example.com_2999.fit", _fit_of_type("monitoring_a"))
    up = "DI_CONNECT/DI-Connect-Uploaded-Files"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{up}/UploadedFiles_0-_Part1.zip", part1.getvalue())
        zf.writestr(f"{up}/UploadedFiles_0-_Part2.zip", part2.getvalue())
        zf.writestr("DI_CONNECT/DI-Connect-Fitness/user@example.com_0_summarizedActivities.json", "[]")
        zf.writestr("DI_CONNECT/DI-Connect-Wellness/2024-01-01_2024-04-30_1_sleepData.json", "[]")
        zf.writestr("DI_CONNECT/DI-Connect-User/user_profile.json", '{"userName": "x"}')
        zf.writestr("DI_CONNECT/DI-Connect-Metrics/MetricsMaxMetData_20240101.json", "[]")
    return target, activities, not_activities


def test_garmin_connect_account_export_imports_with_exit_code_0(shared_data: Path, tmp_path: Path) -> None:
    export, activities, not_activities = _garmin_export(shared_data, tmp_path / "garmin.zip")
    store = tmp_path / "s"
    code, out = _cli_json("import", str(export), "--store", str(store))
    assert code == 0, out
    assert out["failed"] == [] and out["warnings"] == []
    assert out["imported"] == len(activities)
    assert out["ignored"] == 4  # the JSON files
    reasons = sorted(d["reason"] for d in out["not_activities"])  # type: ignore[union-attr]
    assert reasons == sorted(
        [f"not an activity (file type {REAL_NOT_ACTIVITIES[r]})" for r in not_activities]
        + ["not an activity (file type monitoring_a)"]
    )
    paths = [d["path"] for d in out["not_activities"]]  # type: ignore[union-attr]
    assert all(
        p.startswith(f"{export}!DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part") for p in paths
    )
    assert all("!user@example.com_" in p for p in paths)  # nested zip member names
    # re-import: already present or skipped, exit 0
    code, again = _cli_json("import", str(export), "--store", str(store))
    assert code == 0 and again["imported"] == 0 and len(again["not_activities"]) == 5  # type: ignore[arg-type]


def test_an_export_part_is_opened_once_not_once_per_member(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An account export's part holds thousands of FIT files: reading each member must not re-open the
    zip (each open re-reads its whole directory: quadratic in members)."""
    part = io.BytesIO()
    with zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(120):
            zf.writestr(f"user_{i}.fit", _fit_of_type("monitoring_b" if i % 2 else "device"))
    export = tmp_path / "garmin.zip"
    with zipfile.ZipFile(export, "w") as zf:
        zf.writestr("DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip", part.getvalue())
    opened: list[str] = []
    real_init = zipfile.ZipFile.__init__

    def counting_init(self: zipfile.ZipFile, file: object, *args: object, **kwargs: object) -> None:
        opened.append(str(file))
        real_init(self, file, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(zipfile.ZipFile, "__init__", counting_init)
    result = import_paths(Store.open(tmp_path / "s"), [export], workers=1)
    assert len(result.not_activities) == 120 and result.exit_code == 0
    assert len(opened) <= 4, opened  # the export, the extracted part (listed, then read)
