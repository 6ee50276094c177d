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

from stridelab.gait._kernels import still_and_peak_per_stride
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
    # per stride IC(k) → first TO after it → IC(k+1), all at once (strides without a TO are skipped)
    first = np.searchsorted(to, ic[:-1], side="right")
    ok = first < len(to)
    ok[ok] &= to[first[ok]] < ic[1:][ok]
    a, t_to, b = ic[:-1][ok], to[first[ok]], ic[1:][ok]
    i0, i1, i2 = (np.round(t * fs).astype(np.intp) for t in (a, t_to, b))
    # foot flat / heel rise: the first and one past the last stance sample below ``still_rad_s``; peak
    # swing: the maximum in the middle 20-80 % of swing (the push-off rotation at TO and the landing
    # rotation at IC are large too). One compiled pass over the strides.
    ff, hr, peak = still_and_peak_per_stride(w, i0, i1, i2, still_rad_s)
    return pd.DataFrame(
        {
            "ic_s": a,
            "foot_flat_s": np.where(ff >= 0, ff / fs, np.nan),
            "heel_rise_s": np.where(hr >= 0, hr / fs, np.nan),
            "to_s": t_to,
            "peak_swing_s": np.where(peak >= 0, peak / fs, np.nan),
            "next_ic_s": b,
        },
        columns=["ic_s", "foot_flat_s", "heel_rise_s", "to_s", "peak_swing_s", "next_ic_s"],
    )
