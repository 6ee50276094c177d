"""Replay → live page in a real headless Chromium: the numbers update over SSE, and a cue event is
spoken (speechSynthesis) when a simulated drift stays outside the balance band."""

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
from stridelab.live import CueRule, Cues, LiveSession
from stridelab.live.page import Broadcast, live_app
from stridelab.live.sources.replay import ReplaySource
from stridelab.sim.imu import ImuTruth, simulate_imu

pytestmark = pytest.mark.browser
CHROMIUM = os.environ.get("STRIDELAB_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
HANG_GUARD_MS = int(HANG_GUARD_S * 1000)

# records what the page asks the browser to say (the real speechSynthesis needs an audio device)
SPEECH_PROBE = """
window.__spoken = [];
window.SpeechSynthesisUtterance = function (text) { this.text = text; };
Object.defineProperty(window, "speechSynthesis", {
  value: {speak: function (u) { window.__spoken.push(u.text); }},
});
"""


def _poll(page: Any, expression: str) -> Any:
    deadline = time.monotonic() + HANG_GUARD_S
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        state = page.evaluate(
            "[document.getElementById('balance').textContent, document.getElementById('time').textContent,"
            " typeof window.__spoken, document.getElementById('note').textContent]"
        )
        assert time.monotonic() < deadline, f"never true: {expression} (page: {state})"
        time.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def browser() -> Any:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Chromium is missing at {CHROMIUM}")
        pytest.skip(f"Chromium is missing at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_replay_updates_the_page_and_speaks_a_cue(browser: Any, tmp_path: Path):
    broadcast = Broadcast()
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(live_app(broadcast), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + HANG_GUARD_S
    while not server.started:
        assert time.monotonic() < deadline, "the live page server did not start"
        time.sleep(0.02)
    try:
        ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
        ctx.add_init_script(SPEECH_PROBE)
        page = ctx.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"http://127.0.0.1:{port}/live")
        page.wait_for_selector("body[data-connected='yes']", timeout=HANG_GUARD_MS)
        assert page.inner_text("#balance") == "—"
        while broadcast.subscribers() == 0:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        sim = simulate_imu(ImuTruth(duration_s=20, gct_balance_left_pct=52.6, placements=("foot",)), seed=8)
        cues = Cues((CueRule("stance_time_balance_left_pct", 49.2, 50.8, hold_s=4.0, min_gap_s=30.0),))
        session = LiveSession(ReplaySource(sim.recording, speed=None), tmp_path / "j.jsonl", cues=cues)
        for item in session.run():
            broadcast.publish(item)
        # polled from here: the page's CSP forbids the in-page eval that wait_for_function uses
        spoken = _poll(page, "window.__spoken.length > 0 ? window.__spoken : null")
        assert spoken[0].startswith("even out: left 52.")
        _poll(page, "document.getElementById('balance').textContent.endsWith('% L') || null")
        assert page.inner_text("#balance").startswith("52.")
        assert page.inner_text("#cadence").isdigit()
        assert page.inner_text("#cue").startswith("even out")
        assert page.locator("#gauge .zone-green").count() == 1
        # the feet's kinematics are shown (degrees); no sacrum, so no hip-drop tile
        _poll(page, "document.getElementById('foot_strike_angle_rad_left').textContent !== '—' || null")
        assert 2.0 < float(page.inner_text("#foot_strike_angle_rad_left")) < 20.0
        assert page.locator("#foot_strike_angle_rad_right").is_visible()
        assert not page.locator("#pelvic_drop_rad_left").is_visible()
        assert not errors, errors
        ctx.close()
    finally:
        server.should_exit = True
