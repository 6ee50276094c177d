"""The live page in the dashboard (``/live``): big numbers, the GCT balance gauge with Garmin's zones
and the target band, spoken cues and lap announcements, fed by Server-Sent Events
(``/live/events``). A run of the store can be replayed live from the page (``POST /live/replay``:
its FIT records through :class:`stridelab.live.fit_replay.FitReplay`, optionally with an
experiment's lap arms); the items go to every open page through one :class:`Broadcast`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from stridelab.live.cues import DEFAULT_BAND
from stridelab.live.page import LIVE_JS, Broadcast, view_html
from stridelab.web.pages._common import JSONText, render, state

__all__ = ["router"]

router = APIRouter()
_LOCK = threading.Lock()


def _live(request: Request) -> dict[str, Any]:
    """The app's live hub: the broadcast and the replay running now (created on first use)."""
    with _LOCK:
        hub = getattr(request.app.state, "live", None)
        if hub is None:
            hub = {"broadcast": Broadcast(), "replay": None, "thread": None, "label": None}
            request.app.state.live = hub
        return hub


@router.get("/live", response_class=HTMLResponse, include_in_schema=False)
def live_page(request: Request) -> HTMLResponse:
    hub = _live(request)
    running = hub["thread"] is not None and hub["thread"].is_alive()
    attach = request.query_params.get("attach")
    label = hub["label"]
    if attach and attach.isdigit():
        running, label = True, f"the live session on port {int(attach)}"
    band, band_from = DEFAULT_BAND, None
    try:
        from datetime import date

        from stridelab.services.training import plan_live_targets

        st = state(request)
        for metric, (lo, hi) in plan_live_targets(st.store, st.athlete, date.today()).items():
            band, band_from = f"{metric}={lo:g}:{hi:g}", "your training plan"
    except (ValueError, LookupError):
        pass
    return render(
        request,
        "live.html",
        title="Live",
        view=view_html(),
        band=band,
        band_from=band_from,
        running=running,
        label=label,
        subscribers=hub["broadcast"].subscribers(),
    )


@router.get("/live/app.js", include_in_schema=False)
def live_js() -> Response:
    return Response(LIVE_JS, media_type="text/javascript")


@router.get("/live/events", include_in_schema=False)
async def live_events(request: Request, attach: int | None = Query(None, ge=1, le=65535)) -> Response:
    """SSE of the dashboard's own live items, or (``?attach=PORT``) those of a ``stridelab live --page``
    session on this machine (127.0.0.1:PORT; only loopback, so the dashboard is no open proxy)."""
    broadcast: Broadcast = _live(request)["broadcast"]

    async def own() -> AsyncIterator[str]:
        async for text in broadcast.subscribe():
            yield f"data: {text}\n\n"

    async def relayed(port: int) -> AsyncIterator[str]:
        import httpx

        url = f"http://127.0.0.1:{port}/live/events"
        try:
            async with (
                httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=None)) as client,
                client.stream("GET", url) as resp,
            ):
                if resp.status_code != 200:
                    raise httpx.HTTPError(f"HTTP {resp.status_code}")
                async for line in resp.aiter_lines():
                    if line.startswith("data: "):
                        yield line + "\n\n"
        except httpx.HTTPError as exc:
            note = {"type": "note", "time_s": None, "text": f"no live session on port {port} ({exc})"}
            yield f"data: {json.dumps(note)}\n\n"

    stream = own if attach is None else (lambda: relayed(attach))

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


@router.get("/api/live", tags=["live"], summary="The live session the dashboard shows")
def api_live(request: Request) -> JSONText:
    hub = _live(request)
    running = hub["thread"] is not None and hub["thread"].is_alive()
    return JSONText({"running": running, "label": hub["label"], "pages": hub["broadcast"].subscribers()})


@router.post("/live/replay", include_in_schema=False)
def live_replay(
    request: Request,
    run_id: str = Form(..., min_length=4, max_length=64, pattern=r"^[0-9a-fA-F]+$"),
    speed: float = Form(10.0, ge=1.0, le=100.0),
    band: str = Form(DEFAULT_BAND, max_length=200),
    hold_s: float = Form(10.0, ge=0.0, le=600.0),
    experiment: str = Form("", max_length=200),
    run_no: int = Form(1, ge=1, le=1000),
) -> Response:
    """Replay a stored run live (its per-second running dynamics), replacing a replay running now."""
    from stridelab.live.cues import Cues, parse_band
    from stridelab.live.fit_replay import FitReplay
    from stridelab.live.laps import LapPlan, target_bands
    from stridelab.services import runs as runs_service
    from stridelab.services.experiments import get_experiment

    st = state(request)
    hub = _live(request)
    try:
        full = st.resolve(run_id)
        records = runs_service.records(st.store, st.athlete, full)
        rule = parse_band(band, hold_s=hold_s, min_gap_s=30.0)
        plan, targets = None, {rule.metric: (rule.low, rule.high)}
        if experiment:
            exp = get_experiment(st.store, st.athlete, experiment)
            plan = LapPlan(exp.name, exp.design, exp.protocol, run_no)
            targets.update(target_bands(exp.protocol))
        replay = FitReplay(records, speed=speed, cues=Cues((rule,)), laps=plan, targets=targets)
    except (ValueError, KeyError, LookupError) as exc:
        raise HTTPException(422, str(exc)) from exc
    broadcast: Broadcast = hub["broadcast"]

    def run() -> None:
        for item in replay.run():
            broadcast.publish(item)
        broadcast.publish({"type": "note", "time_s": None, "text": "replay finished"})

    with _LOCK:
        old = hub["replay"]
        if old is not None:
            old.close()
        broadcast.sticky.clear()
        hub["replay"], hub["label"] = replay, f"replay of run {full[:12]} at {speed:g}×"
        hub["thread"] = threading.Thread(target=run, name="stridelab-live-replay", daemon=True)
        hub["thread"].start()
    return RedirectResponse("/live", status_code=303)
