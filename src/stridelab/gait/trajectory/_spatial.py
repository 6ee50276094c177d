"""Spatial parameters per stride (one foot) and per step (both feet) from ZUPT-RTS foot trajectories.

Per stride of one foot (IC → next IC, as in :func:`stridelab.gait.metrics.stride_table`), from the
trajectory of :class:`~stridelab.gait.trajectory.ZuptRtsKalman`:

* **footprint** of a stance -- the mean sensor position over the stance's zero-velocity samples;
* ``stride_length_m`` -- horizontal distance between the footprints of the stride's two stances;
* ``foot_clearance_m`` -- the sensor's maximum height during the swing above the mean height of the two
  footprints (gaitmap's "max. sensor lift"; the sensor, not the toe: minimum toe clearance needs the
  toe's position relative to the sensor);
* ``turning_angle_rad`` -- heading change of the foot between the two footprints;
* ``feet_adjacent_s`` -- the first swing sample where the foot has covered half of the stride's
  horizontal distance: it passes the other foot, which stands half-way in a symmetric gait (Perry's
  end of initial swing; a phase boundary, see :func:`stridelab.gait.metrics.gait_phases`);
* eversion (pronation) -- roll of the foot about its long axis relative to its foot-flat orientation,
  positive = lateral edge up (eversion), mirrored for the left foot: ``eversion_at_ic_rad`` (at initial
  contact; negative = inverted landing), ``eversion_peak_rad`` (maximum from IC to heel rise) and
  ``eversion_excursion_rad`` = peak − at IC (the "pronation" range of running-shoe studies, e.g.
  Clarke et al. 1983, and of IMU eversion after Koska et al. 2018).

A stance without zero-velocity samples (a running foot that never stops, or a lost detection) has no
footprint: its strides get NaN (never invented).

Both feet (steps): the two trajectories are independent (each starts at its own origin with its own
heading), so they are put in one frame per straight bout (split at turns and pauses) by

1. **heading drift**: each foot's heading error grows about linearly in time (a gyroscope bias about
   the vertical; the zero-velocity updates do not observe heading); its rate is taken out by making the
   foot's footprints straight (robust least squares);
2. **heading**: the right trajectory is rotated about the vertical so that the straight lines through
   each foot's footprints in the bout (total least squares) are parallel;
3. **origin**: both feet stand still side by side in the standing period next to the bout (the start
   or the end of the recording, or a pause), ``standing_width_m`` apart (McIlroy & Maki 1997, Clin
   Biomech 12:66: preferred stance width ≈ 0.17 m), provided each foot there faces its walking
   direction of the bout. This is an assumption: two unlinked foot IMUs cannot observe the distance
   between the feet (Potter et al. 2019 add an ultrasonic range for it), and the mean step width
   inherits its error (on the shared gaitmap walk the participant stood 0.10 m apart: MAE 9.5 cm, not
   usable -- docs/imu.md). The deviation of each step width from its bout's mean does not depend on it.

``step_width_m`` of a footprint: its signed distance from the line through the other foot's footprints
before and after it, positive towards its own side (Huxham et al. 2006, Gait Posture 24:33); a negative
value means the foot landed across the other foot's line of progression (**crossover**). The
``crossover_index_pct`` of a recording is the share of steps with a crossover. Steps in turns
(|turning| > ``max_turn_rad``) get NaN step width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from stridelab.frames import Side
from stridelab.gait._kernels import (
    drift_free_points,
    footprint_means,
    headings,
    longest_run_per_segment,
    max_per_segment,
    median_per_segment,
    swing_height_and_halfway,
)
from stridelab.gait._signal import runs
from stridelab.gait.metrics import symmetry

__all__ = [
    "SPATIAL_STRIDE_COLUMNS",
    "FootTrack",
    "foot_track",
    "footprints",
    "spatial_summary",
    "step_widths",
    "stride_spatial",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

SPATIAL_STRIDE_COLUMNS = (
    "stride_length_m",
    "foot_clearance_m",
    "turning_angle_rad",
    "eversion_at_ic_rad",
    "eversion_peak_rad",
    "eversion_excursion_rad",
)


def footprints(
    position: FloatArray,
    orientation: FloatArray,
    zupt: npt.NDArray[np.bool_],
    fs: float,
    ic_s: npt.ArrayLike,
    to_s: npt.ArrayLike,
    forward_axis: npt.ArrayLike,
) -> pd.DataFrame:
    """One row per stance (IC → first TO after it): ``ic_s, to_s, x_m, y_m, z_m, heading_rad,
    flat_start, flat_end`` (the footprint; NaN and -1 where the stance has no zero-velocity sample).

    The footprint is the mean over the longest still run of the stance (a brief pause at the strike is
    not the foot flat); a stance without TO ends 0.8 s after its IC."""
    ic = np.sort(np.asarray(ic_s, dtype=float))
    to = np.sort(np.asarray(to_s, dtype=float))
    fwd = np.asarray(forward_axis, dtype=float)
    n = len(position)
    j = np.searchsorted(to, ic, side="right")
    has_to = j < len(to)
    t_to = np.where(has_to, to[np.minimum(j, max(len(to) - 1, 0))] if len(to) else math.nan, math.nan)
    i0 = np.minimum(np.maximum(np.round(ic * fs), 0), n).astype(np.int64)
    i1 = np.where(
        has_to,
        np.minimum(np.round(np.where(has_to, t_to, 0.0) * fs), n),
        np.minimum(i0 + round(0.8 * fs), n),
    ).astype(np.int64)
    a, b = longest_run_per_segment(zupt, i0, i1)
    p, f = footprint_means(position, orientation, fwd, a, b)
    heading = np.where(a >= 0, np.arctan2(f[:, 1], f[:, 0]), math.nan)
    return pd.DataFrame(
        {
            "ic_s": ic,
            "to_s": t_to,
            "x_m": p[:, 0],
            "y_m": p[:, 1],
            "z_m": p[:, 2],
            "heading_rad": heading,
            "flat_start": a,
            "flat_end": b,
        }
    )


def _wrap(a: FloatArray) -> FloatArray:
    return np.asarray((a + np.pi) % (2 * np.pi) - np.pi, dtype=float)


def stride_spatial(
    prints: pd.DataFrame,
    position: FloatArray,
    orientation: FloatArray,
    fs: float,
    side: Side,
    lateral_axis: npt.ArrayLike,
) -> pd.DataFrame:
    """Per stride (footprint k → k + 1): ``ic_s, next_ic_s`` and :data:`SPATIAL_STRIDE_COLUMNS`.

    ``lateral_axis`` -- the sensor-frame axis pointing to the person's LEFT (body ``ml``). All strides
    at once: the per-stride reductions run in compiled loops (``gait._kernels``)."""
    ml = np.asarray(lateral_axis, dtype=float)
    sign = 1.0 if side == "left" else -1.0  # lateral edge up = eversion; the left foot's lateral is +ml
    n = len(position)
    k = max(len(prints) - 1, 0)
    ic = prints["ic_s"].to_numpy(float)
    fs_ = prints["flat_start"].to_numpy(np.int64)
    fe_ = prints["flat_end"].to_numpy(np.int64)
    xyz = prints[["x_m", "y_m", "z_m"]].to_numpy(float)
    heading = prints["heading_rad"].to_numpy(float)
    cols = ["ic_s", "next_ic_s", *SPATIAL_STRIDE_COLUMNS, "feet_adjacent_s"]
    out = {c: np.full(k, math.nan) for c in cols}
    out["ic_s"], out["next_ic_s"] = ic[:k].copy(), ic[1 : k + 1].copy()
    if k == 0:
        return pd.DataFrame(out, columns=cols).astype(float)
    ok_a = fs_[:k] >= 0
    both = ok_a & (fs_[1:] >= 0)
    pa, pb = xyz[:k], xyz[1:]
    length = np.where(both, np.hypot(pb[:, 0] - pa[:, 0], pb[:, 1] - pa[:, 1]), math.nan)
    out["stride_length_m"] = length
    lo = np.where(both, fe_[:k], 0)
    hi = np.where(both, fs_[1:], 0)
    zmax, first = swing_height_and_halfway(position, lo, hi, pa[:, 0], pa[:, 1], 0.5 * length)
    swing = both & (hi > lo)
    out["foot_clearance_m"] = np.where(swing, zmax - 0.5 * (pa[:, 2] + pb[:, 2]), math.nan)
    adj = swing & (first >= 0) & (length > 0.2)
    out["feet_adjacent_s"] = np.where(adj, first / fs, math.nan)
    out["turning_angle_rad"] = np.where(both, _wrap(heading[1:] - heading[:k]), math.nan)
    # eversion: roll of the lateral axis from IC to the end of the foot flat, relative to the foot flat
    i_ic = np.minimum(np.maximum(np.round(ic[:k] * fs), 0), n - 1).astype(np.int64)
    fa, fb = fs_[:k], fe_[:k]
    seg = ok_a & (fb > i_ic)
    q = orientation
    w, x, y, z = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    up = 2 * (x * z - w * y) * ml[0] + 2 * (y * z + w * x) * ml[1] + (1 - 2 * (x * x + y * y)) * ml[2]
    roll = sign * np.arcsin(np.clip(up, -1.0, 1.0))
    has_flat = seg & (fb > fa) & (fa >= i_ic)
    flat = np.full(k, math.nan)
    if has_flat.any():
        flat[has_flat] = median_per_segment(roll, fa[has_flat], fb[has_flat])
    peak = np.full(k, math.nan)
    if seg.any():
        peak[seg] = max_per_segment(roll, i_ic[seg], fb[seg])
    at_ic = roll[i_ic] - flat
    ev_peak = peak - flat
    out["eversion_at_ic_rad"] = np.where(seg, at_ic, math.nan)
    out["eversion_peak_rad"] = np.where(seg, ev_peak, math.nan)
    out["eversion_excursion_rad"] = np.where(seg, ev_peak - at_ic, math.nan)
    return pd.DataFrame(out, columns=cols).astype(float)


@dataclass(frozen=True, slots=True)
class FootTrack:
    """One foot's reconstructed trajectory (own origin and heading) with its footprints."""

    side: Side
    position: FloatArray
    heading_rad: FloatArray
    zupt: npt.NDArray[np.bool_]
    fs: float
    prints: pd.DataFrame


def foot_track(
    side: Side,
    position: FloatArray,
    orientation: FloatArray,
    zupt: npt.NDArray[np.bool_],
    fs: float,
    ic_s: npt.ArrayLike,
    to_s: npt.ArrayLike,
    forward_axis: npt.ArrayLike,
) -> FootTrack:
    """The :class:`FootTrack` of a :class:`~stridelab.gait.trajectory.ZuptRtsKalman` result."""
    heading = headings(orientation, np.asarray(forward_axis, dtype=float))
    prints = footprints(position, orientation, zupt, fs, ic_s, to_s, forward_axis)
    return FootTrack(side, position, heading, zupt, fs, prints)


def _standing(left: FootTrack, right: FootTrack, min_s: float) -> list[tuple[int, int]]:
    """Sample ranges where both feet are still together for at least ``min_s``."""
    n = min(len(left.zupt), len(right.zupt))
    both = left.zupt[:n] & right.zupt[:n]
    return [(a, b) for a, b in runs(both) if b - a >= min_s * left.fs]


def _bouts(ic: FloatArray, turn: FloatArray, max_turn_rad: float, max_gap_s: float) -> list[IntArray]:
    """Straight walking bouts: row indices (time order) of both feet's footprints, split at turns and
    pauses; ``ic``/``turn`` in time order. A footprint turning more than ``max_turn_rad`` starts a new
    bout and belongs to none."""
    if not len(ic):
        return []
    gap = np.diff(ic, prepend=-math.inf) > max_gap_s
    bout = np.cumsum((turn > max_turn_rad) | gap)
    keep = np.flatnonzero(turn <= max_turn_rad)
    if not len(keep):
        return []
    ids = bout[keep]
    cut = np.flatnonzero(np.diff(ids)) + 1
    return list(np.split(keep, cut))


def _path_direction(xy: FloatArray) -> float:
    """Direction (rad) of the straight line through a foot's footprints in a bout (total least squares,
    pointing from the first to the last); NaN with fewer than two footprints 0.2 m apart."""
    if len(xy) < 2 or np.hypot(*(xy[-1] - xy[0])) < 0.2:
        return math.nan
    _, _, vt = np.linalg.svd(xy - xy.mean(axis=0), full_matrices=False)
    d = vt[0] if vt[0] @ (xy[-1] - xy[0]) > 0 else -vt[0]
    return math.atan2(float(d[1]), float(d[0]))


def _widths_from_line(
    own_t: FloatArray, own_xy: FloatArray, oth_t: FloatArray, oth_xy: FloatArray
) -> FloatArray:
    """Signed distance of each own footprint from the line through the other foot's footprints before
    and after it (> 0: left of the line); NaN where it has no neighbour on both sides or they are
    ≤ 0.2 m apart."""
    out = np.full(len(own_t), math.nan)
    k = np.searchsorted(oth_t, own_t)
    ok = (k > 0) & (k < len(oth_t))
    if not ok.any():
        return out
    kk = k[ok]
    p0, p1 = oth_xy[kk - 1], oth_xy[kk]
    d = p1 - p0
    norm = np.hypot(d[:, 0], d[:, 1])
    rel = own_xy[ok] - p0
    far = norm > 0.2
    cross = (d[far, 0] * rel[far, 1] - d[far, 1] * rel[far, 0]) / norm[far]
    out[np.flatnonzero(ok)[far]] = cross
    return out


def _circmean(a: FloatArray) -> float:
    return math.atan2(float(np.sin(a).mean()), float(np.cos(a).mean())) if len(a) else math.nan


def _drift_free(
    t: FloatArray, xy: FloatArray, anchor: tuple[float, FloatArray] | None, min_prints: int
) -> FloatArray:
    """One foot's footprints in a straight bout (time order) with a linearly growing heading error taken
    out: the step from footprint j to j + 1 is turned back by ``b (τ_j − t_a)`` (``τ_j`` its middle
    time, ``t_a`` the anchor's time), the rate ``b`` making the footprints as straight as possible
    (robust least squares about a straight line: Gauss-Newton on the rotation with Huber weights, six
    steps, so that a crossover step does not bend the line). The anchor (the
    standing position and time, or else the first footprint) stays where it is. Fewer than
    ``min_prints`` footprints: unchanged (the rate would fit noise)."""
    if len(t) < min_prints:
        return xy
    if anchor is None:
        ta, pts, tt, ia = float(t[0]), xy, t, 0
    else:
        ta, s = anchor
        ia = 0 if ta <= t[0] else len(t)
        pts = np.insert(xy, ia, s, axis=0)
        tt = np.insert(t, ia, ta)
    tau = 0.5 * (tt[1:] + tt[:-1]) - ta
    walk = np.ones(len(pts), bool)
    if anchor is not None:
        walk[ia] = False
    return drift_free_points(pts, tau, ia, walk)[0][walk]


def step_widths(
    left: FootTrack,
    right: FootTrack,
    *,
    standing_width_m: float = 0.17,
    max_turn_rad: float = math.radians(20.0),
    anchor_within_s: float = 3.0,
    heading_drift: bool = True,
    min_drift_prints: int = 5,
) -> pd.DataFrame:
    """Step width per footprint of both feet: ``side, ic_s, step_width_m, crossover, step_width_dev_m``
    (NaN / False where not defined), per straight bout (split at turns > ``max_turn_rad`` and pauses):

    1. ``heading_drift``: each foot's heading error is taken to grow linearly with time in the bout
       (a gyroscope bias about the vertical, which the zero-velocity updates do not observe) and its
       rate is removed by making the foot's footprints straight (:func:`_drift_free`; a foot with fewer
       than ``min_drift_prints`` footprints in the bout is left as it is);
    2. the right trajectory is rotated so that the straight lines through each foot's footprints are
       parallel;
    3. **anchor**: it is placed so that in the standing period next to the bout (both feet still ≥ 0.5
       s, ending at most ``anchor_within_s`` before the bout's first or starting at most that after its
       last footprint) the right foot stood ``standing_width_m`` to the right of the left one. Only a
       standing period in which each foot faces its walking direction of the bout (within
       ``max_turn_rad``) anchors: after a turn the sensor's offset from the heel is on the other side
       of the foot's line and the relation no longer holds.

    ``step_width_m`` (and ``crossover``) only in anchored bouts: a bout without such a standing period
    has no step width (the distance between two unlinked foot IMUs is not observable).
    ``step_width_dev_m`` -- the step width minus its bout's mean, in every straight bout with at least
    three step widths, anchored or not (it does not depend on the distance between the feet: an
    unanchored bout is placed with its lines ``standing_width_m`` apart and its feet progressing along
    one line at one speed)."""
    cols = ["side", "ic_s", "step_width_m", "crossover", "step_width_dev_m"]
    sides, ics, xys, turns, heads = [], [], [], [], []
    for tr in (left, right):
        p = tr.prints[tr.prints["flat_start"] >= 0]
        if not len(p):
            continue
        h = p["heading_rad"].to_numpy(float)
        sides.append(np.full(len(p), tr.side, dtype=object))
        ics.append(p["ic_s"].to_numpy(float))
        xys.append(p[["x_m", "y_m"]].to_numpy(float))
        turns.append(np.abs(_wrap(np.diff(h, prepend=h[0]))))
        heads.append(h)
    if len(sides) < 2:
        return pd.DataFrame(columns=cols).astype(
            {"step_width_m": float, "crossover": bool, "step_width_dev_m": float}
        )
    side = np.concatenate(sides)
    ic = np.concatenate(ics)
    xy = np.concatenate(xys)
    turn = np.concatenate(turns)
    head = np.concatenate(heads)
    order = np.argsort(ic, kind="stable")  # time order, left before right at equal times
    is_left = side[order] == "left"
    t_ord, xy_ord, h_ord = ic[order], xy[order], head[order]
    stand = _standing(left, right, 0.5)
    width = np.full(len(ic), math.nan)  # in time order
    dev = np.full(len(ic), math.nan)
    for rows in _bouts(t_ord, turn[order], max_turn_rad, 2.5):
        li, ri = rows[is_left[rows]], rows[~is_left[rows]]
        t0, t1 = float(t_ord[rows].min()), float(t_ord[rows].max())
        before = [s for s in stand if 0 <= t0 - s[1] / left.fs <= anchor_within_s]
        after = [s for s in stand if 0 <= s[0] / left.fs - t1 <= anchor_within_s]
        span = before[-1] if before else (after[0] if after else None)
        if span is not None:
            a, b = span
            faces = [
                abs(_wrap(np.array([_circmean(tr.heading_rad[a:b]) - _circmean(h_ord[ix])]))[0])
                <= max_turn_rad
                for tr, ix in ((left, li), (right, ri))
            ]
            if not all(faces):
                span = None
        anchors: tuple[tuple[float, FloatArray] | None, tuple[float, FloatArray] | None] = (None, None)
        if span is not None:
            a, b = span
            t_a = (b - 1) / left.fs if before else a / left.fs
            anchors = (
                (t_a, left.position[a:b, :2].mean(axis=0)),
                (t_a, right.position[a:b, :2].mean(axis=0)),
            )
        l_xy, r_xy = xy_ord[li], xy_ord[ri]
        if heading_drift:
            l_xy = _drift_free(t_ord[li], l_xy, anchors[0], min_drift_prints)
            r_xy = _drift_free(t_ord[ri], r_xy, anchors[1], min_drift_prints)
        al, ar = _path_direction(l_xy), _path_direction(r_xy)
        if not (np.isfinite(al) and np.isfinite(ar)):
            continue
        theta = float(_wrap(np.array([al - ar]))[0])
        rot = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
        if span is not None and anchors[0] is not None and anchors[1] is not None:
            a, b = span
            l0, r0 = anchors[0][1], anchors[1][1]
            # "side by side" across the mean heading of the two feet while standing (toe-out cancels)
            h_l = left.heading_rad[a:b]
            h_r = right.heading_rad[a:b] + theta
            fwd = np.array([np.cos(h_l).mean() + np.cos(h_r).mean(), np.sin(h_l).mean() + np.sin(h_r).mean()])
            fwd /= np.linalg.norm(fwd)
            r_xy = (r_xy - r0) @ rot.T + l0 + standing_width_m * np.array([fwd[1], -fwd[0]])
        else:
            r_xy = _side_by_side(
                t_ord[li], l_xy, t_ord[ri], (r_xy - r_xy.mean(axis=0)) @ rot.T, al, standing_width_m
            )
        w_l = _widths_from_line(t_ord[li], l_xy, t_ord[ri], r_xy)
        w_r = -_widths_from_line(t_ord[ri], r_xy, t_ord[li], l_xy)
        both = np.r_[w_l, w_r]
        ok = np.isfinite(both)
        if ok.sum() >= 3:
            dev[np.r_[li, ri][ok]] = both[ok] - both[ok].mean()
        if span is not None:
            width[li], width[ri] = w_l, w_r
    df = pd.DataFrame(
        {
            "side": side[order],
            "ic_s": t_ord,
            "step_width_m": width,
            "crossover": np.isfinite(width) & (width < 0),
            "step_width_dev_m": dev,
        },
        columns=cols,
    )
    return df.astype({"side": object, "step_width_m": float, "crossover": bool, "step_width_dev_m": float})


def _side_by_side(
    l_t: FloatArray, l_xy: FloatArray, r_t: FloatArray, r_rel: FloatArray, direction: float, width_m: float
) -> FloatArray:
    """An unanchored bout's right footprints (``r_rel``: about their mean, already parallel) placed with
    their line ``width_m`` to the right of the left one and both feet progressing along the walking
    direction at one speed (the along-track position a straight-line fit in time gives the left foot)."""
    u = np.array([math.cos(direction), math.sin(direction)])
    n = np.array([-u[1], u[0]])
    m = l_xy.mean(axis=0)
    along_l = (l_xy - m) @ u
    slope, icpt = np.polyfit(l_t, along_l, 1) if len(l_t) >= 2 else (0.0, float(along_l.mean()))
    shift = float(np.mean(slope * r_t + icpt - r_rel @ u))
    return np.asarray(m + r_rel + shift * u - width_m * n, dtype=float)


def spatial_summary(strides: pd.DataFrame, steps: pd.DataFrame | None) -> dict[str, float]:
    """Medians per side and overall, L/R symmetry index (%) of each stride parameter, and for both feet
    the median step width, its SD about each straight bout's mean (``step_width_dev_m``) and the
    crossover index (% of steps)."""
    out: dict[str, float] = {}
    for name in ("stride_length_m", "foot_clearance_m", "eversion_peak_rad", "eversion_excursion_rad"):
        if name not in strides:
            continue
        v = strides[name]
        out[name] = float(v.median()) if v.notna().any() else math.nan
        med = {}
        for side in ("left", "right"):
            s = v[strides["side"] == side].dropna()
            med[side] = float(s.median()) if len(s) else math.nan
            out[f"{name}_{side}"] = med[side]
        if name.startswith("eversion"):  # angles may be ≤ 0: a plain difference, not a ratio
            out[f"{name}_diff_lr"] = med["left"] - med["right"]
        else:
            out[f"{name}_symmetry_index_pct"] = symmetry(med["left"], med["right"])["symmetry_index_pct"]
    if steps is not None and "step_width_m" in steps:
        w = steps["step_width_m"].dropna()
        out["step_width_m"] = float(w.median()) if len(w) else math.nan
        # variability about each straight bout's mean (independent of the anchor; all widths pooled
        # when the steps have no deviations)
        dv = steps["step_width_dev_m"].dropna() if "step_width_dev_m" in steps else w - w.mean()
        out["step_width_sd_m"] = float(np.sqrt((dv**2).sum() / (len(dv) - 1))) if len(dv) > 1 else math.nan
        out["crossover_index_pct"] = float(100.0 * (w < 0).mean()) if len(w) else math.nan
        for side in ("left", "right"):
            s = steps.loc[steps["side"] == side, "step_width_m"].dropna()
            out[f"step_width_m_{side}"] = float(s.median()) if len(s) else math.nan
    return out
