"""Cohort (``/cohort``): every athlete of the store's Parquet datasets in one table -- pace-adjusted
GCT balance, trend with its interval, drift, plan adherence, flags (docs/scale.md).

The numbers come from one DuckDB query over ``<store>/datasets/summaries`` (what ``stridelab import
--athlete-from folder`` writes) plus each athlete's active-plan adherence from the catalog."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from stridelab.web._state import WebState
from stridelab.web.pages._common import JSONText, render, state

__all__ = ["router"]

router = APIRouter()


def _cohort(st: WebState) -> dict[str, Any]:
    from stridelab.scale import cohort  # lazy: DuckDB and scipy only on this page

    root = st.store.root / "datasets"
    error = None
    try:
        rows = cohort(root, store=st.store, today=st.today())
    except FileNotFoundError:
        rows = []
    except ValueError as exc:  # a file of the dataset cannot be read: named on the page
        rows, error = [], str(exc)
    return {
        "dataset": str(root),
        "today": st.today().isoformat(),
        "athletes": [r.to_json() for r in rows],
        "error": error,
    }


@router.get("/api/cohort", tags=["cohort"], summary="Every athlete of the datasets")
def api_cohort(request: Request) -> JSONText:
    """Per athlete: runs, mean and pace-adjusted GCT balance (% LEFT), trend per 30 days with its 95 %
    interval, drift (last 28 days vs before), plan adherence (%) and flags."""
    return JSONText(_cohort(state(request)))


@router.get("/cohort", response_class=HTMLResponse, include_in_schema=False)
def cohort_page(request: Request) -> HTMLResponse:
    return render(request, "cohort.html", title="Cohort", cohort=_cohort(state(request)))
