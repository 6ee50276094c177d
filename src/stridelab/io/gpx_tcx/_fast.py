"""The vectorised fast path of the GPX and TCX readers: regular track bodies read as columns.

Profiling an import of a GPX/TCX archive shows one cost: the per-element Python work of the streaming
parse (an ``iterparse`` event, a dict of values and a timestamp per track point). Almost every file in
the wild writes its points the same regular way (Garmin, Strava, our own exporter), so:

1. :func:`cut_blocks` finds each ``<trkseg>`` (GPX) or ``<Track>`` (TCX) body and matches it, whole,
   against one regular expression per point. A body that matches *entirely* (nothing but whitespace and
   such points) is cut out of the document and replaced by an empty marker element
   ``<stridelab_block i="k"/>``; any other body (comments, other extensions, untimed points, entities,
   times with offsets, ...) stays and is read the general way. The general parser then streams the much
   smaller skeleton and, at each marker, adds the block's points in one go.
2. A block's values become numpy columns without a Python object per point: numbers through numpy's
   string-to-float cast (correctly rounded, as ``float()``), times through ``datetime64`` (which, like the
   general path, refuses day 30 of February, hour 24 and second 60; any failure sends the whole file to
   the general path).

The fast path is taken only for well-formed files without a DOCTYPE (the original is checked by expat
first, so every error message, position included, is the general path's) and gives the same activities
as the general path; ``tests/io/gpx_tcx/test_fast_path.py`` proves it on the corpus and on generated
files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.parsers import expat

import numpy as np

__all__ = ["BLOCK_TAG", "Block", "cut_blocks"]

#: local name of the marker element that stands for a cut block in the skeleton
BLOCK_TAG = "stridelab_block"
#: bodies shorter than this are left to the general path (the cut is not worth it)
_MIN_BODY_BYTES = 256

_WS = rb"[ \t\r\n]*"
_P = rb"(?:[A-Za-z_][A-Za-z0-9_.\-]*:)?"  # any namespace prefix (or none): names match by local name
_NUM = rb"(-?[0-9]+(?:\.[0-9]+)?)"
_TIME = rb"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(\.[0-9]{1,9})?Z"


def _leaf(name: bytes) -> bytes:
    """``<p:name>NUM</p:name>`` (any prefix; expat has already checked that the two tags match)."""
    return rb"<" + _P + name + rb">" + _NUM + rb"</" + _P + name + rb">" + _WS


def _opt(inner: bytes) -> bytes:
    return rb"(?:" + inner + rb")?"


_POWER = (
    rb"(?:<"
    + _P
    + rb"(?:power|PowerInWatts|PowerInW)>"
    + _NUM
    + rb"</"
    + _P
    + rb"(?:power|PowerInWatts|PowerInW)>"
    + _WS
    + rb"|<"
    + _P
    + rb"PowerExtension>"
    + _WS
    + rb"<"
    + _P
    + rb"(?:PowerInWatts|PowerInW)>"
    + _NUM
    + rb"</"
    + _P
    + rb"(?:PowerInWatts|PowerInW)>"
    + _WS
    + rb"</"
    + _P
    + rb"PowerExtension>"
    + _WS
    + rb")"
)
#: one GPX track point: lat/lon (either order), ele?, time (UTC "Z"), extensions? with power (bare or in
#: a PowerExtension) before and/or after a Garmin TrackPointExtension (atemp? hr? cad? speed?)
_GPX_POINT = re.compile(
    rb"(<trkpt[ \t\r\n]+(?:lat=\""
    + _NUM
    + rb"\"[ \t\r\n]+lon=\""
    + _NUM
    + rb"\"|lon=\""
    + _NUM
    + rb"\"[ \t\r\n]+lat=\""
    + _NUM
    + rb"\")"
    + _WS
    + rb">"
    + _WS
    + _opt(rb"<ele>" + _NUM + rb"</ele>" + _WS)
    + rb"<time>"
    + _TIME
    + rb"</time>"
    + _WS
    + _opt(
        rb"<extensions>"
        + _WS
        + _opt(_POWER)
        + _opt(
            rb"<"
            + _P
            + rb"TrackPointExtension>"
            + _WS
            + _opt(_leaf(rb"atemp"))
            + _opt(_leaf(rb"hr"))
            + _opt(_leaf(rb"cad"))
            + _opt(_leaf(rb"speed"))
            + rb"</"
            + _P
            + rb"TrackPointExtension>"
            + _WS
        )
        + _opt(_POWER)
        + rb"</extensions>"
        + _WS
    )
    + rb"</trkpt>"
    + _WS
    + rb")"
)
# groups: 0 whole, 1-2 lat lon, 3-4 lon lat, 5 ele, 6 time, 7 fraction, 8-9 power A, 10 atemp, 11 hr,
# 12 cad, 13 speed, 14-15 power B

#: one TCX trackpoint: Time (UTC "Z"), Position?, AltitudeMeters?, DistanceMeters?, HeartRateBpm/Value?,
#: Cadence?, Extensions/TPX? (Speed? RunCadence? Watts?)
_TCX_POINT = re.compile(
    rb"(<Trackpoint>"
    + _WS
    + rb"<Time>"
    + _TIME
    + rb"</Time>"
    + _WS
    + _opt(
        rb"<Position>"
        + _WS
        + rb"<LatitudeDegrees>"
        + _NUM
        + rb"</LatitudeDegrees>"
        + _WS
        + rb"<LongitudeDegrees>"
        + _NUM
        + rb"</LongitudeDegrees>"
        + _WS
        + rb"</Position>"
        + _WS
    )
    + _opt(rb"<AltitudeMeters>" + _NUM + rb"</AltitudeMeters>" + _WS)
    + _opt(rb"<DistanceMeters>" + _NUM + rb"</DistanceMeters>" + _WS)
    + _opt(rb"<HeartRateBpm(?:[ \t\r\n]+[^<>]*)?>" + _WS + rb"<Value>" + _NUM + rb"</Value>" + _WS + rb"</HeartRateBpm>" + _WS)
    + _opt(rb"<Cadence>" + _NUM + rb"</Cadence>" + _WS)
    + rb"("
    + _opt(
        rb"<Extensions>"
        + _WS
        + rb"<"
        + _P
        + rb"TPX(?:[ \t\r\n]+[^<>]*)?>"
        + _WS
        + _opt(_leaf(rb"Speed"))
        + _opt(_leaf(rb"RunCadence"))
        + _opt(_leaf(rb"Watts"))
        + rb"</"
        + _P
        + rb"TPX>"
        + _WS
        + rb"</Extensions>"
        + _WS
    )
    + rb")</Trackpoint>"
    + _WS
    + rb")"
)
# groups: 0 whole, 1 time, 2 fraction, 3 lat, 4 lon, 5 altitude, 6 distance, 7 hr, 8 cadence,
# 9 extensions (whole), 10 speed, 11 run cadence, 12 watts

#: the element whose body is a block: its start and end tags, exactly as written (no prefix, attribute)
_CONTAINER = {"gpx": (b"<trkseg>", b"</trkseg>"), "tcx": (b"<Track>", b"</Track>")}
_NS_PER_S = 1_000_000_000
#: times the fast path reads: 1900-01-01 .. 2200-12-31 (the general path allows years 1-2200; older
#: ones go there)
_MIN_S = int(np.datetime64("1900-01-01T00:00:00", "s").astype("int64"))
_MAX_S = int(np.datetime64("2201-01-01T00:00:00", "s").astype("int64"))


class _NotRegular(Exception):
    """A block the fast path does not read (the general path does)."""


@dataclass(slots=True)
class Block:
    """The points of one cut track body, as columns in file order."""

    times: np.ndarray  # int64 UTC ns
    columns: dict[str, np.ndarray]  # record column -> float64 (NaN: absent), in first-appearance order
    empty: np.ndarray  # bool: TCX point with nothing but a time

    def __len__(self) -> int:
        return len(self.times)


def cut_blocks(data: bytes, fmt: str) -> tuple[bytes, list[Block]] | None:
    """``(skeleton, blocks)``: ``data`` with each regular track body replaced by a marker, and the
    bodies' points; None when the file is not for the fast path (the general path reads ``data``)."""
    if b"<!DOCTYPE" in data or b"<!doctype" in data or BLOCK_TAG.encode() in data:
        return None
    open_tag, close_tag = _CONTAINER[fmt]
    read = _gpx_block if fmt == "gpx" else _tcx_block
    pieces: list[bytes] = []
    blocks: list[Block] = []
    pos = 0
    end = 0
    while True:
        start = data.find(open_tag, end)
        if start == -1:
            break
        start += len(open_tag)
        end = data.find(close_tag, start)
        if end == -1:
            break
        body = data[start:end]
        if len(body) < _MIN_BODY_BYTES or b"<!" in body or b"<?" in body or b"&" in body:
            continue
        try:
            block = read(body)
        except _NotRegular:
            continue
        pieces.append(data[pos:start])
        pieces.append(b'<%s i="%d"/>' % (BLOCK_TAG.encode(), len(blocks)))
        blocks.append(block)
        pos = end
    if not blocks or not _well_formed(data):
        return None
    pieces.append(data[pos:])
    return b"".join(pieces), blocks


def _well_formed(data: bytes) -> bool:
    """Whether expat (with namespaces, as ElementTree parses) accepts the whole original document."""
    parser = expat.ParserCreate(namespace_separator="}")
    try:
        parser.Parse(data, True)
    except (expat.ExpatError, ValueError):
        return False
    return True


def _matches(pattern: re.Pattern[bytes], body: bytes) -> list[tuple[bytes, ...]]:
    """Every point of ``body``, or :class:`_NotRegular` unless the points cover it entirely."""
    body = body.strip(b" \t\r\n")  # a point starts with its tag (a literal: failing scans are fast)
    if pattern.match(body) is None:
        raise _NotRegular
    found = pattern.findall(body)
    if not found or sum(len(g[0]) for g in found) != len(body):
        raise _NotRegular
    return found


def _floats(values: tuple[bytes, ...]) -> np.ndarray:
    if not any(values):
        return np.full(len(values), np.nan)
    arr = np.array(values, dtype="S")
    if arr.itemsize < 3:
        arr = arr.astype("S3")
    arr[arr == b""] = b"nan"
    return arr.astype("float64")


def _times_ns(seconds: tuple[bytes, ...], fractions: tuple[bytes, ...]) -> np.ndarray:
    try:
        s = np.array(seconds, dtype="S19").astype("datetime64[s]").astype("int64")
    except ValueError:
        raise _NotRegular from None
    if int(s.min()) < _MIN_S or int(s.max()) >= _MAX_S:
        raise _NotRegular
    ns = s * _NS_PER_S
    if any(fractions):
        ns += np.array([int((f[1:] + b"000000000")[:9]) if f else 0 for f in fractions], dtype="int64")
    return ns


def _ordered(cols: dict[str, tuple[np.ndarray, int | np.ndarray]]) -> dict[str, np.ndarray]:
    """The columns that hold a value, in the order the general path creates them: by the first point
    holding a value, then by the value's place in that point (``slot``: fixed, or per point)."""
    keyed = []
    for name, (values, slot) in cols.items():
        have = np.flatnonzero(~np.isnan(values))
        if not len(have):
            continue
        first = int(have[0])
        place = int(slot[first]) if isinstance(slot, np.ndarray) else slot
        keyed.append((first, place, name, values))
    keyed.sort(key=lambda k: (k[0], k[1]))
    return {name: values for _, _, name, values in keyed}


def _first_of(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(a), b, a)


def _gpx_block(body: bytes) -> Block:
    g = list(zip(*_matches(_GPX_POINT, body), strict=True))
    t = _times_ns(g[6], g[7])
    lat = _first_of(_floats(g[1]), _floats(g[4]))
    lon = _first_of(_floats(g[2]), _floats(g[3]))
    bad = ~((lat >= -90) & (lat <= 90) & (lon >= -180) & (lon <= 180))  # NaN compares False: bad
    lat[bad] = np.nan
    lon[bad] = np.nan
    power_a = _first_of(_floats(g[8]), _floats(g[9]))
    power = _first_of(power_a, _first_of(_floats(g[14]), _floats(g[15])))
    hr = _floats(g[11])
    hr[hr <= 0] = np.nan
    cols: dict[str, tuple[np.ndarray, int | np.ndarray]] = {
        "lat_deg": (lat, 0),
        "lon_deg": (lon, 1),
        "altitude_m": (_floats(g[5]), 2),
        "power_w": (power, np.where(np.isnan(power_a), 8, 3)),
        "temperature_c": (_floats(g[10]), 4),
        "heart_rate_bpm": (hr, 5),
        "cadence_rpm": (_floats(g[12]), 6),
        "speed_m_s": (_floats(g[13]), 7),
    }
    return Block(times=t, columns=_ordered(cols), empty=np.zeros(len(t), dtype=bool))


def _tcx_block(body: bytes) -> Block:
    g = list(zip(*_matches(_TCX_POINT, body), strict=True))
    t = _times_ns(g[1], g[2])
    lat, lon = _floats(g[3]), _floats(g[4])
    bad = ~((lat >= -90) & (lat <= 90) & (lon >= -180) & (lon <= 180))
    lat[bad] = np.nan
    lon[bad] = np.nan
    hr = _floats(g[7])
    hr[hr <= 0] = np.nan
    cadence = _floats(g[8])
    run_cadence = _floats(g[11])
    cad = _first_of(run_cadence, cadence)  # RunCadence (later in the point) overwrites Cadence
    empty = np.ones(len(t), dtype=bool)
    for i in (3, 5, 6, 7, 8, 9):
        empty &= np.array(g[i], dtype="S") == b""
    cols: dict[str, tuple[np.ndarray, int | np.ndarray]] = {
        "lat_deg": (lat, 0),
        "lon_deg": (lon, 1),
        "altitude_m": (_floats(g[5]), 2),
        "distance_m": (_floats(g[6]), 3),
        "heart_rate_bpm": (hr, 4),
        "cadence_rpm": (cad, np.where(np.isnan(cadence), 7, 5)),
        "speed_m_s": (_floats(g[10]), 6),
        "power_w": (_floats(g[12]), 8),
    }
    return Block(times=t, columns=_ordered(cols), empty=empty)
