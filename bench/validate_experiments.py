"""Validate the N-of-1 experiment analysis on the synthetic runner: power, false-positive rate and CI
coverage per design over simulated experiments (in memory, no FIT files).

    python bench/validate_experiments.py            # 500 + 500 experiments per design
    python bench/validate_experiments.py --n 100 --json
    python bench/validate_experiments.py --check    # the suite's former full-size checks, met / not met
    python bench/validate_experiments.py --peeking  # analysed after every run: old rule vs alpha spending
    python bench/validate_experiments.py --noise-model both --n 200   # issue 13 table, both noise models

For each design, ``n`` experiments with a true cue effect of ``--effect`` pp (GCT balance, left share)
and ``n`` without any effect are simulated exactly as the protocol prescribes; see
:mod:`stridelab.analysis._experiment_validation` for the noise model.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from scipy import stats

from stridelab.analysis import DESIGNS, validate_design, validate_peeking

#: the sizes, seed and power claims that tests/analysis/experiments/test_experiment_validation.py
#: ran before issue 12
#: (it now runs a reduced, seeded slice with binomial thresholds at its own sizes)
CHECK_SIZES: dict[str, tuple[int, float | None]] = {
    "alternating-laps": (150, 0.9),
    "alternating-runs": (80, 0.2),
    "before-after": (50, None),
}
CHECK_SEED = 99


def _max_misses(n: int) -> int:
    """Misses (false positives, CIs missing the truth) allowed out of n: the 99.9 % quantile of
    Binomial(n, 0.05), so a correct 5 % procedure fails a check about once in a thousand seeds."""
    return int(stats.binom.ppf(0.999, n, 0.05))


def full_size_checks(row: Any, n: int, min_power: float | None) -> list[tuple[str, str, bool]]:
    """(goal, figure, met) of each check the suite ran at full size before issue 12 (same thresholds)."""
    out = [
        ("no undecidable experiment", str(row.n_undecidable), row.n_undecidable == 0),
        (
            f"false positives <= {_max_misses(n)} of {n}",
            str(round(row.false_positive_rate * n)),
            round(row.false_positive_rate * n) <= _max_misses(n),
        ),
        (
            f"CIs missing the effect <= {_max_misses(n)} of {n}",
            str(round((1 - row.coverage) * n)),
            round((1 - row.coverage) * n) <= _max_misses(n),
        ),
        (
            f"CIs missing 0 (null) <= {_max_misses(n)} of {n}",
            str(round((1 - row.coverage_null) * n)),
            round((1 - row.coverage_null) * n) <= _max_misses(n),
        ),
    ]
    bound = 4 * row.median_ci_width_pp / 3.92 / n**0.5
    out.append(
        (
            f"|mean effect - {row.true_effect_pp}| < {bound:.3f} pp (4 SE)",
            f"{abs(row.mean_effect_pp - row.true_effect_pp):.3f}",
            abs(row.mean_effect_pp - row.true_effect_pp) < bound,
        )
    )
    if row.design != "before-after":
        out.append(
            (
                "exact size <= 0.05",
                f"{row.false_positive_rate_exact:.4f}",
                row.false_positive_rate_exact <= 0.05,
            )
        )
    if min_power is not None:
        out.append((f"power >= {min_power}", f"{row.power:.3f}", row.power >= min_power))
    return out


def check(designs: list[str]) -> int:
    """The former suite sizes (150 / 80 / 50 experiments, seed 99, effect 0.5 pp): goal, figure, met."""
    failed = 0
    for design in designs:
        n, min_power = CHECK_SIZES[design]
        row = validate_design(design, n, effect_pp=0.5, seed=CHECK_SEED)
        print(f"{design}: {n} + {n} experiments, seed {CHECK_SEED}, {row.seconds:.0f} s")
        for goal, figure, met in full_size_checks(row, n, min_power):
            failed += not met
            print(f"  {goal:<44} {figure:>8}  {'met' if met else 'NOT met'}")
    return 1 if failed else 0


#: the goal of issue 13: analysing after every run keeps the false-positive rate at most this
PEEKING_GOAL = 0.06


def peeking(designs: list[str], n: int, seed: int, *, fast: bool, power_effect: float) -> int:
    """Every experiment analysed after each of its runs; the share stopped with a verdict when nothing
    happened (old rule: first p < 0.05; alpha spending: first p < the look's nominal level), with the
    binomial upper 95 % bound; power with ``power_effect`` pp under both rules. Goal, figure, met."""
    failed = 0
    kind = "block-level noise model (fast)" if fast else "full record simulation"
    print(
        f"Peeking: every experiment analysed after each run, {n} experiments per design, seed {seed}, "
        f"{kind}; goal: false-positive rate <= {PEEKING_GOAL:.0%} "
        "(alpha spending, O'Brien-Fleming-type Lan-DeMets)"
    )
    head = (
        f"{'design':<18} {'looks':>5} {'FPR old':>8} {'FPR spend':>9} {'up95':>6} {'FPR final':>9} "
        f"{'pow old':>8} {'pow spend':>9} {'s':>5}  goal met"
    )
    print(head)
    print("-" * len(head))
    for design in designs:
        null = validate_peeking(design, n, effect_pp=0.0, seed=seed, fast=fast)  # type: ignore[arg-type]
        eff = validate_peeking(design, n, effect_pp=power_effect, seed=seed + 1, fast=fast)  # type: ignore[arg-type]
        k = round(null.rate_peeking_spending * n)
        upper = float(stats.beta.ppf(0.95, k + 1, n - k)) if k < n else 1.0  # one-sided Clopper-Pearson
        met = null.rate_peeking_spending <= PEEKING_GOAL
        failed += not met
        print(
            f"{design:<18} {null.looks:>5} {null.rate_peeking_naive:>8.3f} "
            f"{null.rate_peeking_spending:>9.3f} {upper:>6.3f} {null.rate_final_only:>9.3f} "
            f"{eff.rate_peeking_naive:>8.3f} "
            f"{eff.rate_peeking_spending:>9.3f} {null.seconds + eff.seconds:>5.0f}  "
            f"{'met' if met else 'NOT met'}"
        )
    print(
        "FPR old = P(some look has p < 0.05 | no effect); FPR spend = P(some look has p < its nominal "
        "level); up95 = one-sided 95 % Clopper-Pearson bound of FPR spend; FPR final = one look at the "
        f"planned length; pow = the same shares with a true effect of {power_effect} pp"
    )
    return 1 if failed else 0


POWER_EFFECTS_PP = (0.3, 0.6)


def noise_table(
    models: list[str],
    n: int,
    seed: int,
    designs: list[str] | None = None,
    *,
    power_n: int | None = None,
    echo: bool = False,
) -> list[dict[str, Any]]:
    """Issue 13's experiment figures per noise model (records simulated with
    ``stridelab.sim.NOISE_MODELS[model]``): false positives at one look at the planned length, the
    share stopped with a verdict when analysed after every run (alpha spending; peer: the old rule,
    first p < 0.05), and power at +0.3 and +0.6 pp. ``n`` experiments per design, effect and model
    (``power_n`` for the power rows, default ``n``; 0 leaves them out); each false-positive row
    carries its 95 % Clopper-Pearson interval. ``echo`` prints every row as it is measured."""
    out: list[dict[str, Any]] = []
    n_pow = n if power_n is None else power_n
    done = 0

    def progress() -> None:
        nonlocal done
        for r in out[done:]:
            print(f"# {r['figure']}: {r['measured']}", flush=True)
        done = len(out)

    for model in models:
        for design in designs or list(DESIGNS):
            peek = validate_peeking(design, n, effect_pp=0.0, seed=seed, noise_model=model)  # type: ignore[arg-type]
            k = round(peek.rate_peeking_spending * n)
            k1 = round(peek.rate_final_only * n)
            out.append(
                {
                    "figure": f"[{model}] {design}: false positives, one look at the planned length "
                    f"(n={n}, {k1}; 95 % CI {_cp(k1, n)})",
                    "goal": "<= 0.06",
                    "measured": f"{peek.rate_final_only:.3f}",
                    "peer_ratio": None,
                    "met": bool(peek.rate_final_only <= PEEKING_GOAL),
                }
            )
            out.append(
                {
                    "figure": f"[{model}] {design}: false positives, a look after every run "
                    f"(n={n}, {k}; 95 % CI {_cp(k, n)})",
                    "goal": "<= 0.06",
                    "measured": f"{peek.rate_peeking_spending:.3f}",
                    "peer_ratio": (
                        peek.rate_peeking_spending / peek.rate_peeking_naive
                        if peek.rate_peeking_naive > 0
                        else None
                    ),
                    "peer": f"the old rule (first p < 0.05): {peek.rate_peeking_naive:.3f}",
                    "met": bool(peek.rate_peeking_spending <= PEEKING_GOAL),
                }
            )
            if echo:
                progress()
            for eff in POWER_EFFECTS_PP if n_pow else ():
                pw = validate_peeking(design, n_pow, effect_pp=eff, seed=seed + 1, noise_model=model)  # type: ignore[arg-type]
                out.append(
                    {
                        "figure": f"[{model}] {design}: power at +{eff} pp, planned length (n={n_pow})",
                        "goal": "reported",
                        "measured": f"{pw.rate_final_only:.3f}",
                        "peer_ratio": None,
                        "met": True,
                    }
                )
                if echo:
                    progress()
    return out


def _cp(k: int, n: int) -> str:
    """Two-sided 95 % Clopper-Pearson interval of k successes out of n, as "lo-hi"."""
    lo = float(stats.beta.ppf(0.025, k, n - k + 1)) if k > 0 else 0.0
    hi = float(stats.beta.ppf(0.975, k + 1, n - k)) if k < n else 1.0
    return f"{lo:.3f}-{hi:.3f}"


def print_table(rows: list[dict[str, Any]]) -> int:
    w = max(len(r["figure"]) for r in rows)
    print(f"{'figure':<{w}}  {'goal':<9} {'measured':>8}  met")
    for r in rows:
        print(f"{r['figure']:<{w}}  {r['goal']:<9} {r['measured']:>8}  {'met' if r['met'] else 'NOT met'}")
    return 0 if all(r["met"] for r in rows) else 1


def rows(quick: bool = False) -> list[dict[str, Any]]:
    """The ``bench/run_all.py`` protocol: the suite's former full-size checks per design (``--check``;
    ``quick``: a fifth of the experiments, same thresholds scaled by the binomial bound) and the
    peeking goal (block-level noise model; ratio: the false-positive rate with alpha spending over the
    old rule's)."""
    out: list[dict[str, Any]] = []
    for design in DESIGNS:
        n, min_power = CHECK_SIZES[design]
        n = max(20, n // 5) if quick else n
        row = validate_design(design, n, effect_pp=0.5, seed=CHECK_SEED)
        for goal, figure, met in full_size_checks(row, n, min_power if not quick else None):
            out.append(
                {
                    "figure": f"{design}: {goal}",
                    "goal": goal,
                    "measured": figure,
                    "peer_ratio": None,
                    "met": bool(met),
                }
            )
    n_peek = 100 if quick else 500
    for design in DESIGNS:
        null = validate_peeking(design, n_peek, effect_pp=0.0, seed=2026, fast=True)  # type: ignore[arg-type]
        out.append(
            {
                "figure": f"{design}: false positives when analysed after every run ({n_peek} experiments)",
                "goal": f"<= {PEEKING_GOAL}",
                "measured": f"{null.rate_peeking_spending:.3f}",
                "peer_ratio": (
                    null.rate_peeking_spending / null.rate_peeking_naive
                    if null.rate_peeking_naive > 0
                    else None
                ),
                "peer": "the old rule (first p < 0.05)",
                "met": bool(null.rate_peeking_spending <= PEEKING_GOAL),
            }
        )
    out += noise_table(["ar1", "fitted"], 20 if quick else 200, 2026)
    return out


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
    parser.add_argument(
        "--check",
        action="store_true",
        help="run the suite's former full-size checks (sizes and seed fixed) and print met / not met",
    )
    parser.add_argument(
        "--peeking",
        action="store_true",
        help="analyse every experiment after each run: false positives of the old rule vs alpha spending",
    )
    parser.add_argument(
        "--fast", action="store_true", help="--peeking: block-level noise model instead of simulated records"
    )
    parser.add_argument(
        "--noise-model",
        choices=("ar1", "fitted", "both"),
        help="issue 13 table under this within-run noise model (records simulated; --n per design)",
    )
    parser.add_argument(
        "--power-n", type=int, help="--noise-model: experiments per power row (default --n; 0: none)"
    )
    args = parser.parse_args(argv)
    if args.noise_model:
        models = ["ar1", "fitted"] if args.noise_model == "both" else [args.noise_model]
        t0 = time.process_time()
        code = print_table(
            noise_table(models, args.n, args.seed, args.design, power_n=args.power_n, echo=True)
        )
        print(f"# {time.process_time() - t0:.0f} s CPU")
        return code
    if args.peeking:
        return peeking(
            args.design or list(DESIGNS), args.n, args.seed, fast=args.fast, power_effect=args.effect
        )
    if args.check:
        return check(args.design or list(DESIGNS))
    t0 = time.perf_counter()
    rows = [
        validate_design(
            d, args.n, effect_pp=args.effect, seed=args.seed, block_sd_pp=args.block_sd, run_sd_pp=args.run_sd
        )
        for d in (args.design or DESIGNS)
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
