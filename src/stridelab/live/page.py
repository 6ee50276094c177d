"""The live page for a phone: big numbers, a GCT balance gauge with Garmin's zones, cues spoken by
the browser (speech synthesis). Updates arrive by Server-Sent Events from the live loop.

``live_app(broadcast)`` serves ``GET /live`` (the page), ``GET /live/app.js`` (its script: no inline
script, so a strict Content-Security-Policy holds) and ``GET /live/events`` (SSE: one ``data:`` JSON
object per update, note or cue). The loop calls :meth:`Broadcast.publish` from its own thread.
Bound anywhere but 127.0.0.1, every route needs the token (``?token=``).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import threading
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

from stridelab.jsonsafe import dumps
from stridelab.live.cues import BALANCE_ZONES_LEFT_PCT, KINEMATIC_LABELS

__all__ = ["LIVE_JS", "Broadcast", "live_app", "view_html", "zones_html"]


class Broadcast:
    """Fan-out of live items to every open page (thread-safe publish, asyncio subscribers)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[str]]] = []
        self.last: str | None = None
        self.sticky: dict[str, str] = {}  # target bands and the current lap, replayed to a new page

    def publish(self, item: dict[str, Any]) -> None:
        text = dumps(item)
        with self._lock:
            kind = item.get("type")
            if kind == "update":
                self.last = text
            elif kind == "target":
                self.sticky[f"target:{item.get('metric')}"] = text
            elif kind == "lap":
                self.sticky["lap"] = text
            subs = list(self._subs)
        for loop, q in subs:
            loop.call_soon_threadsafe(q.put_nowait, text)

    def subscribers(self) -> int:
        with self._lock:
            return len(self._subs)

    async def subscribe(self) -> AsyncIterator[str]:
        q: asyncio.Queue[str] = asyncio.Queue()
        entry = (asyncio.get_running_loop(), q)
        with self._lock:
            self._subs.append(entry)
            last = self.last
            sticky = list(self.sticky.values())
        try:
            yield json.dumps({"type": "hello"})
            for text in sticky:
                yield text
            if last is not None:
                yield last
            while True:
                yield await q.get()
        finally:
            with self._lock:
                self._subs.remove(entry)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>stridelab live</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;padding:1rem;background:#111;color:#eee}
.big{font-size:3.2rem;font-weight:700;line-height:1.1}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:1rem}
.label{font-size:.9rem;color:#aaa}
#gauge{position:relative;height:2rem;display:flex;border-radius:.4rem;overflow:hidden;margin:.5rem 0}
#gauge div{height:100%}
#needle{position:absolute;top:-.2rem;width:.3rem;height:2.4rem;background:#fff;left:50%}
#band{position:absolute;top:0;height:100%;border:.2rem solid #fff;box-sizing:border-box;display:none}
#cue{font-size:1.6rem;color:#ffd54f;min-height:2rem}
#lap{font-size:1.4rem;color:#80deea;min-height:1.6rem}
#note{font-size:.8rem;color:#999}
</style></head>
<body data-connected="no">
__VIEW__<script src="/live/app.js__QUERY__"></script>
</body></html>
"""

_JS = """
(function () {
  var LO = 46.0, HI = 54.0;
  function pos(v) { return Math.max(0, Math.min(100, (v - LO) / (HI - LO) * 100)); }
  function set(id, v, f) {
    document.getElementById(id).textContent = (v === null || v === undefined) ? "—" : f(v);
  }
  function pace(v) {
    var s = Math.round(1000 / v), m = Math.floor(s / 60), r = s % 60;
    return m + ":" + (r < 10 ? "0" : "") + r;
  }
  function speak(text) {
    if (window.speechSynthesis && window.SpeechSynthesisUtterance) {
      window.speechSynthesis.speak(new SpeechSynthesisUtterance(text));
    }
  }
  var KIN = ["foot_strike_angle_rad_left", "foot_strike_angle_rad_right", "pelvic_drop_rad_left",
             "pelvic_drop_rad_right", "trunk_lean_rad"];
  var es = new EventSource("/live/events" + location.search);
  es.onopen = function () { document.body.dataset.connected = "yes"; };
  es.onmessage = function (m) {
    var d = JSON.parse(m.data);
    if (d.type === "hello") { document.body.dataset.connected = "yes"; return; }
    if (d.type === "note") { document.getElementById("note").textContent = d.text; return; }
    if (d.type === "target") {
      if (d.metric === "stance_time_balance_left_pct") {
        var band = document.getElementById("band");
        band.style.left = pos(d.low) + "%";
        band.style.width = (pos(d.high) - pos(d.low)) + "%";
        band.style.display = "block";
        band.dataset.low = d.low; band.dataset.high = d.high;
      }
      var t = document.getElementById("target");
      var words = d.metric === "speed_m_s"
        ? "target pace " + pace(d.high) + "–" + pace(d.low) + " /km"
        : "target " + d.metric.replace(/_/g, " ") + " " + d.low + "–" + d.high;
      t.textContent = (t.textContent ? t.textContent + " · " : "") + words;
      return;
    }
    if (d.type === "lap") {
      document.getElementById("lap").textContent = d.text;
      if (d.arm) { speak(d.text); }
      return;
    }
    if (d.type !== "update") { return; }
    var b = d.stance_time_balance_left_pct;
    set("balance", b, function (v) {
      return v >= 50 ? v.toFixed(1) + " % L" : (100 - v).toFixed(1) + " % R";
    });
    if (b !== null && b !== undefined) { document.getElementById("needle").style.left = pos(b) + "%"; }
    set("cadence", d.cadence_spm, function (v) { return v.toFixed(0); });
    set("contact", d.stance_time_s, function (v) { return (v * 1000).toFixed(0); });
    set("flight", d.flight_time_s, function (v) { return (v * 1000).toFixed(0); });
    set("symmetry", d.step_time_symmetry_index_pct, function (v) { return v.toFixed(1); });
    KIN.forEach(function (k) {  // kinematics: shown once the stream has the sensor for them
      if (d[k] === undefined) { return; }
      document.getElementById("kin").style.display = "grid";
      var el = document.getElementById(k);
      el.parentNode.style.display = "block";
      set(k, d[k], function (v) { return (v * 180 / Math.PI).toFixed(1); });
    });
    set("time", d.time_s, function (v) { return v.toFixed(0); });
    set("latency", d.latency_s, function (v) { return v.toFixed(3); });
    (d.cues || []).forEach(function (c) {
      document.getElementById("cue").textContent = c.text;
      speak(c.text);
    });
  };
})();
"""

_COLOURS = {"red": "#c62828", "orange": "#ef6c00", "green": "#2e7d32"}


def zones_html(lo: float = 46.0, hi: float = 54.0) -> str:
    """The gauge's zone bars (Garmin's GCT balance zones) as HTML."""
    parts, prev = [], lo
    for upper, zone in BALANCE_ZONES_LEFT_PCT:
        top = min(upper, hi)
        width = 100.0 * (top - prev) / (hi - lo)
        parts.append(
            f'<div class="zone-{zone}" style="width:{width:.2f}%;background:{_COLOURS[zone]}"></div>'
        )
        prev = top
    return "".join(parts)


#: the page's script (also served by the dashboard's /live page)
LIVE_JS = _JS


#: the numbers, the gauge, the lap and the cue: one fragment for this page and the dashboard's /live
_VIEW = """<div class="label">GCT balance</div>
<div class="big" id="balance">—</div>
<div id="gauge">__ZONES__<span id="band"></span><span id="needle"></span></div>
<div class="label" id="target"></div>
<div id="lap"></div>
<div class="grid">
 <div><div class="label">cadence (spm)</div><div class="big" id="cadence">—</div></div>
 <div><div class="label">contact (ms)</div><div class="big" id="contact">—</div></div>
 <div><div class="label">flight (ms)</div><div class="big" id="flight">—</div></div>
 <div><div class="label">step-time symmetry (%)</div><div class="big" id="symmetry">—</div></div>
</div>
<div class="grid" id="kin" style="display:none">__KIN__
</div>
<div id="cue"></div>
<div class="label">stream time <span id="time">—</span> s · latency <span id="latency">—</span> s</div>
<div id="note"></div>
"""


def view_html() -> str:
    """The live view's HTML (element ids the script fills), zones drawn."""
    tiles = "".join(
        f'\n <div style="display:none"><div class="label">{label} (°)</div>'
        f'<div class="big" id="{key}">—</div></div>'
        for key, label in KINEMATIC_LABELS
    )
    return _VIEW.replace("__ZONES__", zones_html()).replace("__KIN__", tiles)


def live_app(
    broadcast: Broadcast, *, token: str | None = None, host: str = "127.0.0.1", app: FastAPI | None = None
) -> FastAPI:
    """Add the live page routes to ``app`` (or a new app); see the module docstring."""
    if host != "127.0.0.1" and not token:
        raise ValueError(f"the live page on {host} (not 127.0.0.1) needs a token")
    app = app or FastAPI(title="stridelab live")

    def _ok(request: Request) -> bool:
        if not token:
            return True
        return hmac.compare_digest(request.query_params.get("token", "").encode(), token.encode())

    @app.get("/live", response_class=HTMLResponse)
    def page(request: Request) -> Response:
        if not _ok(request):
            return JSONResponse({"error": "missing or wrong token"}, status_code=401)
        query = f"?token={token}" if token else ""
        html = _PAGE.replace("__VIEW__", view_html()).replace("__QUERY__", query)
        return HTMLResponse(
            html, headers={"Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'"}
        )

    @app.get("/live/app.js")
    def script(request: Request) -> Response:
        if not _ok(request):
            return JSONResponse({"error": "missing or wrong token"}, status_code=401)
        return Response(_JS, media_type="text/javascript")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/live/events")
    async def events(request: Request) -> Response:
        if not _ok(request):
            return JSONResponse({"error": "missing or wrong token"}, status_code=401)

        async def stream() -> AsyncIterator[str]:
            async for text in broadcast.subscribe():
                yield f"data: {text}\n\n"

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    return app
