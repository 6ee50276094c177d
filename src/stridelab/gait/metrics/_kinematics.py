"""Kinematic metrics per stride/step: foot strike, vertical oscillation, pelvic drop, trunk lean.

Angles are in rad inside (columns ``*_rad``); orientation comes from the Madgwick filter
(:func:`stridelab.gait.orientation.estimate_orientation`). Every function that needs it takes
``orientation=`` -- the :class:`~stridelab.gait.orientation.Orientation` of the same sensor, computed once
per sensor by the pipeline -- and estimates it only when none is given.

* **Foot strike angle** (foot IMU) -- the foot's sagittal pitch at IC minus its pitch when flat in
  mid-stance; toe up positive. Pattern thresholds of Altman & Davis 2012 (Gait Posture 35:298):
  rearfoot > 8°, midfoot −1.6° … 8°, forefoot < −1.6°.
* **Vertical oscillation** (sacrum) -- per step (IC → next IC), the vertical acceleration (specific force
  along earth-up minus g) is double-integrated with the periodicity constraints of a steady gait: the
  mean acceleration and the mean velocity over the step are removed before each integration, so the
  drift of the integrator cannot accumulate (Zijlstra & Hof 2003, Gait Posture 18:1). Peak-to-peak of
  the resulting displacement, in m.
* **Pelvic obliquity** (sacrum, gyroscope) -- roll of the pelvis about the forward axis (left side up
  positive, from the Madgwick orientation). Per stride its range; per stance the **pelvic drop**: the
  largest lowering of the contralateral (swing-side) hip after IC relative to IC, i.e. the Trendelenburg
  sign. The right stance is mirrored into the left convention with :data:`stridelab.frames.MIRROR_LEFT_RIGHT`.
* **Trunk forward lean** (chest / upper back) -- the angle, in the sagittal plane, between the trunk's
  long axis and vertical, averaged over each stance; positive = leaning forward. Compared against the
  6–10° band commonly coached for distance running.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd

from stridelab.frames import MIRROR_LEFT_RIGHT, FrameTransform
from stridelab.gait._kernels import median_per_segment, oscillation_per_segment, range_and_rise_per_segment
from stridelab.gait._signal import FloatArray, lowpass, runs
from stridelab.gait.orientation import Orientation, estimate_orientation
from stridelab.units import G

__all__ = [
    "LEAN_BAND_RAD",
    "foot_strike",
    "pelvic_obliquity",
    "strike_pattern",
    "trunk_lean",
    "upright_trunk_axis",
    "vertical_oscillation",
]

#: commonly coached forward-lean band for distance running, 6–10°.
LEAN_BAND_RAD: tuple[float, float] = (math.radians(6.0), math.radians(10.0))
_RFS_RAD = math.radians(8.0)
_FFS_RAD = math.radians(-1.6)


def strike_pattern(angle_rad: float) -> str:
    """'rearfoot' / 'midfoot' / 'forefoot' from a foot strike angle (Altman & Davis 2012)."""
    if not np.isfinite(angle_rad):
        return "unknown"
    if angle_rad > _RFS_RAD:
        return "rearfoot"
    if angle_rad < _FFS_RAD:
        return "forefoot"
    return "midfoot"


def _strike_patterns(angle_rad: FloatArray) -> npt.NDArray[np.object_]:
    """:func:`strike_pattern` of every angle at once (object array of str)."""
    a = np.asarray(angle_rad, dtype=float)
    with np.errstate(invalid="ignore"):
        labels = np.select(
            [~np.isfinite(a), a > _RFS_RAD, a < _FFS_RAD], ["unknown", "rearfoot", "forefoot"], "midfoot"
        )
    return labels.astype(object)


def _orientation(
    acc: FloatArray, gyr: FloatArray, fs: float, orientation: Orientation | None, who: str
) -> Orientation:
    """The orientation given (checked against the data) or, when none is given, estimated now."""
    if orientation is None:
        return estimate_orientation(acc, gyr, fs)
    orientation.check_matches(len(acc), fs, who)
    return orientation


def _axis_elevation(up: FloatArray, axis_sensor: FloatArray) -> FloatArray:
    """Angle (rad) of a sensor-fixed axis above the horizontal plane, per sample (``up``: earth up)."""
    return np.arcsin(np.clip(up @ (axis_sensor / np.linalg.norm(axis_sensor)), -1.0, 1.0))


def foot_strike(
    acc: FloatArray,
    gyr: FloatArray,
    fs: float,
    frame: FrameTransform,
    strides: pd.DataFrame,
    *,
    orientation: Orientation | None = None,
) -> pd.DataFrame:
    """Foot strike angle (rad) and pattern per stride of one foot."""
    up = _orientation(acc, gyr, fs, orientation, "foot_strike").up_sensor
    pa_sensor = frame.rotation[0]
    pitch = _axis_elevation(up, pa_sensor)  # toe up positive
    i_ic = np.round(strides["ic_s"].to_numpy(float) * fs).astype(np.intp)
    i_to = np.round(strides["to_s"].to_numpy(float) * fs).astype(np.intp)
    ok = (i_ic >= 0) & (i_to < len(pitch)) & (i_to > i_ic)
    ang = np.full(len(i_ic), math.nan)
    # flat foot: the median pitch over the middle third of stance
    d = i_to[ok] - i_ic[ok]
    flat = median_per_segment(pitch, i_ic[ok] + d // 3, i_ic[ok] + 2 * d // 3 + 1)
    ang[ok] = pitch[i_ic[ok]] - flat
    return pd.DataFrame(
        {"foot_strike_angle_rad": ang, "foot_strike_pattern": _strike_patterns(ang)},
        columns=["foot_strike_angle_rad", "foot_strike_pattern"],
    )


def _vertical_specific_force(
    acc: FloatArray, gyr: FloatArray | None, fs: float, orientation: Orientation | None
) -> FloatArray:
    if gyr is not None:
        up = _orientation(acc, gyr, fs, orientation, "vertical_oscillation").up_sensor
        return np.asarray(np.einsum("ij,ij->i", acc, up), dtype=np.float64)
    up = np.nanmean(acc, axis=0)
    return np.asarray(acc @ (up / np.linalg.norm(up)), dtype=np.float64)


def vertical_oscillation(
    acc: FloatArray,
    gyr: FloatArray | None,
    fs: float,
    ic_s: npt.ArrayLike,
    *,
    max_step_s: float = 1.5,
    orientation: Orientation | None = None,
) -> FloatArray:
    """Peak-to-peak vertical displacement (m) of the sensor for each step IC(k) → IC(k+1)."""
    av = lowpass(_vertical_specific_force(acc, gyr, fs, orientation), 20.0, fs) - G
    ic = np.sort(np.asarray(ic_s, dtype=float))
    out = np.full(max(len(ic) - 1, 0), np.nan)
    idx = np.round(ic * fs).astype(np.intp)
    i0, i1 = idx[:-1], idx[1:]
    ok = (i0 >= 0) & (i1 <= len(av)) & ((i1 - i0) / fs <= max_step_s) & (i1 - i0 >= 4)
    out[ok] = oscillation_per_segment(av, i0[ok], i1[ok], fs)
    return out


def _oscillation(a: FloatArray, fs: float) -> float:
    """One step's bounce (the loop :func:`oscillation_per_segment` compiles; kept as its reference)."""
    a = a - a.mean()
    v = np.cumsum(a) / fs
    v = v - v.mean()
    z = np.cumsum(v) / fs
    return float(z.max() - z.min())


def pelvic_obliquity(
    acc: FloatArray,
    gyr: FloatArray,
    fs: float,
    frame: FrameTransform,
    strides: pd.DataFrame,
    *,
    orientation: Orientation | None = None,
) -> pd.DataFrame:
    """Pelvic obliquity range per stride and pelvic (contralateral hip) drop in its stance, rad."""
    up = _orientation(acc, gyr, fs, orientation, "pelvic_obliquity").up_sensor
    ml_sensor = frame.rotation[1]
    roll = _axis_elevation(up, ml_sensor)  # left side up positive
    i_ic, i_to, i_nx = (
        np.round(strides[c].to_numpy(float) * fs).astype(np.intp) for c in ("ic_s", "to_s", "next_ic_s")
    )
    ok = (i_ic >= 0) & (i_nx <= len(roll)) & (i_ic < i_to) & (i_to < i_nx)
    # left stance: the right (swing) side drops = left side up = roll increases. Mirror the right.
    factor = np.where(strides["side"].to_numpy(object) == "left", 1.0, MIRROR_LEFT_RIGHT["gyr_pa"])
    rng, drop = np.full(len(ok), math.nan), np.full(len(ok), math.nan)
    rng[ok], drop[ok] = range_and_rise_per_segment(roll, i_ic[ok], i_to[ok], i_nx[ok], factor[ok])
    return pd.DataFrame({"pelvic_obliquity_range_rad": rng, "pelvic_drop_rad": drop})


def upright_trunk_axis(acc: FloatArray, gyr: FloatArray, fs: float, up: FloatArray) -> FloatArray | None:
    """The trunk's long axis (sensor frame, unit): earth up averaged over the first still span of ≥ 2 s
    (standing upright before the run), or None when the data has no such span."""
    # still = no rotation AND no bouncing: a steady runner's chest can rotate very little, but its
    # specific force swings by several m/s² every step
    acc_norm = pd.Series(np.linalg.norm(acc, axis=1))
    quiet = acc_norm.rolling(max(int(0.5 * fs), 2), center=True, min_periods=1).std().to_numpy() < 0.3
    still = (lowpass(np.linalg.norm(gyr, axis=1), 2.0, fs) < 0.15) & quiet
    spans = [(a, b) for a, b in runs(still) if (b - a) >= 2 * fs]
    if not spans:
        return None
    a, b = spans[0]
    axis = up[a:b].mean(axis=0)
    return np.asarray(axis / np.linalg.norm(axis), dtype=np.float64)


def trunk_lean(
    acc: FloatArray,
    gyr: FloatArray,
    fs: float,
    *,
    trunk_axis: npt.ArrayLike | None = None,
    forward_axis: npt.ArrayLike | None = None,
    stances: list[tuple[float, float]] | None = None,
    orientation: Orientation | None = None,
) -> tuple[FloatArray, list[str]]:
    """Trunk forward lean (rad) per stance (or per second when no stances are given), and notes.

    ``trunk_axis`` (sensor frame, pointing up the spine) defaults to the vertical during the first
    still period of ≥ 2 s (standing upright before the run); ``forward_axis`` (sensor frame, out of the
    chest) defaults to the horizontal principal acceleration axis, signed so the mean lean is forward
    (noted in the returned problems).
    """
    notes: list[str] = []
    up = _orientation(acc, gyr, fs, orientation, "trunk_lean").up_sensor
    if trunk_axis is None:
        t_axis = upright_trunk_axis(acc, gyr, fs, up)
        if t_axis is None:
            raise ValueError(
                "trunk lean needs the trunk axis: stand still and upright for 2 s at the start of the "
                "recording, or declare trunk_axis (the sensor axis pointing up the spine)"
            )
    else:
        t_axis = np.asarray(trunk_axis, dtype=float)
    t_axis = t_axis / np.linalg.norm(t_axis)
    if forward_axis is None:
        from stridelab.gait.orientation import horizontal_principal_axis

        f_axis = horizontal_principal_axis(acc, t_axis, fs=fs)
        notes.append("trunk forward axis not declared: lean sign assumes the runner leans forward on average")
    else:
        f_axis = np.asarray(forward_axis, dtype=float)
        f_axis = f_axis - (f_axis @ t_axis) * t_axis
        f_axis = f_axis / np.linalg.norm(f_axis)
    # lean: rotation of the trunk axis toward the forward axis: elevation of the forward axis below horizontal
    lean = -np.arcsin(np.clip(up @ f_axis, -1.0, 1.0))
    if forward_axis is None and np.nanmean(lean) < 0:
        lean = -lean
    if stances:
        vals = []
        for a_s, b_s in stances:
            i0, i1 = round(a_s * fs), round(b_s * fs)
            vals.append(float(np.mean(lean[i0 : i1 + 1])) if 0 <= i0 < i1 < len(lean) else math.nan)
        return np.asarray(vals), notes
    n = int(len(lean) // fs)
    return np.asarray([float(np.mean(lean[int(k * fs) : int((k + 1) * fs)])) for k in range(n)]), notes
