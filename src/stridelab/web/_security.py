"""Security middleware: host check, access token, CSRF, security headers (pure ASGI, no buffering
except the small url-encoded form bodies it must read for their CSRF field).

* **Host check** (loopback mode): only ``127.0.0.1``, ``localhost`` and ``[::1]`` Host headers are
  served, so a web page cannot reach the dashboard through DNS rebinding.
* **Access token** (network mode): ``?token=`` once (sets an HttpOnly cookie and redirects to the
  same URL without it), or ``Authorization: Bearer``; anything else gets 401.
* **CSRF**: every POST/PUT/PATCH/DELETE must carry the per-browser CSRF token -- header
  ``X-CSRF-Token`` or form field ``csrf_token`` -- equal to the ``stridelab_csrf`` cookie
  (SameSite=Strict, HttpOnly; double submit), and must not come from another origin
  (``Origin``/``Sec-Fetch-Site``). ``GET /api/csrf`` hands the token to scripts.
* **Headers**: a strict Content-Security-Policy (scripts only from this server, no inline script),
  no framing, no sniffing, no referrer to other sites, no caching of pages and API answers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any, Final
from urllib.parse import parse_qsl, quote, urlencode

from stridelab.web._config import WebConfig

__all__ = ["CSRF_COOKIE", "CSRF_FIELD", "CSRF_HEADER", "SecurityMiddleware", "csrf_token_of"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSRF_COOKIE: Final[str] = "stridelab_csrf"
CSRF_HEADER: Final[str] = "x-csrf-token"
CSRF_FIELD: Final[str] = "csrf_token"
AUTH_COOKIE: Final[str] = "stridelab_auth"
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
_UNSAFE: Final[frozenset[str]] = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_MAX_FORM_BYTES: Final[int] = 256 * 1024
CSP: Final[str] = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
_HEADERS: Final[list[tuple[bytes, bytes]]] = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
]


def csrf_token_of(scope: Scope) -> str:
    """The CSRF token of this request's browser (set by the middleware)."""
    return str(scope.get("state", {}).get("csrf_token", ""))


def _headers(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in scope.get("headers", []):
        out[k.decode("latin-1").lower()] = v.decode("latin-1")
    return out


def _cookies(headers: dict[str, str]) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # a malformed cookie header is treated as no cookies
        return {}
    return {k: m.value for k, m in jar.items()}


def same_origin_path(path: str) -> str:
    """``path`` as a redirect target that stays on this site: a path starting with one ``/`` (not
    ``//host`` or ``/\\host``, which browsers read as another site), re-quoted so that no control
    character or backslash survives (a browser drops tabs and newlines: ``/\t/evil`` would become
    ``//evil``); anything else is ``/``."""
    if not path.startswith("/") or path[1:2] in ("/", "\\"):
        return "/"
    quoted = quote(path, safe="/:@!$&'()*+,;=-._~")
    return quoted if not quoted.startswith("//") else "/"


def _auth_value(token: str) -> str:
    return hashlib.sha256(b"stridelab-web-auth:" + token.encode()).hexdigest()


async def _plain(
    send: Send, status: int, text: str, *, json_body: bool, extra: list[tuple[bytes, bytes]]
) -> None:
    if json_body:
        body = json.dumps({"detail": text}).encode()
        ctype = b"application/json"
    else:
        body = (
            "<!doctype html><meta charset=utf-8><title>stridelab</title>"
            f"<p style='font-family:sans-serif'>{text}</p>"
        ).encode()
        ctype = b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode()), *extra],
        }
    )
    await send({"type": "http.response.body", "body": body})


class SecurityMiddleware:
    """See the module docstring."""

    def __init__(self, app: ASGIApp, config: WebConfig) -> None:
        self.app = app
        self.config = config
        self.allowed_hosts = config.allowed_hosts()
        self.auth_value = _auth_value(config.token) if config.token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        path: str = scope.get("path", "")
        is_api = path.startswith("/api/")
        base_headers = list(_HEADERS)
        # ---- host check (DNS rebinding)
        if self.allowed_hosts is not None:
            host = headers.get("host", "").lower()
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if name not in self.allowed_hosts:
                await _plain(send, 400, "Invalid Host header.", json_body=is_api, extra=base_headers)
                return
        cookies = _cookies(headers)
        # ---- access token
        if self.auth_value is not None:
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
            given = query.get("token")
            if (
                given is not None
                and self.config.token
                and hmac.compare_digest(given.encode(), self.config.token.encode())
            ):
                rest = urlencode([(k, v) for k, v in query.items() if k != "token"])
                location = same_origin_path(path) + ("?" + rest if rest else "")
                cookie = (
                    f"{AUTH_COOKIE}={self.auth_value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000"
                ).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 303,
                        "headers": [
                            (b"location", location.encode()),
                            (b"set-cookie", cookie),
                            (b"content-length", b"0"),
                            (b"cache-control", b"no-store"),
                            *base_headers,
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": b""})
                return
            bearer = headers.get("authorization", "")
            ok = hmac.compare_digest(cookies.get(AUTH_COOKIE, "").encode(), self.auth_value.encode())
            if not ok and bearer.lower().startswith("bearer ") and self.config.token:
                ok = hmac.compare_digest(bearer[7:].strip().encode(), self.config.token.encode())
            if not ok:
                await _plain(
                    send,
                    401,
                    "This dashboard needs its access token: open the link (or scan the QR code) that "
                    "`stridelab serve` printed.",
                    json_body=is_api,
                    extra=[*base_headers, (b"www-authenticate", b"Bearer")],
                )
                return
        # ---- CSRF token of this browser
        csrf = cookies.get(CSRF_COOKIE, "")
        new_cookie = None
        if not _TOKEN_RE.match(csrf):
            csrf = secrets.token_urlsafe(32)
            new_cookie = f"{CSRF_COOKIE}={csrf}; Path=/; HttpOnly; SameSite=Strict".encode()
        scope.setdefault("state", {})["csrf_token"] = csrf
        method = scope.get("method", "GET").upper()
        if method in _UNSAFE:
            problem = self._cross_site(headers)
            if problem is None:
                given = headers.get(CSRF_HEADER) or None
                if given is None:
                    ctype = headers.get("content-type", "")
                    if ctype.startswith("application/x-www-form-urlencoded"):
                        body, receive = await _buffer(receive)
                        if body is None:
                            await _plain(send, 413, "Form too large.", json_body=is_api, extra=base_headers)
                            return
                        given = dict(parse_qsl(body.decode("utf-8", "replace"))).get(CSRF_FIELD)
                if (
                    new_cookie is not None
                    or not given
                    or not hmac.compare_digest(given.encode(), csrf.encode())
                ):
                    problem = "Missing or invalid CSRF token: reload the page and try again."
            if problem is not None:
                await _plain(send, 403, problem, json_body=is_api, extra=base_headers)
                return

        static = path.startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                hdrs = list(message.get("headers", []))
                names = {k.lower() for k, _ in hdrs}
                hdrs += [h for h in base_headers if h[0] not in names]
                if b"cache-control" not in names:
                    hdrs.append((b"cache-control", b"public, max-age=3600" if static else b"no-store"))
                if new_cookie is not None and not static:
                    hdrs.append((b"set-cookie", new_cookie))
                message["headers"] = hdrs
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _cross_site(self, headers: dict[str, str]) -> str | None:
        site = headers.get("sec-fetch-site")
        if site is not None:  # browsers send it on every request: the most reliable signal
            return None if site in ("same-origin", "none") else "Cross-site request refused."
        origin = headers.get("origin")
        if origin and origin != "null":
            host = headers.get("host", "")
            if origin.split("://", 1)[-1].lower() != host.lower():
                return "Cross-origin request refused."
        elif origin == "null":
            return "Cross-origin request refused."
        return None


async def _buffer(receive: Receive) -> tuple[bytes | None, Receive]:
    """Read the whole (small) body and return a receive() that replays it."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > _MAX_FORM_BYTES:
            return None, receive
        chunks.append(chunk)
        more = bool(message.get("more_body", False))
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay
