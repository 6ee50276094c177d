"""Arm comparison of an N-of-1 experiment: effect = mean(B) - mean(A) with a design-respecting test.

Pure numpy/scipy/statsmodels over block values (see :mod:`._experiment_blocks`).

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
from typing import Any, Final

import numpy as np
from scipy import stats

from stridelab.analysis._experiment_blocks import EXPERIMENT_METRICS, BlockValue, pooled_slope

__all__ = ["DESIGNS", "MIN_EFFECT", "Comparison", "blocks_needed", "compare_arms", "design_error"]

DESIGNS: Final[tuple[str, ...]] = ("alternating-laps", "alternating-runs", "before-after")
#: smallest difference worth a cue, per metric (SI), used for "blocks needed" when the effect is ~0
MIN_EFFECT: Final[dict[str, float]] = {"balance": 0.3, "gct": 0.003, "vo": 0.002, "cadence": 1.0}
_PACE_GAP_M_S: Final[float] = 0.15
_BLOCK_PACE_SPREAD_M_S: Final[float] = 0.5


@dataclass(frozen=True, slots=True)
class Comparison:
    """The arm comparison of one metric (SI units; balance in percentage points)."""

    metric: str
    arms: tuple[str, str]
    design: str
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


def blocks_needed(
    block_sd: float, effect: float, *, alpha: float = 0.05, power: float = 0.8, minimum: int = 4
) -> int:
    """Total blocks (both arms, equal split) for ``power`` at two-sided ``alpha`` to detect ``effect``
    when blocks scatter by ``block_sd`` around their arm mean (normal approximation, rounded up to an
    even number, at least ``minimum``)."""
    if not (block_sd > 0 and effect != 0 and math.isfinite(block_sd) and math.isfinite(effect)):
        return minimum
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    n = 4.0 * (z * block_sd / abs(effect)) ** 2
    return max(minimum, 2 * math.ceil(n / 2.0))


def _min_randomised_blocks(alpha: float) -> int:
    """Blocks (in pairs) needed before a within-pair randomisation test can reach p < alpha at all:
    2 / 2**pairs <= alpha."""
    pairs = math.ceil(math.log2(2.0 / alpha))
    return 2 * pairs


# ---------------------------------------------------------------------------------------------- helpers
def _residual_maker(w: np.ndarray) -> np.ndarray:
    """M = I - W (W'W)^+ W'."""
    n = w.shape[0]
    if w.shape[1] == 0:
        return np.eye(n)
    return np.eye(n) - w @ np.linalg.pinv(w)


def _strata(
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


def _assignments(
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


def _attained_alpha(a: np.ndarray, tol: float, alpha: float) -> float:
    """Share of the reference assignments whose own p-value (each taken in turn as the observed one,
    ties counted against it as in :func:`_perm_pvalue`) would be < ``alpha``: the test's exact size
    under the sharp null given the data."""
    s = np.sort(np.abs(a))
    ge = s.size - np.searchsorted(s, np.abs(a) - tol, side="left")
    return float(np.mean(ge / s.size < alpha))


def _perm_pvalue(a: np.ndarray, b: np.ndarray, a_obs: float, delta: float, tol: float) -> float:
    stat = np.abs(a - delta * b)
    return float(np.mean(stat >= abs(a_obs - delta) - tol))


def _invert(
    a: np.ndarray, b: np.ndarray, a_obs: float, scale: float, alpha: float, tol: float
) -> tuple[float, float]:
    """The confidence interval {d : p(d) > alpha} by bracketing and bisection on each side of a_obs."""
    bounds: list[float] = []
    for sign in (-1.0, 1.0):
        inside, step = 0.0, max(scale, 1e-9)
        out = sign * step
        k = 0
        while _perm_pvalue(a, b, a_obs, a_obs + out, tol) > alpha and k < 60:
            inside, out, k = out, out * 2.0, k + 1
        for _ in range(40):
            mid = 0.5 * (inside + out)
            if _perm_pvalue(a, b, a_obs, a_obs + mid, tol) > alpha:
                inside = mid
            else:
                out = mid
        bounds.append(a_obs + 0.5 * (inside + out))
    return bounds[0], bounds[1]


def _nuisance(
    design: str, blocks: Sequence[BlockValue], loads: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(W, group for randomisation strata, column names)."""
    n = len(blocks)
    if design == "alternating-laps":
        runs = sorted({b.run_id for b in blocks})
        group = np.array([runs.index(b.run_id) for b in blocks])
        cols = [(group == i).astype(float) for i in range(len(runs))]
        names = [f"run{i}" for i in range(len(runs))]
        t = np.array([b.time_h for b in blocks])
        # the drift term, demeaned within runs; only when there are spare degrees of freedom
        if n >= len(runs) + 4:
            td = t.copy()
            for i in range(len(runs)):
                td[group == i] -= td[group == i].mean()
            if np.ptp(td) > 0:
                cols.append(td)
                names.append("time")
        return np.column_stack(cols), group, names
    days = np.array([(b.run_start - blocks[0].run_start).total_seconds() / 86400.0 for b in blocks])
    days = days - days.mean()
    cols = [np.ones(n)]
    names = ["const"]
    if n >= 6 and np.ptp(days) > 0:
        cols.append(days)
        names.append("days")
    if design == "before-after" and loads is not None and n >= 8:
        ld = np.asarray(loads, dtype=float)
        if np.isfinite(ld).all() and np.std(ld) > 0:
            cols.append(ld - ld.mean())
            names.append("load")
    return np.column_stack(cols), np.zeros(n, dtype=int), names


# ---------------------------------------------------------------------------------------------- verb
def compare_arms(
    blocks: Sequence[BlockValue],
    arms: tuple[str, str],
    design: str,
    metric: str = "balance",
    *,
    confidence: float = 0.95,
    seed: int = 0,
    loads_km: Sequence[float] | None = None,
    randomisation_block: int = 2,
    max_exact: int = 20000,
    n_monte_carlo: int = 4999,
) -> Comparison:
    """Compare arm B with arm A on ``metric``: effect = mean(B) - mean(A) (SI), CI, p-value.

    ``blocks`` are the experiment's blocks (one per lap/range for ``alternating-laps``, one per run
    otherwise); ``loads_km`` the running load of the 7 days before each block's run (``before-after``
    only); ``randomisation_block`` the protocol's randomisation unit (2: the arm order is random within
    consecutive pairs of blocks; 4: within consecutive fours, two of each arm). Never raises on thin
    data: what cannot be said is None plus a message.
    """
    if design not in DESIGNS:
        raise design_error(design)
    a_name, b_name = arms
    alpha = 1.0 - confidence
    msgs: list[str] = []
    sel = [i for i, b in enumerate(blocks) if metric in b.values and b.arm in arms]
    blocks = [blocks[i] for i in sel]
    loads = np.asarray([loads_km[i] for i in sel], dtype=float) if loads_km is not None else None

    def empty(method: str, extra: list[str]) -> Comparison:
        n_a = sum(b.arm == a_name for b in blocks)
        n_b = sum(b.arm == b_name for b in blocks)
        return Comparison(
            metric,
            arms,
            design,
            None,
            None,
            None,
            None,
            method,
            len(blocks),
            n_a,
            n_b,
            len({b.run_id for b in blocks}),
            None,
            None,
            messages=msgs + extra,
        )

    n_a = sum(b.arm == a_name for b in blocks)
    n_b = sum(b.arm == b_name for b in blocks)
    missing = [name for name, k in ((a_name, n_a), (b_name, n_b)) if k == 0]
    if missing:
        return empty(
            "none",
            [
                (
                    f"arm {missing[0]!r} has no usable block yet"
                    if len(missing) == 1
                    else f"arms {missing[0]!r} and {missing[1]!r} have no usable block yet"
                )
                + ": nothing to compare"
            ],
        )
    if design == "alternating-laps":
        by_run: dict[str, set[str]] = {}
        for b in blocks:
            by_run.setdefault(b.run_id, set()).add(b.arm)
        lone = [r for r, s in by_run.items() if len(s) < 2]
        if lone:
            msgs.append(
                f"{len(lone)} run(s) hold only one arm ({', '.join(r[:8] for r in lone)}): a within-run "
                "comparison cannot use them; left out"
            )
            blocks = [b for b in blocks if b.run_id not in lone]
            if loads is not None:
                loads = None
        n_a = sum(b.arm == a_name for b in blocks)
        n_b = sum(b.arm == b_name for b in blocks)
        if n_a == 0 or n_b == 0:
            return empty("none", ["no run holds both arms: nothing to compare within runs"])
    if n_a != n_b:
        msgs.append(f"unequal block counts ({a_name}: {n_a}, {b_name}: {n_b}); the analysis accounts for it")
    n = len(blocks)
    runs = {b.run_id for b in blocks}

    # values at a common pace: within a run each block is at the run's own reference speed; across
    # runs every run is re-referenced to the median speed with the pooled within-run slope
    if design == "alternating-laps":
        y = np.array([b.values[metric] for b in blocks])
        ref = None
    else:
        run_speeds = np.array([b.speed_m_s for b in blocks], dtype=float)
        if np.isfinite(run_speeds).all():
            ref = float(np.median(run_speeds))
            slope = pooled_slope(blocks, metric)
            y = np.array([b.at_speed(metric, ref, slope) for b in blocks])
        else:
            ref = None
            y = np.array([b.values[metric] for b in blocks])
            msgs.append(
                "some runs have no speed (treadmill without a foot pod?): values are not pace-adjusted"
            )
    z = np.array([1.0 if b.arm == b_name else 0.0 for b in blocks])
    speeds = np.array([b.speed_m_s for b in blocks])
    sp_a = float(np.nanmean(speeds[z == 0])) if np.isfinite(speeds[z == 0]).any() else None
    sp_b = float(np.nanmean(speeds[z == 1])) if np.isfinite(speeds[z == 1]).any() else None
    if sp_a is not None and sp_b is not None and abs(sp_a - sp_b) > _PACE_GAP_M_S:
        msgs.append(
            f"the arms were run at different paces ({a_name} {sp_a:.2f} m/s, {b_name} {sp_b:.2f} m/s): "
            "the comparison leans on the pace adjustment; keep both arms in the same pace band"
        )
    med = float(np.nanmedian(speeds)) if np.isfinite(speeds).any() else float("nan")
    far = np.abs(speeds - med) > _BLOCK_PACE_SPREAD_M_S
    if far.any():
        msgs.append(
            f"{int(far.sum())} block(s) more than {_BLOCK_PACE_SPREAD_M_S} m/s off the median pace "
            f"({med:.2f} m/s): their values are extrapolated by the pace model"
        )

    w, group, names = _nuisance(design, blocks, loads)
    x = np.column_stack([w, z])
    k = np.linalg.matrix_rank(x)
    df = n - k
    mean_a = float(np.mean(y[z == 0]))
    mean_b = float(np.mean(y[z == 1]))
    if k < x.shape[1] or df < 1:
        return empty(
            "none",
            [f"too few blocks ({n}) to separate the arms from run/time effects: tag more blocks"],
        )
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ beta
    sigma = float(np.sqrt(resid @ resid / df))
    xtx_inv = np.linalg.pinv(x.T @ x)
    se_ols = float(sigma * np.sqrt(xtx_inv[-1, -1]))
    effect = float(beta[-1])
    t_crit = float(stats.t.ppf(1 - alpha / 2, df))
    p_model = float(2 * stats.t.sf(abs(effect) / se_ols, df)) if se_ols > 0 else None
    needed = blocks_needed(
        sigma,
        max(abs(effect), MIN_EFFECT.get(metric, 0.0)),
        alpha=alpha,
        minimum=6 + len(names) if design == "before-after" else _min_randomised_blocks(alpha),
    )
    common: dict[str, Any] = {
        "n_blocks": n,
        "n_a": n_a,
        "n_b": n_b,
        "n_runs": len(runs),
        "block_sd": sigma,
        "n_blocks_needed": needed,
        "mean_a": mean_a,
        "mean_b": mean_b,
        "speed_a_m_s": sp_a,
        "speed_b_m_s": sp_b,
        "ref_speed_m_s": ref,
        "confidence": confidence,
    }
    nuis = {"alternating-laps": "run fixed effects + within-run drift"}.get(design, "trend over days")
    if design == "before-after":
        import statsmodels.api as sm

        nuis = "trend over days" + (" + weekly load" if "load" in names else "")
        res = sm.OLS(y, x).fit(cov_type="HAC", cov_kwds={"maxlags": 1, "use_correction": True}, use_t=True)
        # HAC with a dozen runs under-covers; never report a smaller SE than the classical one
        se = max(float(res.bse[-1]), se_ols)
        p = float(2 * stats.t.sf(abs(effect) / se, df)) if se > 0 else 1.0
        lo, hi = effect - t_crit * se, effect + t_crit * se
        msgs.append(
            "before-after is observational (not randomised): other changes in the same weeks (shoes, "
            "season, health) cannot be told apart from the phase"
        )
        return Comparison(
            metric,
            arms,
            design,
            effect,
            lo,
            hi,
            p,
            f"OLS ({nuis}), SE = max(classical, Newey-West HAC), t({df})",
            p_value_model=p_model,
            messages=msgs,
            **common,
        )

    rng = np.random.default_rng(seed)
    order_keys = [
        (b.run_id, b.order_s if design == "alternating-laps" else b.run_start.value / 1e9) for b in blocks
    ]
    slots = [b.slot for b in blocks]
    strata, kind, n_fixed = _strata(order_keys, z, group, randomisation_block, slots)
    if n_fixed and kind != "groups":
        msgs.append(
            f"{n_fixed} block(s) whose randomisation "
            + ("pair" if randomisation_block == 2 else f"group of {randomisation_block}")
            + " lost a member (left out) are held at their arm (they inform the model, not the test)"
        )
    if kind == "groups":
        msgs.append(
            "the arm order does not follow the protocol's randomisation (balanced "
            f"{'pairs' if randomisation_block == 2 else f'blocks of {randomisation_block}'}); the test "
            "relabels blocks within each "
            + ("run" if design == "alternating-laps" else "experiment")
            + " instead, which assumes the blocks are exchangeable (e.g. no trend)"
        )
    rows, total, exact = _assignments(strata, z, n, rng, max_exact, n_monte_carlo)
    m = _residual_maker(w)
    zt = rows @ m  # M symmetric
    d = np.einsum("ij,ij->i", zt, rows)
    ok = d > 1e-12
    zt, d = zt[ok], d[ok]
    a = (zt @ y) / d
    b = (zt @ z) / d
    z_obs_t = m @ z
    a_obs = float(z_obs_t @ y / (z_obs_t @ z))
    scale = float(np.std(a)) if np.std(a) > 0 else max(se_ols, 1e-6)
    tol = 1e-9 * max(1.0, float(np.max(np.abs(a))))
    # all-swapped is the mirror assignment (effect -> -effect) only when nothing is held fixed
    symmetric = n_fixed == 0 and all(2 * int(z[st].sum()) == st.size for st in strata)
    min_p = (2.0 if symmetric else 1.0) / total
    unit_words = kind if kind != "groups" else ("runs" if design == "alternating-laps" else "all runs")
    if min_p > alpha:
        lo, hi = effect - t_crit * se_ols, effect + t_crit * se_ols
        msgs.append(
            f"only {total} possible arm assignments: a randomisation test could never reach p < {alpha:g}; "
            f"the model-based interval is shown, add blocks (about {needed} in all) for an exact test"
        )
        return Comparison(
            metric,
            arms,
            design,
            effect,
            lo,
            hi,
            p_model,
            f"OLS ({nuis}), t({df}) [too few blocks for a randomisation test]",
            p_value_model=p_model,
            n_assignments=total,
            messages=msgs,
            **common,
        )
    p = _perm_pvalue(a, b, a_obs, 0.0, tol)
    size = _attained_alpha(a, tol, alpha)
    lo, hi = _invert(a, b, a_obs, scale, alpha, tol)
    how = "exact" if exact else f"Monte Carlo {rows.shape[0]} draws"
    method = (
        f"randomisation test over arm swaps within {unit_words} ({how}, {total} assignments), "
        f"OLS effect with {nuis}; CI by test inversion"
    )
    return Comparison(
        metric,
        arms,
        design,
        a_obs,
        lo,
        hi,
        p,
        method,
        p_value_model=p_model,
        n_assignments=total,
        attained_alpha=size,
        messages=msgs,
        **common,
    )
