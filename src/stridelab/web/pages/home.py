"""The home (``/``) and its API (``/api/home``): where you stand, why, what to do today, is it working.

Answers from the cached analyses only: while the background analysis is still filling the cache the
page says so (and reloads) instead of analysing every run inside the request.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from stridelab.jsonsafe import to_jsonable
from stridelab.present.home import home_json, home_sentences
from stridelab.services.home import home
from stridelab.services.training import recent_fitness
from stridelab.web.pages._common import JSONText, render, state, units_of

__all__ = ["fitness_chart", "router"]

router = APIRouter()

#: the sections in reading order, with their headings
SECTIONS: tuple[tuple[str, str], ...] = (
    ("standing", "Where you stand"),
    ("drift", "As you tire"),
    ("change", "What changed and why"),
    ("side", "Which side to work on"),
    ("today", "Today"),
    ("experiment", "Your experiment"),
    ("load", "Load guard"),
    ("outcome", "Is the program working?"),
)


def _grouped(request: Request) -> tuple[dict[str, Any] | None, int]:
    st = state(request)
    pending = st.index.pending()
    if pending:
        if st.config.background_analysis:
            st.index.refresh()
        return None, pending
    h = home(st.store, st.athlete, today=st.today())
    groups: dict[str, list[Any]] = {key: [] for key, _ in SECTIONS}
    for s in home_sentences(h, units=units_of(request)):
        groups[s.section.split(".")[0]].append(s)
    return {"home": h, "groups": groups}, 0


@router.get("/api/home", tags=["home"], summary="Where you stand, why, what to do today")
def api_home(request: Request) -> JSONText:
    """The ``stridelab status --json`` contract for the dashboard's athlete and day (202 while the
    background analysis is still running)."""
    st = state(request)
    if st.index.pending():
        return JSONText({"pending": st.index.pending()}, status_code=202)
    return JSONText(home_json(home(st.store, st.athlete, today=st.today())))


def fitness_chart(request: Request) -> dict[str, Any]:
    """Fitness (CTL), fatigue (ATL) and form (TSB) of the heart-rate TRIMP (else the power score), the
    daily load as bars; the last 16 weeks."""
    st = state(request)
    rep = recent_fitness(st.store, st.athlete, today=st.today(), days=16 * 7)
    name = rep["load"]
    title = "Fitness and fatigue (TRIMP: heart rate)" if name == "trimp" else "Fitness and fatigue (power)"
    if name is None:
        return {
            "data": [],
            "layout": {
                "title": {"text": "Fitness and fatigue"},
                "height": 220,
                "xaxis": {"visible": False},
                "yaxis": {"visible": False},
                "annotations": [{"text": "no runs with heart rate or power", "showarrow": False}],
            },
        }
    x = rep["day"]
    data = [
        {
            "type": "bar",
            "x": x,
            "y": rep["load_per_day"],
            "name": "daily load",
            "marker": {"color": "#c6dbef"},
        },
        {
            "type": "scatter",
            "x": x,
            "y": rep["ctl"],
            "name": "fitness (CTL, 42 d)",
            "line": {"color": "#1f77b4"},
        },
        {
            "type": "scatter",
            "x": x,
            "y": rep["atl"],
            "name": "fatigue (ATL, 7 d)",
            "line": {"color": "#d62728"},
        },
        {
            "type": "scatter",
            "x": x,
            "y": rep["tsb"],
            "name": "form (TSB)",
            "line": {"color": "#2ca02c", "dash": "dot"},
        },
    ]
    notes = "; ".join(rep["assumptions"])
    layout = {
        "template": "plotly_white",
        "height": 320,
        "margin": {"l": 50, "r": 20, "t": 50, "b": 40},
        "title": {"text": title},
        "legend": {"orientation": "h", "y": -0.2},
        "yaxis": {"title": {"text": "load per day"}},
        "annotations": [
            {
                "text": notes,
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": 1.0,
                "xanchor": "left",
                "yanchor": "bottom",
                "font": {"size": 9, "color": "#667085"},
            }
        ]
        if notes
        else [],
    }
    return {"data": to_jsonable(data), "layout": layout}


@router.get("/api/home/charts/fitness", tags=["home"], summary="Fitness, fatigue and form (Plotly JSON)")
def api_fitness_chart(request: Request) -> JSONText:
    """CTL, ATL and TSB of the heart-rate TRIMP (or the power stress score), with the assumptions."""
    return JSONText(fitness_chart(request))


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home_page(request: Request) -> HTMLResponse:
    data, pending = _grouped(request)
    return render(request, "home.html", title="Home", data=data, pending=pending, sections=SECTIONS)
