"""Clean running segments and context (grade, turns, speed changes) of one run's records.

Pure functions over numpy arrays. :func:`prepare_run` turns canonical records into a
:class:`RunFrame`: per-sample times, smoothed speed, grade, heading rate, the metric arrays (invalid
values -> NaN) and one boolean mask per exclusion reason. Two sample sets come out of it:

* ``running``: the runner is running (not paused, stopped or walking, not right after a record gap);
  the per-run summary (mean/median/IQR/zones) uses it.
* ``model``: ``running`` minus the warm-up, a settling period after every break, GPS spikes, speed
  changes, steep grades and sharp turns; the pace-adjusted models use it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from stridelab.analysis._config import AnalysisConfig
from stridelab.analysis._metrics import METRICS
from stridelab.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

__all__ = ["EXCLUSION_REASONS", "RunFrame", "prepare_run"]

#: exclusion reasons in priority order (the first one that applies labels a sample in charts).
EXCLUSION_REASONS: Final[tuple[str, ...]] = (
    "paused",
    "record_gap",
    "stopped",
    "walking",
    "gps_spike",
    "sensor_dropout",
    "warmup",
    "settling",
    "speed_change",
    "steep",
    "sharp_turn",
)
#: reasons that remove a sample from the running summary (the rest only from the models).
_NOT_RUNNING: Final[frozenset[str]] = frozenset({"paused", "record_gap", "stopped", "walking"})
_EARTH_RADIUS_M: Final[float] = 6_371_008.8
_WARMUP_INTENSITIES: Final[frozenset[str]] = frozenset({"warmup", "cooldown"})


@dataclass(slots=True)
class RunFrame:
    """Per-sample arrays of one run (length n), SI units."""

    time: pd.DatetimeIndex
    t_s: np.ndarray  # seconds since the first record
    dt_s: np.ndarray  # time each sample stands for (capped at the gap limit)
    run_time_s: np.ndarray  # cumulative running (moving) time
    speed_m_s: np.ndarray  # smoothed speed, NaN when unknown
    speed_raw_m_s: np.ndarray
    grade: np.ndarray  # rise / run (0.05 = 5 %), NaN when unknown
    turn_rate_rad_s: np.ndarray  # + right (clockwise), - left; NaN when unknown
    lat_acc_m_s2: np.ndarray  # speed x turn rate, + to the right
    values: dict[str, np.ndarray]  # metric key -> SI values, NaN when missing/invalid
    masks: dict[str, np.ndarray]  # exclusion reason -> bool
    lap_index: np.ndarray
    has_speed: bool
    has_gps: bool
    has_altitude: bool
    messages: list[tuple[str, str]] = field(default_factory=list)
    clock_h: np.ndarray | None = None  # the drift clock (hours), set by analyze_run
    #: gaps in the records (s, longer than the gap limit) with no pause event (timer stop) to explain them
    record_gaps_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: gaps explained by a pause (timer stopped, or paused records around them)
    pause_gaps_s: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def n(self) -> int:
        return int(self.t_s.size)

    @property
    def running(self) -> np.ndarray:
        out = np.ones(self.n, dtype=bool)
        for reason in _NOT_RUNNING:
            out &= ~self.masks[reason]
        return out

    @property
    def model(self) -> np.ndarray:
        out = np.ones(self.n, dtype=bool)
        for reason in EXCLUSION_REASONS:
            out &= ~self.masks[reason]
        return out

    def reason_labels(self) -> np.ndarray:
        """The first exclusion reason of each sample ("" when used by the models)."""
        out = np.full(self.n, "", dtype=object)
        for reason in reversed(EXCLUSION_REASONS):
            out[self.masks[reason]] = reason
        return out

    def seconds(self, mask: np.ndarray) -> float:
        return float(self.dt_s[mask].sum())


def _col(records: pd.DataFrame, name: str) -> np.ndarray:
    if name not in records.columns:
        return np.full(len(records), np.nan)
    return pd.to_numeric(records[name], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _rolling(values: np.ndarray, t_s: np.ndarray, window_s: float, how: str = "mean") -> np.ndarray:
    """Centred time-based rolling mean/median ignoring NaN (NaN where the window holds none)."""
    if values.size == 0:
        return values.copy()
    idx = pd.to_timedelta(t_s - t_s[0], unit="s")
    s = pd.Series(values, index=idx)
    r = s.rolling(pd.Timedelta(seconds=window_s), center=True, min_periods=1)
    out = r.median() if how == "median" else r.mean()
    return out.to_numpy(dtype="float64", na_value=np.nan)


def _dilate(mask: np.ndarray, t_s: np.ndarray, before_s: float, after_s: float) -> np.ndarray:
    """Extend True samples by ``before_s`` earlier and ``after_s`` later (time based)."""
    if not mask.any() or (before_s <= 0 and after_s <= 0):
        return mask.copy()
    hits = t_s[mask]
    # for every sample: nearest hit at or after it, and at or before it
    pos = np.searchsorted(hits, t_s, side="left")
    next_hit = np.where(pos < hits.size, hits[np.minimum(pos, hits.size - 1)], np.inf)
    pos_r = np.searchsorted(hits, t_s, side="right") - 1
    prev_hit = np.where(pos_r >= 0, hits[np.maximum(pos_r, 0)], -np.inf)
    return np.asarray(mask | ((next_hit - t_s) <= before_s) | ((t_s - prev_hit) <= after_s))


def _time_since(breaks: np.ndarray, t_s: np.ndarray) -> np.ndarray:
    """Seconds since the last sample where ``breaks`` is True (inf before the first)."""
    idx = np.where(breaks, np.arange(t_s.size), -1)
    last = np.maximum.accumulate(idx) if idx.size else idx
    out = np.full(t_s.size, np.inf)
    ok = last >= 0
    out[ok] = t_s[ok] - t_s[last[ok]]
    return out


def _central_diff(values: np.ndarray, t_s: np.ndarray, half_window_s: float) -> np.ndarray:
    """d values / dt by a centred difference over +-half_window_s (time based)."""
    n = values.size
    if n < 3:
        return np.full(n, np.nan)
    lo = np.searchsorted(t_s, t_s - half_window_s, side="left")
    hi = np.minimum(np.searchsorted(t_s, t_s + half_window_s, side="right") - 1, n - 1)
    dt = t_s[hi] - t_s[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (values[hi] - values[lo]) / dt
    out[dt <= 0] = np.nan
    return np.asarray(out)


def _grade(altitude: np.ndarray, distance: np.ndarray, t_s: np.ndarray, window_s: float) -> np.ndarray:
    n = altitude.size
    if n < 3 or np.isfinite(altitude).sum() < 3 or np.isfinite(distance).sum() < 3:
        return np.full(n, np.nan)
    alt = _rolling(altitude, t_s, window_s / 2.0, "mean")
    half = window_s / 2.0
    lo = np.searchsorted(t_s, t_s - half, side="left")
    hi = np.minimum(np.searchsorted(t_s, t_s + half, side="right") - 1, n - 1)
    run = distance[hi] - distance[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        grade = (alt[hi] - alt[lo]) / run
    grade[~(run >= 10.0)] = np.nan
    grade[np.abs(grade) > 0.5] = np.nan  # altitude glitches
    return np.asarray(grade)


def _turn_rate(
    lat: np.ndarray, lon: np.ndarray, t_s: np.ndarray, speed: np.ndarray, window_s: float
) -> np.ndarray:
    """Heading rate (rad/s, + clockwise = right turn) from GPS positions, smoothed over window_s."""
    n = lat.size
    ok = np.isfinite(lat) & np.isfinite(lon)
    if ok.sum() < 5:
        return np.full(n, np.nan)
    lat0 = float(np.nanmedian(lat))
    lon0 = float(np.nanmedian(lon))
    x = np.radians(lon - lon0) * _EARTH_RADIUS_M * math.cos(math.radians(lat0))  # east
    y = np.radians(lat - lat0) * _EARTH_RADIUS_M  # north
    xs = _rolling(x, t_s, window_s / 2.0)
    ys = _rolling(y, t_s, window_s / 2.0)
    vx = _central_diff(xs, t_s, window_s / 4.0)
    vy = _central_diff(ys, t_s, window_s / 4.0)
    heading = np.arctan2(vx, vy)  # compass: 0 north, + clockwise
    good = np.isfinite(heading)
    if good.sum() < 5:
        return np.full(n, np.nan)
    unwrapped = np.full(n, np.nan)
    unwrapped[good] = np.unwrap(heading[good])
    rate = np.full(n, np.nan)
    rate[good] = _central_diff(unwrapped[good], t_s[good], window_s / 2.0)
    rate[~(speed >= 1.5)] = np.nan  # heading is noise when slow
    return rate


def _lap_intensity(records: pd.DataFrame, laps: pd.DataFrame | None) -> np.ndarray:
    n = len(records)
    out = np.full(n, "", dtype=object)
    if (
        laps is None
        or len(laps) == 0
        or "intensity" not in laps.columns
        or "lap_index" not in records.columns
    ):
        return out
    key = "lap_index" if "lap_index" in laps.columns else None
    mapping = (
        dict(zip(laps[key], laps["intensity"], strict=False))
        if key
        else dict(enumerate(laps["intensity"].tolist()))
    )
    lap_idx = pd.to_numeric(records["lap_index"], errors="coerce").fillna(-1).astype(int).to_numpy()
    for i, intensity in mapping.items():
        if isinstance(intensity, str):
            out[lap_idx == int(i)] = intensity.lower()
    return out


def prepare_run(
    records: pd.DataFrame, laps: pd.DataFrame | None = None, config: AnalysisConfig | None = None
) -> RunFrame:
    """Build the :class:`RunFrame` of canonical ``records`` (and ``laps``, for warm-up/cool-down laps)."""
    cfg = config or AnalysisConfig()
    n = len(records)
    messages: list[tuple[str, str]] = []
    if isinstance(records.index, pd.DatetimeIndex):
        time = records.index
    elif "time" in records.columns:
        time = pd.DatetimeIndex(pd.to_datetime(records["time"], utc=True))
    else:
        time = pd.DatetimeIndex([], tz="UTC")
    if "elapsed_s" in records.columns:
        t_s = _col(records, "elapsed_s")
    elif len(time) == n and n:
        t_s = (time.asi8 - time.asi8[0]) / 1e9
    else:
        t_s = np.arange(n, dtype="float64")
    if n and not np.all(np.isfinite(t_s)):
        t_s = pd.Series(t_s).interpolate(limit_direction="both").to_numpy(dtype="float64")
    if n > 1 and np.any(np.diff(t_s) < 0):
        order = np.argsort(t_s, kind="stable")
        records = records.iloc[order]
        t_s = t_s[order]
        time = time[order] if len(time) == n else time
        messages.append(("unsorted_records", "records were not in time order; sorted them"))

    step = np.diff(t_s)
    median_dt = float(np.median(step[step > 0])) if np.any(step > 0) else 1.0
    # smart recording writes a record every 1-10 s: a gap is long relative to the usual interval
    gap_limit = max(cfg.gap_s, 3.0 * median_dt)
    gap_after = np.append(step > gap_limit, False)
    dt_s = np.append(np.clip(step, 0.0, None), median_dt) if n else np.array([])
    dt_s = np.where(gap_after, median_dt, dt_s)

    paused = (
        records["paused"].fillna(False).to_numpy(dtype=bool)
        if "paused" in records.columns
        else np.zeros(n, dtype=bool)
    )
    gap_before = np.insert(step > gap_limit, 0, False) if n else np.zeros(0, dtype=bool)
    record_gaps_s, pause_gaps_s = _classify_gaps(t_s, _col(records, "timer_s"), paused, gap_before, gap_limit)
    if record_gaps_s.size:
        n_gaps = record_gaps_s.size
        messages.append(
            (
                "record_gap",
                f"{n_gaps} gap{'s' if n_gaps > 1 else ''} in the records with no pause event (longest "
                f"{record_gaps_s.max():.0f} s, {record_gaps_s.sum():.0f} s in all): the records stop but "
                "no timer stop was recorded; that time is not counted as running",
            )
        )

    # ---- speed: raw, spikes, smoothed
    speed_raw = _col(records, "speed_m_s")
    distance = _col(records, "distance_m")
    has_speed = bool(np.sum(np.isfinite(speed_raw) & (speed_raw > 0)) >= 3)
    if not has_speed and np.isfinite(distance).sum() >= 3 and np.nanmax(distance) > 0:
        speed_raw = _central_diff(pd.Series(distance).interpolate(limit_area="inside").to_numpy(), t_s, 1.0)
        has_speed = bool(np.sum(np.isfinite(speed_raw) & (speed_raw > 0)) >= 3)
        if has_speed:
            messages.append(("speed_from_distance", "no speed field; speed derived from distance"))
    lat = _col(records, "lat_deg")
    lon = _col(records, "lon_deg")
    has_gps = bool(np.sum(np.isfinite(lat) & np.isfinite(lon) & ((lat != 0) | (lon != 0))) >= 10)
    spike = np.zeros(n, dtype=bool)
    if has_speed:
        spike |= speed_raw > cfg.max_speed_m_s
        acc = np.abs(np.diff(speed_raw)) / np.maximum(np.diff(t_s), 1e-3) if n > 1 else np.zeros(0)
        jump = np.nan_to_num(acc, nan=0.0) > cfg.max_accel_m_s2
        spike |= np.append(jump, False) | np.insert(jump, 0, False)
        med = _rolling(np.where(spike, np.nan, speed_raw), t_s, 10.0, "median")
        spike |= np.abs(speed_raw - med) > 2.0
    if has_gps:
        lat_r, lon_r = np.radians(lat), np.radians(lon)
        d = np.hypot(
            np.diff(lon_r) * np.cos(np.nanmedian(lat_r)) * _EARTH_RADIUS_M, np.diff(lat_r) * _EARTH_RADIUS_M
        )
        v_pos = d / np.maximum(np.diff(t_s), 1e-3)
        jump = np.nan_to_num(v_pos, nan=0.0) > 2.0 * cfg.max_speed_m_s
        spike |= np.append(jump, False) | np.insert(jump, 0, False)
    spike = _dilate(spike, t_s, cfg.spike_dilate_s, cfg.spike_dilate_s)
    speed_clean = np.where(spike, np.nan, speed_raw)
    speed = _rolling(speed_clean, t_s, cfg.speed_smooth_s) if has_speed else np.full(n, np.nan)
    if has_speed:
        # the window average is only trusted where the raw sample itself is usable
        speed = np.where(np.isfinite(speed_clean) | spike, speed, np.nan)

    # ---- metrics (invalid -> NaN)
    values: dict[str, np.ndarray] = {}
    cadence = _col(records, "cadence_spm")
    if "cadence_spm" not in records.columns and "cadence_rpm" in records.columns:
        cadence = 2.0 * _col(records, "cadence_rpm")
    for key, spec in METRICS.items():
        if key == "flight_time":
            continue
        raw = cadence if key == "cadence" else _col(records, spec.column)
        lo, hi = spec.plausible_si
        if key == "speed":
            raw = speed_clean
        ok = np.isfinite(raw) & (raw >= lo) & (raw <= hi) & (raw != 0)
        if np.any(ok):
            values[key] = np.where(ok, raw, np.nan)
    for key, suffix in (("gct", "_ground_time_s"), ("vo", "_vertical_oscillation_m")):
        if key in values:
            continue
        source = next((c for c in records.columns if c.startswith("dev_") and c.endswith(suffix)), None)
        if source is None:
            continue
        raw = _col(records, source)
        lo, hi = METRICS[key].plausible_si
        ok = np.isfinite(raw) & (raw >= lo) & (raw <= hi)
        if ok.any():
            values[key] = np.where(ok, raw, np.nan)
            messages.append(
                (f"{key}_from_developer_field", f"{METRICS[key].label} taken from developer field {source}")
            )
    if "cadence" in values and "gct" in values:
        flight = 60.0 / values["cadence"] - values["gct"]
        values["flight_time"] = np.where(np.isfinite(flight) & (flight >= 0.0), flight, np.nan)
    for col in records.columns:
        if col.startswith("dev_") and pd.api.types.is_numeric_dtype(records[col]):
            v = _col(records, col)
            ok = np.isfinite(v) & (v != 0)
            if ok.sum() > 0:
                values[col] = np.where(ok, v, np.nan)

    # ---- stopped / walking
    cad_med = _rolling(cadence, t_s, 5.0, "median")
    gct_med = _rolling(_col(records, "stance_time_s"), t_s, 5.0, "median")
    stopped = np.zeros(n, dtype=bool)
    walking = np.zeros(n, dtype=bool)
    if has_speed:
        # where the speed is unknown (GPS lost for a while) the cadence rule below decides
        stopped |= np.isfinite(speed) & (speed < cfg.stop_speed_m_s) & ~spike
        walking |= speed < cfg.walk_speed_m_s
    has_cadence = bool(np.isfinite(cadence).sum() >= 3)
    if has_cadence:
        stopped |= cad_med < cfg.stop_cadence_spm
        if not has_speed:
            stopped |= ~np.isfinite(cad_med)
        walking |= cad_med < cfg.walk_cadence_spm
    walking |= gct_med > cfg.walk_stance_time_s
    walking &= ~stopped
    if not has_speed and not has_cadence and n:
        # nothing tells moving from standing: only samples with running dynamics count as running
        dyn = np.zeros(n, dtype=bool)
        for key in ("balance", "gct", "vo"):
            if key in values:
                dyn |= np.isfinite(values[key])
        stopped |= ~dyn

    running = ~(paused | stopped | walking | gap_before)
    run_time_s = np.cumsum(np.where(running, dt_s, 0.0)) - np.where(running, dt_s, 0.0)

    # ---- warm-up, settling
    intensity = _lap_intensity(records, laps)
    warmup = (running & (run_time_s < cfg.warmup_s)) | np.isin(intensity, list(_WARMUP_INTENSITIES))
    breaks = ~running
    since_break = _time_since(breaks, t_s)
    settling = running & (since_break <= cfg.settle_s) & np.isfinite(since_break)
    if n and running[0]:
        settling |= running & (t_s - t_s[0] < cfg.settle_s)

    # ---- grade
    altitude = _col(records, "altitude_m")
    has_altitude = bool(np.isfinite(altitude).sum() >= 10 and np.nanmax(altitude) != np.nanmin(altitude))
    dist_for_grade = distance
    if not (np.isfinite(distance).sum() >= 10) and has_speed:
        dist_for_grade = np.cumsum(np.nan_to_num(speed, nan=0.0) * dt_s)
    grade = _grade(altitude, dist_for_grade, t_s, cfg.grade_window_s) if has_altitude else np.full(n, np.nan)

    # ---- turns
    turn_rate = (
        _turn_rate(lat, lon, t_s, speed if has_speed else np.full(n, 2.0), cfg.heading_window_s)
        if has_gps
        else np.full(n, np.nan)
    )
    lat_acc = turn_rate * speed

    # ---- speed changes (the device's step average lags behind a change of pace)
    speed_change = np.zeros(n, dtype=bool)
    if has_speed:
        accel = _central_diff(speed, t_s, 5.0)
        speed_change = np.nan_to_num(np.abs(accel), nan=0.0) > cfg.speed_change_m_s2
        speed_change = _dilate(speed_change, t_s, cfg.speed_change_pad_s, cfg.speed_change_pad_s)

    steep = np.nan_to_num(np.abs(grade), nan=0.0) > cfg.steep_grade
    sharp = np.nan_to_num(np.abs(np.degrees(turn_rate)), nan=0.0) > cfg.sharp_turn_deg_s
    sharp = _dilate(sharp, t_s, 3.0, 3.0)

    dropout = np.zeros(n, dtype=bool)
    primary = next((k for k in ("balance", "gct", "vo", "vr") if k in values), None)
    if primary is not None:
        dropout = ~np.isfinite(values[primary])
    masks = {
        "paused": paused,
        "record_gap": gap_before & ~paused,
        "stopped": stopped & ~paused,
        "walking": walking & ~paused,
        "gps_spike": spike,
        "sensor_dropout": dropout & running,
        "warmup": warmup,
        "settling": settling,
        "speed_change": speed_change,
        "steep": steep,
        "sharp_turn": sharp,
    }
    lap_index = (
        pd.to_numeric(records["lap_index"], errors="coerce").fillna(0).astype(int).to_numpy()
        if "lap_index" in records.columns
        else np.zeros(n, dtype=int)
    )
    return RunFrame(
        time=time,
        t_s=t_s,
        dt_s=dt_s,
        run_time_s=run_time_s,
        speed_m_s=speed,
        speed_raw_m_s=speed_raw,
        grade=grade,
        turn_rate_rad_s=turn_rate,
        lat_acc_m_s2=lat_acc,
        values=values,
        masks=masks,
        lap_index=lap_index,
        has_speed=has_speed,
        has_gps=has_gps,
        has_altitude=has_altitude,
        messages=messages,
        record_gaps_s=record_gaps_s,
        pause_gaps_s=pause_gaps_s,
    )


def _classify_gaps(
    t_s: np.ndarray, timer_s: np.ndarray, paused: np.ndarray, gap_before: np.ndarray, gap_limit: float
) -> tuple[np.ndarray, np.ndarray]:
    """Lengths (s) of the record gaps with no pause event, and of those a pause explains.

    A gap is explained by a pause when paused records border it, or when the timer (``timer_s``,
    paused periods excluded) advanced across it by at least ``gap_limit`` less than the clock: the
    timer was stopped. Without a timer column (GPX, TCX) no gap has a pause event."""
    idx = np.flatnonzero(gap_before)
    if idx.size == 0:
        return np.zeros(0), np.zeros(0)
    length = t_s[idx] - t_s[idx - 1]
    timer_step = timer_s[idx] - timer_s[idx - 1]
    stopped = np.where(np.isfinite(timer_step), length - timer_step, 0.0)
    explained = (stopped >= length - gap_limit) | paused[idx] | paused[idx - 1]
    return np.asarray(length[~explained], dtype=float), np.asarray(length[explained], dtype=float)
