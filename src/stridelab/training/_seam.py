"""The one seam between training and the run analytics: per-run GCT balance (left %) and GCT (s).

:func:`run_asymmetry` asks a *provider* for the pace-adjusted values. The default provider is the run
analytics (:mod:`stridelab.analysis`) when it offers them; otherwise the catalog's raw per-run means
(``summary["stance_time_balance_left_pct_mean"]``, ``summary["stance_time_s_mean"]``) are used. Every
row says which one it came from, so nothing downstream mistakes a raw mean for a pace-adjusted one.

A provider is any ``Callable[[Store, str, date | None, date | None], pandas.DataFrame]`` (store,
athlete, since, until - days inclusive) returning one row per run with the columns ``activity_id``,
``balance_left_pct`` and ``gct_s`` (NaN where unknown).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Final

import numpy as np
import pandas as pd

from stridelab.store import Store, StoreError

__all__ = [
    "COLUMNS",
    "SOURCE_ANALYSIS",
    "SOURCE_CATALOG",
    "RunAsymmetryProvider",
    "analysis_provider",
    "run_asymmetry",
]

RunAsymmetryProvider = Callable[[Store, str, "date | None", "date | None"], pd.DataFrame]

SOURCE_ANALYSIS: Final[str] = "pace-adjusted (run analytics)"
SOURCE_CATALOG: Final[str] = "raw run means (catalog, not pace-adjusted)"
#: columns of :func:`run_asymmetry`
COLUMNS: Final[tuple[str, ...]] = ("activity_id", "start_time", "day", "balance_left_pct", "gct_s", "source")
RUN_SPORTS: Final[frozenset[str]] = frozenset({"running"})
#: what can go wrong inside the analytics without it being a bug of ours: fall back to the catalog
_ANALYSIS_FAILURES: Final[tuple[type[BaseException], ...]] = (
    ImportError,
    LookupError,
    TypeError,
    ValueError,
    ArithmeticError,
    OSError,
    StoreError,
)


def _day_ts(d: date | None, plus_days: int = 0) -> pd.Timestamp | None:
    return None if d is None else pd.Timestamp(d, tz="UTC") + pd.Timedelta(days=plus_days)


def analysis_provider() -> RunAsymmetryProvider | None:
    """The run analytics as a provider of pace-adjusted values.

    Uses :func:`stridelab.analysis.run_table` -> ``(table, ref_speed_m_s)`` with the columns ``id``,
    ``balance_at_ref_speed_left_pct`` and ``gct_at_ref_speed_ms`` (the values at one reference
    speed for all runs, i.e. pace-adjusted). Runs it cannot adjust fall back to the catalog's raw
    means in :func:`run_asymmetry`, labelled as such.
    """
    from stridelab.services.analysis import (
        run_table,
    )  # moved from stridelab.analysis (runs helper); lazy because statsmodels is heavy

    def provider(store: Store, athlete: str, since: date | None, until: date | None) -> pd.DataFrame:
        table, ref = run_table(store, athlete, since=_day_ts(since), until=_day_ts(until, 1))
        if table.empty:
            return pd.DataFrame(columns=["activity_id", "balance_left_pct", "gct_s"])
        bal = table.get("balance_at_ref_speed_left_pct")
        if bal is None or "id" not in table.columns:
            raise LookupError("stridelab.analysis.run_table has no pace-adjusted GCT balance column")
        gct_ms = table.get("gct_at_ref_speed_ms")
        out = pd.DataFrame(
            {
                "activity_id": table["id"].astype(str),
                "balance_left_pct": pd.to_numeric(bal, errors="coerce").astype("float64"),
                "gct_s": (pd.to_numeric(gct_ms, errors="coerce").astype("float64") / 1000.0)
                if gct_ms is not None
                else np.nan,
            }
        )
        if ref is not None:
            out.attrs["ref_speed_m_s"] = float(ref)
        return out

    return provider


def _catalog_rows(store: Store, athlete: str, since: date | None, until: date | None) -> pd.DataFrame:
    rows = store.list_activities(
        athlete,
        since=pd.Timestamp(since, tz="UTC") if since else None,
        until=pd.Timestamp(until, tz="UTC") + pd.Timedelta(days=1) if until else None,
    )
    recs = []
    for r in rows:
        if (r.sport or "").lower() not in RUN_SPORTS:
            continue
        s = r.summary
        recs.append(
            {
                "activity_id": r.id,
                "start_time": r.start_time,
                "balance_left_pct": s.get("stance_time_balance_left_pct_mean"),
                "gct_s": s.get("stance_time_s_mean"),
            }
        )
    df = pd.DataFrame.from_records(recs, columns=["activity_id", "start_time", "balance_left_pct", "gct_s"])
    df["balance_left_pct"] = pd.to_numeric(df["balance_left_pct"], errors="coerce").astype("float64")
    df["gct_s"] = pd.to_numeric(df["gct_s"], errors="coerce").astype("float64")
    return df


def run_asymmetry(
    store: Store,
    athlete: str = "me",
    *,
    since: date | None = None,
    until: date | None = None,
    provider: RunAsymmetryProvider | bool | None = True,
) -> pd.DataFrame:
    """Per-run GCT balance (LEFT share, %) and GCT (s) of the athlete's runs, labelled by source.

    ``provider=True`` (default) uses :func:`analysis_provider` when available; ``False``/``None``
    forces the catalog means; a callable is used as the provider. Runs the provider does not cover
    (or covers with NaN) fall back to the catalog means, row by row. ``until`` is inclusive.
    Columns: :data:`COLUMNS`; ``day`` is the UTC calendar day of the start.
    """
    base = _catalog_rows(store, athlete, since, until)
    base["source"] = SOURCE_CATALOG
    chosen: RunAsymmetryProvider | None
    if provider is True:
        chosen = analysis_provider()
    elif provider is False or provider is None:
        chosen = None
    else:
        chosen = provider
    if chosen is not None and len(base):
        try:
            adj = chosen(store, athlete, since, until)
        except _ANALYSIS_FAILURES:
            if provider is not True:
                raise  # an explicitly given provider's failure is the caller's to see
            adj = pd.DataFrame(columns=["activity_id", "balance_left_pct", "gct_s"])
        ref = adj.attrs.get("ref_speed_m_s")
        adj = adj.dropna(subset=["balance_left_pct"]).drop_duplicates("activity_id").set_index("activity_id")
        hit = base["activity_id"].isin(adj.index)
        ids = base.loc[hit, "activity_id"]
        base.loc[hit, "balance_left_pct"] = adj.loc[ids, "balance_left_pct"].to_numpy(dtype="float64")
        gct = adj.loc[ids, "gct_s"].to_numpy(dtype="float64")
        old = base.loc[hit, "gct_s"].to_numpy(dtype="float64")
        base.loc[hit, "gct_s"] = np.where(np.isfinite(gct), gct, old)
        label = SOURCE_ANALYSIS if ref is None else f"{SOURCE_ANALYSIS[:-1]}, at {ref:.2f} m/s)"
        base.loc[hit, "source"] = label
    base["day"] = [pd.Timestamp(t).tz_convert("UTC").date() for t in base["start_time"]]
    return base.loc[:, list(COLUMNS)].reset_index(drop=True)
