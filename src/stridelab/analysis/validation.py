"""Validation of the per-run models against the synthetic runner's declared truth.

Run ``python -m stridelab.analysis.validation --runs 200`` to print the coverage table quoted in
docs/analysis.md. Records are simulated in memory (:func:`stridelab.sim.simulate_run`), never written
to FIT, so 200 runs take seconds.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from stridelab.analysis._config import AnalysisConfig
from stridelab.analysis._run import analyze_run
from stridelab.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

__all__ = ["ValidationResult", "random_truths", "validate_with_sim"]


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """Coverage and error of the balance model over simulated runs with known truth."""

    n_runs: int
    n_modelled: int
    slope_coverage: float  # share of runs whose 95 % CI of the speed slope holds the truth
    drift_coverage: float
    thirds_coverage: float
    n_drift_free: int
    false_drift_rate: float  # drift-free runs whose drift CI excludes 0
    ref_abs_error_median_pp: float  # |at_ref (mid-run) - truth| at the athlete's easy speed
    ref_abs_error_p90_pp: float
    ref_within_015_share: float  # all runs
    ref_within_015_share_in_range: float  # runs whose speeds include the reference speed
    n_ref_in_range: int
    ref_ci_coverage: float
    ref_start_within_015_share: float  # the "fresh" value (t = 0) against the declared at-ref truth
    gct_drift_coverage: float
    vo_drift_coverage: float
    seconds: float
    ms_per_run_analysis: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def random_truths(
    n_runs: int, seed: int = 0, *, max_duration_s: float = 5400.0, min_duration_s: float = 1500.0
) -> list[Any]:
    """``n_runs`` varied :class:`stridelab.sim.RunTruth` (kinds, speeds, slopes, drift, noise);
    every other run is drift-free (for the false-drift rate)."""
    from stridelab.sim import RunTruth

    rng = np.random.default_rng(seed)
    kinds: tuple[Literal["easy", "tempo", "long", "intervals", "hills"], ...] = (
        "easy",
        "easy",
        "tempo",
        "long",
        "intervals",
        "hills",
    )
    out = []
    for i in range(n_runs):
        kind = kinds[i % len(kinds)]
        drift_free = i % 2 == 0
        duration = float(rng.uniform(min_duration_s, max_duration_s))
        out.append(
            RunTruth(
                kind=kind,
                duration_s=duration,
                warmup_s=float(rng.uniform(300.0, 700.0)),
                easy_speed_m_s=float(rng.uniform(2.5, 3.4)),
                ref_speed_m_s=float(rng.uniform(2.7, 3.3)),
                balance_left_pct_at_ref=float(rng.uniform(48.5, 53.5)),
                balance_speed_slope_pp_per_m_s=float(rng.uniform(-0.5, 1.5)),
                balance_drift_pp_per_h=0.0 if drift_free else float(rng.uniform(-1.0, 2.0)),
                gct_drift_s_per_h=0.0 if drift_free else float(rng.uniform(-0.004, 0.01)),
                vertical_oscillation_drift_m_per_h=0.0 if drift_free else float(rng.uniform(-0.002, 0.004)),
                balance_noise_sd_pp=float(rng.uniform(0.3, 0.9)),
                balance_noise_phi=float(rng.uniform(0.6, 0.92)),
                dynamics_noise_phi=float(rng.uniform(0.6, 0.9)),
                terrain_amplitude_m=float(rng.uniform(0.0, 10.0)),
            )
        )
    return out


def validate_with_sim(
    n_runs: int = 200, seed: int = 0, *, max_duration_s: float = 5400.0, config: AnalysisConfig | None = None
) -> ValidationResult:
    """Simulate ``n_runs`` runs and measure CI coverage and reference-speed error of the models."""
    from stridelab.sim import simulate_run

    t0 = time.perf_counter()
    truths = random_truths(n_runs, seed, max_duration_s=max_duration_s)
    slope_hits: list[bool] = []
    drift_hits: list[bool] = []
    thirds_hits: list[bool] = []
    false_drift: list[bool] = []
    ref_err: list[float] = []
    ref_in_range: list[bool] = []
    ref_hits: list[bool] = []
    ref_start_err: list[float] = []
    gct_hits: list[bool] = []
    vo_hits: list[bool] = []
    analysis_ms: list[float] = []
    for i, truth in enumerate(truths):
        run = simulate_run(truth, seed=seed * 100_003 + i)
        laps = pd.DataFrame(
            [
                {"lap_index": lap.index, "intensity": lap.intensity, "avg_speed_m_s": lap.avg_speed_m_s}
                for lap in run.laps
            ]
        )
        a = analyze_run(run.records, laps, config=config, keep_frame=False)
        analysis_ms.append(a.elapsed_ms)
        model = a.models.get("balance")
        if model is None:
            continue
        slope = model.coefficient("speed")
        if slope is not None:
            slope_hits.append(slope.contains(truth.balance_speed_slope_pp_per_m_s))
        drift = model.coefficient("time")
        if drift is not None:
            drift_hits.append(drift.contains(truth.balance_drift_pp_per_h))
            if truth.balance_drift_pp_per_h == 0.0:
                false_drift.append(not drift.contains(0.0))
        thirds = model.thirds_difference()
        if thirds is not None and model.thirds is not None:
            # truth: drift x (mean time of the last third - mean time of the first third)
            lo = model.time_center_h - model.time_span_h / 2.0
            true_diff = truth.balance_drift_pp_per_h * (2.0 / 3.0) * model.time_span_h
            del lo
            thirds_hits.append(thirds.contains(true_diff))
        # the athlete's reference speed: her easy pace (inside easy/long runs, outside hills/tempo)
        v_ref = truth.easy_speed_m_s
        base = truth.balance_left_pct_at_ref + truth.sensor_balance_bias_pp
        true_at_ref = (
            base
            + truth.balance_speed_slope_pp_per_m_s * (v_ref - truth.ref_speed_m_s)
            + truth.balance_drift_pp_per_h * model.ref_time_h
        )
        at_ref = a.at_ref("balance", v_ref)
        if at_ref is not None:
            ref_err.append(abs(at_ref.estimate - true_at_ref))
            ref_hits.append(at_ref.contains(true_at_ref))
            lo, hi = model.speed_range_m_s or (np.nan, np.nan)
            ref_in_range.append(bool(lo <= v_ref <= hi))
        at_start = a.at_ref("balance", truth.ref_speed_m_s, at_start=True)
        if at_start is not None:
            ref_start_err.append(abs(at_start.estimate - base))
        for key, true_drift, hits in (
            ("gct", truth.gct_drift_s_per_h, gct_hits),
            ("vo", truth.vertical_oscillation_drift_m_per_h, vo_hits),
        ):
            d = a.drift_per_h(key)
            if d is not None:
                hits.append(d.contains(true_drift))
    err = np.asarray(ref_err) if ref_err else np.array([np.nan])
    start_err = np.asarray(ref_start_err) if ref_start_err else np.array([np.nan])

    def share(x: list[bool]) -> float:
        return float(np.mean(x)) if x else float("nan")

    return ValidationResult(
        n_runs=n_runs,
        n_modelled=len(ref_err),
        slope_coverage=share(slope_hits),
        drift_coverage=share(drift_hits),
        thirds_coverage=share(thirds_hits),
        n_drift_free=len(false_drift),
        false_drift_rate=share(false_drift),
        ref_abs_error_median_pp=float(np.median(err)),
        ref_abs_error_p90_pp=float(np.quantile(err, 0.9)),
        ref_within_015_share=float(np.mean(err <= 0.15)),
        ref_within_015_share_in_range=float(np.mean(err[np.asarray(ref_in_range, dtype=bool)] <= 0.15))
        if any(ref_in_range)
        else float("nan"),
        n_ref_in_range=int(np.sum(ref_in_range)),
        ref_ci_coverage=share(ref_hits),
        ref_start_within_015_share=float(np.mean(start_err <= 0.15)),
        gct_drift_coverage=share(gct_hits),
        vo_drift_coverage=share(vo_hits),
        seconds=time.perf_counter() - t0,
        ms_per_run_analysis=float(np.mean(analysis_ms)) if analysis_ms else float("nan"),
    )


def main(argv: list[str] | None = None) -> None:
    """``python -m stridelab.analysis.validation [--runs N] [--seed S] [--max-duration-s T]``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-duration-s", type=float, default=5400.0)
    args = parser.parse_args(argv)
    result = validate_with_sim(args.runs, args.seed, max_duration_s=args.max_duration_s)
    print(json.dumps(result.to_dict(), indent=2))


if __name__ == "__main__":
    main()
