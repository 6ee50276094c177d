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


#: kernels that call other kernels: those are compiled first and bound in this module's namespace, where
#: numba resolves the call when it compiles the caller
_CALLS: dict[str, tuple[str, ...]] = {
    "_sosfiltfilt_loop": ("_one_section", "_two_sections", "_one_section3", "_two_sections3")
}


def _jit(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` compiled with numba (on first use; machine code cached on disk, so later processes load it)."""
    fn = getattr(fn, "py_func", fn)
    name = fn.__name__
    if name not in _COMPILED:
        import numba

        for callee in _CALLS.get(name, ()):
            globals()[callee] = _jit(globals()[callee])
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


def _range_rise_loop(
    x: Any, i0: Any, i_mid: Any, i1: Any, sign: Any, rng: Any, rise: Any
) -> None:  # pragma: no cover
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


def _one_section(y: Any, sos: Any, zi: Any, s: int, x0: float) -> None:  # pragma: no cover - jitted
    """Section ``s`` over the 1-D view ``y`` in its order (a reversed view runs backward), state
    ``zi[s] · x0``: scipy ``sosfilt``'s direct form II transposed, operation for operation."""
    b0, b1, b2, a1, a2 = sos[s, 0], sos[s, 1], sos[s, 2], sos[s, 4], sos[s, 5]
    z0, z1 = zi[s, 0] * x0, zi[s, 1] * x0
    for i in range(y.shape[0]):
        x = y[i]
        n = b0 * x + z0
        z0 = b1 * x - a1 * n + z1
        z1 = b2 * x - a2 * n
        y[i] = n


def _two_sections(y: Any, sos: Any, zi: Any, s: int, x0: float) -> None:  # pragma: no cover - jitted
    """Sections ``s`` and ``s + 1`` over the 1-D view ``y``, the second one sample behind the first
    (independent recurrences the processor overlaps); the same operations as one after the other."""
    b0, b1, b2, a1, a2 = sos[s, 0], sos[s, 1], sos[s, 2], sos[s, 4], sos[s, 5]
    d0, d1, d2, e1, e2 = sos[s + 1, 0], sos[s + 1, 1], sos[s + 1, 2], sos[s + 1, 4], sos[s + 1, 5]
    p0, p1 = zi[s, 0] * x0, zi[s, 1] * x0
    q0, q1 = zi[s + 1, 0] * x0, zi[s + 1, 1] * x0
    for i in range(y.shape[0]):
        x = y[i]
        n = b0 * x + p0
        p0 = b1 * x - a1 * n + p1
        p1 = b2 * x - a2 * n
        r = d0 * n + q0
        q0 = d1 * n - e1 * r + q1
        q1 = d2 * n - e2 * r
        y[i] = r


def _one_section3(y: Any, sos: Any, zi: Any, s: int, st: Any) -> None:  # pragma: no cover - jitted
    """:func:`_one_section` on the three columns of the (M, 3) view ``y`` side by side (states in
    registers, no branch in the loop: three recurrences for little more than the price of one)."""
    b0, b1, b2, a1, a2 = sos[s, 0], sos[s, 1], sos[s, 2], sos[s, 4], sos[s, 5]
    za0, za1 = zi[s, 0] * st[0], zi[s, 1] * st[0]
    zb0, zb1 = zi[s, 0] * st[1], zi[s, 1] * st[1]
    zc0, zc1 = zi[s, 0] * st[2], zi[s, 1] * st[2]
    for i in range(y.shape[0]):
        row = y[i]
        xa, xb, xc = row[0], row[1], row[2]
        na = b0 * xa + za0
        nb = b0 * xb + zb0
        nc = b0 * xc + zc0
        za0 = b1 * xa - a1 * na + za1
        zb0 = b1 * xb - a1 * nb + zb1
        zc0 = b1 * xc - a1 * nc + zc1
        za1 = b2 * xa - a2 * na
        zb1 = b2 * xb - a2 * nb
        zc1 = b2 * xc - a2 * nc
        row[0], row[1], row[2] = na, nb, nc


def _two_sections3(y: Any, sos: Any, zi: Any, s: int, st: Any) -> None:  # pragma: no cover - jitted
    """:func:`_two_sections` on the three columns of the (M, 3) view ``y`` side by side."""
    b0, b1, b2, a1, a2 = sos[s, 0], sos[s, 1], sos[s, 2], sos[s, 4], sos[s, 5]
    d0, d1, d2, e1, e2 = sos[s + 1, 0], sos[s + 1, 1], sos[s + 1, 2], sos[s + 1, 4], sos[s + 1, 5]
    pa0, pa1 = zi[s, 0] * st[0], zi[s, 1] * st[0]
    pb0, pb1 = zi[s, 0] * st[1], zi[s, 1] * st[1]
    pc0, pc1 = zi[s, 0] * st[2], zi[s, 1] * st[2]
    qa0, qa1 = zi[s + 1, 0] * st[0], zi[s + 1, 1] * st[0]
    qb0, qb1 = zi[s + 1, 0] * st[1], zi[s + 1, 1] * st[1]
    qc0, qc1 = zi[s + 1, 0] * st[2], zi[s + 1, 1] * st[2]
    for i in range(y.shape[0]):
        row = y[i]
        xa, xb, xc = row[0], row[1], row[2]
        na = b0 * xa + pa0
        nb = b0 * xb + pb0
        nc = b0 * xc + pc0
        pa0 = b1 * xa - a1 * na + pa1
        pb0 = b1 * xb - a1 * nb + pb1
        pc0 = b1 * xc - a1 * nc + pc1
        pa1 = b2 * xa - a2 * na
        pb1 = b2 * xb - a2 * nb
        pc1 = b2 * xc - a2 * nc
        ra = d0 * na + qa0
        rb = d0 * nb + qb0
        rc = d0 * nc + qc0
        qa0 = d1 * na - e1 * ra + qa1
        qb0 = d1 * nb - e1 * rb + qb1
        qc0 = d1 * nc - e1 * rc + qc1
        qa1 = d2 * na - e2 * ra
        qb1 = d2 * nb - e2 * rb
        qc1 = d2 * nc - e2 * rc
        row[0], row[1], row[2] = ra, rb, rc


def _sosfiltfilt_loop(sos: Any, zi: Any, x: Any, padlen: int, y: Any) -> None:  # pragma: no cover - jitted
    """Forward-backward second-order-section filter of every column of ``x`` (scipy's arithmetic).

    ``y`` (len(x) + 2·padlen rows; as many columns as ``x`` when it has one, else the next multiple of
    three, the extra columns zero) receives the odd extension and is filtered in place forward, then
    backward (a reversed view). scipy runs the sections sample by sample, one column after the other;
    here the sections run two at a time over the whole signal and the columns three side by side --
    the same operations on the same values (a section's recurrence depends only on its input
    sequence), so the result is bitwise equal, while independent recurrences overlap in the processor.
    States start at ``zi`` times the first sample of each pass, as in ``scipy.signal.sosfiltfilt``.
    """
    n, c = x.shape
    ns = sos.shape[0]
    for i in range(padlen):
        for j in range(c):
            y[i, j] = 2 * x[0, j] - x[padlen - i, j]
            y[padlen + n + i, j] = 2 * x[n - 1, j] - x[n - 2 - i, j]
    for i in range(n):
        for j in range(c):
            y[padlen + i, j] = x[i, j]
    for j in range(0, y.shape[1], 3):
        for backward in (False, True):
            if y.shape[1] == 1:
                v = y[::-1, 0] if backward else y[:, 0]
                x0 = v[0]
                for s in range(0, ns, 2):
                    if s + 1 < ns:
                        _two_sections(v, sos, zi, s, x0)
                    else:
                        _one_section(v, sos, zi, s, x0)
            else:
                w = y[::-1, j : j + 3] if backward else y[:, j : j + 3]
                st = w[0].copy()
                for s in range(0, ns, 2):
                    if s + 1 < ns:
                        _two_sections3(w, sos, zi, s, st)
                    else:
                        _one_section3(w, sos, zi, s, st)


#: ``sosfilt_zi`` per filter (by the sections' bytes): the pipeline uses a dozen filters many times
_ZI: dict[bytes, FloatArray] = {}


def sosfiltfilt(sos: FloatArray, x: FloatArray, padlen: int) -> FloatArray:
    """``scipy.signal.sosfiltfilt(sos, x, axis=0, padlen=padlen)`` for float64 (N,) or (N, C) data.

    The same arithmetic in the same order (odd extension, ``sosfilt_zi`` start states, direct form II
    transposed sections), compiled and without scipy's transposed copies; bitwise equal (tested). The
    result is a view into the padded work buffer (no final copy).
    """
    from scipy.signal import sosfilt_zi

    arr = np.asarray(x, dtype=np.float64)
    two_d = arr.reshape(len(arr), -1)
    n = len(two_d)
    if padlen < 0 or n <= padlen:
        raise ValueError(f"sosfiltfilt: the signal ({n} samples) must be longer than padlen={padlen}")
    sections = np.ascontiguousarray(sos, dtype=np.float64)
    c = two_d.shape[1]
    y = np.zeros((n + 2 * padlen, c if c == 1 else -(-c // 3) * 3))
    key = sections.tobytes()
    zi = _ZI.get(key)
    if zi is None:
        zi = _ZI[key] = np.ascontiguousarray(sosfilt_zi(sections))
    _jit(_sosfiltfilt_loop)(sections, zi, two_d, int(padlen), y)
    return y[padlen : padlen + n, :c].reshape(arr.shape)


def _foot_strides_loop(
    fast: Any, ms: Any, max_gap: float, ic_w: Any, to_w: Any, ic_r: Any, to_r: Any
) -> int:  # pragma: no cover
    k = 0
    for p in range(len(ms) - 1):
        a, b = ms[p], ms[p + 1]
        if (b - a) > max_gap:  # a pause between the swings: not one stride
            continue
        m = (a + b) // 2
        i_min = a
        for i in range(a, m):
            if fast[i] < fast[i_min]:
                i_min = i
        j_min = m
        for i in range(m, b):
            if fast[i] < fast[j_min]:
                j_min = i
        ic_r[k] = i_min
        to_r[k] = j_min
        to_w[k] = j_min
        ic_w[k] = float(i_min)
        for i in range(a, m - 1):
            if fast[i] > 0 and fast[i + 1] <= 0:
                frac = fast[i] / (fast[i] - fast[i + 1])  # linear interpolation of the crossing
                ic_w[k] = i + frac
                break
        k += 1
    return k


def foot_strides(
    fast: FloatArray, ms: IntArray, max_gap_samples: float
) -> tuple[FloatArray, IntArray, IntArray, IntArray]:
    """Per mid-swing → mid-swing cycle of the foot pitch rate ``fast`` (samples ``ms``): walking IC (the
    interpolated +→− zero crossing in the first half, else its minimum), walking/running TO (the minimum
    of the second half) and running IC (the minimum of the first half). Cycles longer than
    ``max_gap_samples`` are skipped. The loop of :class:`~stridelab.gait.events.FootEventDetection`."""
    n = max(len(ms) - 1, 0)
    ic_w = np.empty(n)
    to_w, ic_r, to_r = (np.empty(n, dtype=np.int64) for _ in range(3))
    k = 0
    if n:
        k = int(
            _jit(_foot_strides_loop)(
                np.ascontiguousarray(fast, dtype=np.float64),
                np.asarray(ms, dtype=np.int64),
                float(max_gap_samples),
                ic_w,
                to_w,
                ic_r,
                to_r,
            )
        )
    return ic_w[:k], to_w[:k].astype(np.intp), ic_r[:k].astype(np.intp), to_r[:k].astype(np.intp)


def _viterbi_loop(emit: Any, repeat: Any, path: Any) -> None:  # pragma: no cover - jitted
    n = emit.shape[0]
    back = np.zeros((n, 2), dtype=np.int64)
    t0, t1 = emit[0, 0], emit[0, 1]
    for k in range(1, n):
        stay0, switch0 = t0 + repeat[k], t1
        stay1, switch1 = t1 + repeat[k], t0
        back[k, 0] = 0 if stay0 < switch0 else 1
        back[k, 1] = 1 if stay1 < switch1 else 0
        t0 = min(stay0, switch0) + emit[k, 0]
        t1 = min(stay1, switch1) + emit[k, 1]
    path[n - 1] = 0 if t0 <= t1 else 1
    for k in range(n - 1, 0, -1):
        path[k - 1] = back[k, path[k]]


def two_state_viterbi(emit: FloatArray, repeat: FloatArray) -> IntArray:
    """Cheapest path through two states: ``emit`` (N, 2) costs, ``repeat[k]`` the cost of staying in
    the same state from k-1 to k (switching is free); ties keep the switch / the first state, as the
    Python loop of :func:`stridelab.gait.events._lowback.alternating_sides` did."""
    path = np.empty(len(emit), dtype=np.int64)
    if len(emit):
        _jit(_viterbi_loop)(
            np.ascontiguousarray(emit, dtype=np.float64), np.ascontiguousarray(repeat, dtype=np.float64), path
        )
    return path.astype(np.intp)


def _still_peak_loop(
    w: Any, i0: Any, i1: Any, i2: Any, still: float, ff: Any, hr: Any, peak: Any
) -> None:  # pragma: no cover - jitted
    n = len(w)
    for k in range(len(i0)):
        a, b = i0[k], min(i1[k], n)
        ff[k] = -1
        hr[k] = -1
        for i in range(a, b):
            if w[i] < still:
                ff[k] = i
                break
        for i in range(b - 1, a - 1, -1):
            if w[i] < still:
                hr[k] = i + 1
                break
        # the middle 20-80 % of the swing (from the unclipped TO and next IC, as the loop did)
        j0 = i1[k] + (i2[k] - i1[k]) // 5
        j1 = min(i2[k] - (i2[k] - i1[k]) // 5, n)
        peak[k] = -1
        if j1 > j0:
            best = j0
            for i in range(j0 + 1, j1):
                if w[i] > w[best]:  # the first maximum, as np.argmax
                    best = i
            peak[k] = best


def still_and_peak_per_stride(
    w: FloatArray, i0: IntArray, i1: IntArray, i2: IntArray, still: float
) -> tuple[IntArray, IntArray, IntArray]:
    """Per stride (IC ``i0`` → TO ``i1`` → next IC ``i2``, samples): the first sample of the stance
    ``w[i0:i1]`` below ``still``, one past the last such sample, and the first maximum of ``w`` in the
    middle 20-80 % of the swing; -1 where there is none. The loop of
    :func:`stridelab.gait.metrics.foot_phases`. ``w`` must not contain NaN (``np.argmax`` would return it)."""
    n = len(i0)
    ff, hr, peak = (np.empty(n, dtype=np.int64) for _ in range(3))
    if n:
        _jit(_still_peak_loop)(
            np.ascontiguousarray(w, dtype=np.float64),
            np.asarray(i0, dtype=np.int64),
            np.asarray(i1, dtype=np.int64),
            np.asarray(i2, dtype=np.int64),
            float(still),
            ff,
            hr,
            peak,
        )
    return ff.astype(np.intp), hr.astype(np.intp), peak.astype(np.intp)


def _row_norm_loop(x: Any, out: Any) -> None:  # pragma: no cover - jitted
    for i in range(x.shape[0]):
        a, b, c = x[i, 0], x[i, 1], x[i, 2]
        out[i] = math.sqrt(a * a + b * b + c * c)


def row_norm3(x: FloatArray) -> FloatArray:
    """``np.linalg.norm(x, axis=1)`` of an (N, 3) array in one pass: the same sum (x₀² + x₁²) + x₂²
    and correctly rounded root, so bitwise equal."""
    out = np.empty(len(x))
    _jit(_row_norm_loop)(np.asarray(x, dtype=np.float64), out)
    return out


def _up_loop(q: Any, out: Any) -> None:  # pragma: no cover - jitted
    for i in range(q.shape[0]):
        w, x, y, z = q[i, 0], q[i, 1], q[i, 2], q[i, 3]
        out[i, 0] = 2 * (x * z - w * y)
        out[i, 1] = 2 * (y * z + w * x)
        out[i, 2] = 1 - 2 * (x * x + y * y)


def vertical_from_quaternions(q: FloatArray) -> FloatArray:
    """Third row of the rotation matrix of each (w, x, y, z) quaternion, in one pass: the arithmetic of
    :func:`stridelab.gait.orientation.vertical_in_sensor` element by element (bitwise)."""
    out = np.empty((len(q), 3))
    _jit(_up_loop)(np.asarray(q, dtype=np.float64), out)
    return out


def _projected_cov_loop(v: Any, u: Any, out: Any) -> None:  # pragma: no cover - jitted
    n = v.shape[0]
    u0, u1, u2 = u[0], u[1], u[2]
    # pass 1: mean of h = v - (v·u) u, summed in blocks of 4096 rows (the error of the sum stays small)
    m0 = m1 = m2 = 0.0
    for start in range(0, n, 4096):
        s0 = s1 = s2 = 0.0
        for i in range(start, min(start + 4096, n)):
            d = v[i, 0] * u0 + v[i, 1] * u1 + v[i, 2] * u2
            s0 += v[i, 0] - d * u0
            s1 += v[i, 1] - d * u1
            s2 += v[i, 2] - d * u2
        m0 += s0
        m1 += s1
        m2 += s2
    m0 /= n
    m1 /= n
    m2 /= n
    # pass 2: the centred cross products
    c00 = c01 = c02 = c11 = c12 = c22 = 0.0
    for start in range(0, n, 4096):
        a00 = a01 = a02 = a11 = a12 = a22 = 0.0
        for i in range(start, min(start + 4096, n)):
            d = v[i, 0] * u0 + v[i, 1] * u1 + v[i, 2] * u2
            h0 = v[i, 0] - d * u0 - m0
            h1 = v[i, 1] - d * u1 - m1
            h2 = v[i, 2] - d * u2 - m2
            a00 += h0 * h0
            a01 += h0 * h1
            a02 += h0 * h2
            a11 += h1 * h1
            a12 += h1 * h2
            a22 += h2 * h2
        c00 += a00
        c01 += a01
        c02 += a02
        c11 += a11
        c12 += a12
        c22 += a22
    f = 1.0 / (n - 1)
    out[0, 0], out[0, 1], out[0, 2] = c00 * f, c01 * f, c02 * f
    out[1, 0], out[1, 1], out[1, 2] = c01 * f, c11 * f, c12 * f
    out[2, 0], out[2, 1], out[2, 2] = c02 * f, c12 * f, c22 * f


def projected_covariance(v: FloatArray, u: FloatArray) -> FloatArray:
    """3 × 3 covariance of the rows of ``v`` (N, 3) projected on the plane normal to the unit vector
    ``u``: ``np.cov((v - np.outer(v @ u, u)).T)`` in two passes without temporaries (equal to rounding:
    sums in another order)."""
    out = np.empty((3, 3))
    _jit(_projected_cov_loop)(np.asarray(v, dtype=np.float64), np.ascontiguousarray(u, dtype=np.float64), out)
    return out


# ------------------------------------------------------------------ foot trajectories (gait/trajectory)
def _longest_run_loop(mask: Any, i0: Any, i1: Any, a: Any, b: Any) -> None:  # pragma: no cover - jitted
    for k in range(len(i0)):
        best_a, best_b = -1, -1
        i, hi = i0[k], i1[k]
        while i < hi:
            if mask[i]:
                j = i
                while j < hi and mask[j]:
                    j += 1
                if best_a < 0 or j - i > best_b - best_a:  # the first of equally long runs
                    best_a, best_b = i, j
                i = j
            else:
                i += 1
        a[k], b[k] = best_a, best_b


def longest_run_per_segment(
    mask: npt.NDArray[np.bool_], i0: IntArray, i1: IntArray
) -> tuple[IntArray, IntArray]:
    """Per segment ``[i0[k], i1[k])``: ``(start, stop)`` of its longest True run of ``mask`` (the first of
    equally long ones, absolute indices), ``(-1, -1)`` where it has none."""
    n = len(i0)
    a, b = np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64)
    if n:
        _jit(_longest_run_loop)(
            np.ascontiguousarray(mask, dtype=np.bool_),
            np.asarray(i0, dtype=np.int64),
            np.asarray(i1, dtype=np.int64),
            a,
            b,
        )
    return a, b


def _footprint_loop(
    pos: Any, q: Any, v: Any, a: Any, b: Any, p_out: Any, f_out: Any
) -> None:  # pragma: no cover
    for k in range(len(a)):
        lo, hi = a[k], b[k]
        if lo < 0 or hi <= lo:
            for c in range(3):
                p_out[k, c] = math.nan
                f_out[k, c] = math.nan
            continue
        s0 = s1 = s2 = f0 = f1 = f2 = 0.0
        for i in range(lo, hi):
            s0 += pos[i, 0]
            s1 += pos[i, 1]
            s2 += pos[i, 2]
            w, x, y, z = q[i, 0], q[i, 1], q[i, 2], q[i, 3]
            f0 += (1 - 2 * (y * y + z * z)) * v[0] + 2 * (x * y - w * z) * v[1] + 2 * (x * z + w * y) * v[2]
            f1 += 2 * (x * y + w * z) * v[0] + (1 - 2 * (x * x + z * z)) * v[1] + 2 * (y * z - w * x) * v[2]
            f2 += 2 * (x * z - w * y) * v[0] + 2 * (y * z + w * x) * v[1] + (1 - 2 * (x * x + y * y)) * v[2]
        m = hi - lo
        p_out[k, 0], p_out[k, 1], p_out[k, 2] = s0 / m, s1 / m, s2 / m
        f_out[k, 0], f_out[k, 1], f_out[k, 2] = f0 / m, f1 / m, f2 / m


def footprint_means(
    position: FloatArray, quaternion: FloatArray, vector: FloatArray, a: IntArray, b: IntArray
) -> tuple[FloatArray, FloatArray]:
    """Per segment ``[a[k], b[k])`` (sequential sums): the mean of ``position`` (N × 3) and the mean of
    ``vector`` rotated by each quaternion (N × 4, w first); NaN rows where ``a[k] < 0`` or empty."""
    n = len(a)
    p_out, f_out = np.empty((n, 3)), np.empty((n, 3))
    if n:
        _jit(_footprint_loop)(
            np.ascontiguousarray(position, dtype=np.float64),
            np.ascontiguousarray(quaternion, dtype=np.float64),
            np.ascontiguousarray(vector, dtype=np.float64),
            np.asarray(a, dtype=np.int64),
            np.asarray(b, dtype=np.int64),
            p_out,
            f_out,
        )
    return p_out, f_out


def _swing_loop(
    pos: Any, lo: Any, hi: Any, x0: Any, y0: Any, half: Any, zmax: Any, first: Any
) -> None:  # pragma: no cover - jitted
    for k in range(len(lo)):
        zmax[k] = math.nan
        first[k] = -1
        if hi[k] <= lo[k]:
            continue
        best = -math.inf
        for i in range(lo[k], hi[k]):
            z = pos[i, 2]
            if z > best or z != z:  # a NaN stays (numpy's max)
                best = z
            if first[k] < 0 and np.hypot(pos[i, 0] - x0[k], pos[i, 1] - y0[k]) >= half[k]:
                first[k] = i
        zmax[k] = best


def swing_height_and_halfway(
    position: FloatArray, lo: IntArray, hi: IntArray, x0: FloatArray, y0: FloatArray, half: FloatArray
) -> tuple[FloatArray, IntArray]:
    """Per segment ``[lo[k], hi[k])`` of a trajectory (N × 3): the maximum height (``z``; NaN where
    empty) and the first index whose horizontal distance from ``(x0[k], y0[k])`` is ≥ ``half[k]``
    (-1 where none)."""
    n = len(lo)
    zmax, first = np.empty(n), np.empty(n, dtype=np.int64)
    if n:
        _jit(_swing_loop)(
            np.ascontiguousarray(position, dtype=np.float64),
            np.asarray(lo, dtype=np.int64),
            np.asarray(hi, dtype=np.int64),
            np.asarray(x0, dtype=np.float64),
            np.asarray(y0, dtype=np.float64),
            np.asarray(half, dtype=np.float64),
            zmax,
            first,
        )
    return zmax, first


def _max_loop(x: Any, i0: Any, i1: Any, out: Any) -> None:  # pragma: no cover - jitted
    for k in range(len(i0)):
        out[k] = x[i0[k] : i1[k]].max() if i1[k] > i0[k] else math.nan


def max_per_segment(x: FloatArray, i0: IntArray, i1: IntArray) -> FloatArray:
    """``x[i0[k]:i1[k]].max()`` for every k (NaN where empty)."""
    out = np.empty(len(i0))
    if len(i0):
        _jit(_max_loop)(
            np.ascontiguousarray(x, dtype=np.float64),
            np.asarray(i0, dtype=np.int64),
            np.asarray(i1, dtype=np.int64),
            out,
        )
    return out


def _heading_loop(q: Any, v: Any, out: Any) -> None:  # pragma: no cover - jitted
    for i in range(q.shape[0]):
        w, x, y, z = q[i, 0], q[i, 1], q[i, 2], q[i, 3]
        fx = (1 - 2 * (y * y + z * z)) * v[0] + 2 * (x * y - w * z) * v[1] + 2 * (x * z + w * y) * v[2]
        fy = 2 * (x * y + w * z) * v[0] + (1 - 2 * (x * x + z * z)) * v[1] + 2 * (y * z - w * x) * v[2]
        out[i] = math.atan2(fy, fx)


def headings(quaternion: FloatArray, vector: FloatArray) -> FloatArray:
    """Per quaternion (N × 4, w first): the heading ``atan2(y, x)`` of ``vector`` rotated by it (the
    rotation's x and y rows only)."""
    out = np.empty(len(quaternion))
    if len(out):
        _jit(_heading_loop)(
            np.ascontiguousarray(quaternion, dtype=np.float64),
            np.ascontiguousarray(vector, dtype=np.float64),
            out,
        )
    return out


def _drift_corrected(pts: Any, tau: Any, ia: int, b: float, out: Any, der: Any) -> None:  # pragma: no cover
    """Footprints with each step turned back by ``b tau`` (chained from the anchor ``ia``) and d/db."""
    out[ia, 0], out[ia, 1], der[ia, 0], der[ia, 1] = pts[ia, 0], pts[ia, 1], 0.0, 0.0
    for k in range(ia + 1, pts.shape[0]):
        dx, dy, t = pts[k, 0] - pts[k - 1, 0], pts[k, 1] - pts[k - 1, 1], tau[k - 1]
        c, s = math.cos(b * t), math.sin(b * t)
        rx, ry = c * dx + s * dy, -s * dx + c * dy
        out[k, 0], out[k, 1] = out[k - 1, 0] + rx, out[k - 1, 1] + ry
        der[k, 0], der[k, 1] = der[k - 1, 0] + ry * t, der[k - 1, 1] - rx * t
    for k in range(ia - 1, -1, -1):
        dx, dy, t = pts[k + 1, 0] - pts[k, 0], pts[k + 1, 1] - pts[k, 1], tau[k]
        c, s = math.cos(b * t), math.sin(b * t)
        rx, ry = c * dx + s * dy, -s * dx + c * dy
        out[k, 0], out[k, 1] = out[k + 1, 0] - rx, out[k + 1, 1] - ry
        der[k, 0], der[k, 1] = der[k + 1, 0] - ry * t, der[k + 1, 1] + rx * t


def _drift_loop(pts: Any, tau: Any, ia: int, walk: Any, out: Any) -> float:  # pragma: no cover - jitted
    m_all = pts.shape[0]
    der = np.empty((m_all, 2))
    nw = 0
    for k in range(m_all):
        if walk[k]:
            nw += 1
    x, y, g, r, sw = np.empty(nw), np.empty(nw), np.empty(nw), np.empty(nw), np.ones(nw)
    b = 0.0
    for it in range(6):
        _drift_corrected(pts, tau, ia, b, out, der)
        mx, my = 0.0, 0.0
        for k in range(m_all):
            if walk[k]:
                mx += out[k, 0]
                my += out[k, 1]
        mx /= nw
        my /= nw
        sxx, syy, sxy = 0.0, 0.0, 0.0
        for k in range(m_all):
            if walk[k]:
                cx, cy = out[k, 0] - mx, out[k, 1] - my
                sxx += cx * cx
                syy += cy * cy
                sxy += cx * cy
        phi = 0.5 * math.atan2(2.0 * sxy, sxx - syy)
        ux, uy = math.cos(phi), math.sin(phi)
        j = 0
        for k in range(m_all):
            if walk[k]:
                cx, cy = out[k, 0] - mx, out[k, 1] - my
                x[j] = cx * ux + cy * uy
                y[j] = -cx * uy + cy * ux
                g[j] = -der[k, 0] * uy + der[k, 1] * ux
                j += 1
        # weighted normal equations of y ≈ a0 + a1 x - g δ, solved with partial pivoting
        a = np.zeros((3, 4))
        for j in range(nw):
            w2 = sw[j] * sw[j]
            row = (1.0, x[j], -g[j])
            for p in range(3):
                for q in range(3):
                    a[p, q] += w2 * row[p] * row[q]
                a[p, 3] += w2 * row[p] * y[j]
        singular = False
        for col in range(3):
            piv = col
            for p in range(col + 1, 3):
                if abs(a[p, col]) > abs(a[piv, col]):
                    piv = p
            if abs(a[piv, col]) < 1e-300:
                singular = True
                break
            if piv != col:
                for q in range(4):
                    a[col, q], a[piv, q] = a[piv, q], a[col, q]
            for p in range(3):
                if p != col:
                    f = a[p, col] / a[col, col]
                    for q in range(col, 4):
                        a[p, q] -= f * a[col, q]
        coef0, coef1, coef2 = 0.0, 0.0, 0.0
        if not singular:
            coef0, coef1, coef2 = a[0, 3] / a[0, 0], a[1, 3] / a[1, 1], a[2, 3] / a[2, 2]
        b += coef2
        for j in range(nw):
            r[j] = abs(y[j] - (coef0 + coef1 * x[j] - g[j] * coef2))
        scale = max(1.4826 * np.median(r), 1e-3)
        for j in range(nw):
            if it < 3:
                sw[j] = math.sqrt(min(1.0, 1.345 * scale / max(r[j], 1e-12)))
            else:
                sw[j] = max(1.0 - (r[j] / (4.685 * scale)) ** 2, 0.0)
    _drift_corrected(pts, tau, ia, b, out, der)
    return b


def drift_free_points(
    points: FloatArray, tau: FloatArray, anchor_index: int, walking: npt.NDArray[np.bool_]
) -> tuple[FloatArray, float]:
    """One foot's footprints (M × 2, time order, the anchor at ``anchor_index``) with a heading error
    growing linearly in time taken out: step j (from point j to j + 1, middle time ``tau[j]`` after the
    anchor) turned back by ``b tau[j]``, chained from the anchor; ``b`` by Gauss-Newton about a straight
    line through the ``walking`` points, weighted least squares with Huber (3 steps) then Tukey weights
    (3 steps). Returns all M points and ``b`` (rad/s)."""
    out = np.empty((len(points), 2))
    b = _jit(_drift_loop)(
        np.ascontiguousarray(points, dtype=np.float64),
        np.ascontiguousarray(tau, dtype=np.float64),
        int(anchor_index),
        np.ascontiguousarray(walking, dtype=np.bool_),
        out,
    )
    return out, float(b)


_CALLS["_drift_loop"] = ("_drift_corrected",)


# --- input checks (w4): pandas' centred rolling standard deviation, row selection


def _rolling_var_loop(x: Any, window: int, out: Any) -> None:  # pragma: no cover - jitted
    """pandas ``Series.rolling(window, center=True, min_periods=1).var()`` (ddof 1), step for step:
    the centred fixed-window bounds, and ``roll_var``'s Welford updates with Kahan compensation (one
    compensation for the adds, one for the removes), removes before adds, a window recomputed from
    scratch when an update loses all but ~3 digits (``InvCondTol = eps · 1e3``); NaN values skipped."""
    n = x.shape[0]
    tol = 2.220446049250313e-16 * 1e3
    offset = (window - 1) // 2
    nobs = 0.0
    mean_x = 0.0
    ssqdm_x = 0.0
    comp_add = 0.0
    comp_rem = 0.0
    unstable = False
    prev_s = 0
    prev_e = 0
    for i in range(n):
        e = min(i + 1 + offset, n)
        s = min(max(i + 1 + offset - window, 0), n)
        recompute = i == 0 or s >= prev_e
        if not recompute:
            for j in range(prev_s, s):
                val = x[j]
                if val == val:
                    prev_m2 = ssqdm_x
                    nobs = nobs - 1
                    if nobs:
                        prev_mean = mean_x - comp_rem
                        y = val - comp_rem
                        t = y - mean_x
                        comp_rem = t + mean_x - y
                        mean_x = mean_x - t / nobs
                        ssqdm_x = ssqdm_x - (val - prev_mean) * (val - mean_x)
                        if prev_m2 * tol > ssqdm_x:
                            unstable = True
                    else:
                        mean_x = 0.0
                        ssqdm_x = 0.0
                        unstable = False
            for j in range(prev_e, e):
                val = x[j]
                if val == val:
                    prev_m2 = ssqdm_x
                    nobs = nobs + 1
                    prev_mean = mean_x - comp_add
                    y = val - comp_add
                    t = y - mean_x
                    comp_add = t + mean_x - y
                    mean_x = mean_x + t / nobs
                    ssqdm_x = ssqdm_x + (val - prev_mean) * (val - mean_x)
                    if prev_m2 * tol > ssqdm_x:
                        unstable = True
        if recompute or unstable:
            mean_x = 0.0
            ssqdm_x = 0.0
            nobs = 0.0
            comp_add = 0.0
            comp_rem = 0.0
            for j in range(s, e):
                val = x[j]
                if val == val:
                    prev_m2 = ssqdm_x
                    nobs = nobs + 1
                    prev_mean = mean_x - comp_add
                    y = val - comp_add
                    t = y - mean_x
                    comp_add = t + mean_x - y
                    mean_x = mean_x + t / nobs
                    ssqdm_x = ssqdm_x + (val - prev_mean) * (val - mean_x)
                    if prev_m2 * tol > ssqdm_x:
                        unstable = True
            unstable = False
        out[i] = ssqdm_x / (nobs - 1.0) if nobs >= 1 and nobs > 1 else np.nan
        prev_s = s
        prev_e = e


def rolling_std_centered(x: FloatArray, window: int) -> FloatArray:
    """``pd.Series(x).rolling(window, center=True, min_periods=1).std().to_numpy()`` for float64
    ``x`` (bitwise: the same updates in the same order, tested), in one compiled pass; negative
    variances (rounding) give 0, windows of one value NaN, as in pandas."""
    var = np.empty(len(x))
    if len(x):
        _jit(_rolling_var_loop)(np.ascontiguousarray(x, dtype=np.float64), int(window), var)
    out = np.sqrt(np.maximum(var, 0.0))
    out[np.isnan(var)] = np.nan
    return out


def _select_rows_loop(x: Any, keep: Any, out: Any) -> None:  # pragma: no cover - jitted
    k = 0
    for i in range(x.shape[0]):
        if keep[i]:
            for j in range(x.shape[1]):
                out[k, j] = x[i, j]
            k += 1


def select_rows(x: FloatArray, keep: npt.NDArray[np.bool_]) -> FloatArray:
    """``x[keep]`` for a 2-D float64 array (any memory order) and a boolean row mask: a C-ordered copy
    of the kept rows, in one compiled pass (numpy's boolean indexing of a column-major array is ~4×
    slower)."""
    out = np.empty((int(np.count_nonzero(keep)), x.shape[1]))
    if len(out):
        _jit(_select_rows_loop)(np.asarray(x, dtype=np.float64), np.asarray(keep, dtype=np.bool_), out)
    return out


# --- two independent one-column filters side by side (w4)


def _section_pair(
    ya: Any, yb: Any, sa: Any, za: Any, sb: Any, zb: Any, s: int, x0a: float, x0b: float
) -> None:  # pragma: no cover - jitted
    """Section ``s`` of filter a over the 1-D view ``ya`` and of filter b over ``yb`` (same length), side
    by side: per signal the operations of :func:`_one_section` (scipy's direct form II transposed)."""
    a0, a1, a2, a4, a5 = sa[s, 0], sa[s, 1], sa[s, 2], sa[s, 4], sa[s, 5]
    b0, b1, b2, b4, b5 = sb[s, 0], sb[s, 1], sb[s, 2], sb[s, 4], sb[s, 5]
    p0, p1 = za[s, 0] * x0a, za[s, 1] * x0a
    q0, q1 = zb[s, 0] * x0b, zb[s, 1] * x0b
    for i in range(ya.shape[0]):
        xa, xb = ya[i], yb[i]
        na = a0 * xa + p0
        nb = b0 * xb + q0
        p0 = a1 * xa - a4 * na + p1
        q0 = b1 * xb - b4 * nb + q1
        p1 = a2 * xa - a5 * na
        q1 = b2 * xb - b5 * nb
        ya[i] = na
        yb[i] = nb


def _sosfiltfilt_pair_loop(
    sa: Any, za: Any, sb: Any, zb: Any, xa: Any, xb: Any, padlen: int, y: Any
) -> None:  # pragma: no cover - jitted
    """Forward-backward filter of ``xa`` by the sections ``sa`` into row 0 of ``y`` and of ``xb`` by
    ``sb`` into row 1 (the same number of sections, the same length and padding): per signal exactly
    :func:`_sosfiltfilt_loop` on one column (odd extension, ``zi`` · first sample, sections in order,
    forward then backward) -- two independent recurrences the processor overlaps."""
    n = xa.shape[0]
    for i in range(padlen):
        y[0, i] = 2 * xa[0] - xa[padlen - i]
        y[1, i] = 2 * xb[0] - xb[padlen - i]
        y[0, padlen + n + i] = 2 * xa[n - 1] - xa[n - 2 - i]
        y[1, padlen + n + i] = 2 * xb[n - 1] - xb[n - 2 - i]
    for i in range(n):
        y[0, padlen + i] = xa[i]
        y[1, padlen + i] = xb[i]
    for backward in (False, True):
        va = y[0, ::-1] if backward else y[0, :]
        vb = y[1, ::-1] if backward else y[1, :]
        x0a, x0b = va[0], vb[0]
        for s in range(sa.shape[0]):
            _section_pair(va, vb, sa, za, sb, zb, s, x0a, x0b)


_CALLS["_sosfiltfilt_pair_loop"] = ("_section_pair",)


def sosfiltfilt_pair(
    sos_a: FloatArray, x_a: FloatArray, sos_b: FloatArray, x_b: FloatArray, padlen: int
) -> tuple[FloatArray, FloatArray]:
    """``(sosfiltfilt(sos_a, x_a), sosfiltfilt(sos_b, x_b))`` (scipy, ``padlen``, 1-D float64 signals of
    one length, filters with as many sections) in one compiled pass, bitwise equal to two calls of
    :func:`sosfiltfilt` (tested; each result a contiguous view): a one-column filter is a chain of
    dependent operations, so two of them side by side cost little more than one."""
    from scipy.signal import sosfilt_zi

    a = np.ascontiguousarray(x_a, dtype=np.float64)
    b = np.ascontiguousarray(x_b, dtype=np.float64)
    sa = np.ascontiguousarray(sos_a, dtype=np.float64)
    sb = np.ascontiguousarray(sos_b, dtype=np.float64)
    n = len(a)
    if a.ndim != 1 or b.shape != a.shape or sa.shape != sb.shape:
        raise ValueError("sosfiltfilt_pair: two 1-D signals of one length and filters of as many sections")
    if padlen < 0 or n <= padlen:
        raise ValueError(f"sosfiltfilt: the signal ({n} samples) must be longer than padlen={padlen}")
    zis = []
    for sections in (sa, sb):
        key = sections.tobytes()
        zi = _ZI.get(key)
        if zi is None:
            zi = _ZI[key] = np.ascontiguousarray(sosfilt_zi(sections))
        zis.append(zi)
    y = np.empty((2, n + 2 * padlen))
    _jit(_sosfiltfilt_pair_loop)(sa, zis[0], sb, zis[1], a, b, int(padlen), y)
    return y[0, padlen : padlen + n], y[1, padlen : padlen + n]  # contiguous views


# --- sacrum walking: the trough after each IC (w4)


def _troughs_loop(x: Any, ic: Any, span: int, head: int, out: Any) -> None:  # pragma: no cover - jitted
    n = x.shape[0]
    for k in range(ic.shape[0]):
        p = ic[k]
        stop = min(p + span, n)
        m = stop - p
        out[k] = -1
        if m < 3:
            out[k] = -2
            continue
        # the first maximum of the head (np.argmax)
        h = min(head, m)
        top = 0
        best = x[p]
        if best == best:
            for i in range(1, h):
                v = x[p + i]
                if v != v:  # numpy's argmax stops at the first NaN
                    top = i
                    break
                if v > best:
                    best = v
                    top = i
        # scipy's local maxima of -seg (plateaus at their middle), the first one after ``top``
        i = 1
        while i < m - 1:
            if -x[p + i - 1] < -x[p + i]:
                ahead = i + 1
                while ahead < m - 1 and -x[p + ahead] == -x[p + i]:
                    ahead += 1
                if -x[p + ahead] < -x[p + i]:
                    mid = (i + ahead - 1) // 2
                    if mid > top:
                        out[k] = p + mid
                        break
                    i = ahead
            i += 1


def troughs_after(x: FloatArray, ic: IntArray, span: int, head: int) -> IntArray:
    """For each start ``p`` in ``ic``: ``seg = x[p : p + span]`` (skipped when shorter than 3), ``top =
    argmax(seg[:head])``, and the first trough of ``seg`` after ``top`` as found by
    ``scipy.signal.find_peaks(-seg)`` (plateaus at their middle sample) -- ``p`` plus its index, or no
    entry when there is none. The per-start loop of ``_sacrum._following_troughs``, compiled (tested
    against it)."""
    out = np.empty(len(ic), dtype=np.int64)
    if len(ic):
        _jit(_troughs_loop)(
            np.ascontiguousarray(x, dtype=np.float64),
            np.asarray(ic, dtype=np.int64),
            int(span),
            int(head),
            out,
        )
    return out[out >= 0].astype(np.intp)


# --- input checks: clipped accelerometer samples (w4)


def _clip_scan_loop(acc: Any, limit: float, out: Any) -> None:  # pragma: no cover - jitted
    """Per column j of the finite (N, 3) ``acc``: out[j, 0] = max, out[j, 3] = min; for each of them
    whose magnitude is ≥ ``limit``: the number of samples within 1e-9 of it (out[j, 1] / out[j, 4]) and
    the longest run of such samples (out[j, 2] / out[j, 5]); -1 when not counted."""
    n = acc.shape[0]
    for j in range(acc.shape[1]):
        hi = acc[0, j]
        lo = acc[0, j]
        for i in range(1, n):
            v = acc[i, j]
            if v > hi:
                hi = v
            if v < lo:
                lo = v
        for k in range(2):
            e = hi if k == 0 else lo
            out[j, 3 * k] = e
            out[j, 3 * k + 1] = -1.0
            out[j, 3 * k + 2] = -1.0
            if abs(e) < limit:
                continue
            count = 0
            run = 0
            longest = 0
            for i in range(n):
                if abs(acc[i, j] - e) <= 1e-9:
                    count += 1
                    run += 1
                    if run > longest:
                        longest = run
                else:
                    run = 0
            out[j, 3 * k + 1] = count
            out[j, 3 * k + 2] = longest


def clip_scan(acc: FloatArray, limit: float) -> FloatArray:
    """(3, 6) per column of a finite (N ≥ 1, 3) array: ``[max, count, longest run, min, count, longest
    run]``, where count/run are the samples within 1e-9 of that extreme (``np.abs(col - e) <= 1e-9``)
    when ``|e| ≥ limit``, else -1. One compiled pass per column instead of numpy temporaries."""
    out = np.empty((acc.shape[1], 6))
    _jit(_clip_scan_loop)(np.asarray(acc, dtype=np.float64), float(limit), out)
    return out
