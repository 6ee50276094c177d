"""The one seam between training and the run analytics: per-run GCT balance (left %) and GCT (s).

Pure: the catalog's rows and the analytics' pace-adjusted values come in, one labelled frame goes out.
:func:`catalog_asymmetry` turns catalog rows into the raw per-run means
(``summary["stance_time_balance_left_pct_mean"]``, ``summary["stance_time_s_mean"]``);
:func:`merge_asymmetry` overlays pace-adjusted values where a *provider* (the run analytics, see
:func:`stridelab.services.training.run_asymmetry`) has them. Every row says which one it came from, so
nothing downstream mistakes a raw mean for a pace-adjusted one.

A provider's frame has one row per run with the columns :data:`PROVIDER_COLUMNS` (``activity_id``,
``balance_left_pct``, ``gct_s``; NaN where unknown) and optionally ``attrs["ref_speed_m_s"]``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final, Protocol

from stridelab.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

__all__ = [
    "COLUMNS",
    "PROVIDER_COLUMNS",
    "RUN_SPORTS",
    "SOURCE_ANALYSIS",
    "SOURCE_CATALOG",
    "RunRow",
    "catalog_asymmetry",
    "empty_provider_frame",
    "is_run",
    "merge_asymmetry",
    "provider_frame_of_run_table",
]

SOURCE_ANALYSIS: Final[str] = "pace-adjusted (run analytics)"
SOURCE_CATALOG: Final[str] = "raw run means (catalog, not pace-adjusted)"
#: columns of the per-run asymmetry frame
COLUMNS: Final[tuple[str, ...]] = ("activity_id", "start_time", "day", "balance_left_pct", "gct_s", "source")
#: columns of a provider's frame
PROVIDER_COLUMNS: Final[tuple[str, ...]] = ("activity_id", "balance_left_pct", "gct_s")
RUN_SPORTS: Final[frozenset[str]] = frozenset({"running"})


class RunRow(Protocol):
    """What training reads of a catalog row (``stridelab.store.ActivityRow`` has it)."""

    @property
    def id(self) -> str: ...

    @property
    def sport(self) -> str | None: ...

    @property
    def start_time(self) -> pd.Timestamp: ...

    @property
    def duration_s(self) -> float | None: ...

    @property
    def distance_m(self) -> float | None: ...

    @property
    def summary(self) -> dict[str, Any]: ...


def is_run(row: RunRow) -> bool:
    """A running activity (the sports of :data:`RUN_SPORTS`)."""
    return (row.sport or "").lower() in RUN_SPORTS


def empty_provider_frame() -> pd.DataFrame:
    """A provider's answer without any run."""
    return pd.DataFrame(columns=list(PROVIDER_COLUMNS))


def provider_frame_of_run_table(table: pd.DataFrame, ref_speed_m_s: float | None) -> pd.DataFrame:
    """The run analytics' run table as a provider frame of pace-adjusted values.

    ``table`` has the columns ``id``, ``balance_at_ref_speed_left_pct`` and ``gct_at_ref_speed_ms``
    (the values at one reference speed for all runs, i.e. pace-adjusted). Raises LookupError when the
    pace-adjusted balance column is missing.
    """
    if table.empty:
        return empty_provider_frame()
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
    if ref_speed_m_s is not None:
        out.attrs["ref_speed_m_s"] = float(ref_speed_m_s)
    return out


def catalog_asymmetry(rows: Iterable[RunRow]) -> pd.DataFrame:
    """The runs among ``rows`` with the catalog's raw means: ``activity_id``, ``start_time``,
    ``balance_left_pct``, ``gct_s`` (NaN where unknown)."""
    recs = []
    for r in rows:
        if not is_run(r):
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


def merge_asymmetry(base: pd.DataFrame, adjusted: pd.DataFrame | None) -> pd.DataFrame:
    """Per-run GCT balance (LEFT share, %) and GCT (s), labelled by source.

    ``base`` is :func:`catalog_asymmetry`; ``adjusted`` a provider's frame (None: catalog means only).
    Runs the provider does not cover (or covers with NaN) keep the catalog means, row by row.
    Columns: :data:`COLUMNS`; ``day`` is the UTC calendar day of the start.
    """
    base = base.copy()
    base["source"] = SOURCE_CATALOG
    if adjusted is not None and len(base):
        ref = adjusted.attrs.get("ref_speed_m_s")
        adj = (
            adjusted.dropna(subset=["balance_left_pct"])
            .drop_duplicates("activity_id")
            .set_index("activity_id")
        )
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
