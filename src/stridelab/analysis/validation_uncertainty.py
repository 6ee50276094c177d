"""Coverage of the per-run intervals under both simulator noise models (issue 13, point 2).

For every metric (balance, GCT, VO, vertical ratio) and quantity (speed slope, value at the reference
speed and time, fatigue drift) the share of simulated runs whose 95 % CI holds the declared truth, the
share of drift-free runs with a "significant" drift, and the attenuation of the speed slope (the slope
of the estimates on the truths through the origin, minus 1). ``noise_model`` is ``"fitted"`` (slow
wander, lap and run offsets, GPS speed error; :data:`stridelab.sim.NOISE_MODELS`) or ``"ar1"``.
``bench/validate_uncertainty.py`` prints the full-size table; the suite runs a small seeded slice.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stridelab.analysis._config import AnalysisConfig
from stridelab.analysis._run import analyze_run
from stridelab.analysis.validation import random_truths
from stridelab.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

__all__ = ["METRIC_KEYS", "QUANTITIES", "UncertaintyResult", "validate_uncertainty"]

METRIC_KEYS: tuple[str, ...] = ("balance", "gct", "vo", "vr")
QUANTITIES: tuple[str, ...] = ("slope", "at_ref", "drift")


@dataclass(frozen=True, slots=True)
class UncertaintyResult:
    """Per metric and quantity: coverage and the number of runs it is over."""

    noise_model: str
    n_runs: int
    coverage: dict[str, dict[str, float]] = field(default_factory=dict)
    n: dict[str, dict[str, int]] = field(default_factory=dict)
    false_drift: dict[str, float] = field(default_factory=dict)
    n_drift_free: dict[str, int] = field(default_factory=dict)
    slope_attenuation: dict[str, float] = field(default_factory=dict)
    median_halfwidth: dict[str, dict[str, float]] = field(default_factory=dict)
    cpu_s: float = 0.0


def _truths(truth: Any, v_ref: float, t_ref_h: float, v_med: float) -> dict[str, dict[str, float]]:
    """Declared truth of every metric's slope, at-reference value and drift (SI, as analysed)."""
    dv = v_ref - truth.ref_speed_m_s
    bal0 = truth.balance_left_pct_at_ref + truth.sensor_balance_bias_pp + truth.balance_run_offset_pp
    out = {
        "balance": {
            "slope": truth.balance_speed_slope_pp_per_m_s,
            "at_ref": bal0
            + truth.balance_speed_slope_pp_per_m_s * dv
            + truth.balance_drift_pp_per_h * t_ref_h,
            "drift": truth.balance_drift_pp_per_h,
        },
        "gct": {
            "slope": truth.gct_speed_slope_s_per_m_s,
            "at_ref": truth.gct_s_at_ref
            + truth.gct_speed_slope_s_per_m_s * dv
            + truth.gct_drift_s_per_h * t_ref_h,
            "drift": truth.gct_drift_s_per_h,
        },
        "vo": {
            "slope": truth.vertical_oscillation_speed_slope_m_per_m_s,
            "at_ref": truth.vertical_oscillation_m_at_ref
            + truth.vertical_oscillation_speed_slope_m_per_m_s * dv
            + truth.vertical_oscillation_drift_m_per_h * t_ref_h,
            "drift": truth.vertical_oscillation_drift_m_per_h,
        },
    }

    def vr(v: float, h: float) -> float:
        vo = (
            truth.vertical_oscillation_m_at_ref
            + truth.vertical_oscillation_speed_slope_m_per_m_s * (v - truth.ref_speed_m_s)
            + truth.vertical_oscillation_drift_m_per_h * h
        )
        spm = truth.cadence_spm_at_ref + truth.cadence_speed_slope_spm_per_m_s * (v - truth.ref_speed_m_s)
        return float(100.0 * vo / (v / (spm / 60.0)))

    out["vr"] = {
        "slope": (vr(v_med + 0.05, t_ref_h) - vr(v_med - 0.05, t_ref_h)) / 0.1,
        "at_ref": vr(v_ref, t_ref_h),
        # the drift of VR depends on speed (VR ~ VO / v): the analysis reports it at the run's median
        # speed (MetricModel.coefficient of a "times_speed" model)
        "drift": vr(v_med, 1.0) - vr(v_med, 0.0),
    }
    return out


def _vr_projection(truth: Any, run: Any, t_s: np.ndarray, v_ref: float, t_ref_h: float) -> dict[str, float]:
    """The vertical ratio's truth for a linear model: VR = 100 VO / step length is not linear in speed
    (step length = speed / step rate), so its "slope", "value at the reference" and "drift" are those
    of the least-squares projection of the noise-free VR on (1, true speed, time, grade) over the
    modelled samples - the quantities the linear model estimates."""
    elapsed = run.records["elapsed_s"].to_numpy(dtype=float)
    pos = np.searchsorted(elapsed, t_s)
    pos = np.clip(pos, 0, elapsed.size - 1)
    v = run.latent["true_speed_m_s"].to_numpy(dtype=float)[pos]
    grade = run.latent["grade_pct"].to_numpy(dtype=float)[pos]
    h = elapsed[pos] / 3600.0
    dv = v - truth.ref_speed_m_s
    vo = (
        truth.vertical_oscillation_m_at_ref
        + truth.vertical_oscillation_speed_slope_m_per_m_s * dv
        + truth.vertical_oscillation_drift_m_per_h * h
    )
    spm = truth.cadence_spm_at_ref + truth.cadence_speed_slope_spm_per_m_s * dv + 0.4 * grade
    vr = 100.0 * vo / (v / (spm / 60.0))
    x = np.column_stack([np.ones(v.size), v - v_ref, h - t_ref_h, grade])
    beta = np.linalg.lstsq(x, vr, rcond=None)[0]
    return {"slope": float(beta[1]), "at_ref": float(beta[0]), "drift": float(beta[2])}


def validate_uncertainty(
    n_runs: int = 300,
    seed: int = 0,
    *,
    noise_model: str = "fitted",
    max_duration_s: float = 5400.0,
    min_duration_s: float = 1500.0,
    config: AnalysisConfig | None = None,
) -> UncertaintyResult:
    """Simulate ``n_runs`` varied runs (:func:`random_truths`) under ``noise_model`` and measure the
    coverage of every metric's intervals."""
    from stridelab.sim import RUN_OFFSET_SD_PP, apply_noise_model, simulate_run

    cfg = config or AnalysisConfig()
    t0 = time.process_time()
    rng = np.random.default_rng(seed + 7)
    hits: dict[str, dict[str, list[bool]]] = {k: {q: [] for q in QUANTITIES} for k in METRIC_KEYS}
    widths: dict[str, dict[str, list[float]]] = {k: {q: [] for q in QUANTITIES} for k in METRIC_KEYS}
    false_drift: dict[str, list[bool]] = {k: [] for k in METRIC_KEYS}
    slope_pairs: dict[str, list[tuple[float, float]]] = {k: [] for k in METRIC_KEYS}
    for i, truth in enumerate(
        random_truths(n_runs, seed, max_duration_s=max_duration_s, min_duration_s=min_duration_s)
    ):
        if noise_model == "fitted":
            truth = apply_noise_model(truth, "fitted", scale=float(rng.uniform(0.7, 1.3)))
            truth = dataclasses.replace(
                truth, balance_run_offset_pp=float(rng.normal(0, RUN_OFFSET_SD_PP["fitted"]))
            )
        else:
            truth = apply_noise_model(truth, noise_model)
        run = simulate_run(truth, seed=seed * 100_003 + i)
        laps = pd.DataFrame(
            [
                {"lap_index": lap.index, "intensity": lap.intensity, "avg_speed_m_s": lap.avg_speed_m_s}
                for lap in run.laps
            ]
        )
        a = analyze_run(run.records, laps, config=cfg, keep_frame=True)
        v_ref = truth.easy_speed_m_s
        drift_free = truth.balance_drift_pp_per_h == 0.0
        for key in METRIC_KEYS:
            model = a.models.get(key)
            if model is None:
                continue
            center = model.fit.centers.get("speed", v_ref)
            truths = _truths(truth, v_ref, model.ref_time_h, center)[key]
            if key == "vr" and model.scale != "times_speed" and model.resid_t_s is not None:
                # VR modelled as a straight line (no speed term): its truth is the projection
                truths = _vr_projection(truth, run, model.resid_t_s, v_ref, model.ref_time_h)
            est = {
                "slope": model.coefficient("speed"),
                "at_ref": model.at_speed(v_ref),
                "drift": model.coefficient("time"),
            }
            for q, e in est.items():
                if e is None:
                    continue
                hits[key][q].append(e.contains(truths[q]))
                widths[key][q].append((e.ci_high - e.ci_low) / 2.0)
            slope = est["slope"]
            if slope is not None:
                slope_pairs[key].append((slope.estimate, truths["slope"]))
            drift = est["drift"]
            if drift_free and drift is not None:
                false_drift[key].append(not drift.contains(0.0))

    def share(x: list[bool]) -> float:
        return float(np.mean(x)) if x else float("nan")

    def attenuation(pairs: list[tuple[float, float]]) -> float:
        """Median of estimate / truth - 1 over runs whose true slope is not near 0 (a ratio of
        estimates has heavy tails, so the median, not the mean)."""
        e, t = np.asarray(pairs).T if pairs else (np.zeros(0), np.zeros(0))
        big = np.abs(t) >= 0.3 * np.max(np.abs(t)) if t.size else t.astype(bool)
        return float(np.median(e[big] / t[big]) - 1.0) if big.any() else float("nan")

    return UncertaintyResult(
        noise_model=noise_model,
        n_runs=n_runs,
        coverage={k: {q: share(hits[k][q]) for q in QUANTITIES} for k in METRIC_KEYS},
        n={k: {q: len(hits[k][q]) for q in QUANTITIES} for k in METRIC_KEYS},
        false_drift={k: share(false_drift[k]) for k in METRIC_KEYS},
        n_drift_free={k: len(false_drift[k]) for k in METRIC_KEYS},
        slope_attenuation={k: attenuation(slope_pairs[k]) for k in METRIC_KEYS},
        median_halfwidth={
            k: {q: float(np.median(widths[k][q])) if widths[k][q] else float("nan") for q in QUANTITIES}
            for k in METRIC_KEYS
        },
        cpu_s=time.process_time() - t0,
    )
