"""Private numeric pieces of the lower-back (sacrum) detector: pure functions over numpy arrays.

* :func:`cwt_initial_contacts` -- IC after McCamley et al. 2012 in the form of Paraschiv-Ionescu et al.
  2020 (the Mobilise-D "ICD Ionescu" recipe): band-pass the vertical acceleration, integrate it, take a
  continuous wavelet transform with a second-derivative-of-Gaussian wavelet at one scale, and mark IC at
  the minimum between each pair of zero crossings.
* :func:`side_evidence` and :func:`alternating_sides` -- left/right after McCamley et al. 2012 (sign of the
  yaw rate at IC), with the turn bias removed per stride and the left/right alternation of gait enforced
  by a two-state Viterbi path.

References
----------
McCamley J, Donati M, Grimpampi E, Mazzà C (2012). An enhanced estimate of initial contact and final
contact instants of time using lower trunk inertial sensor data. Gait Posture 36:316-318.

Paraschiv-Ionescu A, Soltani A, Aminian K (2020). Real-world speed estimation using single trunk IMU:
methodological challenges for impaired gait patterns. IEEE EMBC 2020, 4596-4599.

Ullrich M, Küderle A, Reggi L, Cereatti A, Eskofier BM, Kluge F (2021). Machine learning-based
distinction of left and right foot contacts in lower back inertial sensor gait data. IEEE EMBC 2021.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import numpy.typing as npt
from scipy.integrate import cumulative_trapezoid

from stridelab.gait._kernels import two_state_viterbi
from stridelab.gait._signal import FloatArray, IntArray, bandpass

__all__ = ["alternating_sides", "cwt_initial_contacts", "mexican_hat_cwt", "side_evidence"]

#: the wavelet is truncated at ±5 scales (its effective support, as in PyWavelets' ``gaus2``).
_SUPPORT_SCALES = 5.0


def mexican_hat_cwt(x: npt.ArrayLike, scale_s: float, fs: float) -> FloatArray:
    """CWT of ``x`` at one scale with the second-derivative-of-Gaussian ("Mexican hat") wavelet.

    The wavelet is ``(1 - 2 u²) exp(-u²)`` with ``u = t / scale_s`` (the ``gaus2`` wavelet of MATLAB /
    PyWavelets up to a positive constant), so ``scale_s`` is the scale expressed in seconds (MATLAB's
    scale 9 at 40 Hz used by Paraschiv-Ionescu et al. = 0.225 s). The signal is mirrored at both ends
    over the wavelet's support so the output has the input's length without a zero-padding edge step.
    """
    arr = np.asarray(x, dtype=float)
    half = max(int(np.ceil(_SUPPORT_SCALES * scale_s * fs)), 1)
    u = np.arange(-half, half + 1) / (scale_s * fs)
    kernel = (1.0 - 2.0 * u**2) * np.exp(-(u**2))
    pad = min(half, len(arr) - 1)
    padded = np.pad(arr, pad, mode="reflect")
    out = np.convolve(padded, kernel, mode="same")[pad : pad + len(arr)]
    return np.asarray(out, dtype=float)


def cwt_initial_contacts(
    vertical_acc: npt.ArrayLike, fs: float, *, band_hz: tuple[float, float], scale_s: float
) -> IntArray:
    """IC sample indices from the vertical trunk acceleration (m/s², up positive, gravity included).

    Steps (Paraschiv-Ionescu et al. 2020, after McCamley et al. 2012): band-pass ``band_hz`` (their
    0.15-3.14 Hz gait filter; here a zero-phase Butterworth with the same corners instead of the EPFL
    FIR coefficients), cumulative integral (vertical velocity), Mexican-hat CWT at ``scale_s``, mean
    removed; IC = the minimum between a positive→negative and the next negative→positive zero crossing.
    The CWT of the velocity with this wavelet is minus the derivative of the Gaussian-smoothed
    acceleration, so each minimum is the steepest rise of the smoothed vertical acceleration (the loading
    response of one step): exactly one candidate per step, no step-period prior needed.
    """
    av = np.asarray(vertical_acc, dtype=float)
    x = bandpass(av - av.mean(), band_hz[0], band_hz[1], fs, order=4)
    velocity = cumulative_trapezoid(x, initial=0.0) / fs
    c = mexican_hat_cwt(velocity, scale_s, fs)
    c = c - c.mean()
    positive = c > 0
    flips = np.flatnonzero(positive[1:] != positive[:-1])  # last sample before each crossing
    out = []
    for a, b in pairwise(flips):
        if positive[a] and not positive[b]:  # from a pos→neg to the next neg→pos crossing
            out.append(a + 1 + int(np.argmin(c[a + 1 : b + 1])))
    return np.asarray(out, dtype=np.intp)


def side_evidence(yaw_rate: npt.ArrayLike, ic_idx: npt.ArrayLike) -> FloatArray:
    """Yaw rate at each IC minus its mean over the surrounding stride (previous IC to next IC).

    McCamley et al. 2012 use the sign of the (band-passed) yaw rate at IC. During a turn the whole
    stride carries the turn's yaw rate, which biases every IC toward one side; the stride-periodic
    left/right oscillation averages to zero over a stride, so subtracting the stride mean removes the
    turn and keeps the oscillation. At the ends the stride is mirrored from the one neighbour.
    """
    yaw = np.asarray(yaw_rate, dtype=float)
    idx = np.asarray(ic_idx, dtype=np.intp)
    n = len(idx)
    if n < 2:
        return yaw[idx].astype(float) if n else np.zeros(0)
    a = np.empty(n, dtype=np.intp)
    b = np.empty(n, dtype=np.intp)
    a[1:], b[:-1] = idx[:-1], idx[1:]
    a[0] = max(idx[0] - (idx[1] - idx[0]), 0)
    b[-1] = min(idx[-1] + (idx[-1] - idx[-2]), len(yaw) - 1)
    # mean of yaw[a:b+1] for every IC at once, from one cumulative sum
    total = np.concatenate(([0.0], np.cumsum(yaw)))
    return np.asarray(yaw[idx] - (total[b + 1] - total[a]) / (b + 1 - a), dtype=float)


def alternating_sides(
    evidence: npt.ArrayLike, ic_s: npt.ArrayLike, step_s: float, repeat_penalty: float
) -> npt.NDArray[np.object_]:
    """Left/right labels: most likely sequence given the per-IC evidence and the alternation of gait.

    ``evidence`` < 0 means LEFT (McCamley et al. 2012: clockwise yaw seen from above at a left IC).
    Two-state Viterbi path: labelling an IC against its evidence costs ``|evidence| / median|evidence|``;
    two ICs of the same side in a row cost ``repeat_penalty`` (in the same unit, i.e. one typical step's
    evidence) when they are less than 1.5 step periods apart -- a longer interval means a missed or
    paused step, where a repeat is expected and free. ``repeat_penalty = 0`` gives McCamley's per-IC sign.
    """
    z = np.asarray(evidence, dtype=float)
    t = np.asarray(ic_s, dtype=float)
    n = len(z)
    if n == 0:
        return np.zeros(0, dtype=object)
    scale = float(np.median(np.abs(z)))
    scale = scale if scale > 0 else 1.0
    # cost[:, 0] = labelled LEFT (penalised when z > 0), cost[:, 1] = RIGHT (penalised when z < 0)
    emit = np.c_[np.maximum(z, 0.0), np.maximum(-z, 0.0)] / scale
    repeat = np.r_[0.0, np.where(np.diff(t) < 1.5 * step_s, repeat_penalty, 0.0)]
    path = two_state_viterbi(emit, repeat)
    return np.where(path == 0, "left", "right").astype(object)
