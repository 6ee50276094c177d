"""The walking gait page (``/walking``) and its API, in-process (httpx ASGI transport) on a copy of the
demo store with daily walking gait added through the store's repository."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from _web_support import AppFactory

from stridelab.io.healthkit import DailyGaitMetrics, DailyGaitValue
from stridelab.store import Store
from stridelab.store import health as health_store

PHONE = "<b>Alex’s iPhone</b>"  # escaped in the page


def add_walking(store_dir: Path, n_days: int = 30) -> None:
    values = []
    for i in range(n_days):
        day = (date(2024, 3, 1) + timedelta(days=i)).isoformat()
        values += [
            DailyGaitValue(day, "walking_asymmetry_pct", 2.0 + 0.1 * (i % 5), "%", PHONE, 4),
            DailyGaitValue(day, "walking_double_support_pct", 27.5, "%", PHONE, 4),
            DailyGaitValue(day, "walking_step_length_m", 0.72, "m", PHONE, 4),
            DailyGaitValue(day, "walking_speed_m_s", 1.35, "m/s", PHONE, 4),
        ]
    st = Store.open(store_dir)
    health_store.write_daily_gait(st, "me", DailyGaitMetrics(None, tuple(values)))
    st.close()


@pytest.mark.anyio
async def test_walking_api_and_page(make_app: AppFactory, store_copy: Path) -> None:
    app = make_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as c:
        empty = (await c.get("/api/walking")).json()
        assert empty["days"] == [] and empty["first_day"] is None
        page = await c.get("/walking")
        assert page.status_code == 200 and 'id="walking-empty"' in page.text
        assert 'href="/walking"' in page.text  # in the navigation bar
    add_walking(store_copy)
    app = make_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as c:
        out = (await c.get("/api/walking", params={"days": 7})).json()
        assert len(out["days"]) == 7 and out["last_day"] == "2024-03-30"
        assert out["days"][-1]["step_length_cm"] == 72.0 and out["days"][-1]["speed_km_h"] == 4.86
        assert (await c.get("/api/walking", params={"days": 0})).status_code == 422
        chart = (await c.get("/api/walking/chart")).json()
        assert len(chart["data"]) == 8
        page = (await c.get("/walking")).text
        assert "&lt;b&gt;Alex’s iPhone&lt;/b&gt;" in page and PHONE not in page
        assert "step length (cm)" in page and "walking speed (km/h)" in page
        assert "72" in page and "4.86" in page
        assert 'data-chart-url="/api/walking/chart"' in page
