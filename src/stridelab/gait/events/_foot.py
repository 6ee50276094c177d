"""Gait events from a foot-mounted IMU (gyroscope required), running and walking.

The sagittal ("pitch") angular velocity of the foot, signed so that the swing rotation (toe up) is
positive, is segmented mid-swing to mid-swing (its large swing peaks).

* **Running** -- Falbriard et al. 2018, "Accurate estimation of running temporal parameters using
  foot-worn inertial sensors", Front Physiol 9:610: IC = the minimum of the pitch angular velocity in
  the first half of a mid-swing → mid-swing cycle, TO (their "terminal contact") = the minimum in the
  second half.
* **Walking** -- IC = the first zero crossing (positive → negative) of the pitch angular velocity after
  the mid-swing peak (the foot stops rotating toe-up when the heel lands; Rampp et al. 2015, IEEE TBME
  62:1089, search region; Mariani et al. 2013), TO = the minimum of the pitch angular velocity before
  the next swing (the push-off peak, as in Falbriard 2018 and Salarian 2004). No fitted constants.
* **Walking vs running**: the walking rule is applied first and its duty factor decides: a stance
  shorter than half the stride means a flight phase, i.e. running, and the running rule is used.

Body frame: ``si`` = gravity; the medio-lateral axis is the principal horizontal axis of the angular
velocity. Its sign comes from the stance: the first rotation after the foot's rest (heel rise and
push-off) is toe-down, i.e. opposite to the swing, for every strike pattern (the rotation into the rest
is not used: toe-down after a rearfoot strike but toe-up after a forefoot strike). When no clear rest
phase is found the sign of the largest low-passed (2 Hz) lobe (the swing) is used.
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
import pandas as pd
from scipy.signal import find_peaks

from stridelab.frames import SIDES, EventPlacement, Side, check_option
from stridelab.gait._checks import ImuDataError, check_imu_data
from stridelab.gait._kernels import foot_strides
from stridelab.gait._signal import FloatArray, dominant_period_s, lowpass, lowpass_pair, row_norm, runs
from stridelab.gait.events.base import BaseEventDetector, events_frame
from stridelab.gait.orientation import frame_from_axes, gravity_direction, horizontal_principal_axis

__all__ = ["FootEventDetection", "foot_pitch_axis"]


def foot_pitch_axis(
    gyr: FloatArray, up: FloatArray, fs: float, *, rest_threshold_rad_s: float = 0.5
) -> tuple[FloatArray, str]:
    """Sensor-frame axis pointing to the person's RIGHT (swing = positive rotation about it), and how.

    Returns ``(axis, method)`` where method is "rest" (sign from the toe-down push-off rotation after the
    stance rest) or "lobe" (sign of the largest low-passed lobe).
    """
    axis = horizontal_principal_axis(gyr, up, fs=fs, cutoff_hz=15.0)
    w, slow_norm = lowpass_pair(gyr @ axis, 15.0, row_norm(gyr), 10.0, fs)  # side by side, bitwise
    rest = slow_norm < rest_threshold_rad_s
    look = int(0.15 * fs)
    spans = np.asarray(runs(rest), dtype=np.intp).reshape(-1, 2)
    a, b = spans[:, 0], spans[:, 1]
    b = b[((b - a) >= int(0.04 * fs)) & (a >= look) & (b + look < len(w))]
    # after the rest: heel rise and push-off, a toe-down rotation whatever the strike pattern. The
    # rotation INTO the rest is not used: it is toe-down only for a rearfoot strike (the forefoot
    # slaps down), toe-UP for a forefoot strike (the heel drops), and ~0 for a flat (midfoot) one.
    # (weighted by the rotation: a brief pause of the foot late in the swing is followed by a small
    # strike rotation, the stance rest by the large push-off). One vote per rest: the mean of the look.
    votes = w[b[:, None] + np.arange(look)].mean(axis=1) if len(b) and look > 0 else np.zeros(0)
    total = float(np.sum(votes))
    if len(votes) >= 3 and abs(total) >= 0.5 * float(np.sum(np.abs(votes))):
        toe_down = np.sign(total)
        return (axis if toe_down < 0 else -axis), "rest"
    slow = lowpass(w, 2.0, fs)
    return (axis if abs(slow.max()) >= abs(slow.min()) else -axis), "lobe"


class FootEventDetection(BaseEventDetector):
    """IC/TO from a foot IMU: Falbriard et al. 2018 (running) and the pitch-rate rules for walking.

    Parameters
    ----------
    event_lowpass_hz
        Low-pass cut-off of the pitch angular velocity used to locate IC/TO.
    swing_lowpass_hz
        Low-pass cut-off used to find the mid-swing peaks.
    min_swing_peak_rad_s
        Mid-swing peaks below this are ignored (standing, shuffling).
    """

    placement: ClassVar[EventPlacement] = "foot"

    event_lowpass_hz: float
    swing_lowpass_hz: float
    min_swing_peak_rad_s: float

    def __init__(
        self, event_lowpass_hz: float = 30.0, swing_lowpass_hz: float = 5.0, min_swing_peak_rad_s: float = 1.5
    ) -> None:
        self.event_lowpass_hz = event_lowpass_hz
        self.swing_lowpass_hz = swing_lowpass_hz
        self.min_swing_peak_rad_s = min_swing_peak_rad_s

    def detect(self, data: pd.DataFrame, *, sampling_rate_hz: float, side: Side | None = None) -> Self:
        """Detect IC and TO of the foot carrying the sensor. ``side`` (left/right) is required."""
        if side is None:
            raise ValueError("A foot sensor belongs to one foot: pass side='left' or side='right'")
        check_option("side", side, SIDES)
        checked = check_imu_data(data, sampling_rate_hz, "foot")
        if checked.gyr is None:
            raise ImuDataError("foot event detection needs a gyroscope (gyr_x, gyr_y, gyr_z in rad/s)")
        acc, gyr, fs = checked.acc, checked.gyr, checked.fs
        up = gravity_direction(acc)
        right, how = foot_pitch_axis(gyr, up, fs)
        frame = frame_from_axes(np.cross(-right, up), up)
        pitch = gyr @ right
        slow, fast = lowpass_pair(pitch, self.swing_lowpass_hz, pitch, self.event_lowpass_hz, fs)
        stride_s, _ = dominant_period_s(slow, fs, 0.4, 2.5)
        if not np.isfinite(stride_s):
            raise ImuDataError("no regular strides found in the foot angular velocity")
        ms, _ = find_peaks(slow, distance=max(int(0.6 * stride_s * fs), 1), height=self.min_swing_peak_rad_s)
        if len(ms) < 3:
            raise ImuDataError(f"only {len(ms)} swing phases found; need at least 3 strides")
        # per mid-swing → mid-swing cycle (compiled loop; cycles longer than 1.8 strides are pauses)
        ic_w, to_w, ic_r, to_r = foot_strides(fast, ms, 1.8 * stride_s * fs)
        ic_w_s, to_w_s = np.asarray(ic_w) / fs, np.asarray(to_w) / fs
        # stance: from each IC to the first TO after it (TOs are in time order)
        nxt = np.searchsorted(to_w_s, ic_w_s, side="right")
        has = nxt < len(to_w_s)
        stance = to_w_s[nxt[has]] - ic_w_s[has]
        duty = float(np.median(stance) / stride_s) if len(stance) else float("nan")
        if np.isfinite(duty) and duty < 0.5:
            self.gait_mode_ = "running"
            ic, to = np.asarray(ic_r) / fs, np.asarray(to_r) / fs
        else:
            self.gait_mode_ = "walking"
            ic, to = ic_w_s, to_w_s
        ic, to = checked.keep_moving(ic, to)
        problems = list(checked.problems)
        if how == "lobe":
            problems.append("foot axis sign taken from the swing lobe (no clear rest phase found)")
        self.ic_s_, self.to_s_ = ic, to
        self.events_ = events_frame(ic, to, [side] * len(ic), [side] * len(to))
        self.body_frame_ = frame
        self.stride_period_s_ = stride_s
        self.problems_ = tuple(problems)
        return self
