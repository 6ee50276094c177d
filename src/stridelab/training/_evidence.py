"""Measured evidence for the builder: recent balance tests and recent runs' GCT balance.

Pure: the caller passes the balance tests of the last :data:`BALANCE_WINDOW_DAYS` days and the per-run
asymmetry rows of the last :data:`RUN_WINDOW_DAYS` days (see ``stridelab.services.training``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from stridelab.lazy import lazy_module
from stridelab.training._builder import BalanceEvidence, Evidence, RunEvidence

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

__all__ = ["BALANCE_WINDOW_DAYS", "RUN_WINDOW_DAYS", "balance_summary", "evidence_from", "run_evidence"]

#: balance tests older than this are ignored when tailoring a plan
BALANCE_WINDOW_DAYS: Final[int] = 90
#: only the latest N tests per side and eyes condition count (recent ability, not the history)
BALANCE_LAST_N: Final[int] = 3
#: runs of the last N days count for the GCT balance
RUN_WINDOW_DAYS: Final[int] = 56


def balance_summary(tests: pd.DataFrame) -> tuple[BalanceEvidence, ...]:
    """Mean of the latest :data:`BALANCE_LAST_N` tests per side, for each eyes condition with both sides."""
    out = []
    for eyes in ("open", "closed"):
        sub = tests[tests["eyes"] == eyes]
        means: dict[str, tuple[float, int]] = {}
        for side in ("left", "right"):
            s = sub[sub["side"] == side].sort_values(["date", "id"]).tail(BALANCE_LAST_N)["seconds"]
            means[side] = (float(s.mean()) if len(s) else float("nan"), len(s))
        if means["left"][1] and means["right"][1]:
            out.append(
                BalanceEvidence(
                    eyes,
                    round(means["left"][0], 2),
                    round(means["right"][0], 2),
                    means["left"][1],
                    means["right"][1],
                )
            )
    return tuple(out)


def run_evidence(runs: pd.DataFrame) -> RunEvidence | None:
    """Mean GCT balance / GCT of the per-run asymmetry rows ``runs`` and the balance trend (pp/week)."""
    r = runs.dropna(subset=["balance_left_pct"])
    if r.empty:
        return None
    sources = sorted(set(r["source"]))
    days = np.array([(d - r["day"].iloc[0]).days for d in r["day"]], dtype="float64")
    slope = None
    if len(r) >= 3 and np.ptp(days) > 0:
        slope = float(np.polyfit(days / 7.0, r["balance_left_pct"].to_numpy(dtype="float64"), 1)[0])
    gct = r["gct_s"].dropna()
    return RunEvidence(
        balance_left_pct=round(float(r["balance_left_pct"].mean()), 2),
        gct_s=round(float(gct.mean()), 4) if len(gct) else None,
        n_runs=len(r),
        source=" + ".join(sources),
        slope_pp_per_week=round(slope, 3) if slope is not None else None,
    )


def evidence_from(tests: pd.DataFrame, runs: pd.DataFrame | None) -> Evidence:
    """The builder's evidence from balance ``tests`` and per-run asymmetry rows (None: no runs used)."""
    return Evidence(balance=balance_summary(tests), runs=run_evidence(runs) if runs is not None else None)
