"""Track points -> :class:`~stridelab.model.Activity`, with the FIT reader's conventions: SI record
columns of :data:`~stridelab.model.RECORD_COLUMNS`, UTC index in file order, ``paused`` marked (never
dropped), ``timer_s`` excluding pauses, laps and sessions, summary totals.

The pause and timer arithmetic is the FIT reader's (``io/fit/_activity.py``: ``_pause_mask``,
``_timer_s``), restated here because a reader does not import another reader's private module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from stridelab.model import ON_FOOT_SPORTS, Activity, Lap, Session

__all__ = ["EARTH_RADIUS_M", "Leg", "Parsed", "Points", "build_activity", "haversine_m"]

#: WGS84 mean radius (IUGG R1), metres
EARTH_RADIUS_M = 6_371_008.8
#: a declared start (TCX lap StartTime / Id) this much before the first point is the activity start
_LEAD_IN_NS = 60 * 1_000_000_000
#: on-foot cadence whose mean exceeds this is steps (not strides) per minute (Runalyze's rule,
#: ContinuousDataAdapter::correctCadenceIfRequired, RPM_LIMIT_FOR_CORRECTION = 130)
_STEPS_NOT_STRIDES = 130.0


def haversine_m(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance (m) on the WGS84 mean sphere, element-wise."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))), dtype="float64")


@dataclass(slots=True)
class Points:
    """Timed points of one activity (or one multisport leg) in file order, as columns."""

    times: list[int] = field(default_factory=list)  # UTC ns
    values: dict[str, list[float]] = field(default_factory=dict)
    pauses: list[tuple[int, int]] = field(default_factory=list)  # (stop ns, start ns)

    def add(self, t: int, vals: dict[str, float]) -> None:
        n = len(self.times)
        self.times.append(t)
        for col, v in vals.items():
            column = self.values.get(col)
            if column is None:
                column = self.values[col] = [math.nan] * n
            column.append(v)
        for column in self.values.values():
            if len(column) == n:
                column.append(math.nan)

    def extend(self, times: np.ndarray, columns: dict[str, np.ndarray]) -> None:
        """Many points at once (the fast path's block): what :meth:`add` of each point would give."""
        n, m = len(self.times), len(times)
        self.times.extend(times.tolist())
        for col, column in self.values.items():
            if col not in columns:
                column.extend([math.nan] * m)
        for col, values in columns.items():
            if col not in self.values:
                self.values[col] = [math.nan] * n
            self.values[col].extend(values.tolist())

    def __len__(self) -> int:
        return len(self.times)


@dataclass(slots=True)
class Leg:
    """One activity, or one leg of a multisport session, before it becomes records."""

    points: Points
    sport: str | None
    laps: list[Lap] = field(default_factory=list)
    declared_start: int | None = None  # ns: a TCX lap StartTime / Id, a GPX trk/metadata time
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Parsed:
    """One activity as a GPX track or a TCX activity (or multisport session) parses: its legs, the
    recording product and file-level notes."""

    legs: list[Leg]
    product: str | None = None
    notes: list[str] = field(default_factory=list)


def _pause_mask(t: np.ndarray, intervals: list[tuple[int, int]]) -> np.ndarray:
    paused = np.zeros(len(t), dtype=bool)
    for stop, start in intervals:
        paused |= (t > stop) & (t < start)
    return paused


def _timer_s(t: np.ndarray, intervals: list[tuple[int, int]]) -> np.ndarray:
    """Timer seconds at each point: wall-clock steps minus stopped time; a step backwards (or a point
    later than a following one) adds nothing (FIT reader's rule)."""
    if not len(t):
        return np.zeros(0, dtype="float64")
    prev = np.concatenate([t[:1], t[:-1]])
    stopped = np.zeros(len(t), dtype="int64")
    for stop, start in intervals:
        stopped += np.clip(np.minimum(t, start) - np.maximum(prev, stop), 0, None)
    in_order = t <= np.minimum.accumulate(t[::-1])[::-1]
    counted = in_order & np.concatenate([[True], in_order[:-1]])
    step = np.where(counted, np.clip(t - prev - stopped, 0, None), 0)
    return np.cumsum(step).astype("float64") / 1e9


def _distance(cols: dict[str, np.ndarray], t: np.ndarray, pauses: list[tuple[int, int]]) -> np.ndarray | None:
    """Cumulative distance from the positions (steps into a pause's end not counted), or None."""
    lat, lon = cols.get("lat_deg"), cols.get("lon_deg")
    if lat is None or lon is None:
        return None
    have = ~(np.isnan(lat) | np.isnan(lon))
    if have.sum() < 1:
        return None
    idx = np.flatnonzero(have)
    steps = np.zeros(len(idx), dtype="float64")
    if len(idx) > 1:
        steps[1:] = haversine_m(lat[idx[:-1]], lon[idx[:-1]], lat[idx[1:]], lon[idx[1:]])
        t0, t1 = t[idx[:-1]], t[idx[1:]]
        for stop, start in pauses:  # moved while the timer was stopped: not run
            steps[1:][(t0 <= stop) & (t1 >= start)] = 0.0
    cum = np.full(len(t), np.nan)
    cum[idx] = np.cumsum(steps)
    filled = pd.Series(cum).ffill().fillna(0.0).to_numpy(dtype="float64")
    return filled


@dataclass(slots=True)
class _LegSummary:
    start: int
    elapsed_s: float
    timer_s: float
    distance_m: float | None


def _summarize(leg: Leg, t: np.ndarray, timer: np.ndarray, dist: np.ndarray | None) -> _LegSummary:
    """Start, elapsed, timer and distance of a leg: the laps' totals when they agree with the points
    (a device's own timer), else the points' (an edited or trimmed file: the laps describe more)."""
    first, last = int(t.min()), int(t.max())
    start = first
    ds = leg.declared_start
    if ds is not None:
        if first - _LEAD_IN_NS <= ds < first:
            start = ds
        elif ds < first - _LEAD_IN_NS or ds > last:
            leg.notes.append(
                f"the file's start time {_iso(ds)} is {abs(first - ds) / 3.6e12:.1f} h from its first "
                f"point ({_iso(first)}): the points' times are used"
            )
    elapsed = (last - start) / 1e9
    points_timer = float(timer[-1]) + (first - start) / 1e9 if len(timer) else 0.0
    points_dist = float(np.nanmax(dist)) if dist is not None and np.isfinite(dist).any() else None
    lap_timer = [lap.timer_s for lap in leg.laps if lap.timer_s is not None]
    lap_dist = [lap.distance_m for lap in leg.laps if lap.distance_m is not None]
    sum_timer = float(sum(lap_timer)) if lap_timer else None
    sum_dist = float(sum(lap_dist)) if lap_dist else None
    timer_ok = sum_timer is not None and sum_timer <= elapsed + max(2.0, 0.005 * elapsed)
    dist_ok = sum_dist is not None and (points_dist is None or sum_dist <= 1.05 * points_dist + 50.0)
    if (sum_timer is not None and not timer_ok) or (sum_dist is not None and not dist_ok):
        leg.notes.append(
            f"the laps' totals ({_fmt(sum_timer, 's')}, {_fmt(sum_dist, 'm')}) exceed what the points "
            f"hold ({elapsed:.0f} s, {_fmt(points_dist, 'm')}): the points' totals are used"
        )
        timer_ok = dist_ok = False
    duration = sum_timer if timer_ok and sum_timer is not None else points_timer
    distance = sum_dist if dist_ok else points_dist
    return _LegSummary(start, elapsed, float(duration), distance)


def _fmt(x: float | None, unit: str) -> str:
    return "no " + ("time" if unit == "s" else "distance") if x is None else f"{x:.0f} {unit}"


def _iso(ns: int) -> str:
    return pd.Timestamp(ns, unit="ns", tz="UTC").isoformat()


def _columns(leg: Leg) -> dict[str, np.ndarray]:
    return {c: np.asarray(v, dtype="float64") for c, v in leg.points.values.items()}


def build_activity(
    legs: list[Leg],
    *,
    activity_id: str,
    fmt: str,
    source_path: str | None,
    product: str | None = None,
    notes: list[str] | None = None,
) -> Activity:
    """One :class:`Activity` from its legs (several legs: a multisport session, each leg a
    :class:`Session`). Every leg has at least one point, or laps with a start time."""
    all_notes = list(notes or [])
    frames: list[pd.DataFrame] = []
    sessions: list[Session] = []
    laps: list[Lap] = []
    timer_offset = 0.0
    totals_timer: list[float] = []
    totals_elapsed: list[float] = []
    totals_dist: list[float] = []
    starts: list[int] = []
    for s_index, leg in enumerate(legs):
        t = np.asarray(leg.points.times, dtype="int64")
        cols = _columns(leg)
        if not len(t):
            # a leg with laps but no timed point: its totals come from the laps
            start = int(leg.laps[0].start_time.value)
            timer = float(sum(lap.timer_s or 0.0 for lap in leg.laps))
            elapsed = timer
            dist = sum(lap.distance_m or 0.0 for lap in leg.laps) if leg.laps else None
            summary = _LegSummary(start, elapsed, timer, dist)
            leg.notes.append("no timed trackpoints: the totals come from the laps")
        else:
            timer_arr = _timer_s(t, sorted(leg.points.pauses))
            dist_arr = _distance(cols, t, leg.points.pauses) if "distance_m" not in cols else None
            if dist_arr is not None:
                cols["distance_m"] = dist_arr
            elif "distance_m" in cols:
                cols["distance_m"] = _odometer_fixed(cols["distance_m"], leg)
            summary = _summarize(leg, t, timer_arr, cols.get("distance_m"))
            _cadence(cols, leg)
            paused = _pause_mask(t, leg.points.pauses)
            frame = pd.DataFrame(
                {
                    "elapsed_s": np.zeros(len(t)),
                    "timer_s": timer_arr + timer_offset,
                    "paused": paused,
                    "session_index": np.full(len(t), s_index, dtype="int32"),
                    "lap_index": np.zeros(len(t), dtype="int32"),
                    **cols,
                },
                index=pd.DatetimeIndex(pd.to_datetime(t, unit="ns", utc=True)).as_unit("ns"),
            )
            frames.append(frame)
            timer_offset += float(timer_arr[-1])
        all_notes.extend(leg.notes)
        starts.append(summary.start)
        totals_timer.append(summary.timer_s)
        totals_elapsed.append(summary.elapsed_s)
        if summary.distance_m is not None:
            totals_dist.append(summary.distance_m)
        base = len(laps)
        for lap in leg.laps:
            laps.append(
                Lap(
                    index=base + lap.index,
                    start_time=lap.start_time,
                    elapsed_s=lap.elapsed_s,
                    timer_s=lap.timer_s,
                    distance_m=lap.distance_m,
                    avg_speed_m_s=lap.avg_speed_m_s,
                    trigger=lap.trigger,
                    intensity=lap.intensity,
                    sport=lap.sport or leg.sport,
                )
            )
        if len(legs) > 1:
            sessions.append(
                Session(
                    index=s_index,
                    sport=leg.sport,
                    sub_sport=None,
                    start_time=pd.Timestamp(summary.start, unit="ns", tz="UTC"),
                    elapsed_s=summary.elapsed_s,
                    timer_s=summary.timer_s,
                    distance_m=summary.distance_m,
                )
            )
    records = pd.concat(frames) if frames else _empty_records()
    records.index.name = "time"
    t_all = pd.DatetimeIndex(records.index).asi8
    if len(t_all):
        records["elapsed_s"] = (t_all - t_all.min()) / 1e9
        lap_starts = np.sort(np.array([lap.start_time.value for lap in laps], dtype="int64"))
        if len(lap_starts):
            records["lap_index"] = np.clip(
                np.searchsorted(lap_starts, t_all, side="right") - 1, 0, None
            ).astype("int32")
        backwards = int((np.diff(t_all) < 0).sum())
        if backwards:
            all_notes.append(f"{backwards} backward time step(s): kept in file order, they add no timer time")
    start = min(starts)
    if len(legs) > 1:
        elapsed_total = (max(int(t_all.max()) if len(t_all) else start, start) - start) / 1e9
        sports = {leg.sport for leg in legs if leg.sport}
        sport = "multisport" if len(sports) > 1 else next(iter(sports), None)
    else:
        elapsed_total = totals_elapsed[0]
        sport = legs[0].sport
    return Activity(
        id=activity_id,
        source_path=source_path,
        format=fmt,
        start_time=pd.Timestamp(start, unit="ns", tz="UTC"),
        duration_s=float(sum(totals_timer)),
        elapsed_s=float(elapsed_total),
        distance_m=float(sum(totals_dist)) if totals_dist else None,
        sport=sport,
        sub_sport=None,
        records=records,
        product=product,
        laps=tuple(laps),
        sessions=tuple(sessions),
        notes=tuple(dict.fromkeys(all_notes)),
    )


def _empty_records() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "elapsed_s": np.zeros(0),
            "timer_s": np.zeros(0),
            "paused": np.zeros(0, dtype=bool),
            "session_index": np.zeros(0, dtype="int32"),
            "lap_index": np.zeros(0, dtype="int32"),
        },
        index=pd.DatetimeIndex([], tz="UTC").as_unit("ns"),
    )


def _odometer_fixed(dist: np.ndarray, leg: Leg) -> np.ndarray:
    """Cumulative distances that start at a device odometer reading (far beyond what the laps
    describe) are made relative to the activity's start."""
    known = dist[np.isfinite(dist)]
    lap_total = sum(lap.distance_m or 0.0 for lap in leg.laps)
    if len(known) and known[0] > 1000.0 and lap_total > 0 and known[0] > lap_total:
        leg.notes.append(f"distances start at {known[0]:.0f} m (an odometer): made relative to the start")
        return np.asarray(dist - float(known[0]), dtype="float64")
    return dist


def _cadence(cols: dict[str, np.ndarray], leg: Leg) -> None:
    """``cadence_rpm`` is strides (on foot) or revolutions per minute; on foot ``cadence_spm`` = 2 x.
    On-foot cadence whose mean is over 130 was written in steps per minute: halved (with a note)."""
    cad = cols.get("cadence_rpm")
    if cad is None:
        return
    if leg.sport not in ON_FOOT_SPORTS:
        return
    nonzero = cad[np.isfinite(cad) & (cad > 0)]
    if len(nonzero) and float(nonzero.mean()) > _STEPS_NOT_STRIDES:
        leg.notes.append(
            f"run cadence averages {nonzero.mean():.0f}/min: steps, not strides, per minute (halved)"
        )
        cad = cad / 2.0
        cols["cadence_rpm"] = cad
    cols["cadence_spm"] = 2.0 * cad
