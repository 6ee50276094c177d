"""Pipeline: events → strides/steps → phases → kinematic metrics for a whole :class:`ImuRecording`."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from stridelab.frames import EVENT_PLACEMENTS, SIDES, EventPlacement, Side, check_option
from stridelab.gait._checks import ImuDataError
from stridelab.gait.balance import SingleLegStance
from stridelab.gait.events import DETECTORS, BaseEventDetector, SacrumEventDetection, events_frame
from stridelab.gait.metrics import (
    LEAN_BAND_RAD,
    foot_phases,
    foot_strike,
    gait_phases,
    pelvic_obliquity,
    shank_phases,
    step_table,
    stride_table,
    temporal_summary,
    trunk_lean,
    vertical_oscillation,
)
from stridelab.gait.orientation import Orientation, estimate_orientations
from stridelab.gait.trajectory import (
    SPATIAL_STRIDE_COLUMNS,
    FootTrack,
    ZuptRtsKalman,
    foot_track,
    spatial_summary,
    step_widths,
    stride_spatial,
)
from stridelab.io.imu import ImuRecording, ImuSensor

__all__ = ["GaitAnalysis", "analyze_recording", "detect_events", "sensor_orientations"]

_ACC = ["acc_x", "acc_y", "acc_z"]
_GYR = ["gyr_x", "gyr_y", "gyr_z"]


def detect_events(
    data: pd.DataFrame, *, sampling_rate_hz: float, placement: EventPlacement, side: Side | None = None
) -> pd.DataFrame:
    """IC/TO events of a raw IMU recording, one row per event, sorted by time.

    ``data`` has ``acc_x, acc_y, acc_z`` in m/s² (sensor frame, any mounting orientation, gravity
    included) and optionally ``gyr_x, gyr_y, gyr_z`` in rad/s. ``placement`` is "foot", "shank" or
    "sacrum"; ``side`` ("left"/"right") is required for foot and shank and must be None for the sacrum
    (both sides are assigned). Returns columns ``time_s`` (s from the first sample), ``side``, ``event``
    ("IC"/"TO"). Bad input raises :class:`stridelab.gait.ImuDataError` / ``ValueError`` with the reason.
    """
    check_option("placement", placement, EVENT_PLACEMENTS)
    if side is not None:
        check_option("side", side, SIDES)
    detector = DETECTORS[placement]()
    return detector.detect(data, sampling_rate_hz=sampling_rate_hz, side=side).events_


@dataclass(slots=True)
class GaitAnalysis:
    """Everything computed for one recording. Tables in SI units (s, m, rad)."""

    activity: str
    gait_mode: str | None
    events: pd.DataFrame
    strides: pd.DataFrame
    steps: pd.DataFrame
    phases: pd.DataFrame
    summary: dict[str, object]
    problems: tuple[str, ...] = field(default=())
    balance: dict[str, object] | None = None


def sensor_orientations(recording: ImuRecording) -> dict[str, Orientation]:
    """The Madgwick orientation of every sensor with a gyroscope, by sensor name (one filter pass each).

    :func:`analyze_recording` computes exactly these (only for the sensors it needs) and accepts them
    precomputed through ``orientations=``, so a caller that needs them too runs the filter once.
    """
    sensors = [s for s in recording.sensors if s.has_gyr]
    return dict(zip((s.name for s in sensors), _estimate(sensors), strict=True))


def _estimate(sensors: list[ImuSensor]) -> list[Orientation]:
    """The sensors' orientations, filtered side by side (:func:`estimate_orientations`)."""
    return estimate_orientations(
        [(s.data[_ACC].to_numpy(float), s.data[_GYR].to_numpy(float), s.sampling_rate_hz) for s in sensors]
    )


class _Orientations:
    """Orientation per sensor name, shared by every stage (given ones are used as is).

    :meth:`prefetch` estimates the ones the analysis will need in one side-by-side pass; any other is
    estimated on first use.
    """

    def __init__(self, given: Mapping[str, Orientation] | None) -> None:
        self._by_name: dict[str, Orientation] = dict(given or {})

    def prefetch(self, sensors: list[ImuSensor]) -> None:
        todo = [s for s in sensors if s.has_gyr and s.name not in self._by_name]
        try:
            self._by_name.update(zip((s.name for s in todo), _estimate(todo), strict=True))
        except ValueError:  # bad data: left to the stages, whose checks report it in their own words
            return

    def __call__(self, s: ImuSensor) -> Orientation:
        if s.name not in self._by_name:
            self._by_name[s.name] = _estimate([s])[0]
        return self._by_name[s.name]


def _events_source(rec: ImuRecording) -> tuple[EventPlacement, list[ImuSensor]]:
    for placement in ("foot", "shank"):
        sensors = [s for s in rec.sensors if s.placement == placement]
        if sensors:
            return placement, sensors
    sac = [s for s in rec.sensors if s.placement == "sacrum"]
    if sac:
        return "sacrum", sac[:1]
    raise ImuDataError(
        "no sensor that detects gait events: add a foot, shank or sacrum/lower-back sensor "
        f"(the recording has {[s.placement for s in rec.sensors]})"
    )


def _analyze_balance(rec: ImuRecording) -> GaitAnalysis:
    waist = [s for s in rec.sensors if s.placement in ("sacrum", "chest")]
    if not waist:
        raise ImuDataError("the one-leg balance test needs a waist/sacrum (or phone) sensor")
    s = waist[0]
    if s.side is None:
        raise ValueError("balance test: give the standing leg as the sensor's 'side' (left/right)")
    res = SingleLegStance().estimate(s.data, sampling_rate_hz=s.sampling_rate_hz, side=s.side)
    empty = events_frame([], [], [], [])
    summary: dict[str, object] = dict(res.summary())
    return GaitAnalysis(
        activity="balance",
        gait_mode=None,
        events=empty,
        strides=stride_table(empty),
        steps=step_table(empty),
        phases=gait_phases(stride_table(empty)),
        summary=summary,
        problems=tuple(s.problems),
        balance=summary,
    )


def _value_at_start(
    starts: npt.NDArray[np.float64], values: npt.NDArray[np.float64], t: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """``values[k]`` of the start (sorted) within 1 µs of each time in ``t``, NaN where there is none."""
    out = np.full(len(t), math.nan)
    if len(starts) == 0 or len(t) == 0:
        return out
    hi = np.clip(np.searchsorted(starts, t), 0, len(starts) - 1)
    lo = np.clip(hi - 1, 0, len(starts) - 1)
    k = np.where(np.abs(starts[lo] - t) <= np.abs(starts[hi] - t), lo, hi)
    ok = np.abs(starts[k] - t) < 1e-6
    out[ok] = values[k[ok]]
    return out


def _foot_trajectories(
    detectors: Mapping[str, tuple[ImuSensor, BaseEventDetector]],
    strides: pd.DataFrame,
    steps: pd.DataFrame,
    summary: dict[str, object],
) -> tuple[list[str], pd.DataFrame | None]:
    """Foot trajectories (ZUPT-aided RTS Kalman) → spatial columns on ``strides`` / ``steps`` and their
    summary (in place); returns the problems (a foot that is never still gets none, with the reason)
    and the per-stride table with ``side`` (its ``feet_adjacent_s`` is a phase boundary)."""
    problems: list[str] = []
    tracks: dict[str, FootTrack] = {}
    parts = []
    for s, det in detectors.values():
        if not s.has_gyr or s.side is None:
            continue
        try:
            kf = ZuptRtsKalman().estimate(s.data, sampling_rate_hz=s.sampling_rate_hz)
        except ImuDataError as exc:
            problems.append(f"{s.name}: no foot trajectory (stride length, clearance, eversion): {exc}")
            continue
        axes = det.body_frame_.rotation  # rows: forward, left, up in sensor coordinates
        tr = foot_track(
            s.side, kf.position_, kf.orientation_, kf.zupt_, s.sampling_rate_hz, det.ic_s_, det.to_s_, axes[0]
        )
        tracks[s.side] = tr
        sp = stride_spatial(tr.prints, kf.position_, kf.orientation_, s.sampling_rate_hz, s.side, axes[1])
        parts.append(sp.assign(side=s.side))
        if not sp["stride_length_m"].notna().any() and len(sp):
            problems.append(
                f"{s.name}: the foot is never still during stance (running?): no stride length, clearance "
                "or eversion from its trajectory"
            )
    for col in SPATIAL_STRIDE_COLUMNS:
        strides[col] = np.nan
    for sp in parts:
        rows = strides["side"] == sp["side"].iloc[0] if len(sp) else None
        if rows is None or not rows.any():
            continue
        t = strides.loc[rows, "ic_s"].to_numpy(float)
        for col in SPATIAL_STRIDE_COLUMNS:
            strides.loc[rows, col] = _value_at_start(sp["ic_s"].to_numpy(float), sp[col].to_numpy(float), t)
    widths = None
    if {"left", "right"} <= set(tracks):
        widths = step_widths(tracks["left"], tracks["right"])
        steps["step_width_m"] = np.nan
        steps["crossover"] = False
        steps["step_width_dev_m"] = np.nan
        for side in ("left", "right"):
            w = widths[widths["side"] == side]
            rows = steps["side"] == side
            v = _value_at_start(
                w["ic_s"].to_numpy(float),
                w["step_width_m"].to_numpy(float),
                steps.loc[rows, "ic_s"].to_numpy(float),
            )
            steps.loc[rows, "step_width_m"] = v
            steps.loc[rows, "crossover"] = np.isfinite(v) & (v < 0)
            steps.loc[rows, "step_width_dev_m"] = _value_at_start(
                w["ic_s"].to_numpy(float),
                w["step_width_dev_m"].to_numpy(float),
                steps.loc[rows, "ic_s"].to_numpy(float),
            )
        if len(widths) and not widths["step_width_m"].notna().any():
            problems.append(
                "step width not computed: no straight walking next to a moment where both feet stand still "
                "(the distance between two foot sensors is anchored there)"
            )
    if parts:
        summary.update(spatial_summary(strides, steps if widths is not None else None))
    return problems, (pd.concat(parts, ignore_index=True) if parts else None)


def analyze_recording(
    recording: ImuRecording,
    *,
    activity: str | None = None,
    orientations: Mapping[str, Orientation] | None = None,
) -> GaitAnalysis:
    """Analyse a recording: events per foot, strides, steps, phases, strike, bounce, pelvis and lean.

    ``activity`` (default: the recording's) "balance" runs the one-leg balance test instead of gait.
    The orientation of each sensor (Madgwick) is computed once and shared by the detectors and metrics;
    ``orientations`` (sensor name → :class:`~stridelab.gait.orientation.Orientation`, e.g. from
    :func:`sensor_orientations`) supplies them precomputed.
    """
    act = activity or recording.activity
    if act is not None:
        check_option("activity", act, ("running", "walking", "balance"))
    if act == "balance":
        return _analyze_balance(recording)
    problems: list[str] = list(recording.problems)
    orientation_of = _Orientations(orientations)
    placement, sensors = _events_source(recording)
    # the sensors whose orientation a stage uses: the feet (foot strike), the first sacrum (detection,
    # bounce, pelvis) and the first chest (trunk lean) -- filtered together, once
    orientation_of.prefetch(
        (sensors if placement == "foot" else []) + recording.find("sacrum")[:1] + recording.find("chest")[:1]
    )
    all_events = []
    modes: list[str] = []
    detectors: dict[str, tuple[ImuSensor, BaseEventDetector]] = {}
    for s in sensors:
        problems += [f"{s.name}: {p}" for p in s.problems]
        if placement != "sacrum" and s.side is None:
            raise ValueError(f"sensor {s.name!r} at the {placement} needs a side (left/right)")
        if placement == "sacrum":
            det: BaseEventDetector = SacrumEventDetection().detect(
                s.data,
                sampling_rate_hz=s.sampling_rate_hz,
                orientation=orientation_of(s) if s.has_gyr else None,
            )
        else:
            det = DETECTORS[placement]().detect(s.data, sampling_rate_hz=s.sampling_rate_hz, side=s.side)
        problems += [f"{s.name}: {p}" for p in det.problems_]
        all_events.append(det.events_)
        modes.append(det.gait_mode_)
        detectors[s.name] = (s, det)
    events = pd.concat(all_events).sort_values(["time_s", "event"], kind="stable").reset_index(drop=True)
    gait_mode = Counter(modes).most_common(1)[0][0]
    if act is not None and act != gait_mode:
        problems.append(f"declared activity is {act!r} but the signals show {gait_mode!r}")
    if placement == "sacrum" and gait_mode == "walking":
        problems.append(
            "walking contact, swing and double-support times (and the GCT balance) from a lower-back sensor "
            "rest on its final-contact (TO) estimate, which is off by 50-70 ms on average against the "
            "mobgap references (bench/validate_imu.py): treat them as indicative; IC-based step times "
            "and cadence are validated (IC MAE ≤ 30 ms)"
        )
    strides = stride_table(events)
    steps = step_table(events, strides)
    summary: dict[str, object] = {"gait_mode": gait_mode, "events_from": placement}
    summary.update(temporal_summary(strides, steps))
    detected = None
    if placement in ("foot", "shank"):  # boundaries a foot / shank gyroscope shows
        parts = []
        for s, det in detectors.values():
            if s.has_gyr and s.side is not None:
                seg_gyr = s.data[_GYR].to_numpy(float)
                if placement == "foot":
                    ph = foot_phases(seg_gyr, s.sampling_rate_hz, det.ic_s_, det.to_s_)
                else:
                    ph = shank_phases(seg_gyr, s.sampling_rate_hz, det.ic_s_, det.to_s_, det.body_frame_)
                parts.append(ph.assign(side=s.side))
        detected = pd.concat(parts, ignore_index=True) if parts else None
    if placement == "foot":
        traj_problems, spatial = _foot_trajectories(detectors, strides, steps, summary)
        problems += traj_problems
        if detected is not None and spatial is not None:
            detected = detected.merge(
                spatial[["side", "ic_s", "feet_adjacent_s"]], on=["side", "ic_s"], how="left"
            )
    phases = gait_phases(strides, detected)
    # foot strike (foot sensors with gyroscope)
    if placement == "foot":
        strides["foot_strike_angle_rad"] = np.nan
        strides["foot_strike_pattern"] = pd.Series(["unknown"] * len(strides), dtype=object)
        for s, det in detectors.values():
            rows = strides["side"] == s.side
            if not rows.any() or not s.has_gyr:
                continue
            d = s.data
            fs = foot_strike(
                d[_ACC].to_numpy(float),
                d[_GYR].to_numpy(float),
                s.sampling_rate_hz,
                det.body_frame_,
                strides[rows],
                orientation=orientation_of(s),
            )
            strides.loc[rows, "foot_strike_angle_rad"] = fs["foot_strike_angle_rad"].to_numpy()
            strides.loc[rows, "foot_strike_pattern"] = fs["foot_strike_pattern"].to_numpy()
            pats = fs["foot_strike_pattern"][fs["foot_strike_pattern"] != "unknown"]
            summary[f"foot_strike_pattern_{s.side}"] = pats.mode().iloc[0] if len(pats) else "unknown"
            summary[f"foot_strike_angle_rad_{s.side}"] = float(np.nanmedian(fs["foot_strike_angle_rad"]))
    # sacrum: vertical oscillation per step, pelvic obliquity per stride
    sac = recording.find("sacrum")
    if sac:
        s = sac[0]
        acc = s.data[_ACC].to_numpy(float)
        gyr = s.data[_GYR].to_numpy(float) if s.has_gyr else None
        sac_orientation = orientation_of(s) if s.has_gyr else None
        ic_all = np.sort(events.loc[events["event"] == "IC", "time_s"].to_numpy(float))
        if placement != "sacrum" and set(events["side"]) != {"left", "right"}:
            # one-sided events: a step is half a stride
            ic_all = np.sort(np.r_[ic_all, ic_all[:-1] + np.diff(ic_all) / 2])
        vo = vertical_oscillation(acc, gyr, s.sampling_rate_hz, ic_all, orientation=sac_orientation)
        steps["vertical_oscillation_m"] = _value_at_start(ic_all[:-1], vo, steps["ic_s"].to_numpy(float))
        summary["vertical_oscillation_m"] = float(np.nanmedian(vo)) if np.isfinite(vo).any() else math.nan
        if gyr is not None and len(strides):
            frame = (
                detectors[s.name][1].body_frame_
                if s.name in detectors
                else SacrumEventDetection()
                .detect(s.data, sampling_rate_hz=s.sampling_rate_hz, orientation=sac_orientation)
                .body_frame_
            )
            po = pelvic_obliquity(acc, gyr, s.sampling_rate_hz, frame, strides, orientation=sac_orientation)
            strides["pelvic_obliquity_range_rad"] = po["pelvic_obliquity_range_rad"].to_numpy()
            strides["pelvic_drop_rad"] = po["pelvic_drop_rad"].to_numpy()
            for side in SIDES:
                v = strides.loc[strides["side"] == side, "pelvic_drop_rad"]
                summary[f"pelvic_drop_rad_{side}"] = float(v.median()) if len(v) else math.nan
            summary["pelvic_obliquity_range_rad"] = float(strides["pelvic_obliquity_range_rad"].median())
    # chest: trunk forward lean during stance
    chest = recording.find("chest")
    if chest and chest[0].has_gyr and len(strides):
        s = chest[0]
        try:
            lean, notes = trunk_lean(
                s.data[_ACC].to_numpy(float),
                s.data[_GYR].to_numpy(float),
                s.sampling_rate_hz,
                stances=list(zip(strides["ic_s"], strides["to_s"], strict=True)),
                orientation=orientation_of(s),
            )
        except ValueError as exc:  # no upright reference: the gait metrics stand, the lean is not given
            problems.append(f"{s.name}: trunk lean not computed: {exc}")
        else:
            problems += [f"{s.name}: {n}" for n in notes]
            strides["trunk_lean_rad"] = lean
            med = float(np.nanmedian(lean)) if np.isfinite(lean).any() else math.nan
            summary["trunk_lean_rad"] = med
            summary["trunk_lean_in_band"] = bool(LEAN_BAND_RAD[0] <= med <= LEAN_BAND_RAD[1])
    elif chest:
        problems.append(f"{chest[0].name}: trunk lean needs a gyroscope on the chest sensor")
    return GaitAnalysis(
        activity=act or gait_mode,
        gait_mode=gait_mode,
        events=events,
        strides=strides,
        steps=steps,
        phases=phases,
        summary=summary,
        problems=tuple(problems),
    )
