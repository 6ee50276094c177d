"""OLS with Newey–West (Bartlett-kernel HAC) standard errors, a data-driven bandwidth and fixed-b
critical values.

Why this and not the textbook Newey–West lag ``floor(4 (n/100)^(2/9))`` (≈ 9 s for an hour of 1 Hz
records): Garmin writes balance, GCT and VO at 1 Hz as a running average of recent steps, and the
underlying gait wanders slowly, so residuals stay correlated for tens of seconds to minutes. A 9-lag
Newey–West then underestimates the variance of a drift slope several-fold. We therefore

1. pick the Bartlett bandwidth with Andrews' (1991) AR(1) plug-in rule on the residuals,
   ``M = 1.1447 (alpha n)^(1/3)``, ``alpha = 4 rho^2 / ((1 - rho)^2 (1 + rho)^2)``, which grows quickly
   as the lag-1 autocorrelation rho approaches 1 (rho = 0.9 -> M ≈ 79 s, rho = 0.99 -> M ≈ 380 s for
   n = 3600);
2. use Kiefer & Vogelsang's (2005) fixed-b critical values for the Bartlett kernel instead of 1.96,
   which correct the well-known under-coverage of HAC intervals when the bandwidth is a noticeable
   fraction ``b = M / n`` of the sample.

The long-run covariance is computed with FFT cross-correlations, so its cost does not grow with the
bandwidth (a 24-hour run at 1 Hz takes a few tens of ms). Cross-checked against statsmodels'
``OLS(...).fit(cov_type="HAC")`` in the tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

from stridelab.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")

__all__ = ["LinearFit", "andrews_bandwidth", "fixed_b_critical_value", "hac_ols"]


@dataclass(frozen=True, slots=True)
class LinearFit:
    """A fitted linear model: coefficient names, estimates, HAC covariance and the critical value
    to use for two-sided intervals at ``confidence``."""

    names: tuple[str, ...]
    beta: np.ndarray
    cov: np.ndarray
    n: int
    bandwidth: float
    rho: float
    resid_sd: float
    crit: float
    confidence: float
    centers: dict[str, float] = field(default_factory=dict)

    def index(self, name: str) -> int:
        return self.names.index(name)

    def has(self, name: str) -> bool:
        return name in self.names

    def estimate(self, weights: dict[str, float]) -> tuple[float, float]:
        """Estimate and standard error of the linear combination ``sum(w * beta[name])``."""
        w = np.zeros(len(self.names))
        for name, value in weights.items():
            w[self.index(name)] = value
        est = float(w @ self.beta)
        var = float(w @ self.cov @ w)
        return est, math.sqrt(max(var, 0.0))

    def to_dict(self) -> dict[str, Any]:
        return {
            "names": list(self.names),
            "beta": [float(b) for b in self.beta],
            "cov": [[float(c) for c in row] for row in self.cov],
            "n": self.n,
            "bandwidth": self.bandwidth,
            "rho": self.rho,
            "resid_sd": self.resid_sd,
            "crit": self.crit,
            "confidence": self.confidence,
            "centers": dict(self.centers),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LinearFit:
        return cls(
            names=tuple(d["names"]),
            beta=np.asarray(d["beta"], dtype="float64"),
            cov=np.asarray(d["cov"], dtype="float64").reshape(len(d["names"]), len(d["names"])),
            n=int(d["n"]),
            bandwidth=float(d["bandwidth"]),
            rho=float(d["rho"]),
            resid_sd=float(d["resid_sd"]),
            crit=float(d["crit"]),
            confidence=float(d["confidence"]),
            centers={str(k): float(v) for k, v in d.get("centers", {}).items()},
        )


def andrews_bandwidth(resid: np.ndarray) -> tuple[float, float]:
    """Andrews (1991) AR(1) plug-in Bartlett bandwidth ``M`` (in samples) and the lag-1 correlation."""
    u = resid - resid.mean()
    n = u.size
    denom = float(u @ u)
    if n < 3 or denom <= 0.0:
        return 1.0, 0.0
    rho = float(u[1:] @ u[:-1]) / denom
    rho = min(max(rho, 0.0), 0.995)
    alpha = 4.0 * rho**2 / ((1.0 - rho) ** 2 * (1.0 + rho) ** 2)
    bandwidth = 1.1447 * (alpha * n) ** (1.0 / 3.0)
    return float(min(max(bandwidth, 1.0), n / 2.0)), rho


def andrews_bandwidth_scores(g: np.ndarray) -> tuple[float, float]:
    """Andrews (1991) bandwidth from univariate AR(1) fits to every score column (equal weights)."""
    n = g.shape[0]
    num = 0.0
    den = 0.0
    rhos = []
    for col in g.T:
        u = col - col.mean()
        d = float(u @ u)
        if d <= 0.0:
            continue
        rho = min(max(float(u[1:] @ u[:-1]) / d, -0.97), 0.97)
        sigma2 = float(np.var(u[1:] - rho * u[:-1]))
        num += 4.0 * rho**2 * sigma2**2 / ((1.0 - rho) ** 6 * (1.0 + rho) ** 2)
        den += sigma2**2 / (1.0 - rho) ** 4
        rhos.append(rho)
    if den <= 0.0:
        return 1.0, 0.0
    bandwidth = 1.1447 * (num / den * n) ** (1.0 / 3.0)
    return float(min(max(bandwidth, 1.0), n / 2.0)), float(np.mean(rhos)) if rhos else 0.0


def fixed_b_critical_value(b: float, confidence: float = 0.95) -> float:
    """Two-sided critical value of the HAC t statistic for the Bartlett kernel with bandwidth ratio
    ``b = M / n`` (Kiefer & Vogelsang 2005, polynomial fits of their simulated quantiles). For
    ``b -> 0`` this is the normal quantile; supported confidences 0.90, 0.95, 0.98 (others fall back to
    the normal quantile scaled by the 95 % correction)."""
    b = min(max(b, 0.0), 1.0)
    table = {
        0.90: (1.6449, 2.1859, 0.3142, -0.3427),
        0.95: (1.9600, 2.9694, 0.4160, -0.5324),
        0.98: (2.3263, 4.1618, 0.5567, -0.4821),
    }
    key = round(confidence, 2)
    if key in table:
        c0, c1, c2, c3 = table[key]
        return c0 + c1 * b + c2 * b**2 + c3 * b**3
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)  # stdlib: scipy.stats costs ~0.5 s to import
    c0, c1, c2, c3 = table[0.95]
    return z * (c0 + c1 * b + c2 * b**2 + c3 * b**3) / c0


def _long_run_cov(g: np.ndarray, bandwidth: float) -> np.ndarray:
    """Bartlett-weighted sum of the autocovariances of the score matrix ``g`` (n x k), unnormalised."""
    n = g.shape[0]
    max_lag = min(math.ceil(bandwidth) - 1, n - 1)
    s = g.T @ g
    if max_lag <= 0:
        return np.asarray(s)
    weights = 1.0 - np.arange(1, max_lag + 1) / bandwidth
    if max_lag <= 48:
        for lag, w in enumerate(weights, start=1):
            gamma = g[lag:].T @ g[:-lag]
            s += w * (gamma + gamma.T)
        return np.asarray(s)
    nfft = 1 << math.ceil(math.log2(2 * n))
    spec = np.fft.rfft(g, n=nfft, axis=0)  # (nfft/2+1, k)
    cross = spec[:, :, None] * np.conj(spec[:, None, :])  # (f, k, k)
    corr = np.fft.irfft(cross, n=nfft, axis=0)[1 : max_lag + 1]  # c[l, i, j] = sum_t g[t,i] g[t+l,j]
    gamma_sum = np.tensordot(weights, corr, axes=(0, 0))
    return np.asarray(s + gamma_sum + gamma_sum.T)


def hac_ols(
    y: np.ndarray,
    x: np.ndarray,
    names: tuple[str, ...],
    *,
    confidence: float = 0.95,
    bandwidth: float | None = None,
    centers: dict[str, float] | None = None,
    prewhiten: bool = False,
) -> LinearFit:
    """Fit ``y = x @ beta + u`` by OLS; covariance by Bartlett HAC with Andrews' bandwidth (unless
    ``bandwidth`` is given, in samples), small-sample factor ``n / (n - k)``, fixed-b critical value."""
    y = np.asarray(y, dtype="float64")
    x = np.asarray(x, dtype="float64")
    n, k = x.shape
    if n <= k + 1:
        raise ValueError(f"Invalid value for the 'x' parameter: need more rows than columns, got {n} x {k}")
    xtx = x.T @ x
    try:
        xtx_inv = np.linalg.inv(xtx)
    except np.linalg.LinAlgError:
        xtx_inv = np.linalg.pinv(xtx)
    beta = xtx_inv @ (x.T @ y)
    resid = y - x @ beta
    g = x * resid[:, None]
    if prewhiten and n > 4 * k:
        # Andrews & Monahan (1992): VAR(1) on the scores, HAC of the innovations, recolour
        g0, g1 = g[1:], g[:-1]
        gram = g1.T @ g1
        try:
            a = np.linalg.solve(gram, g1.T @ g0).T  # g_t = a g_{t-1} + e_t
        except np.linalg.LinAlgError:
            a = (np.linalg.pinv(gram) @ (g1.T @ g0)).T
        eig = np.abs(np.linalg.eigvals(a))
        if np.max(eig) > 0.97:  # keep the recolouring bounded (Andrews & Monahan's adjustment)
            u_, sv, vt = np.linalg.svd(a)
            a = u_ @ np.diag(np.minimum(sv, 0.97)) @ vt
        e = g0 - g1 @ a.T
        m, rho = andrews_bandwidth_scores(e)
        if bandwidth is not None:
            m = float(min(max(bandwidth, 1.0), n / 2.0))
        s_e = _long_run_cov(e, m) * (n / (n - 1))
        back = np.linalg.inv(np.eye(k) - a)
        s = back @ s_e @ back.T
        rho = andrews_bandwidth(resid)[1]
    else:
        m, rho = andrews_bandwidth(resid)
        if bandwidth is not None:
            m = float(min(max(bandwidth, 1.0), n / 2.0))
        s = _long_run_cov(g, m)
    cov = xtx_inv @ s @ xtx_inv * (n / (n - k))
    crit = fixed_b_critical_value(m / n, confidence)
    return LinearFit(
        names=tuple(names),
        beta=beta,
        cov=cov,
        n=n,
        bandwidth=m,
        rho=rho,
        resid_sd=float(np.sqrt(resid @ resid / max(n - k, 1))),
        crit=float(crit),
        confidence=confidence,
        centers=dict(centers or {}),
    )
