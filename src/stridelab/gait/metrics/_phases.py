"""Stance and swing phases *detected* from a foot IMU (issue 20, point 1; foot only so far).

Per stride of one foot (IC → TO → next IC), from the gyroscope norm low-passed at 10 Hz:

* **foot flat** (zero velocity) -- the stance samples where the angular rate stays below
  ``still_rad_s`` (a zero-velocity detector on the gyroscope norm, as used by ZUPT-aided foot
  trajectory methods, e.g. Skog et al. 2010, IEEE TBME 57:2657; gaitmap's ``NormZuptDetector``):
  ``foot_flat_s`` = its first sample after IC;
* **heel rise** -- the end of that zero-velocity period (the foot starts to pitch before TO):
  ``heel_rise_s``;
* **peak swing angular velocity** -- the maximum of the angular rate in the middle 20-80 % of the swing
  between TO and the next IC (mid-swing): ``peak_swing_s``.

A stance without a still period (running, where the foot rolls through) gives NaN for foot flat and
heel rise: those boundaries are then *modelled*, not detected.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from stridelab.gait._signal import lowpass, row_norm

__all__ = ["foot_phases"]


def foot_phases(
    gyr: npt.ArrayLike,
    fs: float,
    ic_s: npt.ArrayLike,
    to_s: npt.ArrayLike,
    *,
    still_rad_s: float = 0.6,
) -> pd.DataFrame:
    """Detected phase boundaries per stride of one foot: columns ``ic_s, foot_flat_s, heel_rise_s,
    to_s, peak_swing_s, next_ic_s`` (s; NaN where the sensor does not show the boundary)."""
    g = np.asarray(gyr, dtype=float)
    if g.ndim != 2 or g.shape[1] != 3:
        raise ValueError("foot_phases: gyr must be an (N, 3) array in rad/s")
    w = lowpass(row_norm(g), 10.0, fs)
    ic = np.sort(np.asarray(ic_s, dtype=float))
    to = np.sort(np.asarray(to_s, dtype=float))
    rows = []
    for k in range(len(ic) - 1):
        after = to[(to > ic[k]) & (to < ic[k + 1])]
        if not len(after):
            continue
        t_to = float(after[0])
        i0, i1, i2 = round(ic[k] * fs), round(t_to * fs), round(ic[k + 1] * fs)
        still = np.flatnonzero(w[i0:i1] < still_rad_s)
        ff = hr = float("nan")
        if len(still):
            ff = (i0 + int(still[0])) / fs
            hr = (i0 + int(still[-1]) + 1) / fs
        # mid-swing peak: the middle 20-80 % of swing (the push-off rotation at TO and the landing
        # rotation at IC are large too)
        j0, j1 = i1 + (i2 - i1) // 5, i2 - (i2 - i1) // 5
        peak = (j0 + int(np.argmax(w[j0:j1]))) / fs if j1 > j0 else float("nan")
        rows.append((float(ic[k]), ff, hr, t_to, peak, float(ic[k + 1])))
    return pd.DataFrame(
        rows, columns=["ic_s", "foot_flat_s", "heel_rise_s", "to_s", "peak_swing_s", "next_ic_s"]
    )
