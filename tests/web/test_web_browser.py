"""End to end in a real headless Chromium (Debian's package; Playwright drives it, no browser download):
import the demo season through the upload page, open every page, click through a run, log today's
session on a phone-sized viewport. Screenshots land in test-artifacts/screenshots/."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _web_support import SEASON_RUNS, Demo, LiveServer

from _hang import HANG_GUARD_S
from stridelab.web import WebConfig, create_app

pytestmark = pytest.mark.browser
HANG_GUARD_MS = int(HANG_GUARD_S * 1000)  # Playwright waits: hang guards, not speed checks

CHROMIUM = os.environ.get("STRIDELAB_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(
    os.environ.get("STRIDELAB_ARTIFACTS")
    or Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
)
PHONE: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Chromium is missing at {CHROMIUM} (.ci/run installs Debian's chromium)")
        pytest.skip(f"Chromium is missing at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Page:
    """A page plus the console errors and CSP violations it logged."""

    def __init__(self, browser: Any, base: str, **context: Any) -> None:
        self.context = browser.new_context(**context)
        self.page = self.context.new_page()
        self.base = base
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.errors.append(f"request failed: {r.url}"))
        self.page.on(
            "request",
            lambda r: None if r.url.startswith(base) else self.errors.append(f"remote request: {r.url}"),
        )

    def goto(self, path: str) -> None:
        self.page.goto(self.base + path)

    def charts_done(self, minimum: int = 1) -> None:
        self.page.wait_for_selector("body[data-charts-done='1']", timeout=HANG_GUARD_MS)
        rendered = self.page.locator("figure.chart[data-rendered='1']").count()
        failed = self.page.locator("figure.chart[data-rendered='error']").count()
        assert failed == 0 and rendered >= minimum, (rendered, failed)
        assert self.page.locator("figure.chart .js-plotly-plot").count() == rendered

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def no_horizontal_scroll(self) -> None:
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= self.page.viewport_size["width"] + 1, f"page is {width}px wide"

    def close(self) -> None:
        self.context.close()


def test_desktop_import_the_season_and_click_through(browser: Any, demo: Demo, tmp_path: Path) -> None:
    app = create_app(WebConfig(store_path=tmp_path / "store", today=demo.today))
    with LiveServer(app) as server:
        p = Page(browser, server.url, **DESKTOP)
        try:
            # import the demo season by upload (drag-and-drop's input path), with progress
            p.goto("/import")
            p.page.set_input_files("#files", [str(f) for f in demo.fit_files])
            # (wait_for_function would eval a string: the page's CSP forbids that, rightly)
            p.page.locator("li.upload.done").nth(SEASON_RUNS - 1).wait_for(timeout=HANG_GUARD_MS)
            assert p.page.locator("li.upload.failed").count() == 0
            # a real drop event on the drop zone (a DataTransfer holding one more FIT file)
            extra = sorted(demo.extra_dir.glob("*.fit"))[0]
            transfer = p.page.evaluate_handle(
                """([name, bytes]) => {
                    const dt = new DataTransfer();
                    dt.items.add(new File([new Uint8Array(bytes)], name));
                    return dt;
                }""",
                [extra.name, list(extra.read_bytes())],
            )
            p.page.dispatch_event("#drop", "drop", {"dataTransfer": transfer})
            p.page.locator("li.upload.done").nth(SEASON_RUNS).wait_for(timeout=HANG_GUARD_MS)
            assert extra.name in p.page.inner_text("#uploads")
            p.shot("desktop-import")
            # the runs appear; the background analysis fills the pace-adjusted column
            deadline = time.monotonic() + HANG_GUARD_S  # a hang guard, not a speed check
            while True:
                p.goto("/runs")
                if p.page.locator("#pending").count() == 0 or time.monotonic() > deadline:
                    break
                time.sleep(0.3)
            assert p.page.locator("a.run-link").count() == SEASON_RUNS + 1
            assert p.page.locator("td .badge").count() >= SEASON_RUNS
            p.shot("desktop-runs")
            # search narrows the list
            first_day = p.page.locator("a.run-link").first.inner_text()[:10]
            p.page.fill("input[name=q]", first_day)
            p.page.click("form.filters button[type=submit]")
            assert p.page.locator("a.run-link").count() == 1
            # click through to a run: every chart draws
            p.page.click("a.run-link")
            p.page.wait_for_url("**/runs/*")
            p.charts_done(minimum=7)
            assert "At reference speed" in p.page.inner_text("section.cards")
            p.shot("desktop-run")
            p.goto("/trends")
            p.charts_done(minimum=2)
            p.shot("desktop-trends")
            # a balance test through the form
            p.goto("/tests")
            p.page.check("input[name=side][value=left]")
            p.page.fill("input[name=seconds]", "27.5")
            p.page.click("#test-form button[type=submit]")
            p.page.wait_for_selector(".alert.ok")
            p.charts_done(minimum=1)
            assert "27.5" in p.page.inner_text("#tests-table")
            p.shot("desktop-tests")
            # no plan in a fresh store: create one from the page
            p.goto("/plan")
            p.page.click("#create-form button[type=submit]")
            p.page.wait_for_selector(".timeline .phases")
            p.shot("desktop-plan")
            assert not p.errors, p.errors
        finally:
            p.close()


def test_phone_logs_todays_session(browser: Any, demo: Demo, store_copy: Path) -> None:
    app = create_app(WebConfig(store_path=store_copy, today=demo.today))
    app.state.web.index.analyse_now()
    with LiveServer(app) as server:
        p = Page(browser, server.url, **PHONE)
        try:
            run_id = httpx.get(server.url + "/api/runs").json()[0]["id"]
            for path, name in (
                ("/runs", "runs"),
                (f"/runs/{run_id}", "run"),
                ("/trends", "trends"),
                ("/tests", "tests"),
                ("/import", "import"),
            ):
                p.goto(path)
                if name in ("run", "trends", "tests"):
                    p.charts_done()
                p.no_horizontal_scroll()
                p.shot("phone-" + name)
            p.page.clock.install()
            p.goto("/plan")
            p.no_horizontal_scroll()
            items = p.page.locator("li.item")
            assert items.count() > 0
            p.shot("phone-plan-today")
            holds = p.page.locator("li.item[data-kind=hold]")
            reps = p.page.locator("li.item[data-kind=reps]")
            assert holds.count() + reps.count() > 0
            if holds.count():  # a per-side hold timer: runs down, beeps, ticks the set
                item = holds.first
                seconds = round(float(item.get_attribute("data-amount") or "0"))
                item.locator("button.timer").click()
                p.page.clock.run_for((seconds + 2) * 1000)
                assert "done" in item.locator("button.timer").inner_text()
                assert item.locator(".set-done").first.is_checked()
            if reps.count():  # the rep counter ticks a set when the target is reached
                item = reps.first
                target = round(float(item.get_attribute("data-amount") or "0"))
                for _ in range(target):
                    item.locator("button.inc").click()
                assert item.locator(".set-done").first.is_checked()
                item.locator("select.item-pain").select_option("2")
            p.page.locator("li.item .set-done").last.check()
            p.shot("phone-plan-progress")
            # progress survives a reload
            p.page.reload()
            assert p.page.locator("li.item .set-done:checked").count() >= 2
            form = p.page.locator("#log-form")
            form.locator("label:has(input[value=done])").click()
            form.locator("input[name=rpe]").fill("6")
            form.locator("input[name=pain]").fill("1")
            form.locator("button[type=submit]").click()
            p.page.wait_for_selector("#log-result, .alert.error", timeout=HANG_GUARD_MS)
            assert p.page.locator(".alert.error").count() == 0, p.page.inner_text(".alert.error")
            assert "as done" in p.page.inner_text("#log-result")
            p.shot("phone-plan-logged")
            assert not p.errors, p.errors
        finally:
            p.close()
        timeline = httpx.get(server.url + "/api/plan").json()
        statuses = {s["date"]: s for w in timeline["weeks"] for s in w["sessions"]}
        logged = statuses[demo.today.isoformat()]
        assert logged["status"] == "done" and logged["rpe"] == 6 and logged["pain"] == 1
    from stridelab.services.training import session_logs
    from stridelab.store import Store

    store = Store.open(store_copy)
    logs = session_logs(store, "me")
    store.close()
    assert logs[-1].exercises, "the checklist's work was logged per exercise"


def test_home_and_run_page_on_desktop_and_phone(browser: Any, demo: Demo, store_copy: Path) -> None:
    """The home (issue 16) answers where she stands, why, what to do today and whether it is working,
    every statement with a link to its evidence; it and the run page fit a 390 px phone."""
    app = create_app(WebConfig(store_path=store_copy, today=demo.today))
    app.state.web.index.analyse_now()
    with LiveServer(app) as server:
        for name, ctx in (("desktop", DESKTOP), ("phone", PHONE)):
            p = Page(browser, server.url, **ctx)
            try:
                p.goto("/")
                p.charts_done(minimum=1)  # fitness, fatigue and form
                sections = p.page.locator("section.home-section")
                assert sections.count() == 8
                for key in ("standing", "drift", "change", "side", "today", "experiment", "load", "outcome"):
                    assert p.page.locator(f"#home-{key} .stmt").count() >= 1, key
                stmts = p.page.locator(".stmt")
                for i in range(stmts.count()):  # a statement with its evidence, or why it cannot say
                    s = stmts.nth(i)
                    assert s.locator(".evidence a").count() >= 1 or s.locator("text=Cannot say yet").count()
                balance = p.page.inner_text("#home-standing")
                assert "% L" in balance and "[" in balance  # the estimate with its interval
                assert "plan" in p.page.inner_text("#home-today").lower()
                if name == "phone":
                    p.no_horizontal_scroll()
                p.shot(f"{name}-home")
                # the first run link of "where you stand" opens that run with all its charts
                p.page.locator("#home-standing .evidence a[href^='/runs/']").first.click()
                p.page.wait_for_url("**/runs/*")
                p.charts_done(minimum=7)
                if name == "phone":
                    p.no_horizontal_scroll()
                p.shot(f"{name}-home-run")
                assert not p.errors, p.errors
            finally:
                p.close()
        status = httpx.get(server.url + "/api/home").json()
        assert status["today"] == demo.today.isoformat() and status["sentences"]
        hrefs = {lk["href"].split("#")[0] for sent in status["sentences"] for lk in sent["links"]}
        for href in sorted(hrefs):  # every statement's evidence opens
            assert httpx.get(server.url + href).status_code == 200, href
        chart = httpx.get(server.url + "/api/home/charts/fitness").json()
        names = [t["name"] for t in chart["data"]]
        assert "fitness (CTL, 42 d)" in names and "fatigue (ATL, 7 d)" in names and "form (TSB)" in names


def test_units_toggle_reads_the_pages_in_miles_on_desktop_and_phone(
    browser: Any, demo: Demo, store_copy: Path
) -> None:
    """The units toggle (issue 16) is a display setting: the runs list and the home read in mi and
    min/mi after one click, on every later page (a cookie), and back; the data stays SI."""
    app = create_app(WebConfig(store_path=store_copy, today=demo.today))
    app.state.web.index.analyse_now()
    with LiveServer(app) as server:
        for name, ctx in (("desktop", DESKTOP), ("phone", PHONE)):
            p = Page(browser, server.url, **ctx)
            try:
                p.goto("/runs")
                text = p.page.locator("main").inner_html()  # hidden phone columns included
                assert "/km" in text and "/mi" not in text and re.search(r"\d\s*km\b", text)
                p.page.locator("#units-toggle").click()
                p.page.wait_for_url("**/runs?units=imperial")
                text = p.page.locator("main").inner_html()
                assert "/mi" in text and "/km" not in text and re.search(r"\d\s*mi\b", text)
                assert not re.search(r"\d\s*km\b", text)
                if name == "phone":
                    p.no_horizontal_scroll()
                p.shot(f"{name}-runs-imperial")
                p.goto("/")  # remembered: the home reads in miles too
                p.charts_done(minimum=1)
                home = p.page.locator("main").inner_html()
                assert "/mi" in home and "/km" not in home, home
                run_id = app.state.web.store.list_activities("me")[0].id
                p.goto(f"/runs/{run_id}")  # the run page too: mile splits, ft, axes in min/mi
                p.charts_done(minimum=7)
                page = p.page.locator("main").inner_html()
                assert "Per mile" in page and "elev +/- (ft)" in page and "Per kilometre" not in page
                speed_ticks = p.page.locator("#chart-speed .xtick text").all_text_contents()
                assert speed_ticks and all(t.endswith("/mi") for t in speed_ticks), speed_ticks
                if name == "phone":
                    p.no_horizontal_scroll()
                p.shot(f"{name}-run-imperial")
                p.goto("/")
                p.charts_done(minimum=1)
                p.page.locator("#units-toggle").click()
                p.page.wait_for_url("**/?units=metric")
                p.charts_done(minimum=1)
                assert "/mi" not in p.page.locator("main").inner_html()
                p.goto("/trends")  # zone bands behind the trend; the fitness/fatigue chart drawn
                p.charts_done(minimum=3)
                assert p.page.locator("#chart-fitness .main-svg").count() >= 1
                assert p.page.locator("#chart-balance .shapelayer path").count() >= 1
                if name == "phone":
                    p.no_horizontal_scroll()
                p.shot(f"{name}-trends")
                assert not p.errors, p.errors
            finally:
                p.close()


def test_walking_page_on_phone_and_desktop(browser: Any, demo: Demo, store_copy: Path) -> None:
    """The nav leads to the walking gait page: its chart renders (four panels), the table and the means
    read in display units, on a phone without sideways scrolling."""
    from test_web_walking import add_walking

    add_walking(store_copy, n_days=45)
    app = create_app(WebConfig(store_path=store_copy, today=demo.today))
    app.state.web.index.analyse_now()
    with LiveServer(app) as server:
        for name, context in (("phone", PHONE), ("desktop", DESKTOP)):
            p = Page(browser, server.url, **context)
            try:
                p.goto("/runs")  # the home loads charts; leaving it mid-request is not an error here
                p.page.locator("nav a[href='/walking']").click()
                p.page.wait_for_url(server.url + "/walking", timeout=HANG_GUARD_MS)
                p.charts_done()
                assert p.page.locator("#chart-walking .js-plotly-plot .subplot").count() >= 4
                assert p.page.locator("#walking-table tbody tr").count() == 45
                header = p.page.inner_text("#walking-table thead")
                assert "step length (cm)" in header and "walking speed (km/h)" in header
                assert "km/h" in p.page.inner_text("#walking-means")
                p.page.fill("input[name=days]", "7")
                p.page.click("form.inline button[type=submit]")
                p.page.wait_for_url(server.url + "/walking?days=7", timeout=HANG_GUARD_MS)
                p.charts_done()
                assert p.page.locator("#walking-table tbody tr").count() == 7
                p.no_horizontal_scroll()
                p.shot(f"{name}-walking")
                assert not p.errors, p.errors
            finally:
                p.close()


def test_import_page_shows_not_activities_and_takes_gpx_tcx(
    browser: Any, demo: Demo, tmp_path: Path, shared_data: Path
) -> None:
    """A zip with a settings FIT file and a GPX file, and a TCX file on its own: the page lists the
    settings file as skipped (not an activity), not as failed; GPX and TCX uploads import."""
    import zipfile

    bundle = tmp_path / "watch-backup.zip"
    with zipfile.ZipFile(bundle, "w") as zf:
        zf.write(shared_data / "fit" / "dtcooper__python-fitparse" / "Settings2.fit", "Settings2.fit")
        zf.write(shared_data / "other" / "Runalyze__Runalyze" / "gpx" / "strava-export.gpx", "run.gpx")
    tcx = shared_data / "other" / "Runalyze__Runalyze" / "tcx" / "Standard.tcx"
    app = create_app(WebConfig(store_path=tmp_path / "store", today=demo.today))
    with LiveServer(app) as server:
        p = Page(browser, server.url, **DESKTOP)
        try:
            p.goto("/import")
            p.page.set_input_files("#files", [str(bundle), str(tcx)])
            p.page.locator("li.upload.done").nth(1).wait_for(timeout=HANG_GUARD_MS)
            assert p.page.locator("li.upload.failed").count() == 0
            text = p.page.inner_text("#uploads")
            assert "skipped (not activities) 1" in text and "failed 0" in text
            line = p.page.locator(".not-activity").first.inner_text()
            assert "Settings2.fit" in line and "skipped: not an activity" in line
            assert p.page.locator("li.upload", has_text="Standard.tcx").inner_text().count("imported 1") == 1
            p.goto("/import")
            assert "Not activities" in p.page.inner_text("table.compact thead")
            p.shot("desktop-import-not-activities")
            assert not p.errors, p.errors
        finally:
            p.close()


def test_cohort_page_lists_athletes_with_adherence_on_phone_and_desktop(
    browser: Any, demo: Demo, store_copy: Path
) -> None:
    """The nav leads to /cohort: one row per athlete of the store's datasets (a hostile folder name
    shown as text), the demo plan's adherence for "me", "no plan" for the other, no sideways scroll."""
    from datetime import UTC, datetime, timedelta

    from stridelab.services.training import plan_adherence
    from stridelab.store import Store
    from stridelab.store.scale import write_summaries

    odd = "<b>bob<b>"
    t0 = datetime(2026, 1, 5, 7, tzinfo=UTC)
    for k, athlete in enumerate(("me", odd)):
        rows = [
            {
                "run_id": f"{k}{i:03d}",
                "start_time": t0 + timedelta(days=3 * i),
                "speed_m_s_mean": 2.8 + 0.05 * i,
                "balance_left_pct_mean": 50.5 + 0.04 * i + k,
            }
            for i in range(12)
        ]
        write_summaries(store_copy / "datasets", athlete, 2026, rows, "part-0.parquet")
    from _web_support import PLAN_START

    from stridelab.services.training import PlanInputs, build_plan, log_session, save_plan

    store = Store.open(store_copy)  # the demo plan, made on its first day; its first session done
    plan = build_plan(PlanInputs(start=PLAN_START, weeks=4, sessions_per_week=3, minutes=15.0))
    save_plan(store, "me", plan, created_at=f"{PLAN_START.isoformat()}T06:00:00+00:00")
    log_session(store, "me", plan.sessions[0].date, "done")
    expected = plan_adherence(store, "me", demo.today)
    store.close()
    assert expected is not None and expected["due"] > 0
    app = create_app(WebConfig(store_path=store_copy, today=demo.today))
    with LiveServer(app) as server:
        api = httpx.get(server.url + "/api/cohort", timeout=HANG_GUARD_S).json()
        me = next(a for a in api["athletes"] if a["athlete"] == "me")
        assert me["adherence_pct"] == expected["adherence_pct"] and me["n_runs"] == 12
        for name, context in (("phone", PHONE), ("desktop", DESKTOP)):
            p = Page(browser, server.url, **context)
            try:
                p.goto("/runs")
                p.page.locator("nav a[href='/cohort']").click()
                p.page.wait_for_url(server.url + "/cohort", timeout=HANG_GUARD_MS)
                table = p.page.locator("#cohort-table tbody tr")
                assert table.count() == 2
                text = p.page.inner_text("#cohort-table")
                assert odd in text and "no plan" in text  # the folder name is text, not markup
                assert f"of {expected['due']}" in table.nth(1).inner_text()  # rows by athlete: '<' < 'm'
                assert p.page.locator("#cohort-table b").count() == 0
                p.no_horizontal_scroll()
                p.shot(f"{name}-cohort")
                assert not p.errors, p.errors
            finally:
                p.close()
