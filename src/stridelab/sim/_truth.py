"""The declared truth of a synthetic run: physiology/biomechanics model parameters and the session plan.

Everything is SI (s, m, m/s) except where the name says otherwise (``_pct``, ``_pp`` = percentage
points, ``_spm`` = steps per minute, ``_bpm`` = beats per minute). A :class:`RunTruth` is immutable,
JSON round-trippable (:meth:`RunTruth.to_dict` / :meth:`RunTruth.from_dict`) and *resolved*: presets
(``kind``, ``laps="auto"``, ``route="auto"``) are expanded on construction so the sidecar JSON states
exactly what was simulated.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal, get_args

from stridelab.io.fit import garmin_product_id

__all__ = [
    "LAP_MODES",
    "ROUTES",
    "RUN_KINDS",
    "SEGMENT_KINDS",
    "SENSORS",
    "Pause",
    "RunTruth",
    "Segment",
    "invalid_value_error",
    "plan_segments",
]

RunKind = Literal["easy", "tempo", "intervals", "long", "hills", "custom"]
SegmentKind = Literal["warmup", "steady", "interval", "recovery", "hill_up", "hill_down", "walk", "cooldown"]
LapMode = Literal["auto", "distance", "segments"]
Route = Literal["auto", "loop", "track", "out_and_back"]
Sensor = Literal["hrm_pro", "hrm_run", "rd_pod", "none"]
DriftClock = Literal["elapsed", "timer"]

RUN_KINDS: Final[tuple[str, ...]] = get_args(RunKind)
SEGMENT_KINDS: Final[tuple[str, ...]] = get_args(SegmentKind)
LAP_MODES: Final[tuple[str, ...]] = get_args(LapMode)
ROUTES: Final[tuple[str, ...]] = get_args(Route)
SENSORS: Final[tuple[str, ...]] = get_args(Sensor)

#: the FIT lap ``intensity`` of each segment kind
SEGMENT_INTENSITY: Final[dict[str, str]] = {
    "warmup": "warmup",
    "steady": "active",
    "interval": "interval",
    "recovery": "recovery",
    "hill_up": "interval",
    "hill_down": "recovery",
    "walk": "rest",
    "cooldown": "cooldown",
}

_DEFAULT_START: Final[datetime] = datetime(2026, 1, 5, 6, 30, tzinfo=UTC)
_FIT_FIRST_START: Final[datetime] = datetime(1990, 1, 1, tzinfo=UTC)
_FIT_LAST_START: Final[datetime] = datetime(2100, 1, 1, tzinfo=UTC)


def invalid_value_error(name: str, allowed: tuple[str, ...], got: object) -> ValueError:
    """The uniform argument error: "Invalid value for the 'x' parameter. Allowed values are ..."."""
    quoted = ", ".join(repr(a) for a in allowed)
    return ValueError(
        f"Invalid value for the {name!r} parameter. Allowed values are {quoted}, but got {got!r} instead."
    )


@dataclass(frozen=True, slots=True)
class Segment:
    """One block of the session plan, in timer (moving) time.

    ``speed_m_s`` is the target speed; ``grade_pct`` the road grade (positive = uphill) added to the
    route's gentle terrain; ``new_lap`` starts a lap at this segment when laps are per segment;
    ``balance_offset_pp`` is added to the GCT balance during the segment (a cue-effect hook, like
    ``RunTruth.lap_balance_offsets_pp``).
    """

    kind: SegmentKind
    duration_s: float
    speed_m_s: float
    grade_pct: float = 0.0
    new_lap: bool = True
    balance_offset_pp: float = 0.0

    def __post_init__(self) -> None:
        if not math.isfinite(self.balance_offset_pp):
            raise ValueError(f"Segment.balance_offset_pp must be finite, got {self.balance_offset_pp!r}")
        if self.kind not in SEGMENT_KINDS:
            raise invalid_value_error("kind", SEGMENT_KINDS, self.kind)
        if not (math.isfinite(self.duration_s) and self.duration_s >= 1.0):
            raise ValueError(f"Segment.duration_s must be finite and >= 1 s, got {self.duration_s!r}")
        if not (math.isfinite(self.speed_m_s) and 0.5 <= self.speed_m_s <= 8.0):
            raise ValueError(f"Segment.speed_m_s must be in [0.5, 8] m/s, got {self.speed_m_s!r}")
        if not (math.isfinite(self.grade_pct) and -25.0 <= self.grade_pct <= 25.0):
            raise ValueError(f"Segment.grade_pct must be in [-25, 25] %, got {self.grade_pct!r}")


@dataclass(frozen=True, slots=True)
class Pause:
    """The timer is stopped after ``at_timer_s`` seconds of moving time, for ``duration_s`` seconds."""

    at_timer_s: float
    duration_s: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.at_timer_s) and self.at_timer_s > 0):
            raise ValueError(f"Pause.at_timer_s must be > 0, got {self.at_timer_s!r}")
        if not (math.isfinite(self.duration_s) and self.duration_s >= 1.0):
            raise ValueError(f"Pause.duration_s must be >= 1 s, got {self.duration_s!r}")


def plan_segments(
    kind: str,
    *,
    easy_speed_m_s: float,
    duration_s: float,
    warmup_s: float,
    walk_break_every_s: float | None = None,
    walk_break_s: float = 60.0,
    walk_speed_m_s: float = 1.5,
    hill_grade_pct: float = 6.0,
) -> tuple[Segment, ...]:
    """The segments of a preset session ``kind`` of about ``duration_s`` moving time.

    easy: warm-up then steady easy pace. tempo: warm-up, ~1.18x easy block, 5 min cool-down.
    intervals: warm-up, 3 min at 1.3x easy / 2 min jog repeats, cool-down. long: warm-up then 0.96x
    easy. hills: warm-up, 75 s uphill at ``hill_grade_pct`` / jog back down repeats, cool-down.
    Optional walking breaks split every steady block.
    """
    if kind not in RUN_KINDS or kind == "custom":
        raise invalid_value_error("kind", tuple(k for k in RUN_KINDS if k != "custom"), kind)
    v = easy_speed_m_s
    warm = Segment("warmup", warmup_s, round(0.88 * v, 3)) if warmup_s >= 1 else None
    main_s = max(duration_s - (warm.duration_s if warm else 0.0), 60.0)
    segs: list[Segment] = [warm] if warm else []
    if kind == "easy":
        segs.append(Segment("steady", main_s, round(v, 3)))
    elif kind == "long":
        segs.append(Segment("steady", main_s, round(0.96 * v, 3)))
    elif kind == "tempo":
        cool = min(300.0, main_s / 4)
        segs += [
            Segment("steady", main_s - cool, round(1.18 * v, 3)),
            Segment("cooldown", cool, round(0.85 * v, 3)),
        ]
    elif kind == "intervals":
        rep_on, rep_off, cool = 180.0, 120.0, min(300.0, main_s / 4)
        n = max(1, int((main_s - cool) // (rep_on + rep_off)))
        for _ in range(n):
            segs += [
                Segment("interval", rep_on, round(1.3 * v, 3)),
                Segment("recovery", rep_off, round(0.75 * v, 3)),
            ]
        segs.append(Segment("cooldown", max(main_s - n * (rep_on + rep_off), 60.0), round(0.85 * v, 3)))
    else:  # hills
        up_s, up_v, down_v, cool = 75.0, round(0.85 * v, 3), round(0.8 * v, 3), min(300.0, main_s / 4)
        down_s = round(up_s * up_v / down_v)  # same distance back down
        n = max(1, int((main_s - cool) // (up_s + down_s)))
        for _ in range(n):
            segs += [
                Segment("hill_up", up_s, up_v, hill_grade_pct),
                Segment("hill_down", down_s, down_v, -hill_grade_pct),
            ]
        segs.append(Segment("cooldown", max(main_s - n * (up_s + down_s), 60.0), round(0.85 * v, 3)))
    if walk_break_every_s:
        segs = _insert_walk_breaks(segs, walk_break_every_s, walk_break_s, walk_speed_m_s)
    return tuple(segs)


def _insert_walk_breaks(
    segs: list[Segment], every_s: float, walk_s: float, walk_speed_m_s: float
) -> list[Segment]:
    out: list[Segment] = []
    for s in segs:
        if s.kind != "steady" or s.duration_s <= every_s + walk_s:
            out.append(s)
            continue
        left, first = s.duration_s, True
        while left > every_s + walk_s:
            out.append(dataclasses.replace(s, duration_s=every_s, new_lap=s.new_lap and first))
            out.append(Segment("walk", walk_s, walk_speed_m_s, s.grade_pct, new_lap=False))
            left -= every_s + walk_s
            first = False
        out.append(dataclasses.replace(s, duration_s=left, new_lap=False))
    return out


@dataclass(frozen=True)
class RunTruth:
    """Everything a synthetic run is generated from (model + plan). See ``docs/sim.md``.

    Balance model (LEFT share of ground contact time, percent)::

        balance = balance_left_pct_at_ref + sensor_balance_bias_pp
                  + balance_speed_slope_pp_per_m_s * (speed - ref_speed_m_s)
                  + balance_drift_pp_per_h * clock_h          # clock: elapsed (wall) or timer time
                  + balance_grade_slope_pp_per_pct * grade_pct
                  + balance_warmup_offset_pp * exp(-timer_s / balance_warmup_tau_s)
                  + lap_balance_offsets_pp.get(lap_index, 0) + segments[segment].balance_offset_pp
                  + balance_run_offset_pp
                  + AR(1) noise (stationary sd balance_noise_sd_pp, lag-1 autocorrelation balance_noise_phi)
                  + slow wander (OU, sd balance_wander_sd_pp, correlation time wander_tau_s)
                  + random lap offsets (sd lap_offset_share x balance_wander_sd_pp per lap)

    where ``speed`` is the true speed; the recorded speed adds an AR(1) GPS error
    (``speed_gps_noise_sd_m_s``, ``speed_gps_noise_phi``). The wander, lap offsets and GPS error are
    0 by default (the plain AR(1) model); :func:`stridelab.sim.apply_noise_model` sets the values
    fitted to real files (``bench/fit_noise_model.py``).

    GCT, vertical oscillation, cadence and heart rate follow the same linear "value at ref speed +
    slope x (speed - ref) + drift x hours" form with their own AR(1) noise (lag-1 autocorrelation
    ``dynamics_noise_phi``; GCT and VO add their own wander ``gct_wander_sd_s``,
    ``vertical_oscillation_wander_sd_m`` and lap offsets); step length = speed / step rate,
    vertical ratio = VO / step length, stance time percent = GCT / stride time (Garmin convention).
    """

    # --- session
    start_time: datetime = _DEFAULT_START
    kind: RunKind = "easy"
    utc_offset_s: int = 3600
    # --- GCT balance (LEFT share, %)
    balance_left_pct_at_ref: float = 50.8
    ref_speed_m_s: float = 3.0
    balance_speed_slope_pp_per_m_s: float = 0.6
    balance_drift_pp_per_h: float = 0.8
    balance_drift_clock: DriftClock = "elapsed"
    balance_noise_sd_pp: float = 0.6
    balance_noise_phi: float = 0.8
    balance_grade_slope_pp_per_pct: float = 0.0
    balance_warmup_offset_pp: float = 0.0
    balance_warmup_tau_s: float = 300.0
    sensor_balance_bias_pp: float = 0.0
    lap_balance_offsets_pp: Mapping[int, float] = field(default_factory=dict)
    # --- noise fitted to real files (sim/_noise.py, NOISE_MODELS["fitted"]); 0 = the plain AR(1) model
    balance_wander_sd_pp: float = 0.0  # slow form wander (OU process, correlation time wander_tau_s)
    wander_tau_s: float = 240.0
    balance_run_offset_pp: float = 0.0  # this run's level shift (day-to-day variation)
    lap_offset_share: float = 0.0  # random per-lap offsets, sd = share x each metric's wander sd
    speed_gps_noise_sd_m_s: float = 0.0  # recorded speed = true speed + AR(1) GPS error
    speed_gps_noise_phi: float = 0.5
    # --- ground contact time (s)
    gct_s_at_ref: float = 0.250
    gct_speed_slope_s_per_m_s: float = -0.030
    gct_drift_s_per_h: float = 0.005
    gct_grade_slope_s_per_pct: float = 0.002
    gct_noise_sd_s: float = 0.004
    # --- cadence (steps/min)
    cadence_spm_at_ref: float = 170.0
    cadence_speed_slope_spm_per_m_s: float = 7.0
    cadence_noise_sd_spm: float = 1.2
    # --- vertical oscillation (m)
    vertical_oscillation_m_at_ref: float = 0.085
    vertical_oscillation_speed_slope_m_per_m_s: float = 0.004
    vertical_oscillation_drift_m_per_h: float = 0.002
    vertical_oscillation_noise_sd_m: float = 0.0025
    gct_wander_sd_s: float = 0.0
    gct_noise_phi: float | None = None  # lag-1 autocorrelation of GCT's fast noise (None: dynamics_noise_phi)
    vertical_oscillation_wander_sd_m: float = 0.0
    dynamics_noise_phi: float = 0.8
    # --- heart rate (1/min)
    hr_bpm_at_ref: float = 150.0
    hr_speed_slope_bpm_per_m_s: float = 16.0
    hr_drift_bpm_per_h: float = 6.0
    hr_grade_bpm_per_pct: float = 1.5
    hr_start_bpm: float = 90.0
    hr_tau_s: float = 40.0
    hr_max_bpm: float = 196.0
    hr_noise_sd_bpm: float = 1.5
    # --- speed realisation
    speed_noise_sd_m_s: float = 0.06
    speed_noise_phi: float = 0.9
    speed_tau_s: float = 4.0
    gps_noise_sd_m: float = 1.5
    # --- plan (segments are resolved from the preset ``kind`` when empty)
    segments: tuple[Segment, ...] = ()
    easy_speed_m_s: float = 2.9
    duration_s: float = 2700.0
    warmup_s: float = 600.0
    walk_break_every_s: float | None = None
    walk_break_s: float = 60.0
    walk_speed_m_s: float = 1.5
    hill_grade_pct: float = 6.0
    pauses: tuple[Pause, ...] = ()
    laps: LapMode = "auto"
    auto_lap_m: float = 1000.0
    # --- route and terrain
    route: Route = "auto"
    start_lat_deg: float = 47.3686
    start_lon_deg: float = 8.5392
    loop_length_m: float = 5000.0
    base_altitude_m: float = 420.0
    terrain_amplitude_m: float = 6.0
    # --- devices
    sensor: Sensor = "hrm_pro"
    product: str = "fr965"
    serial_number: int = 3_412_345_678
    sensor_serial_number: int = 1_234_567

    def __post_init__(self) -> None:
        st = self.start_time
        if st.tzinfo is None:
            raise ValueError("RunTruth.start_time must be timezone-aware (UTC)")
        object.__setattr__(self, "start_time", st.astimezone(UTC).replace(microsecond=0))
        for name, allowed in (
            ("kind", RUN_KINDS),
            ("laps", LAP_MODES),
            ("route", ROUTES),
            ("sensor", SENSORS),
            ("balance_drift_clock", get_args(DriftClock)),
        ):
            if getattr(self, name) not in allowed:
                raise invalid_value_error(name, allowed, getattr(self, name))
        if self.gct_noise_phi is not None and not (0.0 <= self.gct_noise_phi < 1.0):
            raise ValueError(f"RunTruth.gct_noise_phi must be in [0, 1), got {self.gct_noise_phi!r}")
        for name in ("balance_noise_phi", "dynamics_noise_phi", "speed_noise_phi", "speed_gps_noise_phi"):
            phi = getattr(self, name)
            if not (math.isfinite(phi) and 0.0 <= phi < 1.0):
                raise ValueError(f"RunTruth.{name} must be in [0, 1), got {phi!r}")
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, float) and not math.isfinite(v):
                raise ValueError(f"RunTruth.{f.name} must be finite, got {v!r}")
        for name in (
            "ref_speed_m_s",
            "easy_speed_m_s",
            "auto_lap_m",
            "loop_length_m",
            "hr_tau_s",
            "speed_tau_s",
            "wander_tau_s",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"RunTruth.{name} must be > 0, got {getattr(self, name)!r}")
        garmin_product_id(self.product)  # raises on an unknown product
        if not _FIT_FIRST_START <= self.start_time < _FIT_LAST_START:
            raise ValueError(
                f"RunTruth.start_time must be in [1990, 2100) (FIT date_time), got {self.start_time}"
            )
        if not (-85.0 <= self.start_lat_deg <= 85.0 and -180.0 <= self.start_lon_deg <= 180.0):
            raise ValueError("RunTruth.start_lat_deg must be in [-85, 85] and start_lon_deg in [-180, 180]")
        offsets = {int(k): float(v) for k, v in self.lap_balance_offsets_pp.items()}
        object.__setattr__(self, "lap_balance_offsets_pp", types.MappingProxyType(offsets))
        segs = tuple(self.segments)
        if not segs:
            if self.kind == "custom":
                raise ValueError("RunTruth(kind='custom') needs explicit segments")
            segs = plan_segments(
                self.kind,
                easy_speed_m_s=self.easy_speed_m_s,
                duration_s=self.duration_s,
                warmup_s=self.warmup_s,
                walk_break_every_s=self.walk_break_every_s,
                walk_break_s=self.walk_break_s,
                walk_speed_m_s=self.walk_speed_m_s,
                hill_grade_pct=self.hill_grade_pct,
            )
        object.__setattr__(self, "segments", segs)
        object.__setattr__(self, "duration_s", float(sum(s.duration_s for s in segs)))
        object.__setattr__(self, "pauses", tuple(sorted(self.pauses, key=lambda p: p.at_timer_s)))
        for p in self.pauses:
            if p.at_timer_s >= self.duration_s - 1:
                raise ValueError(f"Pause at {p.at_timer_s} s is not inside the run ({self.duration_s} s)")
        if self.laps == "auto":
            object.__setattr__(
                self, "laps", "segments" if self.kind in ("intervals", "hills") else "distance"
            )
        if self.route == "auto":
            route = {"intervals": "track", "hills": "out_and_back"}.get(self.kind, "loop")
            object.__setattr__(self, "route", route)

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every parameter (times ISO 8601 UTC)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name == "start_time":
                v = v.isoformat()
            elif f.name == "lap_balance_offsets_pp":
                v = {str(k): x for k, x in v.items()}
            elif f.name in ("segments", "pauses"):
                v = [dataclasses.asdict(x) for x in v]
            out[f.name] = v
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunTruth:
        """Inverse of :meth:`to_dict` (unknown keys are an error)."""
        kw = dict(data)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(kw) - known
        if unknown:
            raise ValueError(f"Unknown RunTruth parameters: {sorted(unknown)}")
        if "start_time" in kw:
            kw["start_time"] = datetime.fromisoformat(kw["start_time"])
        if "lap_balance_offsets_pp" in kw:
            kw["lap_balance_offsets_pp"] = {int(k): float(v) for k, v in kw["lap_balance_offsets_pp"].items()}
        if "segments" in kw:
            kw["segments"] = tuple(Segment(**s) for s in kw["segments"])
        if "pauses" in kw:
            kw["pauses"] = tuple(Pause(**p) for p in kw["pauses"])
        return cls(**kw)

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    def replace(self, **changes: Any) -> RunTruth:
        """A copy with ``changes``; segments are re-planned when ``kind``/plan inputs change."""
        plan_keys = {
            "kind",
            "easy_speed_m_s",
            "duration_s",
            "warmup_s",
            "walk_break_every_s",
            "walk_break_s",
            "walk_speed_m_s",
            "hill_grade_pct",
        }
        if plan_keys & set(changes) and "segments" not in changes:
            changes["segments"] = ()
        if "kind" in changes:
            changes.setdefault("laps", "auto")
            changes.setdefault("route", "auto")
        return dataclasses.replace(self, **changes)
