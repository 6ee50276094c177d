"""The fast foot-trajectory stage (issue 15 point 1) gives the results of the code it replaced.

* ``ZuptRtsKalman`` (explicit compiled loops) and the whole pipeline against a snapshot written by the
  matrix-form kernel and the per-stride pandas loops of main at ea170f9
  (``tests/data/trajectory_snapshot_ea170f9.npz``, written on that commit by the calls of
  ``_snapshot`` below);
* ``footprints`` / ``stride_spatial`` / ``step_widths`` against the ea170f9 loops themselves, kept
  below as ``_ref_*`` (verbatim but for the names), on a simulated walk and on random two-foot walks with
  turns, pauses and standing periods.

Tolerance: 1e-9 relative (absolute floor 1e-12 for values near zero, e.g. a turning angle of 1e-16 rad);
positions 1e-9 of the trajectory's extent, lengths built from positions (stride length, clearance) 1e-9 m.

Since wave 4 the Kalman kernel is a reformulation of the matrix form, not the same operations: a 7-state
smoother (horizontal position integrated from the smoothed velocity), symmetric straight-line covariance
code and the modified Bryson-Frazier smoother (``_rts.py``). It still agrees to rounding: the snapshot's
positions within 7e-12 m here and 2.5e-10 m on 1 h of running; ``test_kalman_matches_the_matrix_form``
checks it against the matrix-form equations (kept below) with and without the height measurement. The
lead had allowed 1 mm for this rewrite; it was not needed, so the tolerances stay at rounding level.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stridelab.frames import Side
from stridelab.gait import ImuDataError, analyze_recording
from stridelab.gait._kernels import longest_run_per_segment, swing_height_and_halfway
from stridelab.gait.trajectory import (
    SPATIAL_STRIDE_COLUMNS,
    FootTrack,
    ZuptRtsKalman,
    foot_track,
    footprints,
    gravity_quaternion,
    step_widths,
    stride_spatial,
    zero_velocity_mask,
)
from stridelab.gait.trajectory._rts import _jit, _still_mask_loop
from stridelab.sim.imu import ImuTruth, simulate_imu
from stridelab.units import G

SNAPSHOT = Path(__file__).resolve().parents[1] / "data" / "trajectory_snapshot_ea170f9.npz"
RTOL, ATOL = 1e-9, 1e-12
#: absolute tolerance of lengths built from positions (the trajectory spans ~10 m: 1e-10 of it)
POS_ATOL_M = 1e-9
FloatArray = npt.NDArray[np.float64]


def _runs(mask: Any) -> list[tuple[int, int]]:
    m = np.asarray(mask, dtype=bool)
    if not m.any():
        return []
    d = np.diff(np.r_[0, m.astype(np.int8), 0])
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist(), strict=True))


runs = _runs


def _rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    w, x, y, z = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    return np.stack(
        [
            (1 - 2 * (y * y + z * z)) * v[0] + 2 * (x * y - w * z) * v[1] + 2 * (x * z + w * y) * v[2],
            2 * (x * y + w * z) * v[0] + (1 - 2 * (x * x + z * z)) * v[1] + 2 * (y * z - w * x) * v[2],
            2 * (x * z - w * y) * v[0] + 2 * (y * z + w * x) * v[1] + (1 - 2 * (x * x + y * y)) * v[2],
        ],
        axis=1,
    )


def _wrap(a: np.ndarray) -> np.ndarray:
    return np.asarray((a + np.pi) % (2 * np.pi) - np.pi, dtype=float)


def _standing(left: FootTrack, right: FootTrack, min_s: float) -> list[tuple[int, int]]:
    n = min(len(left.zupt), len(right.zupt))
    both = left.zupt[:n] & right.zupt[:n]
    return [(a, b) for a, b in runs(both) if b - a >= min_s * left.fs]


# ------------------------------------------------------------------ the ea170f9 loops (reference)
def _ref_footprints(
    position: FloatArray,
    orientation: FloatArray,
    zupt: npt.NDArray[np.bool_],
    fs: float,
    ic_s: npt.ArrayLike,
    to_s: npt.ArrayLike,
    forward_axis: npt.ArrayLike,
) -> pd.DataFrame:
    """One row per stance (IC → first TO after it): ``ic_s, to_s, x_m, y_m, z_m, heading_rad,
    flat_start, flat_end`` (the footprint; NaN and -1 where the stance has no zero-velocity sample)."""
    ic = np.sort(np.asarray(ic_s, dtype=float))
    to = np.sort(np.asarray(to_s, dtype=float))
    fwd = np.asarray(forward_axis, dtype=float)
    rows = []
    n = len(position)
    for t_ic in ic:
        j = np.searchsorted(to, t_ic, side="right")
        t_to = float(to[j]) if j < len(to) else math.nan
        i0 = min(max(round(t_ic * fs), 0), n)
        i1 = min(round(t_to * fs), n) if np.isfinite(t_to) else min(i0 + round(0.8 * fs), n)
        still = np.flatnonzero(zupt[i0:i1]) + i0
        if not len(still):
            rows.append((t_ic, t_to, math.nan, math.nan, math.nan, math.nan, -1, -1))
            continue
        # the longest still run of the stance (a brief pause at the strike is not the foot flat)
        spans = runs(zupt[i0:i1])
        a, b = max(spans, key=lambda s: s[1] - s[0])
        a, b = a + i0, b + i0
        p = position[a:b].mean(axis=0)
        f = _rotate(orientation[a:b], fwd).mean(axis=0)
        rows.append((t_ic, t_to, p[0], p[1], p[2], math.atan2(f[1], f[0]), a, b))
    return pd.DataFrame(
        rows, columns=["ic_s", "to_s", "x_m", "y_m", "z_m", "heading_rad", "flat_start", "flat_end"]
    )


def _ref_stride_spatial(
    prints: pd.DataFrame,
    position: FloatArray,
    orientation: FloatArray,
    fs: float,
    side: Side,
    lateral_axis: npt.ArrayLike,
) -> pd.DataFrame:
    """Per stride (footprint k → k + 1): ``ic_s, next_ic_s`` and :data:`SPATIAL_STRIDE_COLUMNS`.

    ``lateral_axis`` -- the sensor-frame axis pointing to the person's LEFT (body ``ml``)."""
    ml = np.asarray(lateral_axis, dtype=float)
    sign = 1.0 if side == "left" else -1.0  # lateral edge up = eversion; the left foot's lateral is +ml
    out = []
    n = len(position)
    for k in range(len(prints) - 1):
        a, b = prints.iloc[k], prints.iloc[k + 1]
        row = dict.fromkeys((*SPATIAL_STRIDE_COLUMNS, "feet_adjacent_s"), math.nan)
        row["ic_s"], row["next_ic_s"] = float(a.ic_s), float(b.ic_s)
        if a.flat_start >= 0 and b.flat_start >= 0:
            row["stride_length_m"] = float(math.hypot(b.x_m - a.x_m, b.y_m - a.y_m))
            lo, hi = int(a.flat_end), int(b.flat_start)
            if hi > lo:
                row["foot_clearance_m"] = float(position[lo:hi, 2].max() - 0.5 * (a.z_m + b.z_m))
                d = np.hypot(position[lo:hi, 0] - a.x_m, position[lo:hi, 1] - a.y_m)
                half = np.flatnonzero(d >= 0.5 * row["stride_length_m"])
                if len(half) and row["stride_length_m"] > 0.2:
                    row["feet_adjacent_s"] = (lo + int(half[0])) / fs
            row["turning_angle_rad"] = float(_wrap(np.array([b.heading_rad - a.heading_rad]))[0])
        if a.flat_start >= 0:
            i_ic = min(max(round(a.ic_s * fs), 0), n - 1)
            fa, fb = int(a.flat_start), int(a.flat_end)
            roll = sign * np.arcsin(np.clip(_rotate(orientation[i_ic:fb], ml)[:, 2], -1.0, 1.0))
            flat = float(np.median(roll[fa - i_ic :])) if fb > fa >= i_ic else math.nan
            ev = roll - flat
            if len(ev):
                row["eversion_at_ic_rad"] = float(ev[0])
                row["eversion_peak_rad"] = float(ev.max())
                row["eversion_excursion_rad"] = float(ev.max() - ev[0])
        out.append(row)
    cols = ["ic_s", "next_ic_s", *SPATIAL_STRIDE_COLUMNS, "feet_adjacent_s"]
    return pd.DataFrame(out, columns=cols).astype(float)


def _ref_bouts(prints: pd.DataFrame, max_turn_rad: float, max_gap_s: float) -> list[pd.DataFrame]:
    """Straight walking bouts: both feet's footprints (time order) split at turns and pauses."""
    p = prints.sort_values("ic_s", kind="stable").reset_index(drop=True)
    out: list[pd.DataFrame] = []
    cur: list[pd.Series] = []
    last = -math.inf
    for _, row in p.iterrows():
        if row.turn_rad > max_turn_rad or row.ic_s - last > max_gap_s:
            if cur:
                out.append(pd.DataFrame(cur))
            cur = []
        if row.turn_rad <= max_turn_rad:
            cur.append(row)
        last = row.ic_s
    if cur:
        out.append(pd.DataFrame(cur))
    return out


def _ref_path_direction(p: pd.DataFrame) -> float:
    """Direction (rad) of the straight line through a foot's footprints in a bout (total least squares,
    pointing from the first to the last); NaN with fewer than two footprints 0.2 m apart."""
    xy = p[["x_m", "y_m"]].to_numpy()
    if len(xy) < 2 or np.hypot(*(xy[-1] - xy[0])) < 0.2:
        return math.nan
    _, _, vt = np.linalg.svd(xy - xy.mean(axis=0))
    d = vt[0] if vt[0] @ (xy[-1] - xy[0]) > 0 else -vt[0]
    return math.atan2(float(d[1]), float(d[0]))


def _ref_drift_free(t: np.ndarray, xy: np.ndarray, anchor: Any, min_prints: int) -> np.ndarray:
    """w4-foot's heading-drift model written as plain loops: each step from footprint j to j + 1 turned
    back by b (τ_j − t_a), b from robust (Huber, then Tukey) Gauss-Newton about a straight line."""
    if len(t) < min_prints:
        return xy
    pts = [np.asarray(p, dtype=float) for p in xy]
    times = [float(v) for v in t]
    if anchor is None:
        ta, ia = times[0], 0
    else:
        ta = float(anchor[0])
        ia = 0 if ta <= times[0] else len(times)
        pts.insert(ia, np.asarray(anchor[1], dtype=float))
        times.insert(ia, ta)
    steps = [(pts[j + 1] - pts[j], 0.5 * (times[j] + times[j + 1]) - ta) for j in range(len(pts) - 1)]

    def corrected(b: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
        out: list[np.ndarray] = [np.zeros(2)] * len(pts)
        der: list[np.ndarray] = [np.zeros(2)] * len(pts)
        out[ia], der[ia] = pts[ia], np.zeros(2)
        for k in range(ia + 1, len(pts)):  # forward from the anchor
            d, tau = steps[k - 1]
            c, s_ = math.cos(b * tau), math.sin(b * tau)
            rd = np.array([c * d[0] + s_ * d[1], -s_ * d[0] + c * d[1]])
            out[k] = out[k - 1] + rd
            der[k] = der[k - 1] + np.array([rd[1] * tau, -rd[0] * tau])
        for k in range(ia - 1, -1, -1):  # backward from the anchor
            d, tau = steps[k]
            c, s_ = math.cos(b * tau), math.sin(b * tau)
            rd = np.array([c * d[0] + s_ * d[1], -s_ * d[0] + c * d[1]])
            out[k] = out[k + 1] - rd
            der[k] = der[k + 1] - np.array([rd[1] * tau, -rd[0] * tau])
        return out, der

    keep = [k for k in range(len(pts)) if anchor is None or k != ia]
    b = 0.0
    wts = np.ones(len(keep))
    for it in range(6):
        q, dq = corrected(b)
        w = np.array([q[k] for k in keep])
        m = w.mean(axis=0)
        _, _, vt = np.linalg.svd(w - m)
        u = vt[0]
        n = np.array([-u[1], u[0]])
        rows, ys = [], []
        for k in keep:
            rows.append([1.0, float((q[k] - m) @ u), -float(dq[k] @ n)])
            ys.append(float((q[k] - m) @ n))
        a, y = np.array(rows), np.array(ys)
        coef = np.linalg.lstsq(a * wts[:, None], y * wts, rcond=None)[0]
        b += float(coef[2])
        r = np.abs(y - a @ coef)
        scale = max(1.4826 * float(np.median(r)), 1e-3)
        for j in range(len(keep)):
            if it < 3:
                wts[j] = math.sqrt(min(1.0, 1.345 * scale / max(float(r[j]), 1e-12)))
            else:
                wts[j] = max(1.0 - (float(r[j]) / (4.685 * scale)) ** 2, 0.0)
    q, _ = corrected(b)
    return np.array([q[k] for k in keep])


def _ref_step_widths(
    left: FootTrack,
    right: FootTrack,
    *,
    standing_width_m: float = 0.17,
    max_turn_rad: float = math.radians(20.0),
    anchor_within_s: float = 3.0,
    heading_drift: bool = True,
    min_drift_prints: int = 5,
) -> pd.DataFrame:
    """The ea170f9 per-row loop, brought to w4-foot's definition (per-foot heading drift taken out per
    bout, an anchor only from a standing period facing the bout's direction, ``step_width_dev_m``)."""
    cols = ["side", "ic_s", "step_width_m", "crossover", "step_width_dev_m"]
    frames = []
    for tr in (left, right):
        p = tr.prints[tr.prints["flat_start"] >= 0].copy()
        p["side"] = tr.side
        p["turn_rad"] = np.abs(_wrap(np.diff(p["heading_rad"].to_numpy(), prepend=p["heading_rad"].iloc[0])))
        frames.append(p) if len(p) else None
    if len(frames) < 2:
        return pd.DataFrame(columns=cols).astype({"step_width_m": float, "crossover": bool})
    prints = pd.concat(frames, ignore_index=True)
    stand = _standing(left, right, 0.5)
    widths: dict[tuple[str, float], float] = {}
    devs: dict[tuple[str, float], float] = {}

    def circmean(a: np.ndarray) -> float:
        return math.atan2(float(np.sin(a).mean()), float(np.cos(a).mean()))

    for bout in _ref_bouts(prints, max_turn_rad, 2.5):
        lp = bout[bout["side"] == "left"]
        rp = bout[bout["side"] == "right"]
        if not len(lp) or not len(rp):
            continue
        t0, t1 = float(bout["ic_s"].min()), float(bout["ic_s"].max())
        before = [s for s in stand if 0 <= t0 - s[1] / left.fs <= anchor_within_s]
        after = [s for s in stand if 0 <= s[0] / left.fs - t1 <= anchor_within_s]
        span = before[-1] if before else (after[0] if after else None)
        if span is not None:
            a, b = span
            for tr, fp in ((left, lp), (right, rp)):
                turned = circmean(tr.heading_rad[a:b]) - circmean(fp["heading_rad"].to_numpy())
                if abs(_wrap(np.array([turned]))[0]) > max_turn_rad:
                    span = None
        l_xy = lp[["x_m", "y_m"]].to_numpy()
        r_xy = rp[["x_m", "y_m"]].to_numpy()
        if span is not None:
            a, b = span
            t_a = (b - 1) / left.fs if before else a / left.fs
            l0 = left.position[a:b, :2].mean(axis=0)
            r0 = right.position[a:b, :2].mean(axis=0)
        if heading_drift:
            l_xy = _ref_drift_free(lp["ic_s"].to_numpy(), l_xy, (t_a, l0) if span else None, min_drift_prints)
            r_xy = _ref_drift_free(rp["ic_s"].to_numpy(), r_xy, (t_a, r0) if span else None, min_drift_prints)
        al = _ref_path_direction(pd.DataFrame(l_xy, columns=["x_m", "y_m"]))
        ar = _ref_path_direction(pd.DataFrame(r_xy, columns=["x_m", "y_m"]))
        if not (np.isfinite(al) and np.isfinite(ar)):
            continue
        theta = float(_wrap(np.array([al - ar]))[0])
        rot = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
        if span is not None:
            # "side by side" across the mean heading of the two feet while standing (toe-out cancels)
            h_l = left.heading_rad[a:b]
            h_r = right.heading_rad[a:b] + theta
            fwd = np.array([np.cos(h_l).mean() + np.cos(h_r).mean(), np.sin(h_l).mean() + np.sin(h_r).mean()])
            fwd /= np.linalg.norm(fwd)
            r_xy = (r_xy - r0) @ rot.T + l0 + standing_width_m * np.array([fwd[1], -fwd[0]])
        else:  # lines standing_width_m apart, both feet on one straight progression in time
            u = np.array([math.cos(al), math.sin(al)])
            n = np.array([-u[1], u[0]])
            rel = (r_xy - r_xy.mean(axis=0)) @ rot.T
            m = l_xy.mean(axis=0)
            lt, rt = lp["ic_s"].to_numpy(), rp["ic_s"].to_numpy()
            slope, icpt = (
                np.polyfit(lt, (l_xy - m) @ u, 1) if len(lt) >= 2 else (0.0, float(((l_xy - m) @ u).mean()))
            )
            shift = float(np.mean([slope * t + icpt - float(p @ u) for t, p in zip(rt, rel, strict=True)]))
            r_xy = np.array([m + p + shift * u - standing_width_m * n for p in rel])
        bout_w: dict[tuple[str, float], float] = {}
        for side, own_t, own_xy, oth_t, oth_xy in (
            ("left", lp["ic_s"].to_numpy(), l_xy, rp["ic_s"].to_numpy(), r_xy),
            ("right", rp["ic_s"].to_numpy(), r_xy, lp["ic_s"].to_numpy(), l_xy),
        ):
            for t, pt in zip(own_t, own_xy, strict=True):
                k = int(np.searchsorted(oth_t, t))
                if not 0 < k < len(oth_t):
                    continue
                p0, p1 = oth_xy[k - 1], oth_xy[k]
                d = p1 - p0
                norm = float(np.hypot(*d))
                if norm > 0.2:
                    cross = (d[0] * (pt - p0)[1] - d[1] * (pt - p0)[0]) / norm  # > 0: left of the line
                    bout_w[(side, float(t))] = cross if side == "left" else -cross
        if len(bout_w) >= 3:
            mean = float(np.mean(list(bout_w.values())))
            devs.update({key: v - mean for key, v in bout_w.items()})
        if span is not None:
            widths.update(bout_w)
    rows = [
        (side, float(t), w, bool(np.isfinite(w) and w < 0), devs.get((side, float(t)), math.nan))
        for side, t in zip(prints["side"], prints["ic_s"], strict=True)
        for w in [widths.get((side, float(t)), math.nan)]
    ]
    df = pd.DataFrame(rows, columns=cols).sort_values("ic_s", kind="stable").reset_index(drop=True)
    return df.astype({"side": object, "step_width_m": float, "crossover": bool, "step_width_dev_m": float})


# ------------------------------------------------------------------ comparisons
def _same(new: pd.DataFrame, old: pd.DataFrame) -> None:
    assert list(new.columns) == list(old.columns) and len(new) == len(old)
    for c in new.columns:
        a, b = new[c].to_numpy(), old[c].to_numpy()
        if a.dtype.kind in "fiu" and b.dtype.kind in "fiu":
            np.testing.assert_allclose(a.astype(float), b.astype(float), rtol=RTOL, atol=ATOL, err_msg=c)
        else:
            assert (a == b).all(), c


def _walk_recording() -> Any:
    truth = ImuTruth(
        activity="walking", duration_s=150.0, placements=("foot",), cadence_spm=110.0, contact_time_s=0.7
    )
    return simulate_imu(truth, seed=7).recording


def _snapshot(path: Path) -> None:  # pragma: no cover - run once on ea170f9 to write SNAPSHOT
    rec = _walk_recording()
    out: dict[str, Any] = {}
    for s in rec.sensors:
        kf = ZuptRtsKalman(chunk_s=20.0).estimate(s.data, sampling_rate_hz=s.sampling_rate_hz)
        out[f"{s.side}_pos"], out[f"{s.side}_ori"] = kf.position_[::20], kf.orientation_[::20]
        out[f"{s.side}_n"] = np.array(len(kf.position_))
    res = analyze_recording(rec)
    for c in ("ic_s", *STRIDE_COLS):
        out["strides_" + c] = res.strides[c].to_numpy(float)
    out["strides_left"] = (res.strides["side"] == "left").to_numpy()
    for c in ("ic_s", "step_width_m"):
        out["steps_" + c] = res.steps[c].to_numpy(float)
    out["steps_crossover"] = res.steps["crossover"].to_numpy(bool)
    np.savez_compressed(path, **out)


STRIDE_COLS = (
    "stride_length_m",
    "foot_clearance_m",
    "turning_angle_rad",
    "eversion_at_ic_rad",
    "eversion_peak_rad",
    "eversion_excursion_rad",
)


@pytest.fixture(scope="module")
def walk() -> Any:
    return _walk_recording()


def test_kalman_and_pipeline_match_the_ea170f9_snapshot(walk):
    ref = np.load(SNAPSHOT)
    for s in walk.sensors:
        kf = ZuptRtsKalman(chunk_s=20.0).estimate(s.data, sampling_rate_hz=s.sampling_rate_hz)
        assert len(kf.position_) == int(ref[f"{s.side}_n"])
        # relative to the trajectory's extent (positions near the origin are differences of large sums)
        scale = np.abs(ref[f"{s.side}_pos"]).max()
        np.testing.assert_allclose(kf.position_[::20], ref[f"{s.side}_pos"], rtol=0, atol=RTOL * scale)
        np.testing.assert_allclose(kf.orientation_[::20], ref[f"{s.side}_ori"], rtol=0, atol=RTOL)
    res = analyze_recording(walk)
    np.testing.assert_array_equal(res.strides["side"] == "left", ref["strides_left"])
    for c in ("ic_s", *STRIDE_COLS):
        got = res.strides[c].to_numpy(float)
        assert np.isfinite(got).sum() > 200, c
        # lengths are differences of positions ~10 m from the origin: compared in metres (rounding level)
        atol = POS_ATOL_M if c.endswith("_m") else ATOL
        np.testing.assert_allclose(got, ref["strides_" + c], rtol=RTOL, atol=atol, err_msg=c)
    np.testing.assert_allclose(res.steps["ic_s"].to_numpy(float), ref["steps_ic_s"], rtol=RTOL, atol=ATOL)
    # the step-width definition changed after ea170f9 (w4-foot: heading drift per foot taken out, see
    # _ref_step_widths, checked exactly below): on this straight simulated walk it moves the one anchored
    # width by 0.4 mm, nothing else
    np.testing.assert_allclose(
        res.steps["step_width_m"].to_numpy(float), ref["steps_step_width_m"], atol=1e-3
    )
    np.testing.assert_array_equal(res.steps["crossover"].to_numpy(bool), ref["steps_crossover"])


def test_spatial_stage_matches_the_per_stride_loops_on_a_simulated_walk(walk):
    tracks = {}
    for s in walk.sensors:
        kf = ZuptRtsKalman().estimate(s.data, sampling_rate_hz=s.sampling_rate_hz)
        fs = s.sampling_rate_hz
        rng = np.random.default_rng(3)
        fwd, ml = rng.standard_normal(3), rng.standard_normal(3)
        fwd, ml = fwd / np.linalg.norm(fwd), ml / np.linalg.norm(ml)
        # the detector's events, with some TOs dropped (stances ending 0.8 s after IC) and shifted
        ic = np.arange(1.0, 149.0, 1.09) + rng.uniform(-0.05, 0.05, 136)
        to = np.delete(ic + 0.65, [5, 40, 41])[:-3]  # the last three stances without TO
        old = _ref_footprints(kf.position_, kf.orientation_, kf.zupt_, fs, ic, to, fwd)
        new = footprints(kf.position_, kf.orientation_, kf.zupt_, fs, ic, to, fwd)
        _same(new, old)
        assert (old["flat_start"] >= 0).sum() > 100
        side = s.side
        _same(
            stride_spatial(new, kf.position_, kf.orientation_, fs, side, ml),
            _ref_stride_spatial(old, kf.position_, kf.orientation_, fs, side, ml),
        )
        tracks[side] = foot_track(side, kf.position_, kf.orientation_, kf.zupt_, fs, ic, to, fwd)
    _same(step_widths(tracks["left"], tracks["right"]), _ref_step_widths(tracks["left"], tracks["right"]))


def _random_track(rng: np.random.Generator, side: str, n_prints: int, offset_s: float) -> FootTrack:
    """Footprints of a walk with turns (heading jumps), pauses (gaps in time) and both feet standing in
    random periods; positions and headings random walks."""
    fs = 100.0
    ic = offset_s + np.cumsum(rng.choice([1.1, 1.1, 1.1, 4.0], n_prints))
    n = int((ic[-1] + 3) * fs)
    heading = np.cumsum(rng.choice([0.0, 0.0, 0.0, 0.05, 0.6], n_prints))
    xy = np.cumsum(np.c_[np.cos(heading), np.sin(heading)] * 1.3, axis=0) + rng.normal(0, 0.05, (n_prints, 2))
    pos = np.c_[np.cumsum(rng.normal(0, 0.01, (n, 2)), axis=0), np.zeros(n)]
    # the heading per sample: the last footprint's (so standing periods face the walk, as they do) + noise
    last = np.clip(np.searchsorted(ic * fs, np.arange(n), side="right") - 1, 0, n_prints - 1)
    return FootTrack(
        side,  # type: ignore[arg-type]
        pos,
        heading[last] + rng.normal(0, 0.05, n),
        np.zeros(n, bool),
        fs,
        pd.DataFrame(
            {
                "ic_s": ic,
                "to_s": ic + 0.6,
                "x_m": xy[:, 0],
                "y_m": xy[:, 1],
                "z_m": 0.0,
                "heading_rad": heading,
                "flat_start": np.where(rng.random(n_prints) < 0.1, -1, (ic * fs).astype(int) + 5),
                "flat_end": (ic * fs).astype(int) + 50,
            }
        ),
    )


@pytest.mark.parametrize("seed", range(6))
def test_step_widths_match_the_per_row_loop_on_random_walks(seed):
    rng = np.random.default_rng(seed)
    left = _random_track(rng, "left", 80, 2.0)
    right = _random_track(rng, "right", 80, 2.55)
    n = min(len(left.zupt), len(right.zupt))
    for a in rng.integers(0, n - 300, 12):  # standing periods (both still) of 0.3-2 s
        b = a + int(rng.integers(30, 200))
        left.zupt[a:b] = True
        right.zupt[a:b] = True
    new = step_widths(left, right)
    old = _ref_step_widths(left, right)
    _same(new, old)
    # coverage: every seed has bout deviations, most have anchored widths (a standing period facing the walk)
    assert new["step_width_dev_m"].notna().sum() > 15
    if seed in (0, 1, 2, 4):
        assert new["step_width_m"].notna().sum() >= 4
    _same(
        step_widths(left, right, max_turn_rad=0.3, anchor_within_s=6.0),
        _ref_step_widths(left, right, max_turn_rad=0.3, anchor_within_s=6.0),
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.booleans(), min_size=1, max_size=60),
    st.lists(st.tuples(st.integers(0, 70), st.integers(0, 70)), min_size=1, max_size=8),
)
def test_segment_kernels_equal_the_loops(mask, segs):
    m = np.asarray(mask)
    i0 = np.array([min(a, len(m)) for a, _ in segs])
    i1 = np.array([min(b, len(m)) for _, b in segs])
    a, b = longest_run_per_segment(m, i0, i1)
    for k in range(len(segs)):
        spans = runs(m[i0[k] : i1[k]]) if i1[k] > i0[k] else []
        want = max(spans, key=lambda s: s[1] - s[0]) if spans else None
        assert (a[k], b[k]) == ((want[0] + i0[k], want[1] + i0[k]) if want else (-1, -1))
    pos = np.c_[np.linspace(0, 2, len(m)), np.zeros(len(m)), np.sin(np.arange(len(m)))]
    half = np.full(len(segs), 0.5)
    zmax, first = swing_height_and_halfway(pos, i0, i1, np.zeros(len(segs)), np.zeros(len(segs)), half)
    for k in range(len(segs)):
        if i1[k] <= i0[k]:
            assert math.isnan(zmax[k]) and first[k] == -1
            continue
        assert zmax[k] == pos[i0[k] : i1[k], 2].max()
        hit = np.flatnonzero(np.hypot(pos[i0[k] : i1[k], 0], pos[i0[k] : i1[k], 1]) >= 0.5)
        assert first[k] == (i0[k] + hit[0] if len(hit) else -1)


# ----------------------------------------------------------------------------- Kalman vs the matrix form
def _qmul(p: FloatArray, r: FloatArray) -> FloatArray:
    return np.array(
        [
            p[0] * r[0] - p[1] * r[1] - p[2] * r[2] - p[3] * r[3],
            p[0] * r[1] + p[1] * r[0] + p[2] * r[3] - p[3] * r[2],
            p[0] * r[2] - p[1] * r[3] + p[2] * r[0] + p[3] * r[1],
            p[0] * r[3] + p[1] * r[2] - p[2] * r[1] + p[3] * r[0],
        ]
    )


def _rotvec_q(g: FloatArray) -> FloatArray:
    a = float(np.linalg.norm(g))
    if a < 1e-12:
        q = np.r_[1.0, 0.5 * g]
        return np.asarray(q / np.linalg.norm(q), dtype=float)
    return np.r_[math.cos(a / 2), g * math.sin(a / 2) / a]


def _ref_kalman(kf: ZuptRtsKalman, data: pd.DataFrame, fs: float) -> FloatArray:
    """Positions by the textbook matrix form (9 error states [p, v, θ], ``F P Fᵀ + Q``, Joseph update,
    RTS gain ``P Fᵀ (P⁻)⁻¹``; main's kernel until wave 4), chunked like ``ZuptRtsKalman``."""
    acc = data[["acc_x", "acc_y", "acc_z"]].to_numpy(float)
    gyr = data[["gyr_x", "gyr_y", "gyr_z"]].to_numpy(float)
    still = zero_velocity_mask(gyr, fs, threshold_rad_s=kf.zupt_threshold_rad_s, window_s=kf.zupt_window_s)
    a0, b0 = _runs(still)[0]
    n, dt, m = len(acc), 1.0 / fs, 4 if kf.level_walking else 3
    q_noise = np.diag(
        [0.0] * 3 + [kf.velocity_error_variance_m2_s2] * 3 + [kf.orientation_error_variance_rad2] * 3
    )
    r_noise = np.diag([kf.zupt_variance_m2_s2] * 3 + [kf.level_walking_variance_m2])[:m, :m]
    h = np.zeros((m, 9))
    for a, j in enumerate((3, 4, 5, 2)[:m]):
        h[a, j] = 1.0
    pos, vel, quat = np.zeros((n + 1, 3)), np.zeros((n + 1, 3)), np.zeros((n + 1, 4))
    quat[0] = gravity_quaternion(acc[a0:b0])
    cov = q_noise.copy()
    for lo, hi in kf._chunks(still, n, fs):
        k = hi - lo
        xp, xo = np.zeros((k + 1, 9)), np.zeros((k + 1, 9))
        pp, po = np.zeros((k + 1, 9, 9)), np.zeros((k + 1, 9, 9))
        pp[0] = po[0] = cov
        fs_ = []
        for i in range(k):
            j = lo + i
            quat[j + 1] = _qmul(quat[j], _rotvec_q(gyr[j] * dt))
            w = _rotate(quat[j + 1][None, :], acc[j])[0]
            a_w = w - np.array([0.0, 0.0, G])
            pos[j + 1] = pos[j] + vel[j] * dt + 0.5 * a_w * dt * dt
            vel[j + 1] = vel[j] + a_w * dt
            f = np.eye(9)
            f[0:3, 3:6] = np.eye(3) * dt
            ax, ay, az = w * dt
            f[3:6, 6:9] = [[0.0, az, -ay], [-az, 0.0, ax], [ay, -ax, 0.0]]
            fs_.append(f)
            xp[i + 1] = f @ xo[i]
            pp[i + 1] = f @ po[i] @ f.T + q_noise
            if still[j]:
                gain = pp[i + 1] @ h.T @ np.linalg.inv(h @ pp[i + 1] @ h.T + r_noise)
                nu = np.r_[vel[j + 1], pos[j + 1, 2]][:m] - h @ xp[i + 1]
                xo[i + 1] = xp[i + 1] + gain @ nu
                ikh = np.eye(9) - gain @ h
                po[i + 1] = ikh @ pp[i + 1] @ ikh.T + gain @ r_noise @ gain.T
            else:
                xo[i + 1], po[i + 1] = xp[i + 1], pp[i + 1]
        cov = po[k].copy()
        sm = [xo[k]]
        for i in range(k - 1, -1, -1):
            sm.append(xo[i] + po[i] @ fs_[i].T @ np.linalg.solve(pp[i + 1], sm[-1] - xp[i + 1]))
        for i, e in enumerate(reversed(sm)):
            pos[lo + i] -= e[0:3]
            vel[lo + i] -= e[3:6]
            quat[lo + i] = _qmul(_rotvec_q(e[6:9]), quat[lo + i])
    return pos[1:]


@pytest.mark.parametrize("level", [True, False])
def test_kalman_matches_the_matrix_form(walk, level):
    """The reformulated kernel (7 smoothed states, Bryson-Frazier) against the matrix-form equations, with
    and without the height measurement, over chunk hand-overs (10 s of the walk, 3 s chunks)."""
    s = walk.sensors[0]
    data = s.data.iloc[: int(10 * s.sampling_rate_hz)]
    kf = ZuptRtsKalman(level_walking=level, chunk_s=3.0)
    assert (
        len(
            kf._chunks(
                zero_velocity_mask(
                    data[["gyr_x", "gyr_y", "gyr_z"]].to_numpy(),
                    s.sampling_rate_hz,
                    threshold_rad_s=kf.zupt_threshold_rad_s,
                ),
                len(data),
                s.sampling_rate_hz,
            )
        )
        >= 3
    )
    got = kf.estimate(data, sampling_rate_hz=s.sampling_rate_hz).position_
    ref = _ref_kalman(kf, data, s.sampling_rate_hz)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-9 * np.abs(ref).max())


def _ref_zero_velocity_mask(gyr: FloatArray, fs: float, threshold: float, window_s: float) -> Any:
    """main's loop until wave 4."""
    norm = np.sqrt((gyr * gyr).sum(axis=1))
    n = len(norm)
    win = max(round(window_s * fs), 2)
    step = max(win // 2, 1)
    out = np.zeros(n, dtype=bool)
    if n < win:
        return out
    starts = np.arange(0, n - win + 1, step)
    peak = np.lib.stride_tricks.sliding_window_view(norm, win)[starts].max(axis=1)
    for s in starts[peak < threshold]:
        out[s : s + win] = True
    return out


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 400),
    st.sampled_from([10.0, 30.0, 60.0, 100.0, 200.0, 204.8]),
    st.sampled_from([0.05, 0.03, 0.1]),
    st.integers(0, 2**31),
)
def test_zero_velocity_mask_equals_the_loop(n, fs, window_s, seed):
    rng = np.random.default_rng(seed)
    gyr = rng.standard_normal((n, 3)) * rng.uniform(0.1, 1.5)
    ref = _ref_zero_velocity_mask(gyr, fs, 0.6, window_s)
    np.testing.assert_array_equal(zero_velocity_mask(gyr, fs, threshold_rad_s=0.6, window_s=window_s), ref)
    # the compiled form inside ZuptRtsKalman.estimate
    win = max(round(window_s * fs), 2)
    got = np.empty(n, dtype=bool)
    _jit(_still_mask_loop)(
        gyr[:, 0].copy(), gyr[:, 1].copy(), gyr[:, 2].copy(), win, max(win // 2, 1), 0.6, got
    )
    np.testing.assert_array_equal(got, ref)


def test_compiled_zero_velocity_mask_in_the_kalman_equals_the_public_one(walk):
    s = walk.sensors[0]
    ref = zero_velocity_mask(
        s.data[["gyr_x", "gyr_y", "gyr_z"]].to_numpy(), s.sampling_rate_hz, threshold_rad_s=math.radians(34.0)
    )
    assert 0.2 < ref.mean() < 0.8
    np.testing.assert_array_equal(
        ZuptRtsKalman().estimate(s.data, sampling_rate_hz=s.sampling_rate_hz).zupt_, ref
    )


def test_non_finite_signals_are_refused_and_huge_finite_ones_are_not(walk):
    s = walk.sensors[0]
    data = s.data.iloc[:2000].copy()
    bad = data.copy()
    bad.iloc[700, bad.columns.get_loc("gyr_y")] = np.nan
    with pytest.raises(ImuDataError, match="NaN or infinite"):
        ZuptRtsKalman().estimate(bad, sampling_rate_hz=s.sampling_rate_hz)
    huge = data.copy()  # the sum overflows: the per-value check decides
    huge.iloc[[700, 701], huge.columns.get_loc("acc_x")] = 1e308
    kf = ZuptRtsKalman().estimate(huge, sampling_rate_hz=s.sampling_rate_hz)
    assert len(kf.position_) == len(huge)
