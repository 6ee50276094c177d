"""Gait events from a single IMU on the lower back / sacrum (or a phone in a waistband), with L/R.

* **Walking, IC** (``ic_method="max_slope"``, default) -- the trunk's vertical acceleration rises steeply
  when the heel lands (the loading response). After McCamley et al. 2012 ("An enhanced estimate of
  initial contact and final contact instants of time using lower trunk inertial sensor data", Gait
  Posture 36:316) and its Mobilise-D refinement (Paraschiv-Ionescu et al. 2020, EMBC 4596): the vertical
  acceleration is low-passed and differentiated, and IC is the maximum of that derivative once per step
  (minimum spacing a fraction of the step period found by autocorrelation).
* **Walking, IC** (``ic_method="cwt"``) -- the published Mobilise-D recipe itself (Paraschiv-Ionescu et
  al. 2020 after McCamley et al. 2012; mobgap's ``IcdIonescu``): band-pass 0.15-3.14 Hz, integrate,
  Mexican-hat CWT at 0.225 s, IC = minimum between zero crossings (:mod:`._lowback`). It finds one IC per
  step without a step-period prior, but at this coarse scale the minimum precedes the reference IC by
  ~90 ms (see docs/imu.md, Validation), so it is not the default.
* **Walking, TO** -- the contralateral final contact follows IC within the loading response; it is the
  first local minimum of the low-passed vertical acceleration after the IC peak (McCamley's FC feature
  expressed on the acceleration). Its side is the opposite of the preceding IC.
* **Running** -- a flight phase shows as near free fall of the trunk (specific force ≪ 1 g). Contact
  is where the low-passed vertical specific force exceeds ``contact_threshold_g`` (the trunk acceleration
  is the centre-of-mass acceleration to a first approximation, so this mirrors a force threshold on the
  vertical GRF; e.g. Lee et al. 2010, "Detection of spatio-temporal gait parameters by using wearable
  motion sensors", IEEE EMBC). IC = the upward crossing (the heel-strike transient jumps through it); TO
  = the downward crossing extrapolated along the force's slope to 0 g (the force decays smoothly at
  push-off, so the crossing alone ends the contact early).
* **Left/right** -- McCamley et al. 2012: the sign of the band-passed angular velocity about the
  vertical axis at IC; clockwise seen from above (negative about 'up') = LEFT. Two additions
  (:mod:`._lowback`): the yaw rate at each IC is taken relative to its mean over the surrounding stride
  (removes the bias of turns, which made the raw sign fail in daily-activity walking), and the labels are
  the most likely left/right *alternating* sequence (two-state Viterbi; a same-side repeat costs
  ``lr_repeat_penalty`` typical steps of evidence). Without a gyroscope the sides alternate with an
  arbitrary start, and ``problems_`` says so.
* **Walking vs running**: running when the median per-step minimum of the vertical specific force is
  below ``flight_threshold_g`` (a flight phase).
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.signal import find_peaks

from stridelab.frames import EventPlacement, Side, check_option
from stridelab.gait._checks import ImuDataError, check_imu_data
from stridelab.gait._kernels import troughs_after
from stridelab.gait._signal import FloatArray, IntArray, bandpass, dominant_period_s, lowpass, lowpass_pair
from stridelab.gait.events._bouts import WalkingBout, assemble_walking_bouts, walking_bouts
from stridelab.gait.events._lowback import alternating_sides, cwt_initial_contacts, side_evidence
from stridelab.gait.events.base import BaseEventDetector, events_frame
from stridelab.gait.orientation import (
    Orientation,
    estimate_orientation,
    frame_from_axes,
    gravity_direction,
    horizontal_principal_axis,
)
from stridelab.units import G

__all__ = ["IC_METHODS", "SacrumEventDetection"]

#: walking IC methods of :class:`SacrumEventDetection` (see the module docstring).
IC_METHODS: tuple[str, str] = ("max_slope", "cwt")


class SacrumEventDetection(BaseEventDetector):
    """IC/TO with left/right from a lower-back IMU (see the module docstring for the methods).

    Parameters
    ----------
    ic_lowpass_hz
        Low-pass cut-off of the vertical acceleration before differentiation (walking).
    min_step_fraction
        Minimum spacing of two ICs as a fraction of the step period.
    lr_band_hz
        Band (low, high) of the yaw-rate filter for the left/right decision.
    flight_threshold_g
        Per-step minimum vertical specific force below which a step has a flight phase.
    contact_threshold_g
        Running: vertical specific force above which the runner is in contact with the ground.
    ic_method
        Walking IC method: ``"max_slope"`` (default) or ``"cwt"`` (Paraschiv-Ionescu et al. 2020).
    cwt_band_hz
        ``"cwt"``: band (low, high) of the vertical acceleration before integration; 0.15-3.14 Hz is the
        published Mobilise-D gait filter band.
    cwt_scale_s
        ``"cwt"``: wavelet scale in seconds; 0.225 s = the published scale 9 at 40 Hz.
    walking_bouts
        Walking (``max_slope``): detect ICs only inside walking bouts (:mod:`._bouts`, after Iluz 2014 /
        Mobilise-D GSD), each with its own local step period; False = one global period, everywhere.
    wb_assembly
        With ``walking_bouts``: keep only the ICs of walking bouts by the Mobilise-D definition
        (:func:`._bouts.assemble_walking_bouts`, mobgap's ``StrideSelection`` + ``WbAssembly`` defaults:
        strides 0.2-3 s, at least 4 strides, breaks ≤ 3 s); the bouts are ``wbs_`` (samples).
    lr_repeat_penalty
        Cost of two consecutive ICs on the same side, in units of the median left/right evidence
        (1.0 = one typical step; not fitted). 0 gives McCamley's independent per-IC sign.
    """

    placement: ClassVar[EventPlacement] = "sacrum"

    ic_lowpass_hz: float
    min_step_fraction: float
    lr_band_hz: tuple[float, float]
    flight_threshold_g: float
    contact_threshold_g: float
    ic_method: str
    cwt_band_hz: tuple[float, float]
    cwt_scale_s: float
    lr_repeat_penalty: float
    walking_bouts: bool
    wb_assembly: bool

    def __init__(
        self,
        ic_lowpass_hz: float = 6.0,
        min_step_fraction: float = 0.65,
        lr_band_hz: tuple[float, float] = (0.5, 3.0),
        flight_threshold_g: float = 0.35,
        contact_threshold_g: float = 0.6,
        ic_method: str = "max_slope",
        cwt_band_hz: tuple[float, float] = (0.15, 3.14),
        cwt_scale_s: float = 0.225,
        lr_repeat_penalty: float = 1.0,
        walking_bouts: bool = True,
        wb_assembly: bool = True,
    ) -> None:
        self.walking_bouts = walking_bouts
        self.wb_assembly = wb_assembly
        self.ic_lowpass_hz = ic_lowpass_hz
        self.min_step_fraction = min_step_fraction
        self.lr_band_hz = lr_band_hz
        self.flight_threshold_g = flight_threshold_g
        self.contact_threshold_g = contact_threshold_g
        self.ic_method = ic_method
        self.cwt_band_hz = cwt_band_hz
        self.cwt_scale_s = cwt_scale_s
        self.lr_repeat_penalty = lr_repeat_penalty

    def detect(
        self,
        data: pd.DataFrame,
        *,
        sampling_rate_hz: float,
        side: Side | None = None,
        orientation: Orientation | None = None,
    ) -> Self:
        """Detect IC and TO of both feet. ``side`` must be None (both sides are found).

        ``orientation`` -- the sensor's :class:`~stridelab.gait.orientation.Orientation` when already
        computed (the pipeline computes it once per sensor); estimated here when needed and not given.
        """
        if side is not None:
            raise ValueError("A sacrum sensor sees both feet; leave side=None (sides are assigned)")
        check_option("ic_method", self.ic_method, IC_METHODS)
        checked = check_imu_data(data, sampling_rate_hz, "sacrum")
        acc, gyr, fs = checked.acc, checked.gyr, checked.fs
        problems = list(checked.problems)
        up = gravity_direction(acc)
        av = acc @ up
        # (speed only) the step-period and contact low-passes of ``av`` side by side, bitwise the same
        av_3hz, smooth = lowpass_pair(av, 3.0, av, 15.0, fs)
        step_s = _step_period(av, fs, low=av_3hz)
        by_bouts = self.walking_bouts and self.ic_method == "max_slope"
        if not np.isfinite(step_s) and not by_bouts:
            raise ImuDataError("no regular steps found in the lower-back signal (not walking or running?)")
        running = False
        if np.isfinite(step_s):  # no regular step over the whole recording: walking bouts may still exist
            # the minimum of every whole step-long window (consecutive, non-overlapping)
            win = max(int(step_s * fs), 1)
            n_win = len(np.arange(0, len(av) - int(step_s * fs), win))
            minima = smooth[: n_win * win].reshape(n_win, win).min(axis=1)
            running = bool(np.median(minima) < self.flight_threshold_g * G)
        if running:
            ic_idx, to_idx = _running_contacts(smooth, fs, step_s, self.contact_threshold_g * G)
        elif self.ic_method == "cwt":
            ic_idx = cwt_initial_contacts(
                av, fs, band_hz=(self.cwt_band_hz[0], self.cwt_band_hz[1]), scale_s=self.cwt_scale_s
            )
            to_idx = _following_troughs(lowpass(av, self.ic_lowpass_hz, fs), ic_idx, fs, step_s)
        elif self.walking_bouts:
            ic_idx, to_idx, bouts = _bout_events(av, fs, self.ic_lowpass_hz, self.min_step_fraction)
            self.walking_bouts_ = bouts
            if len(ic_idx) < 2:
                raise ImuDataError("no walking bout found in the lower-back signal (not walking?)")
            step_s = float(np.median([b.step_s for b in bouts]))  # for the left/right alternation
        else:
            ic_idx, to_idx = _walking_events(av, fs, step_s, self.ic_lowpass_hz, self.min_step_fraction)
        ic_idx = ic_idx[checked.moving[ic_idx]] if len(ic_idx) else ic_idx
        to_idx = to_idx[checked.moving[to_idx]] if len(to_idx) else to_idx
        if len(ic_idx) < 2:
            raise ImuDataError("fewer than two steps found in the lower-back signal")
        # left / right
        if gyr is not None:
            yaw = bandpass(gyr @ up, self.lr_band_hz[0], self.lr_band_hz[1], fs)
            evidence = side_evidence(yaw, ic_idx)
            ic_side = alternating_sides(evidence, ic_idx / fs, step_s, self.lr_repeat_penalty)
            axis = horizontal_principal_axis(gyr, up, fs=fs, cutoff_hz=5.0)
        else:
            ic_side = np.array(["left", "right"] * (len(ic_idx) // 2 + 1), dtype=object)[: len(ic_idx)]
            problems.append(
                "no gyroscope: left/right alternate from an arbitrary start (the side labels may be swapped)"
            )
            axis = horizontal_principal_axis(acc, up, fs=fs)
        if by_bouts and not running and self.wb_assembly:
            ic_idx, ic_side, to_idx = self._assemble(ic_idx, ic_side, to_idx, fs)
        to_side = np.empty(len(to_idx), dtype=object)
        prev_ic = np.searchsorted(ic_idx, to_idx, side="right") - 1  # the last IC at or before each TO
        first_other = "right" if ic_side[0] == "left" else "left"
        for k, p in enumerate(prev_ic.tolist()):
            if running:  # TO ends the contact that the preceding IC started: same foot
                to_side[k] = ic_side[p] if p >= 0 else first_other
            else:  # walking: the contralateral foot leaves during the loading response
                base = ic_side[p] if p >= 0 else ic_side[0]
                to_side[k] = "right" if base == "left" else "left"
        self.gait_mode_ = "running" if running else "walking"
        self.ic_s_ = ic_idx / fs
        self.to_s_ = to_idx / fs
        self.events_ = events_frame(self.ic_s_, self.to_s_, ic_side, to_side)
        ml = None
        if gyr is not None:
            if orientation is None:
                orientation = estimate_orientation(acc, gyr, fs)
            orientation.check_matches(len(acc), fs, "SacrumEventDetection")
            ml = _lateral_axis(acc, orientation.up_sensor, up, fs, ic_idx, ic_side)
        if ml is None:
            ml = axis
            problems.append("trunk medio-lateral axis sign unknown (no reliable left/right steps)")
        self.body_frame_ = frame_from_axes(np.cross(ml, up), up)
        self.step_period_s_ = step_s
        self.problems_ = tuple(problems)
        return self

    def _assemble(
        self, ic_idx: IntArray, ic_side: npt.NDArray[np.object_], to_idx: IntArray, fs: float
    ) -> tuple[IntArray, npt.NDArray[np.object_], IntArray]:
        """The ICs (with sides) and TOs inside the Mobilise-D walking bouts; sets ``wbs_``."""
        seq = np.full(len(ic_idx), -1, dtype=np.int64)
        for k, b in enumerate(self.walking_bouts_):
            seq[(ic_idx >= b.start) & (ic_idx < b.end)] = k
        self.wbs_ = assemble_walking_bouts(ic_idx, ic_side, seq, fs)
        keep = np.zeros(len(ic_idx), dtype=bool)
        for first, last in self.wbs_:
            keep |= (ic_idx >= first) & (ic_idx <= last)
        if keep.sum() < 2:
            raise ImuDataError(
                "no walking bout of at least 4 strides in the lower-back signal (Mobilise-D definition)"
            )
        prev = np.searchsorted(ic_idx, to_idx, side="right") - 1  # a TO belongs to the IC before it
        to_keep = (prev >= 0) & keep[np.maximum(prev, 0)]
        return ic_idx[keep], ic_side[keep], to_idx[to_keep]


def _lateral_axis(
    acc: FloatArray,
    up_t: FloatArray,
    up: FloatArray,
    fs: float,
    ic_idx: IntArray,
    ic_side: npt.NDArray[np.object_],
) -> FloatArray | None:
    """Left-pointing horizontal axis from the side-alternating lateral push of single support.

    In single support the ground pushes the body toward the midline, so the mean horizontal trunk
    acceleration from a LEFT IC to the next (right) IC points to the RIGHT (and vice versa): the
    centre of mass oscillates between the feet (e.g. Moe-Nilssen & Helbostad 2004, J Biomech 37:121).
    """
    # horizontal acceleration with the instantaneous vertical (``up_t``, Madgwick), so pelvic roll does
    # not leak gravity into the lateral component
    h = acc - (np.einsum("ij,ij->i", acc, up_t))[:, None] * up_t
    h = lowpass(h, 5.0, fs)
    h = h - np.outer(h @ up, up)
    h = h - h.mean(axis=0)
    # mean of h over each step IC(k) → IC(k+1) (consecutive segments: one reduceat), signed by side
    alternate = ic_side[:-1] != ic_side[1:]
    count = int(alternate.sum())
    acc_sum = np.zeros(3)
    if count:
        step_sums = np.add.reduceat(h, ic_idx, axis=0)[:-1]  # ic_idx strictly increasing
        step_means = step_sums / np.diff(ic_idx)[:, None]
        sign = np.where(ic_side[:-1] == "left", 1.0, -1.0)
        acc_sum = (sign[alternate, None] * step_means[alternate]).sum(axis=0)
    if count < 4 or np.linalg.norm(acc_sum) / count < 0.05:
        return None
    right = acc_sum / np.linalg.norm(acc_sum)
    return -right


def _step_period(av: FloatArray, fs: float, low: FloatArray | None = None) -> float:
    """Step period from the autocorrelation of the vertical acceleration (half the stride if needed).
    ``low``: ``lowpass(av, 3.0, fs)`` when already computed."""
    x = lowpass(av, 3.0, fs) if low is None else low
    period, _ = dominant_period_s(x, fs, 0.25, 1.6)
    # The stride wins the autocorrelation when left and right steps differ (an asymmetric runner: a
    # 52/48 % GCT balance is enough). A running stride (0.6-0.8 s) overlaps walking steps (0.45-0.7 s),
    # so from 0.5 s on look for a step near half the period; a walking step has none there (its half,
    # 0.22-0.35 s, is a trough of the 3 Hz low-passed signal).
    if np.isfinite(period) and period > 0.5:
        lo, hi = (0.3, 0.7) if period > 0.8 else (0.4, 0.6)
        half, strength = dominant_period_s(x, fs, lo * period, hi * period)
        if np.isfinite(half) and strength > 0.2:
            period = half
    return period


def _walking_events(
    av: FloatArray, fs: float, step_s: float, cutoff_hz: float, min_fraction: float
) -> tuple[IntArray, IntArray]:
    x = lowpass(av, cutoff_hz, fs)
    slope = np.gradient(x) * fs
    peaks, _ = find_peaks(slope, distance=max(int(min_fraction * step_s * fs), 1))
    if len(peaks) == 0:
        return peaks, peaks
    peaks = peaks[slope[peaks] > 0.3 * np.median(slope[peaks])]
    return peaks.astype(np.intp), _following_troughs(x, peaks, fs, step_s)


def _bout_events(
    av: FloatArray, fs: float, cutoff_hz: float, min_fraction: float
) -> tuple[IntArray, IntArray, tuple[WalkingBout, ...]]:
    """ICs/TOs bout by bout, each bout with its own step period; nothing outside the bouts."""
    bouts = tuple(b for b in walking_bouts(av, fs) if np.isfinite(b.step_s))
    pad = int(0.5 * fs)
    ics: list[IntArray] = []
    tos: list[IntArray] = []
    for b in bouts:
        lo, hi = max(b.start - pad, 0), min(b.end + pad, len(av))
        ic, to = _walking_events(av[lo:hi], fs, b.step_s, cutoff_hz, min_fraction)
        ic, to = ic + lo, to + lo
        ics.append(ic[(ic >= b.start) & (ic < b.end)])
        tos.append(to[(to >= b.start) & (to < b.end)])
    if not ics:
        return np.zeros(0, np.intp), np.zeros(0, np.intp), bouts
    ic_all, to_all = np.unique(np.concatenate(ics)), np.unique(np.concatenate(tos))
    return ic_all.astype(np.intp), to_all.astype(np.intp), bouts


#: from this many ICs on, :func:`_following_troughs` runs compiled (short signals: no compile)
_COMPILED_TROUGHS = 200


def _following_troughs(x: FloatArray, ic_idx: IntArray, fs: float, step_s: float) -> IntArray:
    """TO after each IC: the first trough of the low-passed vertical acceleration after its peak."""
    if len(ic_idx) >= _COMPILED_TROUGHS:  # (speed only) the loop below, compiled: the same indices
        return troughs_after(x, ic_idx, int(0.6 * step_s * fs), max(int(0.3 * step_s * fs), 2))
    to = []
    for p in ic_idx:
        seg = x[p : p + int(0.6 * step_s * fs)]
        if len(seg) < 3:
            continue
        mins, _ = find_peaks(-seg)
        # the first trough after the acceleration peak (skip the peak itself)
        top = int(np.argmax(seg[: max(int(0.3 * step_s * fs), 2)]))
        mins = mins[mins > top]
        if len(mins):
            to.append(p + int(mins[0]))
    return np.asarray(to, dtype=np.intp)


def _running_contacts(
    smooth: FloatArray, fs: float, step_s: float, threshold: float
) -> tuple[IntArray, IntArray]:
    """Contacts where the vertical specific force exceeds ``threshold``; TO extrapolated to 0 g.

    The threshold finds the contacts robustly (flight is ≈ free fall, 0 g). At IC the heel-strike
    transient makes the force jump through the threshold, so the crossing is kept. At TO the force
    decays smoothly to 0 g, and the crossing came one threshold-to-zero decay early (~20 ms for 0.6 g in
    the synthetic runner, i.e. contact times ~25-35 ms short): the TO is moved along the local slope to
    where the force reaches zero, by at most 15 % of a step.
    """
    on = smooth > threshold
    ups = np.flatnonzero(on[1:] & ~on[:-1]) + 1
    downs = np.flatnonzero(~on[1:] & on[:-1]) + 1
    slope = np.gradient(smooth) * fs
    cap_s = 0.15 * step_s
    first_down = np.searchsorted(downs, ups, side="right")  # the first downward crossing after each up
    has = first_down < len(downs)  # (the ups after the last down come last)
    u, d0 = ups[has], downs[first_down[has]]
    contact = ~((d0 - u) / fs < 0.3 * step_s)  # shorter: a blip, not a contact
    u, d0 = u[contact], d0[contact]
    fall = -slope[d0]
    ahead = np.zeros(len(fall))
    np.divide(threshold, fall, out=ahead, where=fall > 0)
    ahead = np.where(fall > 0, np.minimum(ahead, cap_s), 0.0)
    to = np.minimum(np.round(d0 + ahead * fs), len(smooth) - 1)
    return u.astype(np.intp), to.astype(np.intp)
