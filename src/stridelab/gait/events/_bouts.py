"""Walking bouts and their local step period from a lower-back vertical acceleration.

Gait sequence detection after Iluz et al. 2014 ("Automated detection of missteps during community
ambulation in patients with Parkinson's disease", J NeuroEng Rehabil 11:48) as used by Mobilise-D
(mobgap's ``GsdIluz``): the signal is cut into overlapping windows (3 s, hop 0.5 s here); a window is
walking when its vertical acceleration, band-passed to the step band, is both **strong** (standard
deviation above ``min_std_g``) and **periodic** (the normalised autocorrelation has a step peak of at
least ``min_regularity`` between 0.3 and 1.4 s, the step-time range of adult walking). The union of
walking windows gives the bouts; bouts closer than ``merge_gap_s`` are joined, shorter than
``min_bout_s`` dropped. Each bout's own step period is the autocorrelation peak over that bout --
a local, adaptive period instead of one for the whole recording.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stridelab.gait._signal import FloatArray, bandpass, dominant_period_s
from stridelab.units import G

__all__ = ["WalkingBout", "local_step_period", "walking_bouts"]


@dataclass(frozen=True)
class WalkingBout:
    """One walking bout: samples ``[start, end)`` and the bout's own step period (s)."""

    start: int
    end: int
    step_s: float


def _window_regularity(x: FloatArray, fs: float, win: int, hop: int) -> tuple[FloatArray, FloatArray]:
    """Per window (start = k·hop): the std of ``x`` and the highest normalised autocorrelation peak
    within the step-time range (0.3-1.4 s)."""
    n_win = max((len(x) - win) // hop + 1, 0)
    if n_win == 0:
        return np.zeros(0), np.zeros(0)
    idx = np.arange(n_win)[:, None] * hop + np.arange(win)[None, :]
    w = x[idx]
    w = w - w.mean(axis=1, keepdims=True)
    std = w.std(axis=1)
    nfft = 1 << int(np.ceil(np.log2(2 * win)))
    spec = np.fft.rfft(w, nfft, axis=1)
    ac = np.fft.irfft(spec * np.conj(spec), nfft, axis=1)[:, :win]
    ac0 = np.where(ac[:, :1] > 0, ac[:, :1], np.inf)
    ac = ac / ac0
    lo, hi = int(0.3 * fs), min(int(1.4 * fs), win - 2)
    seg = ac[:, lo - 1 : hi + 2]
    is_peak = (seg[:, 1:-1] > seg[:, :-2]) & (seg[:, 1:-1] >= seg[:, 2:])
    best = np.where(is_peak, seg[:, 1:-1], -1.0).max(axis=1)
    return std, best


def walking_bouts(
    av: FloatArray,
    fs: float,
    *,
    window_s: float = 3.0,
    hop_s: float = 0.5,
    min_std_g: float = 0.03,
    min_regularity: float = 0.3,
    merge_gap_s: float = 1.0,
    min_bout_s: float = 2.0,
    core_fraction: tuple[float, float] = (0.25, 0.75),
) -> list[WalkingBout]:
    """Walking bouts of the vertical acceleration ``av`` (m/s², gravity included) at ``fs`` Hz."""
    x = bandpass(np.asarray(av, dtype=float), 0.5, 3.0, fs)
    win, hop = int(window_s * fs), max(int(hop_s * fs), 1)
    if len(x) < win:
        win = len(x)
    std, reg = _window_regularity(x, fs, win, hop)
    walking = (std >= min_std_g * G) & (reg >= min_regularity)
    mask = np.zeros(len(x), dtype=bool)
    core0, core1 = int(core_fraction[0] * win), int(core_fraction[1] * win)
    for k in np.flatnonzero(walking).tolist():  # the window's central part: its edges blur the bout ends
        mask[k * hop + core0 : k * hop + core1] = True
    edges = np.diff(np.r_[0, mask.astype(np.int8), 0])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    spans: list[list[int]] = []
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        if spans and s - spans[-1][1] < merge_gap_s * fs:
            spans[-1][1] = e
        else:
            spans.append([s, e])
    bouts = []
    for s, e in spans:
        if e - s < min_bout_s * fs:
            continue
        bouts.append(WalkingBout(s, e, local_step_period(x[s:e], fs)))
    return bouts


def local_step_period(x: FloatArray, fs: float) -> float:
    """Step period (s) of one bout: the autocorrelation peak in 0.3-1.4 s; when the stride wins (left
    and right steps differ), the step near half of it."""
    period, _ = dominant_period_s(x, fs, 0.3, 1.4)
    if np.isfinite(period) and period > 0.8:
        half, strength = dominant_period_s(x, fs, 0.35 * period, 0.65 * period)
        if np.isfinite(half) and strength > 0.0:
            period = half
    return period
