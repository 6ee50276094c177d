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

:func:`assemble_walking_bouts` then applies the Mobilise-D walking-bout (WB) definition to the ICs found
in those bouts, with the rules and defaults of mobgap's ``StrideSelection`` / ``WbAssembly``
(``PredefinedParameters.mobilised``; Kluge et al. 2021, "Consensus based framework for digital mobility
monitoring", PLOS ONE 16:e0256541): a stride runs from an IC to the next IC of the same foot within one
gait sequence and counts when it lasts more than 0.2 and at most 3 s; strides sorted by start form one
WB until the gap from a stride's end to the next stride's start exceeds 3 s; a WB needs at least 4
strides; the ICs between a WB's first stride start and last stride end are its ICs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from stridelab.gait._signal import FloatArray, bandpass, dominant_period_s
from stridelab.units import G

__all__ = ["WalkingBout", "assemble_walking_bouts", "local_step_period", "walking_bouts"]


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


def assemble_walking_bouts(
    ic_idx: npt.ArrayLike,
    side: npt.ArrayLike,
    sequence: npt.ArrayLike,
    fs: float,
    *,
    stride_s: tuple[float, float] = (0.2, 3.0),
    max_break_s: float = 3.0,
    min_strides: int = 4,
) -> list[tuple[int, int]]:
    """Mobilise-D walking bouts ``(first sample, last sample)`` of the ICs ``ic_idx`` (samples,
    increasing) with their ``side`` ("left"/"right") and gait ``sequence`` id (< 0: in no sequence).

    The rules of mobgap's ``StrideSelection`` and ``WbAssembly`` at their Mobilise-D defaults (module
    docstring): strides IC → next same-foot IC in the same sequence, kept when ``stride_s[0] <``
    duration ``<= stride_s[1]``; sorted by (start, end), a WB ends where the next stride starts more than
    ``max_break_s`` after the previous stride's end; WBs of fewer than ``min_strides`` strides are dropped.
    (mobgap's stride-length rule needs a stride length, which a lower-back IC list does not carry; mobgap
    skips a rule whose column is missing, and so does this.)
    """
    ic = np.asarray(ic_idx, dtype=np.int64)
    sd = np.asarray(side, dtype=object)
    seq = np.asarray(sequence, dtype=np.int64)
    starts: list[int] = []
    ends: list[int] = []
    for g in np.unique(seq[seq >= 0]).tolist():
        for foot in ("left", "right"):
            own = ic[(seq == g) & (sd == foot)]
            if len(own) < 2:
                continue
            dur = np.diff(own) / fs
            ok = (dur > stride_s[0]) & (dur <= stride_s[1])
            starts.extend(own[:-1][ok].tolist())
            ends.extend(own[1:][ok].tolist())
    if not starts:
        return []
    order = np.lexsort((np.asarray(ends), np.asarray(starts)))
    st, en = np.asarray(starts)[order], np.asarray(ends)[order]
    cut = np.flatnonzero((st[1:] - en[:-1]) / fs > max_break_s) + 1
    bouts = []
    for a, b in zip(np.r_[0, cut].tolist(), np.r_[cut, len(st)].tolist(), strict=True):
        if b - a >= min_strides:
            bouts.append((int(st[a:b].min()), int(en[a:b].max())))
    return bouts
