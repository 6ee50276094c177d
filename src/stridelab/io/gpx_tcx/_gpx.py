"""GPX 1.0 / 1.1 -> activities, streamed: every ``<trk>`` with timed points is one activity.

Track points give time, position, ``ele`` and (GPX 1.0) ``speed``; their ``<extensions>`` are read by
local name whatever the namespace: Garmin TrackPointExtension v1/v2 (``hr``, ``cad``, ``atemp``,
``speed``), power (``power``, ``gpxpx:PowerInW``, ``Watts``), cluetrust GPXDATA (``hr``, ``cadence``,
``temp``, ``distance``, ``altitude``, ``speed``). A SpoQ ``st:heartRateTrack`` (heart rate beside the
track, by time) fills the heart rate of the points at the same times.

GPX has no timer: a break between two ``<trkseg>`` is a pause, and so is a gap within a segment longer
than ten typical steps and a minute (a logger that stopped recording). Sport comes from the track's
``<type>`` (Strava writes numbers or names), else None. Distances are computed from the positions
(haversine on the WGS84 mean sphere) unless the file carries them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

import numpy as np

from stridelab.io.gpx_tcx._build import Leg, Parsed, Points
from stridelab.io.gpx_tcx._fast import BLOCK_TAG, Block, cut_blocks
from stridelab.io.gpx_tcx._xml import (
    LOCAL_NAMES,
    XmlActivityError,
    child_text,
    iter_events,
    local,
    parse_number,
)
from stridelab.io.gpx_tcx._xml import parse_time_ns as _time

__all__ = ["GPX_SPORTS", "parse_gpx"]

#: ``<type>`` values (lower-case) -> the FIT reader's sport names. Strava's numeric activity types:
#: 1 = ride, 9 = run, 10 = walk, 4 = hike.
GPX_SPORTS: dict[str, str] = {
    "run": "running",
    "running": "running",
    "trail_running": "running",
    "trail running": "running",
    "treadmill_running": "running",
    "virtualrun": "running",
    "ride": "cycling",
    "cycling": "cycling",
    "biking": "cycling",
    "road_biking": "cycling",
    "mountain_biking": "cycling",
    "virtualride": "cycling",
    "walk": "walking",
    "walking": "walking",
    "hike": "hiking",
    "hiking": "hiking",
    "swim": "swimming",
    "swimming": "swimming",
    "1": "cycling",
    "4": "hiking",
    "9": "running",
    "10": "walking",
}

#: extension element local name -> record column
_EXT: dict[str, str] = {
    "hr": "heart_rate_bpm",
    "heartrate": "heart_rate_bpm",
    "cad": "cadence_rpm",
    "cadence": "cadence_rpm",
    "runcadence": "cadence_rpm",
    "atemp": "temperature_c",
    "temp": "temperature_c",
    "temperature": "temperature_c",
    "power": "power_w",
    "powerinw": "power_w",
    "powerinwatts": "power_w",
    "watts": "power_w",
    "speed": "speed_m_s",
    "distance": "distance_m",
    "altitude": "altitude_m",
}
#: a gap within a segment is a pause when longer than this many median steps and _MIN_GAP_NS
_GAP_STEPS = 10.0
_MIN_GAP_NS = 60 * 1_000_000_000


@dataclass(slots=True)
class _Track:
    points: Points = field(default_factory=Points)
    seg_starts: list[int] = field(default_factory=list)  # point index of each segment's first point
    new_segment: bool = True
    sport: str | None = None
    declared: int | None = None
    unzoned: int = 0
    untimed: int = 0


def _sport(text: str | None) -> str | None:
    if not text or not text.strip():
        return None
    v = text.strip().lower()
    return GPX_SPORTS.get(v, None if v.isdigit() else v.replace(" ", "_"))


def parse_gpx(data: bytes, *, fast: bool = True) -> Iterator[Parsed]:
    """The timed tracks of a GPX file, in file order, one at a time."""
    stack: list[str] = []
    trk: _Track | None = None
    creator: str | None = None
    saw_root = saw_route = False
    untimed_tracks = 0
    hr_by_time: dict[int, float] = {}
    count = 0
    segment: ET.Element | None = None  # the open <trkseg>: read points are removed from it
    cut = cut_blocks(data, "gpx") if fast else None
    skeleton, blocks = cut if cut is not None else (data, [])
    for event, elem in iter_events(skeleton, "GPX", original=data if cut is not None else None):
        name = LOCAL_NAMES.get(elem.tag) or local(elem.tag)
        if event == "start":
            if not saw_root:
                saw_root = True
                if name != "gpx":
                    raise XmlActivityError(f"not a GPX file: the root element is <{name}>")
                creator = (elem.get("creator") or "").strip() or None
            parent = stack[-1] if stack else ""
            stack.append(name)
            if name == "trk" and parent == "gpx":
                trk = _Track()
            elif name == "trkseg" and trk is not None:
                trk.new_segment = True
                segment = elem
            elif name == "rte":
                saw_route = True
            continue
        stack.pop()
        if name == "trkpt" and trk is not None:
            _trackpoint(elem, trk)
            elem.clear()
            if segment is not None and len(segment) and segment[-1] is elem:
                del segment[-1]  # memory stays bounded by one point, not by the track
        elif name == BLOCK_TAG and blocks:
            if trk is not None:
                _block(blocks[int(elem.get("i", "0"))], trk)
            elem.clear()
        elif name == "rtept" or name == "wpt":
            elem.clear()
        elif name == "heartRate" and "heartRateTrack" in stack:  # SpoQ: st:heartRate time= bpm=
            t, _ = _time(elem.get("time"))
            bpm = parse_number(elem.get("bpm"))
            if t is not None and bpm is not None and bpm > 0:
                hr_by_time[t] = bpm
            elem.clear()
        elif trk is not None and stack and stack[-1] == "trk":
            if name == "type":
                trk.sport = _sport(elem.text)
            elif name == "time":
                trk.declared, _ = _time(elem.text)
        elif name == "trk" and trk is not None:
            done, trk = trk, None
            elem.clear()
            if not len(done.points):
                untimed_tracks += 1
                continue
            count += 1
            yield Parsed(legs=[_leg(done, hr_by_time)], product=creator)
    if count == 0:
        if untimed_tracks:
            raise XmlActivityError(
                "no timed track: the track points have no times (a route, not an activity)"
            )
        if saw_route:
            raise XmlActivityError("no timed track: the GPX file holds only a route (<rte>), not an activity")
        raise XmlActivityError("no timed track: the GPX file holds no track")


def _trackpoint(elem: ET.Element, trk: _Track) -> None:
    t, zoned = _time(child_text(elem, "time"))
    if t is None:
        trk.untimed += 1
        return
    if not zoned:
        trk.unzoned += 1
    vals: dict[str, float] = {}
    lat, lon = parse_number(elem.get("lat")), parse_number(elem.get("lon"))
    if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
        vals["lat_deg"], vals["lon_deg"] = lat, lon
    for c in elem:
        n = LOCAL_NAMES.get(c.tag) or local(c.tag)
        if n == "ele":
            _put(vals, "altitude_m", parse_number(c.text))
        elif n == "speed":
            _put(vals, "speed_m_s", parse_number(c.text))
        elif n == "extensions":
            for e in c.iter():
                if e is c or len(e):
                    continue
                col = _EXT.get(local(e.tag).lower())
                if col is None or (col == "altitude_m" and col in vals):
                    continue
                if col not in vals:
                    _put(vals, col, parse_number(e.text))
    hr = vals.get("heart_rate_bpm")
    if hr is not None and hr <= 0:
        del vals["heart_rate_bpm"]
    if trk.new_segment:
        trk.new_segment = False
        trk.seg_starts.append(len(trk.points))
    trk.points.add(t, vals)


def _block(block: Block, trk: _Track) -> None:
    """The points of a cut ``<trkseg>`` body (the fast path), as :func:`_trackpoint` adds them."""
    if trk.new_segment:
        trk.new_segment = False
        trk.seg_starts.append(len(trk.points))
    trk.points.extend(block.times, block.columns)


def _put(vals: dict[str, float], col: str, x: float | None) -> None:
    if x is not None:
        vals[col] = x


def _leg(trk: _Track, hr_by_time: dict[int, float]) -> Leg:
    pts = trk.points
    t = np.asarray(pts.times, dtype="int64")
    notes: list[str] = []
    if hr_by_time:
        hr = pts.values.setdefault("heart_rate_bpm", [math.nan] * len(pts))
        filled = 0
        for i, ti in enumerate(pts.times):
            if math.isnan(hr[i]) and ti in hr_by_time:
                hr[i] = hr_by_time[ti]
                filled += 1
        if filled:
            notes.append(f"heart rate of {filled} point(s) from the file's heart-rate track (by time)")
    for i in trk.seg_starts[1:]:
        if t[i] > t[i - 1]:
            pts.pauses.append((int(t[i - 1]), int(t[i])))
    steps = np.diff(t)
    positive = steps[steps > 0]
    if len(positive):
        limit = max(_GAP_STEPS * float(np.median(positive)), _MIN_GAP_NS)
        seg = set(trk.seg_starts)
        gaps = [int(i) for i in np.flatnonzero(steps > limit) + 1 if int(i) not in seg]
        for i in gaps:
            pts.pauses.append((int(t[i - 1]), int(t[i])))
        if gaps:
            notes.append(
                f"{len(gaps)} gap(s) of more than {limit / 1e9:.0f} s without a point counted as pauses"
            )
    if trk.unzoned:
        notes.append(f"{trk.unzoned} time(s) without a zone: read as UTC")
    if trk.untimed:
        notes.append(f"{trk.untimed} track point(s) without a valid time were dropped")
    return Leg(points=pts, sport=trk.sport, declared_start=trk.declared, notes=notes)
