"""Trends (``/trends``): raw vs pace-adjusted GCT balance over the months with the runner's baseline
band, the month comparison, and the weekly load with the 10 % rule and the ACWR.

Everything derives from the runs index (cached analyses), memoised per index version and day: a
repeated request costs a dictionary lookup.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pandas as pd
from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import HTMLResponse

import stridelab.web._charts as _charts
from stridelab.present import charts
from stridelab.present.analysis import trend_json
from stridelab.report import trend_plotly
from stridelab.services.analysis import prediction_limit
from stridelab.services.training import LoadReport, weekly_load
from stridelab.web._state import WebState
from stridelab.web.pages._common import JSONText, render, state

__all__ = ["BASELINE_MIN_RUNS", "BASELINE_WINDOW_RUNS", "baseline_band", "router", "warm"]

router = APIRouter()
#: the runner's baseline, defined like `stridelab baseline` (stridelab.analysis.baseline_table and its
#: prediction_limit): the previous 20 runs' pace-adjusted balance, centre = mean, spread = SD (at least
#: 0.1 pp); a run outside the prediction interval centre ± t(n-1) spread sqrt(1 + 1/n) at the level of
#: ±2 SD (95.45 %) is outside her normal band.
BASELINE_WINDOW_RUNS: Final[int] = 20
BASELINE_MIN_RUNS: Final[int] = 5
BASELINE_K_SPREAD: Final[float] = 2.0
_SPREAD_FLOOR_PP: Final[float] = 0.1


def baseline_band(table: pd.DataFrame) -> pd.DataFrame:
    """Per run (time order): ``baseline`` (mean of the previous :data:`BASELINE_WINDOW_RUNS`
    pace-adjusted values), ``low``/``high`` (the prediction interval at +- :data:`BASELINE_K_SPREAD` SD) and
    ``outside`` (the run's own value is beyond the band); NaN until :data:`BASELINE_MIN_RUNS` runs."""
    cols = ["start_time", "baseline", "low", "high", "outside"]
    if not len(table) or "balance_at_ref_speed_left_pct" not in table.columns:
        return pd.DataFrame(columns=cols)
    t = pd.to_datetime(table["start_time"], utc=True)
    y = pd.to_numeric(table["balance_at_ref_speed_left_pct"], errors="coerce").to_numpy(dtype="float64")
    base = np.full(len(y), np.nan)
    half = np.full(len(y), np.nan)
    finite = np.flatnonzero(np.isfinite(y))
    for k, i in enumerate(finite):
        prev = y[finite[max(0, k - BASELINE_WINDOW_RUNS) : k]]
        if prev.size >= BASELINE_MIN_RUNS:
            base[i], _, half[i] = prediction_limit(prev, _SPREAD_FLOOR_PP, BASELINE_K_SPREAD)
    outside = np.abs(y - base) > half
    return pd.DataFrame(
        {"start_time": t, "baseline": base, "low": base - half, "high": base + half, "outside": outside}
    )


def _memoised(st: WebState, name: str, key: Any, compute: Any) -> Any:
    got = st.memo.get(name)
    if got is not None and got[0] == key:
        return got[1]
    value = compute()
    st.memo[name] = (key, value)
    return value


def _monthly(table: pd.DataFrame) -> list[dict[str, Any]]:
    if not len(table) or "balance_mean_left_pct" not in table.columns:
        return []
    t = pd.to_datetime(table["start_time"], utc=True).dt.tz_localize(None).dt.to_period("M")
    g = table.assign(_m=t.astype(str)).groupby("_m")
    out = []
    for month, sub in g:
        raw = pd.to_numeric(sub["balance_mean_left_pct"], errors="coerce").dropna()
        adj_col = "balance_at_ref_speed_left_pct"
        adj_raw = sub[adj_col] if adj_col in sub.columns else pd.Series(dtype="float64")
        adj = pd.to_numeric(adj_raw, errors="coerce").dropna()
        out.append(
            {
                "month": str(month),
                "n_runs": len(sub),
                "raw_median_left_pct": float(raw.median()) if len(raw) else None,
                "adjusted_median_left_pct": float(adj.median()) if len(adj) else None,
            }
        )
    return out


def _trend_payload(st: WebState) -> dict[str, Any]:
    def compute() -> dict[str, Any]:
        trend = st.index.trend()
        d = trend_json(trend)
        d.pop("runs", None)
        band = baseline_band(trend.table)
        last = band.dropna(subset=["baseline"]).tail(1)
        d["baseline"] = {
            "window_runs": BASELINE_WINDOW_RUNS,
            "k_spread": BASELINE_K_SPREAD,
            "runs_outside": int(band["outside"].sum()) if len(band) else 0,
            "current_left_pct": float(last["baseline"].iloc[0]) if len(last) else None,
            "current_band_left_pct": [float(last["low"].iloc[0]), float(last["high"].iloc[0])]
            if len(last)
            else None,
        }
        d["months"] = _monthly(trend.table)
        d["analysis_pending"] = st.index.pending()
        return d

    return _memoised(st, "trend", st.index.version, compute)


def _load(st: WebState) -> LoadReport:
    today = st.today()
    return _memoised(
        st,
        "load",
        (st.index.version, today),
        lambda: weekly_load(st.store, st.athlete, today=today, provider=st.index.asymmetry_provider()),
    )


def _trend_chart(st: WebState) -> dict[str, Any]:
    def compute() -> dict[str, Any]:
        import plotly.graph_objects as go

        trend = st.index.trend()
        fig = trend_plotly(trend)
        band = baseline_band(trend.table).dropna(subset=["baseline"])
        if len(band):
            fig.add_trace(
                go.Scatter(
                    charts.band(
                        band["start_time"],
                        band["low"],
                        band["high"],
                        name=f"baseline band (last {BASELINE_WINDOW_RUNS} runs ± {BASELINE_K_SPREAD:g} SD)",
                        fillcolor="rgba(44,160,44,0.15)",
                        mode="lines",
                        hoverinfo="skip",
                    )
                )
            )
            fig.add_trace(
                go.Scatter(
                    x=band["start_time"],
                    y=band["baseline"],
                    mode="lines",
                    line={"color": "#2ca02c", "width": 1, "dash": "dot"},
                    name="baseline",
                )
            )
        fig.update_layout(height=480, legend={"orientation": "h", "y": -0.3})
        return _charts.figure_json(fig)

    return _memoised(st, "trend_chart", st.index.version, compute)


def warm(st: WebState) -> None:
    """Fill the memos of this page (called in the background when the analyses caught up)."""
    _trend_payload(st)
    _load(st)
    _trend_chart(st)


@router.get("/api/trends", tags=["trends"], summary="Balance trends and month comparison")
def api_trends(request: Request) -> JSONText:
    """Robust trends of raw and pace-adjusted balance, weekly aggregates, months, the baseline."""
    return JSONText(_trend_payload(state(request)))


@router.get("/api/load", tags=["trends"], summary="Weekly load: 10 % rule and ACWR")
def api_load(request: Request) -> JSONText:
    """The load guard of :func:`stridelab.services.training.weekly_load` up to today."""
    return JSONText(_load(state(request)).to_dict())


@router.get("/api/trends/charts/{name}", tags=["trends"], summary="A trends chart (Plotly JSON)")
def api_trend_chart(request: Request, name: str = Path(pattern=r"^(balance|load|fitness)$")) -> JSONText:
    """``balance`` (raw vs adjusted with the baseline band), ``load`` (weekly distance, ACWR) or
    ``fitness`` (CTL, ATL, TSB of the heart-rate or power load, the home's chart)."""
    st = state(request)
    if name == "fitness":
        from stridelab.web.pages.home import fitness_chart

        return JSONText(fitness_chart(request))
    if name == "balance":
        return JSONText(_trend_chart(st))
    if name == "load":
        report = _load(st)
        return JSONText(
            _memoised(
                st,
                "load_chart",
                (st.index.version, st.today()),
                lambda: _charts.weekly_load_chart(report.to_dict()["weeks"]),
            )
        )
    raise HTTPException(404, f"No chart {name!r}")


@router.get("/trends", response_class=HTMLResponse, include_in_schema=False)
def trends_page(request: Request) -> HTMLResponse:
    st = state(request)
    trend = _trend_payload(st)
    load = _load(st)
    weeks = list(load.weeks)[-12:]
    return render(
        request,
        "trends.html",
        title="Trends",
        t=trend,
        load=load,
        weeks=list(reversed(weeks)),
    )
