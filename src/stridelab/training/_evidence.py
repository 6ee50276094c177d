"""Measured evidence for the builder: recent balance tests and recent runs' GCT balance."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

import numpy as np
import pandas as pd

from stridelab.store import Store
from stridelab.training._builder import BalanceEvidence, Evidence, RunEvidence
from stridelab.training._db import balance_history
from stridelab.training._seam import RunAsymmetryProvider, run_asymmetry

__all__ = ["balance_summary", "gather_evidence", "run_evidence"]

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
    """Mean GCT balance / GCT of ``runs`` (from :func:`run_asymmetry`) and the balance trend (pp/week)."""
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


def gather_evidence(
    store: Store, athlete: str, today: date, *, provider: RunAsymmetryProvider | bool | None = True
) -> Evidence:
    """Balance tests of the last 90 days and runs of the last 8 weeks up to ``today`` (inclusive)."""
    tests = balance_history(store, athlete, since=today - timedelta(days=BALANCE_WINDOW_DAYS), until=today)
    runs = run_asymmetry(
        store, athlete, since=today - timedelta(days=RUN_WINDOW_DAYS), until=today, provider=provider
    )
    return Evidence(balance=balance_summary(tests), runs=run_evidence(runs))
