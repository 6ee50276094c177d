"""Zero-velocity-aided inertial navigation of a foot sensor, smoothed with an RTS pass (issue 20, point 2).

The method of Colomar, Nilsson & Händel ("Smoothing for ZUPT-aided INSs", IPIN 2012) in the form of
gaitmap's ``RtsKalman`` (Küderle et al. 2024; its defaults are kept so the two can be compared):

* nominal state (strapdown): orientation by integrating the gyroscope (quaternion), the accelerometer
  rotated to the world frame minus gravity integrated twice for velocity and position;
* error state ``[δp, δv, δθ]`` (9, world frame after Solà 2017, "Quaternion kinematics for the
  error-state Kalman filter", ch. 7): propagated with ``F = [[I, I·dt, 0], [0, I, -[R a]× dt], [0, 0, I]]``
  and process noise ``Q = diag(0, σ²_v I, σ²_θ I)`` per sample; at every zero-velocity sample the
  measurement is the nominal velocity (and, for level walking, the height) -- the error itself;
* open loop: the forward pass only accumulates error states; one backward pass (Rauch-Tung-Striebel, in
  its modified Bryson-Frazier form: no matrix inverse) then smooths them, and the smoothed errors are
  removed from the nominal states. The unmeasured horizontal position is not part of the smoother: its
  smoothed error is the integral of the smoothed horizontal velocity error (see ``_rts_chunk``).

Zero-velocity samples: the gyroscope norm's maximum over 0.05 s windows (50 % overlap) below
34 deg/s (gaitmap's ``NormZuptDetector`` defaults, Skog et al. 2010 for the norm detector family).

Long recordings are processed in chunks (``chunk_s``) cut in the middle of a zero-velocity period: each
chunk starts from the previous chunk's smoothed state at the cut, so memory stays bounded (the smoother
keeps a 7 × 7 covariance per zero-velocity sample of a chunk) and the result differs from one pass only by
the error uncertainty carried over the cut.

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
from stridelab.units import G

__all__ = ["ZuptRtsKalman", "gravity_quaternion", "zero_velocity_mask"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_COMPILED: dict[str, Callable[..., Any]] = {}
#: upper-triangle storage of the 7 × 7 error covariance: (i, j) → index
_SYM = {ij: k for k, ij in enumerate((i, j) for i in range(7) for j in range(i, 7))}
_NSYM = len(_SYM)
_SYM9 = {ij: k for k, ij in enumerate((i, j) for i in range(9) for j in range(i, 9))}


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
    return _still_mask(g[:, 0], g[:, 1], g[:, 2], fs, threshold_rad_s, window_s)


def _still_mask(
    x: FloatArray, y: FloatArray, z: FloatArray, fs: float, threshold_rad_s: float, window_s: float
) -> BoolArray:
    """``zero_velocity_mask`` of the gyroscope's three axes as separate arrays."""
    norm = np.sqrt(x * x + y * y + z * z)
    n = len(norm)
    win = max(round(window_s * fs), 2)
    step = max(win // 2, 1)
    out = np.zeros(n, dtype=bool)
    if n < win:
        return out
    starts = np.arange(0, n - win + 1, step)
    if win == 2 * step:  # a window = two consecutive blocks of ``step`` samples
        blocks = norm[: (len(starts) + 1) * step].reshape(-1, step)
        block = blocks[:, 0].copy()
        for c in range(1, step):  # column by column: numpy's max over a short axis is slow
            np.maximum(block, blocks[:, c], out=block)
        peak = np.maximum(block[:-1], block[1:])
    else:
        peak = np.lib.stride_tricks.sliding_window_view(norm, win)[starts].max(axis=1)
    still = starts[peak < threshold_rad_s]
    edge = np.zeros(n + 1, dtype=np.int32)  # +1 where a still window starts, -1 where it ends
    edge[still] += 1
    edge[still + win] -= 1
    out[:] = np.cumsum(edge[:n]) > 0
    return out


def _still_mask_loop(
    x: Any, y: Any, z: Any, win: int, step: int, threshold: float, out: Any
) -> None:  # pragma: no cover
    """Compiled ``_still_mask`` for finite signals: the maximum of the norm is the square root of the
    maximum squared norm (the square root is monotonic and correctly rounded), so the result is the same."""
    n = x.shape[0]
    for i in range(n):
        out[i] = False
    for s in range(0, n - win + 1, step):
        peak = 0.0
        for i in range(s, s + win):
            q = x[i] * x[i] + y[i] * y[i] + z[i] * z[i]
            if q > peak:
                peak = q
        if math.sqrt(peak) < threshold:
            for i in range(s, s + win):
                out[i] = True


def _still_runs(still: BoolArray) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Start and stop (exclusive) indices of the True runs (``_signal.runs`` as two arrays: no list of
    tuples, which costs ~15 ms on an hour)."""
    d = np.diff(still.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


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
#: the compiled helper, bound into the kernel's globals when it is compiled (see ``_kernel``)
_rotvec_quat_j: Any = None


def _rotvec_quat(g0: float, g1: float, g2: float) -> tuple[float, float, float, float]:  # pragma: no cover
    """Unit quaternion of the rotation vector ``g`` (w first)."""
    ang = math.sqrt(g0 * g0 + g1 * g1 + g2 * g2)
    if ang < 1e-12:
        r0, r1, r2, r3 = 1.0, 0.5 * g0, 0.5 * g1, 0.5 * g2
        nr = math.sqrt(r0 * r0 + r1 * r1 + r2 * r2 + r3 * r3)
        return r0 / nr, r1 / nr, r2 / nr, r3 / nr
    if ang < 0.05:  # Taylor series of sin(a/2)/a and cos(a/2): the truncation error is below 1e-17
        a2 = ang * ang
        sa = 0.5 - a2 * (1.0 / 48.0 - a2 * (1.0 / 3840.0 - a2 * (1.0 / 645120.0)))
        ca = 1.0 - a2 * (0.125 - a2 * (1.0 / 384.0 - a2 * (1.0 / 46080.0 - a2 * (1.0 / 10321920.0))))
        return ca, g0 * sa, g1 * sa, g2 * sa
    sa = math.sin(ang / 2) / ang
    return math.cos(ang / 2), g0 * sa, g1 * sa, g2 * sa


# --- generated by tools/gen_rts_kernel.py (_rts_chunk_level): do not edit ---
def _rts_chunk_level(
    ax_: Any,
    ay_: Any,
    az_: Any,
    gx_: Any,
    gy_: Any,
    gz_: Any,
    zupt: Any,
    fs: float,
    q0: Any,
    p0: Any,
    v0: Any,
    cov: Any,
    qv: float,
    qt: float,
    rv: float,
    rz: float,
    g: float,
    pos: Any,
    vel: Any,
    quat: Any,
    xs: Any,
    ps: Any,
    ls: Any,
    skew: Any,
) -> None:  # pragma: no cover - jitted
    """Forward filter and smoother over one chunk, in place on ``pos``/``vel``/``quat`` (row 0 = the
    chunk's start state; ``cov`` in: its 9 × 9 error covariance, upper triangle row by row in the order
    ``[v, θ, p_z, p_x, p_y]``; out: the one at the chunk's end).

    The estimator of the matrix form (``F P Fᵀ + Q``, Joseph update, RTS with ``P Fᵀ (P⁻)⁻¹``; main at
    1fb1d9a), reformulated for speed (issue 15); the results agree to rounding (2.5e-10 m on 1 h of
    running; both within 1e-11 m of an extended-precision matrix form on a simulated walk;
    ``tests/gait/test_gait_trajectory_speed.py``):

    * ``p_x``, ``p_y`` are integrators that nothing measures and nothing depends on, so the smoother runs
      on the 7 states ``[v, θ, p_z]``: the smoothed ``p_x``, ``p_y`` errors are the integral of the
      smoothed ``v_x``, ``v_y`` errors (position has no process noise) from their smoothed value at the
      start (their covariance with the 7 states times the adjoint ``r`` there). The filter propagates the
      ``p_x``, ``p_y`` covariance only to hand it to the next chunk.
    * The covariance is symmetric: its upper triangle is held in scalars ``pIJ`` and updated by
      straight-line code (written out once by a small generator: ``F P Fᵀ + Q`` with the sparse ``F``;
      the update through the Cholesky factor ``L`` of ``S = H P Hᵀ + R``: ``W = P Hᵀ L⁻ᵀ``,
      ``e = L⁻¹ ν``, ``M = L⁻¹ R``; unmeasured rows ``o``: ``P[o, o'] -= W Wᵀ``, ``P[o, h] = W[o] M``,
      ``x[o] += W e``; measured ``h``: ``P[h, h] = R - Mᵀ M``, ``x[h] = measured - Mᵀ e``. These forms avoid
      the cancellation of ``P - W Wᵀ`` there (prior velocity variance ~1e6 against R ~1e-7), which moved
      the height by ~1 mm. Two variants: with the height measured (level walking) and without.
    * The smoother is the modified Bryson-Frazier form (no matrix inverse): ``xs = x⁻ + P⁻ r`` with the
      adjoint ``r = (I - K H)ᵀ u + Hᵀ S⁻¹ ν``, ``u = Fᵀ r'`` (``r'`` of the next sample), computed without
      cancellation as ``r[o] = u[o]``, ``r[h] = S⁻¹ (ν + R u[h] - P⁻[h, o] u[o])``. At moving
      samples ``r = u`` and the smoothed error follows forward, ``xs = F xs' + Q r`` (the smoothed process
      noise is ``Q r``), so the prior covariance is stored only at the measured samples.

    Work arrays of at least n + 1 rows, reused from chunk to chunk: ``xs`` (7: prior error at measured
    samples, then the smoothed error or ``r``), ``ps`` (28: prior covariance of the 7 states), ``ls``
    (14: ``L`` below the diagonal, the inverse of its diagonal, ``ν``), ``skew`` (3: ``R a / fs``)."""
    n = ax_.shape[0]
    dt = 1.0 / fs
    hdt2 = 0.5 * dt * dt
    for j in range(3):
        pos[0, j] = p0[j]
        vel[0, j] = v0[j]
    for j in range(4):
        quat[0, j] = q0[j]
    p00 = cov[0]
    p01 = cov[1]
    p02 = cov[2]
    p03 = cov[3]
    p04 = cov[4]
    p05 = cov[5]
    p06 = cov[6]
    p07 = cov[7]
    p08 = cov[8]
    p11 = cov[9]
    p12 = cov[10]
    p13 = cov[11]
    p14 = cov[12]
    p15 = cov[13]
    p16 = cov[14]
    p17 = cov[15]
    p18 = cov[16]
    p22 = cov[17]
    p23 = cov[18]
    p24 = cov[19]
    p25 = cov[20]
    p26 = cov[21]
    p27 = cov[22]
    p28 = cov[23]
    p33 = cov[24]
    p34 = cov[25]
    p35 = cov[26]
    p36 = cov[27]
    p37 = cov[28]
    p38 = cov[29]
    p44 = cov[30]
    p45 = cov[31]
    p46 = cov[32]
    p47 = cov[33]
    p48 = cov[34]
    p55 = cov[35]
    p56 = cov[36]
    p57 = cov[37]
    p58 = cov[38]
    p66 = cov[39]
    p67 = cov[40]
    p68 = cov[41]
    p77 = cov[42]
    p78 = cov[43]
    p88 = cov[44]
    # the start's covariance of p_x, p_y with [v, θ, p_z]
    cx0, cy0 = p07, p08
    cx1, cy1 = p17, p18
    cx2, cy2 = p27, p28
    cx3, cy3 = p37, p38
    cx4, cy4 = p47, p48
    cx5, cy5 = p57, p58
    cx6, cy6 = p67, p68
    x0 = x1 = x2 = x3 = x4 = x5 = x6 = 0.0
    for j in range(7):
        xs[0, j] = 0.0
    ps[0, 0] = p00
    ps[0, 1] = p01
    ps[0, 2] = p02
    ps[0, 3] = p03
    ps[0, 4] = p04
    ps[0, 5] = p05
    ps[0, 6] = p06
    ps[0, 7] = p11
    ps[0, 8] = p12
    ps[0, 9] = p13
    ps[0, 10] = p14
    ps[0, 11] = p15
    ps[0, 12] = p16
    ps[0, 13] = p22
    ps[0, 14] = p23
    ps[0, 15] = p24
    ps[0, 16] = p25
    ps[0, 17] = p26
    ps[0, 18] = p33
    ps[0, 19] = p34
    ps[0, 20] = p35
    ps[0, 21] = p36
    ps[0, 22] = p44
    ps[0, 23] = p45
    ps[0, 24] = p46
    ps[0, 25] = p55
    ps[0, 26] = p56
    ps[0, 27] = p66
    for i in range(n):
        # strapdown: quat ⊗ q(gyr / fs), then the accelerometer rotated to the world frame
        g0, g1, g2 = gx_[i] * dt, gy_[i] * dt, gz_[i] * dt
        r0, r1, r2, r3 = _rotvec_quat_j(g0, g1, g2)
        p0_, p1_, p2_, p3_ = quat[i, 0], quat[i, 1], quat[i, 2], quat[i, 3]
        qw = p0_ * r0 - p1_ * r1 - p2_ * r2 - p3_ * r3
        qx = p0_ * r1 + p1_ * r0 + p2_ * r3 - p3_ * r2
        qy = p0_ * r2 - p1_ * r3 + p2_ * r0 + p3_ * r1
        qz = p0_ * r3 + p1_ * r2 - p2_ * r1 + p3_ * r0
        quat[i + 1, 0], quat[i + 1, 1], quat[i + 1, 2], quat[i + 1, 3] = qw, qx, qy, qz
        v0_, v1_, v2_ = ax_[i], ay_[i], az_[i]
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
        pos[i + 1, 0] = pos[i, 0] + vel[i, 0] * dt + ax * hdt2
        pos[i + 1, 1] = pos[i, 1] + vel[i, 1] * dt + ay * hdt2
        pos[i + 1, 2] = pos[i, 2] + vel[i, 2] * dt + az * hdt2
        vel[i + 1, 0] = vel[i, 0] + ax * dt
        vel[i + 1, 1] = vel[i, 1] + ay * dt
        vel[i + 1, 2] = vel[i, 2] + az * dt
        az += g
        sx, sy, sz = ax * dt, ay * dt, az * dt
        skew[i, 0], skew[i, 1], skew[i, 2] = sx, sy, sz
        # prior error state x = F x, covariance P = F P Fᵀ + Q
        x6 = x6 + dt * x2
        x0, x1, x2 = x0 + sz * x4 - sy * x5, x1 - sz * x3 + sx * x5, x2 + sy * x3 - sx * x4
        t00 = p00 + sz * p04 - sy * p05
        t01 = p01 + sz * p14 - sy * p15
        t02 = p02 + sz * p24 - sy * p25
        t03 = p03 + sz * p34 - sy * p35
        t04 = p04 + sz * p44 - sy * p45
        t05 = p05 + sz * p45 - sy * p55
        t06 = p06 + sz * p46 - sy * p56
        t07 = p07 + sz * p47 - sy * p57
        t08 = p08 + sz * p48 - sy * p58
        t10 = p01 - sz * p03 + sx * p05
        t11 = p11 - sz * p13 + sx * p15
        t12 = p12 - sz * p23 + sx * p25
        t13 = p13 - sz * p33 + sx * p35
        t14 = p14 - sz * p34 + sx * p45
        t15 = p15 - sz * p35 + sx * p55
        t16 = p16 - sz * p36 + sx * p56
        t17 = p17 - sz * p37 + sx * p57
        t18 = p18 - sz * p38 + sx * p58
        t20 = p02 + sy * p03 - sx * p04
        t21 = p12 + sy * p13 - sx * p14
        t22 = p22 + sy * p23 - sx * p24
        t23 = p23 + sy * p33 - sx * p34
        t24 = p24 + sy * p34 - sx * p44
        t25 = p25 + sy * p35 - sx * p45
        t26 = p26 + sy * p36 - sx * p46
        t27 = p27 + sy * p37 - sx * p47
        t28 = p28 + sy * p38 - sx * p48
        t60 = p06 + dt * p02
        t61 = p16 + dt * p12
        t62 = p26 + dt * p22
        t66 = p66 + dt * p26
        t67 = p67 + dt * p27
        t68 = p68 + dt * p28
        t70 = p07 + dt * p00
        t71 = p17 + dt * p01
        t77 = p77 + dt * p07
        t78 = p78 + dt * p08
        t81 = p18 + dt * p11
        t88 = p88 + dt * p18
        n00 = t00 + sz * t04 - sy * t05 + qv
        n01 = t01 - sz * t03 + sx * t05
        n02 = t02 + sy * t03 - sx * t04
        n03 = t03
        n04 = t04
        n05 = t05
        n06 = t06 + dt * t02
        n07 = t07 + dt * t00
        n08 = t08 + dt * t01
        n11 = t11 - sz * t13 + sx * t15 + qv
        n12 = t12 + sy * t13 - sx * t14
        n13 = t13
        n14 = t14
        n15 = t15
        n16 = t16 + dt * t12
        n17 = t17 + dt * t10
        n18 = t18 + dt * t11
        n22 = t22 + sy * t23 - sx * t24 + qv
        n23 = t23
        n24 = t24
        n25 = t25
        n26 = t26 + dt * t22
        n27 = t27 + dt * t20
        n28 = t28 + dt * t21
        n33 = p33 + qt
        n34 = p34
        n35 = p35
        n36 = p36 + dt * p23
        n37 = p37 + dt * p03
        n38 = p38 + dt * p13
        n44 = p44 + qt
        n45 = p45
        n46 = p46 + dt * p24
        n47 = p47 + dt * p04
        n48 = p48 + dt * p14
        n55 = p55 + qt
        n56 = p56 + dt * p25
        n57 = p57 + dt * p05
        n58 = p58 + dt * p15
        n66 = t66 + dt * t62
        n67 = t67 + dt * t60
        n68 = t68 + dt * t61
        n77 = t77 + dt * t70
        n78 = t78 + dt * t71
        n88 = t88 + dt * t81
        p00 = n00
        p01 = n01
        p02 = n02
        p03 = n03
        p04 = n04
        p05 = n05
        p06 = n06
        p07 = n07
        p08 = n08
        p11 = n11
        p12 = n12
        p13 = n13
        p14 = n14
        p15 = n15
        p16 = n16
        p17 = n17
        p18 = n18
        p22 = n22
        p23 = n23
        p24 = n24
        p25 = n25
        p26 = n26
        p27 = n27
        p28 = n28
        p33 = n33
        p34 = n34
        p35 = n35
        p36 = n36
        p37 = n37
        p38 = n38
        p44 = n44
        p45 = n45
        p46 = n46
        p47 = n47
        p48 = n48
        p55 = n55
        p56 = n56
        p57 = n57
        p58 = n58
        p66 = n66
        p67 = n67
        p68 = n68
        p77 = n77
        p78 = n78
        p88 = n88
        if zupt[i]:  # measured sample: the smoother needs its prior (moving samples: see the backward pass)
            xs[i + 1, 0], xs[i + 1, 1], xs[i + 1, 2], xs[i + 1, 3] = x0, x1, x2, x3
            xs[i + 1, 4], xs[i + 1, 5], xs[i + 1, 6] = x4, x5, x6
            ps[i + 1, 0] = p00
            ps[i + 1, 1] = p01
            ps[i + 1, 2] = p02
            ps[i + 1, 3] = p03
            ps[i + 1, 4] = p04
            ps[i + 1, 5] = p05
            ps[i + 1, 6] = p06
            ps[i + 1, 7] = p11
            ps[i + 1, 8] = p12
            ps[i + 1, 9] = p13
            ps[i + 1, 10] = p14
            ps[i + 1, 11] = p15
            ps[i + 1, 12] = p16
            ps[i + 1, 13] = p22
            ps[i + 1, 14] = p23
            ps[i + 1, 15] = p24
            ps[i + 1, 16] = p25
            ps[i + 1, 17] = p26
            ps[i + 1, 18] = p33
            ps[i + 1, 19] = p34
            ps[i + 1, 20] = p35
            ps[i + 1, 21] = p36
            ps[i + 1, 22] = p44
            ps[i + 1, 23] = p45
            ps[i + 1, 24] = p46
            ps[i + 1, 25] = p55
            ps[i + 1, 26] = p56
            ps[i + 1, 27] = p66
            ms0 = vel[i + 1, 0]
            nu0 = ms0 - x0
            ms1 = vel[i + 1, 1]
            nu1 = ms1 - x1
            ms2 = vel[i + 1, 2]
            nu2 = ms2 - x2
            ms3 = pos[i + 1, 2]
            nu3 = ms3 - x6
            l00 = math.sqrt(p00 + rv)
            i0 = 1.0 / l00
            l10 = (p01) * i0
            l11 = math.sqrt(p11 + rv - l10 * l10)
            i1 = 1.0 / l11
            l20 = (p02) * i0
            l21 = (p12 - l20 * l10) * i1
            l22 = math.sqrt(p22 + rv - l20 * l20 - l21 * l21)
            i2 = 1.0 / l22
            l30 = (p06) * i0
            l31 = (p16 - l30 * l10) * i1
            l32 = (p26 - l30 * l20 - l31 * l21) * i2
            l33 = math.sqrt(p66 + rz - l30 * l30 - l31 * l31 - l32 * l32)
            i3 = 1.0 / l33
            li00 = i0
            li11 = i1
            li10 = -(l10 * li00) * i1
            li22 = i2
            li21 = -(l21 * li11) * i2
            li20 = -(l20 * li00 + l21 * li10) * i2
            li33 = i3
            li32 = -(l32 * li22) * i3
            li31 = -(l31 * li11 + l32 * li21) * i3
            li30 = -(l30 * li00 + l31 * li10 + l32 * li20) * i3
            m00 = li00 * rv
            m10 = li10 * rv
            m11 = li11 * rv
            m20 = li20 * rv
            m21 = li21 * rv
            m22 = li22 * rv
            m30 = li30 * rv
            m31 = li31 * rv
            m32 = li32 * rv
            m33 = li33 * rz
            w30 = (p03) * i0
            w31 = (p13 - w30 * l10) * i1
            w32 = (p23 - w30 * l20 - w31 * l21) * i2
            w33 = (p36 - w30 * l30 - w31 * l31 - w32 * l32) * i3
            w40 = (p04) * i0
            w41 = (p14 - w40 * l10) * i1
            w42 = (p24 - w40 * l20 - w41 * l21) * i2
            w43 = (p46 - w40 * l30 - w41 * l31 - w42 * l32) * i3
            w50 = (p05) * i0
            w51 = (p15 - w50 * l10) * i1
            w52 = (p25 - w50 * l20 - w51 * l21) * i2
            w53 = (p56 - w50 * l30 - w51 * l31 - w52 * l32) * i3
            w70 = (p07) * i0
            w71 = (p17 - w70 * l10) * i1
            w72 = (p27 - w70 * l20 - w71 * l21) * i2
            w73 = (p67 - w70 * l30 - w71 * l31 - w72 * l32) * i3
            w80 = (p08) * i0
            w81 = (p18 - w80 * l10) * i1
            w82 = (p28 - w80 * l20 - w81 * l21) * i2
            w83 = (p68 - w80 * l30 - w81 * l31 - w82 * l32) * i3
            e0 = (nu0) * i0
            e1 = (nu1 - l10 * e0) * i1
            e2 = (nu2 - l20 * e0 - l21 * e1) * i2
            e3 = (nu3 - l30 * e0 - l31 * e1 - l32 * e2) * i3
            x3 += w30 * e0 + w31 * e1 + w32 * e2 + w33 * e3
            x4 += w40 * e0 + w41 * e1 + w42 * e2 + w43 * e3
            x5 += w50 * e0 + w51 * e1 + w52 * e2 + w53 * e3
            x0 = ms0 - (m00 * e0 + m10 * e1 + m20 * e2 + m30 * e3)
            x1 = ms1 - (m11 * e1 + m21 * e2 + m31 * e3)
            x2 = ms2 - (m22 * e2 + m32 * e3)
            x6 = ms3 - (m33 * e3)
            p00 = rv - (m00 * m00 + m10 * m10 + m20 * m20 + m30 * m30)
            p01 = -(m10 * m11 + m20 * m21 + m30 * m31)
            p02 = -(m20 * m22 + m30 * m32)
            p03 = w30 * m00 + w31 * m10 + w32 * m20 + w33 * m30
            p04 = w40 * m00 + w41 * m10 + w42 * m20 + w43 * m30
            p05 = w50 * m00 + w51 * m10 + w52 * m20 + w53 * m30
            p06 = -(m30 * m33)
            p07 = w70 * m00 + w71 * m10 + w72 * m20 + w73 * m30
            p08 = w80 * m00 + w81 * m10 + w82 * m20 + w83 * m30
            p11 = rv - (m11 * m11 + m21 * m21 + m31 * m31)
            p12 = -(m21 * m22 + m31 * m32)
            p13 = w31 * m11 + w32 * m21 + w33 * m31
            p14 = w41 * m11 + w42 * m21 + w43 * m31
            p15 = w51 * m11 + w52 * m21 + w53 * m31
            p16 = -(m31 * m33)
            p17 = w71 * m11 + w72 * m21 + w73 * m31
            p18 = w81 * m11 + w82 * m21 + w83 * m31
            p22 = rv - (m22 * m22 + m32 * m32)
            p23 = w32 * m22 + w33 * m32
            p24 = w42 * m22 + w43 * m32
            p25 = w52 * m22 + w53 * m32
            p26 = -(m32 * m33)
            p27 = w72 * m22 + w73 * m32
            p28 = w82 * m22 + w83 * m32
            p33 -= w30 * w30 + w31 * w31 + w32 * w32 + w33 * w33
            p34 -= w30 * w40 + w31 * w41 + w32 * w42 + w33 * w43
            p35 -= w30 * w50 + w31 * w51 + w32 * w52 + w33 * w53
            p36 = w33 * m33
            p37 -= w30 * w70 + w31 * w71 + w32 * w72 + w33 * w73
            p38 -= w30 * w80 + w31 * w81 + w32 * w82 + w33 * w83
            p44 -= w40 * w40 + w41 * w41 + w42 * w42 + w43 * w43
            p45 -= w40 * w50 + w41 * w51 + w42 * w52 + w43 * w53
            p46 = w43 * m33
            p47 -= w40 * w70 + w41 * w71 + w42 * w72 + w43 * w73
            p48 -= w40 * w80 + w41 * w81 + w42 * w82 + w43 * w83
            p55 -= w50 * w50 + w51 * w51 + w52 * w52 + w53 * w53
            p56 = w53 * m33
            p57 -= w50 * w70 + w51 * w71 + w52 * w72 + w53 * w73
            p58 -= w50 * w80 + w51 * w81 + w52 * w82 + w53 * w83
            p66 = rz - (m33 * m33)
            p67 = w73 * m33
            p68 = w83 * m33
            p77 -= w70 * w70 + w71 * w71 + w72 * w72 + w73 * w73
            p78 -= w70 * w80 + w71 * w81 + w72 * w82 + w73 * w83
            p88 -= w80 * w80 + w81 * w81 + w82 * w82 + w83 * w83
            ls[i + 1, 0] = l10
            ls[i + 1, 1] = l20
            ls[i + 1, 2] = l21
            ls[i + 1, 3] = l30
            ls[i + 1, 4] = l31
            ls[i + 1, 5] = l32
            ls[i + 1, 6] = i0
            ls[i + 1, 7] = i1
            ls[i + 1, 8] = i2
            ls[i + 1, 9] = i3
            ls[i + 1, 10] = nu0
            ls[i + 1, 11] = nu1
            ls[i + 1, 12] = nu2
            ls[i + 1, 13] = nu3
    cov[0] = p00
    cov[1] = p01
    cov[2] = p02
    cov[3] = p03
    cov[4] = p04
    cov[5] = p05
    cov[6] = p06
    cov[7] = p07
    cov[8] = p08
    cov[9] = p11
    cov[10] = p12
    cov[11] = p13
    cov[12] = p14
    cov[13] = p15
    cov[14] = p16
    cov[15] = p17
    cov[16] = p18
    cov[17] = p22
    cov[18] = p23
    cov[19] = p24
    cov[20] = p25
    cov[21] = p26
    cov[22] = p27
    cov[23] = p28
    cov[24] = p33
    cov[25] = p34
    cov[26] = p35
    cov[27] = p36
    cov[28] = p37
    cov[29] = p38
    cov[30] = p44
    cov[31] = p45
    cov[32] = p46
    cov[33] = p47
    cov[34] = p48
    cov[35] = p55
    cov[36] = p56
    cov[37] = p57
    cov[38] = p58
    cov[39] = p66
    cov[40] = p67
    cov[41] = p68
    cov[42] = p77
    cov[43] = p78
    cov[44] = p88
    # backward pass (modified Bryson-Frazier), at the measured samples (and the start): xs = x⁻ + P⁻ r,
    # r = (I - K H)ᵀ u + Hᵀ S⁻¹ ν, u = Fᵀ r' (r' the next sample's r); at moving samples r = u only, stored
    # in ``xs`` (the smoothed error there follows in the forward pass below)
    u0 = u1 = u2 = u3 = u4 = u5 = u6 = 0.0
    for k in range(n, -1, -1):
        if k < n:
            sx, sy, sz = skew[k, 0], skew[k, 1], skew[k, 2]
            # u = Fᵀ r (r: the previous sample's u)
            u3 = u3 - sz * u1 + sy * u2
            u4 = u4 + sz * u0 - sx * u2
            u5 = u5 - sy * u0 + sx * u1
            u2 = u2 + dt * u6
        if k == 0 or zupt[k - 1]:
            c00 = ps[k, 0]
            c01 = ps[k, 1]
            c02 = ps[k, 2]
            c03 = ps[k, 3]
            c04 = ps[k, 4]
            c05 = ps[k, 5]
            c06 = ps[k, 6]
            c11 = ps[k, 7]
            c12 = ps[k, 8]
            c13 = ps[k, 9]
            c14 = ps[k, 10]
            c15 = ps[k, 11]
            c16 = ps[k, 12]
            c22 = ps[k, 13]
            c23 = ps[k, 14]
            c24 = ps[k, 15]
            c25 = ps[k, 16]
            c26 = ps[k, 17]
            c33 = ps[k, 18]
            c34 = ps[k, 19]
            c35 = ps[k, 20]
            c36 = ps[k, 21]
            c44 = ps[k, 22]
            c45 = ps[k, 23]
            c46 = ps[k, 24]
            c55 = ps[k, 25]
            c56 = ps[k, 26]
            c66 = ps[k, 27]
            if k > 0:
                d0 = ls[k, 6]
                d1 = ls[k, 7]
                d2 = ls[k, 8]
                d3 = ls[k, 9]
                m10 = ls[k, 0]
                m20 = ls[k, 1]
                m21 = ls[k, 2]
                m30 = ls[k, 3]
                m31 = ls[k, 4]
                m32 = ls[k, 5]
                z0 = (ls[k, 10] + rv * u0 - (c03 * u3 + c04 * u4 + c05 * u5)) * d0
                z1 = (ls[k, 11] + rv * u1 - (c13 * u3 + c14 * u4 + c15 * u5) - m10 * z0) * d1
                z2 = (ls[k, 12] + rv * u2 - (c23 * u3 + c24 * u4 + c25 * u5) - m20 * z0 - m21 * z1) * d2
                z3 = (
                    ls[k, 13] + rz * u6 - (c36 * u3 + c46 * u4 + c56 * u5) - m30 * z0 - m31 * z1 - m32 * z2
                ) * d3
                y3 = (z3) * d3
                y2 = (z2 - m32 * y3) * d2
                y1 = (z1 - m21 * y2 - m31 * y3) * d1
                y0 = (z0 - m10 * y1 - m20 * y2 - m30 * y3) * d0
                u0 = y0
                u1 = y1
                u2 = y2
                u6 = y3
            w0 = c00 * u0 + c01 * u1 + c02 * u2 + c03 * u3 + c04 * u4 + c05 * u5 + c06 * u6
            w1 = c01 * u0 + c11 * u1 + c12 * u2 + c13 * u3 + c14 * u4 + c15 * u5 + c16 * u6
            w2 = c02 * u0 + c12 * u1 + c22 * u2 + c23 * u3 + c24 * u4 + c25 * u5 + c26 * u6
            w3 = c03 * u0 + c13 * u1 + c23 * u2 + c33 * u3 + c34 * u4 + c35 * u5 + c36 * u6
            w4 = c04 * u0 + c14 * u1 + c24 * u2 + c34 * u3 + c44 * u4 + c45 * u5 + c46 * u6
            w5 = c05 * u0 + c15 * u1 + c25 * u2 + c35 * u3 + c45 * u4 + c55 * u5 + c56 * u6
            w6 = c06 * u0 + c16 * u1 + c26 * u2 + c36 * u3 + c46 * u4 + c56 * u5 + c66 * u6
            xs[k, 0], xs[k, 1], xs[k, 2] = xs[k, 0] + w0, xs[k, 1] + w1, xs[k, 2] + w2
            xs[k, 3], xs[k, 4], xs[k, 5], xs[k, 6] = (
                xs[k, 3] + w3,
                xs[k, 4] + w4,
                xs[k, 5] + w5,
                xs[k, 6] + w6,
            )
        else:
            xs[k, 0], xs[k, 1], xs[k, 2], xs[k, 3] = u0, u1, u2, u3
            xs[k, 4], xs[k, 5], xs[k, 6] = u4, u5, u6
    # smoothed p_x, p_y error at the start: its covariance with the others times r
    d0 = cx0 * u0 + cx1 * u1 + cx2 * u2 + cx3 * u3 + cx4 * u4 + cx5 * u5 + cx6 * u6
    d1 = cy0 * u0 + cy1 * u1 + cy2 * u2 + cy3 * u3 + cy4 * u4 + cy5 * u5 + cy6 * u6
    # forward pass: the smoothed error at moving samples, xs = F xs' + Q r (xs' the previous sample's; the
    # smoothed process noise is Q r), and the correction of the nominal states; p_x, p_y integrate v_x, v_y
    e0 = e1 = e2 = e3 = e4 = e5 = e6 = 0.0
    for k in range(n + 1):
        if k == 0 or zupt[k - 1]:
            e0, e1, e2, e3 = xs[k, 0], xs[k, 1], xs[k, 2], xs[k, 3]
            e4, e5, e6 = xs[k, 4], xs[k, 5], xs[k, 6]
        else:
            sx, sy, sz = skew[k - 1, 0], skew[k - 1, 1], skew[k - 1, 2]
            e6 = e6 + dt * e2
            e0 = e0 + sz * e4 - sy * e5 + qv * xs[k, 0]
            e1 = e1 - sz * e3 + sx * e5 + qv * xs[k, 1]
            e2 = e2 + sy * e3 - sx * e4 + qv * xs[k, 2]
            e3 += qt * xs[k, 3]
            e4 += qt * xs[k, 4]
            e5 += qt * xs[k, 5]
        pos[k, 0] -= d0
        pos[k, 1] -= d1
        d0 += dt * e0
        d1 += dt * e1
        pos[k, 2] -= e6
        vel[k, 0] -= e0
        vel[k, 1] -= e1
        vel[k, 2] -= e2
        r0, r1, r2, r3 = _rotvec_quat_j(e3, e4, e5)
        p0_, p1_, p2_, p3_ = quat[k, 0], quat[k, 1], quat[k, 2], quat[k, 3]
        qw = r0 * p0_ - r1 * p1_ - r2 * p2_ - r3 * p3_
        qx = r0 * p1_ + r1 * p0_ + r2 * p3_ - r3 * p2_
        qy = r0 * p2_ - r1 * p3_ + r2 * p0_ + r3 * p1_
        qz = r0 * p3_ + r1 * p2_ - r2 * p1_ + r3 * p0_
        nq = 1.0 / math.sqrt(qw * qw + qx * qx + qy * qy + qz * qz)
        quat[k, 0], quat[k, 1], quat[k, 2], quat[k, 3] = qw * nq, qx * nq, qy * nq, qz * nq


# --- end generated (_rts_chunk_level) ---


# --- generated by tools/gen_rts_kernel.py (_rts_chunk_free): do not edit ---
def _rts_chunk_free(
    ax_: Any,
    ay_: Any,
    az_: Any,
    gx_: Any,
    gy_: Any,
    gz_: Any,
    zupt: Any,
    fs: float,
    q0: Any,
    p0: Any,
    v0: Any,
    cov: Any,
    qv: float,
    qt: float,
    rv: float,
    rz: float,
    g: float,
    pos: Any,
    vel: Any,
    quat: Any,
    xs: Any,
    ps: Any,
    ls: Any,
    skew: Any,
) -> None:  # pragma: no cover - jitted
    """Forward filter and smoother over one chunk, in place on ``pos``/``vel``/``quat`` (row 0 = the
    chunk's start state; ``cov`` in: its 9 × 9 error covariance, upper triangle row by row in the order
    ``[v, θ, p_z, p_x, p_y]``; out: the one at the chunk's end).

    The estimator of the matrix form (``F P Fᵀ + Q``, Joseph update, RTS with ``P Fᵀ (P⁻)⁻¹``; main at
    1fb1d9a), reformulated for speed (issue 15); the results agree to rounding (2.5e-10 m on 1 h of
    running; both within 1e-11 m of an extended-precision matrix form on a simulated walk;
    ``tests/gait/test_gait_trajectory_speed.py``):

    * ``p_x``, ``p_y`` are integrators that nothing measures and nothing depends on, so the smoother runs
      on the 7 states ``[v, θ, p_z]``: the smoothed ``p_x``, ``p_y`` errors are the integral of the
      smoothed ``v_x``, ``v_y`` errors (position has no process noise) from their smoothed value at the
      start (their covariance with the 7 states times the adjoint ``r`` there). The filter propagates the
      ``p_x``, ``p_y`` covariance only to hand it to the next chunk.
    * The covariance is symmetric: its upper triangle is held in scalars ``pIJ`` and updated by
      straight-line code (written out once by a small generator: ``F P Fᵀ + Q`` with the sparse ``F``;
      the update through the Cholesky factor ``L`` of ``S = H P Hᵀ + R``: ``W = P Hᵀ L⁻ᵀ``,
      ``e = L⁻¹ ν``, ``M = L⁻¹ R``; unmeasured rows ``o``: ``P[o, o'] -= W Wᵀ``, ``P[o, h] = W[o] M``,
      ``x[o] += W e``; measured ``h``: ``P[h, h] = R - Mᵀ M``, ``x[h] = measured - Mᵀ e``. These forms avoid
      the cancellation of ``P - W Wᵀ`` there (prior velocity variance ~1e6 against R ~1e-7), which moved
      the height by ~1 mm. Two variants: with the height measured (level walking) and without.
    * The smoother is the modified Bryson-Frazier form (no matrix inverse): ``xs = x⁻ + P⁻ r`` with the
      adjoint ``r = (I - K H)ᵀ u + Hᵀ S⁻¹ ν``, ``u = Fᵀ r'`` (``r'`` of the next sample), computed without
      cancellation as ``r[o] = u[o]``, ``r[h] = S⁻¹ (ν + R u[h] - P⁻[h, o] u[o])``. At moving
      samples ``r = u`` and the smoothed error follows forward, ``xs = F xs' + Q r`` (the smoothed process
      noise is ``Q r``), so the prior covariance is stored only at the measured samples.

    Work arrays of at least n + 1 rows, reused from chunk to chunk: ``xs`` (7: prior error at measured
    samples, then the smoothed error or ``r``), ``ps`` (28: prior covariance of the 7 states), ``ls``
    (14: ``L`` below the diagonal, the inverse of its diagonal, ``ν``), ``skew`` (3: ``R a / fs``)."""
    n = ax_.shape[0]
    dt = 1.0 / fs
    hdt2 = 0.5 * dt * dt
    for j in range(3):
        pos[0, j] = p0[j]
        vel[0, j] = v0[j]
    for j in range(4):
        quat[0, j] = q0[j]
    p00 = cov[0]
    p01 = cov[1]
    p02 = cov[2]
    p03 = cov[3]
    p04 = cov[4]
    p05 = cov[5]
    p06 = cov[6]
    p07 = cov[7]
    p08 = cov[8]
    p11 = cov[9]
    p12 = cov[10]
    p13 = cov[11]
    p14 = cov[12]
    p15 = cov[13]
    p16 = cov[14]
    p17 = cov[15]
    p18 = cov[16]
    p22 = cov[17]
    p23 = cov[18]
    p24 = cov[19]
    p25 = cov[20]
    p26 = cov[21]
    p27 = cov[22]
    p28 = cov[23]
    p33 = cov[24]
    p34 = cov[25]
    p35 = cov[26]
    p36 = cov[27]
    p37 = cov[28]
    p38 = cov[29]
    p44 = cov[30]
    p45 = cov[31]
    p46 = cov[32]
    p47 = cov[33]
    p48 = cov[34]
    p55 = cov[35]
    p56 = cov[36]
    p57 = cov[37]
    p58 = cov[38]
    p66 = cov[39]
    p67 = cov[40]
    p68 = cov[41]
    p77 = cov[42]
    p78 = cov[43]
    p88 = cov[44]
    # the start's covariance of p_x, p_y with [v, θ, p_z]
    cx0, cy0 = p07, p08
    cx1, cy1 = p17, p18
    cx2, cy2 = p27, p28
    cx3, cy3 = p37, p38
    cx4, cy4 = p47, p48
    cx5, cy5 = p57, p58
    cx6, cy6 = p67, p68
    x0 = x1 = x2 = x3 = x4 = x5 = x6 = 0.0
    for j in range(7):
        xs[0, j] = 0.0
    ps[0, 0] = p00
    ps[0, 1] = p01
    ps[0, 2] = p02
    ps[0, 3] = p03
    ps[0, 4] = p04
    ps[0, 5] = p05
    ps[0, 6] = p06
    ps[0, 7] = p11
    ps[0, 8] = p12
    ps[0, 9] = p13
    ps[0, 10] = p14
    ps[0, 11] = p15
    ps[0, 12] = p16
    ps[0, 13] = p22
    ps[0, 14] = p23
    ps[0, 15] = p24
    ps[0, 16] = p25
    ps[0, 17] = p26
    ps[0, 18] = p33
    ps[0, 19] = p34
    ps[0, 20] = p35
    ps[0, 21] = p36
    ps[0, 22] = p44
    ps[0, 23] = p45
    ps[0, 24] = p46
    ps[0, 25] = p55
    ps[0, 26] = p56
    ps[0, 27] = p66
    for i in range(n):
        # strapdown: quat ⊗ q(gyr / fs), then the accelerometer rotated to the world frame
        g0, g1, g2 = gx_[i] * dt, gy_[i] * dt, gz_[i] * dt
        r0, r1, r2, r3 = _rotvec_quat_j(g0, g1, g2)
        p0_, p1_, p2_, p3_ = quat[i, 0], quat[i, 1], quat[i, 2], quat[i, 3]
        qw = p0_ * r0 - p1_ * r1 - p2_ * r2 - p3_ * r3
        qx = p0_ * r1 + p1_ * r0 + p2_ * r3 - p3_ * r2
        qy = p0_ * r2 - p1_ * r3 + p2_ * r0 + p3_ * r1
        qz = p0_ * r3 + p1_ * r2 - p2_ * r1 + p3_ * r0
        quat[i + 1, 0], quat[i + 1, 1], quat[i + 1, 2], quat[i + 1, 3] = qw, qx, qy, qz
        v0_, v1_, v2_ = ax_[i], ay_[i], az_[i]
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
        pos[i + 1, 0] = pos[i, 0] + vel[i, 0] * dt + ax * hdt2
        pos[i + 1, 1] = pos[i, 1] + vel[i, 1] * dt + ay * hdt2
        pos[i + 1, 2] = pos[i, 2] + vel[i, 2] * dt + az * hdt2
        vel[i + 1, 0] = vel[i, 0] + ax * dt
        vel[i + 1, 1] = vel[i, 1] + ay * dt
        vel[i + 1, 2] = vel[i, 2] + az * dt
        az += g
        sx, sy, sz = ax * dt, ay * dt, az * dt
        skew[i, 0], skew[i, 1], skew[i, 2] = sx, sy, sz
        # prior error state x = F x, covariance P = F P Fᵀ + Q
        x6 = x6 + dt * x2
        x0, x1, x2 = x0 + sz * x4 - sy * x5, x1 - sz * x3 + sx * x5, x2 + sy * x3 - sx * x4
        t00 = p00 + sz * p04 - sy * p05
        t01 = p01 + sz * p14 - sy * p15
        t02 = p02 + sz * p24 - sy * p25
        t03 = p03 + sz * p34 - sy * p35
        t04 = p04 + sz * p44 - sy * p45
        t05 = p05 + sz * p45 - sy * p55
        t06 = p06 + sz * p46 - sy * p56
        t07 = p07 + sz * p47 - sy * p57
        t08 = p08 + sz * p48 - sy * p58
        t10 = p01 - sz * p03 + sx * p05
        t11 = p11 - sz * p13 + sx * p15
        t12 = p12 - sz * p23 + sx * p25
        t13 = p13 - sz * p33 + sx * p35
        t14 = p14 - sz * p34 + sx * p45
        t15 = p15 - sz * p35 + sx * p55
        t16 = p16 - sz * p36 + sx * p56
        t17 = p17 - sz * p37 + sx * p57
        t18 = p18 - sz * p38 + sx * p58
        t20 = p02 + sy * p03 - sx * p04
        t21 = p12 + sy * p13 - sx * p14
        t22 = p22 + sy * p23 - sx * p24
        t23 = p23 + sy * p33 - sx * p34
        t24 = p24 + sy * p34 - sx * p44
        t25 = p25 + sy * p35 - sx * p45
        t26 = p26 + sy * p36 - sx * p46
        t27 = p27 + sy * p37 - sx * p47
        t28 = p28 + sy * p38 - sx * p48
        t60 = p06 + dt * p02
        t61 = p16 + dt * p12
        t62 = p26 + dt * p22
        t66 = p66 + dt * p26
        t67 = p67 + dt * p27
        t68 = p68 + dt * p28
        t70 = p07 + dt * p00
        t71 = p17 + dt * p01
        t77 = p77 + dt * p07
        t78 = p78 + dt * p08
        t81 = p18 + dt * p11
        t88 = p88 + dt * p18
        n00 = t00 + sz * t04 - sy * t05 + qv
        n01 = t01 - sz * t03 + sx * t05
        n02 = t02 + sy * t03 - sx * t04
        n03 = t03
        n04 = t04
        n05 = t05
        n06 = t06 + dt * t02
        n07 = t07 + dt * t00
        n08 = t08 + dt * t01
        n11 = t11 - sz * t13 + sx * t15 + qv
        n12 = t12 + sy * t13 - sx * t14
        n13 = t13
        n14 = t14
        n15 = t15
        n16 = t16 + dt * t12
        n17 = t17 + dt * t10
        n18 = t18 + dt * t11
        n22 = t22 + sy * t23 - sx * t24 + qv
        n23 = t23
        n24 = t24
        n25 = t25
        n26 = t26 + dt * t22
        n27 = t27 + dt * t20
        n28 = t28 + dt * t21
        n33 = p33 + qt
        n34 = p34
        n35 = p35
        n36 = p36 + dt * p23
        n37 = p37 + dt * p03
        n38 = p38 + dt * p13
        n44 = p44 + qt
        n45 = p45
        n46 = p46 + dt * p24
        n47 = p47 + dt * p04
        n48 = p48 + dt * p14
        n55 = p55 + qt
        n56 = p56 + dt * p25
        n57 = p57 + dt * p05
        n58 = p58 + dt * p15
        n66 = t66 + dt * t62
        n67 = t67 + dt * t60
        n68 = t68 + dt * t61
        n77 = t77 + dt * t70
        n78 = t78 + dt * t71
        n88 = t88 + dt * t81
        p00 = n00
        p01 = n01
        p02 = n02
        p03 = n03
        p04 = n04
        p05 = n05
        p06 = n06
        p07 = n07
        p08 = n08
        p11 = n11
        p12 = n12
        p13 = n13
        p14 = n14
        p15 = n15
        p16 = n16
        p17 = n17
        p18 = n18
        p22 = n22
        p23 = n23
        p24 = n24
        p25 = n25
        p26 = n26
        p27 = n27
        p28 = n28
        p33 = n33
        p34 = n34
        p35 = n35
        p36 = n36
        p37 = n37
        p38 = n38
        p44 = n44
        p45 = n45
        p46 = n46
        p47 = n47
        p48 = n48
        p55 = n55
        p56 = n56
        p57 = n57
        p58 = n58
        p66 = n66
        p67 = n67
        p68 = n68
        p77 = n77
        p78 = n78
        p88 = n88
        if zupt[i]:  # measured sample: the smoother needs its prior (moving samples: see the backward pass)
            xs[i + 1, 0], xs[i + 1, 1], xs[i + 1, 2], xs[i + 1, 3] = x0, x1, x2, x3
            xs[i + 1, 4], xs[i + 1, 5], xs[i + 1, 6] = x4, x5, x6
            ps[i + 1, 0] = p00
            ps[i + 1, 1] = p01
            ps[i + 1, 2] = p02
            ps[i + 1, 3] = p03
            ps[i + 1, 4] = p04
            ps[i + 1, 5] = p05
            ps[i + 1, 6] = p06
            ps[i + 1, 7] = p11
            ps[i + 1, 8] = p12
            ps[i + 1, 9] = p13
            ps[i + 1, 10] = p14
            ps[i + 1, 11] = p15
            ps[i + 1, 12] = p16
            ps[i + 1, 13] = p22
            ps[i + 1, 14] = p23
            ps[i + 1, 15] = p24
            ps[i + 1, 16] = p25
            ps[i + 1, 17] = p26
            ps[i + 1, 18] = p33
            ps[i + 1, 19] = p34
            ps[i + 1, 20] = p35
            ps[i + 1, 21] = p36
            ps[i + 1, 22] = p44
            ps[i + 1, 23] = p45
            ps[i + 1, 24] = p46
            ps[i + 1, 25] = p55
            ps[i + 1, 26] = p56
            ps[i + 1, 27] = p66
            ms0 = vel[i + 1, 0]
            nu0 = ms0 - x0
            ms1 = vel[i + 1, 1]
            nu1 = ms1 - x1
            ms2 = vel[i + 1, 2]
            nu2 = ms2 - x2
            l00 = math.sqrt(p00 + rv)
            i0 = 1.0 / l00
            l10 = (p01) * i0
            l11 = math.sqrt(p11 + rv - l10 * l10)
            i1 = 1.0 / l11
            l20 = (p02) * i0
            l21 = (p12 - l20 * l10) * i1
            l22 = math.sqrt(p22 + rv - l20 * l20 - l21 * l21)
            i2 = 1.0 / l22
            li00 = i0
            li11 = i1
            li10 = -(l10 * li00) * i1
            li22 = i2
            li21 = -(l21 * li11) * i2
            li20 = -(l20 * li00 + l21 * li10) * i2
            m00 = li00 * rv
            m10 = li10 * rv
            m11 = li11 * rv
            m20 = li20 * rv
            m21 = li21 * rv
            m22 = li22 * rv
            w30 = (p03) * i0
            w31 = (p13 - w30 * l10) * i1
            w32 = (p23 - w30 * l20 - w31 * l21) * i2
            w40 = (p04) * i0
            w41 = (p14 - w40 * l10) * i1
            w42 = (p24 - w40 * l20 - w41 * l21) * i2
            w50 = (p05) * i0
            w51 = (p15 - w50 * l10) * i1
            w52 = (p25 - w50 * l20 - w51 * l21) * i2
            w60 = (p06) * i0
            w61 = (p16 - w60 * l10) * i1
            w62 = (p26 - w60 * l20 - w61 * l21) * i2
            w70 = (p07) * i0
            w71 = (p17 - w70 * l10) * i1
            w72 = (p27 - w70 * l20 - w71 * l21) * i2
            w80 = (p08) * i0
            w81 = (p18 - w80 * l10) * i1
            w82 = (p28 - w80 * l20 - w81 * l21) * i2
            e0 = (nu0) * i0
            e1 = (nu1 - l10 * e0) * i1
            e2 = (nu2 - l20 * e0 - l21 * e1) * i2
            x3 += w30 * e0 + w31 * e1 + w32 * e2
            x4 += w40 * e0 + w41 * e1 + w42 * e2
            x5 += w50 * e0 + w51 * e1 + w52 * e2
            x6 += w60 * e0 + w61 * e1 + w62 * e2
            x0 = ms0 - (m00 * e0 + m10 * e1 + m20 * e2)
            x1 = ms1 - (m11 * e1 + m21 * e2)
            x2 = ms2 - (m22 * e2)
            p00 = rv - (m00 * m00 + m10 * m10 + m20 * m20)
            p01 = -(m10 * m11 + m20 * m21)
            p02 = -(m20 * m22)
            p03 = w30 * m00 + w31 * m10 + w32 * m20
            p04 = w40 * m00 + w41 * m10 + w42 * m20
            p05 = w50 * m00 + w51 * m10 + w52 * m20
            p06 = w60 * m00 + w61 * m10 + w62 * m20
            p07 = w70 * m00 + w71 * m10 + w72 * m20
            p08 = w80 * m00 + w81 * m10 + w82 * m20
            p11 = rv - (m11 * m11 + m21 * m21)
            p12 = -(m21 * m22)
            p13 = w31 * m11 + w32 * m21
            p14 = w41 * m11 + w42 * m21
            p15 = w51 * m11 + w52 * m21
            p16 = w61 * m11 + w62 * m21
            p17 = w71 * m11 + w72 * m21
            p18 = w81 * m11 + w82 * m21
            p22 = rv - (m22 * m22)
            p23 = w32 * m22
            p24 = w42 * m22
            p25 = w52 * m22
            p26 = w62 * m22
            p27 = w72 * m22
            p28 = w82 * m22
            p33 -= w30 * w30 + w31 * w31 + w32 * w32
            p34 -= w30 * w40 + w31 * w41 + w32 * w42
            p35 -= w30 * w50 + w31 * w51 + w32 * w52
            p36 -= w30 * w60 + w31 * w61 + w32 * w62
            p37 -= w30 * w70 + w31 * w71 + w32 * w72
            p38 -= w30 * w80 + w31 * w81 + w32 * w82
            p44 -= w40 * w40 + w41 * w41 + w42 * w42
            p45 -= w40 * w50 + w41 * w51 + w42 * w52
            p46 -= w40 * w60 + w41 * w61 + w42 * w62
            p47 -= w40 * w70 + w41 * w71 + w42 * w72
            p48 -= w40 * w80 + w41 * w81 + w42 * w82
            p55 -= w50 * w50 + w51 * w51 + w52 * w52
            p56 -= w50 * w60 + w51 * w61 + w52 * w62
            p57 -= w50 * w70 + w51 * w71 + w52 * w72
            p58 -= w50 * w80 + w51 * w81 + w52 * w82
            p66 -= w60 * w60 + w61 * w61 + w62 * w62
            p67 -= w60 * w70 + w61 * w71 + w62 * w72
            p68 -= w60 * w80 + w61 * w81 + w62 * w82
            p77 -= w70 * w70 + w71 * w71 + w72 * w72
            p78 -= w70 * w80 + w71 * w81 + w72 * w82
            p88 -= w80 * w80 + w81 * w81 + w82 * w82
            ls[i + 1, 0] = l10
            ls[i + 1, 1] = l20
            ls[i + 1, 2] = l21
            ls[i + 1, 3] = i0
            ls[i + 1, 4] = i1
            ls[i + 1, 5] = i2
            ls[i + 1, 6] = nu0
            ls[i + 1, 7] = nu1
            ls[i + 1, 8] = nu2
    cov[0] = p00
    cov[1] = p01
    cov[2] = p02
    cov[3] = p03
    cov[4] = p04
    cov[5] = p05
    cov[6] = p06
    cov[7] = p07
    cov[8] = p08
    cov[9] = p11
    cov[10] = p12
    cov[11] = p13
    cov[12] = p14
    cov[13] = p15
    cov[14] = p16
    cov[15] = p17
    cov[16] = p18
    cov[17] = p22
    cov[18] = p23
    cov[19] = p24
    cov[20] = p25
    cov[21] = p26
    cov[22] = p27
    cov[23] = p28
    cov[24] = p33
    cov[25] = p34
    cov[26] = p35
    cov[27] = p36
    cov[28] = p37
    cov[29] = p38
    cov[30] = p44
    cov[31] = p45
    cov[32] = p46
    cov[33] = p47
    cov[34] = p48
    cov[35] = p55
    cov[36] = p56
    cov[37] = p57
    cov[38] = p58
    cov[39] = p66
    cov[40] = p67
    cov[41] = p68
    cov[42] = p77
    cov[43] = p78
    cov[44] = p88
    # backward pass (modified Bryson-Frazier), at the measured samples (and the start): xs = x⁻ + P⁻ r,
    # r = (I - K H)ᵀ u + Hᵀ S⁻¹ ν, u = Fᵀ r' (r' the next sample's r); at moving samples r = u only, stored
    # in ``xs`` (the smoothed error there follows in the forward pass below)
    u0 = u1 = u2 = u3 = u4 = u5 = u6 = 0.0
    for k in range(n, -1, -1):
        if k < n:
            sx, sy, sz = skew[k, 0], skew[k, 1], skew[k, 2]
            # u = Fᵀ r (r: the previous sample's u)
            u3 = u3 - sz * u1 + sy * u2
            u4 = u4 + sz * u0 - sx * u2
            u5 = u5 - sy * u0 + sx * u1
            u2 = u2 + dt * u6
        if k == 0 or zupt[k - 1]:
            c00 = ps[k, 0]
            c01 = ps[k, 1]
            c02 = ps[k, 2]
            c03 = ps[k, 3]
            c04 = ps[k, 4]
            c05 = ps[k, 5]
            c06 = ps[k, 6]
            c11 = ps[k, 7]
            c12 = ps[k, 8]
            c13 = ps[k, 9]
            c14 = ps[k, 10]
            c15 = ps[k, 11]
            c16 = ps[k, 12]
            c22 = ps[k, 13]
            c23 = ps[k, 14]
            c24 = ps[k, 15]
            c25 = ps[k, 16]
            c26 = ps[k, 17]
            c33 = ps[k, 18]
            c34 = ps[k, 19]
            c35 = ps[k, 20]
            c36 = ps[k, 21]
            c44 = ps[k, 22]
            c45 = ps[k, 23]
            c46 = ps[k, 24]
            c55 = ps[k, 25]
            c56 = ps[k, 26]
            c66 = ps[k, 27]
            if k > 0:
                d0 = ls[k, 3]
                d1 = ls[k, 4]
                d2 = ls[k, 5]
                m10 = ls[k, 0]
                m20 = ls[k, 1]
                m21 = ls[k, 2]
                z0 = (ls[k, 6] + rv * u0 - (c03 * u3 + c04 * u4 + c05 * u5 + c06 * u6)) * d0
                z1 = (ls[k, 7] + rv * u1 - (c13 * u3 + c14 * u4 + c15 * u5 + c16 * u6) - m10 * z0) * d1
                z2 = (
                    ls[k, 8] + rv * u2 - (c23 * u3 + c24 * u4 + c25 * u5 + c26 * u6) - m20 * z0 - m21 * z1
                ) * d2
                y2 = (z2) * d2
                y1 = (z1 - m21 * y2) * d1
                y0 = (z0 - m10 * y1 - m20 * y2) * d0
                u0 = y0
                u1 = y1
                u2 = y2
            w0 = c00 * u0 + c01 * u1 + c02 * u2 + c03 * u3 + c04 * u4 + c05 * u5 + c06 * u6
            w1 = c01 * u0 + c11 * u1 + c12 * u2 + c13 * u3 + c14 * u4 + c15 * u5 + c16 * u6
            w2 = c02 * u0 + c12 * u1 + c22 * u2 + c23 * u3 + c24 * u4 + c25 * u5 + c26 * u6
            w3 = c03 * u0 + c13 * u1 + c23 * u2 + c33 * u3 + c34 * u4 + c35 * u5 + c36 * u6
            w4 = c04 * u0 + c14 * u1 + c24 * u2 + c34 * u3 + c44 * u4 + c45 * u5 + c46 * u6
            w5 = c05 * u0 + c15 * u1 + c25 * u2 + c35 * u3 + c45 * u4 + c55 * u5 + c56 * u6
            w6 = c06 * u0 + c16 * u1 + c26 * u2 + c36 * u3 + c46 * u4 + c56 * u5 + c66 * u6
            xs[k, 0], xs[k, 1], xs[k, 2] = xs[k, 0] + w0, xs[k, 1] + w1, xs[k, 2] + w2
            xs[k, 3], xs[k, 4], xs[k, 5], xs[k, 6] = (
                xs[k, 3] + w3,
                xs[k, 4] + w4,
                xs[k, 5] + w5,
                xs[k, 6] + w6,
            )
        else:
            xs[k, 0], xs[k, 1], xs[k, 2], xs[k, 3] = u0, u1, u2, u3
            xs[k, 4], xs[k, 5], xs[k, 6] = u4, u5, u6
    # smoothed p_x, p_y error at the start: its covariance with the others times r
    d0 = cx0 * u0 + cx1 * u1 + cx2 * u2 + cx3 * u3 + cx4 * u4 + cx5 * u5 + cx6 * u6
    d1 = cy0 * u0 + cy1 * u1 + cy2 * u2 + cy3 * u3 + cy4 * u4 + cy5 * u5 + cy6 * u6
    # forward pass: the smoothed error at moving samples, xs = F xs' + Q r (xs' the previous sample's; the
    # smoothed process noise is Q r), and the correction of the nominal states; p_x, p_y integrate v_x, v_y
    e0 = e1 = e2 = e3 = e4 = e5 = e6 = 0.0
    for k in range(n + 1):
        if k == 0 or zupt[k - 1]:
            e0, e1, e2, e3 = xs[k, 0], xs[k, 1], xs[k, 2], xs[k, 3]
            e4, e5, e6 = xs[k, 4], xs[k, 5], xs[k, 6]
        else:
            sx, sy, sz = skew[k - 1, 0], skew[k - 1, 1], skew[k - 1, 2]
            e6 = e6 + dt * e2
            e0 = e0 + sz * e4 - sy * e5 + qv * xs[k, 0]
            e1 = e1 - sz * e3 + sx * e5 + qv * xs[k, 1]
            e2 = e2 + sy * e3 - sx * e4 + qv * xs[k, 2]
            e3 += qt * xs[k, 3]
            e4 += qt * xs[k, 4]
            e5 += qt * xs[k, 5]
        pos[k, 0] -= d0
        pos[k, 1] -= d1
        d0 += dt * e0
        d1 += dt * e1
        pos[k, 2] -= e6
        vel[k, 0] -= e0
        vel[k, 1] -= e1
        vel[k, 2] -= e2
        r0, r1, r2, r3 = _rotvec_quat_j(e3, e4, e5)
        p0_, p1_, p2_, p3_ = quat[k, 0], quat[k, 1], quat[k, 2], quat[k, 3]
        qw = r0 * p0_ - r1 * p1_ - r2 * p2_ - r3 * p3_
        qx = r0 * p1_ + r1 * p0_ + r2 * p3_ - r3 * p2_
        qy = r0 * p2_ - r1 * p3_ + r2 * p0_ + r3 * p1_
        qz = r0 * p3_ + r1 * p2_ - r2 * p1_ + r3 * p0_
        nq = 1.0 / math.sqrt(qw * qw + qx * qx + qy * qy + qz * qz)
        quat[k, 0], quat[k, 1], quat[k, 2], quat[k, 3] = qw * nq, qx * nq, qy * nq, qz * nq


# --- end generated (_rts_chunk_free) ---


def _kernel(level: bool) -> Callable[..., Any]:
    """The compiled chunk smoother, with or without the height measurement (its helper compiled first:
    numba resolves it in the module's globals when it compiles the caller)."""
    global _rotvec_quat_j
    if _rotvec_quat_j is None:
        _rotvec_quat_j = _jit(_rotvec_quat)
    return _jit(_rts_chunk_level if level else _rts_chunk_free)


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
        # one contiguous array per axis (no copy for the usual float64 columns)
        ax, ay, az, gx, gy, gz = (
            np.ascontiguousarray(data[c].to_numpy(float))
            for c in ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z")
        )
        # a finite sum proves every value finite (NaN and ±inf propagate); else check each value
        with np.errstate(over="ignore", invalid="ignore"):
            total = sum(float(c.sum()) for c in (ax, ay, az, gx, gy, gz))
        if not math.isfinite(total) and not all(np.isfinite(c).all() for c in (ax, ay, az, gx, gy, gz)):
            raise ImuDataError("foot trajectory: the signals contain NaN or infinite values")
        n = len(ax)
        if zupt is None:  # ``zero_velocity_mask``, compiled (the signals are finite here)
            win = max(round(self.zupt_window_s * fs), 2)
            still = np.empty(n, dtype=bool)
            _jit(_still_mask_loop)(gx, gy, gz, win, max(win // 2, 1), float(self.zupt_threshold_rad_s), still)
        else:
            still = np.asarray(zupt, dtype=bool)
            if still.shape != (n,):
                raise ValueError(f"zupt must have one flag per sample ({n}), got shape {still.shape}")
        starts, stops = _still_runs(still)
        if not len(starts) or starts[0] > round(0.5 * fs):
            raise ImuDataError(
                "foot trajectory needs the foot still at the start of the recording (within 0.5 s) to find "
                "its initial orientation; no zero-velocity period there"
            )
        a0, b0 = int(starts[0]), int(stops[0])
        if initial_quaternion is None:
            b = max(b0, a0 + 1)
            q0 = gravity_quaternion(np.column_stack((ax[a0:b], ay[a0:b], az[a0:b])))
        else:
            q0 = np.asarray(initial_quaternion, dtype=float).reshape(4) / np.linalg.norm(initial_quaternion)
        qv, qt = float(self.velocity_error_variance_m2_s2), float(self.orientation_error_variance_rad2)
        rv = float(self.zupt_variance_m2_s2)
        rz = float(self.level_walking_variance_m2)
        # error covariance of [v, θ, p_z, p_x, p_y] (upper triangle): the process noise at the start
        cov = np.zeros(len(_SYM9))
        cov[[_SYM9[(j, j)] for j in range(3)]] = qv
        cov[[_SYM9[(j, j)] for j in range(3, 6)]] = qt
        # every row after the first is written by the kernel
        pos, vel, quat = np.empty((n + 1, 3)), np.empty((n + 1, 3)), np.empty((n + 1, 4))
        pos[0], vel[0], quat[0] = 0.0, 0.0, q0
        kernel = _kernel(bool(self.level_walking))
        chunks = self._chunks(still, n, fs)
        rows = max((hi - lo for lo, hi in chunks), default=0) + 1
        xs, ps, ls, skew = (
            np.empty((rows, 7)),
            np.empty((rows, _NSYM)),
            np.empty((rows, 14)),
            np.empty((rows, 3)),
        )
        for lo, hi in chunks:
            p_in, v_in, q_in = pos[lo].copy(), vel[lo].copy(), quat[lo].copy()
            kernel(
                ax[lo:hi],
                ay[lo:hi],
                az[lo:hi],
                gx[lo:hi],
                gy[lo:hi],
                gz[lo:hi],
                still[lo:hi],
                fs,
                q_in,
                p_in,
                v_in,
                cov,
                qv,
                qt,
                rv,
                rz,
                G,
                pos[lo : hi + 1],
                vel[lo : hi + 1],
                quat[lo : hi + 1],
                xs,
                ps,
                ls,
                skew,
            )
        self.position_, self.velocity_ = pos[1:], vel[1:]
        self.orientation_ = quat[1:]  # unit quaternions (normalised by the kernel)
        self.zupt_ = still
        return self

    def _chunks(self, still: BoolArray, n: int, fs: float) -> list[tuple[int, int]]:
        """``[lo, hi)`` sample ranges of at most about ``chunk_s``, cut at the middle of still periods."""
        target = max(int(self.chunk_s * fs), 1)
        starts, stops = _still_runs(still)
        mids = (starts + stops) // 2
        cuts = [0]
        while n - cuts[-1] > target:
            want = cuts[-1] + target
            ok = mids[(mids > cuts[-1] + target // 4) & (mids <= want)]
            cuts.append(int(ok[-1]) if len(ok) else want)
        cuts.append(n)
        return list(itertools.pairwise(cuts))
