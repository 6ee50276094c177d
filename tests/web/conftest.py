"""Fixtures of the dashboard tests: a small demo season (built once per test run, shared by the xdist
workers through a file lock), a fresh copy of its store per test, apps over it, a live server."""

from __future__ import annotations

import fcntl
import json
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from _web_support import EXTRA_RUNS, PLAN_START, SEASON_RUNS, SEED, AppFactory, Demo
from fastapi import FastAPI

from stridelab.web import WebConfig, create_app


def _build(base: Path) -> dict[str, Any]:
    from stridelab.services.analysis import analyze_activity
    from stridelab.services.imports import import_paths
    from stridelab.services.training import PlanInputs, build_plan, save_plan
    from stridelab.sim import simulate_season
    from stridelab.store import Store

    season, extra, store_dir = base / "season", base / "extra", base / "store"
    simulate_season(season, n_runs=SEASON_RUNS, seed=SEED)
    simulate_season(extra, n_runs=EXTRA_RUNS, weeks=2, seed=SEED + 1)
    store = Store.open(store_dir)
    result = import_paths(store, [season], workers=1)
    assert len(result.imported) == SEASON_RUNS, result.to_json()
    for row in store.list_activities("me"):
        analyze_activity(store, "me", row.id)
    plan = build_plan(PlanInputs(start=PLAN_START, weeks=4, sessions_per_week=3, minutes=15.0))
    save_plan(store, "me", plan)
    store.connect().execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main db file
    store.close()
    return {"today": plan.sessions[0].date.isoformat()}


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """Built once per test run (the first xdist worker builds, the others wait on the lock)."""
    root = tmp_path_factory.getbasetemp()
    shared = root.parent if root.name.startswith("popen-gw") else root
    base = shared / "stridelab-web-demo"
    base.mkdir(parents=True, exist_ok=True)
    with (shared / "stridelab-web-demo.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            marker = base / "ready.json"
            if not marker.exists():
                for child in base.iterdir():  # a half-built leftover of an interrupted run
                    if child.is_dir():
                        shutil.rmtree(child)
                    else:
                        child.unlink()
                info = _build(base)
                marker.write_text(json.dumps(info))
            info = json.loads(marker.read_text())
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return Demo(base / "season", base / "extra", base / "store", date.fromisoformat(info["today"]))


@pytest.fixture
def store_copy(demo: Demo, tmp_path: Path) -> Path:
    """A private copy of the demo store (tests write to it freely). The WAL file is copied too: a
    copy without it may miss committed transactions that were not checkpointed yet."""
    dst = tmp_path / "store"
    shutil.copytree(demo.store, dst, ignore=shutil.ignore_patterns("*-shm"))
    return dst


@pytest.fixture
def make_app(store_copy: Path, demo: Demo) -> Iterator[AppFactory]:
    """Build apps over the test's store copy (``today`` = the plan's first session); closed afterwards."""
    apps: list[FastAPI] = []

    def factory(**overrides: Any) -> FastAPI:
        # no background threads in in-process tests: the analyses' `warnings.catch_warnings` (statsmodels)
        # is process-global and would race with the test thread's warning filters
        kw: dict[str, Any] = {"store_path": store_copy, "today": demo.today, "background_analysis": False}
        kw.update(overrides)
        app = create_app(WebConfig(**kw))
        app.state.web.index.analyse_now()  # cache hits: the index is complete before the first request
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.state.web.close()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(make_app: AppFactory) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client (httpx ASGI transport) of a default app, with a CSRF token ready."""
    app = make_app()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8765"
    ) as c:
        token = (await c.get("/api/csrf")).json()["csrf_token"]
        c.headers["X-CSRF-Token"] = token
        yield c
