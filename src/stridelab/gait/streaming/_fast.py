"""The window metrics in plain numpy: the rules of ``stride_table``, ``step_table`` and
``temporal_summary`` (:mod:`stridelab.gait.metrics`) without pandas, for the live loop's CPU budget.

Written for speed only and held to the offline functions by tests (``window_metrics`` gives the same
numbers on the same events: tests/gait/test_gait_streaming.py).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from stridelab.gait._signal import FloatArray
from stridelab.gait.metrics import symmetry

_MAX_STRIDE_S = 2.5
_MAX_STEP_S = 1.5


def _median(values: list[float]) -> float:
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    return float(np.median(arr)) if len(arr) else math.nan


def fast_window_metrics(
    time_s: FloatArray, is_left: np.ndarray, is_ic: np.ndarray, start_s: float, end_s: float
) -> dict[str, float]:
    """Window metrics of events given as arrays (time, left?, IC?), same keys as ``window_metrics``."""
    keep = (time_s >= start_s) & (time_s <= end_s)
    t, left, ic = time_s[keep], is_left[keep], is_ic[keep]
    contact: dict[bool, list[float]] = {True: [], False: []}
    stride_rows: list[tuple[bool, float, float, float]] = []  # left?, ic, stride, contact
    for side in (True, False):
        ics = np.sort(t[(left == side) & ic])
        tos = np.sort(t[(left == side) & ~ic])
        for a, b in itertools.pairwise(ics):
            if b - a > _MAX_STRIDE_S:
                continue
            lo, hi = np.searchsorted(tos, a, "right"), np.searchsorted(tos, b, "left")
            if hi - lo != 1:
                continue
            stride_rows.append((side, float(a), float(b - a), float(tos[lo] - a)))
            contact[side].append(float(tos[lo] - a))
    stride_rows.sort(key=lambda r: r[1])
    steps: list[tuple[bool, float, float]] = []  # left?, step, flight
    has_l, has_r = bool(np.any(left)), bool(np.any(~left))
    if has_l and has_r:
        order = np.argsort(t[ic], kind="stable")
        ict, ics = t[ic][order], left[ic][order]
        to_t = {True: np.sort(t[~ic & left]), False: np.sort(t[~ic & ~left])}
        for k in range(1, len(ict)):
            if ics[k] == ics[k - 1] or ict[k] - ict[k - 1] > _MAX_STEP_S:
                continue
            other = to_t[bool(ics[k - 1])]
            prev = other[(other > ict[k - 1]) & (other < ict[k])]
            if len(prev):
                air = float(ict[k] - prev.max())
            else:
                later = other[other > ict[k]]
                close = len(later) and later.min() - ict[k] < 1.0
                air = float(ict[k] - later.min()) if close else math.nan
            step = float(ict[k] - ict[k - 1])
            steps.append((bool(ics[k]), step, max(air, 0.0) if math.isfinite(air) else math.nan))
    else:
        for side, _, stride, gct in stride_rows:
            steps.append((side, stride / 2, max((stride - 2 * gct) / 2, 0.0)))
    bal = symmetry(_median(contact[True]), _median(contact[False]))
    step_sym = symmetry(
        _median([s for lf, s, _ in steps if lf]), _median([s for lf, s, _ in steps if not lf])
    )
    step_med = _median([s for _, s, _ in steps])
    return {
        "cadence_spm": _median([60.0 / s for _, s, _ in steps if s > 0]),
        "stance_time_s": _median([r[3] for r in stride_rows]),
        "stance_time_s_left": _median(contact[True]),
        "stance_time_s_right": _median(contact[False]),
        "stance_time_balance_left_pct": bal["balance_left_pct"],
        "step_time_s": step_med,
        "step_time_symmetry_index_pct": step_sym["symmetry_index_pct"],
        "flight_time_s": _median([f for _, _, f in steps]),
        "stride_time_s": _median([r[2] for r in stride_rows]),
        "n_strides": float(len(stride_rows)),
    }
