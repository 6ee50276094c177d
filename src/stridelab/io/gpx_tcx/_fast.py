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

Whatever the point pattern matches is well-formed XML: plain ASCII names and numbers, start and end tags
with the same prefix (a backreference), prefixes only those declared on the root element (bound
everywhere), known attributes only. So the general parser needs to see none of it, and an error
elsewhere in the file is located in the original (``iter_events(..., original=...)``): messages,
positions included, are the general path's. No fast path for a file with a DOCTYPE (entities) or a
comment before its root element. ``tests/io/gpx_tcx/test_fast_path.py`` proves the same activities and
errors on the corpus and on generated regular, messy and malformed files.
"""

from __future__ import annotations

import functools
import operator
import re
from dataclasses import dataclass

import numpy as np

__all__ = ["BLOCK_TAG", "Block", "cut_blocks"]

#: local name of the marker element that stands for a cut block in the skeleton
BLOCK_TAG = "stridelab_block"
#: bodies shorter than this are left to the general path (the cut is not worth it)
_MIN_BODY_BYTES = 256

_WS = rb"[ \t\r\n]*"
_NUM = rb"-?[0-9]+(?:\.[0-9]+)?"
_SECONDS = rb"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
_FRACTION = rb"\.[0-9]{1,9}"
_ROOT_TAG = re.compile(rb"<(?![?!])[^>]*>")
_DECLARED = re.compile(rb"xmlns:([A-Za-z_][A-Za-z0-9_.\-]*)=")


class _Grammar:
    """Builds the point patterns of one file. Extension elements may carry a prefix *declared on the
    root element* (so it is bound everywhere), the same in the start and end tag (a backreference):
    whatever matches is well-formed XML, and the general parser needs to see none of it."""

    def __init__(self, prefixes: tuple[bytes, ...]) -> None:
        alts = b"|".join(re.escape(p) + b":" for p in prefixes)
        self.prefix = rb"(?:" + alts + rb")?" if prefixes else b""
        self.xsi = b"xsi" in prefixes
        self.n = 0

    def _group(self) -> bytes:
        self.n += 1
        return b"t%d" % self.n

    def value(self, name: bytes) -> bytes:
        return rb"(?P<" + name + rb">" + _NUM + rb")"

    def element(self, names: bytes, inner: bytes) -> bytes:
        """``<p:name>inner</p:name>`` + whitespace, ``names`` an alternation of local names."""
        p, n = self._group(), self._group()
        return (
            rb"<(?P<"
            + p
            + rb">"
            + self.prefix
            + rb")(?P<"
            + n
            + rb">"
            + names
            + rb")>"
            + inner
            + rb"</(?P="
            + p
            + rb")(?P="
            + n
            + rb")>"
            + _WS
        )

    def gpx(self) -> re.Pattern[bytes]:
        """One GPX track point: lat/lon (either order), ele?, time (UTC "Z"), extensions? with power
        (bare or in a PowerExtension) before and/or after a Garmin TrackPointExtension (atemp? hr? cad?
        speed?)."""

        def power(k: bytes) -> bytes:
            bare = self.element(rb"power|PowerInWatts|PowerInW", self.value(b"power" + k))
            wrapped = self.element(
                rb"PowerExtension",
                _WS + self.element(rb"PowerInWatts|PowerInW", self.value(b"wpower" + k)),
            )
            return _opt(rb"(?:" + bare + rb"|" + wrapped + rb")")

        tpx = self.element(
            rb"TrackPointExtension",
            _WS + b"".join(_opt(self.element(n, self.value(n))) for n in (b"atemp", b"hr", b"cad", b"speed")),
        )
        ext = rb"<extensions>" + _WS + power(b"a") + _opt(tpx) + power(b"b") + rb"</extensions>" + _WS
        return re.compile(
            rb"(?P<whole><trkpt[ \t\r\n]+(?:lat=\""
            + self.value(b"lat")
            + rb"\"[ \t\r\n]+lon=\""
            + self.value(b"lon")
            + rb"\"|lon=\""
            + self.value(b"lon2")
            + rb"\"[ \t\r\n]+lat=\""
            + self.value(b"lat2")
            + rb"\")"
            + _WS
            + rb">"
            + _WS
            + _opt(rb"<ele>" + self.value(b"ele") + rb"</ele>" + _WS)
            + rb"<time>(?P<seconds>"
            + _SECONDS
            + rb")(?P<fraction>"
            + _FRACTION
            + rb")?Z</time>"
            + _WS
            + _opt(ext)
            + rb"</trkpt>"
            + _WS
            + rb")"
        )

    def tcx(self) -> re.Pattern[bytes]:
        """One TCX trackpoint: Time (UTC "Z"), Position?, AltitudeMeters?, DistanceMeters?,
        HeartRateBpm/Value?, Cadence?, Extensions/TPX? (Speed? RunCadence? Watts?)."""
        hr_attr = rb'(?:[ \t\r\n]+xsi:type="HeartRateInBeatsPerMinute_t")?' if self.xsi else b""
        tpx = self.element(
            rb"TPX",
            _WS + b"".join(_opt(self.element(n, self.value(n))) for n in (b"Speed", b"RunCadence", b"Watts")),
        )
        tpx_ns = (  # a TPX declaring its own default namespace (files without the ns3 prefix)
            rb"<TPX[ \t\r\n]+xmlns=\"[^\"<&]*\">"
            + _WS
            + b"".join(
                _opt(rb"<" + n + rb">" + self.value(n + b"2") + rb"</" + n + rb">" + _WS)
                for n in (b"Speed", b"RunCadence", b"Watts")
            )
            + rb"</TPX>"
            + _WS
        )
        return re.compile(
            rb"(?P<whole><Trackpoint>"
            + _WS
            + rb"<Time>(?P<seconds>"
            + _SECONDS
            + rb")(?P<fraction>"
            + _FRACTION
            + rb")?Z</Time>"
            + _WS
            + _opt(
                rb"(?P<position><Position>"
                + _WS
                + rb"<LatitudeDegrees>"
                + self.value(b"lat")
                + rb"</LatitudeDegrees>"
                + _WS
                + rb"<LongitudeDegrees>"
                + self.value(b"lon")
                + rb"</LongitudeDegrees>"
                + _WS
                + rb"</Position>)"
                + _WS
            )
            + _opt(rb"<AltitudeMeters>" + self.value(b"alt") + rb"</AltitudeMeters>" + _WS)
            + _opt(rb"<DistanceMeters>" + self.value(b"dist") + rb"</DistanceMeters>" + _WS)
            + _opt(
                rb"<HeartRateBpm"
                + hr_attr
                + rb">"
                + _WS
                + rb"<Value>"
                + self.value(b"hr")
                + rb"</Value>"
                + _WS
                + rb"</HeartRateBpm>"
                + _WS
            )
            + _opt(rb"<Cadence>" + self.value(b"cad") + rb"</Cadence>" + _WS)
            + rb"(?P<ext>"
            + _opt(rb"<Extensions>" + _WS + rb"(?:" + tpx + rb"|" + tpx_ns + rb")</Extensions>" + _WS)
            + rb")</Trackpoint>"
            + _WS
            + rb")"
        )


def _opt(inner: bytes) -> bytes:
    return rb"(?:" + inner + rb")?"


@functools.lru_cache(maxsize=64)
def _pattern(fmt: str, prefixes: tuple[bytes, ...]) -> re.Pattern[bytes]:
    grammar = _Grammar(prefixes)
    return grammar.gpx() if fmt == "gpx" else grammar.tcx()


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
    root = _ROOT_TAG.search(data, 0, 65536)
    if root is None or b"<!--" in data[: root.start()]:
        return None
    pattern = _pattern(fmt, tuple(sorted(set(_DECLARED.findall(root.group(0))))))
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
            block = read(_Points(pattern, body))
        except _NotRegular:
            continue
        pieces.append(data[pos:start])
        pieces.append(b'<%s i="%d"/>' % (BLOCK_TAG.encode(), len(blocks)))
        blocks.append(block)
        pos = end
    if not blocks:
        return None
    pieces.append(data[pos:])
    return b"".join(pieces), blocks


class _Points:
    """The matched points of one body, a column of text at a time (``col(name)``), or
    :class:`_NotRegular` unless the points cover the body entirely."""

    def __init__(self, pattern: re.Pattern[bytes], body: bytes) -> None:
        body = body.strip(b" \t\r\n")  # a point starts with its tag (a literal: failing scans are fast)
        if pattern.match(body) is None:
            raise _NotRegular
        found = pattern.findall(body)
        self._found = found
        self._index = pattern.groupindex
        if sum(map(len, self.col("whole"))) != len(body):
            raise _NotRegular
        self.n = len(found)

    def col(self, name: str) -> tuple[bytes, ...]:
        return tuple(map(operator.itemgetter(self._index[name] - 1), self._found))

    def floats(self, name: str) -> np.ndarray:
        return _floats(self.col(name)) if name in self._index else np.full(self.n, np.nan)


def _floats(values: tuple[bytes, ...]) -> np.ndarray:
    """The numbers (as ``float()`` reads them: correctly rounded), NaN where a point has none."""
    if not any(values):
        return np.full(len(values), np.nan)
    if b"" not in values:  # every point has one: float() straight into the array (the common case)
        return np.fromiter(map(float, values), np.float64, len(values))
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


def _gpx_block(pts: _Points) -> Block:
    t = _times_ns(pts.col("seconds"), pts.col("fraction"))
    lat = _first_of(pts.floats("lat"), pts.floats("lat2"))
    lon = _first_of(pts.floats("lon"), pts.floats("lon2"))
    _range_checked(lat, lon)
    power_a = _first_of(pts.floats("powera"), pts.floats("wpowera"))
    power = _first_of(power_a, _first_of(pts.floats("powerb"), pts.floats("wpowerb")))
    hr = pts.floats("hr")
    hr[hr <= 0] = np.nan
    cols: dict[str, tuple[np.ndarray, int | np.ndarray]] = {
        "lat_deg": (lat, 0),
        "lon_deg": (lon, 1),
        "altitude_m": (pts.floats("ele"), 2),
        "power_w": (power, np.where(np.isnan(power_a), 8, 3)),
        "temperature_c": (pts.floats("atemp"), 4),
        "heart_rate_bpm": (hr, 5),
        "cadence_rpm": (pts.floats("cad"), 6),
        "speed_m_s": (pts.floats("speed"), 7),
    }
    return Block(times=t, columns=_ordered(cols), empty=np.zeros(len(t), dtype=bool))


def _tcx_block(pts: _Points) -> Block:
    t = _times_ns(pts.col("seconds"), pts.col("fraction"))
    lat, lon = pts.floats("lat"), pts.floats("lon")
    _range_checked(lat, lon)
    hr = pts.floats("hr")
    hr[hr <= 0] = np.nan
    cadence = pts.floats("cad")
    run_cadence = _first_of(pts.floats("RunCadence"), pts.floats("RunCadence2"))
    cad = _first_of(run_cadence, cadence)  # RunCadence (later in the point) overwrites Cadence
    empty = np.ones(len(t), dtype=bool)
    for name in ("position", "alt", "dist", "hr", "cad", "ext"):
        empty &= np.array(pts.col(name), dtype="S") == b""
    cols: dict[str, tuple[np.ndarray, int | np.ndarray]] = {
        "lat_deg": (lat, 0),
        "lon_deg": (lon, 1),
        "altitude_m": (pts.floats("alt"), 2),
        "distance_m": (pts.floats("dist"), 3),
        "heart_rate_bpm": (hr, 4),
        "cadence_rpm": (cad, np.where(np.isnan(cadence), 7, 5)),
        "speed_m_s": (_first_of(pts.floats("Speed"), pts.floats("Speed2")), 6),
        "power_w": (_first_of(pts.floats("Watts"), pts.floats("Watts2")), 8),
    }
    return Block(times=t, columns=_ordered(cols), empty=empty)


def _range_checked(lat: np.ndarray, lon: np.ndarray) -> None:
    """Both NaN where either is missing or out of range (the general path keeps a position only whole)."""
    bad = ~((lat >= -90) & (lat <= 90) & (lon >= -180) & (lon <= 180))  # NaN compares False: bad
    lat[bad] = np.nan
    lon[bad] = np.nan
