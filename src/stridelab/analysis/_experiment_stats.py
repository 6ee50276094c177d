"""Arm comparison of an N-of-1 experiment: effect = mean(B) - mean(A) with a design-respecting test.

The result type (:class:`Comparison`) and the statistics the designs share; the designs themselves
(one class each, one verb: ``compare``) are in :mod:`._experiment_designs`. Pure numpy/scipy over
block values (see :mod:`._experiment_blocks`).

The model, per metric, over the blocks::

    y_block = W gamma + effect [block is arm B] + e

``W`` is the design's nuisance part: run fixed effects and a within-run time trend (fatigue drift) for
``alternating-laps``; an intercept and a linear trend over days for ``alternating-runs``; an intercept,
the season trend over days and the week's running load for ``before-after``.

Inference follows the randomisation the protocol prescribes:

* randomised designs (alternating laps or runs): a **randomisation (permutation) test**. The arm
  order is randomised within consecutive pairs of blocks, so the reference set is every swap within
  pairs (or, when the blocks do not form pairs, every relabelling within a run / over all runs that
  keeps the counts). The statistic is the least-squares effect with ``W`` partialled out; the test is
  exact (enumerated when there are at most ``max_exact`` assignments, else Monte Carlo). The 95 % CI
  inverts the test (Hodges-Lehmann style: every shift ``d`` not rejected at 5 % when the B blocks
  are shifted by ``-d``). With too few possible assignments to ever reach p < 0.05 the test cannot be
  decisive; the OLS t interval is then reported and the method says so.
* ``before-after`` is not randomised: OLS with Newey-West (HAC, 1 lag, small-sample corrected) errors
  and t critical values. It is an observational comparison and the result says so.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal, get_args

from stridelab.analysis._experiment_blocks import EXPERIMENT_METRICS
from stridelab.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")

__all__ = [
    "DESIGNS",
    "MIN_EFFECT",
    "Comparison",
    "DesignName",
    "arm_assignments",
    "attained_alpha",
    "blocks_needed",
    "design_error",
    "design_name",
    "invert_test",
    "min_randomised_blocks",
    "perm_pvalue",
    "randomisation_strata",
    "residual_maker",
]

#: the experiment designs (see :mod:`._experiment_designs`, one class each)
DesignName = Literal["alternating-laps", "alternating-runs", "before-after"]
DESIGNS: Final[tuple[DesignName, ...]] = get_args(DesignName)
#: smallest difference worth a cue, per metric (SI), used for "blocks needed" when the effect is ~0
MIN_EFFECT: Final[dict[str, float]] = {"balance": 0.3, "gct": 0.003, "vo": 0.002, "cadence": 1.0}
_PACE_GAP_M_S: Final[float] = 0.15
_BLOCK_PACE_SPREAD_M_S: Final[float] = 0.5


@dataclass(frozen=True, slots=True)
class Comparison:
    """The arm comparison of one metric (SI units; balance in percentage points)."""

    metric: str
    arms: tuple[str, str]
    design: DesignName
    effect: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    method: str
    n_blocks: int
    n_a: int
    n_b: int
    n_runs: int
    block_sd: float | None
    n_blocks_needed: int | None
    p_value_model: float | None = None
    n_assignments: int | None = None
    mean_a: float | None = None
    mean_b: float | None = None
    speed_a_m_s: float | None = None
    speed_b_m_s: float | None = None
    ref_speed_m_s: float | None = None
    confidence: float = 0.95
    #: the randomisation test's exact false-positive rate at ``1 - confidence`` given these blocks:
    #: the share of the protocol's possible arm assignments that would give p < alpha with no effect
    #: (≤ alpha by construction; below it because p-values are discrete). None without such a test.
    attained_alpha: float | None = None
    messages: list[str] = field(default_factory=list)

    @property
    def decided(self) -> bool:
        """True when the CI excludes zero."""
        return self.ci_low is not None and self.ci_high is not None and (self.ci_low > 0 or self.ci_high < 0)

    def scaled(self) -> dict[str, Any]:
        """Presentation units (pp, ms, mm, spm)."""
        unit, f, what = EXPERIMENT_METRICS[self.metric]

        def s(x: float | None) -> float | None:
            return None if x is None or not math.isfinite(x) else x * f

        return {
            "metric": self.metric,
            "what": what,
            "unit": unit,
            "effect": s(self.effect),
            "ci_low": s(self.ci_low),
            "ci_high": s(self.ci_high),
            "p_value": self.p_value,
            "p_value_model": self.p_value_model,
            "method": self.method,
            "n_blocks": self.n_blocks,
            "n_blocks_a": self.n_a,
            "n_blocks_b": self.n_b,
            "n_runs": self.n_runs,
            "block_sd": s(self.block_sd),
            "effect_in_block_sds": (
                self.effect / self.block_sd
                if self.effect is not None and self.block_sd and self.block_sd > 0
                else None
            ),
            "n_blocks_needed": self.n_blocks_needed,
            "n_assignments": self.n_assignments,
            "attained_alpha": self.attained_alpha,
            "mean_a": s(self.mean_a),
            "mean_b": s(self.mean_b),
            "speed_a_m_s": self.speed_a_m_s,
            "speed_b_m_s": self.speed_b_m_s,
            "ref_speed_m_s": self.ref_speed_m_s,
            "messages": list(self.messages),
        }


def design_error(design: object) -> ValueError:
    """The uniform argument error for an unknown design."""
    quoted = ", ".join(repr(d) for d in DESIGNS)
    return ValueError(
        f"Invalid value for the 'design' parameter. Allowed values are {quoted}, but got {design!r} instead."
    )


def design_name(design: object) -> DesignName:
    """``design`` as a :data:`DesignName`; raises :func:`design_error` for anything else."""
    for name in DESIGNS:
        if design == name:
            return name
    raise design_error(design)


def blocks_needed(
    block_sd: float, effect: float, *, alpha: float = 0.05, power: float = 0.8, minimum: int = 4
) -> int:
    """Total blocks (both arms, equal split) for ``power`` at two-sided ``alpha`` to detect ``effect``
    when blocks scatter by ``block_sd`` around their arm mean (normal approximation, rounded up to an
    even number, at least ``minimum``)."""
    from scipy import stats  # lazy: importing scipy.stats costs ~0.5 s

    if not (block_sd > 0 and effect != 0 and math.isfinite(block_sd) and math.isfinite(effect)):
        return minimum
    z = float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))
    n = 4.0 * (z * block_sd / abs(effect)) ** 2
    return max(minimum, 2 * math.ceil(n / 2.0))


def min_randomised_blocks(alpha: float) -> int:
    """Blocks (in pairs) needed before a within-pair randomisation test can reach p < alpha at all:
    2 / 2**pairs <= alpha."""
    pairs = math.ceil(math.log2(2.0 / alpha))
    return 2 * pairs


# ---------------------------------------------------------------------------------------------- helpers
def residual_maker(w: np.ndarray) -> np.ndarray:
    """M = I - W (W'W)^+ W'."""
    n = w.shape[0]
    if w.shape[1] == 0:
        return np.eye(n)
    m: np.ndarray = np.eye(n) - w @ np.linalg.pinv(w)
    return m


def randomisation_strata(
    order_keys: list[tuple[Any, float]],
    z: np.ndarray,
    group: np.ndarray,
    size: int,
    slots: Sequence[int | None] | None = None,
) -> tuple[list[np.ndarray], str, int]:
    """Randomisation strata, the kind of unit, and how many blocks are held fixed.

    With ``slots`` (the blocks' positions among the tagged blocks, counted before any was dropped:
    within a run for laps, among the experiment's tagged runs for runs), the strata are the protocol's
    units ``slot // size``: blocks of a unit that lost a member are held at their arms (conditioning
    on them keeps the test exact), where consecutive grouping would shift every later unit and test
    against a reference set the protocol never drew.
    Otherwise consecutive runs of ``size`` blocks (in time order, within each group), each holding
    each arm ``size / 2`` times. When the blocks do not follow that pattern, the groups themselves
    (relabelling within a group, keeping its counts)."""
    strata: list[np.ndarray] = []
    ok = True
    n_fixed = 0
    known = [int(sl) for sl in slots if sl is not None] if slots is not None else []
    if len(known) == z.size and len(set(zip(group.tolist(), known, strict=True))) == z.size:
        units: dict[tuple[int, int], list[int]] = {}
        for i, sl in enumerate(known):
            units.setdefault((int(group[i]), sl // size), []).append(i)
        for key in sorted(units):
            idx = np.asarray(units[key])
            if idx.size < size:
                n_fixed += idx.size
            elif 2 * int(z[idx].sum()) == size:
                strata.append(idx)
            else:
                ok = False
                break
        if ok and strata:
            return strata, ("pairs" if size == 2 else f"blocks of {size}"), n_fixed
        strata, ok, n_fixed = [], True, 0
    for gval in np.unique(group):
        idx = np.flatnonzero(group == gval)
        idx = idx[np.argsort([order_keys[i][1] for i in idx], kind="stable")]
        # a tail shorter than ``size`` stays fixed (it carries no randomised contrast)
        for k in range(0, idx.size - size + 1, size):
            chunk = idx[k : k + size]
            if 2 * int(z[chunk].sum()) != size:
                ok = False
                break
            strata.append(chunk)
        n_fixed += idx.size % size
        if not ok:
            break
    if ok and strata:
        return strata, ("pairs" if size == 2 else f"blocks of {size}"), n_fixed
    return [np.flatnonzero(group == gval) for gval in np.unique(group)], "groups", 0


def arm_assignments(
    strata: list[np.ndarray], z: np.ndarray, n: int, rng: np.random.Generator, max_exact: int, n_mc: int
) -> tuple[np.ndarray, int, bool]:
    """Matrix of arm assignments (rows) from the randomisation distribution; the number of distinct
    assignments; and whether the set is complete (exact) rather than Monte Carlo."""
    per: list[list[tuple[int, ...]]] = []
    total = 1
    for s in strata:
        k = int(z[s].sum())
        total *= math.comb(s.size, k)
    if total <= max_exact:
        for s in strata:
            k = int(z[s].sum())
            per.append([tuple(int(s[i]) for i in c) for c in itertools.combinations(range(s.size), k)])
        rows = np.zeros((total, n), dtype=float)
        fixed = np.setdiff1d(np.arange(n), np.concatenate(strata)) if strata else np.arange(n)
        rows[:, fixed] = z[fixed]
        for r, combo in enumerate(itertools.product(*per)):
            for ones in combo:
                rows[r, list(ones)] = 1.0
        return rows, total, True
    rows = np.tile(z.astype(float), (n_mc + 1, 1))
    for s in strata:
        keys = rng.random((n_mc, s.size))
        perm = np.argsort(keys, axis=1)
        rows[1:, s] = z[s][perm]
    return rows, total, False


def attained_alpha(a: np.ndarray, tol: float, alpha: float) -> float:
    """Share of the reference assignments whose own p-value (each taken in turn as the observed one,
    ties counted against it as in :func:`perm_pvalue`) would be < ``alpha``: the test's exact size
    under the sharp null given the data."""
    s = np.sort(np.abs(a))
    ge = s.size - np.searchsorted(s, np.abs(a) - tol, side="left")
    return float(np.mean(ge / s.size < alpha))


def perm_pvalue(a: np.ndarray, b: np.ndarray, a_obs: float, delta: float, tol: float) -> float:
    stat = np.abs(a - delta * b)
    return float(np.mean(stat >= abs(a_obs - delta) - tol))


def invert_test(
    a: np.ndarray, b: np.ndarray, a_obs: float, scale: float, alpha: float, tol: float
) -> tuple[float, float]:
    """The confidence interval {d : p(d) > alpha} by bracketing and bisection on each side of a_obs."""
    bounds: list[float] = []
    for sign in (-1.0, 1.0):
        inside, step = 0.0, max(scale, 1e-9)
        out = sign * step
        k = 0
        while perm_pvalue(a, b, a_obs, a_obs + out, tol) > alpha and k < 60:
            inside, out, k = out, out * 2.0, k + 1
        for _ in range(40):
            mid = 0.5 * (inside + out)
            if perm_pvalue(a, b, a_obs, a_obs + mid, tol) > alpha:
                inside = mid
            else:
                out = mid
        bounds.append(a_obs + 0.5 * (inside + out))
    return bounds[0], bounds[1]
