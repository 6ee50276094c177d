"""The home (``/``) and its API (``/api/home``): where you stand, why, what to do today, is it working.

Answers from the cached analyses only: while the background analysis is still filling the cache the
page says so (and reloads) instead of analysing every run inside the request.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from stridelab.present.home import home_json, home_sentences
from stridelab.services.home import home
from stridelab.web.pages._common import JSONText, render, state

__all__ = ["router"]

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
    for s in home_sentences(h):
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


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home_page(request: Request) -> HTMLResponse:
    data, pending = _grouped(request)
    return render(request, "home.html", title="Home", data=data, pending=pending, sections=SECTIONS)
