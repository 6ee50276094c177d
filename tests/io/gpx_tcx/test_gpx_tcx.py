"""The GPX and TCX readers on the real files of ``shared/data/other`` (Runalyze's and GoldenCheetah's
parser fixtures), generated edge cases and bad input.

Expected durations, distances, heart rates and cadences are the values Runalyze's own tests assert for
the same files, cited as ``<test file>:<line>`` in Runalyze/Runalyze at commit
5669237a78c7d3512df969052fd0d97e5dca6820 (the commit MANIFEST.tsv names), in
``tests/inc/core/Parser/Activity/FileType/`` (``GpxTest.php``, ``TcxTest.php``); Runalyze states
distances in km and times as local Europe/Berlin (bootstrap.php), converted here to m and UTC.
Runalyze's averages weight each sample by the time step leading to it; :func:`_runalyze_mean`
computes the same from our records.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from stridelab.cli import app
from stridelab.io import read_any, reader_for
from stridelab.io.gpx_tcx import GpxReader, TcxReader, XmlActivityError, parse_number, parse_time_ns
from stridelab.model import RECORD_COLUMNS, Activity

RUNALYZE = "Runalyze__Runalyze"
GPX_TEST = "GpxTest.php"
TCX_TEST = "TcxTest.php"

#: every file of the corpus -> None (imports) or the specific reason it fails
EXPECTED_FAILURES = {
    f"{RUNALYZE}/tcx/Route-only.tcx": "no timed track (a route or course, not an activity)",
}


def _other(shared_data: Path) -> Path:
    return shared_data / "other"


def _read(shared_data: Path, rel: str) -> list[Activity]:
    path = _other(shared_data) / rel
    return list(reader_for(path).read_all(path))


def _one(shared_data: Path, rel: str) -> Activity:
    acts = _read(shared_data, rel)
    assert len(acts) == 1
    return acts[0]


def _runalyze_mean(a: Activity, col: str, *, ffill: bool = False) -> float:
    """Mean of ``col`` weighted by the time step leading to each sample (Runalyze's average)."""
    rec = a.records
    t = pd.DatetimeIndex(rec.index).asi8 / 1e9
    v = rec[col].ffill() if ffill else rec[col]
    values = v.to_numpy(dtype="float64")
    dt = np.diff(t, prepend=t[0])
    m = np.isfinite(values) & (dt > 0)
    return float((values[m] * dt[m]).sum() / dt[m].sum())


def _utc(s: str) -> pd.Timestamp:
    return pd.Timestamp(s, tz="UTC")


def _corpus(shared_data: Path) -> list[str]:
    rows = (_other(shared_data) / "MANIFEST.tsv").read_text().splitlines()[1:]
    return [r.split("\t")[0] for r in rows if r.strip()]


# ---------------------------------------------------------------------------- the whole corpus
def test_every_file_of_the_corpus_imports_or_fails_with_a_specific_reason(shared_data: Path) -> None:
    files = _corpus(shared_data)
    assert len(files) == 27
    for rel in files:
        path = _other(shared_data) / rel
        reader = reader_for(path)
        assert reader.name == rel.rsplit(".", 1)[-1]
        if rel in EXPECTED_FAILURES:
            with pytest.raises(XmlActivityError) as exc:
                list(reader.read_all(path))
            assert exc.value.reason == EXPECTED_FAILURES[rel]
            continue
        acts = list(reader.read_all(path))
        assert acts, rel
        for a in acts:
            assert a.format == reader.name and a.source_path == str(path)
            assert set(a.records.columns) <= set(RECORD_COLUMNS), rel
            assert len(a.records) > 0 and a.duration_s and a.duration_s > 0
            assert a.elapsed_s is not None and a.elapsed_s >= 0
            assert a.start_time == a.start_time.tz_convert("UTC")
            assert (a.records["timer_s"].diff().dropna() >= 0).all()
            if len(acts) == 1:
                assert a.id == hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------------------- TCX, against Runalyze
def test_tcx_standard(shared_data: Path) -> None:
    a = _one(shared_data, f"{RUNALYZE}/tcx/Standard.tcx")
    assert a.sport == "running" and len(a.laps) == 23
    assert a.start_time.floor("min") == _utc("2011-07-10 09:47")  # TcxTest.php:25 (11:47 Berlin)
    assert a.duration_s == pytest.approx(6523, abs=30)  # TcxTest.php:28
    assert a.elapsed_s == pytest.approx(7200 - 8 * 60 - 21, abs=5)  # TcxTest.php:29
    assert a.distance_m == pytest.approx(22224, abs=100)  # TcxTest.php:31
    assert _runalyze_mean(a, "heart_rate_bpm") == pytest.approx(145, abs=2)  # TcxTest.php:33
    assert a.records["heart_rate_bpm"].max() == pytest.approx(172, abs=2)  # TcxTest.php:34
    for col in ("altitude_m", "distance_m", "heart_rate_bpm", "lat_deg", "lon_deg"):  # :36-41
        assert a.records[col].notna().any()
    # TcxTest.php:43-49: five pauses; the first one (19 s in) lasts 57 s from point to point: the
    # timer stops for it (our pause runs from the stop marker at 09:47:20 to the restart at 09:48:15)
    t = a.records["timer_s"]
    assert t.loc[_utc("2011-07-10 09:48:15")] - t.loc[_utc("2011-07-10 09:47:20")] == 0
    assert a.records["lap_index"].max() == 22


def test_tcx_swim_without_positions(shared_data: Path) -> None:
    a = _one(shared_data, f"{RUNALYZE}/tcx/Swim-without-time_by-Timekiller.tcx")
    assert a.start_time.floor("min") == _utc("2012-04-13 11:51")  # TcxTest.php:56
    assert a.duration_s == pytest.approx(2100, abs=30)  # TcxTest.php:59
    assert a.elapsed_s == pytest.approx(2100, abs=30)  # TcxTest.php:60
    assert a.sport == "generic"  # "Other" (TcxTest.php:62), FIT's name for it
    assert a.product == "Forerunner 310XT-000"  # TcxTest.php:63
    assert len(a.laps) == 30


def test_tcx_indoor(shared_data: Path) -> None:
    a = _one(shared_data, f"{RUNALYZE}/tcx/Indoor-Training.tcx")
    assert a.start_time.floor("min") == _utc("2012-02-10 15:48")  # TcxTest.php:70
    assert a.duration_s == pytest.approx(7204, abs=70)  # TcxTest.php:73
    assert a.elapsed_s == 7204  # TcxTest.php:74
    assert _runalyze_mean(a, "heart_rate_bpm") == pytest.approx(122, abs=2)  # TcxTest.php:75
    assert a.records["heart_rate_bpm"].max() == pytest.approx(149, abs=2)  # TcxTest.php:76
    assert "lat_deg" not in a.records.columns


def test_tcx_multisport_is_one_activity_with_a_session_per_leg(shared_data: Path) -> None:
    a = _one(shared_data, f"{RUNALYZE}/tcx/Multisport.tcx")
    assert a.sport == "multisport" and [s.sport for s in a.sessions] == ["cycling", "running", "cycling"]
    s0, s1, s2 = a.sessions  # Runalyze makes three activities of them (TcxTest.php:83-84)
    assert s0.start_time.floor("min") == _utc("2013-04-18 16:14")  # TcxTest.php:86
    assert s0.timer_s == pytest.approx(494, abs=20)  # TcxTest.php:88
    assert s0.distance_m == pytest.approx(2355, abs=100)  # TcxTest.php:89
    assert s1.start_time.floor("min") == _utc("2013-04-18 16:24")  # TcxTest.php:91
    assert s1.timer_s == pytest.approx(3571, abs=30)  # TcxTest.php:93
    assert s1.distance_m == pytest.approx(11460, abs=100)  # TcxTest.php:94
    assert s2.start_time.floor("min") == _utc("2013-04-18 17:35")  # TcxTest.php:96
    assert s2.timer_s == pytest.approx(420, abs=10)  # TcxTest.php:98
    assert s2.distance_m == pytest.approx(2355, abs=100)  # TcxTest.php:99
    assert a.duration_s == pytest.approx(sum(s.timer_s or 0 for s in a.sessions))
    assert sorted(a.records["session_index"].unique()) == [0, 1, 2]
    assert len(a.laps) == 14 and {lap.sport for lap in a.laps} == {"cycling", "running"}


def test_tcx_dakota_distance_from_the_laps_and_points_time(shared_data: Path) -> None:
    a = _one(shared_data, f"{RUNALYZE}/tcx/Dakota.tcx")
    assert a.distance_m == pytest.approx(2340, abs=100)  # TcxTest.php:109
    assert "power_w" not in a.records.columns  # TcxTest.php:116
    # Runalyze starts it at the lap's StartTime (TcxTest.php:106, 07:21 UTC); the trackpoints all lie
    # 6 h later: we keep the points' clock and say so
    assert a.start_time == _utc("2012-08-19 13:29:31")
    assert any("6.1 h from its first point" in n for n in a.notes)
    assert a.records["distance_m"].iloc[-1] == pytest.approx(2340, abs=100)  # computed from positions


def test_tcx_watt_extension_without_namespace(shared_data: Path) -> None:
    a = _one(shared_data, f"{RUNALYZE}/tcx/watt-extension-without-namespace.tcx")
    assert a.start_time.floor("min") == _utc("2013-11-03 13:05")  # TcxTest.php:123
    expected = [0, 10, 20, 30, 41, 41, 41, 117, 155, 182, 188, 186, 182, 178, 181, 180, 179, 178, 179, 180]
    expected += [181, 180, 180, 178]  # TcxTest.php:127: Runalyze drops 3 of the 27 points (no move)
    ours = a.records["power_w"].tolist()
    it = iter(ours)
    assert all(any(v == w for w in it) for v in expected)  # in order, a subsequence of ours
    assert len(ours) == 27


def test_tcx_missing_distances_never_decrease(shared_data: Path) -> None:
    a = _one(shared_data, f"{RUNALYZE}/tcx/missing-distances.tcx")
    assert a.start_time.floor("min") == _utc("2010-12-27 14:46")  # TcxTest.php:147
    d = a.records["distance_m"].dropna()
    assert (d.diff().dropna() >= 0).all()  # TcxTest.php:150-154
    assert d.iloc[0] == 0 and a.distance_m == pytest.approx(299.03)  # odometer offset removed


def test_tcx_runtastic_times_and_distances(shared_data: Path) -> None:
    a = _one(shared_data, f"{RUNALYZE}/tcx/Runtastic.tcx")
    assert a.start_time.floor("min") == _utc("2015-05-10 14:13")  # TcxTest.php:161
    assert a.duration_s == pytest.approx(61, abs=5)  # TcxTest.php:164
    assert a.distance_m == pytest.approx(113, abs=10)  # TcxTest.php:165
    rec = a.records
    assert rec["elapsed_s"].tolist()[10:20] == [23, 25, 27, 31, 32, 35, 37, 39, 45, 50]  # :171-174
    km = (rec["distance_m"] / 1000).round(3).tolist()[10:20]
    assert km == [0.0, 0.0, 0.0, 0.052, 0.052, 0.052, 0.052, 0.052, 0.071, 0.085]  # :175-178


def test_tcx_route_only_is_a_clear_error(shared_data: Path) -> None:
    # Runalyze reads the course as an activity without time (TcxTest.php:181-191); we refuse it
    path = _other(shared_data) / RUNALYZE / "tcx/Route-only.tcx"
    with pytest.raises(XmlActivityError, match=r"^no timed track \(a route or course, not an activity\)$"):
        TcxReader().read(path)


def test_tcx_doubled_cadence_is_halved(shared_data: Path) -> None:
    a = _one(shared_data, f"{RUNALYZE}/tcx/Treadmill-doubled-cadence.tcx")
    assert "lat_deg" not in a.records.columns  # treadmill
    assert _runalyze_mean(a, "cadence_rpm") == pytest.approx(67, abs=0.5)  # TcxTest.php:205
    assert np.allclose(a.records["cadence_spm"], 2 * a.records["cadence_rpm"], equal_nan=True)
    assert any("steps, not strides" in n for n in a.notes)


def test_tcx_first_point_empty(shared_data: Path) -> None:
    a = _one(shared_data, f"{RUNALYZE}/tcx/First-point-empty.tcx")
    assert a.duration_s == 142  # TcxTest.php:215
    assert a.distance_m == pytest.approx(601, abs=1)  # TcxTest.php:216
    assert a.records["lat_deg"].notna().any()  # TcxTest.php:218
    assert np.isnan(a.records["lat_deg"].iloc[0])  # the empty first point is kept, empty


def test_tcx_wrong_time_zone_by_polar(shared_data: Path) -> None:
    a = _one(shared_data, f"{RUNALYZE}/tcx/Wrong-time-zone-by-polar.tcx")
    assert a.start_time.floor("min") == _utc("2016-04-10 17:40")  # TcxTest.php:234 (no tz lookup)
    assert a.distance_m == pytest.approx(3640, abs=10)  # TcxTest.php:239
    # TcxTest.php:238 asserts 1765 +- 10 s: Runalyze's *moving* time (TcxActivity.php:25 and :183-184
    # drop a step where the distance does not grow for more than 1 s or the pace is slower than
    # 6 s/m). Ours is the device's timer (the laps' 1923 s); that rule run on our records gives
    # Runalyze's figure:
    assert a.duration_s == pytest.approx(1923)
    rec = a.records
    t, d = pd.DatetimeIndex(rec.index).asi8 / 1e9, rec["distance_m"].to_numpy()
    moving, last_t, last_d = 0.0, t[0], d[0]
    for ti, di in zip(t[1:], d[1:], strict=True):
        dt, dd = ti - last_t, di - last_d
        if dt > 0 and not ((dd == 0 and dt > 1) or (dd > 0 and dt / dd > 6)):
            moving, last_d = moving + dt, di
        last_t = ti if dt > 0 else last_t
    assert moving == pytest.approx(1765, abs=10)
    for col in ("altitude_m", "lat_deg", "lon_deg", "heart_rate_bpm", "cadence_rpm"):  # :241-245
        assert rec[col].notna().any()


def test_tcx_negative_pause_gives_no_negative_time(shared_data: Path) -> None:
    a = _one(shared_data, f"{RUNALYZE}/tcx/negative-pause.tcx")  # TcxTest.php:251-258
    assert (a.records["timer_s"].diff().dropna() >= 0).all()
    assert any("backward time step" in n for n in a.notes)


def test_tcx_polar_one_lap_indoor_with_distance(shared_data: Path) -> None:
    a = _one(shared_data, f"{RUNALYZE}/tcx/Polar-one-lap-indoor-with-distance.tcx")
    assert a.duration_s == 13  # TcxTest.php:267
    assert a.distance_m == pytest.approx(94, abs=1)  # TcxTest.php:268
    assert a.records["heart_rate_bpm"].notna().any()  # TcxTest.php:271
    for col in ("lat_deg", "lon_deg", "distance_m", "altitude_m", "power_w"):  # :273-278
        assert col not in a.records.columns


def test_tcx_several_activities_in_one_file(shared_data: Path) -> None:
    path = _other(shared_data) / RUNALYZE / "tcx/Multiple-Trainings.tcx"
    acts = list(TcxReader().read_all(path))  # not asserted by Runalyze's tests: the file's own laps
    assert [a.start_time for a in acts] == [
        _utc("2012-01-22 14:10:39"),
        _utc("2012-01-20 09:21:02"),
        _utc("2012-01-19 10:30:21"),
    ]
    assert [len(a.laps) for a in acts] == [1, 3, 1]
    assert [round(a.duration_s or 0) for a in acts] == [3600, 2085, 3000]
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert [a.id for a in acts] == [hashlib.sha256(f"{sha}:{i}".encode()).hexdigest() for i in range(3)]
    # the first has two stops (three Tracks in one lap): timer 3600 s of 3801 s elapsed
    assert acts[0].elapsed_s == 3801 and acts[0].records["timer_s"].iloc[-1] == pytest.approx(3600, abs=5)


def test_tcx_goldencheetah_power_and_speed(shared_data: Path) -> None:
    a = _one(shared_data, "GoldenCheetah__GoldenCheetah/activity_769724393.tcx")
    assert a.sport == "cycling" and len(a.laps) == 12
    assert a.records["power_w"].notna().sum() > 1000 and a.records["speed_m_s"].max() > 5
    assert "cadence_spm" not in a.records.columns  # a bike's rpm are not steps


# ---------------------------------------------------------------------------- GPX, against Runalyze
def test_gpx_standard(shared_data: Path) -> None:
    a = _one(shared_data, f"{RUNALYZE}/gpx/standard.gpx")
    assert a.start_time.floor("min") == _utc("2013-02-04 20:38")  # GpxTest.php:29
    assert a.duration_s == pytest.approx(2295, abs=15)  # GpxTest.php:32
    assert a.elapsed_s == 2306  # GpxTest.php:33
    assert a.distance_m == pytest.approx(5993, abs=100)  # GpxTest.php:34
    assert "temperature_c" not in a.records.columns  # GpxTest.php:41
    assert a.sport is None


def test_gpx_spoq_heart_rate_track(shared_data: Path) -> None:
    a = _one(shared_data, f"{RUNALYZE}/gpx/SpoQ.gpx")
    assert a.start_time.floor("min") == _utc("2013-09-29 09:36")  # GpxTest.php:103
    assert _runalyze_mean(a, "heart_rate_bpm") == pytest.approx(112, abs=0.5)  # GpxTest.php:106
    assert a.records["heart_rate_bpm"].max() == 132  # GpxTest.php:107
    b = _one(shared_data, f"{RUNALYZE}/gpx/SpoQ-2.gpx")
    assert b.start_time.floor("min") == _utc("2014-07-01 08:18")  # GpxTest.php:117
    assert _runalyze_mean(b, "heart_rate_bpm") == pytest.approx(106, abs=0.5)  # GpxTest.php:120
    assert b.records["heart_rate_bpm"].max() == 128  # GpxTest.php:121


def test_gpx_navrun500_gaps_are_pauses(shared_data: Path) -> None:
    a = _one(shared_data, f"{RUNALYZE}/gpx/NavRun500.gpx")
    assert a.start_time.floor("min") == _utc("2015-05-25 12:40")  # GpxTest.php:131
    assert a.duration_s == pytest.approx(1 * 3600 + 13 * 60 - 29 * 60, abs=10)  # GpxTest.php:143
    assert a.records["altitude_m"].notna().any()  # GpxTest.php:145
    # GpxTest.php:147-151: pauses of 233, 428 and 1075 s: the timer does not run through them
    steps = np.diff(pd.DatetimeIndex(a.records.index).asi8) / 1e9
    timer_steps = np.diff(a.records["timer_s"].to_numpy())
    assert sorted(steps[timer_steps == 0][steps[timer_steps == 0] > 100].tolist()) == [233, 428, 1075]


def test_gpx_route_only_with_synthetic_times_imports(shared_data: Path) -> None:
    # the "route" holds a trk whose points carry (planner-made) times: a timed track, so it imports,
    # as in Runalyze (GpxTest.php:160: 0.4 +- 0.05 km)
    a = _one(shared_data, f"{RUNALYZE}/gpx/Route-only.gpx")
    assert a.distance_m == pytest.approx(400, abs=50)
    for col in ("lat_deg", "lon_deg", "altitude_m"):  # GpxTest.php:162-164
        assert a.records[col].notna().any()


def test_gpx_strava_export_cadence(shared_data: Path) -> None:
    a = _one(shared_data, f"{RUNALYZE}/gpx/strava-export.gpx")
    assert a.start_time.floor("min") == _utc("2015-12-01 20:11")  # GpxTest.php:177
    assert _runalyze_mean(a, "cadence_rpm") == pytest.approx(87, abs=0.5)  # GpxTest.php:180
    assert a.records["temperature_c"].notna().any()  # gpxtpx:atemp


def test_gpx_missing_heart_rate_points(shared_data: Path) -> None:
    a = _one(shared_data, f"{RUNALYZE}/gpx/hr-not-always-there.gpx")
    # Runalyze fills the gaps with the last value (GpxTest.php:192-194): the same on our records
    assert _runalyze_mean(a, "heart_rate_bpm", ffill=True) == pytest.approx(137, abs=0.5)
    hr = a.records["heart_rate_bpm"]
    assert hr.isna().any() and not (hr == 0).any()  # missing stays missing (NaN), never 0


def test_gpx_mixed_extensions_from_movescount(shared_data: Path) -> None:
    a = _one(shared_data, f"{RUNALYZE}/gpx/Movescount-mixed-extensions.gpx")
    for col in ("distance_m", "altitude_m", "heart_rate_bpm", "cadence_rpm"):  # GpxTest.php:220-223
        assert a.records[col].notna().any()


def test_gpx_runkeeper_negative_time_step(shared_data: Path) -> None:
    a = _one(shared_data, f"{RUNALYZE}/gpx/runkeeper-negative-time-step-at-start.gpx")
    assert a.duration_s == pytest.approx(3329, abs=10)  # GpxTest.php:257
    assert a.elapsed_s == pytest.approx(3329, abs=10)  # GpxTest.php:258
    assert _runalyze_mean(a, "heart_rate_bpm") == pytest.approx(151, abs=0.5)  # GpxTest.php:259
    assert a.start_time == _utc("2017-10-02 08:49:24")  # the earliest point, not the first one
    assert (a.records["elapsed_s"] >= 0).all() and any("backward" in n for n in a.notes)


# ---------------------------------------------------------------------------- generated files
def _gpx(body: str, *, ns: str = 'xmlns="http://www.topografix.com/GPX/1/1"', head: str = "") -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>{head}<gpx version="1.1" {ns}>{body}</gpx>'.encode()


def _pts(times: list[str], *, ext: str = "", lat0: float = 50.0) -> str:
    return "".join(
        f'<trkpt lat="{lat0 + i * 1e-4}" lon="7.0"><ele>100</ele><time>{t}</time>{ext}</trkpt>'
        for i, t in enumerate(times)
    )


def _times(start: datetime, n: int, step: float = 1.0, fmt: str = "%Y-%m-%dT%H:%M:%SZ") -> list[str]:
    return [(start + timedelta(seconds=i * step)).strftime(fmt) for i in range(n)]


T0 = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)


def test_gpx_segments_are_pauses_and_extensions_are_read() -> None:
    ext = (
        "<extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>150</gpxtpx:hr><gpxtpx:cad>88</gpxtpx:cad>"
        "<gpxtpx:atemp>12.5</gpxtpx:atemp></gpxtpx:TrackPointExtension>"
        "<gpxpx:PowerExtension><gpxpx:PowerInW>250</gpxpx:PowerInW></gpxpx:PowerExtension></extensions>"
    )
    seg1 = "<trkseg>" + _pts(_times(T0, 10), ext=ext) + "</trkseg>"
    seg2 = "<trkseg>" + _pts(_times(T0 + timedelta(seconds=300), 10), ext=ext, lat0=50.01) + "</trkseg>"
    ns = (
        'xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v2" '
        'xmlns:gpxpx="http://www.garmin.com/xmlschemas/PowerExtension/v1"'
    )
    a = GpxReader().read(_gpx(f"<trk><type>running</type>{seg1}{seg2}</trk>", ns=ns))
    rec = a.records
    assert a.sport == "running" and a.elapsed_s == 309 and a.duration_s == 18
    assert rec["heart_rate_bpm"].eq(150).all() and rec["power_w"].eq(250).all()
    assert rec["temperature_c"].eq(12.5).all() and rec["cadence_spm"].eq(176).all()
    # the distance across the break is not run: two 9-step segments of ~11.1 m steps
    assert a.distance_m == pytest.approx(18 * 11.12, rel=0.01)


def test_gpx_wrong_or_missing_namespace_and_strava_numeric_type() -> None:
    body = "<trk><type>9</type><trkseg>" + _pts(_times(T0, 5)) + "</trkseg></trk>"
    for ns in ("", 'xmlns="http://www.topografix.com/GPX/1/0"', 'xmlns="urn:wrong"'):
        a = GpxReader().read(_gpx(body, ns=ns))
        assert a.sport == "running" and len(a.records) == 5 and a.duration_s == 4


def test_gpx_route_and_untimed_tracks_are_refused() -> None:
    rte = "<rte>" + "".join(f'<rtept lat="50.{i}" lon="7"/>' for i in range(5)) + "</rte>"
    with pytest.raises(XmlActivityError, match=r"^no timed track: the GPX file holds only a route"):
        GpxReader().read(_gpx(rte))
    untimed = "<metadata><time>2024-01-01T00:00:00Z</time></metadata><trk><trkseg>"
    untimed += "".join(f'<trkpt lat="50.{i}" lon="7"/>' for i in range(5)) + "</trkseg></trk>"
    with pytest.raises(XmlActivityError, match=r"^no timed track: the track points have no times"):
        GpxReader().read(_gpx(untimed))


def test_timestamps_without_zone_are_utc_with_a_note() -> None:
    body = "<trk><trkseg>" + _pts(_times(T0, 4, fmt="%Y-%m-%dT%H:%M:%S")) + "</trkseg></trk>"
    a = GpxReader().read(_gpx(body))
    assert a.start_time == pd.Timestamp(T0) and any("without a zone: read as UTC" in n for n in a.notes)


def test_non_monotonic_time_is_kept_in_file_order() -> None:
    times = _times(T0, 6)
    times[3], times[4] = times[4], times[3]
    a = GpxReader().read(_gpx("<trk><trkseg>" + _pts(times) + "</trkseg></trk>"))
    assert list(a.records.index) == [pd.Timestamp(t) for t in times]
    assert a.records["timer_s"].is_monotonic_increasing and a.duration_s == 4  # one step not counted
    assert any("1 backward time step" in n for n in a.notes)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (_gpx("<trk><trkseg>" + _pts(_times(T0, 5)))[:-40], "truncated XML"),
        (b'<?xml version="1.0"?><gpx><trk><trkseg><trkpt lat="1" lon="2"></trk></gpx>', "malformed XML"),
        (b"<?xml version='1.0'?><kml/>", "not a GPX file: the root element is <kml>"),
        (
            b'<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            b"<gpx><trk><name>&b;</name></trk></gpx>",
            "refused: the GPX file declares XML entities",
        ),
    ],
)
def test_bad_gpx_input_fails_with_a_clear_reason(data: bytes, reason: str) -> None:
    with pytest.raises(XmlActivityError) as exc:
        GpxReader().read(data)
    assert exc.value.reason.startswith(reason) and "\n" not in exc.value.reason


def test_a_too_large_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "huge.gpx"
    with open(big, "wb") as fh:  # sparse: 10 GB on paper, nothing on disk
        fh.write(_gpx("")[:60])
        fh.truncate(10 * 1024**3)
    with pytest.raises(XmlActivityError, match=r"^refused: more than 256 MB of XML"):
        GpxReader().read(big)


def test_tcx_with_a_wrong_namespace_no_timed_points_and_summary_only_laps() -> None:
    tcx = (
        b'<?xml version="1.0"?><TrainingCenterDatabase xmlns="urn:wrong"><Activities>'
        b'<Activity Sport="Running"><Id>2024-05-01T06:00:00Z</Id><Lap StartTime="2024-05-01T06:00:00Z">'
        b"<TotalTimeSeconds>1800</TotalTimeSeconds><DistanceMeters>5000</DistanceMeters></Lap>"
        b"</Activity></Activities></TrainingCenterDatabase>"
    )
    a = TcxReader().read(tcx)
    assert a.sport == "running" and a.duration_s == 1800 and a.distance_m == 5000 and len(a.records) == 0
    assert any("totals come from the laps" in n for n in a.notes)


def test_tcx_run_cadence_is_strides_and_steps_are_twice() -> None:
    pts = "".join(
        f"<Trackpoint><Time>{t}</Time><Extensions><ns3:TPX><ns3:Speed>3.2</ns3:Speed>"
        f"<ns3:RunCadence>88</ns3:RunCadence><ns3:Watts>270</ns3:Watts></ns3:TPX></Extensions></Trackpoint>"
        for t in _times(T0, 5)
    )
    tcx = (
        '<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2" '
        'xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2"><Activities>'
        f'<Activity Sport="Running"><Id>x</Id><Lap StartTime="2024-05-01T06:00:00Z"><Track>{pts}</Track>'
        "</Lap></Activity></Activities></TrainingCenterDatabase>"
    ).encode()
    rec = TcxReader().read(tcx).records
    assert rec["cadence_rpm"].eq(88).all() and rec["cadence_spm"].eq(176).all()
    assert rec["speed_m_s"].eq(3.2).all() and rec["power_w"].eq(270).all()


def test_gzip_and_read_any(shared_data: Path, tmp_path: Path) -> None:
    src = _other(shared_data) / RUNALYZE / "gpx/strava-export.gpx"
    gz = tmp_path / "a.gpx.gz"
    gz.write_bytes(gzip.compress(src.read_bytes()))
    a = read_any(gz)
    assert isinstance(a, Activity) and a.id == hashlib.sha256(src.read_bytes()).hexdigest()


# ---------------------------------------------------------------------------- parsing (hypothesis)
@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
    st.integers(min_value=0, max_value=9),
    st.sampled_from(["Z", "offset", "none"]),
)
def test_parse_time_round_trips(dt: datetime, offset_min: int, digits: int, zone: str) -> None:
    ns_in_second = dt.microsecond * 1000
    frac = f"{ns_in_second:09d}"[:digits]
    text = dt.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if digits else "")
    offset = timedelta(minutes=offset_min) if zone == "offset" else timedelta(0)
    if zone == "Z":
        text += "Z"
    elif zone == "offset":
        sign = "-" if offset_min < 0 else "+"
        text += f"{sign}{abs(offset_min) // 60:02d}:{abs(offset_min) % 60:02d}"
    ns, zoned = parse_time_ns(text)
    expected = pd.Timestamp(dt.replace(microsecond=0) - offset, tz="UTC").value + int((frac + "0" * 9)[:9])
    assert ns == expected and zoned == (zone != "none")


@given(st.text(max_size=30))
def test_parse_time_never_raises(text: str) -> None:
    ns, _ = parse_time_ns(text)
    assert ns is None or isinstance(ns, int)


@given(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(["{}", " {} ", "\n{}\t"]))
def test_parse_number(x: float, fmt: str) -> None:
    got = parse_number(fmt.format(repr(x)))
    assert got == (x if np.isfinite(x) else None)


# ---------------------------------------------------------------------------- end to end
def test_cli_import_of_a_folder_of_gpx_and_tcx(shared_data: Path, tmp_path: Path) -> None:
    folder = tmp_path / "other"
    shutil.copytree(_other(shared_data), folder)
    store = tmp_path / "store"
    res = CliRunner().invoke(app, ["import", str(folder), "--store", str(store), "--json"])
    out = json.loads(res.stdout)
    failed = {Path(f["path"]).name: f["error"] for f in out["failed"]}
    assert failed == {"Route-only.tcx": "no timed track (a route or course, not an activity)"}
    assert res.exit_code == 1  # one file failed
    # 25 single-activity files + 3 activities of Multiple-Trainings.tcx (Multisport.tcx is one)
    assert out["imported"] == 28 and len(set(out["imported_ids"])) == 28
    again = json.loads(
        CliRunner().invoke(app, ["import", str(folder), "--store", str(store), "--json"]).stdout
    )
    assert again["imported"] == 0 and again["skipped"] >= 26  # idempotent
