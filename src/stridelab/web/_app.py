"""The ASGI app, built from a :class:`WebConfig`: one FastAPI object, one router per page type."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from stridelab.version import __version__
from stridelab.web._config import WebConfig
from stridelab.web._security import SecurityMiddleware, csrf_token_of
from stridelab.web._state import WebState
from stridelab.web.pages import (
    JSONText,
    cohort,
    experiments,
    home,
    imports,
    live,
    plan,
    render,
    run,
    runs,
    tests,
    trends,
    walking,
)

__all__ = ["create_app"]

_log = logging.getLogger("stridelab.web")


def _build_routes_now(app: FastAPI) -> None:
    """Have FastAPI build every route's parameter adapters here, in one thread, not on the first
    requests: it builds them inside ``warnings.catch_warnings()`` (to silence a pydantic warning),
    which is not thread-safe -- two first requests at once could restore each other's warning filters
    and let the warning escape (an error under the test suite's filters; it showed once the CLI no
    longer imported pydantic before the server did). A match attempt builds a route's state."""
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "root_path": "",
        "headers": [],
        "query_string": b"",
    }
    for route in app.router.routes:
        with contextlib.suppress(Exception):  # only the side effect matters
            route.matches(scope)


def create_app(config: WebConfig) -> FastAPI:
    """The dashboard over ``config.store_path``. ``app.state.web`` holds the :class:`WebState`;
    stopping the app (lifespan shutdown) or ``app.state.web.close()`` stops its writer thread."""
    web = WebState(config)
    web.warmers.append(trends.warm)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        web.index.refresh()  # start filling the analysis cache right away
        if not web.index.pending():
            web.warm()
        yield
        web.close()

    app = FastAPI(
        title="stridelab dashboard",
        version=__version__,
        description="Local dashboard over a stridelab store: runs, trends, plan, balance tests, import.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # Swagger UI and ReDoc load assets from CDNs: not here
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.web = web
    for module in (home, runs, run, trends, plan, tests, imports, experiments, walking, live, cohort):
        app.include_router(module.router)

    @app.get("/api/csrf", tags=["meta"], summary="This browser's CSRF token")
    def api_csrf(request: Request) -> JSONText:
        """The token to send as ``X-CSRF-Token`` on POST requests (the cookie is set alongside)."""
        return JSONText({"csrf_token": csrf_token_of(request.scope), "header": "X-CSRF-Token"})

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONText:
        return JSONText({"ok": True, "version": __version__})

    from importlib.resources import files

    # plotly.js is served from the installed plotly package (the same file the offline HTML reports
    # embed): local, versioned with the Python package, never a CDN, and not copied into this repo
    plotly_js = files("plotly") / "package_data" / "plotly.min.js"

    @app.get("/static/vendor/plotly.min.js", include_in_schema=False)
    def plotly_min_js() -> FileResponse:
        return FileResponse(
            str(plotly_js),
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    static_dir = files("stridelab.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static_dir)), name="static")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _error(request, exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(f"{_where(e)}: {e.get('msg')}" for e in exc.errors())
        status = 404 if any(e.get("loc", ("",))[0] == "path" for e in exc.errors()) else 422
        return _error(request, status, f"Invalid request: {problems}", None)

    app.add_middleware(SecurityMiddleware, config=config)
    _build_routes_now(app)
    return app


def _where(error: dict[str, Any]) -> str:
    return ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path"))


def _error(request: Request, status: int, detail: str, headers: dict[str, str] | None) -> Response:
    if request.url.path.startswith("/api/") or "text/html" not in request.headers.get("accept", ""):
        return JSONText({"detail": detail}, status_code=status, headers=headers)
    try:
        return render(
            request, "error.html", status_code=status, title=f"Error {status}", status=status, detail=detail
        )
    except Exception:  # never fail while reporting a failure
        _log.exception("cannot render the error page")
        return HTMLResponse(f"<p>Error {status}</p>", status_code=status)
