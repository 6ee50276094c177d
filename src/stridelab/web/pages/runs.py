"""The runs list (``/runs``) and its API (``/api/runs``): filters, search, sorting, pagination.

Reads the in-memory runs index only (catalog snapshot + cached analyses): no record stream is opened
and no run is analysed on a request, so thousands of runs list as fast as a dozen.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from stridelab.services.analysis import BALANCE_ZONE_NAMES
from stridelab.web._index import SORT_KEYS, RunQuery
from stridelab.web.pages._common import JSONText, render, state

__all__ = ["router"]

router = APIRouter()
_ZONES = (*BALANCE_ZONE_NAMES, "left", "right")


class RunItem(BaseModel):
    """One run of ``/api/runs`` (presentation units in the names; null = unknown)."""

    id: str
    start_time: str
    sport: str | None
    distance_m: float | None
    duration_s: float | None
    speed_m_s: float | None
    pace_s_per_km: float | None
    balance_mean_left_pct: float | None
    balance_zone: str | None
    balance_at_ref_speed_left_pct: float | None
    balance_at_ref_speed_ci_left_pct: list[float] | None
    balance_drift_pp_per_h: float | None
    flags: list[str]
    tags: list[str]
    analysed: bool
    analysis_error: str | None
    source_name: str | None


class Status(BaseModel):
    """What the server is doing."""

    athlete: str
    store: str
    runs: int
    analysis_pending: int
    writer_queue: int
    imports_active: int
    ref_speed_m_s: float | None


def _query(
    q: str,
    since: date | None,
    until: date | None,
    zone: str | None,
    flag: str | None,
    sort: str,
    order: str,
    all_: bool,
    tag: str | None = None,
) -> RunQuery:
    if zone and zone not in _ZONES:
        raise HTTPException(422, f"Invalid value for 'zone'. Allowed values are {', '.join(_ZONES)}.")
    if sort not in SORT_KEYS:
        raise HTTPException(422, f"Invalid value for 'sort'. Allowed values are {', '.join(SORT_KEYS)}.")
    if order not in ("asc", "desc"):
        raise HTTPException(422, "Invalid value for 'order'. Allowed values are 'asc', 'desc'.")
    return RunQuery(
        q=q.strip()[:100],
        since=since,
        until=until,
        zone=zone or None,
        flag=flag or None,
        tag=tag.strip() or None if tag else None,
        runs_only=not all_,
        sort=sort,
        descending=order == "desc",
    )


QText = Annotated[str, Query(max_length=100, description="Search: id prefix, date, file name, flag")]
QZone = Annotated[str | None, Query(description="Balance zone of the mean: a zone name, or left/right")]
QFlag = Annotated[str | None, Query(max_length=40, pattern=r"^[a-z_]*$")]
QTag = Annotated[
    str | None,
    Query(max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$", description="Tag: key, key=value or a full label"),
]
QSort = Annotated[str, Query(description="date, distance, pace, balance or adjusted")]
QOrder = Annotated[str, Query(pattern=r"^(asc|desc)$")]
#: days from the filter form: empty means no bound
_DAY = r"^(\d{4}-\d{2}-\d{2})?$"
QSince = Annotated[str, Query(alias="since", pattern=_DAY)]
QUntil = Annotated[str, Query(alias="until", pattern=_DAY)]


def _day(text: str, name: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError as exc:
        raise HTTPException(422, f"Invalid value for '{name}': {text!r} is not a date (YYYY-MM-DD).") from exc


@router.get("/api/runs", response_model=list[RunItem], tags=["runs"], summary="List runs")
def api_runs(
    request: Request,
    q: QText = "",
    since: date | None = None,
    until: date | None = None,
    zone: QZone = None,
    flag: QFlag = None,
    tag: QTag = None,
    sort: QSort = "date",
    order: QOrder = "desc",
    all: bool = Query(False, description="Include non-running activities"),
    limit: int | None = Query(None, ge=1, le=10_000),
    offset: int = Query(0, ge=0),
) -> Response:
    """Runs (newest first by default) as a JSON list; ``X-Total-Count`` gives the number of matches."""
    st = state(request)
    query = _query(q, since, until, zone, flag, sort, order, all, tag)
    rows, total = st.index.query(query, offset=offset, limit=limit, tags=st.tags)
    return Response(
        st.index.json_items(rows, st.tags(e.id for e in rows)),
        media_type="application/json",
        headers={"X-Total-Count": str(total)},
    )


@router.get("/api/status", response_model=Status, tags=["runs"], summary="Server status")
def api_status(request: Request) -> JSONText:
    """How many runs, how many still being analysed in the background, the writer's queue."""
    st = state(request)
    entries = st.index.entries()
    return JSONText(
        {
            "athlete": st.athlete,
            "store": str(st.store.root),
            "runs": sum(1 for e in entries if e.is_run),
            "analysis_pending": st.index.pending(),
            "writer_queue": st.writer.pending(),
            "imports_active": st.active_jobs(),
            "ref_speed_m_s": st.index.ref_speed_m_s,
        }
    )


@router.get("/runs", response_class=HTMLResponse, include_in_schema=False)
def runs_page(
    request: Request,
    q: QText = "",
    since_: QSince = "",
    until_: QUntil = "",
    zone: QZone = None,
    flag: QFlag = None,
    tag: QTag = None,
    sort: QSort = "date",
    order: QOrder = "desc",
    all: bool = False,
    page: int = Query(1, ge=1, le=100_000),
) -> HTMLResponse:
    st = state(request)
    since, until = _day(since_, "since"), _day(until_, "until")
    query = _query(q, since, until, zone, flag, sort, order, all, tag)
    size = st.config.page_size
    rows, total = st.index.query(query, offset=(page - 1) * size, limit=size, tags=st.tags)
    pages = max(1, math.ceil(total / size))
    params: dict[str, Any] = {
        "q": q,
        "since": since.isoformat() if since else "",
        "until": until.isoformat() if until else "",
        "zone": zone or "",
        "flag": flag or "",
        "tag": query.tag or "",
        "sort": sort,
        "order": order,
    }
    if all:
        params["all"] = "true"
    base = {k: v for k, v in params.items() if v not in ("", None)}

    def page_url(n: int) -> str:
        return "/runs?" + urlencode({**base, "page": n})

    def sort_url(key: str) -> str:
        new_order = "asc" if sort == key and order == "desc" else "desc"
        return "/runs?" + urlencode({**base, "sort": key, "order": new_order})

    pending = st.index.pending()
    if pending and st.config.background_analysis:
        st.index.refresh()  # make sure a background job is queued
    return render(
        request,
        "runs.html",
        title="Runs",
        rows=rows,
        tags=st.tags(e.id for e in rows),
        total=total,
        page=page,
        pages=pages,
        page_url=page_url,
        sort_url=sort_url,
        params=params,
        zones=_ZONES,
        flags=st.index.all_flags(),
        pending=pending,
        ref_speed=st.index.ref_speed_m_s,
    )
