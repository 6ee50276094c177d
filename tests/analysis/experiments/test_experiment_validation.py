"""A reduced, seeded slice of the simulation validation; the full size lives in the bench:
``python bench/validate_experiments.py`` (500 + 500 experiments per design, the table in
docs/experiments.md) and ``python bench/validate_experiments.py --check`` (the sizes this test ran before
issue 12: 150 / 80 / 50 experiments, seed 99, with these same checks at those sizes).

Each design is simulated exactly as its protocol prescribes, with and without a true cue effect of
0.5 pp. Every threshold is a binomial quantile, so that a correct method fails a check about once in a
thousand seeds (the seed is fixed, so the test itself is deterministic):

* false positives (null experiments with p < 0.05) and CI misses (experiments whose 95 % CI misses the
  truth) each count at most ``binom.ppf(0.999, n, 0.05)`` out of ``n``; pooled over the ``2n``
  experiments with and without the effect, at most ``binom.ppf(0.999, 2n, 0.05)`` misses (misses of
  the two halves are independent Binomial(n, 0.05), their sum Binomial(2n, 0.05));
* power: at least ``binom.ppf(0.001, n, p_floor)`` rejections out of ``n`` experiments with the effect,
  ``p_floor`` below the power the full-size bench measures (laps 0.992, runs 0.652 over 500), and above
  the old claims (0.9, 0.2);
* unbiased: the mean of the ``n`` estimates within 4 standard errors of the mean of 0.5 pp;
* exact size of the randomisation tests <= 0.05 (no sampling error from the arm draw: it is the share of
  the protocol's assignments that reject, averaged over the null experiments).

Why these sizes still catch a wrong method: a method whose CIs are half as wide as they should be ("SE
halved") misses ~33 % of the time (normal; 30 % for t(12), before-after); with 2n = 48 pooled
experiments (the smallest here) it passes the pooled check with probability P(Bin(48, 0.30) <= 8) =
0.03, with 2n = 80 (laps) 1e-4. The test below demonstrates it on the very experiments it simulated.
What they cannot catch: small miscalibrations such as a normal quantile instead of t(12) for
before-after (coverage 0.926 instead of 0.95), which even the 500-experiment table cannot tell apart;
that is what the exact enumeration tests in test_experiment_stats.py are for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from scipy import stats

from stridelab.analysis import validate_design

#: experiments with (and as many without) the effect, per design; the cost is the simulation
#: (~0.06 s per laps experiment, ~0.13 s runs, ~0.25 s before-after on an idle core)
N = {"alternating-laps": 40, "alternating-runs": 30, "before-after": 24}
#: a power the method must have (None: before-after has no power worth asserting, 0.108 at 0.5 pp)
POWER_FLOOR = {"alternating-laps": 0.95, "alternating-runs": 0.55, "before-after": None}
EFFECT_PP = 0.5


def _max_misses(n: int) -> int:
    return int(stats.binom.ppf(0.999, n, 0.05))


def _min_hits(n: int, power: float) -> int:
    return int(stats.binom.ppf(0.001, n, power))


def failed_checks(row: Any, n: int, power_floor: float | None) -> list[str]:
    """The checks a validation row of ``n`` + ``n`` experiments fails (empty: all hold)."""
    out: list[str] = []
    misses = round((1 - row.coverage) * n)
    misses_null = round((1 - row.coverage_null) * n)
    if row.n_undecidable != 0:
        out.append(f"undecidable experiments: {row.n_undecidable}")
    if round(row.false_positive_rate * n) > _max_misses(n):
        out.append(f"false positives {round(row.false_positive_rate * n)} > {_max_misses(n)} of {n}")
    if misses > _max_misses(n):
        out.append(f"coverage: {misses} CIs miss the effect > {_max_misses(n)} of {n}")
    if misses_null > _max_misses(n):
        out.append(f"coverage: {misses_null} CIs miss 0 > {_max_misses(n)} of {n}")
    if misses + misses_null > _max_misses(2 * n):
        out.append(f"coverage: {misses + misses_null} misses > {_max_misses(2 * n)} of {2 * n} (pooled)")
    # SE of one estimate ~ CI width / 3.92
    if not abs(row.mean_effect_pp - EFFECT_PP) < 4 * row.median_ci_width_pp / 3.92 / n**0.5:
        out.append(f"biased: mean effect {row.mean_effect_pp:.3f} pp")
    if row.design != "before-after" and not row.false_positive_rate_exact <= 0.05:
        out.append(f"exact size {row.false_positive_rate_exact:.3f} > 0.05")
    if power_floor is not None and round(row.power * n) < _min_hits(n, power_floor):
        out.append(f"power {round(row.power * n)} < {_min_hits(n, power_floor)} of {n}")
    return out


def _se_halved(compare: Callable[..., Any]) -> Callable[..., Any]:
    """A deliberately wrong method: the same estimate with a CI half as wide (and the matching p)."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        c = compare(*args, **kwargs)
        if c.effect is None or c.ci_low is None or c.ci_high is None:
            return c
        mid, half = (c.ci_low + c.ci_high) / 2, (c.ci_high - c.ci_low) / 4
        p = float(2 * stats.norm.sf(abs(mid) / (half / 1.96))) if half > 0 else c.p_value
        return dataclasses.replace(c, ci_low=mid - half, ci_high=mid + half, p_value=p)

    return broken


@pytest.mark.parametrize("design", list(N))
def test_false_positives_coverage_and_power(design: str, monkeypatch: pytest.MonkeyPatch) -> None:
    n = N[design]
    # validate_design's module: memoise its simulation so that the wrong method below is judged on the
    # very experiments the right one was (the simulation is the cost; the comparison is cheap)
    module = validate_design.__globals__
    assert "simulate_experiment" in module and "compare_arms" in module
    simulate, cache = module["simulate_experiment"], {}

    def memo(*args: Any, **kwargs: Any) -> Any:
        key = (args, tuple(sorted(kwargs.items())))
        if key not in cache:
            cache[key] = simulate(*args, **kwargs)
        return cache[key]

    monkeypatch.setitem(module, "simulate_experiment", memo)
    row = validate_design(design, n, effect_pp=EFFECT_PP, seed=99)
    assert failed_checks(row, n, POWER_FLOOR[design]) == [], row

    # the same reduced checks reject a wrong method: CIs half as wide fail the coverage checks
    monkeypatch.setitem(module, "compare_arms", _se_halved(module["compare_arms"]))
    wrong = validate_design(design, n, effect_pp=EFFECT_PP, seed=99)
    assert len(cache) == 2 * n  # no new simulation
    assert any(f.startswith("coverage") for f in failed_checks(wrong, n, POWER_FLOOR[design])), wrong


def test_fitted_noise_model_reaches_the_experiment_records() -> None:
    """Issue 13: the experiments' validation can simulate its records with the noise model fitted to
    the real files (bench/validate_experiments.py --noise-model fitted). Same seeds, same arm order:
    the fitted model's slow wander and lap offsets spread the per-lap values more than AR(1) alone,
    and a small seeded null slice still keeps its false positives at the planned length rare."""
    import numpy as np

    from stridelab.analysis import validate_peeking
    from stridelab.analysis._experiment_validation import simulate_experiment

    def lap_sd(model: str) -> float:
        sds = []
        for seed in range(4):
            blocks, _ = simulate_experiment("alternating-laps", 0.0, seed, noise_model=model)
            vals = np.array([b.values["balance"] for b in blocks], dtype=float)
            sds.append(float(np.std(vals, ddof=1)))
        return float(np.mean(sds))

    assert lap_sd("fitted") > 1.1 * lap_sd("ar1")
    with pytest.raises(ValueError, match="noise_model"):
        simulate_experiment("alternating-laps", 0.0, 0, noise_model="pink")
    null = validate_peeking("alternating-laps", 12, effect_pp=0.0, seed=5, noise_model="fitted")
    assert null.rate_final_only <= 3 / 12
