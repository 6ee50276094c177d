"""Looking early without lying: Lan-DeMets alpha spending for experiments analysed after every run.

Analysing an experiment after every run and stopping at the first p < 0.05 rejects far more often than
5 % when nothing happened (11.7 % for 12 alternating runs). The remedy is a group-sequential boundary:
the planned length of the protocol (its blocks) is the full information; a look at a fraction ``t`` of
it may only spend the alpha of an **O'Brien-Fleming-type Lan-DeMets spending function**::

    alpha(t) = 2 - 2 Phi(z_{1 - alpha/2} / sqrt(t))        (Lan & DeMets 1983, Biometrika 70: 659-663)

Looks are assumed after every run of the protocol (the finest the tags allow: a run's blocks arrive
together), so the schedule of fractions is ``j / runs`` for ``j = 1 .. runs``; looking less often is
then conservative. The nominal two-sided level of each look follows from the spending increments by
the recursive numerical integration of Armitage, McPherson & Rowe (1969, JRSS A 132: 235-244) over
the score process ``S_k = Z_k sqrt(t_k)`` (independent Gaussian increments): look ``k`` rejects when
``p < nominal_k``, and the chance of any rejection over all looks is ``alpha`` (for a statistic that is
Gaussian; the randomisation test's p-value is compared with the same nominal level, and the seeded
Monte Carlo in the suite and ``bench/validate_experiments.py --peeking`` check the result).

The spending is front-light: the first looks can only stop for overwhelming evidence, the last look's
nominal level stays near alpha (0.0478 with 2 looks, 0.0328 with 12 at alpha 0.05). A look whose
randomisation test cannot decide at all (:func:`decisive_looks`: its smallest possible p-value is not
below the look's level) spends nothing, which leaves that alpha to the later looks: for the default
protocols (2 x 8 alternating laps, 12 alternating runs in fours) only the planned length can decide,
at the full alpha. :func:`decides` is the rule the analysis applies.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from stridelab.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")

__all__ = ["Look", "decides", "decisive_looks", "look_at", "nominal_alphas", "obf_spent"]

_GRID = 801


def obf_spent(t: float, alpha: float = 0.05) -> float:
    """The alpha spent up to information fraction ``t`` (O'Brien-Fleming-type Lan-DeMets)."""
    from scipy import stats  # lazy: importing scipy.stats costs ~0.5 s

    if t <= 0:
        return 0.0
    if t >= 1:
        return alpha
    return float(2.0 - 2.0 * stats.norm.cdf(stats.norm.ppf(1.0 - alpha / 2.0) / math.sqrt(t)))


@lru_cache(maxsize=256)
def _nominal(fractions: tuple[float, ...], active: tuple[bool, ...], alpha: float) -> tuple[float, ...]:
    from scipy import optimize, stats  # lazy: importing scipy.stats costs ~0.5 s

    out: list[float] = []
    prev_t = 0.0
    prev_spent = 0.0  # alpha actually spent so far (looks that cannot decide spend nothing)
    grid: np.ndarray | None = None  # points of S on the continuation region of the previous look
    dens: np.ndarray | None = None  # sub-density of S there (no crossing so far)
    for t, on in zip(fractions, active, strict=True):
        spent = obf_spent(t, alpha) if on else prev_spent
        inc = spent - prev_spent
        if grid is None or dens is None:
            c = float(stats.norm.isf(inc / 2.0)) if inc > 0 else math.inf
            b = c * math.sqrt(t)
            new_grid = (
                np.linspace(-b, b, _GRID) if math.isfinite(b) else np.linspace(-8, 8, _GRID) * math.sqrt(t)
            )
            new_dens = stats.norm.pdf(new_grid, scale=math.sqrt(t))
        else:
            sd = math.sqrt(t - prev_t)
            w = np.full(grid.size, grid[1] - grid[0])
            w[0] = w[-1] = w[0] / 2.0  # trapezoid weights
            mass = dens * w

            def crossing(
                b_: float, mass: np.ndarray = mass, grid: np.ndarray = grid, sd: float = sd
            ) -> float:
                tail = stats.norm.sf((b_ - grid) / sd) + stats.norm.cdf((-b_ - grid) / sd)
                return float(mass @ tail)

            if inc <= 1e-15:
                b = math.inf
            else:
                hi = 40.0 * math.sqrt(t)
                if crossing(hi) >= inc:
                    b = hi
                else:
                    b = float(optimize.brentq(lambda x, inc=inc: crossing(x) - inc, 1e-9, hi, xtol=1e-10))
            lim = b if math.isfinite(b) else 8.0 * math.sqrt(t)
            new_grid = np.linspace(-lim, lim, _GRID)
            kern = stats.norm.pdf((new_grid[:, None] - grid[None, :]) / sd) / sd
            new_dens = kern @ mass
            c = b / math.sqrt(t)
        out.append(float(2.0 * stats.norm.sf(c)) if math.isfinite(c) else 0.0)
        grid, dens = new_grid, new_dens
        prev_t, prev_spent = t, spent
    return tuple(out)


def nominal_alphas(
    fractions: Sequence[float], alpha: float = 0.05, *, active: Sequence[bool] | None = None
) -> list[float]:
    """The nominal two-sided level of each look at the increasing information ``fractions`` (the last
    normally 1) so that the chance of rejecting at any of them is ``alpha`` (O'Brien-Fleming-type
    Lan-DeMets spending, exact recursive integration). ``active[k]`` False: look ``k`` cannot decide
    (e.g. its randomisation test cannot reach the level): it spends nothing (nominal 0) and the
    next active look spends the spending function's cumulative value."""
    fr = tuple(round(min(1.0, max(1e-9, float(f))), 9) for f in fractions)
    if any(b <= a for a, b in itertools.pairwise(fr)):
        raise ValueError(f"information fractions must increase, got {list(fr)}")
    on = tuple(bool(x) for x in active) if active is not None else (True,) * len(fr)
    if len(on) != len(fr):
        raise ValueError("one active flag per look")
    return list(_nominal(fr, on, float(alpha)))


@dataclass(frozen=True, slots=True)
class Look:
    """One look at an experiment: where it stands on the protocol and the level it may use."""

    index: int  # 1-based look number (runs analysed so far, the schedule being one look per run)
    n_looks: int  # looks in the schedule (the protocol's runs)
    fraction: float  # information fraction: blocks so far / planned blocks (capped at 1)
    planned_blocks: int
    n_blocks: int
    alpha: float  # the overall level
    alpha_spent: float  # cumulative alpha spent up to this look
    nominal_alpha: float  # the level this look's p-value is compared with
    final: bool  # the planned length is reached
    schedule: tuple[tuple[float, float], ...]  # (fraction, nominal alpha) of every look so far

    def to_dict(self) -> dict[str, Any]:
        return {
            "look": self.index,
            "n_looks_planned": self.n_looks,
            "information_fraction": self.fraction,
            "n_blocks": self.n_blocks,
            "planned_blocks": self.planned_blocks,
            "alpha": self.alpha,
            "alpha_spent": self.alpha_spent,
            "nominal_alpha": self.nominal_alpha,
            "final": self.final,
            "schedule": [{"information_fraction": f, "nominal_alpha": a} for f, a in self.schedule],
        }


def look_at(
    n_blocks: int,
    planned_blocks: int,
    planned_runs: int,
    *,
    alpha: float = 0.05,
    decisive: Sequence[bool] | None = None,
) -> Look:
    """The look an analysis of ``n_blocks`` blocks is, on a protocol of ``planned_blocks`` blocks over
    ``planned_runs`` runs, with one look assumed after every run: earlier looks at ``j / planned_runs``
    below the current fraction, this one at ``min(1, n_blocks / planned_blocks)``.

    ``decisive[j - 1]``: whether the look after run ``j`` of the protocol can decide at all (a
    randomisation test over the blocks of ``j`` runs can reach p < alpha); looks that cannot spend
    nothing. The final look always can. A look in the middle of a run counts as the last whole run's.
    """
    planned_blocks = max(1, int(planned_blocks))
    planned_runs = max(1, int(planned_runs))
    flags = list(decisive) if decisive is not None else [True] * planned_runs
    flags = (flags + [True] * planned_runs)[:planned_runs]
    flags[-1] = True
    t = min(1.0, max(0.0, n_blocks / planned_blocks))
    if t <= 0:
        return Look(0, planned_runs, 0.0, planned_blocks, n_blocks, alpha, 0.0, 0.0, False, ())
    js = [j for j in range(1, planned_runs) if j / planned_runs < t - 1e-9]
    fractions = [j / planned_runs for j in js] + [t]
    whole = math.floor(t * planned_runs + 1e-9)
    now = t >= 1.0 - 1e-9 or (whole >= 1 and flags[whole - 1])
    active = [flags[j - 1] for j in js] + [now]
    noms = nominal_alphas(fractions, alpha, active=active)
    spent = max((obf_spent(f, alpha) for f, on in zip(fractions, active, strict=True) if on), default=0.0)
    return Look(
        index=len(fractions),
        n_looks=planned_runs,
        fraction=t,
        planned_blocks=planned_blocks,
        n_blocks=n_blocks,
        alpha=alpha,
        alpha_spent=spent,
        nominal_alpha=noms[-1],
        final=t >= 1.0 - 1e-9,
        schedule=tuple(zip(fractions, noms, strict=True)),
    )


def decisive_looks(
    design: str,
    planned_runs: int,
    *,
    blocks_per_run: int = 1,
    randomisation_block: int = 2,
    alpha: float = 0.05,
) -> list[bool]:
    """Which of the looks after runs ``1 .. planned_runs`` of a protocol followed as planned can decide:
    the randomisation test over that many runs' blocks can reach a p-value below the look's nominal
    level (alternating designs: the smallest p is 2 / the number of assignments of the complete
    randomisation units), or, for before-after, both arms have runs. Looks that cannot decide spend
    no alpha, which leaves more for the looks that can (iterated until stable; the final look always
    decides)."""
    n = max(1, int(planned_runs))
    min_p: list[float] = []
    for j in range(1, n + 1):
        if design == "alternating-laps":
            pairs = j * int(blocks_per_run) // 2
            min_p.append(min(1.0, 2.0 / 2.0**pairs))
        elif design == "alternating-runs":
            size = int(randomisation_block)
            units = j // size
            per = math.comb(size, size // 2)
            min_p.append(min(1.0, 2.0 / per**units) if units else 1.0)
        else:
            min_p.append(0.0 if j > n // 2 else 1.0)
    flags = [True] * n
    for _ in range(n + 1):
        noms = nominal_alphas([j / n for j in range(1, n + 1)], alpha, active=flags)
        new = [
            f and (mp < nom or j == n)
            for j, (f, mp, nom) in enumerate(zip(flags, min_p, noms, strict=True), 1)
        ]
        if new == flags:
            break
        flags = new
    return flags


def decides(p_value: float | None, look: Look | None, *, alpha: float = 0.05, fallback: bool = False) -> bool:
    """Whether a p-value is a verdict at ``look``: below the look's nominal level (``alpha`` without a
    look). ``fallback``: the p-value is the model-based stand-in of a randomisation test that cannot
    reach the level with these blocks; before the planned length it never decides (the protocol's
    randomisation must be able to back a verdict taken early)."""
    if p_value is None or not math.isfinite(p_value):
        return False
    if look is None:
        return p_value < alpha
    if fallback and not look.final:
        return False
    return p_value < look.nominal_alpha
