"""An Apple Health export (``export.xml``, alone or in ``export.zip``) -> activities + daily walking gait.

The export's DTD (in the file's header, versions 11-14) is the specification: ``HealthData`` holds
``Record`` elements (samples: ``type``, ``unit``, ``value``, ``sourceName``, ``startDate``,
``endDate``), then ``Workout`` elements (``workoutActivityType``, ``duration``/``durationUnit``,
``startDate``/``endDate``; version 11 also ``totalDistance``/``totalEnergyBurned`` attributes) with
``WorkoutEvent`` (pauses, laps), ``WorkoutStatistics`` (12+) and ``WorkoutRoute``/``FileReference``
children. Optional attributes may be missing.

Two streaming passes over the bytes (memory does not grow with the file; a multi-GB export is read
at the speed of a byte search, not of a full XML parse of every sample):

* pass 1 finds each ``<Workout>`` element by a byte search and parses it whole with expat (workouts
  are few): spans, type, statistics, pause events, route files. It also checks that the file starts
  with ``<HealthData`` and ends with ``</HealthData>`` (a truncated export fails here, before anything
  is yielded);
* pass 2 picks the ``<Record>`` start tags of the wanted types with a regular expression, keeps those
  whose span lies inside a workout's span, reads their ``value``/``unit``/``sourceName`` attributes
  (character and entity references decoded) and buckets them in compact typed arrays; the iPhone
  walking metrics are averaged per day. (A full XML parse of every record cannot reach 50 MB/s in
  Python: expat alone, with no handler, parses ~85 MB/s here, ``iterparse`` + ``clear`` ~50 MB/s.)

Elements that are not read (other record types, ``ActivitySummary``...) are not checked for
well-formedness. Nothing is yielded before pass 2 has read the whole file, so a bad export fails whole
(its error names the file and the problem) and nothing of it is stored.
"""

from __future__ import annotations

import bisect
import hashlib
import html
import re
import xml.parsers.expat
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Final

import numpy as np
import pandas as pd

from stridelab.io.healthkit._daily import WALKING_METRICS, DailyGaitMetrics, DailyGaitValue
from stridelab.io.healthkit._route import RoutePoints, read_route
from stridelab.io.healthkit._units import FACTORS, HealthTimeError, parse_time_ns, to_si
from stridelab.model import Activity, Lap, Session

__all__ = ["RECORD_TYPES", "HealthExportError", "read_export"]

_CHUNK: Final[int] = 1 << 20


class HealthExportError(ValueError):
    """An export that cannot be read (malformed or truncated XML, not an export, a workout without a
    usable time span). The message names the file."""


#: HealthKit sample type -> (record column, quantity kind of its unit)
RECORD_TYPES: Final[dict[str, tuple[str, str]]] = {
    "HKQuantityTypeIdentifierRunningGroundContactTime": ("stance_time_s", "time"),
    "HKQuantityTypeIdentifierRunningVerticalOscillation": ("vertical_oscillation_m", "length"),
    # Apple's "stride length" is the distance covered by one step (HealthKit's definition)
    "HKQuantityTypeIdentifierRunningStrideLength": ("step_length_m", "length"),
    "HKQuantityTypeIdentifierRunningPower": ("power_w", "power"),
    "HKQuantityTypeIdentifierCyclingPower": ("power_w", "power"),
    "HKQuantityTypeIdentifierRunningSpeed": ("speed_m_s", "speed"),
    "HKQuantityTypeIdentifierHeartRate": ("heart_rate_bpm", "rate"),
    "HKQuantityTypeIdentifierDistanceWalkingRunning": ("distance_m", "length"),
    "HKQuantityTypeIdentifierDistanceCycling": ("distance_m", "length"),
    "HKQuantityTypeIdentifierDistanceSwimming": ("distance_m", "length"),
    "HKQuantityTypeIdentifierStepCount": ("cadence_spm", "count"),
}
_DISTANCE_TYPE: Final[dict[str, str]] = {
    "cycling": "HKQuantityTypeIdentifierDistanceCycling",
    "swimming": "HKQuantityTypeIdentifierDistanceSwimming",
}
_WALK_RUN_DISTANCE: Final[str] = "HKQuantityTypeIdentifierDistanceWalkingRunning"
_STEPS: Final[str] = "HKQuantityTypeIdentifierStepCount"
_ENERGY: Final[str] = "HKQuantityTypeIdentifierActiveEnergyBurned"

#: workoutActivityType (without the HKWorkoutActivityType prefix) -> (sport, sub_sport)
_SPORTS: Final[dict[str, tuple[str, str | None]]] = {
    "Running": ("running", None),
    "Walking": ("walking", None),
    "Hiking": ("hiking", None),
    "Cycling": ("cycling", None),
    "HandCycling": ("cycling", "hand_cycling"),
    "Swimming": ("swimming", None),
    "Rowing": ("rowing", None),
    "Elliptical": ("fitness_equipment", "elliptical"),
    "StairClimbing": ("fitness_equipment", "stair_climbing"),
    "TraditionalStrengthTraining": ("training", "strength_training"),
    "FunctionalStrengthTraining": ("training", "strength_training"),
    "CrossTraining": ("training", "cross_training"),
    "Yoga": ("training", "yoga"),
    "Other": ("generic", None),
    "SwimBikeRun": ("multisport", None),
    "Transition": ("transition", None),
}
_INDOOR: Final[dict[str, str]] = {
    "running": "treadmill",
    "cycling": "indoor_cycling",
    "walking": "indoor_walking",
}
_STOP_EVENTS: Final[frozenset[str]] = frozenset({"HKWorkoutEventTypePause", "HKWorkoutEventTypeMotionPaused"})
_START_EVENTS: Final[frozenset[str]] = frozenset(
    {"HKWorkoutEventTypeResume", "HKWorkoutEventTypeMotionResumed"}
)
_VERSION = re.compile(r"HealthKit Export Version:\s*(\d+)")


@dataclass(slots=True)
class _Workout:
    index: int
    activity_type: str
    start_text: str
    start_ns: int
    end_ns: int
    duration_s: float | None
    source: str
    source_version: str | None
    device: str | None
    total_distance_m: float | None
    total_energy_j: float | None
    indoor: bool = False
    statistics: dict[str, dict[str, float | str]] = field(default_factory=dict)
    events: list[tuple[str, int, float | None]] = field(default_factory=list)
    routes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Bucket:
    """The samples of one type inside one workout (typed arrays: 28 bytes a sample)."""

    start: array[int] = field(default_factory=lambda: array("q"))
    end: array[int] = field(default_factory=lambda: array("q"))
    value: array[float] = field(default_factory=lambda: array("d"))
    source: array[int] = field(default_factory=lambda: array("i"))


Opener = Callable[[], IO[bytes]]
RouteLoader = Callable[[str], bytes | None]


_WORKOUT_START = re.compile(rb"<Workout[\s/>]")
_END_TAG: Final[bytes] = b"</HealthData>"
#: longest single element read whole (a workout with its children; a record's start tag)
_MAX_ELEMENT: Final[int] = 64 * 1024 * 1024


def _expat(name: str, start: Callable[[str, dict[str, str]], None]) -> xml.parsers.expat.XMLParserType:
    parser = xml.parsers.expat.ParserCreate()
    parser.StartElementHandler = start
    parser.buffer_text = True
    return parser


def _xml_error(name: str, where: str, exc: xml.parsers.expat.ExpatError) -> HealthExportError:
    what = xml.parsers.expat.ErrorString(exc.code)
    return HealthExportError(f"{name}: malformed XML in {where}: {what} (column {exc.offset})")


def _check_head(name: str, head: bytes) -> int | None:
    """The export version of a file whose first bytes are ``head``; :class:`HealthExportError` when it
    is not an Apple Health export."""
    if b"<HealthData" not in head:
        raise HealthExportError(f"{name}: not an Apple Health export (no <HealthData> element at its start)")
    m = _VERSION.search(head.decode("utf-8", "replace"))
    return int(m.group(1)) if m else None


def _workout_blocks(name: str, stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """Pass 1's scan: the first bytes of the file (offset -1), then each ``<Workout>`` element whole,
    found by a byte search (records are skipped at memory speed). A file that does not end with
    ``</HealthData>`` is truncated: :class:`HealthExportError`."""
    buf = b""
    pos = 0
    eof = False
    first = True
    tail = b""
    with stream:
        while True:
            m = _WORKOUT_START.search(buf, pos)
            if m is not None:
                s = m.start()
                gt = buf.find(b">", s)
                end = -1
                if gt != -1:
                    if buf[gt - 1 : gt] == b"/":
                        end = gt + 1
                    else:
                        close = buf.find(b"</Workout>", gt)
                        end = close + len(b"</Workout>") if close != -1 else -1
                if end != -1:
                    yield s, buf[s:end]
                    pos = end
                    continue
                if len(buf) - s > _MAX_ELEMENT:
                    raise HealthExportError(f"{name}: a <Workout> element longer than {_MAX_ELEMENT} bytes")
                buf, pos = buf[s:], 0
            else:
                keep = max(pos, len(buf) - 16)  # a "<Workout" may straddle two reads
                buf, pos = buf[keep:], 0
            if eof:
                break
            chunk = stream.read(_CHUNK)
            if first:
                first = False
                yield -1, chunk
            if not chunk:
                eof = True
                continue
            tail = (tail + chunk)[-64:]
            buf += chunk
    if not tail.rstrip().endswith(_END_TAG):
        raise HealthExportError(
            f"{name}: truncated: the file ends before </HealthData> (an incomplete export)"
        )


def _record_pieces(name: str, stream: IO[bytes]) -> Iterator[bytes]:
    """Pass 2's reads, each cut just before a ``<`` (so no tag straddles two pieces)."""
    carry = b""
    with stream:
        while chunk := stream.read(_CHUNK):
            buf = carry + chunk if carry else chunk
            cut = buf.rfind(b"<")
            if cut <= 0:
                carry = buf
                if len(carry) > _MAX_ELEMENT:
                    raise HealthExportError(f"{name}: no XML element in {_MAX_ELEMENT} bytes: not an export")
                continue
            yield buf[:cut]
            carry = buf[cut:]
    if carry:
        yield carry


def _float(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _sport(activity_type: str) -> tuple[str, str | None]:
    short = activity_type.removeprefix("HKWorkoutActivityType")
    if short in _SPORTS:
        return _SPORTS[short]
    return re.sub(r"(?<!^)(?=[A-Z])", "_", short).lower() or "generic", None


def _collect_workouts(name: str, opener: Opener) -> tuple[list[_Workout], int | None]:
    """Pass 1: every workout with its statistics, events and route files; the export version."""
    workouts: list[_Workout] = []
    cur: list[_Workout | None] = [None]

    def start(tag: str, attrs: dict[str, str]) -> None:
        w = cur[0]
        if tag == "Workout":
            new = _new_workout(name, len(workouts), attrs)
            cur[0] = new
            workouts.append(new)
        elif w is None:
            return
        elif tag == "WorkoutStatistics":
            w.statistics[attrs.get("type", "")] = dict(attrs)
        elif tag == "WorkoutEvent":
            when = attrs.get("date")
            if when:
                dur = _float(attrs.get("duration"))
                dur_s = to_si(dur, attrs.get("durationUnit", "min"), "time") if dur is not None else None
                w.events.append((attrs.get("type", ""), _time(name, when, "a workout event"), dur_s))
        elif tag == "FileReference":
            if attrs.get("path"):
                w.routes.append(attrs["path"])
        elif tag == "MetadataEntry" and attrs.get("key") == "HKIndoorWorkout":
            w.indoor = attrs.get("value", "0").strip() in ("1", "true", "YES")

    version: int | None = None
    for offset, block in _workout_blocks(name, opener()):
        if offset < 0:
            version = _check_head(name, block)
            continue
        cur[0] = None
        parser = _expat(name, start)
        try:
            parser.Parse(block, True)
        except xml.parsers.expat.ExpatError as exc:
            raise _xml_error(name, f"workout {len(workouts) + 1} (byte {offset})", exc) from None
    return workouts, version


def _time(name: str, text: str, what: str) -> int:
    try:
        return parse_time_ns(text)
    except HealthTimeError as exc:
        raise HealthExportError(f"{name}: {what}: {exc}") from None


def _new_workout(name: str, index: int, a: dict[str, str]) -> _Workout:
    kind = a.get("workoutActivityType", "")
    if "startDate" not in a or "endDate" not in a:
        raise HealthExportError(f"{name}: workout {index + 1} ({kind}) has no startDate/endDate")
    start = _time(name, a["startDate"], f"workout {index + 1}")
    end = _time(name, a["endDate"], f"workout {index + 1}")
    if end < start:
        raise HealthExportError(f"{name}: workout {index + 1} ({kind}) ends before it starts")
    dur = _float(a.get("duration"))
    dist = _float(a.get("totalDistance"))
    energy = _float(a.get("totalEnergyBurned"))
    return _Workout(
        index=index,
        activity_type=kind,
        start_text=a["startDate"],
        start_ns=start,
        end_ns=end,
        duration_s=to_si(dur, a.get("durationUnit", "min"), "time") if dur is not None else None,
        source=a.get("sourceName", ""),
        source_version=a.get("sourceVersion"),
        device=a.get("device"),
        total_distance_m=to_si(dist, a.get("totalDistanceUnit"), "length") if dist is not None else None,
        total_energy_j=to_si(energy, a.get("totalEnergyBurnedUnit"), "energy")
        if energy is not None
        else None,
    )


@dataclass(slots=True)
class _Samples:
    buckets: list[dict[str, _Bucket]]
    sources: dict[str, int]
    daily: dict[tuple[str, str, str], list[float]]
    skipped: dict[str, int]


def _record_regex(anywhere: bool) -> re.Pattern[bytes]:
    kinds = sorted({*RECORD_TYPES, *WALKING_METRICS}, key=len, reverse=True)
    alternatives = b"|".join(re.escape(k.encode()) for k in kinds)
    prefix = rb'<Record\b[^>]*?\btype="(' if anywhere else rb'<Record type="('
    return re.compile(prefix + alternatives + rb')"[^>]*>')


#: Apple writes ``type`` first (the DTD's order): a literal prefix, searched at C speed
_RECORD = _record_regex(anywhere=False)
#: for a read where some record has its attributes in another order
_RECORD_ANY = _record_regex(anywhere=True)
_DATES = re.compile(rb' startDate="([^"]*)" endDate="([^"]*)"(?: value="([^"]*)")?')
_HOUR_NS: Final[int] = 3600 * 1_000_000_000


def _attr(tag: bytes, key: bytes) -> bytes | None:
    """The raw value of attribute ``key`` (``b' name="'``) in a start tag."""
    i = tag.find(key)
    if i < 0:
        return None
    i += len(key)
    j = tag.find(b'"', i)
    return tag[i:j] if j > 0 else None


def _text(raw: bytes | None) -> str | None:
    """An attribute's value as text, character and entity references decoded."""
    if raw is None:
        return None
    text = raw.decode("utf-8", "replace")
    return html.unescape(text) if "&" in text else text


def _near_workout(hour: bytes, starts: list[int], ends: list[int]) -> bool:
    """Does the local hour ``b"YYYY-MM-DD hh +zzzz"`` overlap a workout's span? Unreadable hours say
    yes (the sample's own dates are then checked)."""
    try:
        text = hour.decode()
        t = parse_time_ns(f"{text[:13]}:00:00{text[13:]}")
    except (HealthTimeError, UnicodeDecodeError):
        return True
    lo, hi = t, t + _HOUR_NS
    k = bisect.bisect_right(starts, hi) - 1
    # any workout that starts before the hour ends and ends after it starts (the last 64 by start)
    return any(ends[j] >= lo for j in range(k, max(k - 64, -1), -1))


def _collect_samples(name: str, opener: Opener, workouts: list[_Workout]) -> _Samples:
    """Pass 2: the samples inside each workout's span [start, end] (both edges included), and the
    daily means of the walking metrics.

    A regular expression picks the ``<Record>`` start tags of the wanted types out of each read (C
    speed); a sample is kept when its local hour touches a workout (cached per hour) and its own span
    lies inside one; only then are its ``value``, ``unit`` and ``sourceName`` read (references
    decoded)."""
    order = sorted(range(len(workouts)), key=lambda i: workouts[i].start_ns)
    starts = [workouts[i].start_ns for i in order]
    ends = [workouts[i].end_ns for i in order]
    hours: dict[bytes, bool] = {}
    out = _Samples([{} for _ in workouts], {}, {}, {})
    buckets, sources, daily, skipped = out.buckets, out.sources, out.daily, out.skipped
    walking = {k.encode(): v for k, v in WALKING_METRICS.items()}
    wanted = {k.encode(): (k, *v) for k, v in RECORD_TYPES.items()}
    units: dict[bytes | None, tuple[str, float] | None] = {}
    source_ids: dict[bytes | None, int] = {}

    def skip(why: str) -> None:
        skipped[why] = skipped.get(why, 0) + 1

    def convert(raw_value: bytes | None, raw_unit: bytes | None, qty: str, kind: str) -> float | None:
        if raw_unit in units:
            conv = units[raw_unit]
        else:
            unit_text = _text(raw_unit)
            conv = units[raw_unit] = FACTORS.get(unit_text.strip()) if unit_text else None
        if conv is None or conv[0] != qty:
            skip(f"{kind} in unit {_text(raw_unit)!r}")
            return None
        try:
            return float(raw_value) * conv[1] if raw_value is not None else None
        except ValueError:
            skip(f"{kind} without a numeric value")
            return None

    for piece in _record_pieces(name, opener()):
        regex = _RECORD if piece.count(b"<Record ") == piece.count(b'<Record type="') else _RECORD_ANY
        for m in regex.finditer(piece):
            tag, kind = m.group(0, 1)
            d = _DATES.search(tag)
            if d is not None:
                sd, ed, raw_value = d.group(1, 2, 3)
                if raw_value is None:
                    raw_value = _attr(tag, b' value="')
            else:  # attributes in another order
                sd, ed = _attr(tag, b' startDate="'), _attr(tag, b' endDate="')
                raw_value = _attr(tag, b' value="')
                if sd is None:
                    continue
            metric = walking.get(kind)
            if metric is not None:
                si = convert(raw_value, _attr(tag, b' unit="'), metric[2], metric[0])
                if si is None:
                    continue
                key = (
                    sd[:10].decode("ascii", "replace"),
                    metric[0],
                    _text(_attr(tag, b' sourceName="')) or "",
                )
                acc = daily.get(key)
                if acc is None:
                    daily[key] = [si, 1.0]
                else:
                    acc[0] += si
                    acc[1] += 1.0
                continue
            hour = sd[:13] + sd[19:]  # local hour + zone: does it touch a workout?
            near = hours.get(hour)
            if near is None:
                near = hours[hour] = _near_workout(hour, starts, ends)
            if not near:
                continue
            try:
                s = parse_time_ns(sd.decode())
                e = parse_time_ns((ed or sd).decode())
            except (HealthTimeError, UnicodeDecodeError):
                skip("timestamp without a zone or not a date")
                continue
            k = bisect.bisect_right(starts, s) - 1
            while k >= 0 and e > ends[k] and k > len(starts) - 1 - 64:
                k -= 1  # overlapping workouts: an earlier, longer one
                if k >= 0 and s >= starts[k] and e <= ends[k]:
                    break
            if k < 0 or e > ends[k] or s < starts[k]:
                continue
            kind_s, _column, qty = wanted[kind]
            value = convert(raw_value, _attr(tag, b' unit="'), qty, kind_s)
            if value is None:
                continue
            wb = buckets[order[k]]
            b = wb.get(kind_s)
            if b is None:
                b = wb[kind_s] = _Bucket()
            raw_src = _attr(tag, b' sourceName="')
            sid = source_ids.get(raw_src)
            if sid is None:
                src = _text(raw_src) or ""
                sid = source_ids[raw_src] = sources.setdefault(src, len(sources))
            b.start.append(s)
            b.end.append(e)
            b.value.append(value)
            b.source.append(sid)
    return out


def _series(b: _Bucket, keep: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = np.frombuffer(b.start, dtype="int64")
    e = np.frombuffer(b.end, dtype="int64")
    v = np.frombuffer(b.value, dtype="float64")
    if keep is not None:
        s, e, v = s[keep], e[keep], v[keep]
    return s, e, v


def _preferred(b: _Bucket, source_id: int | None) -> np.ndarray | None:
    """Only the workout's own source's samples when it wrote any of this type (an iPhone and a watch
    both count distance and steps); else every source's."""
    if source_id is None:
        return None
    src = np.frombuffer(b.source, dtype="int32")
    mask = src == source_id
    return mask if mask.any() and not mask.all() else None


def _pauses(w: _Workout) -> list[tuple[int, int | None]]:
    out: list[tuple[int, int | None]] = []
    stop: int | None = None
    for kind, at, _dur in sorted(w.events, key=lambda ev: ev[1]):
        if kind in _STOP_EVENTS and stop is None:
            stop = at
        elif kind in _START_EVENTS and stop is not None:
            out.append((stop, at))
            stop = None
    if stop is not None:
        out.append((stop, None))
    return out


def _device_fields(device: str | None) -> dict[str, str]:
    if not device:
        return {}
    fields = re.findall(r"(name|manufacturer|model|hardware|software):(.*?)(?=, \w+:|>\s*$|$)", device)
    return {k: v.strip() for k, v in fields}


def _stat_si(stat: dict[str, float | str]) -> dict[str, float]:
    unit = str(stat.get("unit", ""))
    known = FACTORS.get(unit)
    out: dict[str, float] = {}
    for key in ("sum", "average", "minimum", "maximum"):
        v = _float(str(stat[key])) if key in stat else None
        if v is not None and known is not None:
            out[key] = v * known[1]
    return out


def _stat_sum(w: _Workout, kind: str, qty: str) -> float | None:
    stat = w.statistics.get(kind)
    if stat is None or "sum" not in stat:
        return None
    v = _float(str(stat["sum"]))
    return to_si(v, str(stat.get("unit", "")), qty) if v is not None else None


def _ns_to_ts(ns: int) -> pd.Timestamp:
    return pd.Timestamp(ns, unit="ns", tz="UTC")


def _build_activity(
    name: str,
    w: _Workout,
    buckets: dict[str, _Bucket],
    sources: dict[str, int],
    route: RoutePoints | None,
    version: int | None,
    notes: list[str],
) -> Activity:
    sport, sub_sport = _sport(w.activity_type)
    if w.indoor and sport in _INDOOR:
        sub_sport = _INDOOR[sport]
    own = sources.get(w.source)
    cols: dict[str, pd.Series] = {}
    distance_type = _DISTANCE_TYPE.get(sport, _WALK_RUN_DISTANCE)
    for kind, b in buckets.items():
        column = RECORD_TYPES[kind][0]
        s, e, v = _series(b, _preferred(b, own))
        if column == "distance_m":
            if kind != distance_type:
                continue
            o = np.argsort(e, kind="stable")
            values, at = np.cumsum(v[o]), e[o]
            cols[column] = pd.Series(values, index=at).groupby(level=0).max()
        elif kind == _STEPS:
            dt = (e - s) / 1e9
            ok = dt >= 1.0
            if ok.any():
                cols[column] = pd.Series(v[ok] / dt[ok] * 60.0, index=e[ok]).groupby(level=0).mean()
        else:
            prev = cols.get(column)
            series = pd.Series(v, index=e).groupby(level=0).mean()
            cols[column] = series if prev is None else prev.combine_first(series)
    if route is not None and len(route.time_ns):
        t = route.time_ns
        for column, values in (
            ("lat_deg", route.lat_deg),
            ("lon_deg", route.lon_deg),
            ("altitude_m", route.altitude_m),
        ):
            cols[column] = pd.Series(values, index=t).groupby(level=0).first()
        if "speed_m_s" not in cols and np.isfinite(route.speed_m_s).any():
            cols["speed_m_s"] = pd.Series(route.speed_m_s, index=t).groupby(level=0).first()
    empty = pd.DataFrame(index=pd.Index([], dtype="int64"))
    frame = pd.concat(cols, axis=1).sort_index() if cols else empty
    t_ns = frame.index.to_numpy(dtype="int64")
    times = pd.DatetimeIndex(pd.to_datetime(t_ns, unit="ns", utc=True)).as_unit("ns")
    frame.index = times
    frame.index.name = "time"

    intervals = _pauses(w)
    paused = np.zeros(len(t_ns), dtype=bool)
    stopped = np.zeros(len(t_ns), dtype="int64")
    t0 = int(t_ns[0]) if len(t_ns) else w.start_ns
    for stop, resume in intervals:
        paused |= (t_ns > stop) & (t_ns < resume) if resume is not None else t_ns > stop
        end = t_ns if resume is None else np.minimum(t_ns, resume)
        stopped += np.clip(end - max(t0, stop), 0, None)
    elapsed = (t_ns - t0) / 1e9
    laps = _laps(w)
    lap_starts = np.array([lap.start_time.value for lap in laps], dtype="int64")
    base = pd.DataFrame(
        {
            "elapsed_s": elapsed.astype("float64"),
            "timer_s": np.maximum.accumulate(np.clip(t_ns - t0 - stopped, 0, None)) / 1e9
            if len(t_ns)
            else np.zeros(0),
            "paused": paused,
            "session_index": np.zeros(len(t_ns), dtype="int32"),
            "lap_index": np.clip(np.searchsorted(lap_starts, t_ns, side="right") - 1, 0, None).astype(
                "int32"
            ),
        },
        index=times,
    )
    records = pd.concat([base, frame], axis=1)
    records.index.name = "time"

    elapsed_total = (w.end_ns - w.start_ns) / 1e9
    paused_total = sum(((r if r is not None else w.end_ns) - s) for s, r in intervals) / 1e9
    duration = w.duration_s if w.duration_s is not None else max(elapsed_total - paused_total, 0.0)
    distance = _stat_sum(w, distance_type, "length")
    if distance is None:
        distance = w.total_distance_m
    if distance is None and "distance_m" in records.columns and records["distance_m"].notna().any():
        distance = float(records["distance_m"].max())
    energy = _stat_sum(w, _ENERGY, "energy")
    if energy is None:
        energy = w.total_energy_j
    start_time = _ns_to_ts(w.start_ns)
    dev = _device_fields(w.device)
    info: dict[str, object] = {
        "source": "apple_health",
        "source_name": w.source,
        "export_version": version,
        "workout_activity_type": w.activity_type,
        **({"source_version": w.source_version} if w.source_version else {}),
        **{f"device_{k}": v for k, v in dev.items()},
        **({"active_energy_j": energy} if energy is not None else {}),
        "statistics": {
            k.removeprefix("HKQuantityTypeIdentifier"): _stat_si(s) for k, s in w.statistics.items()
        },
    }
    key = f"apple-health-workout|{w.source}|{w.activity_type}|{w.start_ns}|{w.end_ns}"
    return Activity(
        id=hashlib.sha256(key.encode()).hexdigest(),
        source_path=f"{name}#workout{w.index + 1}",
        format="healthkit",
        start_time=start_time,
        duration_s=duration,
        elapsed_s=elapsed_total,
        distance_m=distance,
        sport=sport,
        sub_sport=sub_sport,
        records=records,
        manufacturer="apple" if "Apple" in dev.get("manufacturer", w.source) else None,
        product=dev.get("hardware") or dev.get("name"),
        laps=tuple(laps),
        sessions=(
            Session(
                index=0,
                sport=sport,
                sub_sport=sub_sport,
                start_time=start_time,
                elapsed_s=elapsed_total,
                timer_s=duration,
                distance_m=distance,
            ),
        ),
        devices=(info,),
        notes=tuple(notes),
    )


def _laps(w: _Workout) -> list[Lap]:
    """Laps from the workout's lap events (else its segment events: the watch's splits)."""
    for kind in ("HKWorkoutEventTypeLap", "HKWorkoutEventTypeSegment"):
        events = sorted((at, dur) for k, at, dur in w.events if k == kind)
        if events:
            return [
                Lap(
                    index=i,
                    start_time=_ns_to_ts(at),
                    elapsed_s=dur,
                    timer_s=None,
                    distance_m=None,
                    trigger=kind.removeprefix("HKWorkoutEventType").lower(),
                )
                for i, (at, dur) in enumerate(events)
            ]
    return []


def read_export(name: str, opener: Opener, load_route: RouteLoader) -> Iterator[Activity | DailyGaitMetrics]:
    """Every workout of an export as an :class:`Activity` (in file order), then its
    :class:`DailyGaitMetrics` (when it has walking metrics).

    ``opener()`` returns a fresh binary stream of ``export.xml`` (called once per pass);
    ``load_route(path)`` the bytes of a route GPX named by a ``FileReference`` (None when absent).
    """
    workouts, version = _collect_workouts(name, opener)
    samples = _collect_samples(name, opener, workouts)
    skipped = "; ".join(f"{n} sample(s) left out: {why}" for why, n in sorted(samples.skipped.items()))
    for w in workouts:
        notes = [skipped] if skipped else []
        route: RoutePoints | None = None
        for path in w.routes:
            data = load_route(path)
            if data is None:
                notes.append(f"route file {path} is not in the export")
                continue
            try:
                route = read_route(data)
            except Exception as exc:  # a damaged route: the workout keeps its samples
                notes.append(f"route file {path} is unreadable: {exc}")
        buckets = samples.buckets[w.index]
        samples.buckets[w.index] = {}
        yield _build_activity(name, w, buckets, samples.sources, route, version, notes)
    if samples.daily:
        values = tuple(
            DailyGaitValue(
                day=day,
                metric=metric,
                value=acc[0] / acc[1],
                unit=_unit_of(metric),
                source=src,
                n_samples=int(acc[1]),
            )
            for (day, metric, src), acc in sorted(samples.daily.items())
        )
        yield DailyGaitMetrics(source_path=name, values=values)


def _unit_of(metric: str) -> str:
    return next(u for m, u, _q in WALKING_METRICS.values() if m == metric)
