"""Zero-velocity-aided inertial navigation of a foot sensor, smoothed with an RTS pass (issue 20, point 2).

The method of Colomar, Nilsson & Händel ("Smoothing for ZUPT-aided INSs", IPIN 2012) in the form of
gaitmap's ``RtsKalman`` (Küderle et al. 2024; its defaults are kept so the two can be compared):

* nominal state (strapdown): orientation by integrating the gyroscope (quaternion), the accelerometer
  rotated to the world frame minus gravity integrated twice for velocity and position;
* error state ``[δp, δv, δθ]`` (9, world frame after Solà 2017, "Quaternion kinematics for the
  error-state Kalman filter", ch. 7): propagated with ``F = [[I, I·dt, 0], [0, I, -[R a]× dt], [0, 0, I]]``
  and process noise ``Q = diag(0, σ²_v I, σ²_θ I)`` per sample; at every zero-velocity sample the
  measurement is the nominal velocity (and, for level walking, the height) -- the error itself;
* open loop: the forward pass only accumulates error states; one Rauch-Tung-Striebel backward pass then
  smooths them, and the smoothed errors are removed from the nominal states.

Zero-velocity samples: the gyroscope norm's maximum over 0.05 s windows (50 % overlap) below
34 deg/s (gaitmap's ``NormZuptDetector`` defaults, Skog et al. 2010 for the norm detector family).

Long recordings are processed in chunks (``chunk_s``) cut in the middle of a zero-velocity period: each
chunk starts from the previous chunk's smoothed state at the cut, so memory stays bounded (the filter
keeps three 9×9 matrices per sample of a chunk) and the result differs from one pass only by the
error uncertainty carried over the cut.

My own code (numpy + numba); gaitmap itself is not a dependency. ``bench/gaitmap_rts_reference.py``
writes gaitmap's result on the shared sample and ``tests/gait/test_gait_trajectory.py`` compares.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import pandas as pd

from stridelab.gait._base import Algorithm
from stridelab.gait._checks import ImuDataError
from stridelab.gait._signal import runs
from stridelab.units import G

__all__ = ["ZuptRtsKalman", "gravity_quaternion", "zero_velocity_mask"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_COMPILED: dict[str, Callable[..., Any]] = {}


def _jit(fn: Callable[..., Any]) -> Callable[..., Any]:
    name = fn.__name__
    if name not in _COMPILED:
        import numba

        # error_model="numpy": a division by zero gives inf/NaN, no exception check per division
        _COMPILED[name] = numba.njit(cache=True, nogil=True, error_model="numpy")(fn)
    return _COMPILED[name]


def zero_velocity_mask(
    gyr: npt.ArrayLike, fs: float, *, threshold_rad_s: float, window_s: float = 0.05
) -> BoolArray:
    """Samples where the foot is still: every sample of a window (``window_s``, 50 % overlap) whose
    maximum gyroscope norm is below ``threshold_rad_s``."""
    g = np.asarray(gyr, dtype=float)
    norm = np.sqrt((g * g).sum(axis=1))
    n = len(norm)
    win = max(round(window_s * fs), 2)
    step = max(win // 2, 1)
    out = np.zeros(n, dtype=bool)
    if n < win:
        return out
    starts = np.arange(0, n - win + 1, step)
    peak = np.lib.stride_tricks.sliding_window_view(norm, win)[starts].max(axis=1)
    for s in starts[peak < threshold_rad_s]:
        out[s : s + win] = True
    return out


def gravity_quaternion(acc: npt.ArrayLike) -> FloatArray:
    """Quaternion ``[w, x, y, z]`` of the shortest rotation taking the mean accelerometer vector to +z
    (world up): the initial orientation of a sensor at rest, heading arbitrary."""
    a = np.asarray(acc, dtype=float).reshape(-1, 3).mean(axis=0)
    a = a / np.linalg.norm(a)
    z = np.array([0.0, 0.0, 1.0])
    c = float(a @ z)
    if c < -1 + 1e-12:  # upside down: half turn about x
        return np.array([0.0, 1.0, 0.0, 0.0])
    axis = np.cross(a, z)
    q = np.r_[1.0 + c, axis]
    return np.asarray(q / np.linalg.norm(q), dtype=float)


# ------------------------------------------------------------------ compiled kernel (quaternions w-first)
#: the compiled helpers, bound into the kernel's globals when it is compiled (see ``_kernel``)
_inv4_j: Any = None
_solve9_j: Any = None


def _rts_chunk(
    acc: Any,
    gyr: Any,
    zupt: Any,
    fs: float,
    q0: Any,
    p0: Any,
    v0: Any,
    cov0: Any,
    proc: Any,
    meas: Any,
    level: bool,
    g: float,
    pos: Any,
    vel: Any,
    quat: Any,
    work_x: Any,
    work_p: Any,
    skew: Any,
) -> None:  # pragma: no cover - jitted
    """Forward filter and RTS smoother over one chunk, in place on ``pos``/``vel``/``quat`` (row 0 =
    the chunk's start state; ``cov0`` in: its error covariance, out: the one at the chunk's end).

    The matrix form (``F P Fᵀ + Q``, Joseph update, ``C = P Fᵀ (P⁻)⁻¹``; main at ea170f9) with the
    sparse ``F`` and ``H`` written out and no temporaries, the same results to rounding (2.5e-10 m on
    1 h of running; ``tests/gait/test_gait_trajectory_speed.py``): ``F P Fᵀ`` touches only the non-zero
    blocks; the Joseph update is ``u = P - K(HP)``, then ``u - (u Hᵀ)Kᵀ + (K R)Kᵀ`` over all 81 entries
    (mirroring one triangle is not rounding-level here: the filter is ill-conditioned); the smoother's
    gain is applied to a vector, ``P Fᵀ (P⁻ \\ d)`` (one pivoted elimination instead of a 9 × 9
    inverse); the smoothed covariance is not propagated (only its end value, the posterior, is used).
    ``work_x`` (2 × ≥ n+1 × 9), ``work_p`` (2 × ≥ n+1 × 9 × 9) and ``skew`` (≥ n × 3, ``a / fs`` per
    sample) are scratch space."""
    n = acc.shape[0]
    # work arrays of at least n + 1 rows, reused from chunk to chunk (fresh pages cost more than the maths)
    prior_x = work_x[0]
    post_x = work_x[1]
    prior_p = work_p[0]
    post_p = work_p[1]
    prior_x[0, :] = 0.0
    post_x[0, :] = 0.0
    prior_p[0] = cov0
    post_p[0] = cov0
    pos[0] = p0
    vel[0] = v0
    quat[0] = q0
    dt = 1.0 / fs
    m = 4 if level else 3
    hidx = np.empty(4, dtype=np.int64)
    hidx[0], hidx[1], hidx[2], hidx[3] = 3, 4, 5, 2
    t = np.empty((9, 9))
    u = np.empty((9, 9))
    gain = np.zeros((9, 4))
    kr = np.zeros((9, 4))
    s = np.empty((4, 4))
    sinv = np.empty((4, 4))
    innov = np.empty(4)
    am = np.empty((3, 3))
    lu = np.empty((9, 9))
    y = np.empty(9)
    w = np.empty(9)
    d = np.empty(9)
    sm = np.empty(9)
    for i in range(n):
        # strapdown: quat ⊗ q(gyr / fs), then the accelerometer rotated to the world frame
        g0, g1, g2 = gyr[i, 0] / fs, gyr[i, 1] / fs, gyr[i, 2] / fs
        ang = math.sqrt(g0 * g0 + g1 * g1 + g2 * g2)
        if ang < 1e-12:
            r0, r1, r2, r3 = 1.0, 0.5 * g0, 0.5 * g1, 0.5 * g2
            nr = math.sqrt(r0 * r0 + r1 * r1 + r2 * r2 + r3 * r3)
            r0, r1, r2, r3 = r0 / nr, r1 / nr, r2 / nr, r3 / nr
        else:
            sa = math.sin(ang / 2) / ang
            r0, r1, r2, r3 = math.cos(ang / 2), g0 * sa, g1 * sa, g2 * sa
        p0_, p1_, p2_, p3_ = quat[i, 0], quat[i, 1], quat[i, 2], quat[i, 3]
        qw = p0_ * r0 - p1_ * r1 - p2_ * r2 - p3_ * r3
        qx = p0_ * r1 + p1_ * r0 + p2_ * r3 - p3_ * r2
        qy = p0_ * r2 - p1_ * r3 + p2_ * r0 + p3_ * r1
        qz = p0_ * r3 + p1_ * r2 - p2_ * r1 + p3_ * r0
        quat[i + 1, 0], quat[i + 1, 1], quat[i + 1, 2], quat[i + 1, 3] = qw, qx, qy, qz
        v0_, v1_, v2_ = acc[i, 0], acc[i, 1], acc[i, 2]
        ax = (
            (1 - 2 * (qy * qy + qz * qz)) * v0_
            + 2 * (qx * qy - qw * qz) * v1_
            + 2 * (qx * qz + qw * qy) * v2_
        )
        ay = (
            2 * (qx * qy + qw * qz) * v0_
            + (1 - 2 * (qx * qx + qz * qz)) * v1_
            + 2 * (qy * qz - qw * qx) * v2_
        )
        az = (
            2 * (qx * qz - qw * qy) * v0_
            + 2 * (qy * qz + qw * qx) * v1_
            + (1 - 2 * (qx * qx + qy * qy)) * v2_
        )
        az -= g
        pos[i + 1, 0] = pos[i, 0] + vel[i, 0] / fs + 0.5 * ax / (fs * fs)
        pos[i + 1, 1] = pos[i, 1] + vel[i, 1] / fs + 0.5 * ay / (fs * fs)
        pos[i + 1, 2] = pos[i, 2] + vel[i, 2] / fs + 0.5 * az / (fs * fs)
        vel[i + 1, 0] = vel[i, 0] + ax / fs
        vel[i + 1, 1] = vel[i, 1] + ay / fs
        vel[i + 1, 2] = vel[i, 2] + az / fs
        az += g
        skew[i, 0], skew[i, 1], skew[i, 2] = ax / fs, ay / fs, az / fs
        # am = F[3:6, 6:9]
        am[0, 0], am[0, 1], am[0, 2] = 0.0, az / fs, -ay / fs
        am[1, 0], am[1, 1], am[1, 2] = -az / fs, 0.0, ax / fs
        am[2, 0], am[2, 1], am[2, 2] = ay / fs, -ax / fs, 0.0
        px = post_x[i]
        xp = prior_x[i + 1]
        for j in range(3):
            xp[j] = px[j] + dt * px[3 + j]
            xp[3 + j] = px[3 + j] + am[j, 0] * px[6] + am[j, 1] * px[7] + am[j, 2] * px[8]
            xp[6 + j] = px[6 + j]
        pp = post_p[i] if i == 0 or zupt[i - 1] else prior_p[i]
        # t = F P (rows 6..8 of F P are those of P)
        for j in range(3):
            for c in range(9):
                t[j, c] = pp[j, c] + dt * pp[3 + j, c]
                t[3 + j, c] = pp[3 + j, c] + am[j, 0] * pp[6, c] + am[j, 1] * pp[7, c] + am[j, 2] * pp[8, c]
        for j in range(6, 9):
            for c in range(9):
                t[j, c] = pp[j, c]
        # prior = t Fᵀ + Q
        pr = prior_p[i + 1]
        for r in range(9):
            t6, t7, t8 = t[r, 6], t[r, 7], t[r, 8]
            for j in range(3):
                pr[r, j] = t[r, j] + dt * t[r, 3 + j] + proc[r, j]
                pr[r, 3 + j] = t[r, 3 + j] + am[j, 0] * t6 + am[j, 1] * t7 + am[j, 2] * t8 + proc[r, 3 + j]
                pr[r, 6 + j] = t[r, 6 + j] + proc[r, 6 + j]
        po = post_p[i + 1]
        xo = post_x[i + 1]
        if zupt[i]:
            for k in range(3):
                innov[k] = vel[i + 1, k] - xp[hidx[k]]
            if level:
                innov[3] = pos[i + 1, 2] - xp[2]
            for a in range(m):
                for b in range(m):
                    s[a, b] = pr[hidx[a], hidx[b]] + meas[a, b]
            _inv4_j(s, sinv, m)
            for r in range(9):
                for k in range(m):
                    acc_ = 0.0
                    for b in range(m):
                        acc_ += pr[r, hidx[b]] * sinv[b, k]
                    gain[r, k] = acc_
            for r in range(9):
                acc_ = xp[r]
                for k in range(m):
                    acc_ += gain[r, k] * innov[k]
                xo[r] = acc_
            # u = (I - K H) P
            for r in range(9):
                for c in range(9):
                    acc_ = pr[r, c]
                    for k in range(m):
                        acc_ -= gain[r, k] * pr[hidx[k], c]
                    u[r, c] = acc_
            # post = u (I - K H)ᵀ + K R Kᵀ (all 81 entries: mirroring one triangle is not rounding-level
            # here -- the filter is ill-conditioned and follows the asymmetry of the matrix form)
            for r in range(9):
                for a in range(m):
                    gr = 0.0
                    for b in range(m):
                        gr += gain[r, b] * meas[b, a]
                    kr[r, a] = gr
            for r in range(9):
                for c in range(9):
                    acc_ = u[r, c]
                    for k in range(m):
                        acc_ -= u[r, hidx[k]] * gain[c, k]
                    acc2 = 0.0
                    for a in range(m):
                        acc2 += kr[r, a] * gain[c, a]
                    po[r, c] = acc_ + acc2
        else:  # post = prior: post_p[i + 1] is not written (see ``_post``)
            for r in range(9):
                xo[r] = xp[r]
    # Rauch-Tung-Striebel backward pass over the error states, then the correction of the nominal states
    for r in range(9):
        sm[r] = post_x[n, r]
        for c in range(9):
            cov0[r, c] = (
                post_p[n, r, c] if n == 0 or zupt[n - 1] else prior_p[n, r, c]
            )  # the smoothed covariance at the end starts the next chunk
    for i in range(n, -1, -1):
        if i < n:
            # sm = post_x + P Fᵀ (P⁻)⁻¹ (sm - prior_x)
            for r in range(9):
                d[r] = sm[r] - prior_x[i + 1, r]
            _solve9_j(prior_p[i + 1], d, lu, y)
            a0_, a1_, a2_ = skew[i, 0], skew[i, 1], skew[i, 2]
            # w = Fᵀ y
            for j in range(3):
                w[j] = y[j]
                w[3 + j] = dt * y[j] + y[3 + j]
            # column k of F[3:6, 6:9]: am[:, k]
            w[6] = y[6] + (-a2_) * y[4] + a1_ * y[5]
            w[7] = y[7] + a2_ * y[3] + (-a0_) * y[5]
            w[8] = y[8] + (-a1_) * y[3] + a0_ * y[4]
            pp = post_p[i] if i == 0 or zupt[i - 1] else prior_p[i]
            for r in range(9):
                acc_ = 0.0
                for c in range(9):
                    acc_ += pp[r, c] * w[c]
                sm[r] = post_x[i, r] + acc_
        pos[i, 0] -= sm[0]
        pos[i, 1] -= sm[1]
        pos[i, 2] -= sm[2]
        vel[i, 0] -= sm[3]
        vel[i, 1] -= sm[4]
        vel[i, 2] -= sm[5]
        g0, g1, g2 = sm[6], sm[7], sm[8]
        ang = math.sqrt(g0 * g0 + g1 * g1 + g2 * g2)
        if ang < 1e-12:
            r0, r1, r2, r3 = 1.0, 0.5 * g0, 0.5 * g1, 0.5 * g2
            nr = math.sqrt(r0 * r0 + r1 * r1 + r2 * r2 + r3 * r3)
            r0, r1, r2, r3 = r0 / nr, r1 / nr, r2 / nr, r3 / nr
        else:
            sa = math.sin(ang / 2) / ang
            r0, r1, r2, r3 = math.cos(ang / 2), g0 * sa, g1 * sa, g2 * sa
        p0_, p1_, p2_, p3_ = quat[i, 0], quat[i, 1], quat[i, 2], quat[i, 3]
        quat[i, 0] = r0 * p0_ - r1 * p1_ - r2 * p2_ - r3 * p3_
        quat[i, 1] = r0 * p1_ + r1 * p0_ + r2 * p3_ - r3 * p2_
        quat[i, 2] = r0 * p2_ - r1 * p3_ + r2 * p0_ + r3 * p1_
        quat[i, 3] = r0 * p3_ + r1 * p2_ - r2 * p1_ + r3 * p0_


def _inv4(s: Any, out: Any, m: int) -> None:  # pragma: no cover - jitted
    """``out[:m, :m]`` = inverse of ``s[:m, :m]`` (Gauss-Jordan with partial pivoting; no LAPACK, so the
    kernel compiles in seconds)."""
    a = s.copy()
    for r in range(m):
        for c in range(m):
            out[r, c] = 1.0 if r == c else 0.0
    for c in range(m):
        p = c
        for r in range(c + 1, m):
            if abs(a[r, c]) > abs(a[p, c]):
                p = r
        if p != c:
            for k in range(m):
                a[c, k], a[p, k] = a[p, k], a[c, k]
                out[c, k], out[p, k] = out[p, k], out[c, k]
        dd = a[c, c]
        for k in range(m):
            a[c, k] /= dd
            out[c, k] /= dd
        for r in range(m):
            if r != c:
                f = a[r, c]
                if f != 0.0:
                    for k in range(m):
                        a[r, k] -= f * a[c, k]
                        out[r, k] -= f * out[c, k]


def _solve9(p: Any, b: Any, lu: Any, x: Any) -> None:  # pragma: no cover - jitted
    """``x`` = ``p⁻¹ b`` for a 9 × 9 ``p`` (Gaussian elimination with partial pivoting on ``lu``, a
    work copy; ``b`` is overwritten)."""
    for r in range(9):
        for c in range(9):
            lu[r, c] = p[r, c]
    for c in range(9):
        piv = c
        for r in range(c + 1, 9):
            if abs(lu[r, c]) > abs(lu[piv, c]):
                piv = r
        if piv != c:
            for k in range(c, 9):
                lu[c, k], lu[piv, k] = lu[piv, k], lu[c, k]
            b[c], b[piv] = b[piv], b[c]
        dd = lu[c, c]
        for r in range(c + 1, 9):
            f = lu[r, c] / dd
            if f != 0.0:
                for k in range(c + 1, 9):
                    lu[r, k] -= f * lu[c, k]
                b[r] -= f * b[c]
    for r in range(8, -1, -1):
        acc_ = b[r]
        for k in range(r + 1, 9):
            acc_ -= lu[r, k] * x[k]
        x[r] = acc_ / lu[r, r]


def _kernel() -> Callable[..., Any]:
    """The compiled chunk smoother (its helpers compiled first: numba resolves them in the module's
    globals when it compiles the caller)."""
    global _inv4_j, _solve9_j
    if "_rts_chunk" not in _COMPILED:
        _inv4_j, _solve9_j = _jit(_inv4), _jit(_solve9)
    return _jit(_rts_chunk)


class ZuptRtsKalman(Algorithm):
    """Foot trajectory (position, velocity, orientation per sample) by a ZUPT-aided RTS Kalman smoother.

    Parameters (gaitmap ``RtsKalman``'s defaults): ``zupt_threshold_rad_s`` (34 deg/s),
    ``zupt_window_s``; noise variances ``zupt_variance_m2_s2`` (velocity measurement),
    ``velocity_error_variance_m2_s2`` and ``orientation_error_variance_rad2`` (process, per sample);
    ``level_walking`` adds height = 0 at every zero-velocity sample (``level_walking_variance_m2``);
    ``chunk_s`` bounds memory on long recordings.

    ``estimate(data, sampling_rate_hz=...)`` -- ``data`` with ``acc_x..z`` (m/s², gravity included) and
    ``gyr_x..z`` (rad/s) in the sensor frame. The sensor must be still at the start (the initial
    orientation is taken from gravity over the first zero-velocity period; heading and origin are
    arbitrary: world x/y follow the sensor's initial heading, z is up). Results: ``position_``,
    ``velocity_`` (N × 3, m and m/s, after each sample), ``orientation_`` (N × 4 quaternions w-first,
    sensor → world), ``zupt_`` (N bool).
    """

    _action_method = "estimate"
    zupt_threshold_rad_s: float
    zupt_window_s: float
    zupt_variance_m2_s2: float
    velocity_error_variance_m2_s2: float
    orientation_error_variance_rad2: float
    level_walking: bool
    level_walking_variance_m2: float
    chunk_s: float

    position_: FloatArray
    velocity_: FloatArray
    orientation_: FloatArray
    zupt_: BoolArray

    def __init__(
        self,
        zupt_threshold_rad_s: float = math.radians(34.0),
        zupt_window_s: float = 0.05,
        zupt_variance_m2_s2: float = 10e-8,
        velocity_error_variance_m2_s2: float = 10e5,
        orientation_error_variance_rad2: float = 10e-2,
        level_walking: bool = True,
        level_walking_variance_m2: float = 10e-8,
        chunk_s: float = 60.0,
    ) -> None:
        self.zupt_threshold_rad_s = zupt_threshold_rad_s
        self.zupt_window_s = zupt_window_s
        self.zupt_variance_m2_s2 = zupt_variance_m2_s2
        self.velocity_error_variance_m2_s2 = velocity_error_variance_m2_s2
        self.orientation_error_variance_rad2 = orientation_error_variance_rad2
        self.level_walking = level_walking
        self.level_walking_variance_m2 = level_walking_variance_m2
        self.chunk_s = chunk_s

    def estimate(
        self,
        data: pd.DataFrame,
        *,
        sampling_rate_hz: float,
        zupt: npt.ArrayLike | None = None,
        initial_quaternion: npt.ArrayLike | None = None,
    ) -> Self:
        """Reconstruct the trajectory. ``zupt`` (N bool) replaces the built-in zero-velocity detector;
        ``initial_quaternion`` (``[w, x, y, z]``, sensor → world) replaces the orientation from gravity."""
        missing = [c for c in ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z") if c not in data]
        if missing:
            raise ImuDataError(
                f"foot trajectory needs accelerometer and gyroscope columns; missing {missing}"
            )
        fs = float(sampling_rate_hz)
        acc = np.ascontiguousarray(data[["acc_x", "acc_y", "acc_z"]].to_numpy(float))
        gyr = np.ascontiguousarray(data[["gyr_x", "gyr_y", "gyr_z"]].to_numpy(float))
        if not (np.isfinite(acc).all() and np.isfinite(gyr).all()):
            raise ImuDataError("foot trajectory: the signals contain NaN or infinite values")
        n = len(acc)
        if zupt is None:
            still = zero_velocity_mask(
                gyr, fs, threshold_rad_s=self.zupt_threshold_rad_s, window_s=self.zupt_window_s
            )
        else:
            still = np.asarray(zupt, dtype=bool)
            if still.shape != (n,):
                raise ValueError(f"zupt must have one flag per sample ({n}), got shape {still.shape}")
        rest = runs(still)
        if not rest or rest[0][0] > round(0.5 * fs):
            raise ImuDataError(
                "foot trajectory needs the foot still at the start of the recording (within 0.5 s) to find "
                "its initial orientation; no zero-velocity period there"
            )
        a0, b0 = rest[0]
        if initial_quaternion is None:
            q0 = gravity_quaternion(acc[a0 : max(b0, a0 + 1)])
        else:
            q0 = np.asarray(initial_quaternion, dtype=float).reshape(4) / np.linalg.norm(initial_quaternion)
        proc = np.zeros((9, 9))
        proc[3:6, 3:6] = np.eye(3) * self.velocity_error_variance_m2_s2
        proc[6:, 6:] = np.eye(3) * self.orientation_error_variance_rad2
        m = 4 if self.level_walking else 3
        meas = np.eye(m) * self.zupt_variance_m2_s2
        if self.level_walking:
            meas[3, 3] = self.level_walking_variance_m2
        pos = np.zeros((n + 1, 3))
        vel = np.zeros((n + 1, 3))
        quat = np.zeros((n + 1, 4))
        quat[0] = q0
        cov = proc.copy()
        kernel = _kernel()
        chunks = self._chunks(still, n, fs)
        rows = max((hi - lo for lo, hi in chunks), default=0) + 1
        work_x, work_p, skew = np.empty((2, rows, 9)), np.empty((2, rows, 9, 9)), np.empty((rows, 3))
        for lo, hi in chunks:
            p_in, v_in, q_in = pos[lo].copy(), vel[lo].copy(), quat[lo].copy()
            kernel(
                acc[lo:hi],
                gyr[lo:hi],
                still[lo:hi],
                fs,
                q_in,
                p_in,
                v_in,
                cov,
                proc,
                meas,
                bool(self.level_walking),
                G,
                pos[lo : hi + 1],
                vel[lo : hi + 1],
                quat[lo : hi + 1],
                work_x,
                work_p,
                skew,
            )
        self.position_, self.velocity_ = pos[1:], vel[1:]
        self.orientation_ = quat[1:] / np.linalg.norm(quat[1:], axis=1, keepdims=True)
        self.zupt_ = still
        return self

    def _chunks(self, still: BoolArray, n: int, fs: float) -> list[tuple[int, int]]:
        """``[lo, hi)`` sample ranges of at most about ``chunk_s``, cut at the middle of still periods."""
        target = max(int(self.chunk_s * fs), 1)
        mids = np.array([(a + b) // 2 for a, b in runs(still)], dtype=int)
        cuts = [0]
        while n - cuts[-1] > target:
            want = cuts[-1] + target
            ok = mids[(mids > cuts[-1] + target // 4) & (mids <= want)]
            cuts.append(int(ok[-1]) if len(ok) else want)
        cuts.append(n)
        return list(itertools.pairwise(cuts))
