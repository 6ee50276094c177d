"""Private compiled loops over gait segments (numba, compiled on first use and cached on disk).

Each kernel replaces a Python loop that ran numpy calls once per step or stride (10,000 per hour of
running): the arithmetic per segment is the one of the loop it replaced (see the callers), so results
agree to rounding. numba is imported on the first call, not with the package.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["median_per_segment", "oscillation_per_segment", "range_and_rise_per_segment"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

_COMPILED: dict[str, Callable[..., Any]] = {}


def _jit(fn: Callable[..., Any]) -> Callable[..., Any]:
    name = fn.__name__
    if name not in _COMPILED:
        import numba

        _COMPILED[name] = numba.njit(cache=True, nogil=True)(fn)
    return _COMPILED[name]


def _oscillation_loop(a: Any, i0: Any, i1: Any, fs: float, out: Any) -> None:  # pragma: no cover - jitted
    for k in range(len(i0)):
        lo, hi = i0[k], i1[k]
        n = hi - lo
        mean_a = 0.0
        for i in range(lo, hi):
            mean_a += a[i]
        mean_a /= n
        # velocity: cumulative sum of the mean-free acceleration; its mean is removed next
        v = np.empty(n)
        acc = 0.0
        mean_v = 0.0
        for j in range(n):
            acc += a[lo + j] - mean_a
            v[j] = acc / fs
            mean_v += v[j]
        mean_v /= n
        z = 0.0
        z_min = math.inf
        z_max = -math.inf
        for j in range(n):
            z += v[j] - mean_v
            zz = z / fs
            z_min = min(z_min, zz)
            z_max = max(z_max, zz)
        out[k] = z_max - z_min


def oscillation_per_segment(a: FloatArray, i0: IntArray, i1: IntArray, fs: float) -> FloatArray:
    """Peak-to-peak of the twice-integrated, twice mean-removed ``a[i0:i1]`` for each segment (m)."""
    out = np.empty(len(i0))
    if len(i0):
        _jit(_oscillation_loop)(
            np.ascontiguousarray(a, dtype=np.float64),
            np.asarray(i0, dtype=np.int64),
            np.asarray(i1, dtype=np.int64),
            float(fs),
            out,
        )
    return out


def _median_loop(x: Any, i0: Any, i1: Any, out: Any) -> None:  # pragma: no cover - jitted
    for k in range(len(i0)):
        out[k] = np.median(x[i0[k] : i1[k]])


def median_per_segment(x: FloatArray, i0: IntArray, i1: IntArray) -> FloatArray:
    """``np.median(x[i0[k]:i1[k]])`` for every k (segments non-empty)."""
    out = np.empty(len(i0))
    if len(i0):
        _jit(_median_loop)(
            np.ascontiguousarray(x, dtype=np.float64),
            np.asarray(i0, dtype=np.int64),
            np.asarray(i1, dtype=np.int64),
            out,
        )
    return out


def _range_rise_loop(x: Any, i0: Any, i_mid: Any, i1: Any, sign: Any, rng: Any, rise: Any) -> None:  # pragma: no cover
    for k in range(len(i0)):
        lo, mid, hi = i0[k], i_mid[k], i1[k]
        seg = x[lo:hi]
        rng[k] = seg.max() - seg.min()
        best = -math.inf
        base = x[lo]
        for i in range(lo, mid + 1):
            best = max(best, sign[k] * (x[i] - base))
        rise[k] = max(best, 0.0)


def range_and_rise_per_segment(
    x: FloatArray, i0: IntArray, i_mid: IntArray, i1: IntArray, sign: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Per segment: ``ptp(x[i0:i1])`` and ``max(max(sign · (x[i0:i_mid+1] − x[i0])), 0)``."""
    n = len(i0)
    rng, rise = np.empty(n), np.empty(n)
    if n:
        _jit(_range_rise_loop)(
            np.ascontiguousarray(x, dtype=np.float64),
            np.asarray(i0, dtype=np.int64),
            np.asarray(i_mid, dtype=np.int64),
            np.asarray(i1, dtype=np.int64),
            np.asarray(sign, dtype=np.float64),
            rng,
            rise,
        )
    return rng, rise


def _sosfiltfilt_loop(sos: Any, zi: Any, x: Any, padlen: int, y: Any) -> None:  # pragma: no cover - jitted
    """Forward-backward second-order-section filter of every column of ``x`` (scipy's arithmetic).

    ``y`` (len(x) + 2·padlen, columns) receives the odd extension, is filtered forward then backward in
    place (direct form II transposed, as ``scipy.signal._sosfilt``), states started at ``zi`` times the
    first sample of each pass, as ``scipy.signal.sosfiltfilt``.
    """
    n, c = x.shape
    m = n + 2 * padlen
    ns = sos.shape[0]
    for j in range(c):
        for i in range(padlen):
            y[i, j] = 2 * x[0, j] - x[padlen - i, j]
            y[padlen + n + i, j] = 2 * x[n - 1, j] - x[n - 2 - i, j]
        for i in range(n):
            y[padlen + i, j] = x[i, j]
    z = np.empty((c, ns, 2))
    for j in range(c):
        for s in range(ns):
            z[j, s, 0] = zi[s, 0] * y[0, j]
            z[j, s, 1] = zi[s, 1] * y[0, j]
    for i in range(m):
        for j in range(c):
            x_cur = y[i, j]
            for s in range(ns):
                x_new = sos[s, 0] * x_cur + z[j, s, 0]
                z[j, s, 0] = sos[s, 1] * x_cur - sos[s, 4] * x_new + z[j, s, 1]
                z[j, s, 1] = sos[s, 2] * x_cur - sos[s, 5] * x_new
                x_cur = x_new
            y[i, j] = x_cur
    for j in range(c):
        for s in range(ns):
            z[j, s, 0] = zi[s, 0] * y[m - 1, j]
            z[j, s, 1] = zi[s, 1] * y[m - 1, j]
    for i in range(m - 1, -1, -1):
        for j in range(c):
            x_cur = y[i, j]
            for s in range(ns):
                x_new = sos[s, 0] * x_cur + z[j, s, 0]
                z[j, s, 0] = sos[s, 1] * x_cur - sos[s, 4] * x_new + z[j, s, 1]
                z[j, s, 1] = sos[s, 2] * x_cur - sos[s, 5] * x_new
                x_cur = x_new
            y[i, j] = x_cur


def sosfiltfilt(sos: FloatArray, x: FloatArray, padlen: int) -> FloatArray:
    """``scipy.signal.sosfiltfilt(sos, x, axis=0, padlen=padlen)`` for float64 (N,) or (N, C) data.

    The same arithmetic in the same order (odd extension, ``sosfilt_zi`` start states, direct form II
    transposed sections), compiled, all columns in one pass over time and without the transposed copies.
    """
    from scipy.signal import sosfilt_zi

    arr = np.asarray(x, dtype=np.float64)
    two_d = np.ascontiguousarray(arr.reshape(len(arr), -1))
    n = len(two_d)
    if padlen < 0 or n <= padlen:
        raise ValueError(f"sosfiltfilt: the signal ({n} samples) must be longer than padlen={padlen}")
    sections = np.ascontiguousarray(sos, dtype=np.float64)
    y = np.empty((n + 2 * padlen, two_d.shape[1]))
    _jit(_sosfiltfilt_loop)(sections, np.ascontiguousarray(sosfilt_zi(sections)), two_d, int(padlen), y)
    out = y[padlen : padlen + n] if padlen else y
    return np.ascontiguousarray(out).reshape(arr.shape)
