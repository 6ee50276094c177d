"""One-leg (single-leg stance) balance test from a waist IMU or a phone in a waistband.

Sway measures from trunk acceleration follow Mancini et al. 2012 ("ISway: a sensitive, valid and
reliable measure of postural control", J NeuroEng Rehabil 9:59) and Moe-Nilssen & Helbostad 2002:
the acceleration is rotated so that one axis is vertical (gravity), the horizontal components are
low-pass filtered (``lowpass_hz``) and their mean removed, then

* ``sway_rms_m_s2`` -- RMS of the horizontal acceleration magnitude;
* ``path_length_m_s2`` -- length of the horizontal acceleration trajectory, Σ‖Δa‖ (Mancini's "path");
* ``ellipse_area_m2_s4`` -- area of the 95 % confidence ellipse of the horizontal acceleration
  (π · χ²₀.₉₅,₂ · √det Σ, Σ = 2×2 covariance);
* ``time_to_touchdown_s`` -- time until the lifted foot first touches the ground: the first moment the
  vertical acceleration jumps by more than ``touchdown_threshold_m_s2`` from its running median (a
  heel landing), or the full test duration when it never happens; sway is computed before it.

Left vs right: :func:`compare_sides` gives the differences and the symmetry index of each measure.
"""

from __future__ import annotations

import math
from typing import ClassVar, Self

import numpy as np
import pandas as pd

from stridelab.frames import SIDES, Side, check_option
from stridelab.gait._base import Algorithm
from stridelab.gait._signal import lowpass
from stridelab.gait.metrics import symmetry
from stridelab.gait.orientation import gravity_direction, horizontal_principal_axis

__all__ = ["SingleLegStance", "compare_sides"]

_CHI2_95_2DOF = 5.991464547107979


class SingleLegStance(Algorithm):
    """Sway of a single-leg stand. Verb: ``estimate(data, *, sampling_rate_hz, side)``.

    Parameters
    ----------
    test_duration_s
        Planned test duration (30 s); the analysis uses at most this much after ``start_s``.
    start_s
        Start of the stand in the recording (e.g. after lifting the foot).
    lowpass_hz
        Low-pass cut-off for the sway acceleration (Mancini 2012 used 3.5 Hz).
    touchdown_threshold_m_s2
        Jump of the vertical acceleration that marks a touch-down of the lifted foot.
    """

    _action_method: ClassVar[str] = "estimate"

    test_duration_s: float
    start_s: float
    lowpass_hz: float
    touchdown_threshold_m_s2: float

    def __init__(
        self,
        test_duration_s: float = 30.0,
        start_s: float = 0.0,
        lowpass_hz: float = 3.5,
        touchdown_threshold_m_s2: float = 2.5,
    ) -> None:
        self.test_duration_s = test_duration_s
        self.start_s = start_s
        self.lowpass_hz = lowpass_hz
        self.touchdown_threshold_m_s2 = touchdown_threshold_m_s2

    def estimate(self, data: pd.DataFrame, *, sampling_rate_hz: float, side: Side) -> Self:
        """Compute the sway measures of a stand on the ``side`` leg."""
        check_option("side", side, SIDES)
        fs = float(sampling_rate_hz)
        if not (math.isfinite(fs) and fs >= 10.0):
            raise ValueError(
                f"sampling_rate_hz must be a number ≥ 10 Hz for the balance test, got {sampling_rate_hz!r}"
            )
        missing = [c for c in ("acc_x", "acc_y", "acc_z") if c not in data.columns]
        if missing:
            raise ValueError(f"data is missing the accelerometer columns {missing}")
        acc_all = data[["acc_x", "acc_y", "acc_z"]].to_numpy(float)
        i0 = int(self.start_s * fs)
        i1 = min(len(acc_all), i0 + int(self.test_duration_s * fs))
        acc = acc_all[i0:i1]
        if len(acc) < 5 * fs:
            raise ValueError(f"balance test is {len(acc) / fs:.1f} s long; at least 5 s are needed")
        if not np.isfinite(acc).all():
            raise ValueError("balance data contain missing samples (gaps)")
        mag = float(np.median(np.linalg.norm(acc, axis=1)))
        if not 7.0 < mag < 13.0:
            raise ValueError(
                f"median acceleration magnitude is {mag:.2f}; expected ≈9.81 m/s² (are the data in g?)"
            )
        up = gravity_direction(acc)
        a_v = acc @ up
        base = pd.Series(a_v).rolling(int(fs), center=True, min_periods=1).median().to_numpy()
        jump = np.abs(lowpass(a_v, 20.0, fs) - base) > self.touchdown_threshold_m_s2
        jump[: int(0.5 * fs)] = False  # ignore the lift-off transient at the very start
        td = np.flatnonzero(jump)
        t_td = float(td[0] / fs) if len(td) else float(len(acc) / fs)
        end = td[0] if len(td) else len(acc)
        if end < 2 * fs:
            raise ValueError(f"the lifted foot touched down after {t_td:.1f} s; too short to measure sway")
        seg = acc[:end]
        e1 = horizontal_principal_axis(seg, up, fs=fs, cutoff_hz=self.lowpass_hz)
        e2 = np.cross(up, e1)
        h = np.column_stack([seg @ e1, seg @ e2])
        h = lowpass(h, self.lowpass_hz, fs)
        h = h - h.mean(axis=0)
        mag_h = np.linalg.norm(h, axis=1)
        cov = np.cov(h.T)
        self.side_ = side
        self.time_to_touchdown_s_ = t_td
        self.touched_down_ = bool(len(td))
        self.sway_rms_m_s2_ = float(np.sqrt(np.mean(mag_h**2)))
        self.path_length_m_s2_ = float(np.sum(np.linalg.norm(np.diff(h, axis=0), axis=1)))
        self.ellipse_area_m2_s4_ = float(math.pi * _CHI2_95_2DOF * math.sqrt(max(np.linalg.det(cov), 0.0)))
        self.analysed_s_ = float(end / fs)
        return self

    def summary(self) -> dict[str, float | str | bool]:
        return {
            "side": self.side_,
            "sway_rms_m_s2": self.sway_rms_m_s2_,
            "path_length_m_s2": self.path_length_m_s2_,
            "ellipse_area_m2_s4": self.ellipse_area_m2_s4_,
            "time_to_touchdown_s": self.time_to_touchdown_s_,
            "touched_down": self.touched_down_,
            "analysed_s": self.analysed_s_,
        }


def compare_sides(left: SingleLegStance, right: SingleLegStance) -> dict[str, float]:
    """Right-minus-left differences and symmetry indices of the sway measures."""
    if left.side_ != "left" or right.side_ != "right":
        raise ValueError("compare_sides needs a left-leg result and a right-leg result, in that order")
    out: dict[str, float] = {}
    for name in ("sway_rms_m_s2", "path_length_m_s2", "ellipse_area_m2_s4", "time_to_touchdown_s"):
        lv, rv = getattr(left, name + "_"), getattr(right, name + "_")
        out[f"{name}_left"] = lv
        out[f"{name}_right"] = rv
        out[f"{name}_symmetry_index_pct"] = symmetry(lv, rv)["symmetry_index_pct"]
    return out
