"""One run (``/runs/{id}``): summary, balance over time with zones and excluded segments, balance vs
speed with its fit, drift, laps, the route and every other dynamic.

The page renders from the cached analysis (fast); the charts load afterwards from
``/api/runs/{id}/charts/{name}``, which share one full analysis (per-sample arrays) per run.
"""

from __future__ import annotations

from typing import Any, Final, Literal

import numpy as np
from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import HTMLResponse

import stridelab.web._charts as _charts
from stridelab.present import metrics
from stridelab.present.analysis import run_analysis_json
from stridelab.present.format import estimate_of
from stridelab.present.splits import split_columns, split_rows
from stridelab.report import balance_speed_plotly, balance_timeline_plotly, drift_plotly, zones_plotly
from stridelab.services.splits import split_tables
from stridelab.web._index import RunEntry, zone_name
from stridelab.web._state import RunBundle
from stridelab.web.pages._common import JSONText, RunId, render, resolve_run, state, units_of

__all__ = ["CHART_NAMES", "router"]

router = APIRouter()

#: the charts of a run page, in page order
CHART_NAMES: Final[tuple[str, ...]] = ("timeline", "zones", "speed", "drift", "route", "laps", "dynamics")


def _entry(request: Request, run_id: str) -> RunEntry:
    full = resolve_run(request, run_id)
    entry = state(request).index.get(full)
    if entry is None:
        raise HTTPException(404, f"No run {run_id!r}")
    return entry


def _payload(request: Request, entry: RunEntry) -> dict[str, Any]:
    st = state(request)
    analysis = st.summary(entry)
    ref = st.index.ref_speed_m_s
    out = run_analysis_json(analysis, ref)
    out["id"] = entry.id
    out["start_time"] = entry.start_time.isoformat()
    out["sport"] = entry.sport
    out["distance_m"] = entry.distance_m
    out["timer_s"] = entry.duration_s
    out["pace_s_per_km"] = entry.pace_s_per_km
    out["balance_catalog_mean_left_pct"] = entry.balance_mean_left_pct
    out["source_name"] = entry.source_name
    out["tags"] = st.tags([entry.id]).get(entry.id, [])
    laps = st.laps(entry.id)
    out["laps"] = [
        {
            "lap": int(r["lap_index"]) + 1,
            "distance_m": r["distance_m"],
            "timer_s": r["timer_s"],
            "avg_speed_m_s": r["avg_speed_m_s"],
            "intensity": r["intensity"],
        }
        for r in laps.to_dict("records")
    ]
    return out


@router.get("/api/runs/{run_id}", tags=["runs"], summary="One run's analysis")
def api_run(request: Request, run_id: RunId) -> JSONText:
    """The ``stridelab analyze --json`` contract of one run (at the athlete's reference speed) plus
    catalog facts and laps."""
    return JSONText(_payload(request, _entry(request, run_id)))


def _metric_rows(payload: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for metric in metrics.OTHER_MODELLED:
        m = payload.get(metrics.contract_key(metric)) or {}
        if m.get("mean") is None:
            continue
        rows.append(
            {
                "name": metrics.label(metric),
                "unit": metrics.unit(metric),
                "mean": m.get("mean"),
                "median": m.get("median"),
                "iqr": m.get("iqr"),
                "at_ref": m.get("at_ref_speed"),
                "drift": estimate_of(m.get("drift_per_h")),
            }
        )
    for key, m in (payload.get("metrics") or {}).items():
        rows.append(
            {
                "name": metrics.label(key),
                "unit": m.get("unit", ""),
                "mean": m.get("mean"),
                "median": m.get("median"),
                "iqr": m.get("iqr"),
                "at_ref": None,
                "drift": None,
            }
        )
    return rows


@router.get("/runs/{run_id}", response_class=HTMLResponse, include_in_schema=False)
def run_page(request: Request, run_id: RunId) -> HTMLResponse:
    entry = _entry(request, run_id)
    state(request).prefetch(entry)
    payload = _payload(request, entry)
    bal = payload["balance"]
    st = state(request)
    units = units_of(request)
    tables = []
    per_distance: tuple[Literal["mi", "km"], str] = (
        ("mi", "Per mile") if units == "imperial" else ("km", "Per kilometre")
    )
    parts: tuple[tuple[Literal["lap", "km", "mi"], str], ...] = (("lap", "Per lap"), per_distance)
    # one read of the run for both tables; the frames kept while the store is unchanged
    split = split_tables(st.store, st.athlete, entry.id, [by for by, _ in parts], memo=st.split_memo)
    for t, (_by, title) in zip(split, parts, strict=True):
        tables.append((title, {"columns": split_columns(t, units=units), "rows": split_rows(t, units=units)}))
    return render(
        request,
        "run.html",
        splits=tables,
        title=f"Run {entry.start_time.strftime('%Y-%m-%d')}",
        run=entry,
        p=payload,
        bal=bal,
        metric_rows=_metric_rows(payload),
        charts=CHART_NAMES,
        adjusted_zone=_zone(bal.get("at_ref_speed_left_pct")),
        mean_zone=_zone(bal.get("mean_left_pct")),
    )


def _zone(left: float | None) -> str | None:
    return zone_name(left)


#: the charts whose axes read in the viewer's units (kept once per unit system)
_UNIT_CHARTS: Final[frozenset[str]] = frozenset({"speed", "laps"})


def _chart(request: Request, bundle: RunBundle, name: str) -> dict[str, Any]:
    a = bundle.analysis
    ref = bundle.ref_speed_m_s
    if name == "timeline":
        return _charts.figure_json(balance_timeline_plotly(a))
    if name == "zones":
        return _charts.figure_json(zones_plotly(a))
    if name == "speed":
        return _charts.figure_json(balance_speed_plotly(a, ref, units=units_of(request)))
    if name == "drift":
        return _charts.figure_json(drift_plotly(a, ref))
    if name == "route":
        pos = state(request).positions(bundle.entry.id)
        if pos is None:
            return _charts.route_chart(np.array([]), np.array([]))
        return _charts.route_chart(pos[0], pos[1])
    if name == "laps":
        return _charts.laps_chart(bundle.laps, units=units_of(request))
    if name == "dynamics":
        frame = a.frame
        if frame is None:
            return _charts.dynamics_chart(np.array([]), {})
        return _charts.dynamics_chart(frame.t_s, frame.values, placement=a.sensor.placement)
    raise HTTPException(404, f"No chart {name!r}")


@router.get("/api/runs/{run_id}/charts/{name}", tags=["runs"], summary="One chart of a run (Plotly JSON)")
def api_run_chart(
    request: Request,
    run_id: RunId,
    name: str = Path(pattern=r"^[a-z]{1,20}$", description=", ".join(CHART_NAMES)),
) -> JSONText:
    """A Plotly figure spec (``{data, layout}``) of one run chart, drawn by the page's plotly.js."""
    if name not in CHART_NAMES:
        raise HTTPException(404, f"No chart {name!r}; charts: {', '.join(CHART_NAMES)}")
    entry = _entry(request, run_id)
    bundle = state(request).bundle(entry)
    key = f"{name}:{units_of(request)}" if name in _UNIT_CHARTS else name
    with bundle.lock:
        spec = bundle.charts.get(key)
    if spec is None:
        spec = _chart(request, bundle, name)
        with bundle.lock:
            bundle.charts[key] = spec
    return JSONText(spec)
