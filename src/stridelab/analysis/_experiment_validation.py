"""Validation of the experiment analysis on the synthetic runner (known cue effect), in memory.

:func:`simulate_experiment` simulates one experiment of a design exactly as the protocol prescribes
(arm order randomised within pairs), with "realistic" noise beyond the 1 Hz AR(1) of the sensor:

* every block (lap) gets an extra N(0, ``block_sd_pp``) shift (day-to-day and lap-to-lap wander the
  models do not explain), every run an N(0, ``run_sd_pp``) shift;
* the arm order is randomised within pairs of laps (alternating-laps) or within groups of 4 runs, two
  of each arm (alternating-runs), as the protocols prescribe;
* block paces scatter in a pace band (N(0, 0.08 m/s) per lap; N(0, 0.10 m/s) per run), the balance
  depends on pace (0.6 pp per m/s), grade (0.05 pp per %), a warm-up offset and fatigue drift
  (0.8 pp/h);
* run-level designs add the season trend (-0.3 pp per month).

:func:`validate_design` repeats it ``n`` times with and without the effect and reports power,
false-positive rate and CI coverage. ``bench/validate_experiments.py`` prints the table.

:func:`validate_peeking` analyses every simulated experiment after each of its runs (the look a
runner takes when a result is one command away) and counts the experiments stopped with a verdict:
with the old rule (stop at the first p < 0.05) and with the alpha-spending rule of
:mod:`._experiment_sequential` (stop when p beats the look's nominal level). ``fast=True`` draws the
block values straight from the same noise model at block level (:func:`simulate_blocks_fast`: run
and block shifts, pace scatter with its slope, fatigue drift, season trend, and the 1 Hz AR(1)
sensor noise averaged over a block), about a hundred times faster than simulating the records; the
suite uses it, the bench runs both.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from stridelab.analysis._experiment_blocks import BlockSpec, BlockValue, extract_blocks
from stridelab.analysis._experiment_designs import compare_arms
from stridelab.analysis._experiment_sequential import decides, decisive_looks, look_at
from stridelab.analysis._experiment_stats import Comparison, DesignName
from stridelab.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

__all__ = [
    "PeekingRow",
    "ValidationRow",
    "peeking_pvalues",
    "simulate_blocks_fast",
    "simulate_experiment",
    "validate_design",
    "validate_peeking",
]

_START: Final[datetime] = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)
_DAYS_PER_MONTH: Final[float] = 30.44


@dataclass(frozen=True, slots=True)
class ValidationRow:
    """Operating characteristics of one design over simulated experiments."""

    design: DesignName
    true_effect_pp: float
    n_sims: int
    n_sims_null: int
    power: float  # share of experiments with effect whose p < alpha
    false_positive_rate: float  # share of null experiments with p < alpha
    #: mean over the null experiments of the test's exact size given each one's data (the share of the
    #: protocol's assignments that would reject): the false-positive rate without Monte Carlo error
    #: from the test's own randomisation (NaN for model-based tests)
    false_positive_rate_exact: float
    coverage: float  # share of experiments with effect whose CI holds the true effect
    coverage_null: float  # share of null experiments whose CI holds 0
    mean_effect_pp: float
    median_ci_width_pp: float
    n_undecidable: int  # experiments where no p-value could be computed
    methods: str
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _lap_laps_frame(run: Any) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"lap_index": lap.index, "intensity": lap.intensity, "avg_speed_m_s": lap.avg_speed_m_s}
            for lap in run.laps
        ]
    )


def _pairs_order(rng: np.random.Generator, n_pairs: int) -> list[int]:
    """0/1 arm per block: each consecutive pair is (0, 1) or (1, 0) at random."""
    out: list[int] = []
    for _ in range(n_pairs):
        out += [0, 1] if rng.random() < 0.5 else [1, 0]
    return out


def simulate_experiment(
    design: DesignName,
    effect_pp: float,
    seed: int,
    *,
    runs: int | None = None,
    blocks_per_run: int = 8,
    block_m: float = 1000.0,
    block_sd_pp: float = 0.15,
    run_sd_pp: float = 0.3,
    run_duration_s: float = 900.0,
    noise_model: str = "ar1",
) -> tuple[list[BlockValue], list[float] | None]:
    """Blocks (and, for before-after, weekly loads) of one simulated experiment; arm "A" vs "B",
    the true effect of B is ``effect_pp`` on the GCT balance (left share). ``noise_model``: the
    simulator's within-run noise (``stridelab.sim.NOISE_MODELS``: "ar1", the former, or "fitted", the
    model fitted to the real files with slow wander, lap and run offsets and GPS speed noise)."""
    from stridelab.sim import RunTruth, Segment, apply_noise_model, simulate_run

    rng = np.random.default_rng(seed)
    base = RunTruth(
        balance_grade_slope_pp_per_pct=0.05,
        balance_warmup_offset_pp=0.3,
        terrain_amplitude_m=4.0,
    )
    if noise_model != "ar1":
        base = apply_noise_model(base, noise_model)
    blocks: list[BlockValue] = []
    arms = ("A", "B")
    if design == "alternating-laps":
        n_runs = runs or 2
        for r in range(n_runs):
            order = _pairs_order(rng, blocks_per_run // 2)
            v0 = 3.0 + float(rng.normal(0.0, 0.1))
            segs = [Segment("warmup", 600.0, round(0.88 * v0, 3))]
            for arm in order:
                v = float(np.clip(v0 + rng.normal(0.0, 0.08), 2.2, 4.5))
                off = effect_pp * arm + float(rng.normal(0.0, block_sd_pp))
                segs.append(Segment("steady", round(block_m / v), round(v, 3), balance_offset_pp=off))
            truth = base.replace(
                kind="custom",
                segments=tuple(segs),
                laps="segments",
                start_time=_START + timedelta(days=3 * r),
                balance_left_pct_at_ref=50.8 + float(rng.normal(0.0, run_sd_pp)),
            )
            run = simulate_run(truth, seed=int(rng.integers(2**31)))
            specs = [BlockSpec(arms[a], f"lap {i + 2}", lap_index=i + 1) for i, a in enumerate(order)]
            got, _ = extract_blocks(
                run.records,
                _lap_laps_frame(run),
                specs,
                run_id=f"run{r:03d}",
                run_start=run.start_time,
                metrics=("balance",),
            )
            blocks += got
        return blocks, None
    if design == "alternating-runs":
        n_runs = runs or 12
        # the protocol: consecutive groups of 4 runs, 2 of each arm in random order
        order = [int(a) for _ in range(n_runs // 4) for a in rng.permutation([0, 0, 1, 1])]
        days = [2.0 * i for i in range(len(order))]
        loads = None
    elif design == "before-after":
        n_runs = runs or 16
        half = n_runs // 2
        order = [0] * half + [1] * half
        # two runs a week: 4 weeks before, a 4-week phase (runs not used), 4 weeks after
        days = [3.5 * i for i in range(half)] + [56.0 + 3.5 * i for i in range(half)]
        loads = [float(rng.normal(30.0, 6.0)) for _ in order]
    else:
        raise ValueError(f"unknown design {design!r}")
    for r, (arm, day) in enumerate(zip(order, days, strict=True)):
        truth = base.replace(
            kind="easy",
            duration_s=run_duration_s,
            warmup_s=300.0,
            easy_speed_m_s=round(2.9 + float(rng.normal(0.0, 0.1)), 3),
            start_time=_START + timedelta(days=day),
            balance_left_pct_at_ref=50.8
            - 0.3 * day / _DAYS_PER_MONTH
            + float(rng.normal(0.0, run_sd_pp))
            + effect_pp * arm,
        )
        run = simulate_run(truth, seed=int(rng.integers(2**31)))
        got, _ = extract_blocks(
            run.records,
            None,
            [BlockSpec(arms[arm], "run")],
            run_id=f"run{r:03d}",
            run_start=run.start_time,
            metrics=("balance",),
        )
        blocks += got
    return blocks, (loads if design == "before-after" else None)


def _one(design: DesignName, effect_pp: float, seed: int, **kw: Any) -> Comparison:
    blocks, loads = simulate_experiment(design, effect_pp, seed, **kw)
    if loads is not None:
        # the loads follow the runs that produced a block (all of them in these simulations)
        loads = loads[: len(blocks)]
    return compare_arms(
        blocks,
        ("A", "B"),
        design,
        "balance",
        seed=seed,
        loads_km=loads,
        randomisation_block=4 if design == "alternating-runs" else 2,
    )


def validate_design(
    design: DesignName, n: int = 500, *, effect_pp: float = 0.5, seed: int = 0, alpha: float = 0.05, **kw: Any
) -> ValidationRow:
    """``n`` experiments with the effect and ``n`` without: power, false-positive rate, coverage."""
    t0 = time.perf_counter()
    rows: dict[float, list[Comparison]] = {effect_pp: [], 0.0: []}
    for i in range(n):
        for eff in rows:
            s = seed * 1_000_003 + 2 * i + (0 if eff else 1)
            rows[eff].append(_one(design, eff, s, **kw))

    def rate(cs: list[Comparison], pred: Any) -> float:
        ok = [c for c in cs if c.p_value is not None]
        return float(np.mean([bool(pred(c)) for c in ok])) if ok else float("nan")

    eff_rows, null_rows = rows[effect_pp], rows[0.0]
    widths = [c.ci_high - c.ci_low for c in eff_rows if c.ci_low is not None and c.ci_high is not None]
    methods = sorted({c.method.split(" (")[0].split(" over")[0] for c in eff_rows + null_rows})
    return ValidationRow(
        design=design,
        true_effect_pp=effect_pp,
        n_sims=n,
        n_sims_null=n,
        power=rate(eff_rows, lambda c: c.p_value < alpha),
        false_positive_rate=rate(null_rows, lambda c: c.p_value < alpha),
        false_positive_rate_exact=(
            float(np.mean([c.attained_alpha for c in null_rows if c.attained_alpha is not None]))
            if any(c.attained_alpha is not None for c in null_rows)
            else float("nan")
        ),
        coverage=rate(eff_rows, lambda c: c.ci_low <= effect_pp <= c.ci_high),
        coverage_null=rate(null_rows, lambda c: c.ci_low <= 0.0 <= c.ci_high),
        mean_effect_pp=float(np.mean([c.effect for c in eff_rows if c.effect is not None])),
        median_ci_width_pp=float(np.median(widths)) if widths else float("nan"),
        n_undecidable=sum(c.p_value is None for c in eff_rows + null_rows),
        methods="; ".join(methods),
        seconds=time.perf_counter() - t0,
    )


# ---------------------------------------------------------------------------------------------- peeking
def _ar1_mean_sd(sd_pp: float, phi: float, n_s: float) -> float:
    """SD of the mean of ``n_s`` 1 Hz samples of an AR(1) with marginal SD ``sd_pp`` and lag-1 ``phi``."""
    return float(sd_pp * np.sqrt((1.0 + phi) / (1.0 - phi) / max(n_s, 1.0)))


def simulate_blocks_fast(
    design: DesignName,
    effect_pp: float,
    seed: int,
    *,
    runs: int | None = None,
    blocks_per_run: int = 8,
    block_sd_pp: float = 0.15,
    run_sd_pp: float = 0.3,
) -> list[BlockValue]:
    """Block values of one experiment drawn at block level from the noise model of
    :func:`simulate_experiment` (no records): arm order as the protocol randomises it, per-run and
    per-block shifts, pace scatter (0.6 pp per m/s, removed by the pace adjustment as in the
    analysis), fatigue drift 0.8 pp/h, season trend -0.3 pp/month, sensor AR(1) (0.6 pp, 0.8)
    averaged over the block's clean seconds."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp(_START)
    out: list[BlockValue] = []
    if design == "alternating-laps":
        for r in range(runs or 2):
            order = _pairs_order(rng, blocks_per_run // 2)
            v0 = 3.0 + float(rng.normal(0.0, 0.1))
            base = 50.8 + float(rng.normal(0.0, run_sd_pp))
            for i, arm in enumerate(order):
                v = float(np.clip(v0 + rng.normal(0.0, 0.08), 2.2, 4.5))
                t_h = (600.0 + (i + 0.5) * 1000.0 / v0) / 3600.0
                y = (
                    base
                    + effect_pp * arm
                    + float(rng.normal(0.0, block_sd_pp))
                    + 0.8 * t_h
                    + 0.6 * (v - 3.0)
                    + float(rng.normal(0.0, _ar1_mean_sd(0.6, 0.8, 250.0)))
                )
                out.append(
                    BlockValue(
                        run_id=f"run{r:03d}",
                        run_start=start + pd.Timedelta(days=3 * r),
                        arm=("A", "B")[arm],
                        label=f"lap {i + 2}",
                        order_s=t_h * 3600.0,
                        time_h=t_h,
                        seconds=250.0,
                        speed_m_s=v0,
                        ref_speed_m_s=v0,
                        values={"balance": y - 0.6 * (v - v0)},  # at the run's reference speed
                        slopes={"balance": 0.6},
                        slot=i,
                    )
                )
        return out
    if design == "alternating-runs":
        n_runs = runs or 12
        order = [int(a) for _ in range(n_runs // 4) for a in rng.permutation([0, 0, 1, 1])]
        days = [2.0 * i for i in range(len(order))]
    elif design == "before-after":
        half = (runs or 16) // 2
        order = [0] * half + [1] * half
        days = [3.5 * i for i in range(half)] + [56.0 + 3.5 * i for i in range(half)]
    else:
        raise ValueError(f"unknown design {design!r}")
    for r, (arm, day) in enumerate(zip(order, days, strict=True)):
        v = 2.9 + float(rng.normal(0.0, 0.1))
        y = (
            50.8
            - 0.3 * day / _DAYS_PER_MONTH
            + float(rng.normal(0.0, run_sd_pp))
            + effect_pp * arm
            + 0.6 * (v - 2.9)
            + float(rng.normal(0.0, _ar1_mean_sd(0.6, 0.8, 500.0)))
        )
        out.append(
            BlockValue(
                run_id=f"run{r:03d}",
                run_start=start + pd.Timedelta(days=day),
                arm=("A", "B")[arm],
                label="run",
                order_s=450.0,
                time_h=0.125,
                seconds=500.0,
                speed_m_s=v,
                ref_speed_m_s=v,
                values={"balance": y},
                slopes={"balance": 0.6},
                slot=r,
            )
        )
    return out


def _planned(design: DesignName, runs: int | None, blocks_per_run: int) -> tuple[int, int]:
    if design == "alternating-laps":
        n_runs = runs or 2
        return n_runs * blocks_per_run, n_runs
    n_runs = runs or (12 if design == "alternating-runs" else 16)
    return n_runs, n_runs


def peeking_pvalues(
    design: DesignName,
    blocks: list[BlockValue],
    *,
    seed: int = 0,
    runs: int | None = None,
    blocks_per_run: int = 8,
    alpha: float = 0.05,
    loads: list[float] | None = None,
) -> list[tuple[int, float | None, float, bool]]:
    """(blocks, p-value, nominal level, verdict under alpha spending) of the look after each run of
    one experiment (its first ``j`` runs' blocks, ``j`` = 1 .. runs)."""
    planned_blocks, planned_runs = _planned(design, runs, blocks_per_run)
    size = 4 if design == "alternating-runs" else 2
    flags = decisive_looks(
        design,
        planned_runs,
        blocks_per_run=planned_blocks // planned_runs,
        randomisation_block=size,
        alpha=alpha,
    )
    run_ids = list(dict.fromkeys(b.run_id for b in blocks))
    out: list[tuple[int, float | None, float, bool]] = []
    for j in range(1, len(run_ids) + 1):
        keep = set(run_ids[:j])
        idx = [i for i, b in enumerate(blocks) if b.run_id in keep]
        prefix = [blocks[i] for i in idx]
        c = compare_arms(
            prefix,
            ("A", "B"),
            design,
            "balance",
            seed=seed,
            loads_km=[loads[i] for i in idx] if loads is not None else None,
            randomisation_block=size,
        )
        look = look_at(len(prefix), planned_blocks, planned_runs, alpha=alpha, decisive=flags)
        fallback = c.n_assignments is not None and c.attained_alpha is None
        out.append((len(prefix), c.p_value, look.nominal_alpha, decides(c.p_value, look, fallback=fallback)))
    return out


@dataclass(frozen=True, slots=True)
class PeekingRow:
    """Analysing every experiment after each run: how often a verdict is reached (false positives
    when the true effect is 0, power otherwise) under the old and the alpha-spending rule."""

    design: DesignName
    true_effect_pp: float
    n_sims: int
    looks: int  # looks per experiment (one after each run)
    rate_peeking_naive: float  # stop at the first p < alpha
    rate_peeking_spending: float  # stop at the first p < the look's nominal level
    rate_final_only: float  # one look at the planned length, p < alpha
    fast: bool
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def validate_peeking(
    design: DesignName = "alternating-runs",
    n: int = 500,
    *,
    effect_pp: float = 0.0,
    seed: int = 0,
    alpha: float = 0.05,
    fast: bool = False,
    **kw: Any,
) -> PeekingRow:
    """``n`` experiments of ``design`` (true effect ``effect_pp``), each analysed after every run."""
    t0 = time.perf_counter()
    naive = spend = final = 0
    looks = 0
    for i in range(n):
        s = seed * 1_000_003 + i
        loads: list[float] | None = None
        if fast:
            blocks = simulate_blocks_fast(design, effect_pp, s, **kw)
        else:
            blocks, loads = simulate_experiment(design, effect_pp, s, **kw)
        seq = peeking_pvalues(
            design,
            blocks,
            seed=s,
            runs=kw.get("runs"),
            blocks_per_run=int(kw.get("blocks_per_run", 8)),
            alpha=alpha,
            loads=loads,
        )
        looks = max(looks, len(seq))
        naive += any(p is not None and p < alpha for _, p, _, _ in seq)
        spend += any(verdict for *_, verdict in seq)
        last = seq[-1][1] if seq else None
        final += last is not None and last < alpha
    return PeekingRow(
        design=design,
        true_effect_pp=effect_pp,
        n_sims=n,
        looks=looks,
        rate_peeking_naive=naive / n,
        rate_peeking_spending=spend / n,
        rate_final_only=final / n,
        fast=fast,
        seconds=time.perf_counter() - t0,
    )
