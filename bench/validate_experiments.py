"""Validate the N-of-1 experiment analysis on the synthetic runner: power, false-positive rate and CI
coverage per design over simulated experiments (in memory, no FIT files).

    python bench/validate_experiments.py            # 500 + 500 experiments per design
    python bench/validate_experiments.py --n 100 --json

For each design, ``n`` experiments with a true cue effect of ``--effect`` pp (GCT balance, left share)
and ``n`` without any effect are simulated exactly as the protocol prescribes; see
:mod:`stridelab.analysis._experiment_validation` for the noise model.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from stridelab.analysis import DESIGNS, validate_design


def _fmt(x: float) -> str:
    return "-" if x != x else f"{x:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--n", type=int, default=500, help="experiments per design and per effect (default 500)"
    )
    parser.add_argument("--effect", type=float, default=0.5, help="true cue effect in pp (default 0.5)")
    parser.add_argument("--seed", type=int, default=2026, help="master seed")
    parser.add_argument("--design", action="append", choices=DESIGNS, help="only these designs")
    parser.add_argument("--block-sd", type=float, default=0.15, help="extra per-lap noise, pp (default 0.15)")
    parser.add_argument("--run-sd", type=float, default=0.3, help="extra per-run noise, pp (default 0.3)")
    parser.add_argument("--json", action="store_true", help="print JSON rows instead of the table")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    rows = [
        validate_design(d, args.n, effect_pp=args.effect, seed=args.seed) for d in (args.design or DESIGNS)
    ]
    if args.json:
        print(json.dumps([r.to_dict() for r in rows], indent=1))
        return 0
    print(
        f"N-of-1 experiment validation: true effect {args.effect} pp, alpha 0.05, "
        f"{args.n} experiments with the effect + {args.n} without, per design (seed {args.seed}); "
        f"extra noise {args.block_sd} pp per lap, {args.run_sd} pp per run"
    )
    head = (
        f"{'design':<18} {'power':>6} {'FPR':>6} {'FPRex':>6} {'cover':>6} {'cover0':>6} "
        f"{'mean eff':>8} {'CI width':>8} {'s':>5}  method"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r.design:<18} {r.power:>6.3f} {r.false_positive_rate:>6.3f} "
            f"{_fmt(r.false_positive_rate_exact):>6} {r.coverage:>6.3f} "
            f"{r.coverage_null:>6.3f} {r.mean_effect_pp:>8.3f} {r.median_ci_width_pp:>8.3f} "
            f"{r.seconds:>5.0f}  {r.methods}"
        )
    print(
        "power = P(p < 0.05 | effect); FPR = P(p < 0.05 | no effect); FPRex = the randomisation test's exact "
        "size averaged over the null experiments (share of the protocol's arm orders that would reject; no "
        "sampling error from the arm draw, '-' for model-based tests); cover = P(CI holds the true effect); "
        "cover0 = same without effect"
    )
    n = args.n
    print(
        f"Monte Carlo error of FPR over {n} experiments: +-{1.96 * (0.05 * 0.95 / n) ** 0.5:.3f} (95 %) at a "
        "true rate of 0.05"
    )
    print(f"total {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
