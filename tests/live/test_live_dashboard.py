"""The dashboard's /live page (``stridelab serve``) in headless Chromium on a 390 px phone viewport:
linked from the nav; a stored run (the shared FIT with running dynamics) is replayed live from the
page; the balance number updates over SSE, the lap is announced, the target band (the running plan's
balanced zone) is drawn on the gauge and a cue is spoken."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from _hang import HANG_GUARD_S
from stridelab.live.page import Broadcast, live_app
from stridelab.web import WebConfig, create_app

pytestmark = pytest.mark.browser
CHROMIUM = os.environ.get("STRIDELAB_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
FIT = "Runalyze__Runalyze/Fenix-3-with-runscribe-v1-38.fit"
SPEECH_PROBE = """
window.__spoken = [];
window.SpeechSynthesisUtterance = function (text) { this.text = text; };
Object.defineProperty(window, "speechSynthesis", {
  value: {speak: function (u) { window.__spoken.push(u.text); }},
});
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _poll(page: Any, expression: str) -> Any:
    deadline = time.monotonic() + HANG_GUARD_S  # a hang guard, not a speed check
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        assert time.monotonic() < deadline, f"never true: {expression}"
        time.sleep(0.05)


def test_dashboard_live_page_replays_a_run(shared_data: Path, tmp_path: Path):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Chromium is missing at {CHROMIUM}")
        pytest.skip(f"Chromium is missing at {CHROMIUM}")
    from datetime import date, timedelta

    from playwright.sync_api import sync_playwright

    from stridelab.services.imports import import_paths
    from stridelab.services.training import PlanInputs, build_plan, save_plan
    from stridelab.store import Store

    store = Store.open(tmp_path / "store")
    result = import_paths(store, [shared_data / "fit" / FIT], workers=1)
    run_id = store.list_activities("me")[0].id
    # a running plan that names a weaker side: its balanced zone is the page's default band
    start = date.today() - timedelta(days=2)
    save_plan(store, "me", build_plan(PlanInputs(start=start, weeks=4, weaker_side="right")))
    store.close()
    assert result.imported

    app = create_app(WebConfig(store_path=tmp_path / "store", background_analysis=False))
    session = Broadcast()  # the page server of a `stridelab live --page` session
    sport = _free_port()
    side = uvicorn.Server(
        uvicorn.Config(live_app(session), host="127.0.0.1", port=sport, log_level="warning")
    )
    threading.Thread(target=side.run, daemon=True).start()
    port = lport = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + HANG_GUARD_S
    while not (server.started and side.started):
        assert time.monotonic() < deadline and thread.is_alive(), "the dashboard did not start"
        time.sleep(0.02)
    errors: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
            ctx.add_init_script(SPEECH_PROBE)
            page = ctx.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(f"http://127.0.0.1:{port}/")
            page.click("nav >> text=Live")
            assert page.url.endswith("/live")
            assert page.input_value("input[name=band]") == "stance_time_balance_left_pct=49.3:50.7"
            assert "training plan" in page.text_content("#band-from")
            page.fill("input[name=run_id]", run_id[:12])
            page.fill("input[name=speed]", "100")
            page.fill("input[name=hold_s]", "5")
            page.click("#replay-form button[type=submit]")
            page.wait_for_url("**/live")
            assert "replay of run" in page.text_content("#live-status")
            _poll(page, "document.getElementById('balance').textContent.includes('%')")
            _poll(page, "document.getElementById('band').style.display === 'block'")
            assert page.get_attribute("#band", "data-low") == "49.3"
            _poll(page, "document.getElementById('lap').textContent.startsWith('lap ')")
            spoken = _poll(page, "window.__spoken.length && window.__spoken")
            assert spoken[0].startswith("even out:")
            t0 = float(page.text_content("#time"))
            _poll(page, f"parseFloat(document.getElementById('time').textContent) > {t0}")  # it updates
            # attach to a `stridelab live --page` session of another server on this machine
            page.goto(f"http://127.0.0.1:{lport}/live?attach={sport}")
            assert "port" in page.text_content("#live-status")
            session.publish(
                {"type": "lap", "time_s": 600.0, "lap": 2, "text": "lap 2: hips level", "arm": "x"}
            )
            session.publish(
                {
                    "type": "update",
                    "time_s": 612.0,
                    "stance_time_balance_left_pct": 51.3,
                    "cadence_spm": 171.0,
                    "latency_s": 0.02,
                }
            )
            _poll(page, "document.getElementById('balance').textContent === '51.3 % L'")
            _poll(page, "document.getElementById('lap').textContent === 'lap 2: hips level'")
            assert page.text_content("#cadence") == "171"
            page.goto(f"http://127.0.0.1:{lport}/live?attach={_free_port()}")
            _poll(page, "document.getElementById('note').textContent.startsWith('no live session on port')")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 391, f"the live page is {width}px wide on a 390 px phone"
            os.makedirs("test-artifacts/screenshots", exist_ok=True)
            page.screenshot(path="test-artifacts/screenshots/live-dashboard-phone.png")
            browser.close()
    finally:
        hub = getattr(app.state, "live", None)
        if hub and hub["replay"] is not None:
            hub["replay"].close()
        server.should_exit = side.should_exit = True
        thread.join(10)
        app.state.web.close()
    assert not errors, errors
