"""A slice of the simulation validation (the full >= 500-per-design table: bench/validate_experiments.py).

Each design is simulated exactly as its protocol prescribes, with and without a true cue effect of
0.5 pp. Tolerances are binomial: with n experiments, the number of false positives (and of CIs missing
the truth) must not exceed the 99.9 % quantile of Binomial(n, 0.05), so a correct 5 % procedure fails
this test about once in a thousand runs. That is a coarse net: a procedure at 10 % would still pass it
three times in four with n = 150. The sharp check of the randomisation tests' size is the exact one
(the share of the protocol's possible orders that reject, averaged over the null experiments, which
must be <= 0.05 with no sampling error from the arm draw) and the enumeration tests in
test_experiment_stats.py.
"""

from __future__ import annotations

import pytest
from scipy import stats

from stridelab.analysis import validate_design


def _max_misses(n: int) -> int:
    return int(stats.binom.ppf(0.999, n, 0.05))


@pytest.mark.parametrize(
    ("design", "n", "min_power"),
    [("alternating-laps", 150, 0.9), ("alternating-runs", 80, 0.2), ("before-after", 50, None)],
)
def test_false_positives_coverage_and_power(design: str, n: int, min_power: float | None) -> None:
    row = validate_design(design, n, effect_pp=0.5, seed=99)
    assert row.n_undecidable == 0
    assert round(row.false_positive_rate * n) <= _max_misses(n), row
    assert round((1 - row.coverage) * n) <= _max_misses(n), row
    assert round((1 - row.coverage_null) * n) <= _max_misses(n), row
    # unbiased: the mean of n estimates within 4 standard errors (SE of one estimate ~ CI width / 3.92)
    assert abs(row.mean_effect_pp - 0.5) < 4 * row.median_ci_width_pp / 3.92 / n**0.5, row
    if design != "before-after":
        # randomisation tests: exact size <= alpha, whatever the simulated data
        assert row.false_positive_rate_exact <= 0.05, row
    if min_power is not None:
        assert row.power >= min_power, row
