"""Sensor → body frame alignment and orientation tracking (via the ``ahrs`` library).

Alignment follows the usual two-step recipe for arbitrarily mounted IMUs (e.g. Moe-Nilssen 1998 for the
trunk, gaitmap's ``align_dataset_to_gravity`` + PCA heading alignment for the feet):

1. **gravity** -- ``si`` is the direction of the mean (low-passed) specific force, which over whole
   gait cycles equals the reaction to gravity;
2. **progression** -- the second axis is the principal direction of the remaining motion: for foot and
   shank the principal axis of the *angular velocity* in the horizontal plane (the segment rotates about
   its medio-lateral axis), otherwise the principal axis of the horizontal acceleration. The sign of
   that axis is physical and placement specific; it is resolved by the event detectors (documented
   there), which then finalise a right-handed (pa, ml, si) frame with ``ml`` pointing to the left.

Orientation over time uses the Madgwick (2011) filter: the pipeline runs the compiled filter of
:mod:`._madgwick` once per sensor (:func:`estimate_orientation` → :class:`Orientation`), which repeats the
``ahrs`` package's implementation (Garcia, 2019-; :func:`orientation_madgwick`) step for step and is tested
against it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from stridelab.frames import FrameTransform
from stridelab.gait._kernels import projected_covariance
from stridelab.gait._signal import lowpass
from stridelab.gait.orientation._madgwick import DEFAULT_GAIN, initial_quaternion

__all__ = [
    "frame_from_axes",
    "gravity_direction",
    "horizontal_principal_axis",
    "orientation_madgwick",
]


def gravity_direction(acc: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Unit vector (sensor frame) of the mean specific force = 'up' (NaN rows ignored)."""
    a = np.asarray(acc, dtype=float)
    # without NaN, nanmean is the mean (the same sum and division) minus its copy of the data
    m = np.nanmean(a, axis=0) if np.isnan(a).any() else a.mean(axis=0)
    norm = float(np.linalg.norm(m))
    if not norm > 0:
        raise ValueError("Cannot find gravity: the mean acceleration is zero")
    return np.asarray(m / norm, dtype=float)


def horizontal_principal_axis(
    vectors: npt.ArrayLike, up: npt.ArrayLike, *, fs: float, cutoff_hz: float | None = 5.0
) -> npt.NDArray[np.float64]:
    """Principal axis (unit, arbitrary sign) of ``vectors`` projected onto the plane normal to ``up``."""
    v = np.asarray(vectors, dtype=float)
    u = np.asarray(up, dtype=float)
    finite = np.isfinite(v).all(axis=1)
    if not finite.all():
        v = v[finite]
    if cutoff_hz is not None:
        v = lowpass(v, cutoff_hz, fs)
    if v.ndim == 2 and v.shape[1] == 3 and len(v) >= 50_000:  # long: two compiled passes, no temporaries
        cov = projected_covariance(v, u)
    else:
        h = v - np.outer(v @ u, u)
        h = h - h.mean(axis=0)
        cov = np.cov(h.T)
    _, vecs = np.linalg.eigh(cov)
    axis = vecs[:, -1]
    axis = axis - (axis @ u) * u
    return np.asarray(axis / np.linalg.norm(axis), dtype=float)


def frame_from_axes(pa: npt.ArrayLike, si: npt.ArrayLike) -> FrameTransform:
    """Sensor→body transform from the forward (``pa``) and up (``si``) axes given in sensor coordinates.

    ``pa`` is orthogonalised against ``si``; ``ml = si × pa`` points to the left (right-handed).
    """
    s = np.asarray(si, dtype=float)
    s = s / np.linalg.norm(s)
    p = np.asarray(pa, dtype=float)
    p = p - (p @ s) * s
    p = p / np.linalg.norm(p)
    m = np.cross(s, p)
    return FrameTransform("sensor", "body", np.vstack([p, m, s]))


def orientation_madgwick(
    acc: npt.ArrayLike, gyr: npt.ArrayLike, fs: float, *, gain: float = DEFAULT_GAIN
) -> npt.NDArray[np.float64]:
    """Quaternions (N, 4; w, x, y, z) of the sensor relative to an earth frame (z up), Madgwick (2011).

    S. O. H. Madgwick, A. J. L. Harrison, R. Vaidyanathan, "Estimation of IMU and MARG orientation using
    a gradient descent algorithm", IEEE ICORR 2011. Implementation: ``ahrs.filters.Madgwick`` (pure
    Python, one call per sample: the reference that :func:`estimate_orientation`, the compiled filter the
    pipeline uses, is tested and benchmarked against). The initial orientation is taken from the first
    second of accelerometer data.
    """
    from ahrs.filters import Madgwick

    a = np.asarray(acc, dtype=float)
    g = np.asarray(gyr, dtype=float)
    if a.shape != g.shape or a.ndim != 2 or a.shape[1] != 3:
        raise ValueError("orientation_madgwick: acc and gyr must both be (N, 3)")
    filt = Madgwick(gyr=g, acc=a, frequency=float(fs), gain=gain, q0=initial_quaternion(a, fs))
    return np.asarray(filt.Q, dtype=float)
