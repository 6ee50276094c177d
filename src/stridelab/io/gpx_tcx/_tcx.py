"""TCX (Garmin Training Center Database v2) -> activities, streamed.

Every ``<Activity>`` is one activity; a ``<MultiSportSession>`` is one activity whose legs
(``FirstSport`` / ``NextSport``) are its sessions (the FIT reader's multisport shape). Laps keep their
``StartTime``, ``TotalTimeSeconds`` (timer), ``DistanceMeters``, ``Intensity``, ``TriggerMethod``.
Trackpoints give time, position (degrees), altitude, cumulative distance, heart rate, ``Cadence`` and
the ActivityExtension v2 ``TPX`` values ``Speed`` (m/s), ``RunCadence`` (strides/min) and ``Watts``,
matched by local name whatever the namespace prefix (files write ``ns3:TPX``, ``TPX`` with or without
a namespace, ``extv2:``...). Pauses: Garmin closes a ``<Track>`` when the timer stops (often with a
time-only trackpoint) and opens a new one when it restarts; the gap between the two is a pause.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from xml.etree import ElementTree as ET

import pandas as pd

from stridelab.io.gpx_tcx._build import Leg, Parsed, Points
from stridelab.io.gpx_tcx._fast import BLOCK_TAG, Block, cut_blocks
from stridelab.io.gpx_tcx._xml import (
    LOCAL_NAMES,
    XmlActivityError,
    child,
    child_text,
    iter_events,
    local,
    parse_number,
)
from stridelab.io.gpx_tcx._xml import parse_time_ns as _time
from stridelab.model import Lap

__all__ = ["TCX_SPORTS", "parse_tcx"]

#: TCX Sport attribute -> the FIT reader's lower-case sport names
TCX_SPORTS: dict[str, str] = {"running": "running", "biking": "cycling", "other": "generic"}

_NAN = math.nan


@dataclass(slots=True)
class _LegState:
    leg: Leg
    lap_start: int | None = None
    lap_index: int = -1
    new_track: bool = False
    last_lap_of_point: int = -1
    last_point_empty: bool = False
    any_data: bool = False  # a trackpoint with more than a time was seen
    unzoned: int = 0
    untimed: int = 0


def _sport(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    v = value.strip().lower()
    return TCX_SPORTS.get(v, v)


def parse_tcx(data: bytes, *, fast: bool = True) -> Iterator[Parsed]:
    """The activities of a TCX file, in file order, one at a time."""
    stack: list[str] = []
    state: _LegState | None = None
    multisport: Parsed | None = None
    saw_course = saw_root = False
    count = 0
    product: str | None = None
    track: ET.Element | None = None  # the open <Track>: read trackpoints are removed from it
    cut = cut_blocks(data, "tcx") if fast else None
    skeleton, blocks = cut if cut is not None else (data, [])
    for event, elem in iter_events(skeleton, "TCX", original=data if cut is not None else None):
        name = LOCAL_NAMES.get(elem.tag) or local(elem.tag)
        if event == "start":
            if not saw_root:
                saw_root = True
                if name != "TrainingCenterDatabase":
                    raise XmlActivityError(f"not a TCX file: the root element is <{name}>")
            parent = stack[-1] if stack else ""
            stack.append(name)
            if name == "MultiSportSession":
                multisport = Parsed(legs=[])
            elif name == "Activity" and parent in ("Activities", "FirstSport", "NextSport"):
                state = _LegState(Leg(points=Points(), sport=_sport(elem.get("Sport"))))
                product = None
            elif name == "Course" and parent == "Courses":
                saw_course = True
            elif state is not None and name == "Lap":
                state.lap_start, _ = _time(elem.get("StartTime"))
                state.lap_index += 1
                if state.lap_index == 0 and state.lap_start is not None:
                    state.leg.declared_start = _earliest(state.leg.declared_start, state.lap_start)
            elif state is not None and name == "Track":
                state.new_track = True
                track = elem
            continue
        stack.pop()
        if state is None:
            if name in ("Course", "Workout"):
                elem.clear()
            continue
        if name == "Trackpoint":
            _trackpoint(elem, state)
            elem.clear()
            if track is not None and len(track) and track[-1] is elem:
                del track[-1]  # memory stays bounded by one trackpoint, not by the track
        elif name == BLOCK_TAG and blocks:
            _block(blocks[int(elem.get("i", "0"))], state)
            elem.clear()
        elif name == "Lap":
            _lap(elem, state)
            elem.clear()
        elif name == "Creator" and stack and stack[-1] == "Activity":
            product = (child_text(elem, "Name") or "").strip() or None
        elif name == "Id" and stack and stack[-1] == "Activity":
            state.leg.declared_start = _earliest(state.leg.declared_start, _time(elem.text)[0])
        elif name == "Activity":
            leg = state.leg
            if state.unzoned:
                leg.notes.append(f"{state.unzoned} time(s) without a zone: read as UTC")
            if state.untimed:
                leg.notes.append(f"{state.untimed} trackpoint(s) without a valid time were dropped")
            state = None
            elem.clear()
            if not len(leg.points) and not any(lap.timer_s for lap in leg.laps):
                continue
            if multisport is not None and stack and stack[-1] in ("FirstSport", "NextSport"):
                multisport.legs.append(leg)
                multisport.product = multisport.product or product
            else:
                count += 1
                yield Parsed(legs=[leg], product=product)
        elif name == "MultiSportSession":
            if multisport is not None and multisport.legs:
                count += 1
                yield multisport
            multisport = None
            elem.clear()
    if state is None and multisport is not None and multisport.legs:  # pragma: no cover - defensive
        count += 1
        yield multisport
    if count == 0:
        if saw_course:
            raise XmlActivityError("no timed track (a route or course, not an activity)")
        raise XmlActivityError("no timed track: the TCX file holds no activity with timed trackpoints")


def _earliest(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _trackpoint(elem: ET.Element, state: _LegState) -> None:
    new_track, state.new_track = state.new_track, False
    t, zoned = _time(child_text(elem, "Time"))
    if t is None:
        state.untimed += 1
        return
    if not zoned:
        state.unzoned += 1
    vals: dict[str, float] = {}
    empty = True
    for c in elem:
        n = LOCAL_NAMES.get(c.tag) or local(c.tag)
        if n == "Time":
            continue
        empty = False
        if n == "Position":
            lat = parse_number(child_text(c, "LatitudeDegrees"))
            lon = parse_number(child_text(c, "LongitudeDegrees"))
            if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
                vals["lat_deg"], vals["lon_deg"] = lat, lon
        elif n == "AltitudeMeters":
            _put(vals, "altitude_m", parse_number(c.text))
        elif n == "DistanceMeters":
            _put(vals, "distance_m", parse_number(c.text))
        elif n == "HeartRateBpm":
            hr = parse_number(child_text(c, "Value") if len(c) else c.text)
            if hr is not None and hr > 0:
                vals["heart_rate_bpm"] = hr
        elif n == "Cadence":
            _put(vals, "cadence_rpm", parse_number(c.text))
        elif n == "Extensions":
            for ext in c:
                if local(ext.tag) != "TPX":
                    continue
                for v in ext:
                    vn = local(v.tag)
                    if vn == "Speed":
                        _put(vals, "speed_m_s", parse_number(v.text))
                    elif vn == "RunCadence":
                        _put(vals, "cadence_rpm", parse_number(v.text))
                    elif vn == "Watts":
                        _put(vals, "power_w", parse_number(v.text))
    pts = state.leg.points
    if new_track and len(pts):
        same_lap = state.last_lap_of_point == state.lap_index
        prev = pts.times[-1]
        # a time-only point closing a Track marks the timer stop, unless every point is time-only
        if (same_lap or (state.last_point_empty and state.any_data)) and t > prev:
            pts.pauses.append((prev, t))
    state.last_lap_of_point = state.lap_index
    state.last_point_empty = empty
    state.any_data = state.any_data or not empty
    pts.add(t, vals)


def _block(block: Block, state: _LegState) -> None:
    """The trackpoints of a cut ``<Track>`` body (the fast path), as :func:`_trackpoint` adds them one
    by one: the first may close a pause, the last decides whether the next Track's first point does."""
    new_track, state.new_track = state.new_track, False
    pts = state.leg.points
    t0 = int(block.times[0])
    if new_track and len(pts):
        same_lap = state.last_lap_of_point == state.lap_index
        prev = pts.times[-1]
        if (same_lap or (state.last_point_empty and state.any_data)) and t0 > prev:
            pts.pauses.append((prev, t0))
    state.last_lap_of_point = state.lap_index
    state.last_point_empty = bool(block.empty[-1])
    state.any_data = state.any_data or not bool(block.empty.all())
    pts.extend(block.times, block.columns)


def _put(vals: dict[str, float], col: str, x: float | None) -> None:
    if x is not None:
        vals[col] = x


def _lap(elem: ET.Element, state: _LegState) -> None:
    start = state.lap_start
    if start is None:
        start = state.leg.points.times[-1] if len(state.leg.points) else None
    if start is None:
        return
    avg_speed = None
    ext = child(elem, "Extensions")
    if ext is not None:
        for e in ext:
            if local(e.tag) == "LX":
                avg_speed = parse_number(child_text(e, "AvgSpeed"))
    timer = parse_number(child_text(elem, "TotalTimeSeconds"))
    state.leg.laps.append(
        Lap(
            index=len(state.leg.laps),
            start_time=pd.Timestamp(start, unit="ns", tz="UTC"),
            elapsed_s=None,
            timer_s=timer,
            distance_m=parse_number(child_text(elem, "DistanceMeters")),
            avg_speed_m_s=avg_speed,
            trigger=_lower(child_text(elem, "TriggerMethod")),
            intensity=_lower(child_text(elem, "Intensity")),
            sport=state.leg.sport,
        )
    )


def _lower(text: str | None) -> str | None:
    return text.strip().lower() or None if text else None
