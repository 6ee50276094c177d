"""Walking gait (``/walking``): daily walking asymmetry, double support, step length and walking speed
from Apple Health (iPhone), a chart and a table, in display units."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from stridelab.present.walking import WALKING_DISPLAY, walking_chart, walking_json
from stridelab.services.health import WalkingGait, walking_gait
from stridelab.web.pages._common import JSONText, render, state

__all__ = ["router"]

router = APIRouter()
_DAYS = Query(None, ge=1, le=36500, description="Only the last N days (ending on the last day with data)")


def _gait(request: Request, days: int | None) -> WalkingGait:
    st = state(request)
    try:
        return walking_gait(st.store, st.athlete, days)
    except ValueError as exc:  # pragma: no cover - Query(ge=1) refuses it first
        raise HTTPException(422, str(exc)) from exc


@router.get("/api/walking", tags=["walking"], summary="Daily walking gait (Apple Health)")
def api_walking(request: Request, days: int | None = _DAYS) -> JSONText:
    """Per day: walking asymmetry (%), double support (%), step length (cm), walking speed (km/h)."""
    return JSONText(walking_json(_gait(request, days)))


@router.get("/api/walking/chart", tags=["walking"], summary="Walking gait chart (Plotly JSON)")
def api_walking_chart(request: Request, days: int | None = _DAYS) -> JSONText:
    return JSONText(walking_chart(_gait(request, days)))


@router.get("/walking", response_class=HTMLResponse, include_in_schema=False)
def walking_page(request: Request, days: int | None = _DAYS) -> HTMLResponse:
    payload = walking_json(_gait(request, days))
    return render(
        request,
        "walking.html",
        title="Walking gait",
        walking=payload,
        specs=list(WALKING_DISPLAY.values()),
        days=days,
        chart_url="/api/walking/chart" + (f"?days={days}" if days else ""),
    )
