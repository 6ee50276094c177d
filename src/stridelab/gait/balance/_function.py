"""Function tests from a lower-back sensor or a phone on the waist: five-times sit-to-stand, tandem walk.

* **Five-times sit-to-stand** (5xSTS; Guralnik et al. 1994, SPPB: time from "go" until the person has
  straightened up completely for the fifth time). From the trunk, each transfer shows as a forward
  flexion of the trunk (Zijlstra et al. 2010, "Sit-stand and stand-sit transitions in older adults and
  patients with Parkinson's disease: event detection based on motion sensors versus force plates",
  J NeuroEng Rehabil 7:58; van Lummel et al. 2013): the tilt of the low-passed specific force away from
  the recording's mean vertical peaks once per transfer. A transfer is a **rise** when the trunk moves
  up across it (vertical velocity, from the gravity-removed vertical acceleration integrated over the
  transfer, positive) and a **sit** otherwise. Duration = onset of the first rise (the tilt leaves its
  seated level) to the end of the ``n_rises``-th rise (the tilt back at its standing level). The
  transfers up to that rise must alternate rise/sit; ``problems_`` says so when they do not (bending and
  turning while walking also flex the trunk: the recording should hold the test only).
  Left/right is **not** shown by a trunk sensor in this test (both legs push at once) and not reported.
* **Tandem walk** (heel-to-toe along a line). Steps are the loading-response peaks of the vertical
  acceleration's slope (as the lower-back walking detector, with the slower tandem step period from
  autocorrelation, 0.5-2.0 s). A **step off the line** needs a corrective lateral movement of the
  trunk: the step's peak horizontal acceleration is an outlier among the test's steps (above
  ``off_line_factor`` times their median). The side of each step comes from the yaw rate at its contact
  (McCamley et al. 2012: clockwise seen from above = LEFT), as one alternating sequence; without a
  gyroscope there are no sides and no L/R figures. Duration = first to last contact plus one median
  step time (the time of the test's steps).
"""

from __future__ import annotations

import itertools
import math
from typing import ClassVar, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.signal import find_peaks

from stridelab.gait._base import Algorithm
from stridelab.gait._signal import FloatArray, bandpass, dominant_period_s, lowpass
from stridelab.gait.metrics import symmetry
from stridelab.gait.orientation import gravity_direction, horizontal_principal_axis
from stridelab.units import G

__all__ = ["SitToStand", "TandemWalk"]


def _checked(
    data: pd.DataFrame, sampling_rate_hz: float, test: str
) -> tuple[FloatArray, FloatArray | None, float]:
    fs = float(sampling_rate_hz)
    if not (math.isfinite(fs) and fs >= 20.0):
        raise ValueError(
            f"sampling_rate_hz must be a number ≥ 20 Hz for the {test}, got {sampling_rate_hz!r}"
        )
    missing = [c for c in ("acc_x", "acc_y", "acc_z") if c not in data.columns]
    if missing:
        raise ValueError(f"{test}: data is missing the accelerometer columns {missing}")
    acc = data[["acc_x", "acc_y", "acc_z"]].to_numpy(float)
    if len(acc) < 3 * fs:
        raise ValueError(f"{test}: the recording is {len(acc) / fs:.1f} s long; at least 3 s are needed")
    if not np.isfinite(acc).all():
        raise ValueError(f"{test}: the data contain missing samples (gaps)")
    mag = float(np.median(np.linalg.norm(acc, axis=1)))
    if not 7.0 < mag < 13.0:
        raise ValueError(
            f"{test}: median acceleration magnitude is {mag:.2f}; expected ≈9.81 m/s² (are the data in g?)"
        )
    gyr = None
    if all(c in data.columns for c in ("gyr_x", "gyr_y", "gyr_z")):
        g = data[["gyr_x", "gyr_y", "gyr_z"]].to_numpy(float)
        gyr = g if np.isfinite(g).all() else None
    return acc, gyr, fs


class SitToStand(Algorithm):
    """Timed five-times sit-to-stand. Verb: ``estimate(data, *, sampling_rate_hz)``.

    Parameters
    ----------
    n_rises
        Rises the test counts (5).
    tilt_lowpass_hz
        Low-pass cut-off of the acceleration whose direction gives the trunk tilt.
    min_flexion_rad
        Prominence a tilt peak needs to count as a transfer (0.26 rad = 15°).
    level_fraction
        Onset/end of a rise: where the tilt is within this fraction of the peak's height above the
        lowest tilt of the 2.5 s before (onset) or after (end).
    """

    _action_method: ClassVar[str] = "estimate"

    n_rises: int
    tilt_lowpass_hz: float
    min_flexion_rad: float
    level_fraction: float

    def __init__(
        self,
        n_rises: int = 5,
        tilt_lowpass_hz: float = 1.5,
        min_flexion_rad: float = 0.26,
        level_fraction: float = 0.05,
    ) -> None:
        self.n_rises = n_rises
        self.tilt_lowpass_hz = tilt_lowpass_hz
        self.min_flexion_rad = min_flexion_rad
        self.level_fraction = level_fraction

    def estimate(self, data: pd.DataFrame, *, sampling_rate_hz: float) -> Self:
        """Find the transfers, count the rises and time the test."""
        acc, _, fs = _checked(data, sampling_rate_hz, "sit-to-stand test")
        low = lowpass(acc, self.tilt_lowpass_hz, fs)
        direction = low / np.linalg.norm(low, axis=1, keepdims=True)
        up = np.median(direction, axis=0)
        up /= np.linalg.norm(up)
        # signed sagittal tilt: the transfers' forward flexion dominates the horizontal excursion of the
        # gravity direction, so its principal axis is the sagittal one; forward = the larger excursions
        ap = horizontal_principal_axis(direction, up, fs=fs, cutoff_hz=None)
        tilt = np.arctan2(direction @ ap, direction @ up)
        if np.percentile(tilt, 99) < -np.percentile(tilt, 1):
            tilt = -tilt
        peaks, _ = find_peaks(tilt, prominence=self.min_flexion_rad, distance=max(int(0.8 * fs), 1))
        # vertical velocity across each transfer: the gravity-removed specific force along the
        # instantaneous vertical, integrated over ±0.8 s around the flexion peak
        a_v = bandpass(np.einsum("ij,ij->i", acc, direction) - G, 0.1, 5.0, fs)
        half = int(0.8 * fs)
        kinds: list[str] = []
        for p in peaks.tolist():
            seg = a_v[max(p - half, 0) : p + half]
            vel = np.cumsum(seg) / fs
            kinds.append("rise" if float(np.sum(vel - vel[0])) > 0.0 else "sit")
        rises = [p for p, k in zip(peaks.tolist(), kinds, strict=True) if k == "rise"]
        win = int(2.5 * fs)
        onsets, ends = [], []
        for p in rises:
            before = tilt[max(p - win, 0) : p + 1]
            floor_b = float(before.min())
            level_b = floor_b + self.level_fraction * (tilt[p] - floor_b)
            below = np.flatnonzero(before <= level_b)
            onsets.append(max(p - win, 0) + int(below[-1]) if len(below) else max(p - win, 0))
            after = tilt[p : p + win]
            floor_a = float(after.min())
            level_a = floor_a + self.level_fraction * (tilt[p] - floor_a)
            under = np.flatnonzero(after <= level_a)
            ends.append(p + int(under[0]) if len(under) else p + len(after) - 1)
        self.transfers_ = pd.DataFrame(
            {"time_s": peaks / fs, "kind": kinds, "flexion_rad": tilt[peaks] if len(peaks) else []}
        )
        self.rise_onset_s_ = np.asarray(onsets, dtype=float) / fs
        self.rise_end_s_ = np.asarray(ends, dtype=float) / fs
        self.n_rises_found_ = len(rises)
        self.complete_ = len(rises) >= self.n_rises
        problems = []
        if rises:
            first = kinds.index("rise")
            last = [k for k, kind in enumerate(kinds) if kind == "rise"][min(len(rises), self.n_rises) - 1]
            seq = kinds[first : last + 1]
            if any(a == b for a, b in itertools.pairwise(seq)):
                problems.append(
                    f"rises and sits do not alternate ({', '.join(seq)}): the recording may hold more "
                    "than the test (walking, bending), or a transfer was missed"
                )
        self.problems_ = tuple(problems)
        if rises:
            last = min(len(rises), self.n_rises) - 1
            self.duration_s_ = float(self.rise_end_s_[last] - self.rise_onset_s_[0])
        else:
            self.duration_s_ = math.nan
        self.rise_duration_s_ = float(np.median(self.rise_end_s_ - self.rise_onset_s_)) if rises else math.nan
        return self

    def summary(self) -> dict[str, float | int | bool]:
        return {
            "duration_s": self.duration_s_,
            "rises": self.n_rises_found_,
            "complete": self.complete_,
            "median_rise_s": self.rise_duration_s_,
            "alternating": not self.problems_,
        }


class TandemWalk(Algorithm):
    """Tandem (heel-to-toe) walk. Verb: ``estimate(data, *, sampling_rate_hz)``.

    Parameters
    ----------
    ic_lowpass_hz
        Low-pass cut-off of the vertical acceleration before differentiation (the step contacts).
    min_step_fraction
        Minimum spacing of two contacts as a fraction of the step period.
    off_line_factor
        A step is off the line when its peak horizontal acceleration exceeds this multiple of the
        median over the test's steps.
    lr_band_hz
        Band of the yaw-rate filter for the left/right decision.
    """

    _action_method: ClassVar[str] = "estimate"

    ic_lowpass_hz: float
    min_step_fraction: float
    off_line_factor: float
    lr_band_hz: tuple[float, float]

    def __init__(
        self,
        ic_lowpass_hz: float = 6.0,
        min_step_fraction: float = 0.65,
        off_line_factor: float = 2.0,
        lr_band_hz: tuple[float, float] = (0.3, 3.0),
    ) -> None:
        self.ic_lowpass_hz = ic_lowpass_hz
        self.min_step_fraction = min_step_fraction
        self.off_line_factor = off_line_factor
        self.lr_band_hz = lr_band_hz

    def estimate(self, data: pd.DataFrame, *, sampling_rate_hz: float) -> Self:
        """Find the steps, their sides and the steps off the line, and time the test."""
        acc, gyr, fs = _checked(data, sampling_rate_hz, "tandem walk test")
        up = gravity_direction(acc)
        av = acc @ up
        step_s, _ = dominant_period_s(lowpass(av, 3.0, fs), fs, 0.5, 2.0)
        if math.isfinite(step_s) and step_s > 1.0:  # the stride wins when left and right steps differ
            half, strength = dominant_period_s(lowpass(av, 3.0, fs), fs, 0.35 * step_s, 0.65 * step_s)
            if math.isfinite(half) and strength > 0.0:
                step_s = half
        if not math.isfinite(step_s):
            raise ValueError("tandem walk test: no regular steps found in the signal")
        x = lowpass(av, self.ic_lowpass_hz, fs)
        slope = np.gradient(x) * fs
        peaks, _ = find_peaks(slope, distance=max(int(self.min_step_fraction * step_s * fs), 1))
        peaks = peaks[slope[peaks] > 0.3 * np.median(slope[peaks])] if len(peaks) else peaks
        if len(peaks) < 2:
            raise ValueError("tandem walk test: fewer than two steps found")
        # per step (contact to next contact): peak horizontal acceleration, gravity and mean removed
        h = lowpass(acc - np.outer(acc @ up, up), 5.0, fs)
        h = h - h.mean(axis=0)
        h_norm = np.linalg.norm(h, axis=1)
        bounds = np.r_[peaks, min(int(peaks[-1] + step_s * fs), len(acc))]
        peak_h = np.array([h_norm[a:b].max() for a, b in itertools.pairwise(bounds.tolist())])
        off = peak_h > self.off_line_factor * float(np.median(peak_h))
        sides: npt.NDArray[np.object_] = np.full(len(peaks), None, dtype=object)
        if gyr is not None:
            yaw = bandpass(gyr @ up, self.lr_band_hz[0], self.lr_band_hz[1], fs)
            z = yaw[peaks]
            parity = np.where(np.arange(len(peaks)) % 2 == 0, 1.0, -1.0)
            # one alternating sequence: the start that agrees best with McCamley's sign (left: z < 0)
            first_left = float(np.sum(-z * parity)) >= 0.0
            left = (parity > 0) == first_left
            sides = np.where(left, "left", "right").astype(object)
        t = peaks / fs
        step_times = np.diff(t)
        self.steps_ = pd.DataFrame(
            {"time_s": t, "side": sides, "peak_horizontal_m_s2": peak_h, "off_line": off}
        )
        self.n_steps_ = len(peaks)
        self.steps_off_line_ = int(off.sum())
        self.step_period_s_ = float(np.median(step_times))
        self.duration_s_ = float(t[-1] - t[0] + self.step_period_s_)
        self.step_time_symmetry_index_pct_ = math.nan
        self.step_time_left_s_ = math.nan
        self.step_time_right_s_ = math.nan
        if gyr is not None and len(peaks) >= 5:
            later = sides[1:]
            self.step_time_left_s_ = float(np.median(step_times[later == "left"]))
            self.step_time_right_s_ = float(np.median(step_times[later == "right"]))
            sym = symmetry(self.step_time_left_s_, self.step_time_right_s_)
            self.step_time_symmetry_index_pct_ = sym["symmetry_index_pct"]
        return self

    def summary(self) -> dict[str, float | int]:
        return {
            "duration_s": self.duration_s_,
            "steps": self.n_steps_,
            "steps_off_line": self.steps_off_line_,
            "step_time_left_s": self.step_time_left_s_,
            "step_time_right_s": self.step_time_right_s_,
            "step_time_symmetry_index_pct": self.step_time_symmetry_index_pct_,
        }
