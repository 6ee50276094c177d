"""HAC OLS: agreement with statsmodels, bandwidth and critical-value behaviour."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.signal import lfilter

from stridelab.analysis._hac import _long_run_cov, andrews_bandwidth, fixed_b_critical_value, hac_ols


def _ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    return np.asarray(lfilter([1.0], [1.0, -phi], rng.standard_normal(n)))


@pytest.mark.parametrize("maxlags", [5, 80])
def test_matches_statsmodels_newey_west(maxlags: int) -> None:
    rng = np.random.default_rng(1)
    n = 1500
    x = np.column_stack([np.ones(n), rng.normal(size=n), np.linspace(-1, 1, n)])
    y = x @ np.array([50.0, 0.6, 0.3]) + _ar1(rng, n, 0.8)
    ours = hac_ols(y, x, ("const", "speed", "time"), bandwidth=maxlags + 1)
    ref = sm.OLS(y, x).fit(cov_type="HAC", cov_kwds={"maxlags": maxlags, "use_correction": True})
    np.testing.assert_allclose(ours.beta, ref.params, rtol=1e-10)
    np.testing.assert_allclose(ours.cov, ref.cov_params(), rtol=1e-8)


def test_fft_and_loop_long_run_covariance_agree() -> None:
    rng = np.random.default_rng(2)
    g = rng.normal(size=(700, 3))
    direct = g.T @ g
    bw = 120.0
    for lag in range(1, 120):
        gamma = g[lag:].T @ g[:-lag]
        direct += (1 - lag / bw) * (gamma + gamma.T)
    np.testing.assert_allclose(_long_run_cov(g, bw), direct, rtol=1e-9, atol=1e-9)


def test_bandwidth_grows_with_autocorrelation() -> None:
    rng = np.random.default_rng(3)
    widths = [andrews_bandwidth(_ar1(rng, 3600, phi))[0] for phi in (0.0, 0.5, 0.9, 0.99)]
    assert widths == sorted(widths)
    assert widths[0] < 5 and widths[-1] > 150


def test_fixed_b_critical_values() -> None:
    assert fixed_b_critical_value(0.0) == pytest.approx(1.96)
    assert fixed_b_critical_value(0.1) > fixed_b_critical_value(0.01) > 1.96
    assert fixed_b_critical_value(0.0, 0.90) == pytest.approx(1.6449)


def test_prewhitened_interval_covers_drift_of_ar1_noise() -> None:
    """95 % intervals of a drift slope under AR(1) noise (phi 0.9) cover the truth ~95 % of the time."""
    rng = np.random.default_rng(4)
    n, hits = 1800, 0
    t = np.linspace(-0.25, 0.25, n)
    x = np.column_stack([np.ones(n), t])
    for _ in range(200):
        y = 50 + 1.0 * t + 0.6 * np.sqrt(1 - 0.81) * _ar1(rng, n, 0.9)
        fit = hac_ols(y, x, ("const", "time"), prewhiten=True)
        est, se = fit.estimate({"time": 1.0})
        hits += abs(est - 1.0) <= fit.crit * se
    assert hits / 200 >= 0.9


def test_rejects_too_few_rows() -> None:
    with pytest.raises(ValueError, match="more rows than columns"):
        hac_ols(np.ones(2), np.ones((2, 2)), ("a", "b"))
