"""The vectorised fast path of the GPX/TCX readers (``io/gpx_tcx/_fast.py``) gives exactly the
activities of the general (streaming ElementTree) path: on every file of the shared corpus, on our own
exports, and on generated files mixing regular points with irregular ones (which go the general way)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stridelab.io.gpx_tcx import XmlActivityError
from stridelab.io.gpx_tcx._build import Parsed, build_activity
from stridelab.io.gpx_tcx._fast import cut_blocks
from stridelab.io.gpx_tcx._gpx import parse_gpx
from stridelab.io.gpx_tcx._tcx import parse_tcx
from stridelab.io.gpx_tcx._xml import load_bytes
from stridelab.model import Activity

_ID = "0" * 64


def _activities(fmt: str, data: bytes, *, fast: bool) -> list[Activity] | str:
    parse = parse_gpx if fmt == "gpx" else parse_tcx
    try:
        parsed: list[Parsed] = list(parse(data, fast=fast))
    except XmlActivityError as exc:
        return exc.reason
    return [
        build_activity(p.legs, activity_id=_ID, fmt=fmt, source_path=None, product=p.product, notes=p.notes)
        for p in parsed
    ]


def _assert_same(fmt: str, data: bytes) -> None:
    fast, general = _activities(fmt, data, fast=True), _activities(fmt, data, fast=False)
    if isinstance(general, str) or isinstance(fast, str):
        assert fast == general
        return
    assert len(fast) == len(general)
    for a, b in zip(fast, general, strict=True):
        pd.testing.assert_frame_equal(a.records, b.records)  # columns in the same order too
        for name in ("start_time", "duration_s", "elapsed_s", "distance_m", "sport", "product"):
            assert getattr(a, name) == getattr(b, name), name
        assert a.laps == b.laps
        assert a.sessions == b.sessions
        assert a.notes == b.notes


def test_every_corpus_file_reads_the_same_both_ways(shared_data: Path) -> None:
    used = 0
    for path in sorted((shared_data / "other").rglob("*")):
        name = path.name.lower()
        fmt = "gpx" if ".gpx" in name else "tcx" if ".tcx" in name else None
        if fmt is None:
            continue
        data = load_bytes(path)
        used += cut_blocks(data, fmt) is not None
        _assert_same(fmt, data)
    assert used >= 10  # the fast path is really taken on the real files (Garmin, Strava, Runkeeper, ...)


# ---------------------------------------------------------------------------- generated files
_REGULAR = st.one_of(
    st.integers(-400, 400).map(str),
    st.floats(-400, 400, allow_nan=False).map(lambda x: f"{x:.{abs(int(x * 7)) % 9}f}"),
    st.sampled_from(["0", "-0", "0.0", "007", "250"]),
)
#: what the fast grammar leaves to the general path: a messy file mixes them in
_MESSY = st.one_of(_REGULAR, _REGULAR, st.sampled_from(["1e3", " 5", "5,5", "", "inf"]))
_FRACTIONS = st.sampled_from(["", ".5", ".123", ".123456789"])
_MESSY_FRACTIONS = st.sampled_from(["", ".5", ".1234567891", "+02:00", "-00:30"])


def _time(draw: st.DrawFn, t_s: int, messy: bool) -> str:
    frac = draw(_MESSY_FRACTIONS if messy else _FRACTIONS)
    day = pd.Timestamp(t_s, unit="s").strftime("%Y-%m-%dT%H:%M:%S")
    return f"{day}{frac}" + ("" if frac[:1] in ("+", "-") else "Z")


@st.composite
def _gpx_point(draw: st.DrawFn, t_s: int, messy: bool) -> str:
    numbers = _MESSY if messy else _REGULAR
    lat, lon = draw(st.sampled_from(["47.1", "-91", "0", "12.3456789"])), draw(numbers)
    attrs = f'lat="{lat}" lon="{lon}"' if draw(st.booleans()) else f'lon="{lon}"  lat="{lat}"'
    parts = [f"<trkpt {attrs}>"]
    if draw(st.booleans()):
        parts.append(f"<ele>{draw(numbers)}</ele>")
    parts.append(f"\n  <time>{_time(draw, t_s, messy)}</time>")
    ext = []
    if draw(st.booleans()):
        ext.append(
            draw(st.sampled_from(["<power>{}</power>", "<gpxpx:PowerInWatts>{}</gpxpx:PowerInWatts>"]))
        )
    if draw(st.booleans()):
        tags = [t for t in ("atemp", "hr", "cad", "speed") if draw(st.booleans())]
        inner = "".join(f"<gpxtpx:{t}>{{}}</gpxtpx:{t}>" for t in tags)
        ext.append(f"<gpxtpx:TrackPointExtension>{inner}</gpxtpx:TrackPointExtension>")
    if draw(st.booleans()):
        ext.append("<gpxpx:PowerExtension><gpxpx:PowerInW>{}</gpxpx:PowerInW></gpxpx:PowerExtension>")
    if messy and draw(st.integers(0, 30)) == 0:
        ext.append("<gpxtpx:wtemp>3</gpxtpx:wtemp>")  # not in the fast grammar
    if ext:
        body = "".join(ext)
        body = body.format(*[draw(numbers) for _ in range(body.count("{}"))])
        parts.append(f"<extensions>{body}</extensions>")
    parts.append("</trkpt>\n")
    return "".join(parts)


@st.composite
def _gpx_file(draw: st.DrawFn) -> bytes:
    t = draw(st.integers(1_500_000_000, 1_700_000_000))
    messy = draw(st.integers(0, 3)) == 0
    segments = []
    for _ in range(draw(st.integers(1, 3))):
        points = []
        for _ in range(draw(st.integers(1, 40))):
            t += draw(st.sampled_from([1, 1, 1, 2, 0, -3, 120]))
            points.append(draw(_gpx_point(t, messy)))
        segments.append("<trkseg>" + "".join(points) + "</trkseg>")
    return (
        '<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v2" '
        'xmlns:gpxpx="http://www.garmin.com/xmlschemas/PowerExtension/v1"><trk><type>running</type>'
        + "".join(segments)
        + "</trk></gpx>"
    ).encode()


@st.composite
def _tcx_point(draw: st.DrawFn, t_s: int, messy: bool) -> str:
    numbers = _MESSY if messy else _REGULAR
    parts = [f"<Trackpoint><Time>{_time(draw, t_s, messy)}</Time>"]
    if draw(st.booleans()):
        lat = draw(st.sampled_from(["47.1", "-91", "0", "12.3456789"]))
        parts.append(
            f"<Position><LatitudeDegrees>{lat}</LatitudeDegrees>"
            f"<LongitudeDegrees>{draw(numbers)}</LongitudeDegrees></Position>"
        )
    for tag in ("AltitudeMeters", "DistanceMeters"):
        if draw(st.booleans()):
            parts.append(f"<{tag}>{draw(numbers)}</{tag}>")
    if draw(st.booleans()):
        attr = draw(st.sampled_from(["", ' xsi:type="HeartRateInBeatsPerMinute_t"']))
        parts.append(f"<HeartRateBpm{attr}><Value>{draw(numbers)}</Value></HeartRateBpm>")
    if draw(st.booleans()):
        parts.append(f"<Cadence>{draw(numbers)}</Cadence>")
    if draw(st.booleans()):
        tags = [t for t in ("Speed", "RunCadence", "Watts") if draw(st.booleans())]
        inner = "".join(f"<ns3:{t}>{draw(numbers)}</ns3:{t}>" for t in tags)
        parts.append(f"<Extensions><ns3:TPX>{inner}</ns3:TPX></Extensions>")
    if messy and draw(st.integers(0, 30)) == 0:
        parts.append("<SensorState>Present</SensorState>")  # not in the fast grammar
    parts.append("</Trackpoint>\n")
    return "".join(parts)


@st.composite
def _tcx_file(draw: st.DrawFn) -> bytes:
    t = draw(st.integers(1_500_000_000, 1_700_000_000))
    messy = draw(st.integers(0, 3)) == 0
    laps = []
    for _ in range(draw(st.integers(1, 3))):
        start = pd.Timestamp(t + 1, unit="s").strftime("%Y-%m-%dT%H:%M:%SZ")
        tracks = []
        for _ in range(draw(st.integers(1, 2))):
            points = []
            for _ in range(draw(st.integers(1, 30))):
                t += draw(st.sampled_from([1, 1, 2, 0, -3, 90]))
                points.append(draw(_tcx_point(t, messy)))
            tracks.append("<Track>" + "".join(points) + "</Track>")
        laps.append(
            f'<Lap StartTime="{start}"><TotalTimeSeconds>{draw(_REGULAR)}</TotalTimeSeconds>'
            + "".join(tracks)
            + "</Lap>"
        )
    sport = draw(st.sampled_from(["Running", "Biking"]))
    return (
        '<?xml version="1.0"?><TrainingCenterDatabase '
        'xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2"><Activities>'
        f'<Activity Sport="{sport}"><Id>2020-01-01T00:00:00Z</Id>' + "".join(laps) + "</Activity>"
        "</Activities></TrainingCenterDatabase>"
    ).encode()


@settings(max_examples=40)
@given(_gpx_file())
def test_generated_gpx_reads_the_same_both_ways(data: bytes) -> None:
    _assert_same("gpx", data)


@settings(max_examples=40)
@given(_tcx_file())
def test_generated_tcx_reads_the_same_both_ways(data: bytes) -> None:
    _assert_same("tcx", data)


def _regular_gpx(n: int = 40) -> str:
    pts = "".join(
        f'<trkpt lat="47.{i:04d}" lon="8.{i:04d}"><ele>4{i % 10}0.5</ele><time>2024-05-01T06:{i // 60:02d}:'
        f"{i % 60:02d}Z</time><extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>{120 + i % 30}</gpxtpx:hr>"
        f"</gpxtpx:TrackPointExtension></extensions></trkpt>\n"
        for i in range(n)
    )
    return (
        '<?xml version="1.0"?><gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v2"><trk><trkseg>'
        f"{pts}</trkseg></trk></gpx>"
    )


def test_the_fast_path_is_taken_and_matches() -> None:
    data = _regular_gpx().encode()
    cut = cut_blocks(data, "gpx")
    assert cut is not None and len(cut[1]) == 1 and len(cut[1][0]) == 40
    _assert_same("gpx", data)


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        (lambda s: s.replace("</gpxtpx:hr>", "</other:hr>", 1), "a close tag with another prefix"),
        (lambda s: s.replace("gpxtpx:", "undeclared:"), "an unbound prefix"),
        (lambda s: s[: len(s) // 2], "a truncated file"),
        (lambda s: s.replace("<gpx ", '<!DOCTYPE gpx [<!ENTITY a "b">]><gpx ', 1), "entities"),
        (lambda s: s.replace("</trkseg>", "<!-- note --></trkseg>"), "a comment in the segment"),
    ],
)
def test_malformed_or_irregular_files_give_the_general_result(edit: object, why: str) -> None:
    assert callable(edit)
    data = edit(_regular_gpx()).encode()
    _assert_same("gpx", data)
    if why != "a comment in the segment":
        fast = _activities("gpx", data, fast=True)
        assert isinstance(fast, str) and fast  # the general path's error, word for word


def test_numbers_and_times_equal_the_general_parsers() -> None:
    """numpy's string casts are the fast path's parsers: same floats and nanoseconds as Python's."""
    from stridelab.io.gpx_tcx._fast import _floats, _times_ns
    from stridelab.io.gpx_tcx._xml import parse_number, parse_time_ns

    rng = np.random.default_rng(7)
    values = [
        f"{x:.{d}f}".encode()
        for x, d in zip(rng.normal(0, 500, 2000), rng.integers(0, 12, 2000), strict=True)
    ]
    assert _floats(tuple(values)).tolist() == [parse_number(v.decode()) for v in values]
    secs = rng.integers(0, 6_000_000_000, 500)
    texts = [pd.Timestamp(int(s), unit="s").strftime("%Y-%m-%dT%H:%M:%S").encode() for s in secs]
    fracs = [b"" if i % 3 == 0 else b"." + str(i).encode()[:9] for i in range(500)]
    got = _times_ns(tuple(texts), tuple(fracs)).tolist()
    want = [parse_time_ns((t + f).decode() + "Z")[0] for t, f in zip(texts, fracs, strict=True)]
    assert got == want
