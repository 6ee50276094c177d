"""OLS with a *parametric* residual covariance: fast AR(1) + slow wander + white, fitted with the
regression's own bias taken into account.

Why not a kernel HAC (:mod:`stridelab.analysis._hac`): real running-dynamics residuals are not AR(1).
On the shared FIT files the balance residual autocorrelation is 0.95-0.99 at 1 s and still 0.15-0.40
at 60 s: a fast part (Garmin's running average over recent steps, correlation time ~10-30 s) plus a
slow wander of form (correlation time minutes). A run of 25-90 min holds only a handful of wander
periods, so every nonparametric long-run variance estimator (Bartlett with b = 1 and fixed-b critical
values, equal-weighted cosines with t critical values, batch means) averages the spectrum over
frequencies where it has already fallen and under-covers (86-90 % for a drift slope in our
simulations, see docs/analysis.md). A parametric model extrapolates the spectrum to frequency zero.

The model of the residual covariance at time lag ``h`` seconds::

    gamma(h) = s_white^2 [h = 0] + s_fast^2 r_fast^|h| + s_slow^2 r_slow^|h|

Its parameters are estimated from the sample autocovariances of the OLS residuals at lags 0 ... ~15
min, *matching their exact expectation* ``E[u' L_h u] = tr(L_h M Sigma M)`` (``M`` the residual maker
of the design, gaps in the records included): the regression removes the low frequencies of the
wander from the residuals (a drift term eats most of it), so naive residual autocovariances would
understate it badly in a short run. ``r_fast`` and ``r_slow`` are chosen on a grid, the three
variances by non-negative least squares for each grid point; as the slow correlation time is poorly
identified in a short run, of the grid points that fit within 25 % of the best misfit the one with
the largest long-run variance is taken (without this, 90 % coverage instead of 95 %). The covariance
of the OLS coefficients is then the sandwich ``(X'X)^-1 X' Sigma X (X'X)^-1`` with this ``Sigma``
(exponential kernels applied by recursive filters on the 1-s grid, O(n)).

The variance of the slow part is estimated from few effective observations, so intervals use a t
quantile whose degrees of freedom count the wander periods in the run (``span / (2 tau_slow)``,
between 4 and 60) rather than the normal quantile; this and the grid were validated by simulation on
the noise model fitted to the real files and on the plain AR(1) model (bench/validate_uncertainty.py).
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stridelab.analysis._hac import LinearFit
from stridelab.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")

__all__ = [
    "NoiseFit",
    "expected_residual_autocov",
    "expected_residual_autocov_grid",
    "parametric_ols",
    "parametric_ols_noise",
    "residual_autocov",
    "single_thread_blas",
]

#: lag-1 correlations tried for the fast (averaging) component, and correlation times (s) of the slow one
_FAST_R: tuple[float, ...] = (0.5, 0.7, 0.8, 0.87, 0.92, 0.95, 0.97)
_SLOW_TAU_S: tuple[float, ...] = (60.0, 120.0, 240.0, 480.0, 960.0)
#: grid points whose autocovariance misfit is within this fraction of the best are equally plausible
#: (the slow correlation time is poorly identified in a short run); of those, the one with the
#: largest long-run variance is used
_LOSS_TOLERANCE = 0.25
_LAGS_S: tuple[int, ...] = (0, 1, 2, 3, 5, 8, 12, 20, 30, 45, 60, 90, 120, 180, 240, 300, 400, 500, 700, 900)


@dataclass(frozen=True, slots=True)
class NoiseFit:
    """The fitted residual covariance: variances (unit of y squared) and correlation parameters."""

    white_var: float
    fast_var: float
    fast_r: float
    slow_var: float
    slow_tau_s: float
    df: float

    def components(self) -> list[tuple[float, float]]:
        """(variance, lag-1 correlation) of each component (white: correlation 0)."""
        return [
            (self.white_var, 0.0),
            (self.fast_var, self.fast_r),
            (self.slow_var, math.exp(-1.0 / self.slow_tau_s)),
        ]


def _exp_kernel(v: np.ndarray, r: float) -> np.ndarray:
    """``Phi v`` with ``Phi[i, j] = r^|i - j|`` (columns of ``v`` along axis 0)."""
    if r <= 0.0:
        return v.copy()
    from scipy.signal import lfilter  # scipy on first use: a read command must not pay for it

    fwd = lfilter([1.0], [1.0, -r], v, axis=0)
    bwd = lfilter([1.0], [1.0, -r], v[::-1], axis=0)[::-1]
    return np.asarray(fwd + bwd - v)


def residual_autocov(u_grid: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """``sum_t u[t] u[t + h]`` for every lag ``h`` (u zero-filled where there is no sample)."""
    n = u_grid.size
    return np.array([float(u_grid[: n - h] @ u_grid[h:]) if h < n else 0.0 for h in lags])


def expected_residual_autocov(
    mask: np.ndarray,
    xg: np.ndarray,
    bg: np.ndarray,
    r: float,
    lags: np.ndarray,
    *,
    _fx: np.ndarray | None = None,
    _pairs: np.ndarray | None = None,
) -> np.ndarray:
    """``E[sum_t u[t] u[t + h]]`` for the residuals ``u = M e`` of a linear fit, ``Cov(e) = Phi(r)`` on
    the 1-s grid.

    ``mask`` marks the grid seconds with a sample; ``xg`` (grid x k) is the design and ``bg`` the
    estimator's weights (``beta = bg' y``; OLS: ``bg = X (X'X)^-1``, IV: ``Z (X'Z)^-1``), both zero off
    the mask, so ``M = D - xg bg'``. Uses ``M Phi M' = D Phi D - X B' Phi D - D Phi B X' + X A X'`` with
    ``A = B' Phi B``: only ``Phi B`` needs a filter, and the three lag sums are FFT cross-correlations
    (all lags at once, one inverse FFT)."""
    n = mask.size
    lags = np.asarray(lags, dtype=int)
    nfft = 1 << math.ceil(math.log2(2 * n))
    fx = np.fft.rfft(xg, n=nfft, axis=0) if _fx is None else _fx
    if _pairs is None:
        fm = np.fft.rfft(mask.astype(float), n=nfft)
        _pairs = np.rint(np.fft.irfft(np.conj(fm) * fm, n=nfft)[lags])
    pb = _exp_kernel(bg, r)
    a = bg.T @ pb
    fpm = np.fft.rfft(pb * mask[:, None], n=nfft, axis=0)
    z = np.sum(np.conj(fx) * fpm, axis=1)  # irfft(z)[h] = sum_t X[t] . (Phi B)[t + h]; at -h the reverse
    w = np.einsum(
        "fd,fc,cd->f", np.conj(fx), fx, a, optimize=False
    )  # irfft(w)[-h] = sum_t (X A)[t] . X[t + h]
    cross = np.fft.irfft(z + np.conj(z - w), n=nfft)[lags]
    t1 = (r**lags if r > 0.0 else (lags == 0).astype(float)) * _pairs
    out = t1 - cross
    out[lags >= n] = 0.0
    return np.asarray(out)


def expected_residual_autocov_grid(
    mask: np.ndarray, xg: np.ndarray, bg: np.ndarray, rs: Sequence[float], lags: np.ndarray
) -> np.ndarray:
    """:func:`expected_residual_autocov` for every correlation in ``rs`` at once (rows), unscaled.

    Same quantity, computed in the time domain at the requested lags only: with ``P = Phi B`` (masked)
    the cross terms are ``sum_t X[t] . P[t + h] + sum_t P[t] . X[t + h] - sum_cd A[c, d] G_h[c, d]``
    where ``G_h = X[:n-h]' X[h:]`` (lagged Gram matrices of the design, computed once for the whole
    grid) and ``A = B' Phi B``. No FFT of size ``2 n`` per kernel: ~20 lags x a few columns of dot
    products instead (the FFT form's five large transforms and its ``nfft x k x k`` product were 80 %
    of ``analyze_run``). Equal to the FFT form to rounding (tests/analysis/test_analysis_uncertainty.py)."""
    n, k = xg.shape
    lags = np.asarray(lags, dtype=int)
    if np.any(lags < 0):
        raise ValueError(f"Invalid value for the 'lags' parameter: need lags >= 0, got {lags.min()}")
    lags = np.minimum(lags, n)  # a lag beyond the grid has no pairs: 0, as in the FFT form
    maskf = mask.astype(float)
    pairs = np.array([float(maskf[: n - h] @ maskf[h:]) for h in lags])
    gram = np.stack([xg[: n - h].T @ xg[h:] for h in lags])  # (lags, k, k)
    n_r = len(rs)
    pbm = np.empty((n_r, n, k))
    a_all = np.empty((n_r, k, k))
    for i, r in enumerate(rs):
        pb = _exp_kernel(bg, r)
        a_all[i] = bg.T @ pb
        np.multiply(pb, maskf[:, None], out=pbm[i])
    out = np.empty((n_r, lags.size))
    for j, h in enumerate(lags):
        fwd = pbm[:, h:, :].reshape(n_r, -1) @ xg[: n - h].reshape(-1)  # sum_t X[t] . P[t + h]
        bwd = pbm[:, : n - h, :].reshape(n_r, -1) @ xg[h:].reshape(-1)  # sum_t P[t] . X[t + h]
        quad = a_all.reshape(n_r, -1) @ gram[j].reshape(-1)  # sum_t (X A)[t] . X[t + h]
        out[:, j] = fwd + bwd - quad
    rs_arr = np.asarray(rs, dtype=float)[:, None]
    with np.errstate(divide="ignore"):
        decay = np.where(rs_arr > 0.0, np.power(np.maximum(rs_arr, 1e-300), lags[None, :]), 0.0)
    decay[:, lags == 0] = 1.0
    return np.asarray(decay * pairs[None, :] - out)


def _fit_noise(
    mask: np.ndarray,
    xg: np.ndarray,
    bg: np.ndarray,
    u_grid: np.ndarray,
    span_s: float,
    *,
    _reference: bool = False,
) -> NoiseFit:
    n = mask.size
    lags = np.array([h for h in _LAGS_S if h < max(n // 2, 2)], dtype=int)
    obs = residual_autocov(u_grid, lags)
    # longer than a third of the span: not told from drift (a short run still allows 8 min)
    taus = [t for t in _SLOW_TAU_S if t <= max(span_s / 3.0, 480.0)]
    rs = [0.0, *_FAST_R, *(math.exp(-1.0 / t) for t in taus)]
    if _reference:  # the former FFT form, one kernel at a time (kept to prove the fast path equal)
        nfft = 1 << math.ceil(math.log2(2 * n))
        fm = np.fft.rfft(mask.astype(float), n=nfft)
        pairs = np.rint(np.fft.irfft(np.conj(fm) * fm, n=nfft)[lags])
        fx = np.fft.rfft(xg, n=nfft, axis=0)
        table = np.stack([expected_residual_autocov(mask, xg, bg, r, lags, _fx=fx, _pairs=pairs) for r in rs])
    else:
        pairs = np.array([float(np.count_nonzero(mask[: n - h] & mask[h:])) for h in lags])
        table = expected_residual_autocov_grid(mask, xg, bg, rs, lags)
    scale = 1.0 / np.maximum(pairs, 1.0)
    table = table * scale[None, :]
    white = table[0]
    fast = dict(zip(_FAST_R, table[1 : 1 + len(_FAST_R)], strict=True))
    slow = dict(zip(taus, table[1 + len(_FAST_R) :], strict=True))
    target = obs * scale
    from scipy import optimize

    cands: list[tuple[float, float, NoiseFit]] = []
    for rf, ef in fast.items():
        for tau, es in slow.items():
            design = np.column_stack([white, ef, es])
            theta, _res = optimize.nnls(design, target)
            loss = float(np.sum((design @ theta - target) ** 2))
            lrv = theta[0] + theta[1] * (1 + rf) / (1 - rf) + theta[2] * 2.0 * tau
            noise = NoiseFit(float(theta[0]), float(theta[1]), rf, float(theta[2]), tau, 0.0)
            cands.append((loss, float(lrv), noise))
    best_loss = min(c[0] for c in cands)
    near = [c for c in cands if c[0] <= best_loss * (1.0 + _LOSS_TOLERANCE) + 1e-300]
    fit = max(near, key=lambda c: c[1])[2]
    df = min(max(span_s / (2.0 * fit.slow_tau_s), 4.0), 60.0) if fit.slow_var > 0 else 60.0
    return NoiseFit(fit.white_var, fit.fast_var, fit.fast_r, fit.slow_var, fit.slow_tau_s, df)


def parametric_ols(
    y: np.ndarray,
    x: np.ndarray,
    names: tuple[str, ...],
    t_s: np.ndarray,
    *,
    confidence: float = 0.95,
    centers: dict[str, float] | None = None,
    instruments: np.ndarray | None = None,
) -> LinearFit:
    """Fit ``y = x @ beta + u`` by OLS (or by IV with ``instruments``, same shape as ``x``); covariance
    from the fitted parametric residual covariance (see the module docstring); ``t_s`` are the samples'
    times in seconds (gaps allowed)."""
    return parametric_ols_noise(
        y, x, names, t_s, confidence=confidence, centers=centers, instruments=instruments
    )[0]


@functools.cache
def _blas_controller() -> Any:
    """threadpoolctl's controller of the BLAS libraries loaded now (numpy's and scipy's: this module
    imports both), or None without threadpoolctl."""
    try:
        from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - a dependency; the fit is only slower without it
        return None
    return ThreadpoolController()


def single_thread_blas() -> contextlib.AbstractContextManager[Any]:
    """Context in which BLAS runs on one thread. The noise fit's products are matrix-vector products
    over the whole run (memory-bound): a second BLAS thread adds no speed, and on a busy machine it
    spins: a 24-hour run took 3.5 s of CPU with OpenBLAS's default threads, 1.2 s with one
    (``bench/speed_checks.py --only analysis``)."""
    ctl = _blas_controller()
    return ctl.limit(limits=1, user_api="blas") if ctl is not None else contextlib.nullcontext()


def parametric_ols_noise(
    y: np.ndarray,
    x: np.ndarray,
    names: tuple[str, ...],
    t_s: np.ndarray,
    *,
    confidence: float = 0.95,
    centers: dict[str, float] | None = None,
    instruments: np.ndarray | None = None,
    noise: NoiseFit | None = None,
) -> tuple[LinearFit, NoiseFit]:
    """:func:`parametric_ols` plus the fitted :class:`NoiseFit`; with ``noise`` given (e.g. from the
    same metric's main model, for its first/last-third variant) the residual covariance is not
    refitted. With ``instruments`` ``Z`` the estimate is the just-identified IV ``(Z'X)^-1 Z'y`` (a
    regressor measured with error, e.g. GPS speed, instrumented by a leave-out window mean)."""
    y = np.asarray(y, dtype="float64")
    x = np.asarray(x, dtype="float64")
    z = x if instruments is None else np.asarray(instruments, dtype="float64")
    n, k = x.shape
    if n <= k + 1 or z.shape != x.shape:
        raise ValueError(f"Invalid value for the 'x' parameter: need more rows than columns, got {n} x {k}")
    idx = np.rint(np.asarray(t_s, dtype="float64") - float(t_s[0])).astype(np.int64)
    idx, first = np.unique(idx, return_index=True)  # one sample per grid second
    y, x, z = y[first], x[first], z[first]
    n = y.size
    grid_n = int(idx[-1]) + 1
    zx = z.T @ x
    try:
        zx_inv = np.linalg.inv(zx)
    except np.linalg.LinAlgError:
        zx_inv = np.linalg.pinv(zx)
    b = z @ zx_inv.T  # beta = b' y
    beta = b.T @ y
    resid = y - x @ beta
    mask = np.zeros(grid_n, dtype=bool)
    mask[idx] = True
    xg = np.zeros((grid_n, k))
    xg[idx] = x
    bg = np.zeros((grid_n, k))
    bg[idx] = b
    u_grid = np.zeros(grid_n)
    u_grid[idx] = resid
    if noise is None:
        noise = _fit_noise(mask, xg, bg, u_grid, float(grid_n))
    # sandwich: Cov(beta) = B' Sigma B, Sigma = sum_c var_c Phi_c
    cov = np.zeros((k, k))
    for var, r in noise.components():
        if var > 0.0:
            cov += var * (bg.T @ _exp_kernel(bg, r))
    cov = 0.5 * (cov + cov.T)
    from scipy import stats

    crit = float(stats.t.ppf(0.5 + confidence / 2.0, noise.df))
    fit = LinearFit(
        names=tuple(names),
        beta=beta,
        cov=cov,
        n=n,
        bandwidth=noise.slow_tau_s,
        rho=noise.fast_r,
        resid_sd=float(np.sqrt(resid @ resid / max(n - k, 1))),
        crit=crit,
        confidence=confidence,
        centers=dict(centers or {}),
    )
    return fit, noise
