"""Private numeric helpers over numpy arrays (filters, periodicity, lobes). No pandas, no state."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from scipy.fft import next_fast_len
from scipy.signal import butter, find_peaks, sosfiltfilt

from stridelab.gait._kernels import row_norm3, sosfiltfilt_pair
from stridelab.gait._kernels import sosfiltfilt as sosfiltfilt_compiled

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


def row_norm(x: FloatArray) -> FloatArray:
    """Euclidean norm of each row of an (N, 3) array: ``np.linalg.norm(x, axis=1)``, bitwise (the same
    sum (x₀² + x₁²) + x₂²), without its (N, 3) temporary; long arrays in one compiled pass."""
    if x.ndim != 2 or x.shape[1] != 3:
        return np.asarray(np.linalg.norm(x, axis=1), dtype=float)
    if len(x) >= _COMPILED_FROM:
        return row_norm3(x)
    return np.asarray(np.sqrt(x[:, 0] * x[:, 0] + x[:, 1] * x[:, 1] + x[:, 2] * x[:, 2]), dtype=float)


@lru_cache(maxsize=64)
def _butter_sos(order: int, wn: float | tuple[float, float], btype: str) -> FloatArray:
    """Butterworth sections (scipy ``butter(..., output="sos")``), designed once per set of parameters
    (the pipeline asks for the same dozen filters again and again; the design costs ~2 ms). Shared:
    never modify the result."""
    return np.asarray(butter(order, wn, btype=btype, output="sos"), dtype=np.float64)


def lowpass(x: npt.ArrayLike, cutoff_hz: float, fs: float, order: int = 2) -> FloatArray:
    """Zero-phase Butterworth low-pass (along axis 0). Cut-offs at/above Nyquist return the input."""
    arr = np.asarray(x, dtype=float)
    if cutoff_hz >= 0.95 * fs / 2:
        return arr.copy()
    sos = _butter_sos(order, cutoff_hz / (fs / 2), "lowpass")
    padlen = min(3 * (2 * len(sos) + 1) * 3, arr.shape[0] - 1)
    return _filtfilt(sos, arr, padlen)


def lowpass_pair(
    x_a: npt.ArrayLike, cutoff_a_hz: float, x_b: npt.ArrayLike, cutoff_b_hz: float, fs: float, order: int = 2
) -> tuple[FloatArray, FloatArray]:
    """``(lowpass(x_a, cutoff_a_hz, fs), lowpass(x_b, cutoff_b_hz, fs))``, bitwise: two long 1-D signals
    of one length are filtered side by side in one compiled pass
    (:func:`~stridelab.gait._kernels.sosfiltfilt_pair`), anything else by two calls of :func:`lowpass`."""
    a, b = np.asarray(x_a, dtype=float), np.asarray(x_b, dtype=float)
    nyq = fs / 2
    if (
        a.ndim != 1
        or a.shape != b.shape
        or a.size < _COMPILED_FROM
        or max(cutoff_a_hz, cutoff_b_hz) >= 0.95 * nyq
    ):
        return lowpass(a, cutoff_a_hz, fs, order), lowpass(b, cutoff_b_hz, fs, order)
    sos_a = _butter_sos(order, cutoff_a_hz / nyq, "lowpass")
    sos_b = _butter_sos(order, cutoff_b_hz / nyq, "lowpass")
    padlen = min(3 * (2 * len(sos_a) + 1) * 3, a.shape[0] - 1)
    return sosfiltfilt_pair(sos_a, a, sos_b, b, padlen)


def bandpass(x: npt.ArrayLike, low_hz: float, high_hz: float, fs: float, order: int = 2) -> FloatArray:
    """Zero-phase Butterworth band-pass (along axis 0)."""
    arr = np.asarray(x, dtype=float)
    high = min(high_hz, 0.45 * fs)
    sos = _butter_sos(order, (low_hz / (fs / 2), high / (fs / 2)), "bandpass")
    padlen = min(3 * (2 * len(sos) + 1) * 3, arr.shape[0] - 1)
    return _filtfilt(sos, arr, padlen)


#: below this many values scipy's ``sosfiltfilt`` is used as is (no compile for short test signals)
_COMPILED_FROM = 50_000


def _filtfilt(sos: FloatArray, arr: FloatArray, padlen: int) -> FloatArray:
    """Zero-phase filter along axis 0: scipy's ``sosfiltfilt``, or for long signals the compiled loop with
    the same arithmetic (:func:`stridelab.gait._kernels.sosfiltfilt`, bitwise equal, tested)."""
    if arr.ndim <= 2 and arr.size >= _COMPILED_FROM and padlen >= 0:
        return sosfiltfilt_compiled(sos, arr, padlen)
    return np.asarray(sosfiltfilt(sos, arr, axis=0, padlen=padlen), dtype=float)


def dominant_period_s(x: npt.ArrayLike, fs: float, min_s: float, max_s: float) -> tuple[float, float]:
    """Period (s) of the strongest autocorrelation peak within [min_s, max_s], and that peak's value.

    Returns ``(nan, 0.0)`` when the signal has no periodicity in the range.
    """
    arr = np.asarray(x, dtype=float)
    # ``np.nanmean`` copies the signal to zero its NaNs; without NaN (a finite mean) ``np.mean`` is the
    # same sum and division, bitwise
    mean = float(np.mean(arr)) if arr.size else math.nan
    arr = arr - (mean if not math.isnan(mean) else np.nanmean(arr))
    n = len(arr)
    hi = min(int(max_s * fs) + 1, n - 1)
    lo = max(int(min_s * fs), 1)
    if hi <= lo + 2 or not np.any(arr):
        return float("nan"), 0.0
    ac = autocorrelation(arr, hi)
    if ac[0] <= 0:
        return float("nan"), 0.0
    ac = ac / ac[0]
    peaks, _ = find_peaks(ac[: hi + 1])
    peaks = peaks[peaks >= lo]
    if len(peaks) == 0:
        return float("nan"), 0.0
    best = peaks[np.argmax(ac[peaks])]
    return float(best / fs), float(ac[best])


#: blocks of the long-signal autocorrelation (samples)
_AC_BLOCK = 8192


def autocorrelation(x: FloatArray, max_lag: int) -> FloatArray:
    """Linear (not circular) autocorrelation ``Σ x[i]·x[i+l]`` for lags ``l = 0 … max_lag``.

    Short signals: one FFT zero-padded to ≥ 2n − 1 (a 5-smooth length: an awkward 2n with a large prime
    factor made the FFT 10× slower). Long signals (more than 8 blocks): the signal is cut into blocks of
    8192 samples, each correlated with itself plus the next ``max_lag`` samples (one batch of FFTs of
    ~8192 + max_lag points) and the spectra summed -- the same sums, to rounding, at a fraction of the
    cost when ``max_lag`` ≪ n (an hour at 200 Hz with lags up to 2.5 s).
    """
    n = len(x)
    if n <= 8 * _AC_BLOCK or max_lag >= _AC_BLOCK:
        size = next_fast_len(2 * n, real=True)
        spec = np.fft.rfft(x, size)
        return np.asarray(np.fft.irfft(spec * np.conj(spec), size)[: max_lag + 1], dtype=float)
    blocks = -(-n // _AC_BLOCK)
    padded = np.zeros(blocks * _AC_BLOCK + max_lag)
    padded[:n] = x
    size = next_fast_len(_AC_BLOCK + max_lag, real=True)
    heads = padded[: blocks * _AC_BLOCK].reshape(blocks, _AC_BLOCK)
    # each block followed by the next max_lag samples (zeros past the end)
    tails = np.lib.stride_tricks.sliding_window_view(padded, _AC_BLOCK + max_lag)[::_AC_BLOCK][:blocks]
    cross = np.conj(np.fft.rfft(heads, size, axis=1)) * np.fft.rfft(tails, size, axis=1)
    return np.asarray(np.fft.irfft(cross.sum(axis=0), size)[: max_lag + 1], dtype=float)


def lobe_extrema(x: npt.ArrayLike, sign: int) -> IntArray:
    """Index of the extreme of every lobe of ``sign`` (+1: positive lobes' maxima; -1: negative minima).

    A lobe is a maximal run of samples with ``sign * x > 0`` (peaks between zero crossings, as in
    McCamley et al. 2012).
    """
    y = sign * np.asarray(x, dtype=float)
    pos = y > 0
    if not pos.any():
        return np.zeros(0, dtype=np.intp)
    edges = np.flatnonzero(np.diff(pos.astype(np.int8))) + 1
    segments = np.split(np.arange(len(y)), edges)
    return np.array([s[np.argmax(y[s])] for s in segments if pos[s[0]]], dtype=np.intp)


def runs(mask: npt.ArrayLike) -> list[tuple[int, int]]:
    """(start, stop) index pairs of the True runs of a boolean mask (stop exclusive)."""
    m = np.asarray(mask, dtype=bool)
    if not m.any():
        return []
    d = np.diff(np.r_[0, m.astype(np.int8), 0])
    starts = np.flatnonzero(d == 1)
    stops = np.flatnonzero(d == -1)
    return list(zip(starts.tolist(), stops.tolist(), strict=True))
