"""Validate the per-run intervals under both simulator noise models (issue 13, points 2 and 7).

Usage::

    python bench/validate_uncertainty.py [--runs 300] [--seed 0] [--method parametric|hac]

For each noise model ("fitted": slow wander, lap/run offsets and GPS speed error fitted to the real
files; "ar1": the former AR(1)-only simulator) simulates ``--runs`` varied runs
(:func:`stridelab.analysis.validation_uncertainty.validate_uncertainty`) and prints one table: goal,
figure, met. ``--method hac`` measures the former kernel HAC (VAR(1) prewhitening + AR(1) bandwidth)
on the same runs. Exit status 1 when a goal is not met.
"""

from __future__ import annotations

import argparse
import sys

from stridelab.analysis import AnalysisConfig
from stridelab.analysis.validation_uncertainty import (
    METRIC_KEYS,
    QUANTITIES,
    UncertaintyResult,
    validate_uncertainty,
)

GOAL_COVERAGE = 0.93
GOAL_FALSE_DRIFT = 0.06
GOAL_ATTENUATION = 0.03


def goal_rows(res: UncertaintyResult) -> list[tuple[str, str, bool]]:
    """(goal, figure, met) of every quantity of one noise model."""
    tag = f"[{res.noise_model}]"
    out: list[tuple[str, str, bool]] = []
    for key in METRIC_KEYS:
        for q in QUANTITIES:
            cov = res.coverage[key][q]
            goal = f"{tag} {key} {q} CI coverage >= {GOAL_COVERAGE:.2f} (n={res.n[key][q]})"
            out.append((goal, f"{cov:.3f}", cov >= GOAL_COVERAGE))
        fd = res.false_drift[key]
        goal = f"{tag} {key} false drift <= {GOAL_FALSE_DRIFT:.2f} (n={res.n_drift_free[key]})"
        out.append((goal, f"{fd:.3f}", fd <= GOAL_FALSE_DRIFT))
    for key in ("balance", "gct"):
        att = res.slope_attenuation[key]
        goal = f"{tag} {key} speed slope |bias| <= {GOAL_ATTENUATION:.2f}"
        out.append((goal, f"{att:+.3f}", abs(att) <= GOAL_ATTENUATION))
    return out


def rows(quick: bool = False) -> list[dict[str, object]]:
    """The ``bench/run_all.py`` protocol: both noise models, 300 runs each (``quick``: 60)."""
    out: list[dict[str, object]] = []
    for model in ("fitted", "ar1"):
        r = validate_uncertainty(60 if quick else 300, 0, noise_model=model, config=AnalysisConfig())
        for goal, fig, met in goal_rows(r):
            figure, _, target = goal.rpartition(" >= ") if " >= " in goal else goal.rpartition(" <= ")
            out.append(
                {
                    "figure": figure or goal,
                    "goal": (">= " if " >= " in goal else "<= ") + target,
                    "measured": fig,
                    "peer_ratio": None,
                    "met": met,
                }
            )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--method", choices=("parametric", "hac"), default="parametric")
    ap.add_argument("--models", default="fitted,ar1")
    ap.add_argument("--min-duration-s", type=float, default=1500.0)
    ap.add_argument("--max-duration-s", type=float, default=5400.0)
    args = ap.parse_args(argv)
    cfg = AnalysisConfig(interval_method=args.method)
    table: list[tuple[str, str, bool]] = []
    for model in args.models.split(","):
        r = validate_uncertainty(
            args.runs,
            args.seed,
            noise_model=model,
            config=cfg,
            min_duration_s=args.min_duration_s,
            max_duration_s=args.max_duration_s,
        )
        print(f"# {model}: {args.runs} runs, seed {args.seed}, method {args.method}, {r.cpu_s:.0f} s CPU")
        print(f"#   median CI half-widths (SI): {r.median_halfwidth}")
        table += goal_rows(r)
    width = max(len(g) for g, _, _ in table)
    print(f"{'goal':<{width}}  {'figure':>7}  met")
    for goal, fig, met in table:
        print(f"{goal:<{width}}  {fig:>7}  {'met' if met else 'NOT met'}")
    return 0 if all(m for _, _, m in table) else 1


if __name__ == "__main__":
    sys.exit(main())
