"""Helpers shared by the page modules: the state, rendering, JSON answers, id parameters."""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import HTTPException, Path, Request
from fastapi.responses import HTMLResponse, Response

from stridelab.jsonsafe import dumps
from stridelab.services import AmbiguousIdError, UnknownIdError
from stridelab.web._security import csrf_token_of
from stridelab.web._state import WebState

__all__ = ["NAV", "UNITS_COOKIE", "JSONText", "RunId", "render", "resolve_run", "state", "units_of"]

#: the cookie that remembers the viewer's display units (``?units=imperial`` on any page sets it)
UNITS_COOKIE: Final = "stridelab_units"

#: (path, label) of the navigation bar
NAV: Final[list[tuple[str, str]]] = [
    ("/", "Home"),
    ("/runs", "Runs"),
    ("/trends", "Trends"),
    ("/experiments", "Experiments"),
    ("/plan", "Plan & today"),
    ("/tests", "Balance tests"),
    ("/walking", "Walking"),
    ("/cohort", "Cohort"),
    ("/live", "Live"),
    ("/import", "Import"),
]

#: a run id or an unambiguous prefix (at least 4 hex characters, like a git hash)
RunId = Annotated[
    str,
    Path(pattern=r"^[0-9a-fA-F]{4,64}$", description="Run id (sha256) or a unique prefix of ≥ 4 hex chars"),
]


class JSONText(Response):
    """A JSON response serialised compactly (NaN -> null, numpy and timestamps handled)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content, compact=True).encode("utf-8")


def state(request: Request) -> WebState:
    """The app's :class:`WebState`."""
    return request.app.state.web


def units_of(request: Request) -> str:
    """The viewer's display units: ``?units=`` if valid, else the cookie, else metric (SI inside)."""
    for value in (request.query_params.get("units"), request.cookies.get(UNITS_COOKIE)):
        if value in ("metric", "imperial"):
            return value
    return "metric"


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page template with the common context (navigation, CSRF token, athlete, units)."""
    st = state(request)
    units = units_of(request)
    html = st.env.get_template(template).render(
        request_path=request.url.path,
        nav=NAV,
        csrf_token=csrf_token_of(request.scope),
        athlete=st.athlete,
        today=st.today(),
        units=units,
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    if request.query_params.get("units") == units:
        response.set_cookie(UNITS_COOKIE, units, max_age=365 * 86400, samesite="strict", httponly=True)
    return response


def resolve_run(request: Request, run_id: str) -> str:
    """The full id of ``run_id`` or 404 (unknown) / 409 (ambiguous prefix)."""
    try:
        return state(request).resolve(run_id)
    except UnknownIdError as exc:
        raise HTTPException(404, str(exc)) from exc
    except AmbiguousIdError as exc:
        raise HTTPException(409, str(exc)) from exc
