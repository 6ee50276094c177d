"""Swing-phase boundaries *detected* from a shank gyroscope (issue 20, point 1).

Per stride of one shank (IC → TO → next IC), from the sagittal angular rate (rotation about the
body's right axis, forward swing positive; low-passed at 10 Hz):

* **peak swing angular velocity** ``peak_swing_s`` -- its maximum between TO and the next IC: the
  shank swings like a pendulum and is fastest as it passes the vertical, Perry's end of **mid-swing**
  ("tibia vertical"; the mid-swing peak of Salarian et al. 2004, IEEE TBME 51:1434);
* **maximum knee flexion (proxy)** ``max_knee_flexion_s`` -- the last upward zero crossing of the rate
  between TO and that peak: the shank's most backward inclination. Knee flexion peaks when the thigh's
  and the shank's angular rates are equal; with no thigh sensor the instant the shank stops rotating
  backwards is used as a proxy (Perry's end of **initial swing**). NaN where the rate never crosses
  zero in the swing (the shank already swings forward at TO): that boundary stays *modelled*.

No shank gyroscope reference exists in the shared data (marlow17 has shank accelerometers only), so
these are checked on constructed signals (tests) and not validated against a reference.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd

from stridelab.frames import FrameTransform
from stridelab.gait._signal import lowpass

__all__ = ["shank_phases"]


def shank_phases(
    gyr: npt.ArrayLike, fs: float, ic_s: npt.ArrayLike, to_s: npt.ArrayLike, body_frame: FrameTransform
) -> pd.DataFrame:
    """Detected swing boundaries per stride of one shank: ``ic_s, to_s, max_knee_flexion_s,
    peak_swing_s, next_ic_s`` (s; NaN where the signal does not show the boundary)."""
    g = np.asarray(gyr, dtype=float)
    if g.ndim != 2 or g.shape[1] != 3:
        raise ValueError("shank_phases: gyr must be an (N, 3) array in rad/s")
    pitch = lowpass(-body_frame.apply(g, frame="sensor")[:, 1], 10.0, fs)
    ic = np.sort(np.asarray(ic_s, dtype=float))
    to = np.sort(np.asarray(to_s, dtype=float))
    rows = []
    for k in range(len(ic) - 1):
        after = to[(to > ic[k]) & (to < ic[k + 1])]
        if not len(after):
            continue
        i1, i2 = round(after[0] * fs), min(round(ic[k + 1] * fs), len(pitch))
        if i2 - i1 < 3:
            continue
        seg = pitch[i1:i2]
        j = int(np.argmax(seg))
        peak = (i1 + j) / fs if seg[j] > 0 else math.nan
        up = np.flatnonzero((seg[:-1] <= 0) & (seg[1:] > 0))
        up = up[up < j]
        knee = (i1 + int(up[-1]) + 1) / fs if len(up) and np.isfinite(peak) else math.nan
        rows.append((float(ic[k]), float(after[0]), knee, peak, float(ic[k + 1])))
    return pd.DataFrame(rows, columns=["ic_s", "to_s", "max_knee_flexion_s", "peak_swing_s", "next_ic_s"])
