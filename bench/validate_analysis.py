"""Validate the per-run models on the synthetic runner at full size, with the suite's former checks.

Usage::

    python bench/validate_analysis.py [--runs 200] [--seed 0]

Runs :func:`stridelab.analysis.validation.validate_with_sim` (the table in docs/analysis.md, section 9;
``python -m stridelab.analysis.validation`` prints the raw JSON) and prints each check that
tests/analysis/test_analysis_run.py::test_drift_free_runs_rarely_show_drift_and_coverage_holds made over
200 runs before issue 12 (the suite now runs 80 runs with binomial thresholds): goal, figure, met.
Exit status 1 when a check is not met.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from stridelab.analysis.validation import validate_with_sim


def full_size_checks(r: Any) -> list[tuple[str, str, bool]]:
    """(goal, figure, met): the former suite's thresholds at 200 runs, seed 0."""
    lo = int(0.9 * r.n_runs)
    return [
        (f"{lo} <= runs modelled <= {r.n_runs}", str(r.n_modelled), lo <= r.n_modelled <= r.n_runs),
        ("speed slope CI coverage >= 0.90", f"{r.slope_coverage:.3f}", r.slope_coverage >= 0.90),
        ("drift CI coverage >= 0.90", f"{r.drift_coverage:.3f}", r.drift_coverage >= 0.90),
        ("false drift (drift-free runs) <= 0.08", f"{r.false_drift_rate:.3f}", r.false_drift_rate <= 0.08),
        (
            "within 0.15 pp at the reference speed (in range) >= 0.90",
            f"{r.ref_within_015_share_in_range:.3f}",
            r.ref_within_015_share_in_range >= 0.90,
        ),
        ("reference-speed CI coverage >= 0.90", f"{r.ref_ci_coverage:.3f}", r.ref_ci_coverage >= 0.90),
        ("GCT drift CI coverage >= 0.90", f"{r.gct_drift_coverage:.3f}", r.gct_drift_coverage >= 0.90),
        ("VO drift CI coverage >= 0.90", f"{r.vo_drift_coverage:.3f}", r.vo_drift_coverage >= 0.90),
    ]


def rows(quick: bool = False) -> list[dict[str, Any]]:
    """The ``bench/run_all.py`` protocol (no peer); ``quick``: 40 runs instead of 200 (the same
    thresholds, so a quick look can miss by chance where the full size would not)."""
    r = validate_with_sim(40 if quick else 200, seed=0)
    out = []
    for goal, figure, met in full_size_checks(r):
        name = re.sub(r"\s*(>=|<=)\s*[\d.]+$", "", re.sub(r"^[\d.]+\s*<=\s*", "", goal))
        out.append({"figure": name, "goal": goal, "measured": figure, "peer_ratio": None, "met": bool(met)})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    r = validate_with_sim(args.runs, seed=args.seed)
    print(
        f"per-run model validation: {r.n_runs} simulated runs, seed {args.seed}, {r.seconds:.1f} s "
        f"({r.ms_per_run_analysis:.0f} ms per analysis)"
    )
    checks = full_size_checks(r)
    width = max(len(goal) for goal, _, _ in checks)
    for goal, figure, met in checks:
        print(f"  {goal:<{width}}  {figure:>6}  {'met' if met else 'NOT met'}")
    return 0 if all(met for _, _, met in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
