"""Simulate one run from a :class:`RunTruth`: 1 Hz records quantised exactly as FIT stores them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.signal import lfilter

from stridelab.io.fit import quantise
from stridelab.model import RECORD_COLUMNS, RUNNING_DYNAMICS_COLUMNS, Lap

from ._route import route_xy, terrain_altitude_m, xy_to_latlon_deg
from ._truth import SEGMENT_INTENSITY, RunTruth

__all__ = ["LATENT_COLUMNS", "SEMICIRCLES_PER_DEG", "SimulatedRun", "TimerEvent", "simulate_run"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SEMICIRCLES_PER_DEG: Final[float] = 2.0**31 / 180.0
_RAMP_S: Final[float] = 8.0  # seconds to reach full speed from a standstill (and to stop)
_REST_HR_OFFSET_BPM: Final[float] = 15.0
_GPS_NOISE_PHI: Final[float] = 0.95  # GPS error wanders slowly
_NOISE_STREAMS: Final[tuple[str, ...]] = (
    "speed",
    "balance",
    "gct",
    "cadence",
    "vertical_oscillation",
    "heart_rate",
    "gps",
    "wander",
    "lap_offsets",
    "speed_gps",
)

#: per-record ground truth that is not in the FIT file (``SimulatedRun.latent``)
LATENT_COLUMNS: Final[dict[str, tuple[str, str]]] = {
    "balance_mean_left_pct": (
        "%",
        "noise-free model balance (incl. speed, drift, grade, warm-up, lap and sensor terms)",
    ),
    "balance_noise_pp": ("pp", "the noise added to the mean (AR(1) + wander + lap offsets)"),
    "true_speed_m_s": ("m/s", "the true speed (the recorded speed adds the GPS error)"),
    "grade_pct": ("%", "road grade used by the model (segment grade + terrain)"),
    "target_speed_m_s": ("m/s", "planned speed of the segment"),
    "segment_index": ("-", "0-based index into RunTruth.segments"),
    "segment_kind": ("-", "kind of that segment"),
    "walking": ("bool", "True in walking segments (walking gait model)"),
    "route_position_m": ("m", "position along the route (goes back on hill descents)"),
}


@dataclass(frozen=True, slots=True)
class TimerEvent:
    """A FIT ``event`` message of the timer: ``start`` or ``stop_all``."""

    time: pd.Timestamp
    event_type: Literal["start", "stop_all"]


@dataclass(frozen=True, slots=True)
class SimulatedRun:
    """A simulated run.

    ``records`` has the canonical columns of :data:`stridelab.model.RECORD_COLUMNS` (SI, UTC time
    index, values quantised to FIT resolution, no NaN); running-dynamics columns are absent when
    ``truth.sensor == "none"``. ``latent`` holds the per-record truth (:data:`LATENT_COLUMNS`).
    """

    truth: RunTruth
    seed: int
    records: pd.DataFrame
    latent: pd.DataFrame
    laps: tuple[Lap, ...]
    events: tuple[TimerEvent, ...]

    @property
    def start_time(self) -> pd.Timestamp:
        return pd.Timestamp(self.records.index[0])

    @property
    def end_time(self) -> pd.Timestamp:
        return pd.Timestamp(self.records.index[-1])

    @property
    def timer_s(self) -> float:
        return float(self.records["timer_s"].iloc[-1])

    @property
    def elapsed_s(self) -> float:
        return float(self.records["elapsed_s"].iloc[-1])

    @property
    def distance_m(self) -> float:
        return float(self.records["distance_m"].iloc[-1])


def _streams(seed: int) -> dict[str, np.random.Generator]:
    """One independent generator per noise component (append new names only: keeps old streams)."""
    children = np.random.SeedSequence(seed).spawn(len(_NOISE_STREAMS))
    return {name: np.random.default_rng(c) for name, c in zip(_NOISE_STREAMS, children, strict=True)}


def _ar1(rng: np.random.Generator, n: int, sd: float, phi: float) -> FloatArray:
    """Stationary AR(1): marginal sd ``sd``, lag-1 autocorrelation ``phi`` (started in equilibrium)."""
    z = rng.standard_normal(n)
    if sd == 0.0 or n == 0:
        return np.zeros(n)
    innov = sd * math.sqrt(1.0 - phi * phi) * z
    innov[0] = sd * z[0]
    return np.asarray(lfilter([1.0], [1.0, -phi], innov), dtype=np.float64)


def _lag(x: FloatArray, tau_s: float, y0: float) -> FloatArray:
    """First-order lag (time constant ``tau_s``) of a 1 Hz signal, starting at ``y0``."""
    a = 1.0 - math.exp(-1.0 / tau_s)
    y, _ = lfilter([a], [1.0, -(1.0 - a)], x, zi=[(1.0 - a) * y0])
    return np.asarray(y, dtype=np.float64)


def _q(values: FloatArray, field: str, factor: float = 1.0) -> FloatArray:
    """SI values -> quantised as the FIT record field stores them -> SI again."""
    return quantise(values * factor, "record", field) / factor


def _lap_boundaries(truth: RunTruth, timer: FloatArray, dist: FloatArray, seg_starts: FloatArray) -> IntArray:
    n = len(timer)
    if truth.laps == "distance":
        k = np.arange(1, int(dist[-1] // truth.auto_lap_m) + 1)
        b = np.searchsorted(dist, k * truth.auto_lap_m, side="left")
    else:
        starts = [seg_starts[i] for i, s in enumerate(truth.segments) if i > 0 and s.new_lap]
        b = np.searchsorted(timer, np.asarray(starts, dtype=float), side="left")
    b = np.unique(b.astype(np.int64))
    return b[(b > 0) & (b < n - 1)]


@dataclass(frozen=True, slots=True)
class _Timeline:
    """The 1 Hz record grid: timer and wall-clock seconds, the plan per record, the pauses."""

    timer: FloatArray
    elapsed: FloatArray
    seg_idx: IntArray
    seg_starts: FloatArray
    kinds: npt.NDArray[np.str_]
    target: FloatArray
    seg_grade: FloatArray
    direction: FloatArray  # +1, or -1 when going back down a hill (route position decreases)
    stops: dict[int, int]  # record index after which the timer stops -> seconds stopped

    @property
    def n(self) -> int:
        return len(self.timer)


def _timeline(truth: RunTruth) -> _Timeline:
    segs = truth.segments
    durations = np.array([s.duration_s for s in segs], dtype=float)
    seg_ends = np.cumsum(durations)
    n = round(float(seg_ends[-1])) + 1
    timer = np.arange(n, dtype=float)
    seg_idx = np.minimum(np.searchsorted(seg_ends, timer, side="right"), len(segs) - 1).astype(np.int64)
    kinds = np.array([s.kind for s in segs])[seg_idx]
    # record i is at wall-clock elapsed[i]; the timer stops after record p for d seconds
    stops: dict[int, int] = {}
    for p in truth.pauses:
        i = min(max(round(p.at_timer_s), 1), n - 2)
        stops[i] = stops.get(i, 0) + round(p.duration_s)
    gap = np.zeros(n)
    for i, d in stops.items():
        gap[i + 1] += d
    return _Timeline(
        timer=timer,
        elapsed=timer + np.cumsum(gap),
        seg_idx=seg_idx,
        seg_starts=seg_ends - durations,
        kinds=kinds,
        target=np.array([s.speed_m_s for s in segs])[seg_idx],
        seg_grade=np.array([s.grade_pct for s in segs])[seg_idx],
        direction=np.where(kinds == "hill_down", -1.0, 1.0),
        stops=stops,
    )


def _speed(truth: RunTruth, tl: _Timeline, rng: np.random.Generator) -> FloatArray:
    """Lagged plan x start/stop ramps + AR(1) noise, never below a shuffle; quantised (m/s)."""
    n, timer = tl.n, tl.timer
    env = np.ones(n)
    for p in (0.0, *sorted(tl.stops), float(n - 1)):
        if p == 0:
            dist_to = timer
        elif p == n - 1:
            dist_to = p - timer
        else:
            dist_to = np.where(timer <= p, p - timer, timer - p - 1.0)
        env = np.minimum(env, 0.3 + 0.7 * np.clip(dist_to / _RAMP_S, 0.0, 1.0))
    smooth = _lag(tl.target, truth.speed_tau_s, float(tl.target[0]))
    noise = _ar1(rng, n, truth.speed_noise_sd_m_s, truth.speed_noise_phi)
    return _q(np.maximum((smooth + noise) * env, 0.3), "enhanced_speed")


def _terrain(truth: RunTruth, route_pos: FloatArray) -> FloatArray:
    return terrain_altitude_m(
        truth.route, route_pos, amplitude_m=truth.terrain_amplitude_m, loop_length_m=truth.loop_length_m
    )


def _geography(
    truth: RunTruth, tl: _Timeline, speed: FloatArray, rng: np.random.Generator
) -> dict[str, FloatArray]:
    """Distance, route position, altitude, model grade and GPS position (quantised)."""
    inc = np.concatenate([[0.0], 0.5 * (speed[1:] + speed[:-1])])
    route_pos = np.cumsum(inc * tl.direction)
    climb = np.cumsum(inc * tl.seg_grade / 100.0)
    slope_terr = _terrain(truth, route_pos + 0.5) - _terrain(truth, route_pos - 0.5)
    x, y = route_xy(truth.route, route_pos, loop_length_m=truth.loop_length_m)
    x = x + _ar1(rng, tl.n, truth.gps_noise_sd_m, _GPS_NOISE_PHI)
    y = y + _ar1(rng, tl.n, truth.gps_noise_sd_m, _GPS_NOISE_PHI)
    lat, lon = xy_to_latlon_deg(x, y, truth.start_lat_deg, truth.start_lon_deg)
    return {
        "distance_m": _q(np.cumsum(inc), "distance"),
        "route_position_m": route_pos,
        "altitude_m": _q(truth.base_altitude_m + climb + _terrain(truth, route_pos), "enhanced_altitude"),
        "grade_pct": tl.seg_grade + 100.0 * tl.direction * slope_terr,
        "lat_deg": np.rint(lat * SEMICIRCLES_PER_DEG) / SEMICIRCLES_PER_DEG,
        "lon_deg": np.rint(lon * SEMICIRCLES_PER_DEG) / SEMICIRCLES_PER_DEG,
    }


def _balance_mean(
    truth: RunTruth, tl: _Timeline, speed: FloatArray, grade: FloatArray, lap_index: IntArray
) -> FloatArray:
    """The noise-free GCT balance model (LEFT share, %); see :class:`RunTruth`."""
    clock_h = (tl.elapsed if truth.balance_drift_clock == "elapsed" else tl.timer) / 3600.0
    n_laps = int(lap_index[-1]) + 1
    lap_off = np.array([truth.lap_balance_offsets_pp.get(k, 0.0) for k in range(n_laps)])
    seg_off = np.array([s.balance_offset_pp for s in truth.segments])
    mean: FloatArray = (
        truth.balance_left_pct_at_ref
        + truth.sensor_balance_bias_pp
        + truth.balance_run_offset_pp
        + truth.balance_speed_slope_pp_per_m_s * (speed - truth.ref_speed_m_s)
        + truth.balance_drift_pp_per_h * clock_h
        + truth.balance_grade_slope_pp_per_pct * grade
        + truth.balance_warmup_offset_pp * np.exp(-tl.timer / truth.balance_warmup_tau_s)
        + lap_off[lap_index]
        + seg_off[tl.seg_idx]
    )
    return mean


def _slow_noise(
    truth: RunTruth,
    n: int,
    lap_index: IntArray,
    rng_wander: np.random.Generator,
    rng_laps: np.random.Generator,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Slow wander (OU) + random lap offsets of balance (pp), GCT (s) and VO (m)."""
    r = math.exp(-1.0 / truth.wander_tau_s)
    n_laps = int(lap_index[-1]) + 1 if n else 0
    out = []
    for sd in (truth.balance_wander_sd_pp, truth.gct_wander_sd_s, truth.vertical_oscillation_wander_sd_m):
        wander = _ar1(rng_wander, n, sd, r)
        laps = rng_laps.standard_normal(n_laps) * truth.lap_offset_share * sd
        out.append(wander + (laps[lap_index] if n else 0.0))
    return out[0], out[1], out[2]


def _dynamics(
    truth: RunTruth,
    tl: _Timeline,
    speed: FloatArray,
    grade: FloatArray,
    rngs: dict[str, np.random.Generator],
    gct_slow: FloatArray,
    vo_slow: FloatArray,
) -> dict[str, FloatArray]:
    """GCT, cadence, VO and the derived step length / ratios: running model, walking gait in walks."""
    n, phi = tl.n, truth.dynamics_noise_phi
    walking = tl.kinds == "walk"
    dv = speed - truth.ref_speed_m_s
    hours = tl.elapsed / 3600.0
    gct = (
        np.where(
            walking,
            0.46 - 0.08 * (speed - 1.5),
            truth.gct_s_at_ref
            + truth.gct_speed_slope_s_per_m_s * dv
            + truth.gct_drift_s_per_h * hours
            + truth.gct_grade_slope_s_per_pct * grade,
        )
        + _ar1(
            rngs["gct"], n, truth.gct_noise_sd_s, phi if truth.gct_noise_phi is None else truth.gct_noise_phi
        )
        + np.where(walking, 0.0, gct_slow)
    )
    gct = _q(np.clip(gct, 0.12, 1.2), "stance_time", 1000.0)
    spm = np.where(
        walking,
        118.0 + 12.0 * (speed - 1.5),
        truth.cadence_spm_at_ref + truth.cadence_speed_slope_spm_per_m_s * dv + 0.4 * grade,
    ) + _ar1(rngs["cadence"], n, truth.cadence_noise_sd_spm, phi)
    rpm = np.rint(np.clip(spm, 60.0, 250.0) / 2.0 * 128.0) / 128.0  # FIT cadence + fractional_cadence
    step_len = _q(speed / (2.0 * rpm / 60.0), "step_length", 1000.0)
    vo = (
        np.where(
            walking,
            0.045,
            truth.vertical_oscillation_m_at_ref
            + truth.vertical_oscillation_speed_slope_m_per_m_s * dv
            + truth.vertical_oscillation_drift_m_per_h * hours,
        )
        + _ar1(rngs["vertical_oscillation"], n, truth.vertical_oscillation_noise_sd_m, phi)
        + np.where(walking, 0.0, vo_slow)
    )
    vo = _q(np.clip(vo, 0.02, 0.2), "vertical_oscillation", 1000.0)
    return {
        "cadence_rpm": rpm,
        "cadence_spm": 2.0 * rpm,
        "stance_time_s": gct,
        "stance_time_pct": _q(np.minimum(gct * rpm / 60.0 * 100.0, 99.0), "stance_time_percent"),
        "vertical_oscillation_m": vo,
        "vertical_ratio_pct": _q(np.minimum(vo / step_len * 100.0, 600.0), "vertical_ratio"),
        "step_length_m": step_len,
    }


def _heart_rate(
    truth: RunTruth, tl: _Timeline, speed: FloatArray, grade: FloatArray, rng: np.random.Generator
) -> FloatArray:
    """Heart rate, lagging its target on the wall-clock grid so that it recovers during pauses."""
    target = (
        truth.hr_bpm_at_ref
        + truth.hr_speed_slope_bpm_per_m_s * (speed - truth.ref_speed_m_s)
        + truth.hr_drift_bpm_per_h * tl.elapsed / 3600.0
        + truth.hr_grade_bpm_per_pct * grade
    )
    at = tl.elapsed.astype(np.int64)
    wall_target = np.full(int(at[-1]) + 1, truth.hr_start_bpm + _REST_HR_OFFSET_BPM)
    wall_target[at] = target
    hr = _lag(wall_target, truth.hr_tau_s, truth.hr_start_bpm)[at]
    hr = hr + _ar1(rng, tl.n, truth.hr_noise_sd_bpm, truth.dynamics_noise_phi)
    return np.rint(np.clip(hr, 40.0, min(truth.hr_max_bpm, 254.0)))


def simulate_run(truth: RunTruth, *, seed: int) -> SimulatedRun:
    """Simulate one run (1 Hz records) from ``truth``; deterministic given ``seed``."""
    rngs = _streams(seed)
    tl = _timeline(truth)
    n = tl.n
    speed = _speed(truth, tl, rngs["speed"])
    geo = _geography(truth, tl, speed, rngs["gps"])
    grade = geo["grade_pct"]
    bounds = _lap_boundaries(truth, tl.timer, geo["distance_m"], tl.seg_starts)
    lap_index = np.searchsorted(bounds, np.arange(n), side="right").astype(np.int64)
    bal_mean = _balance_mean(truth, tl, speed, grade, lap_index)
    slow = _slow_noise(truth, n, lap_index, rngs["wander"], rngs["lap_offsets"])
    bal_noise = _ar1(rngs["balance"], n, truth.balance_noise_sd_pp, truth.balance_noise_phi) + slow[0]
    dyn = _dynamics(truth, tl, speed, grade, rngs, slow[1], slow[2])
    recorded_speed = speed
    if truth.speed_gps_noise_sd_m_s > 0:
        gps_err = _ar1(rngs["speed_gps"], n, truth.speed_gps_noise_sd_m_s, truth.speed_gps_noise_phi)
        recorded_speed = _q(np.maximum(speed + gps_err, 0.3), "enhanced_speed")
    hr = _heart_rate(truth, tl, speed, grade, rngs["heart_rate"])

    index = pd.DatetimeIndex(
        pd.Timestamp(truth.start_time) + pd.to_timedelta(tl.elapsed, unit="s"), name="time"
    ).as_unit("ns")
    cols: dict[str, npt.NDArray[Any]] = {
        "elapsed_s": tl.elapsed,
        "timer_s": tl.timer,
        "paused": np.zeros(n, dtype=bool),
        "session_index": np.zeros(n, dtype=np.int64),
        "lap_index": lap_index,
        "lat_deg": geo["lat_deg"],
        "lon_deg": geo["lon_deg"],
        "distance_m": geo["distance_m"],
        "speed_m_s": recorded_speed,
        "altitude_m": geo["altitude_m"],
        "heart_rate_bpm": hr,
        "stance_time_balance_left_pct": _q(np.clip(bal_mean + bal_noise, 1.0, 99.0), "stance_time_balance"),
        **dyn,
    }
    if truth.sensor == "none":
        for c in RUNNING_DYNAMICS_COLUMNS:
            cols.pop(c)
    records = pd.DataFrame({c: cols[c] for c in RECORD_COLUMNS if c in cols}, index=index)
    latent = pd.DataFrame(
        {
            "balance_mean_left_pct": bal_mean,
            "balance_noise_pp": bal_noise,
            "true_speed_m_s": speed,
            "grade_pct": grade,
            "target_speed_m_s": tl.target,
            "segment_index": tl.seg_idx,
            "segment_kind": tl.kinds,
            "walking": tl.kinds == "walk",
            "route_position_m": geo["route_position_m"],
        },
        index=index,
    )
    laps = _laps(truth, records, bounds, tl.seg_idx)
    return SimulatedRun(
        truth=truth, seed=seed, records=records, latent=latent, laps=laps, events=_events(index, tl.stops)
    )


def _laps(truth: RunTruth, records: pd.DataFrame, bounds: IntArray, seg_idx: IntArray) -> tuple[Lap, ...]:
    n = len(records)
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [n - 1]])
    el = records["elapsed_s"].to_numpy()
    tm = records["timer_s"].to_numpy()
    di = records["distance_m"].to_numpy()
    laps: list[Lap] = []
    for k, (a, b) in enumerate(zip(starts, ends, strict=True)):
        timer_s = float(tm[b] - tm[a])
        dist_m = float(quantise(di[b] - di[a], "lap", "total_distance"))
        if truth.laps == "segments":
            intensity = SEGMENT_INTENSITY[truth.segments[int(seg_idx[a])].kind]
            trigger = "manual"
        else:
            intensity, trigger = "active", "distance"
        if k == len(starts) - 1:
            trigger = "session_end"
        laps.append(
            Lap(
                index=k,
                start_time=pd.Timestamp(records.index[a]),
                elapsed_s=float(el[b] - el[a]),
                timer_s=timer_s,
                distance_m=dist_m,
                avg_speed_m_s=float(quantise(dist_m / timer_s, "lap", "enhanced_avg_speed"))
                if timer_s > 0
                else 0.0,
                trigger=trigger,
                intensity=intensity,
                sport="running",
            )
        )
    return tuple(laps)


def _events(index: pd.DatetimeIndex, stops: dict[int, int]) -> tuple[TimerEvent, ...]:
    ev = [TimerEvent(pd.Timestamp(index[0]), "start")]
    for i in sorted(stops):
        t = pd.Timestamp(index[i])
        ev += [TimerEvent(t, "stop_all"), TimerEvent(t + pd.Timedelta(seconds=stops[i]), "start")]
    ev.append(TimerEvent(pd.Timestamp(index[-1]), "stop_all"))
    return tuple(ev)
