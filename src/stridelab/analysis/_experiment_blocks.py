"""Blocks of an experiment: pace- and grade-adjusted means of a run's laps, time ranges or the whole run.

Pure functions over one run's canonical records. The clean samples are the analytics' "model" samples
(:func:`._segments.prepare_run`: no warm-up, pauses, walking, settling, speed changes, steep
grades, sharp turns). Per metric, one least-squares fit over the clean samples of all blocks of the run::

    y = sum_b alpha_b [block b] + beta_speed (v - v_ref) + beta_grade grade  (+ beta_time (t - t_c))

gives each block's value ``alpha_b`` at the reference speed ``v_ref`` (the median speed of the run's
blocks) on flat ground. The speed slope is estimated from the speed variation *within* blocks, so an
arm effect (a block-level shift) cannot leak into it. The time term is used only when the run is a
single block (alternating-runs, before-after): the value is then at the run's mean time, like the
analytics' pace-adjusted value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from stridelab.analysis._config import AnalysisConfig
from stridelab.analysis._segments import prepare_run
from stridelab.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

__all__ = ["EXPERIMENT_METRICS", "BlockSpec", "BlockValue", "extract_blocks", "pooled_slope"]

#: metric key -> (display unit, factor SI -> display, what it is)
EXPERIMENT_METRICS: Final[dict[str, tuple[str, float, str]]] = {
    "balance": ("pp", 1.0, "left share of ground contact time"),
    "gct": ("ms", 1000.0, "ground contact time"),
    "vo": ("mm", 1000.0, "vertical oscillation"),
    "cadence": ("spm", 1.0, "cadence"),
}
_MIN_SPEED_SD_M_S: Final[float] = 0.02
_MIN_GRADE_SD: Final[float] = 0.005


@dataclass(frozen=True, slots=True)
class BlockSpec:
    """Which samples of a run form a block: one lap (0-based ``lap_index``), a timer-time range
    ``[from_s, to_s)``, or (all None) the whole run."""

    arm: str
    label: str
    lap_index: int | None = None
    from_s: float | None = None
    to_s: float | None = None


@dataclass(frozen=True, slots=True)
class BlockValue:
    """One block's adjusted values (SI; balance in % left share) and its context."""

    run_id: str
    run_start: pd.Timestamp
    arm: str
    label: str
    order_s: float  # mean timer time of the block's samples (orders blocks within a run)
    time_h: float  # mean elapsed time of the block's samples since the run's start, hours
    seconds: float  # clean seconds used
    speed_m_s: float  # mean recorded speed of the used samples
    ref_speed_m_s: float  # the speed ``values`` refer to
    values: dict[str, float]  # metric -> value at ref_speed_m_s on flat ground
    slopes: dict[str, float]  # metric -> speed slope used (per m/s), 0 when not estimable
    raw: dict[str, float] = field(default_factory=dict)  # metric -> plain mean of the used samples
    #: position of the block among the run's *tagged* blocks, counted before any was left out (laps:
    #: lap number minus the first tagged lap; ranges: rank by start). Pairs ``slot // 2`` are the
    #: protocol's randomisation pairs even when a block in between had to be dropped. None: unknown.
    slot: int | None = None

    def at_speed(self, metric: str, speed_m_s: float, slope: float | None = None) -> float:
        """The block's value re-referenced to ``speed_m_s`` (with its own or the given slope)."""
        s = self.slopes.get(metric, 0.0) if slope is None else slope
        return self.values[metric] + s * (speed_m_s - self.ref_speed_m_s)


def _timer(records: pd.DataFrame, t_s: np.ndarray) -> np.ndarray:
    if "timer_s" in records.columns:
        t = pd.to_numeric(records["timer_s"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        if len(t) == len(t_s) and np.isfinite(t).all():
            rel: np.ndarray = t - t[0]
            return rel
    return t_s


def extract_blocks(
    records: pd.DataFrame,
    laps: pd.DataFrame | None,
    specs: Sequence[BlockSpec],
    *,
    run_id: str,
    run_start: pd.Timestamp,
    config: AnalysisConfig | None = None,
    metrics: Sequence[str] = tuple(EXPERIMENT_METRICS),
    min_block_s: float = 60.0,
    ref_speed_m_s: float | None = None,
) -> tuple[list[BlockValue], list[str]]:
    """The adjusted values of the blocks ``specs`` of one run, and messages about what was left out.

    A block with less than ``min_block_s`` of clean running with GCT balance is left out (stated). A
    sample claimed by two blocks is used by neither (stated). ``ref_speed_m_s`` defaults to the median
    speed of the run's block samples.
    """
    messages: list[str] = []
    short = run_id[:8]
    if not specs:
        return [], messages
    frame = prepare_run(records, laps, config)
    n = frame.n
    if n == 0:
        return [], [f"run {short}: no records"]
    if "balance" not in frame.values:
        return [], [f"run {short}: no GCT balance (no running dynamics): left out"]
    timer = _timer(records, frame.t_s)
    member = np.zeros((len(specs), n), dtype=bool)
    for i, spec in enumerate(specs):
        if spec.lap_index is not None:
            member[i] = frame.lap_index == spec.lap_index
        elif spec.from_s is not None and spec.to_s is not None:
            member[i] = (timer >= spec.from_s) & (timer < spec.to_s)
        else:
            member[i] = True
    slots = _slots(specs, member, timer)
    overlap = member.sum(axis=0) > 1
    if overlap.any():
        messages.append(f"run {short}: {int(overlap.sum())} s belong to two tagged blocks; used by neither")
        member &= ~overlap
    usable = frame.model.copy()
    speed = frame.speed_raw_m_s
    if frame.has_speed:
        usable &= np.isfinite(speed) & (speed > 0)
    bal_ok = usable & np.isfinite(frame.values["balance"])
    keep: list[int] = []
    for i, spec in enumerate(specs):
        secs = frame.seconds(member[i] & bal_ok)
        if secs < min_block_s:
            total = frame.seconds(member[i])
            why = "not in the run" if total == 0 else f"only {secs:.0f} s of clean running with balance"
            messages.append(f"run {short} {spec.label} ({spec.arm}): {why}; left out")
        else:
            keep.append(i)
    if not keep:
        return [], messages
    in_any = member[keep].any(axis=0) & usable
    if ref_speed_m_s is None:
        ref_speed_m_s = float(np.median(speed[in_any])) if frame.has_speed else float("nan")
    grade = frame.grade
    single = len(keep) == 1
    out_values: list[dict[str, float]] = [{} for _ in keep]
    out_slopes: list[dict[str, float]] = [{} for _ in keep]
    out_raw: list[dict[str, float]] = [{} for _ in keep]
    for metric in metrics:
        y_all = frame.values.get(metric)
        if y_all is None:
            continue
        sel = in_any & np.isfinite(y_all)
        blocks_idx = [j for j, i in enumerate(keep) if frame.seconds(member[i] & sel) >= min_block_s]
        if not blocks_idx:
            continue
        sel &= member[[keep[j] for j in blocks_idx]].any(axis=0)
        y = y_all[sel]
        label = np.full(int(sel.sum()), -1)
        for j in blocks_idx:
            label[member[keep[j]][sel]] = j
        covs: list[np.ndarray] = []
        names: list[str] = []
        if frame.has_speed:
            v = speed[sel]
            within_sd = float(np.sqrt(np.mean([np.var(v[label == j]) for j in blocks_idx])))
            if within_sd >= _MIN_SPEED_SD_M_S:
                covs.append(v - ref_speed_m_s)
                names.append("speed")
        g = grade[sel]
        if np.isfinite(g).mean() >= 0.8 and float(np.nanstd(g)) >= _MIN_GRADE_SD:
            covs.append(np.where(np.isfinite(g), g, 0.0))
            names.append("grade")
        if single:
            t = frame.t_s[sel] / 3600.0
            if np.ptp(t) * 3600.0 >= 300.0:
                covs.append(t - t.mean())
                names.append("time")
        if y.size <= len(blocks_idx) + len(covs) + 1:
            continue
        # block dummies + covariates, solved by the within-block (FWL) transformation: O(n)
        pos = np.searchsorted(np.asarray(blocks_idx), label)  # label -> row of the per-block means
        counts = np.bincount(pos, minlength=len(blocks_idx)).astype(float)
        mean_y = np.bincount(pos, weights=y, minlength=len(blocks_idx)) / counts
        gamma = np.zeros(len(covs))
        mean_c = np.zeros((len(blocks_idx), len(covs)))
        if covs:
            c = np.column_stack(covs)
            for q in range(c.shape[1]):
                mean_c[:, q] = np.bincount(pos, weights=c[:, q], minlength=len(blocks_idx)) / counts
            c_dm = c - mean_c[pos]
            y_dm = y - mean_y[pos]
            gamma = np.linalg.lstsq(c_dm.T @ c_dm, c_dm.T @ y_dm, rcond=None)[0]
        coef = dict(zip(names, (float(x) for x in gamma), strict=True))
        adjusted = mean_y - mean_c @ gamma
        for r, j in enumerate(blocks_idx):
            out_values[j][metric] = float(adjusted[r])
            out_slopes[j][metric] = coef.get("speed", 0.0)
            out_raw[j][metric] = float(mean_y[r])
    blocks: list[BlockValue] = []
    for j, i in enumerate(keep):
        if "balance" not in out_values[j]:
            continue
        m = member[i] & bal_ok
        blocks.append(
            BlockValue(
                run_id=run_id,
                run_start=pd.Timestamp(run_start),
                arm=specs[i].arm,
                label=specs[i].label,
                order_s=float(np.mean(timer[m])),
                time_h=float(np.mean(frame.t_s[m])) / 3600.0,
                seconds=frame.seconds(m),
                speed_m_s=float(np.mean(speed[m])) if frame.has_speed else float("nan"),
                ref_speed_m_s=ref_speed_m_s,
                values=out_values[j],
                slopes=out_slopes[j],
                raw=out_raw[j],
                slot=slots[i],
            )
        )
    return blocks, messages


def _slots(specs: Sequence[BlockSpec], member: np.ndarray, timer: np.ndarray) -> list[int | None]:
    """Each spec's position among the run's tagged blocks, before any is left out: lap tags by lap
    number (relative to the first tagged lap, so laps 2-9 give slots 0-7 and a dropped lap 5 keeps
    laps 6-9 in their pairs); otherwise by the start of the block. Whole-run specs: None."""
    if all(s.lap_index is not None for s in specs):
        first = min(int(s.lap_index) for s in specs if s.lap_index is not None)
        return [int(s.lap_index) - first if s.lap_index is not None else None for s in specs]
    if any(s.lap_index is None and s.from_s is None for s in specs):
        return [None] * len(specs)
    starts = [
        float(s.from_s)
        if s.from_s is not None
        else (float(np.min(timer[member[i]])) if member[i].any() else math.inf)
        for i, s in enumerate(specs)
    ]
    rank = np.argsort(np.asarray(starts), kind="stable")
    out: list[int | None] = [None] * len(specs)
    for r, i in enumerate(rank):
        out[int(i)] = r
    return out


def pooled_slope(blocks: Sequence[BlockValue], metric: str) -> float:
    """The median over runs of the within-run speed slopes of ``metric`` (0 when none)."""
    per_run: Mapping[str, float] = {b.run_id: b.slopes.get(metric, 0.0) for b in blocks if metric in b.values}
    vals = [s for s in per_run.values() if np.isfinite(s) and s != 0.0]
    return float(np.median(vals)) if vals else 0.0
