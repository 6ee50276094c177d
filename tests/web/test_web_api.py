"""The dashboard in-process (httpx ASGI transport): pages, JSON API, writes, security."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest
from _web_support import SEASON_RUNS, AppFactory, Demo

from _hang import HANG_GUARD_S
from stridelab.web import WebConfig, create_app

pytestmark = pytest.mark.anyio

PAGES = ("/", "/runs", "/trends", "/plan", "/tests", "/import")


async def _runs(client: httpx.AsyncClient, **params: object) -> list[dict[str, object]]:
    r = await client.get("/api/runs", params=params)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------- runs
async def test_api_runs_contract(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/runs")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    runs = r.json()
    assert isinstance(runs, list) and len(runs) == SEASON_RUNS
    assert r.headers["x-total-count"] == str(SEASON_RUNS)
    for item in runs:
        assert re.fullmatch(r"[0-9a-f]{64}", item["id"])
        assert item["distance_m"] > 1000
        assert 45.0 < item["balance_mean_left_pct"] < 55.0
        assert item["balance_zone"] in ("green", "orange_left", "orange_right", "red_left", "red_right")
        assert item["analysed"] is True and item["balance_at_ref_speed_left_pct"] is not None
    starts = [x["start_time"] for x in runs]
    assert starts == sorted(starts, reverse=True)  # newest first
    # pagination: pages concatenate to the whole list
    page1 = await _runs(client, limit=5, offset=0)
    page2 = await _runs(client, limit=5, offset=5)
    page3 = await _runs(client, limit=5, offset=10)
    assert [x["id"] for x in page1 + page2 + page3] == [x["id"] for x in runs]


async def test_runs_filters_search_and_sort(client: httpx.AsyncClient) -> None:
    runs = await _runs(client)
    first = runs[0]
    assert [x["id"] for x in await _runs(client, q=first["id"][:8])] == [first["id"]]
    day = first["start_time"][:10]
    assert all(x["start_time"].startswith(day) for x in await _runs(client, since=day, until=day))
    zone = first["balance_zone"]
    hits = await _runs(client, zone=zone)
    assert hits and all(x["balance_zone"] == zone for x in hits)
    by_balance = await _runs(client, sort="balance", order="asc")
    values = [x["balance_mean_left_pct"] for x in by_balance]
    assert values == sorted(values)
    assert (await client.get("/api/runs", params={"sort": "nonsense"})).status_code == 422
    assert (await client.get("/api/runs", params={"zone": "purple"})).status_code == 422
    # the HTML list paginates
    html = (await client.get("/runs", params={"page": 1})).text
    assert html.count('class="run-link"') == SEASON_RUNS


async def test_runs_page_paginates(make_app: AppFactory) -> None:
    app = make_app(page_size=5)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as c:
        html = (await c.get("/runs")).text
        assert html.count('class="run-link"') == 5 and "page 1 of 3" in html
        html = (await c.get("/runs", params={"page": 3})).text
        assert html.count('class="run-link"') == 2


async def test_every_page_renders_without_remote_assets(client: httpx.AsyncClient) -> None:
    run_id = (await _runs(client))[0]["id"]
    for path in (*PAGES, f"/runs/{run_id}", f"/runs/{run_id[:8]}"):
        r = await client.get(path, headers={"accept": "text/html"})
        assert r.status_code == 200, (path, r.text[:500])
        assert r.headers["content-type"].startswith("text/html")
        # no CDN, no remote script/style/image
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", r.text), path
        assert "<script>" not in r.text and "onclick=" not in r.text  # the CSP forbids inline code
    js = await client.get("/static/vendor/plotly.min.js")
    assert js.status_code == 200 and b"plotly.js v" in js.content[:200]


async def test_run_detail_api_and_charts(client: httpx.AsyncClient) -> None:
    run_id = str((await _runs(client))[0]["id"])
    d = (await client.get(f"/api/runs/{run_id[:10]}")).json()
    assert d["id"] == run_id
    assert d["balance"]["at_ref_speed_left_pct"] is not None
    assert d["laps"] and d["ref_speed_m_s"] > 0
    for name in ("timeline", "zones", "speed", "drift", "route", "laps", "dynamics"):
        r = await client.get(f"/api/runs/{run_id}/charts/{name}")
        assert r.status_code == 200, (name, r.text[:300])
        spec = r.json()
        assert spec["data"], name
        assert all(t.get("type") != "scattergl" for t in spec["data"])  # SVG: no GPU needed
        if name in ("timeline", "speed", "drift", "dynamics"):  # Garmin's zones shaded behind
            zones = [s for s in spec["layout"].get("shapes", []) if " zone " in s.get("name", "")]
            assert zones, name
            if name == "dynamics":
                assert {z["name"].split()[0] for z in zones} >= {"gct", "vo", "cadence"}
    assert (await client.get(f"/api/runs/{run_id}/charts/nope")).status_code == 404
    html = (await client.get(f"/runs/{run_id}")).text
    for chart in ("timeline", "speed", "drift", "route", "laps", "dynamics"):
        assert f'id="chart-{chart}"' in html


async def test_unknown_ids_and_path_traversal(client: httpx.AsyncClient) -> None:
    for path in (
        "/runs/ffffffff",
        "/runs/..%2F..%2Fcatalog.sqlite",
        "/runs/../../etc/passwd",
        "/api/runs/zzzz",
        "/api/runs/%2e%2e%2f%2e%2e",
        "/api/runs/ffffffff/charts/..%2f..%2fx",
        "/static/../catalog.sqlite",
        "/static/..%2f..%2fcatalog.sqlite",
        "/static/%2e%2e/_app.py",
        "/api/import/jobs/..%2f..%2fetc",
    ):
        r = await client.get(path)
        assert r.status_code in (404, 422), (path, r.status_code)
        assert b"CREATE TABLE" not in r.content and b"SQLite format" not in r.content


async def test_trends_and_load(client: httpx.AsyncClient) -> None:
    t = (await client.get("/api/trends")).json()
    assert t["n_runs"] == SEASON_RUNS
    assert t["trend"]["adjusted_balance_left_pct"] is not None
    assert t["months"] and t["baseline"]["window_runs"] > 0 and t["baseline"]["current_left_pct"] is not None
    load = (await client.get("/api/load")).json()
    assert load["weeks"] and "caveats" in load
    for name in ("balance", "load", "fitness"):
        spec = (await client.get(f"/api/trends/charts/{name}")).json()
        assert spec["data"]
        if name == "balance":
            assert any(s.get("name") == "balance zone green" for s in spec["layout"]["shapes"])
    names = [t.get("name", "") for t in (await client.get("/api/trends/charts/balance")).json()["data"]]
    assert any("baseline band" in n for n in names)
    names = [t.get("name", "") for t in (await client.get("/api/trends/charts/fitness")).json()["data"]]
    assert {"fitness (CTL, 42 d)", "fatigue (ATL, 7 d)", "form (TSB)"} <= set(names)


async def test_openapi_schema_and_no_cdn_docs(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/api/openapi.json")).json()
    paths = set(schema["paths"])
    for p in (
        "/api/runs",
        "/api/runs/{run_id}",
        "/api/trends",
        "/api/load",
        "/api/plan",
        "/api/plan/log",
        "/api/tests",
        "/api/import",
        "/api/import/jobs/{job_id}",
    ):
        assert p in paths, p
    item = schema["components"]["schemas"]["RunItem"]["properties"]
    assert {"id", "start_time", "distance_m", "balance_mean_left_pct"} <= set(item)
    assert (await client.get("/docs")).status_code == 404  # Swagger UI would load a CDN


# ---------------------------------------------------------------------------- security
async def test_security_headers(client: httpx.AsyncClient) -> None:
    for path in ("/", "/api/runs", "/static/app.css", "/nope"):
        r = await client.get(path)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "same-origin"
    assert (await client.get("/api/runs")).headers["cache-control"] == "no-store"


async def test_dns_rebinding_host_is_refused(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/runs", headers={"host": "attacker.example:8765"})
    assert r.status_code == 400
    assert (await client.get("/api/runs", headers={"host": "localhost:8765"})).status_code == 200


async def test_csrf_on_every_state_changing_request(make_app: AppFactory) -> None:
    app = make_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8765") as c:
        body = {"side": "left", "seconds": 12.5}
        # no cookie, no token
        assert (await c.post("/api/tests", json=body)).status_code == 403
        token = (await c.get("/api/csrf")).json()["csrf_token"]
        # cookie but no token / wrong token
        assert (await c.post("/api/tests", json=body)).status_code == 403
        assert (await c.post("/api/tests", json=body, headers={"X-CSRF-Token": "x" * 43})).status_code == 403
        # cross-site, even with the token
        bad = {"X-CSRF-Token": token, "Origin": "http://evil.example"}
        assert (await c.post("/api/tests", json=body, headers=bad)).status_code == 403
        bad = {"X-CSRF-Token": token, "Sec-Fetch-Site": "cross-site"}
        assert (await c.post("/api/tests", json=body, headers=bad)).status_code == 403
        for path in (
            "/api/plan/log",
            "/api/import?filename=a.fit",
            "/plan/log",
            "/tests",
            "/plan/clear-stop",
        ):
            assert (await c.post(path, content=b"x")).status_code == 403, path
        # same origin with the token: accepted
        ok = {"X-CSRF-Token": token, "Origin": "http://127.0.0.1:8765"}
        assert (await c.post("/api/tests", json=body, headers=ok)).status_code == 200
        # an HTML form carries it as a field
        form = {"csrf_token": token, "side": "right", "seconds": "20", "eyes": "closed"}
        r = await c.post("/tests", data=form)
        assert r.status_code == 200 and "Saved: right leg" in r.text
        form["csrf_token"] = "y" * 43
        assert (await c.post("/tests", data=form)).status_code == 403
    tests = app.state.web.store.connect().execute("SELECT count(*) FROM training_balance_tests").fetchone()[0]
    assert tests == 2


async def test_token_mode(store_copy: Path, demo: Demo) -> None:
    with pytest.raises(ValueError, match="without a token"):
        WebConfig(store_path=store_copy, host="0.0.0.0")
    with pytest.raises(ValueError, match="at least"):
        WebConfig(store_path=store_copy, host="0.0.0.0", token="short")
    token = "t0k3n-" + "a" * 30
    app = create_app(
        WebConfig(
            store_path=store_copy, host="0.0.0.0", token=token, today=demo.today, background_analysis=False
        )
    )
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://192.168.1.20:8765") as c:
            assert (await c.get("/")).status_code == 401
            assert (await c.get("/api/runs")).status_code == 401
            assert (await c.get("/api/runs", params={"token": "wrong" * 8})).status_code == 401
            r = await c.get("/trends", params={"token": token, "x": "1"})
            assert r.status_code == 303 and r.headers["location"] == "/trends?x=1"  # token leaves the URL
            assert "httponly" in r.headers["set-cookie"].lower()
            assert (await c.get("/api/runs")).status_code == 200  # the cookie now
        async with httpx.AsyncClient(transport=transport, base_url="http://192.168.1.20:8765") as c:
            r = await c.get("/api/runs", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200
    finally:
        app.state.web.close()


# ---------------------------------------------------------------------------- plan, tests
async def test_today_and_log_a_session(client: httpx.AsyncClient, demo: Demo) -> None:
    today = (await client.get("/api/plan/today")).json()
    assert today["date"] == demo.today.isoformat()
    items = today["session"]["items"]
    assert items
    first = items[0]
    html = (await client.get("/plan")).text
    assert 'class="checklist"' in html and first["name"] in html
    log = {
        "status": "partial",
        "rpe": 6,
        "pain": 2,
        "exercises": [{"exercise_id": first["exercise_id"], "side": first["side"], "reps": 8, "pain": 1}],
    }
    r = await client.post("/api/plan/log", json=log)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["planned"] is True and out["log"]["status"] == "partial" and out["log"]["rpe"] == 6
    timeline = (await client.get("/api/plan")).json()
    statuses = {s["date"]: s["status"] for w in timeline["weeks"] for s in w["sessions"]}
    assert statuses[demo.today.isoformat()] == "partial"
    # pain 8 on an exercise stops it, and the answer says so
    log["status"] = "done"
    log["exercises"][0]["pain"] = 8
    out = (await client.post("/api/plan/log", json=log)).json()
    assert any(m.startswith("STOP") for m in out["messages"]) and out["stops"]
    # invalid values are refused with the option named
    bad = await client.post("/api/plan/log", json={"status": "finished"})
    assert bad.status_code == 422
    bad = await client.post("/api/plan/log", json={"status": "done", "rpe": 11})
    assert bad.status_code == 422 and "rpe" in bad.text


async def test_log_form_and_balance_tests(client: httpx.AsyncClient) -> None:
    token = client.headers["X-CSRF-Token"]
    form = {
        "csrf_token": token,
        "status": "done",
        "rpe": "7",
        "pain": "",
        "note": "felt good",
        "exercises_json": "[]",
    }
    r = await client.post("/plan/log", data=form, headers={"X-CSRF-Token": ""})
    assert r.status_code == 200 and "as done" in r.text
    r = await client.post("/api/tests", json={"side": "left", "seconds": 31.5, "eyes": "open"})
    assert r.status_code == 200
    r = await client.post("/api/tests", json={"side": "middle", "seconds": 3})
    assert r.status_code == 422
    r = await client.post("/api/tests", json={"side": "left", "seconds": 9000})
    assert r.status_code == 422
    hist = (await client.get("/api/tests")).json()
    assert [t["seconds"] for t in hist["tests"]] == [31.5]
    assert "31.5" in (await client.get("/tests")).text
    assert (await client.get("/api/tests/chart")).json()["data"]
    r = await client.post(
        "/api/function-tests", json={"test": "tandem_walk", "seconds": 11.2, "steps_off": 1}
    )
    assert r.status_code == 200
    r = await client.post(
        "/api/function-tests", json={"test": "sit_to_stand_5x", "seconds": 10, "steps_off": 1}
    )
    assert r.status_code == 422  # steps off the line belong to the tandem walk
    assert [
        (t["test"], t["steps_off"]) for t in (await client.get("/api/function-tests")).json()["tests"]
    ] == [("tandem_walk", 1)]
    names = [d["name"] for d in (await client.get("/api/tests/chart")).json()["data"]]
    assert "tandem walk" in names
    form = {"csrf_token": token, "test": "sit_to_stand_5x", "seconds": "12.3", "steps_off": "", "day": ""}
    r = await client.post("/tests/function", data=form, headers={"X-CSRF-Token": ""})
    assert r.status_code == 200 and "Saved: sit to stand 5x, 12.3 s." in r.text
    assert "function-tests-table" in r.text and "sit_to_stand_5x" in r.text
    r = await client.post("/tests/function", data={**form, "seconds": "-2"}, headers={"X-CSRF-Token": ""})
    assert r.status_code == 422 and "Invalid test" in r.text


# ---------------------------------------------------------------------------- import
async def _wait_job(client: httpx.AsyncClient, job_id: str) -> dict[str, object]:
    deadline = time.monotonic() + HANG_GUARD_S  # a hang guard, not a speed check
    while time.monotonic() < deadline:
        job = (await client.get(f"/api/import/jobs/{job_id}")).json()
        if job["status"] in ("done", "failed"):
            return job  # type: ignore[no-any-return]
        await anyio.sleep(0.05)
    raise AssertionError("import job did not finish")


async def test_upload_imports_through_the_cli_path(client: httpx.AsyncClient, demo: Demo) -> None:
    fit = sorted(demo.extra_dir.glob("*.fit"))[0]
    data = fit.read_bytes()
    r = await client.post("/api/import", params={"filename": "../../evil/" + fit.name}, content=data)
    assert r.status_code == 202, r.text
    job = await _wait_job(client, r.json()["id"])
    assert job["status"] == "done" and job["result"]["imported"] == 1, job  # type: ignore[index]
    runs = await _runs(client)
    assert len(runs) == SEASON_RUNS + 1
    assert fit.name in [x["source_name"] for x in runs]  # the name without its path
    # the same bytes again: already present
    r = await client.post("/api/import", params={"filename": fit.name}, content=data)
    job = await _wait_job(client, r.json()["id"])
    assert job["result"]["skipped"] == 1  # type: ignore[index]
    # a damaged upload is reported under its own name, never the server's temp folder
    r = await client.post("/api/import", params={"filename": "cut.fit"}, content=data[: len(data) // 2])
    job = await _wait_job(client, r.json()["id"])
    assert [w["path"] for w in job["result"]["warnings"]] == ["upload/cut.fit"], job  # type: ignore[index]


async def test_upload_type_and_size_checks(make_app: AppFactory, demo: Demo) -> None:
    app = make_app(max_upload_bytes=64 * 1024)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as c:
        c.headers["X-CSRF-Token"] = (await c.get("/api/csrf")).json()["csrf_token"]
        fit = demo.fit_files[0].read_bytes()
        assert len(fit) > 64 * 1024
        r = await c.post("/api/import", params={"filename": "big.fit"}, content=fit)
        assert r.status_code == 413

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit applies while streaming
            for i in range(0, len(fit), 16 * 1024):
                yield fit[i : i + 16 * 1024]

        r = await c.post("/api/import", params={"filename": "streamed.fit"}, content=chunks())
        assert r.status_code == 413
        r = await c.post("/api/import", params={"filename": "notes.txt"}, content=b"hello")
        assert r.status_code == 415
        r = await c.post("/api/import", params={"filename": "fake.fit"}, content=b"<html>" + b"x" * 100)
        assert r.status_code == 415
        r = await c.post("/api/import", params={"filename": "fake.zip"}, content=fit[:1000])
        assert r.status_code == 415
        r = await c.post("/api/import", params={"filename": "empty.fit"}, content=b"")
        assert r.status_code == 400
        r = await c.post("/api/import", params={"filename": ".fit"}, content=fit[:100])
        assert r.status_code == 415
    assert len(app.state.web.store.list_activities("me")) == SEASON_RUNS


# ---------------------------------------------------------------------------- experiments
async def test_experiments_page(make_app: AppFactory) -> None:
    from stridelab.web.pages.experiments import experiments_api

    api = experiments_api()
    assert api is not None, "the analysis area offers experiments"
    app = make_app()
    st = app.state.web
    runs = st.store.list_activities("me")
    api.create_experiment(st.store, "me", "cadence cue", ["none", "cue"], "alternating-runs", seed=1)
    for i, row in enumerate(runs):
        api.add_tags(st.store, "me", row.id, [("cue", "cue" if i % 2 else "none")])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as c:
        rows = (await c.get("/api/experiments")).json()
        assert [r["name"] for r in rows] == ["cadence cue"]
        html = (await c.get("/experiments")).text
        assert "cadence cue" in html and 'href="/experiments"' in html  # listed and in the navigation
        r = await c.get("/api/experiments/result", params={"name": "cadence cue"})
        assert r.status_code == 200, r.text
        result = r.json()
        assert result["n_blocks"] == len(runs) and result["effect_pp"] is not None
        import stridelab.analysis as analysis

        expected = analysis.protocol_text(analysis_experiment(st, "cadence cue"))
        assert expected and result["protocol_text"] == expected
        assert (
            await c.get("/api/experiments/result", params={"name": "cadence cue", "part": "chart"})
        ).json()["data"]
        page = await c.get("/experiments", params={"name": "cadence cue"})
        assert page.status_code == 200 and "Effect on balance" in page.text
        assert "<summary>Protocol</summary>" in page.text
        assert (await c.get("/api/experiments/result", params={"name": "nope"})).status_code == 404
        assert (await c.get("/api/experiments/result", params={"name": "a\x01b"})).status_code == 422


async def test_an_empty_store_renders_every_page(tmp_path: Path) -> None:
    app = create_app(WebConfig(store_path=tmp_path / "empty", background_analysis=False))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
        ) as c:
            for path in (
                *PAGES,
                "/api/runs",
                "/api/trends",
                "/api/load",
                "/api/plan",
                "/api/plan/today",
                "/api/tests",
                "/api/trends/charts/balance",
                "/api/trends/charts/load",
                "/api/tests/chart",
            ):
                r = await c.get(path)
                assert r.status_code == 200, (path, r.text[:300])
            assert (await c.get("/api/runs")).json() == []
            assert "No runs yet" in (await c.get("/runs")).text
            assert "Create a plan" in (await c.get("/plan")).text
    finally:
        app.state.web.close()


def analysis_experiment(st: object, name: str) -> object:
    from stridelab.services.experiments import list_experiments

    store = st.store  # type: ignore[attr-defined]
    return next(e for e in list_experiments(store, "me") if e.name == name)


def test_experiments_use_the_public_analysis_surface_only() -> None:
    import stridelab.services.experiments
    from stridelab.web.pages.experiments import experiments_api

    assert experiments_api() is stridelab.services.experiments
    source = Path(__import__("stridelab.web", fromlist=["x"]).__file__).parent
    for path in source.rglob("*.py"):
        assert "_experiment_api" not in path.read_text(), path


# ---------------------------------------------------------------------------- tags (issue 8 x 7)
async def test_tags_show_wherever_runs_are_listed(make_app: AppFactory) -> None:
    from stridelab.services.experiments import add_tags

    app = make_app()
    st = app.state.web
    runs = st.store.list_activities("me")
    add_tags(st.store, "me", runs[0].id, [("cue", "push-behind")])  # the tags table, as the CLI writes it
    add_tags(st.store, "me", runs[1].id, [("shoe", "flat")])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as c:
        items = {i["id"]: i for i in await _runs(c)}
        assert items[runs[0].id]["tags"] == ["cue=push-behind"]
        assert items[runs[1].id]["tags"] == ["shoe=flat"]
        assert sum(1 for i in items.values() if i["tags"]) == 2
        r = await c.get("/api/runs", params={"tag": "cue"})
        assert [i["id"] for i in r.json()] == [runs[0].id] and r.headers["x-total-count"] == "1"
        assert [i["id"] for i in await _runs(c, tag="cue=push-behind")] == [runs[0].id]
        assert await _runs(c, tag="cue=pull-up") == []
        assert [i["id"] for i in await _runs(c, q="flat")] == [runs[1].id]  # the search sees tags
        page = (await c.get("/runs")).text
        assert "cue=push-behind" in page and "shoe=flat" in page
        filtered = (await c.get("/runs", params={"tag": "shoe"})).text
        assert "shoe=flat" in filtered and "cue=push-behind" not in filtered and "1 match<" in filtered
        detail = await c.get(f"/runs/{runs[0].id[:10]}")
        assert detail.status_code == 200 and "cue=push-behind" in detail.text
        assert (await c.get(f"/api/runs/{runs[0].id}")).json()["tags"] == ["cue=push-behind"]
        # a tag added later (the CLI, another process) shows without a catalog change
        add_tags(st.store, "me", runs[0].id, [("shoe", "flat")])
        assert (await c.get(f"/api/runs/{runs[0].id}")).json()["tags"] == ["cue=push-behind", "shoe=flat"]
        assert len(await _runs(c, tag="shoe")) == 2


# ---------------------------------------------------------------------------- the one writer
async def test_requests_never_write_outside_the_writer(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reads stay reads: a run whose cache row went missing (``stridelab analyze --no-cache``, a
    version bump, a CLI ``clear_cache``) is analysed for the page but not cached by the request; the
    experiment result, the tags, the trends and the load write nothing either."""
    import threading

    from stridelab.services.experiments import add_tags, create_experiment
    from stridelab.store import Store

    app = make_app()
    st = app.state.web
    runs = st.store.list_activities("me")
    create_experiment(st.store, "me", "cue test", ["none", "cue"], "alternating-runs", seed=1)
    for i, row in enumerate(runs):
        add_tags(st.store, "me", row.id, [("cue", "cue" if i % 2 else "none")])
    with st.store.transaction() as tx:  # the cache row of one run disappears behind the index's back
        tx.execute("DELETE FROM analysis_runs WHERE activity_id = ?", (runs[0].id,))
    writers: list[tuple[str, bool]] = []
    original = Store.transaction

    def spy(self: Store, *args: object, **kwargs: object) -> object:
        writers.append((threading.current_thread().name, threading.get_ident() == st.writer.thread_ident))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Store, "transaction", spy)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as c:
        for path in (
            f"/runs/{runs[0].id}",
            f"/api/runs/{runs[0].id}",
            "/api/runs?tag=cue",
            "/api/experiments/result?name=cue%20test",
            "/experiments?name=cue%20test",
            "/trends",
            "/api/load",
            "/plan",
            "/tests",
        ):
            r = await c.get(path)
            assert r.status_code == 200, (path, r.text[:300])
        assert (
            await c.post(
                "/api/tests",
                json={"side": "left", "seconds": 20.5},
                headers={"X-CSRF-Token": (await c.get("/api/csrf")).json()["csrf_token"]},
            )
        ).status_code in (200, 201)
    assert writers, "the balance test is written (on the writer)"
    assert all(on_writer for _name, on_writer in writers), writers
    monkeypatch.undo()
    row = (
        st.store.connect()
        .execute("SELECT count(*) FROM analysis_runs WHERE activity_id = ?", (runs[0].id,))
        .fetchone()
    )
    assert row[0] == 0  # the request did not fill the cache (the background job on the writer does)


# ---------------------------------------------------------------------------- the baseline band
def test_the_trends_baseline_band_is_the_analysis_baseline() -> None:
    """The band on /trends must flag exactly the runs `stridelab baseline` flags (same window, centre,
    robust spread and floor). The analysis area does not export its band publicly yet, so the web keeps
    a copy; this pins the copy to the original (private import: a test may look inside)."""
    import numpy as np
    import pandas as pd

    from stridelab.analysis._baseline import baseline_table
    from stridelab.web.pages.trends import baseline_band

    rng = np.random.default_rng(3)
    n = 60
    adj = 50.0 + rng.normal(0, 0.4, n)
    adj[[3, 17, 40]] = np.nan  # runs without an adjusted value
    adj[[25, 50]] += 3.0  # outliers
    adj[30:36] = 50.5  # a flat stretch: the spread floor (0.1 pp) applies
    t = pd.date_range("2026-01-01", periods=n, freq="2D", tz="UTC")
    table = pd.DataFrame({"start_time": t, "balance_at_ref_speed_left_pct": adj})
    band = baseline_band(table)
    rows = baseline_table(
        pd.DataFrame(
            {"id": [f"r{i}" for i in range(n)], "start_time": t, "balance_adj": adj, "balance_raw": adj}
        ),
        None,
    )
    assert len(rows) == n
    for i, row in enumerate(rows):
        if row.centre_left_pct is None:
            assert np.isnan(band["baseline"].iloc[i]), i
            continue
        assert band["baseline"].iloc[i] == pytest.approx(row.centre_left_pct), i
        assert row.spread_pp is not None and row.limit_pp is not None
        assert band["high"].iloc[i] - band["baseline"].iloc[i] == pytest.approx(row.limit_pp), i
        assert bool(band["outside"].iloc[i]) == (row.flag in ("high", "low")), i
    assert int(band["outside"].sum()) >= 2


# ---------------------------------------------------------------------------- creating a plan
async def test_a_plan_created_on_the_web_is_scheduled_around_the_running_days(
    client: httpx.AsyncClient,
) -> None:
    """The web asks what `stridelab plan create` asks (run days, weaker side, pain areas, equipment,
    lighter week) and passes it to the same builder; unknown or bad answers are refused, not dropped."""
    body = {
        "start": "2026-12-07",
        "weeks": 9,
        "sessions_per_week": 3,
        "minutes": 15,
        "run_days": ["tue", "thu", "sat"],
        "weaker_side": "left",
        "pain_areas": ["knee"],
        "equipment": ["band"],
        "lighter_week": True,
    }
    r = await client.post("/api/plan", json=body)
    assert r.status_code == 200, r.text
    plan = r.json()["plan"]
    phases = plan["phases"]
    assert not set(phases[0]["weekdays"]) & {"tue", "thu", "sat"}  # strength on non-running days
    assert phases[1]["weekdays"] == ["tue", "thu", "sat"]  # drills on running days
    assert plan["inputs"]["run_days"] == ["tue", "thu", "sat"]
    assert plan["inputs"]["pain_areas"] == ["knee"] and "band" in plan["inputs"]["equipment"]
    assert plan["inputs"]["lighter_week"] is True and any(s["lighter"] for s in plan["sessions"])
    assert plan["tailoring"]["pain_areas"] == ["knee"]
    assert plan["weaker_side"] == "left"
    assert (await client.get("/api/plan")).json()["plan_id"] == r.json()["plan_id"]  # now the active plan
    for bad, field in (
        ({"run_days": ["mon", "mon"]}, "--run-days"),
        ({"run_days": ["someday"]}, "--run-days"),
        ({"pain_areas": ["elbow"]}, "--pain"),
        ({"equipment": ["treadmill"]}, "--equipment"),
        ({"rundays": ["mon"]}, "rundays"),  # a typo is refused, never silently ignored
    ):
        r = await client.post("/api/plan", json={"start": "2026-12-07", **bad})
        assert r.status_code == 422 and field in r.text, (bad, r.text)
    # the HTML form: checkboxes for the run days
    form = {
        "csrf_token": client.headers["X-CSRF-Token"],
        "start": "2026-12-14",
        "weeks": "3",
        "run_days": ["mon", "fri"],
        "weaker_side": "none",
    }
    r = await client.post("/plan/create", data=form, headers={"X-CSRF-Token": ""})
    assert r.status_code == 200 and "Plan created" in r.text, r.text[:500]
    timeline = (await client.get("/api/plan")).json()
    assert timeline["start"] == "2026-12-14"
    assert all({"mon", "fri"} <= set(p["weekdays"]) for p in timeline["phases"][1:])  # 3 sessions, 2 runs
    assert not {"mon", "fri"} & set(timeline["phases"][0]["weekdays"])


async def test_the_run_page_reads_in_miles_when_imperial_is_chosen(client: httpx.AsyncClient) -> None:
    """Issue 16: imperial units on the run page too: splits per mile with elevation in ft, the
    reference speed as a pace, the pace axes of the speed and laps charts in min:ss per mile (each unit
    system kept apart in the chart cache), and metric again when the viewer switches back."""
    run_id = str((await _runs(client))[0]["id"])
    metric = (await client.get(f"/runs/{run_id}")).text
    assert "Per kilometre" in metric and "elev +/- (m)" in metric and "Per mile" not in metric
    imperial = (await client.get(f"/runs/{run_id}", params={"units": "imperial"})).text
    assert "Per mile" in imperial and "elev +/- (ft)" in imperial and "Per kilometre" not in imperial
    assert re.search(r"mi 1</td>", imperial) and "\u202fmi<" in imperial
    assert re.search(r"At reference speed \d+:\d\d\u202f?/mi", imperial), imperial[:3000]
    for units, suffix in (("metric", "/km"), ("imperial", "/mi"), ("metric", "/km")):
        speed = (await client.get(f"/api/runs/{run_id}/charts/speed", params={"units": units})).json()
        ticks = speed["layout"]["xaxis"]["ticktext"]
        assert ticks and all(t.endswith(suffix) for t in ticks), (units, ticks)
        laps = (await client.get(f"/api/runs/{run_id}/charts/laps", params={"units": units})).json()
        assert laps["layout"]["yaxis"]["title"]["text"] == f"pace {suffix}"
        assert all(re.fullmatch(r"\d+:\d\d", t) for t in laps["layout"]["yaxis"]["ticktext"])
        assert suffix in laps["data"][0]["hovertemplate"]
    km = (await client.get(f"/api/runs/{run_id}/charts/laps", params={"units": "metric"})).json()
    km = km["data"][0]["y"]
    mi = (await client.get(f"/api/runs/{run_id}/charts/laps", params={"units": "imperial"})).json()
    ratio = [b / a for a, b in zip(km, mi["data"][0]["y"], strict=True) if a]
    assert ratio and all(abs(r - 1.609344) < 1e-9 for r in ratio)  # the same paces, per mile
    # the page remembers the choice (cookie): without ?units= the page stays in miles
    assert "Per mile" in (await client.get(f"/runs/{run_id}")).text
