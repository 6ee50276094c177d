"""The local web dashboard: ``stridelab serve`` (runs, run detail, trends, plan & today, balance
tests, import) over the runner's own store, plus a JSON API under ``/api`` with an OpenAPI schema.

>>> from stridelab.web import WebConfig, create_app
>>> app = create_app(WebConfig(store_path="~/stridelab-store"))     # an ASGI app (FastAPI)

Bound to 127.0.0.1 by default; any other address requires an access token. See ``docs/web.md``.
"""

from __future__ import annotations

from stridelab.web._app import create_app
from stridelab.web._config import DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_PORT, WebConfig, is_loopback

__all__ = [
    "DEFAULT_MAX_UPLOAD_BYTES",
    "DEFAULT_PORT",
    "WebConfig",
    "create_app",
    "is_loopback",
]
