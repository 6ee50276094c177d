"""Compiled Madgwick (2011) IMU filter and the :class:`Orientation` result shared by every stage.

The filter is the IMU (gyroscope + accelerometer) update of ``ahrs.filters.Madgwick.updateIMU``
(Garcia, ``ahrs`` 0.4), step for step -- the same objective function, Jacobian, normalisations, gain and
initial quaternion -- compiled with numba instead of running one Python call per sample. It is checked
against ``ahrs`` in ``tests/gait/test_gait_orientation.py`` (real recordings and simulated ones) and timed
against it in ``bench/imu_speed.py``.

S. O. H. Madgwick, A. J. L. Harrison, R. Vaidyanathan, "Estimation of IMU and MARG orientation using a
gradient descent algorithm", IEEE ICORR 2011.

numba is imported on the first orientation estimate, not with the package (commands that never touch
IMU data do not pay its import); the compiled kernel is cached on disk (``cache=True``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from stridelab.gait._kernels import vertical_from_quaternions

__all__ = ["Orientation", "estimate_orientation", "estimate_orientations", "madgwick_quaternions"]

FloatArray = npt.NDArray[np.float64]

#: Madgwick's IMU gain (the ``ahrs`` default for an IMU without magnetometer).
DEFAULT_GAIN = 0.033


def _madgwick_step(
    pw: float,
    px: float,
    py: float,
    pz: float,
    gx: float,
    gy: float,
    gz: float,
    ax: float,
    ay: float,
    az: float,
    dt: float,
    gain: float,
) -> tuple[float, float, float, float]:  # pragma: no cover - jitted
    """One ahrs ``updateIMU`` step from the previous estimate ``p`` with gyroscope ``g`` and accelerometer
    ``a``: the next (normalised) quaternion."""
    # ahrs: q = Quaternion(Q[t-1]) normalises the previous estimate
    nq = math.sqrt(pw * pw + px * px + py * py + pz * pz)
    qw, qx, qy, qz = pw / nq, px / nq, py / nq, pz / nq
    if gx * gx + gy * gy + gz * gz == 0.0:  # ahrs: norm(gyr) == 0 (the same test without the root)
        return qw, qx, qy, qz
    # qDot = 0.5 * q ⊗ (0, ω)                                            (eq. 12)
    dw = 0.5 * (-qx * gx - qy * gy - qz * gz)
    dx = 0.5 * (qw * gx + qy * gz - qz * gy)
    dy = 0.5 * (qw * gy - qx * gz + qz * gx)
    dz = 0.5 * (qw * gz + qx * gy - qy * gx)
    a_norm = math.sqrt(ax * ax + ay * ay + az * az)
    if a_norm > 0.0:
        ax, ay, az = ax / a_norm, ay / a_norm, az / a_norm
        m = math.sqrt(qw * qw + qx * qx + qy * qy + qz * qz)
        w, x, y, z = qw / m, qx / m, qy / m, qz / m
        # objective function (eq. 25)
        f0 = 2.0 * (x * z - w * y) - ax
        f1 = 2.0 * (w * x + y * z) - ay
        f2 = 2.0 * (0.5 - x * x - y * y) - az
        if f0 * f0 + f1 * f1 + f2 * f2 > 0.0:  # ahrs: norm(f) > 0
            # gradient = Jᵀ f with the Jacobian of eq. 26                (eq. 34)
            j0 = -2.0 * y * f0 + 2.0 * x * f1
            j1 = 2.0 * z * f0 + 2.0 * w * f1 - 4.0 * x * f2
            j2 = -2.0 * w * f0 + 2.0 * z * f1 - 4.0 * y * f2
            j3 = 2.0 * x * f0 + 2.0 * y * f1
            gn = math.sqrt(j0 * j0 + j1 * j1 + j2 * j2 + j3 * j3)
            dw -= gain * (j0 / gn)  # (eq. 33)
            dx -= gain * (j1 / gn)
            dy -= gain * (j2 / gn)
            dz -= gain * (j3 / gn)
    # integrate (eq. 13) and normalise
    nw, nx, ny, nz = qw + dw * dt, qx + dx * dt, qy + dy * dt, qz + dz * dt
    nn = math.sqrt(nw * nw + nx * nx + ny * ny + nz * nz)
    return nw / nn, nx / nn, ny / nn, nz / nn


def _madgwick_advance(
    acc: Any, gyr: Any, out: Any, t: int, dt: float, gain: float
) -> None:  # pragma: no cover
    """``out[t]`` = one filter step from ``out[t - 1]`` with sample ``t`` (the loops' one statement)."""
    out[t, 0], out[t, 1], out[t, 2], out[t, 3] = _madgwick_step(
        out[t - 1, 0],
        out[t - 1, 1],
        out[t - 1, 2],
        out[t - 1, 3],
        gyr[t, 0],
        gyr[t, 1],
        gyr[t, 2],
        acc[t, 0],
        acc[t, 1],
        acc[t, 2],
        dt,
        gain,
    )


def _madgwick_loop(acc: Any, gyr: Any, dt: float, gain: float, out: Any, t0: int) -> None:  # pragma: no cover
    """``out[t0 - 1]`` holds the previous (for t0 = 1: the initial) quaternion; fills ``out[t0:]``."""
    for t in range(t0, acc.shape[0]):
        _madgwick_advance(acc, gyr, out, t, dt, gain)


def _madgwick_lanes(
    acc_a: Any,
    gyr_a: Any,
    out_a: Any,
    acc_b: Any,
    gyr_b: Any,
    out_b: Any,
    acc_c: Any,
    gyr_c: Any,
    out_c: Any,
    lanes: int,
    dt: float,
    gain: float,
) -> None:  # pragma: no cover - jitted
    """Two or three sensors' filters side by side (one sample of each per iteration): each filter is a
    chain of dependent roots and divisions, so the processor overlaps the sensors' chains. The same
    steps as :func:`_madgwick_loop` per sensor (bitwise); the longer ones finish alone."""
    n = min(acc_a.shape[0], acc_b.shape[0])
    if lanes == 3:
        n = min(n, acc_c.shape[0])
        for t in range(1, n):
            _madgwick_advance(acc_a, gyr_a, out_a, t, dt, gain)
            _madgwick_advance(acc_b, gyr_b, out_b, t, dt, gain)
            _madgwick_advance(acc_c, gyr_c, out_c, t, dt, gain)
        _madgwick_loop(acc_c, gyr_c, dt, gain, out_c, max(n, 1))
    else:
        for t in range(1, n):
            _madgwick_advance(acc_a, gyr_a, out_a, t, dt, gain)
            _madgwick_advance(acc_b, gyr_b, out_b, t, dt, gain)
    _madgwick_loop(acc_a, gyr_a, dt, gain, out_a, max(n, 1))
    _madgwick_loop(acc_b, gyr_b, dt, gain, out_b, max(n, 1))


_KERNELS: dict[str, Callable[..., None]] = {}


def _kernel(name: str = "_madgwick_loop") -> Callable[..., None]:
    """The compiled filter loop ``name`` (numba imported and the loops compiled on first use; the machine
    code is cached on disk)."""
    if name not in _KERNELS:
        import numba

        jit = numba.njit(cache=True, nogil=True, fastmath=False)
        step = jit(_madgwick_step)
        globals()["_madgwick_step"] = step  # numba resolves the loops' calls from this namespace
        globals()["_madgwick_advance"] = jit(_madgwick_advance)
        loop = jit(_madgwick_loop)
        globals()["_madgwick_loop"] = loop
        _KERNELS["_madgwick_loop"] = loop
        _KERNELS["_madgwick_lanes"] = jit(_madgwick_lanes)
    return _KERNELS[name]


def quat_from_up(up: FloatArray) -> FloatArray:
    """Quaternion rotating sensor vector ``up`` onto earth z (shortest arc)."""
    z = np.array([0.0, 0.0, 1.0])
    c = float(np.clip(up @ z, -1.0, 1.0))
    axis = np.cross(up, z)
    n = float(np.linalg.norm(axis))
    if n < 1e-9:
        return np.array([1.0, 0.0, 0.0, 0.0]) if c > 0 else np.array([0.0, 1.0, 0.0, 0.0])
    axis /= n
    half = np.arccos(c) / 2
    return np.asarray(np.r_[np.cos(half), np.sin(half) * axis], dtype=np.float64)


def initial_quaternion(acc: FloatArray, fs: float) -> FloatArray:
    """Initial orientation from the first second of accelerometer data (gravity = earth up)."""
    head = acc[: max(int(fs), 2)]
    m = np.nanmean(head, axis=0)
    norm = float(np.linalg.norm(m))
    if not norm > 0:
        raise ValueError("Cannot find gravity: the mean acceleration is zero")
    return quat_from_up(np.asarray(m / norm, dtype=float))


def madgwick_quaternions(
    acc: npt.ArrayLike, gyr: npt.ArrayLike, fs: float, *, gain: float = DEFAULT_GAIN, q0: npt.ArrayLike
) -> FloatArray:
    """Quaternions (N, 4; w, x, y, z; sensor → earth, z up) of the compiled Madgwick IMU filter.

    Same inputs and result as ``ahrs.filters.Madgwick(gyr=gyr, acc=acc, frequency=fs, gain=gain,
    q0=q0).Q`` (acc in any unit -- it is normalised; gyr in rad/s).
    """
    a = np.ascontiguousarray(acc, dtype=np.float64)
    g = np.ascontiguousarray(gyr, dtype=np.float64)
    if a.shape != g.shape or a.ndim != 2 or a.shape[1] != 3:
        raise ValueError(f"Madgwick filter: acc and gyr must both be (N, 3), got {a.shape} and {g.shape}")
    if not fs > 0:
        raise ValueError(f"Madgwick filter: the sampling rate must be positive, got {fs!r}")
    out = np.empty((len(a), 4), dtype=np.float64)
    if len(a) == 0:
        return out
    q = np.asarray(q0, dtype=np.float64)
    out[0] = q / np.linalg.norm(q)
    _kernel()(a, g, 1.0 / float(fs), float(gain), out, 1)
    return out


class Orientation:
    """The orientation of one sensor over time, computed once and shared by detectors and metrics.

    ``quaternions`` (N, 4; w, x, y, z) rotate sensor coordinates into an earth frame whose z axis points
    up (heading arbitrary: no magnetometer). :attr:`up_sensor` -- earth 'up' in sensor coordinates per
    sample -- is what the gait stages use; it is computed on first use and kept.
    """

    __slots__ = ("_up", "gain", "method", "quaternions", "sampling_rate_hz")

    quaternions: FloatArray
    sampling_rate_hz: float
    method: str
    gain: float

    def __init__(self, quaternions: FloatArray, sampling_rate_hz: float, *, method: str, gain: float) -> None:
        q = np.asarray(quaternions, dtype=np.float64)
        if q.ndim != 2 or q.shape[1] != 4:
            raise ValueError(f"Orientation: quaternions must be (N, 4), got {q.shape}")
        self.quaternions = q
        self.sampling_rate_hz = float(sampling_rate_hz)
        self.method = method
        self.gain = float(gain)
        self._up: FloatArray | None = None

    def __len__(self) -> int:
        return len(self.quaternions)

    def __repr__(self) -> str:
        return (
            f"Orientation(n={len(self)}, sampling_rate_hz={self.sampling_rate_hz:g}, method={self.method!r}, "
            f"gain={self.gain:g})"
        )

    @property
    def up_sensor(self) -> FloatArray:
        """Earth 'up' in sensor coordinates for each sample (N, 3; unit vectors)."""
        if self._up is None:
            self._up = vertical_in_sensor(self.quaternions)
        return self._up

    def check_matches(self, n_samples: int, fs: float, who: str) -> None:
        """Raise a clear error when this orientation belongs to other data than ``who`` was given."""
        if len(self) != n_samples or abs(self.sampling_rate_hz - fs) > 1e-9 * fs:
            raise ValueError(
                f"{who}: the orientation given ({len(self)} samples at {self.sampling_rate_hz:g} Hz) does "
                f"not belong to this data ({n_samples} samples at {fs:g} Hz); estimate it from the same "
                "sensor"
            )


def vertical_in_sensor(q: npt.ArrayLike) -> FloatArray:
    """Earth 'up' expressed in sensor coordinates for each quaternion (sensor→earth rotation)."""
    qq = np.asarray(q, dtype=float)
    if qq.ndim == 2 and qq.shape[1] == 4 and len(qq) >= 50_000:  # one compiled pass, the same arithmetic
        return vertical_from_quaternions(qq)
    w, x, y, z = qq[:, 0], qq[:, 1], qq[:, 2], qq[:, 3]
    # third row of the rotation matrix R(q) (sensor -> earth) = earth z in sensor coordinates
    out = np.empty((len(qq), 3))
    out[:, 0] = 2 * (x * z - w * y)
    out[:, 1] = 2 * (y * z + w * x)
    out[:, 2] = 1 - 2 * (x * x + y * y)
    return out


def estimate_orientation(
    acc: npt.ArrayLike, gyr: npt.ArrayLike, fs: float, *, gain: float = DEFAULT_GAIN
) -> Orientation:
    """Madgwick orientation of one sensor (compiled filter), starting from the first second's gravity.

    Equal to :func:`stridelab.gait.orientation.orientation_madgwick` (the ``ahrs`` implementation) to
    rounding; compute it once per sensor and pass it to the detectors and metrics that take
    ``orientation=``.
    """
    a = np.asarray(acc, dtype=np.float64)
    q = madgwick_quaternions(a, gyr, fs, gain=gain, q0=initial_quaternion(a, fs))
    return Orientation(q, fs, method="madgwick", gain=gain)


def estimate_orientations(
    sensors: Sequence[tuple[npt.ArrayLike, npt.ArrayLike, float]], *, gain: float = DEFAULT_GAIN
) -> list[Orientation]:
    """:func:`estimate_orientation` of several sensors (``(acc, gyr, fs)`` each) in one pass.

    Sensors with the same sampling rate are filtered side by side, up to three at a time (two feet and
    the sacrum of one recording): each filter is a chain of dependent operations that leaves the
    processor idle most of the time, so three cost far less than three times one. The result of each
    sensor is the one :func:`estimate_orientation` gives (bitwise; tested).
    """
    prepared = []
    for acc, gyr, fs in sensors:
        # any memory layout (a DataFrame's columns come Fortran-ordered): the loops read it in place
        a = np.asarray(acc, dtype=np.float64)
        g = np.asarray(gyr, dtype=np.float64)
        if a.shape != g.shape or a.ndim != 2 or a.shape[1] != 3:
            raise ValueError(f"Madgwick filter: acc and gyr must both be (N, 3), got {a.shape} and {g.shape}")
        if not fs > 0:
            raise ValueError(f"Madgwick filter: the sampling rate must be positive, got {fs!r}")
        out = np.empty((len(a), 4), dtype=np.float64)
        if len(a):
            q0 = initial_quaternion(a, fs)
            out[0] = q0 / np.linalg.norm(q0)
        prepared.append((a, g, float(fs), out))
    by_rate: dict[float, list[int]] = {}
    for k, (a, _, fs, _) in enumerate(prepared):
        if len(a) > 1:
            by_rate.setdefault(fs, []).append(k)
    for fs, members in by_rate.items():
        dt = 1.0 / fs
        for start in range(0, len(members), 3):
            group = [prepared[k] for k in members[start : start + 3]]
            if len(group) == 1:
                a, g, _, out = group[0]
                _kernel()(a, g, dt, float(gain), out, 1)
                continue
            lanes = len(group)
            a3, g3, _, o3 = group[-1]  # two sensors: the third lane is not run
            _kernel("_madgwick_lanes")(
                group[0][0],
                group[0][1],
                group[0][3],
                group[1][0],
                group[1][1],
                group[1][3],
                a3,
                g3,
                o3,
                lanes,
                dt,
                float(gain),
            )
    return [Orientation(out, fs, method="madgwick", gain=gain) for _, _, fs, out in prepared]
