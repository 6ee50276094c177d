"""Gait events from a shank-mounted IMU; the accelerometer alone is enough, a gyroscope is used if present.

Method (running and walking), after the tibial-accelerometer literature:

* Stride segmentation and the **impact anchor**: the steepest rise of the low-passed acceleration norm,
  one per stride (the foot-strike transient travels up the tibia; Lafortune 1996; Purcell et al. 2006,
  "Use of accelerometers for detecting foot-ground contact time during running", Proc. SPIE 6036).
* **Running** -- IC = impact anchor minus a fixed latency; TO = the minimum of the low-passed vertical
  (gravity-axis) acceleration that follows the push-off (Sinclair et al. 2013, "Determination of gait
  events using an externally mounted shank accelerometer in running", Sports Biomech 12:229, describe
  the end-of-stance trough) minus a fixed latency. The two latencies are the only trained values: they
  were fitted on the marlow17 treadmill data (Bach, Dominici & Daffertshofer 2022, bioRxiv
  10.1101/2022.02.14.480318) against a 50 N force threshold; ``bench/validate_imu.py`` re-fits them
  leave-one-participant-out and reports the held-out errors.
* **Walking** -- accelerometer only: IC = steepest braking onset (rising backward acceleration) near the
  impact anchor; TO = the forward-acceleration trough before swing (Sinclair 2013 / Purcell 2006
  analogues for walking). With a gyroscope, walking uses Salarian et al. 2004 (IEEE TBME 51:1434): on
  the sagittal angular velocity (swing positive) the mid-swing peak is found, IC = the first minimum
  after it and TO = the last minimum before it.
* **Walking vs running**: the rules are first chosen by cadence (stride < ``running_max_stride_s`` =
  running) and the result is then checked by its duty factor: running has a flight phase (each foot on
  the ground < 50 % of the stride); if the check contradicts the cadence guess the other rule set is used.

Body frame: ``si`` = gravity; ``pa`` = principal horizontal acceleration (or rotation) axis, signed so
that the impact at IC is a *braking* (backward) acceleration, or with a gyroscope so that the swing
rotation is positive about the right-pointing axis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Self

import numpy as np
import pandas as pd
from scipy.signal import find_peaks

from stridelab.frames import EVENT_PLACEMENTS, SIDES, EventPlacement, Side, check_option
from stridelab.gait._checks import ImuDataError, check_imu_data
from stridelab.gait._signal import FloatArray, IntArray, dominant_period_s, lowpass, row_norm
from stridelab.gait.events.base import BaseEventDetector, events_frame
from stridelab.gait.orientation import frame_from_axes, gravity_direction, horizontal_principal_axis

__all__ = ["ShankEventDetection"]


class ShankEventDetection(BaseEventDetector):
    """IC/TO from a shank IMU (accelerometer-only works; see the module docstring for the methods).

    Parameters
    ----------
    impact_lowpass_hz
        Low-pass cut-off for the acceleration norm used for the impact anchor.
    to_lowpass_hz
        Low-pass cut-off for the vertical acceleration used for running TO.
    ic_latency_ms, to_latency_ms
        Running: delay of the impact anchor after IC and of the vertical-acceleration trough after TO.
        Defaults fitted on marlow17 (3 participants, 6 treadmill runs at 8.5 km/h; see the bench).
    walking_ic_latency_ms, walking_to_latency_ms
        Walking, accelerometer only: delay of the braking-onset feature after IC and of the forward
        trough after TO (negative = the feature precedes the event). Fitted on marlow17 walking.
    running_max_stride_s
        Cadence prior: strides shorter than this are tried as running first.
    """

    placement: ClassVar[EventPlacement] = "shank"

    impact_lowpass_hz: float
    to_lowpass_hz: float
    ic_latency_ms: float
    to_latency_ms: float
    walking_ic_latency_ms: float
    walking_to_latency_ms: float
    running_max_stride_s: float

    def __init__(
        self,
        impact_lowpass_hz: float = 30.0,
        to_lowpass_hz: float = 20.0,
        ic_latency_ms: float = 25.0,
        to_latency_ms: float = 28.0,
        walking_ic_latency_ms: float = 20.3,
        walking_to_latency_ms: float = -56.2,
        running_max_stride_s: float = 0.9,
    ) -> None:
        self.impact_lowpass_hz = impact_lowpass_hz
        self.to_lowpass_hz = to_lowpass_hz
        self.ic_latency_ms = ic_latency_ms
        self.to_latency_ms = to_latency_ms
        self.walking_ic_latency_ms = walking_ic_latency_ms
        self.walking_to_latency_ms = walking_to_latency_ms
        self.running_max_stride_s = running_max_stride_s

    def detect(self, data: pd.DataFrame, *, sampling_rate_hz: float, side: Side | None = None) -> Self:
        """Detect IC and TO of the leg carrying the sensor. ``side`` (left/right) is required."""
        check_option("placement", self.placement, EVENT_PLACEMENTS)
        if side is None:
            raise ValueError("A shank sensor belongs to one leg: pass side='left' or side='right'")
        check_option("side", side, SIDES)
        checked = check_imu_data(data, sampling_rate_hz, "shank")
        acc, gyr, fs = checked.acc, checked.gyr, checked.fs
        problems = list(checked.problems)
        up = gravity_direction(acc)
        nrm = row_norm(acc)
        stride_s, strength = dominant_period_s(lowpass(nrm, 10.0, fs), fs, 0.4, 2.2)
        if not np.isfinite(stride_s) or strength < 0.15:
            raise ImuDataError("no regular strides found in the shank signal (not walking or running?)")
        anchors = _impact_anchors(nrm, fs, stride_s, self.impact_lowpass_hz)
        if len(anchors) < 2:
            raise ImuDataError("fewer than two foot impacts found in the shank signal")
        # body frame: pa signed by braking at impact (or by the swing rotation if a gyroscope is present)
        if gyr is not None:
            axis = horizontal_principal_axis(gyr, up, fs=fs, cutoff_hz=5.0)
            w = lowpass(gyr @ axis, 3.0, fs)
            right = axis if abs(w.max()) >= abs(w.min()) else -axis  # swing peak is the largest lobe
            pa = np.cross(-right, up)
        else:
            axis = horizontal_principal_axis(acc, up, fs=fs, cutoff_hz=None)
            a_ax = lowpass(acc @ axis, self.impact_lowpass_hz, fs)
            idx = np.clip(anchors[:, None] + np.arange(0, int(0.03 * fs) + 1)[None, :], 0, len(acc) - 1)
            pa = -axis if float(np.mean(a_ax[idx])) > 0 else axis
        frame = frame_from_axes(pa, up)
        body = frame.apply(acc, frame="sensor")
        acc_pa, acc_si = body[:, 0], body[:, 2]
        pitch = None
        if gyr is not None:
            pitch = -frame.apply(gyr, frame="sensor")[:, 1]  # rotation about the right axis, swing > 0
        run = _running_rule(anchors, acc_si, fs, stride_s, self)
        walk = _walking_rule(anchors, acc_pa, pitch, fs, stride_s, self)
        duty_run, duty_walk = _duty(*run, stride_s), _duty(*walk, stride_s)
        prefer_running = stride_s < self.running_max_stride_s
        if prefer_running:
            use_running = not (np.isfinite(duty_run) and duty_run >= 0.5)
        else:
            use_running = bool(np.isfinite(duty_walk) and duty_walk < 0.5)
            use_running = use_running and bool(np.isfinite(duty_run) and duty_run < 0.5)
        ic, to = checked.keep_moving(*(run if use_running else walk))
        # an impact in the first few ms puts its latency-corrected IC before the first sample
        ic, to = ic[ic >= 0.0], to[to >= 0.0]
        duty = _duty(ic, to, stride_s)
        self.gait_mode_ = "running" if (np.isfinite(duty) and duty < 0.5) else "walking"
        if use_running != (self.gait_mode_ == "running"):
            problems.append(
                f"walking/running rules disagree (duty factor {duty:.2f}); events may be less accurate"
            )
        self.ic_s_ = ic
        self.to_s_ = to
        self.events_ = events_frame(ic, to, [side] * len(ic), [side] * len(to))
        self.body_frame_ = frame
        self.stride_period_s_ = stride_s
        self.problems_ = tuple(problems)
        return self


def _impact_anchors(nrm: FloatArray, fs: float, stride_s: float, cutoff_hz: float) -> IntArray:
    slope = np.gradient(lowpass(nrm, cutoff_hz, fs)) * fs
    peaks = np.asarray(find_peaks(slope, distance=max(int(0.6 * stride_s * fs), 1))[0], dtype=np.intp)
    if len(peaks) == 0:
        return peaks
    top = np.median(slope[peaks])
    return peaks[slope[peaks] > 0.4 * top]


def _running_rule(
    anchors: IntArray, acc_si: FloatArray, fs: float, stride_s: float, p: ShankEventDetection
) -> tuple[FloatArray, FloatArray]:
    v = lowpass(acc_si, p.to_lowpass_hz, fs)
    ic, to = [], []
    for a in anchors:
        i0, i1 = a + int(0.10 * fs), a + int(0.55 * stride_s * fs)
        ic.append(a / fs - p.ic_latency_ms / 1000)
        # near the end of the recording the TO window is cut: search the samples that remain and keep
        # the TO only if its trough lies inside them (the IC is kept either way; its TO is then missing)
        j = _interior_extremum(v, i0, i1, np.argmin)
        if j is not None:
            to.append(j / fs - p.to_latency_ms / 1000)
    return np.asarray(ic), np.asarray(to)


def _interior_extremum(v: FloatArray, i0: int, i1: int, arg: Callable[[FloatArray], np.intp]) -> int | None:
    """Index of the extremum of ``v[i0:i1]``; when the window runs past the end of ``v`` only the samples
    left are searched, and an extremum on the last sample (a trough still falling) counts as missing."""
    n = len(v)
    if i0 >= n - 1:
        return None
    cut = i1 > n
    seg = v[i0 : min(i1, n)]
    j = int(arg(seg))
    if cut and j >= len(seg) - 1:
        return None
    return i0 + j


def _walking_rule(
    anchors: IntArray,
    acc_pa: FloatArray,
    pitch: FloatArray | None,
    fs: float,
    stride_s: float,
    p: ShankEventDetection,
) -> tuple[FloatArray, FloatArray]:
    if pitch is not None:
        return _salarian(pitch, fs, stride_s)
    back = -acc_pa
    d_back = np.gradient(lowpass(back, 30.0, fs)) * fs
    back10 = lowpass(back, 10.0, fs)
    ic, to = [], []
    w = int(0.1 * fs)
    for a in anchors:
        lo, hi = max(a - w, 0), min(a + w, len(back))
        i1 = a + int(0.8 * stride_s * fs)
        j_ic = lo + int(np.argmax(d_back[lo:hi]))
        ic.append(j_ic / fs - p.walking_ic_latency_ms / 1000)
        t0 = j_ic + int(0.35 * stride_s * fs)
        j_to = _interior_extremum(back10, t0, i1, np.argmax)  # cut at the end: TO missing, IC kept
        if j_to is not None:
            to.append(j_to / fs - p.walking_to_latency_ms / 1000)
    return np.asarray(ic), np.asarray(to)


def _salarian(pitch: FloatArray, fs: float, stride_s: float) -> tuple[FloatArray, FloatArray]:
    """Salarian et al. 2004: mid-swing peak; IC = next local minimum; TO = previous local minimum."""
    slow = lowpass(pitch, 5.0, fs)
    fast = lowpass(pitch, 20.0, fs)
    ms, _ = find_peaks(slow, distance=max(int(0.6 * stride_s * fs), 1), height=0.3 * np.percentile(slow, 99))
    ic, to = [], []
    win = int(0.25 * stride_s * fs) + 1
    for m in ms:
        if m - win < 0:
            continue
        # at the end of the recording the IC window may be cut: search what remains (IC missing only
        # if the swing is still decelerating on the last sample); the TO before the peak is complete
        j_ic = _interior_extremum(fast, m, m + win, np.argmin)
        if j_ic is not None:
            ic.append(j_ic / fs)
        before = fast[m - win : m]
        to.append((m - win + int(np.argmin(before))) / fs)
    return np.asarray(ic), np.asarray(to)


def _duty(ic: FloatArray, to: FloatArray, stride_s: float) -> float:
    """Median stance time (IC → next TO) / stride time."""
    if len(ic) == 0 or len(to) == 0:
        return float("nan")
    stance = []
    for t in ic:
        nxt = to[to > t]
        if len(nxt) and nxt[0] - t < stride_s:
            stance.append(nxt[0] - t)
    return float(np.median(stance) / stride_s) if stance else float("nan")
