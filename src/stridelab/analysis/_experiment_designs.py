"""Experiment designs as objects: one class per design, configured once, one verb (``compare``).

::

    design = AlternatingLaps(seed=42)                    # or design_for("alternating-laps", seed=42)
    comparison = design.compare(blocks, ("pull-up", "push-behind"), "balance")

Every design fits ``y_block = W gamma + effect [block is arm B] + e`` (see :mod:`._experiment_stats`)
and differs in four places, each a method of its class:

* which blocks can be compared (:class:`AlternatingLaps` leaves out runs holding a single arm);
* the values compared (within runs the blocks' own values; across runs every run re-referenced to the
  median speed with the pooled within-run slope);
* the nuisance part ``W`` (run fixed effects and within-run drift; a trend over days; plus the weekly
  load for :class:`BeforeAfter`);
* the inference: a randomisation test that follows the protocol's randomisation
  (:class:`RandomisedDesign`), or OLS with Newey-West errors for the observational
  :class:`BeforeAfter`.

:data:`DESIGN_CLASSES` maps each :data:`DesignName` to its class; :func:`compare_arms` is the
function-style entry that dispatches on the name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final

from stridelab.analysis._experiment_blocks import BlockValue, pooled_slope
from stridelab.analysis._experiment_stats import (
    MIN_EFFECT,
    Comparison,
    DesignName,
    arm_assignments,
    attained_alpha,
    blocks_needed,
    design_name,
    invert_test,
    min_randomised_blocks,
    perm_pvalue,
    randomisation_strata,
    residual_maker,
)
from stridelab.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")

__all__ = [
    "DESIGN_CLASSES",
    "AlternatingLaps",
    "AlternatingRuns",
    "BeforeAfter",
    "ExperimentDesign",
    "RandomisedDesign",
    "compare_arms",
    "design_for",
]

_PACE_GAP_M_S: Final[float] = 0.15
_BLOCK_PACE_SPREAD_M_S: Final[float] = 0.5


@dataclass(frozen=True, slots=True)
class _Fit:
    """The least-squares fit shared by every design, handed to the design's inference."""

    metric: str
    arms: tuple[str, str]
    blocks: list[BlockValue]
    y: np.ndarray
    z: np.ndarray
    w: np.ndarray
    x: np.ndarray
    group: np.ndarray
    names: list[str]
    effect: float
    se_ols: float
    df: int
    t_crit: float
    p_model: float | None
    needed: int
    alpha: float
    common: dict[str, Any]
    messages: list[str]


class ExperimentDesign(ABC):
    """An experiment design, configured once; :meth:`compare` compares arm B with arm A.

    Parameters
    ----------
    confidence
        Confidence level of the interval (the test's level is ``1 - confidence``).
    seed
        Seed of the Monte Carlo draws of a randomisation test (the experiment's seed).
    randomisation_block
        The protocol's randomisation unit in blocks: 2 (the arm order is random within consecutive
        pairs of blocks) or 4 (within consecutive fours, two of each arm).
    max_exact
        Enumerate the randomisation distribution when it has at most this many assignments.
    n_monte_carlo
        Monte Carlo draws of the randomisation distribution otherwise.
    randomised
        False when the realised arm assignment is not the one the protocol randomised (tags that do not
        follow the printed order): a randomisation test is then invalid, and a randomised design falls
        back to the model-based (OLS t) test, which is not randomisation-protected.
    """

    #: the design's name in experiments and protocols
    name: ClassVar[DesignName]

    def __init__(
        self,
        *,
        confidence: float = 0.95,
        seed: int = 0,
        randomisation_block: int = 2,
        max_exact: int = 20000,
        n_monte_carlo: int = 4999,
        randomised: bool = True,
    ) -> None:
        self.confidence = confidence
        self.seed = seed
        self.randomisation_block = randomisation_block
        self.max_exact = max_exact
        self.n_monte_carlo = n_monte_carlo
        self.randomised = randomised

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(confidence={self.confidence!r}, seed={self.seed!r}, "
            f"randomisation_block={self.randomisation_block!r})"
        )

    # ------------------------------------------------------------------------------------------ verb
    def compare(
        self,
        blocks: Sequence[BlockValue],
        arms: tuple[str, str],
        metric: str = "balance",
        *,
        loads_km: Sequence[float] | None = None,
    ) -> Comparison:
        """Compare arm B with arm A on ``metric``: effect = mean(B) - mean(A) (SI), CI, p-value.

        ``blocks`` are the experiment's blocks (one per lap/range for alternating laps, one per run
        otherwise); ``loads_km`` the running load of the 7 days before each block's run (used by
        :class:`BeforeAfter`). Never raises on thin data: what cannot be said is None plus a message.
        """
        from scipy import stats  # lazy: importing scipy.stats costs ~0.5 s

        a_name, b_name = arms
        alpha = 1.0 - self.confidence
        msgs: list[str] = []
        sel = [i for i, b in enumerate(blocks) if metric in b.values and b.arm in arms]
        used = [blocks[i] for i in sel]
        loads = np.asarray([loads_km[i] for i in sel], dtype=float) if loads_km is not None else None

        n_a = sum(b.arm == a_name for b in used)
        n_b = sum(b.arm == b_name for b in used)
        missing = [name for name, k in ((a_name, n_a), (b_name, n_b)) if k == 0]
        if missing:
            which = (
                f"arm {missing[0]!r} has no usable block yet"
                if len(missing) == 1
                else f"arms {missing[0]!r} and {missing[1]!r} have no usable block yet"
            )
            return self._empty(metric, arms, used, [*msgs, which + ": nothing to compare"])
        comparable, reason = self._comparable(used, msgs)
        if len(comparable) != len(used):
            loads = None  # no longer aligned with the blocks (and not used by such a design)
        used = comparable
        if reason is not None:
            return self._empty(metric, arms, used, [*msgs, reason])
        n_a = sum(b.arm == a_name for b in used)
        n_b = sum(b.arm == b_name for b in used)
        if n_a != n_b:
            msgs.append(
                f"unequal block counts ({a_name}: {n_a}, {b_name}: {n_b}); the analysis accounts for it"
            )
        n = len(used)
        runs = {b.run_id for b in used}

        y, ref = self._values(used, metric, msgs)
        z = np.array([1.0 if b.arm == b_name else 0.0 for b in used])
        speeds = np.array([b.speed_m_s for b in used])
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

        w, group, names = self._nuisance(used, loads)
        x = np.column_stack([w, z])
        k = np.linalg.matrix_rank(x)
        df = n - k
        mean_a = float(np.mean(y[z == 0]))
        mean_b = float(np.mean(y[z == 1]))
        if k < x.shape[1] or df < 1:
            return self._empty(
                metric,
                arms,
                used,
                [*msgs, f"too few blocks ({n}) to separate the arms from run/time effects: tag more blocks"],
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
            minimum=self._min_blocks(alpha, names),
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
            "confidence": self.confidence,
        }
        fit = _Fit(
            metric=metric,
            arms=arms,
            blocks=used,
            y=y,
            z=z,
            w=w,
            x=x,
            group=group,
            names=names,
            effect=effect,
            se_ols=se_ols,
            df=df,
            t_crit=t_crit,
            p_model=p_model,
            needed=needed,
            alpha=alpha,
            common=common,
            messages=msgs,
        )
        return self._infer(fit)

    # ------------------------------------------------------------------------------------------ parts
    def _empty(
        self, metric: str, arms: tuple[str, str], blocks: Sequence[BlockValue], messages: list[str]
    ) -> Comparison:
        """Nothing can be estimated: counts only, and why."""
        return Comparison(
            metric,
            arms,
            self.name,
            None,
            None,
            None,
            None,
            "none",
            len(blocks),
            sum(b.arm == arms[0] for b in blocks),
            sum(b.arm == arms[1] for b in blocks),
            len({b.run_id for b in blocks}),
            None,
            None,
            messages=messages,
        )

    def _comparable(
        self, blocks: list[BlockValue], messages: list[str]
    ) -> tuple[list[BlockValue], str | None]:
        """The blocks the design can compare, and why nothing can be compared (None: something can)."""
        return blocks, None

    def _values(
        self, blocks: list[BlockValue], metric: str, messages: list[str]
    ) -> tuple[np.ndarray, float | None]:
        """The values compared and the speed they refer to: across runs, every run re-referenced to
        the median speed with the pooled within-run slope."""
        run_speeds = np.array([b.speed_m_s for b in blocks], dtype=float)
        if np.isfinite(run_speeds).all():
            ref = float(np.median(run_speeds))
            slope = pooled_slope(blocks, metric)
            return np.array([b.at_speed(metric, ref, slope) for b in blocks]), ref
        messages.append(
            "some runs have no speed (treadmill without a foot pod?): values are not pace-adjusted"
        )
        return np.array([b.values[metric] for b in blocks]), None

    @abstractmethod
    def _nuisance(
        self, blocks: list[BlockValue], loads: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(W, group of each block for the randomisation strata, column names)."""

    @abstractmethod
    def _min_blocks(self, alpha: float, names: list[str]) -> int:
        """The fewest blocks worth proposing ("blocks needed" never says less)."""

    @abstractmethod
    def _infer(self, fit: _Fit) -> Comparison:
        """Effect, CI and p-value from the fit."""


def _trend_nuisance(
    blocks: list[BlockValue], loads: np.ndarray | None, *, with_load: bool
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """One block per run: an intercept, a linear trend over days (>= 6 runs) and, ``with_load``, the
    centred weekly load (>= 8 runs)."""
    n = len(blocks)
    days = np.array([(b.run_start - blocks[0].run_start).total_seconds() / 86400.0 for b in blocks])
    days = days - days.mean()
    cols = [np.ones(n)]
    names = ["const"]
    if n >= 6 and np.ptp(days) > 0:
        cols.append(days)
        names.append("days")
    if with_load and loads is not None and n >= 8:
        ld = np.asarray(loads, dtype=float)
        if np.isfinite(ld).all() and np.std(ld) > 0:
            cols.append(ld - ld.mean())
            names.append("load")
    return np.column_stack(cols), np.zeros(n, dtype=int), names


class RandomisedDesign(ExperimentDesign):
    """A design whose arm order the protocol randomises: a randomisation (permutation) test over the
    protocol's possible assignments, CI by test inversion."""

    #: the nuisance terms in words (for the method text)
    nuisance_text: ClassVar[str]
    #: where blocks are relabelled when the order does not follow the protocol ("run", "experiment")
    relabel_within: ClassVar[str]
    #: the units of that relabelling in the method text
    relabel_units: ClassVar[str]

    def _min_blocks(self, alpha: float, names: list[str]) -> int:
        return min_randomised_blocks(alpha)

    @abstractmethod
    def _order_s(self, block: BlockValue) -> float:
        """The block's time, which orders the blocks into the protocol's randomisation units."""

    def _model_based(
        self, fit: _Fit, why: str, message: str | None, n_assignments: int | None = None
    ) -> Comparison:
        """The OLS t interval and p-value (no randomisation protection); ``why`` goes in the method."""
        lo, hi = fit.effect - fit.t_crit * fit.se_ols, fit.effect + fit.t_crit * fit.se_ols
        if message:
            fit.messages.append(message)
        return Comparison(
            fit.metric,
            fit.arms,
            self.name,
            fit.effect,
            lo,
            hi,
            fit.p_model,
            f"OLS ({self.nuisance_text}), t({fit.df}) [{why}]",
            p_value_model=fit.p_model,
            n_assignments=n_assignments,
            messages=fit.messages,
            **fit.common,
        )

    def _infer(self, fit: _Fit) -> Comparison:
        msgs, z, y, alpha = fit.messages, fit.z, fit.y, fit.alpha
        size_unit = self.randomisation_block
        nuis = self.nuisance_text
        if not self.randomised:
            return self._model_based(
                fit,
                "model-based, not randomisation-protected: the tags do not follow the protocol's order",
                "so the model-based OLS t test is used instead: it is not randomisation-protected and "
                "relies on the model (independent block errors, a linear drift); the effects, CIs and "
                "counts remain valid as measurements under that model",
            )
        rng = np.random.default_rng(self.seed)
        order_keys: list[tuple[Any, float]] = [(b.run_id, self._order_s(b)) for b in fit.blocks]
        slots = [b.slot for b in fit.blocks]
        strata, kind, n_fixed = randomisation_strata(order_keys, z, fit.group, size_unit, slots)
        if n_fixed and kind != "groups":
            msgs.append(
                f"{n_fixed} block(s) whose randomisation "
                + ("pair" if size_unit == 2 else f"group of {size_unit}")
                + " lost a member (left out) are held at their arm (they inform the model, not the test)"
            )
        if kind == "groups":
            msgs.append(
                "the arm order does not follow the protocol's randomisation (balanced "
                f"{'pairs' if size_unit == 2 else f'blocks of {size_unit}'}); the test "
                f"relabels blocks within each {self.relabel_within} instead, which assumes the blocks "
                "are exchangeable (e.g. no trend)"
            )
        n = len(fit.blocks)
        rows, total, exact = arm_assignments(strata, z, n, rng, self.max_exact, self.n_monte_carlo)
        m = residual_maker(fit.w)
        zt = rows @ m  # M symmetric
        d = np.einsum("ij,ij->i", zt, rows)
        ok = d > 1e-12
        zt, d = zt[ok], d[ok]
        a = (zt @ y) / d
        b = (zt @ z) / d
        z_obs_t = m @ z
        a_obs = float(z_obs_t @ y / (z_obs_t @ z))
        scale = float(np.std(a)) if np.std(a) > 0 else max(fit.se_ols, 1e-6)
        tol = 1e-9 * max(1.0, float(np.max(np.abs(a))))
        # all-swapped is the mirror assignment (effect -> -effect) only when nothing is held fixed
        symmetric = n_fixed == 0 and all(2 * int(z[st].sum()) == st.size for st in strata)
        min_p = (2.0 if symmetric else 1.0) / total
        unit_words = kind if kind != "groups" else self.relabel_units
        if min_p > alpha:
            return self._model_based(
                fit,
                "too few blocks for a randomisation test",
                f"only {total} possible arm assignments: a randomisation test could never reach "
                f"p < {alpha:g}; the model-based interval is shown, add blocks (about {fit.needed} in all) "
                "for an exact test",
                n_assignments=total,
            )
        p = perm_pvalue(a, b, a_obs, 0.0, tol)
        size = attained_alpha(a, tol, alpha)
        lo, hi = invert_test(a, b, a_obs, scale, alpha, tol)
        how = "exact" if exact else f"Monte Carlo {rows.shape[0]} draws"
        method = (
            f"randomisation test over arm swaps within {unit_words} ({how}, {total} assignments), "
            f"OLS effect with {nuis}; CI by test inversion"
        )
        return Comparison(
            fit.metric,
            fit.arms,
            self.name,
            a_obs,
            lo,
            hi,
            p,
            method,
            p_value_model=fit.p_model,
            n_assignments=total,
            attained_alpha=size,
            messages=msgs,
            **fit.common,
        )


class AlternatingLaps(RandomisedDesign):
    """Within runs: each lap (or tagged time range) is a block, the arm order random within pairs of
    laps. Run fixed effects and the within-run drift are the nuisance; runs holding one arm only are
    left out."""

    name: ClassVar[DesignName] = "alternating-laps"
    nuisance_text: ClassVar[str] = "run fixed effects + within-run drift"
    relabel_within: ClassVar[str] = "run"
    relabel_units: ClassVar[str] = "runs"

    def _comparable(
        self, blocks: list[BlockValue], messages: list[str]
    ) -> tuple[list[BlockValue], str | None]:
        by_run: dict[str, set[str]] = {}
        for b in blocks:
            by_run.setdefault(b.run_id, set()).add(b.arm)
        lone = [r for r, s in by_run.items() if len(s) < 2]
        if lone:
            messages.append(
                f"{len(lone)} run(s) hold only one arm ({', '.join(r[:8] for r in lone)}): a within-run "
                "comparison cannot use them; left out"
            )
            blocks = [b for b in blocks if b.run_id not in lone]
        arms = {b.arm for b in blocks}
        if len(arms) < 2:
            return blocks, "no run holds both arms: nothing to compare within runs"
        return blocks, None

    def _values(
        self, blocks: list[BlockValue], metric: str, messages: list[str]
    ) -> tuple[np.ndarray, float | None]:
        # within a run each block is at the run's own reference speed
        return np.array([b.values[metric] for b in blocks]), None

    def _nuisance(
        self, blocks: list[BlockValue], loads: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, list[str]]:
        n = len(blocks)
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

    def _order_s(self, block: BlockValue) -> float:
        return block.order_s


class AlternatingRuns(RandomisedDesign):
    """Across runs: each run is a block, the arm order random within pairs (or fours) of runs. An
    intercept and a trend over days are the nuisance; runs are compared at one common pace."""

    name: ClassVar[DesignName] = "alternating-runs"
    nuisance_text: ClassVar[str] = "trend over days"
    relabel_within: ClassVar[str] = "experiment"
    relabel_units: ClassVar[str] = "all runs"

    def _nuisance(
        self, blocks: list[BlockValue], loads: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, list[str]]:
        return _trend_nuisance(blocks, loads, with_load=False)

    def _order_s(self, block: BlockValue) -> float:
        return float(block.run_start.value / 1e9)


class BeforeAfter(ExperimentDesign):
    """Runs before vs after a change; observational (not randomised): OLS on an intercept, the season
    trend over days and the weekly load, with SE = max(classical, Newey-West HAC) and t critical
    values."""

    name: ClassVar[DesignName] = "before-after"

    def _nuisance(
        self, blocks: list[BlockValue], loads: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, list[str]]:
        return _trend_nuisance(blocks, loads, with_load=True)

    def _min_blocks(self, alpha: float, names: list[str]) -> int:
        return 6 + len(names)

    def _infer(self, fit: _Fit) -> Comparison:
        import statsmodels.api as sm
        from scipy import stats  # lazy: importing scipy.stats costs ~0.5 s

        nuis = "trend over days" + (" + weekly load" if "load" in fit.names else "")
        res = sm.OLS(fit.y, fit.x).fit(
            cov_type="HAC", cov_kwds={"maxlags": 1, "use_correction": True}, use_t=True
        )
        # HAC with a dozen runs under-covers; never report a smaller SE than the classical one
        se = max(float(res.bse[-1]), fit.se_ols)
        p = float(2 * stats.t.sf(abs(fit.effect) / se, fit.df)) if se > 0 else 1.0
        lo, hi = fit.effect - fit.t_crit * se, fit.effect + fit.t_crit * se
        fit.messages.append(
            "before-after is observational (not randomised): other changes in the same weeks (shoes, "
            "season, health) cannot be told apart from the phase"
        )
        return Comparison(
            fit.metric,
            fit.arms,
            self.name,
            fit.effect,
            lo,
            hi,
            p,
            f"OLS ({nuis}), SE = max(classical, Newey-West HAC), t({fit.df})",
            p_value_model=fit.p_model,
            messages=fit.messages,
            **fit.common,
        )


#: the design of each name
DESIGN_CLASSES: Final[dict[DesignName, type[ExperimentDesign]]] = {
    cls.name: cls for cls in (AlternatingLaps, AlternatingRuns, BeforeAfter)
}


def design_for(
    design: DesignName,
    *,
    confidence: float = 0.95,
    seed: int = 0,
    randomisation_block: int = 2,
    max_exact: int = 20000,
    n_monte_carlo: int = 4999,
    randomised: bool = True,
) -> ExperimentDesign:
    """The configured design of name ``design`` (raises ``ValueError`` for an unknown name);
    ``randomised=False``: the realised assignment is not the protocol's (see :class:`ExperimentDesign`)."""
    cls = DESIGN_CLASSES[design_name(design)]
    return cls(
        confidence=confidence,
        seed=seed,
        randomisation_block=randomisation_block,
        max_exact=max_exact,
        n_monte_carlo=n_monte_carlo,
        randomised=randomised,
    )


def compare_arms(
    blocks: Sequence[BlockValue],
    arms: tuple[str, str],
    design: DesignName,
    metric: str = "balance",
    *,
    confidence: float = 0.95,
    seed: int = 0,
    loads_km: Sequence[float] | None = None,
    randomisation_block: int = 2,
    max_exact: int = 20000,
    n_monte_carlo: int = 4999,
) -> Comparison:
    """Compare arm B with arm A on ``metric`` with the design of name ``design``: effect =
    mean(B) - mean(A) (SI), CI, p-value. See :meth:`ExperimentDesign.compare`."""
    return design_for(
        design,
        confidence=confidence,
        seed=seed,
        randomisation_block=randomisation_block,
        max_exact=max_exact,
        n_monte_carlo=n_monte_carlo,
    ).compare(blocks, arms, metric, loads_km=loads_km)
