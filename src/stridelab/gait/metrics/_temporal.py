"""Temporal gait parameters per stride and step, symmetry, and gait-phase boundaries.

Definitions (times in s):

* **stride** (per side) -- from an IC to the next IC of the same foot. ``stride_time_s``.
* **ground contact time** ``contact_time_s`` (GCT, stance) -- IC to the following TO of the same foot.
* **swing time** ``swing_time_s`` -- TO to the next IC of the same foot.
* **duty factor** -- contact time / stride time (< 0.5 means a flight phase: running).
* **step** -- from an IC of one foot to the next IC of the other foot; ``step_time_s``.
* **flight time** ``flight_time_s`` -- from the TO of one foot to the IC of the other foot (the step's
  airborne part). Negative values mean double support (walking) and are reported as
  ``double_support_s`` instead (flight 0).
* **cadence** -- steps per minute = 60 / step time.
* With only one foot instrumented, step time = stride time / 2 and flight time = (stride − 2 × GCT) / 2
  (a symmetric-gait assumption, flagged in ``estimated_from_one_side``).

Symmetry of a left value L and a right value R:

* GCT balance -- ``100 · L / (L + R)`` % LEFT (50 = symmetric), the convention of Garmin running dynamics;
* symmetry index -- ``SI = 100 · (L − R) / (0.5 · (L + R))`` % (Robinson et al. 1987, J Manipulative
  Physiol Ther 10:172);
* symmetry angle -- ``SA = 100 · (45° − arctan(L / R)) / 90°`` % (Zifchock et al. 2008, Gait Posture
  27:622); 0 = symmetric, bounded to ±100.

Gait phases of one stride, as modelled where the sensor does not show them (see :func:`gait_phases`
for the detected boundaries): **initial contact** = IC; **mid-stance** = the midpoint of stance;
**take-off** = TO; the swing is split in thirds: **initial swing** TO → TO + swing/3, **mid-swing** →
TO + 2·swing/3, **terminal swing** → next IC (after Perry's phases and Novacheck 1998, "The
biomechanics of running", Gait Posture 7:77).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from stridelab.frames import SIDES

__all__ = [
    "DETECTED_PHASE_COLUMNS",
    "PHASE_COLUMNS",
    "gait_phases",
    "step_table",
    "stride_table",
    "symmetry",
    "temporal_summary",
]

STRIDE_COLUMNS = (
    "side",
    "ic_s",
    "to_s",
    "next_ic_s",
    "stride_time_s",
    "contact_time_s",
    "swing_time_s",
    "duty_factor",
)
PHASE_COLUMNS = (
    "initial_contact_s",
    "mid_stance_s",
    "take_off_s",
    "initial_swing_end_s",
    "mid_swing_end_s",
    "terminal_swing_end_s",
)


def stride_table(events: pd.DataFrame, *, max_stride_s: float = 2.5) -> pd.DataFrame:
    """One row per complete stride (IC → TO → next IC of the same foot), sorted by IC time."""
    parts = []
    for side in SIDES:
        ev = events[events["side"] == side]
        ic = np.sort(ev.loc[ev["event"] == "IC", "time_s"].to_numpy(float))
        to = np.sort(ev.loc[ev["event"] == "TO", "time_s"].to_numpy(float))
        a, b = ic[:-1], ic[1:]
        # the TOs strictly between consecutive ICs: exactly one makes a complete stride
        first = np.searchsorted(to, a, side="right")
        count = np.searchsorted(to, b, side="left") - first
        keep = (b - a <= max_stride_s) & (count == 1)
        a, b = a[keep], b[keep]
        t = to[first[keep]] if keep.any() else np.zeros(0)
        parts.append(
            pd.DataFrame(
                {
                    "side": pd.Series([side] * len(a), dtype=object),
                    "ic_s": a,
                    "to_s": t,
                    "next_ic_s": b,
                    "stride_time_s": b - a,
                    "contact_time_s": t - a,
                    "swing_time_s": b - t,
                    "duty_factor": (t - a) / (b - a),
                }
            )
        )
    df = pd.concat(parts, ignore_index=True)
    df = df.astype({c: float for c in STRIDE_COLUMNS if c != "side"}).astype({"side": object})
    return df.sort_values("ic_s", kind="stable").reset_index(drop=True)


def step_table(events: pd.DataFrame, strides: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per step. Two-sided: IC(k) of one foot → next IC of the other foot. One-sided: per stride."""
    strides = stride_table(events) if strides is None else strides
    sides = set(events["side"])
    cols = [
        "side",
        "ic_s",
        "step_time_s",
        "contact_time_s",
        "flight_time_s",
        "double_support_s",
        "cadence_spm",
        "estimated_from_one_side",
    ]
    rows = []
    if {"left", "right"} <= sides:
        ic = events[events["event"] == "IC"].sort_values("time_s")
        to = events[events["event"] == "TO"]
        times, sd = ic["time_s"].to_numpy(float), ic["side"].to_numpy(object)
        # per step k (IC k-1 → IC k of the other foot), all steps at once by sorted search
        t_prev, t_now = times[:-1], times[1:]
        s_prev, s_now = sd[:-1], sd[1:]
        ok = (s_now != s_prev) & ~(t_now - t_prev > 1.5)
        gct = np.full(len(t_now), math.nan)
        air = np.full(len(t_now), math.nan)
        for side in set(sd.tolist()):
            tos = np.sort(to.loc[to["side"] == side, "time_s"].to_numpy(float))
            # own TO: the first TO of this foot after its IC
            own = ok & (s_now == side)
            j = np.searchsorted(tos, t_now[own], side="right")
            has = j < len(tos)
            g = np.full(len(j), math.nan)
            g[has] = tos[j[has]] - t_now[own][has]
            gct[own] = np.where(g > 1.5, math.nan, g)
            # the other foot's last TO strictly between the two ICs (flight), else its first TO after
            # this IC when within 1 s (double support)
            oth = ok & (s_prev == side)
            t, tp = t_now[oth], t_prev[oth]
            i_prev = np.searchsorted(tos, t, side="left") - 1
            i_next = np.searchsorted(tos, t, side="right")
            prev_ok = (
                (i_prev >= 0) & (tos[np.clip(i_prev, 0, None)] > tp) if len(tos) else np.zeros(len(t), bool)
            )
            nxt = tos[np.clip(i_next, 0, len(tos) - 1)] if len(tos) else np.zeros(len(t))
            next_ok = ~prev_ok & (i_next < len(tos)) & (nxt - t < 1.0)
            a_ = np.full(len(t), math.nan)
            if len(tos):
                a_[prev_ok] = t[prev_ok] - tos[i_prev[prev_ok]]
                a_[next_ok] = t[next_ok] - nxt[next_ok]
            air[oth] = a_
        step = t_now - t_prev
        finite = np.isfinite(air)
        columns = (
            s_now[ok],
            t_now[ok],
            step[ok],
            gct[ok],
            np.where(finite, np.maximum(air, 0.0), math.nan)[ok],
            np.where(finite, np.maximum(-air, 0.0), math.nan)[ok],
            60.0 / step[ok],
            np.zeros(int(ok.sum()), dtype=bool),
        )
        # column by column (a row list of 10,000 steps an hour cost more than the steps themselves)
        df = pd.DataFrame(dict(zip(cols, columns, strict=True)), columns=cols)
        return df.astype({"side": object, "estimated_from_one_side": bool})
    else:
        per_stride = zip(
            strides["side"], strides["ic_s"], strides["stride_time_s"], strides["contact_time_s"], strict=True
        )
        for side, ic_s, stride_s, contact_s in per_stride:
            step = float(stride_s) / 2
            flight = (float(stride_s) - 2 * float(contact_s)) / 2
            rows.append(
                (
                    side,
                    ic_s,
                    step,
                    contact_s,
                    max(flight, 0.0),
                    max(-flight, 0.0),
                    60.0 / step,
                    True,
                )
            )
    df = pd.DataFrame(rows, columns=cols)
    return df.astype({"side": object, "estimated_from_one_side": bool})


def symmetry(left: float, right: float) -> dict[str, float]:
    """Balance (% left), symmetry index (%) and symmetry angle (%) of two positive values."""
    if not (left > 0 and right > 0):
        nan = math.nan
        return {"balance_left_pct": nan, "symmetry_index_pct": nan, "symmetry_angle_pct": nan}
    return {
        "balance_left_pct": 100.0 * left / (left + right),
        "symmetry_index_pct": 100.0 * (left - right) / (0.5 * (left + right)),
        "symmetry_angle_pct": 100.0 * (45.0 - math.degrees(math.atan(left / right))) / 90.0,
    }


#: detected boundary columns :func:`gait_phases` takes (any subset) from ``detected``
DETECTED_PHASE_COLUMNS = (
    "foot_flat_s",
    "heel_rise_s",
    "feet_adjacent_s",
    "max_knee_flexion_s",
    "peak_swing_s",
)


def gait_phases(strides: pd.DataFrame, detected: pd.DataFrame | None = None) -> pd.DataFrame:
    """Phase boundaries (s) of each stride (see the module docstring for the modelled definitions).

    ``detected`` -- per-stride boundaries (columns ``side, ic_s`` and any of
    :data:`DETECTED_PHASE_COLUMNS`): from a foot, :func:`~stridelab.gait.metrics.foot_phases` (foot
    flat, heel rise, peak swing) and the foot trajectory (feet adjacent); from a shank,
    :func:`~stridelab.gait.metrics.shank_phases` (max knee flexion proxy, peak swing). Each boundary is
    replaced where it is detected:

    * mid-stance starts at **foot flat** (end of the loading response; foot);
    * initial swing ends when the **feet are adjacent** (foot trajectory) or at **max knee flexion**
      (shank proxy) -- Perry's definition;
    * mid-swing ends at the **peak swing angular velocity** (the swinging segment passes the vertical);

    ``phase_source`` is ``"detected"`` when all three are detected, ``"partly detected"`` when some
    are, else ``"modelled"`` (IC + contact/2 and thirds of swing: lower back, running without a still
    foot, shank without gyroscope).
    """
    swing = strides["next_ic_s"] - strides["to_s"]
    out = pd.DataFrame(
        {
            "side": strides["side"],
            "initial_contact_s": strides["ic_s"],
            "mid_stance_s": strides["ic_s"] + strides["contact_time_s"] / 2,
            "take_off_s": strides["to_s"],
            "initial_swing_end_s": strides["to_s"] + swing / 3,
            "mid_swing_end_s": strides["to_s"] + 2 * swing / 3,
            "terminal_swing_end_s": strides["next_ic_s"],
            **{c: np.nan for c in DETECTED_PHASE_COLUMNS},
            "phase_source": pd.Series(["modelled"] * len(strides), index=strides.index, dtype=object),
        }
    )
    if detected is None or not len(detected) or not len(strides):
        return out
    have = [c for c in DETECTED_PHASE_COLUMNS if c in detected]
    cols = {c: np.full(len(strides), np.nan) for c in have}
    s_side = strides["side"].to_numpy(object)
    s_ic_all = strides["ic_s"].to_numpy(float)
    for side in SIDES:
        rows = np.flatnonzero(s_side == side)
        det = detected[detected["side"] == side].sort_values("ic_s")
        if not len(rows) or not len(det):
            continue
        d_ic = det["ic_s"].to_numpy(float)
        s_ic = s_ic_all[rows]
        j = np.clip(np.searchsorted(d_ic, s_ic), 0, len(d_ic) - 1)
        prev = np.clip(j - 1, 0, len(d_ic) - 1)
        j = np.where(np.abs(d_ic[prev] - s_ic) <= np.abs(d_ic[j] - s_ic), prev, j)
        same = np.abs(d_ic[j] - s_ic) < 1e-6
        for col, arr in cols.items():
            arr[rows] = np.where(same, det[col].to_numpy(float)[j], np.nan)
    for col, arr in cols.items():
        out[col] = arr
    to, nxt = out["take_off_s"], out["terminal_swing_end_s"]

    def inside(col: str, lo: pd.Series, hi: pd.Series) -> pd.Series:
        return out[col].notna() & (out[col] > lo) & (out[col] < hi)

    ms = inside("foot_flat_s", out["initial_contact_s"], to)
    peak = inside("peak_swing_s", to, nxt)
    adj = inside("feet_adjacent_s", to, nxt) & (~peak | (out["feet_adjacent_s"] < out["peak_swing_s"]))
    knee = (
        inside("max_knee_flexion_s", to, nxt)
        & ~adj
        & (~peak | (out["max_knee_flexion_s"] < out["peak_swing_s"]))
    )
    out.loc[ms, "mid_stance_s"] = out.loc[ms, "foot_flat_s"]
    out.loc[adj, "initial_swing_end_s"] = out.loc[adj, "feet_adjacent_s"]
    out.loc[knee, "initial_swing_end_s"] = out.loc[knee, "max_knee_flexion_s"]
    # the mid-swing end must come after the (detected or modelled) end of initial swing; where the
    # peak does not, it stays modelled: half-way from the end of initial swing to the next IC when the
    # modelled 2/3 of swing falls before a detected end of initial swing
    peak &= out["peak_swing_s"] > out["initial_swing_end_s"]
    out.loc[peak, "mid_swing_end_s"] = out.loc[peak, "peak_swing_s"]
    late = ~peak & (out["mid_swing_end_s"] <= out["initial_swing_end_s"])
    out.loc[late, "mid_swing_end_s"] = 0.5 * (out.loc[late, "initial_swing_end_s"] + nxt[late])
    n_det = ms.astype(int) + (adj | knee).astype(int) + peak.astype(int)
    n_det_max = 3 if "foot_flat_s" in have else 2  # a shank cannot show foot flat
    out.loc[n_det > 0, "phase_source"] = "partly detected"
    out.loc[(n_det >= n_det_max) & (n_det > 0), "phase_source"] = "detected"
    return out


def temporal_summary(strides: pd.DataFrame, steps: pd.DataFrame) -> dict[str, float]:
    """Medians per side and overall, plus L/R symmetry of contact time (SI units; cadence in 1/min)."""
    out: dict[str, float] = {}
    on_side = {side: strides["side"] == side for side in SIDES}  # each mask once, not per column
    for name in ("stride_time_s", "contact_time_s", "swing_time_s", "duty_factor"):
        out[name] = float(strides[name].median()) if len(strides) else math.nan
        for side in SIDES:
            s = strides.loc[on_side[side], name]
            out[f"{name}_{side}"] = float(s.median()) if len(s) else math.nan
    for name in ("step_time_s", "flight_time_s", "double_support_s", "cadence_spm"):
        out[name] = float(steps[name].median()) if len(steps) else math.nan
    out.update(symmetry(out["contact_time_s_left"], out["contact_time_s_right"]))
    step_l = steps.loc[steps["side"] == "left", "step_time_s"]
    step_r = steps.loc[steps["side"] == "right", "step_time_s"]
    st = symmetry(
        float(step_l.median()) if len(step_l) else math.nan,
        float(step_r.median()) if len(step_r) else math.nan,
    )
    out["step_time_symmetry_index_pct"] = st["symmetry_index_pct"]
    out["n_strides"] = float(len(strides))
    return out
