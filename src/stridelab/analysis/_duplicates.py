"""The same activity from several sources: which stored activities are one, and which of them is primary.

Pure: spans, facts and records in, decisions out (the store-backed steps are in
:mod:`stridelab.services.duplicates`).

**Same activity.** Two activities ``a`` and ``b`` of one athlete are the same activity when

1. their sports are of the same family (:func:`sport_family`: running, walking, cycling, swimming...;
   an activity without a sport, or ``generic``/``other``, goes with any family), and
2. their time spans ``[start, start + elapsed]`` overlap: ``|a ∩ b| / min(|a|, |b|) >=``
   :data:`MIN_OVERLAP` (0.9: the intersection covers at least 90 % of the shorter span; a span of
   length 0 never matches), either
   a. **directly**, in UTC (a watch FIT, the Apple Health workout, a Strava GPX of the same run), or
   b. **clock-shifted**: the starts differ by a whole number of quarter hours ``s`` (``0 < |s| <= 14
      h``, the range of UTC offsets) give or take 2 min, ``b`` moved back by ``s`` overlaps ``a`` by
      ``>= 0.9``, *and* their records agree sample by
      sample (:func:`recordings_agree`). This is a re-save that wrote local time as UTC (the shared
      corpus's GoldenCheetah ``3386684871-saved.fit`` is its original shifted by 2 h); without the
      record check two runs of the same loop at 7:00 and 9:00 would be merged.

**Primary.** In each group of the same activity the richest source is primary: :func:`richness` is
the tuple (running dynamics, power, heart rate, GPS) compared in that order (so running dynamics >
power > heart rate > GPS > none, and among two with power the one with heart rate too wins); ties go
to the recording of a named device (an app's re-encoding names none and may carry a second-hand
clock), then more records, then the earliest import, then the smaller id. The grouping is greedy in
that order: the richest activity not yet taken becomes a primary and takes every not-yet-taken
activity that is the same activity as it; so each duplicate is linked directly to its primary, and
the result depends only on the set of activities (never on import order).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from stridelab.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

__all__ = [
    "MAX_CLOCK_SHIFT_S",
    "MIN_OVERLAP",
    "DuplicateLink",
    "PairMatch",
    "SourceFacts",
    "Span",
    "candidate_pairs",
    "choose_primaries",
    "has_labels",
    "may_be_one_recording",
    "recordings_agree",
    "richness",
    "span_overlap",
    "sport_family",
]

#: the share of the shorter span two activities must have in common
MIN_OVERLAP: Final[float] = 0.9
#: largest clock shift (a UTC offset) a re-save may carry
MAX_CLOCK_SHIFT_S: Final[float] = 14 * 3600.0
#: clock shifts are whole multiples of this (UTC offsets are quarter hours: +5:45, +8:45...)
CLOCK_SHIFT_STEP_S: Final[float] = 900.0
#: how far from a whole quarter hour the two starts may be for a clock shift (a re-save moves the
#: start by a second or so)
CLOCK_SHIFT_TOLERANCE_S: Final[float] = 120.0
#: a clock-shifted pair's catalog distances must agree within the larger of these to be worth a
#: records check (:func:`may_be_one_recording`): 10x the records check's 10 m, or 3 % of the distance
SAME_DISTANCE_TOLERANCE_M: Final[float] = 100.0
SAME_DISTANCE_TOLERANCE_REL: Final[float] = 0.03
#: lengths (wall clock) within the larger of these count as "the same length of time" for that test
SAME_LENGTH_TOLERANCE_S: Final[float] = 10.0
SAME_LENGTH_TOLERANCE_REL: Final[float] = 0.01
#: spans longer than this are searched by a linear scan instead of the start-time window
_LONG_SPAN_S: Final[float] = 86400.0

_FAMILIES: Final[dict[str, str]] = {
    **dict.fromkeys(
        (
            "running",
            "run",
            "trail_running",
            "trailrun",
            "trail_run",
            "treadmill_running",
            "track_running",
            "virtual_run",
            "virtualrun",
            "indoor_running",
            "street_running",
        ),
        "running",
    ),
    **dict.fromkeys(("walking", "walk", "hiking", "hike", "mountaineering", "snowshoeing"), "walking"),
    **dict.fromkeys(
        (
            "cycling",
            "biking",
            "bike",
            "ride",
            "virtual_ride",
            "virtualride",
            "ebikeride",
            "e_biking",
            "mountain_biking",
            "mountainbikeride",
            "gravelride",
            "indoor_cycling",
            "road_cycling",
        ),
        "cycling",
    ),
    **dict.fromkeys(("swimming", "swim", "lap_swimming", "open_water_swimming"), "swimming"),
}
#: sports that say nothing about the activity: they go with any family
_UNKNOWN: Final[frozenset[str]] = frozenset({"", "generic", "other", "unknown", "none", "all"})


def sport_family(sport: str | None) -> str | None:
    """The family of a sport name (FIT, TCX, GPX, Strava or Apple Health spelling), None when unknown
    (no sport, ``generic``, ``other``): an unknown sport goes with any family."""
    key = (sport or "").strip().lower().replace(" ", "_").replace("-", "_")
    key = key.removeprefix("hkworkoutactivitytype").removeprefix("_")
    if key in _UNKNOWN:
        return None
    return _FAMILIES.get(key, key)


def _same_family(a: str | None, b: str | None) -> bool:
    fa, fb = sport_family(a), sport_family(b)
    return fa is None or fb is None or fa == fb


@dataclass(frozen=True, slots=True)
class Span:
    """When an activity happened: ``start`` (UTC) and ``length_s`` (wall-clock), its sport, and
    whether it was imported with linking turned off (``kept``: never linked)."""

    id: str
    sport: str | None
    start: pd.Timestamp
    length_s: float
    kept: bool = False
    #: the catalog's total distance (m), None when unknown: read by :func:`may_be_one_recording`
    distance_m: float | None = None

    @property
    def end(self) -> pd.Timestamp:
        return self.start + pd.Timedelta(seconds=self.length_s)


def span_overlap(a: Span, b: Span, shift_s: float = 0.0) -> float:
    """``|a ∩ (b - shift)| / min(|a|, |b|)``: the share of the shorter span in common (0 when a span is
    empty or not finite). ``shift_s`` moves ``b`` earlier by that many seconds."""
    la, lb = a.length_s, b.length_s
    if not (math.isfinite(la) and math.isfinite(lb)) or la <= 0 or lb <= 0:
        return 0.0
    b0 = (b.start - a.start).total_seconds() - shift_s  # b's start relative to a's
    inter = min(la, b0 + lb) - max(0.0, b0)
    return max(0.0, inter) / min(la, lb)


def may_be_one_recording(a: Span, b: Span) -> bool:
    """The catalog pre-filter of the records check of a clock-shifted pair: False when the two cannot
    be copies of one recording, so their records need not be read. Copies of one recording that
    cover the same length of time (within :data:`SAME_LENGTH_TOLERANCE_S` /
    :data:`SAME_LENGTH_TOLERANCE_REL`) share their total distance: False when both totals are known
    and differ by more than :data:`SAME_DISTANCE_TOLERANCE_M` and :data:`SAME_DISTANCE_TOLERANCE_REL`
    of the larger. True (read the records) whenever a figure is missing or the lengths differ."""
    da, db = a.distance_m, b.distance_m
    if da is None or db is None or not (math.isfinite(da) and math.isfinite(db)) or da <= 0 or db <= 0:
        return True
    la, lb = a.length_s, b.length_s
    if not (math.isfinite(la) and math.isfinite(lb)):
        return True
    if abs(la - lb) > max(SAME_LENGTH_TOLERANCE_S, SAME_LENGTH_TOLERANCE_REL * max(la, lb)):
        return True  # totals over different lengths of time say nothing
    return abs(da - db) <= max(SAME_DISTANCE_TOLERANCE_M, SAME_DISTANCE_TOLERANCE_REL * max(da, db))


@dataclass(frozen=True, slots=True)
class PairMatch:
    """Two activities that may be the same: ``overlap`` of their spans after ``shift_s`` (b's clock
    minus a's; 0 for a direct overlap). A shifted pair is the same activity only once its records
    agree (:func:`recordings_agree`)."""

    a: str
    b: str
    overlap: float
    shift_s: float = 0.0

    @property
    def needs_records(self) -> bool:
        return self.shift_s != 0.0


def _match(a: Span, b: Span) -> PairMatch | None:
    if a.kept or b.kept or a.id == b.id or not _same_family(a.sport, b.sport):
        return None
    direct = span_overlap(a, b)
    if direct >= MIN_OVERLAP:
        return PairMatch(a.id, b.id, direct)
    delta = (b.start - a.start).total_seconds()
    shift = round(delta / CLOCK_SHIFT_STEP_S) * CLOCK_SHIFT_STEP_S
    if shift == 0.0 or abs(shift) > MAX_CLOCK_SHIFT_S or abs(delta - shift) > CLOCK_SHIFT_TOLERANCE_S:
        return None
    shifted = span_overlap(a, b, shift)
    if shifted >= MIN_OVERLAP and may_be_one_recording(a, b):
        return PairMatch(a.id, b.id, shifted, shift)
    return None


def candidate_pairs(spans: Sequence[Span], seeds: Iterable[str]) -> tuple[set[str], list[PairMatch]]:
    """The activities connected to ``seeds`` by possible matches, and those matches.

    Breadth-first from the seeds over :func:`span_overlap` matches (direct, or clock-shifted, past
    :func:`may_be_one_recording` and waiting for their records check); the returned set is closed:
    no activity outside it may match one inside, so re-deciding the set alone gives the same links as
    re-deciding the whole store.
    """
    order = sorted(spans, key=lambda s: (s.start, s.id))
    by_id = {s.id: s for s in order}
    starts = np.array([s.start.value for s in order], dtype="int64")
    long_spans = [s for s in order if s.length_s > _LONG_SPAN_S]
    reach_ns = int((_LONG_SPAN_S + MAX_CLOCK_SHIFT_S + CLOCK_SHIFT_STEP_S) * 1e9)
    members: set[str] = set()
    pairs: dict[tuple[str, str], PairMatch] = {}
    queue = [i for i in dict.fromkeys(seeds) if i in by_id]
    members.update(queue)
    while queue:
        span = by_id[queue.pop()]
        if span.kept:
            continue
        lo = int(np.searchsorted(starts, span.start.value - reach_ns, side="left"))
        end_ns = span.start.value + int(max(span.length_s, 0.0) * 1e9) if math.isfinite(span.length_s) else 0
        hi = int(np.searchsorted(starts, end_ns + reach_ns, side="right"))
        for other in [*order[lo:hi], *long_spans]:
            key = (span.id, other.id) if span.id < other.id else (other.id, span.id)
            if key in pairs or other.id == span.id:
                continue
            first, second = (span, other) if span.id < other.id else (other, span)
            match = _match(first, second)
            if match is None:
                continue
            pairs[key] = match
            if other.id not in members:
                members.add(other.id)
                queue.append(other.id)
    return members, sorted(pairs.values(), key=lambda p: (p.a, p.b))


# ---------------------------------------------------------------------------- records check
#: channel -> (columns, tolerance) of :func:`recordings_agree`
_CHANNELS: Final[dict[str, tuple[tuple[str, ...], float]]] = {
    "distance": (("distance_m",), 10.0),  # m
    "heart rate": (("heart_rate_bpm",), 2.0),  # 1/min
    "position": (("lat_deg", "lon_deg"), 10.0),  # m
}
_GRID_POINTS: Final[int] = 60
_MIN_POINTS: Final[int] = 10
_MIN_AGREEMENT: Final[float] = 0.9


def _channel(records: pd.DataFrame, cols: tuple[str, ...], t_s: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """``cols`` interpolated at ``grid`` (seconds since the first record); NaN where unknown."""
    out = np.full((grid.size, len(cols)), np.nan)
    if not all(c in records.columns for c in cols):
        return out
    values = np.column_stack(
        [pd.to_numeric(records[c], errors="coerce").to_numpy(dtype="float64", na_value=np.nan) for c in cols]
    )
    ok = np.isfinite(values).all(axis=1) & np.isfinite(t_s)
    if ok.sum() < 2:
        return out
    t, v = t_s[ok], values[ok]
    inside = (grid >= t[0]) & (grid <= t[-1])
    for j in range(len(cols)):
        out[inside, j] = np.interp(grid[inside], t, v[:, j])
    return out


def recordings_agree(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """True when two record streams (time-indexed) are the same recording, each read from its own
    first record: at 60 instants over the shorter one, every channel both carry (cumulative distance
    within 10 m, heart rate within 2 /min, position within 10 m) agrees at >= 90 % of the instants
    where both have it, with at least one such channel over >= 10 instants. A re-saved file agrees
    exactly; two runs of the same loop do not (their distance, heart rate and position drift apart)."""
    if len(a) < 2 or len(b) < 2:
        return False
    ta = (pd.DatetimeIndex(a.index) - a.index[0]).total_seconds().to_numpy(dtype="float64")
    tb = (pd.DatetimeIndex(b.index) - b.index[0]).total_seconds().to_numpy(dtype="float64")
    length = min(float(np.nanmax(ta)), float(np.nanmax(tb)))
    if not math.isfinite(length) or length <= 0:
        return False
    grid = np.linspace(0.0, length, _GRID_POINTS)
    shared = 0
    for name, (cols, tol) in _CHANNELS.items():
        va, vb = _channel(a, cols, ta, grid), _channel(b, cols, tb, grid)
        both = np.isfinite(va).all(axis=1) & np.isfinite(vb).all(axis=1)
        n = int(both.sum())
        if n < _MIN_POINTS:
            continue
        if name == "position":
            lat = np.radians((va[both, 0] + vb[both, 0]) / 2)
            dy = (va[both, 0] - vb[both, 0]) * 111_195.0
            dx = (va[both, 1] - vb[both, 1]) * 111_195.0 * np.cos(lat)
            diff = np.hypot(dx, dy)
        else:
            diff = np.abs(va[both, 0] - vb[both, 0])
        if float((diff <= tol).mean()) < _MIN_AGREEMENT:
            return False
        shared += 1
    return shared > 0


# ---------------------------------------------------------------------------- richness and primaries
#: richness classes, most valuable first (the order of :func:`richness`)
_HAS_LABELS: Final[tuple[str, ...]] = ("running dynamics", "power", "heart rate", "GPS")


@dataclass(frozen=True, slots=True)
class SourceFacts:
    """What one stored activity has, for choosing the primary of a group."""

    id: str
    running_dynamics: bool
    power: bool
    heart_rate: bool
    gps: bool
    n_records: int
    imported_at: str  # ISO 8601 UTC, sortable
    #: recorded by a named device (its manufacturer is known): the original recording rather than an
    #: app's re-encoding, whose clock and metadata are second-hand (GoldenCheetah's re-save of a
    #: Garmin file writes local time as UTC and manufacturer 0)
    device: bool = False

    @classmethod
    def from_summary(
        cls,
        activity_id: str,
        summary: Mapping[str, Any],
        *,
        gps: bool,
        n_records: int,
        imported_at: str,
        manufacturer: str | None = None,
    ) -> SourceFacts:
        """Facts from a catalog summary (``stridelab.store.activities.activity_summary``): running
        dynamics as the catalog flags them; power from native power or a developer field named
        "Power" (Stryd); heart rate from any heart-rate sample; ``gps`` is read from the stream."""
        power = bool(summary.get("power_w_n"))
        for dev in summary.get("developer_columns", []) or []:
            name = str(dev.get("field_name") or "").strip().lower()
            if name == "power" and summary.get(f"{dev.get('column')}_n"):
                power = True
        return cls(
            id=activity_id,
            running_dynamics=bool(summary.get("has_running_dynamics")),
            power=power,
            heart_rate=bool(summary.get("heart_rate_bpm_n")),
            gps=gps,
            n_records=n_records,
            imported_at=imported_at,
            device=named_device(manufacturer),
        )


def richness(facts: SourceFacts) -> tuple[bool, bool, bool, bool]:
    """(running dynamics, power, heart rate, GPS): compared as a tuple, larger is richer."""
    return (facts.running_dynamics, facts.power, facts.heart_rate, facts.gps)


def has_labels(facts: SourceFacts) -> list[str]:
    """What the source has, in words (``["power", "heart rate", "GPS"]``), richest first."""
    return [label for label, present in zip(_HAS_LABELS, richness(facts), strict=True) if present]


def named_device(manufacturer: str | None) -> bool:
    """Is ``manufacturer`` a real device maker (not missing, 0, "unknown" or FIT's "development")?"""
    return str(manufacturer or "").strip().lower() not in _NO_DEVICE


_NO_DEVICE = frozenset({"", "0", "none", "unknown", "development"})


def _rank_key(f: SourceFacts) -> tuple[Any, ...]:
    return (tuple(not x for x in richness(f)), not f.device, -f.n_records, f.imported_at, f.id)


@dataclass(frozen=True, slots=True)
class DuplicateLink:
    """``activity_id`` is a duplicate of ``primary_id``; ``reason`` says why, in words."""

    activity_id: str
    primary_id: str
    reason: str


def _why_primary(p: SourceFacts, d: SourceFacts) -> str:
    rp, rd = richness(p), richness(d)
    if rp != rd:
        for label, x, y in zip(_HAS_LABELS, rp, rd, strict=True):
            if x and not y:
                return f"the primary has {label}, this one not"
    what = ", ".join(has_labels(p)) or "no dynamics, power, heart rate or GPS"
    if p.device != d.device:
        return f"both have {what}; the primary was recorded by a named device, this one is a re-encoding"
    if p.n_records != d.n_records:
        return f"both have {what}; the primary has more records ({p.n_records} vs {d.n_records})"
    if p.imported_at != d.imported_at:
        return f"both have {what} and {p.n_records} records; the primary was imported first"
    return f"both have {what}, {p.n_records} records, same import; the primary has the smaller id"


def _how_same(m: PairMatch) -> str:
    pct = f"{math.floor(m.overlap * 1000) / 10:g} %"
    if m.shift_s == 0.0:
        return f"same activity: {pct} of the shorter time span in common"
    sign = "+" if m.shift_s > 0 else "-"
    h, rem = divmod(int(abs(m.shift_s)), 3600)
    return (
        f"same recording with its clock shifted by {sign}{h}:{rem // 60:02d} h "
        f"(local time saved as UTC): {pct} in common after the shift, records agree"
    )


def choose_primaries(facts: Sequence[SourceFacts], matches: Sequence[PairMatch]) -> list[DuplicateLink]:
    """The duplicate links of a closed set of activities: ``matches`` are its confirmed same-activity
    pairs (direct ones, and shifted ones whose records agree). Greedy by :func:`richness` (see the
    module docstring); one link per duplicate, straight to its primary, ordered by duplicate id."""
    by_id = {f.id: f for f in facts}
    neighbours: dict[str, dict[str, PairMatch]] = {f.id: {} for f in facts}
    for m in matches:
        if m.a in by_id and m.b in by_id:
            neighbours[m.a][m.b] = m
            neighbours[m.b][m.a] = m
    taken: set[str] = set()
    links: list[DuplicateLink] = []
    for f in sorted(facts, key=_rank_key):
        if f.id in taken:
            continue
        taken.add(f.id)
        for other_id in sorted(neighbours[f.id], key=lambda i: _rank_key(by_id[i])):
            if other_id in taken:
                continue
            taken.add(other_id)
            reason = f"{_how_same(neighbours[f.id][other_id])}; {_why_primary(f, by_id[other_id])}"
            links.append(DuplicateLink(other_id, f.id, reason))
    return sorted(links, key=lambda link: link.activity_id)
