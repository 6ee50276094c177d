"""Chart specs for the browser: Plotly figures as JSON, rendered by the vendored plotly.js.

Run and trend charts come from :mod:`stridelab.report` (the same figures as the HTML reports); the
dashboard only converts them (WebGL traces become SVG traces, so they draw without a GPU and on any
phone) and adds its own few small charts (route, other dynamics, laps, weekly load, balance tests),
written as plain Plotly dicts because they are simple and must be fast.
"""

from __future__ import annotations

import json
import math
from typing import Any, Final

import numpy as np
import pandas as pd

from stridelab.jsonsafe import to_jsonable
from stridelab.present import metrics
from stridelab.present.charts import pace_in_units, pace_ticks, thin, zone_shapes
from stridelab.present.format import pace as _pace_text
from stridelab.present.format import pace_unit

__all__ = [
    "balance_tests_chart",
    "dynamics_chart",
    "figure_json",
    "laps_chart",
    "message_chart",
    "route_chart",
    "weekly_load_chart",
]

_MAX_POINTS: Final[int] = 1500
_LAYOUT: Final[dict[str, Any]] = {
    "template": "plotly_white",
    "margin": {"l": 55, "r": 15, "t": 45, "b": 45},
    "legend": {"orientation": "h", "y": -0.25},
    "height": 380,
    "autosize": True,
}
SIDE_COLOURS: Final[dict[str, str]] = {"left": "#1f77b4", "right": "#d62728"}


def figure_json(fig: Any) -> dict[str, Any]:
    """A plotly ``Figure`` as a JSON-ready dict; ``scattergl`` traces become ``scatter``."""
    import plotly.io as pio

    spec = json.loads(pio.to_json(fig, validate=False, engine="json"))
    for trace in spec.get("data", []):
        if trace.get("type") == "scattergl":
            trace["type"] = "scatter"
    return {"data": spec.get("data", []), "layout": {**spec.get("layout", {}), "autosize": True}}


def _message(title: str, text: str) -> dict[str, Any]:
    return {
        "data": [],
        "layout": {
            **_LAYOUT,
            "height": 220,
            "title": {"text": title},
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "annotations": [
                {"text": text, "showarrow": False, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5}
            ],
        },
    }


def message_chart(title: str, text: str) -> dict[str, Any]:
    """An empty chart that says why it is empty."""
    return _message(title, text)


def route_chart(lat: np.ndarray, lon: np.ndarray) -> dict[str, Any]:
    """The GPS track as a plain x/y plot (offline: no map tiles), equal scale in metres."""
    ok = np.isfinite(lat) & np.isfinite(lon)
    if ok.sum() < 2:
        return _message("Route", "no GPS positions in this run")
    idx = np.flatnonzero(ok)[thin(int(ok.sum()), _MAX_POINTS)]
    la, lo = lat[idx], lon[idx]
    lat0 = float(np.mean(la))
    x = (lo - lo[0]) * 111_320.0 * math.cos(math.radians(lat0))
    y = (la - la[0]) * 110_540.0
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "x": x,
            "y": y,
            "mode": "lines",
            "name": "route",
            "line": {"color": "#1f77b4", "width": 3},
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "x": [x[0], x[-1]],
            "y": [y[0], y[-1]],
            "mode": "markers+text",
            "text": ["start", "finish"],
            "textposition": "top center",
            "marker": {"size": 10, "color": ["#2ca02c", "#000"]},
            "name": "start / finish",
        },
    ]
    layout = {
        **_LAYOUT,
        "title": {"text": "Route (metres from the start; north up)"},
        "xaxis": {"title": {"text": "east (m)"}, "zeroline": False},
        "yaxis": {"title": {"text": "north (m)"}, "scaleanchor": "x", "scaleratio": 1, "zeroline": False},
        "showlegend": False,
    }
    return {"data": to_jsonable(data), "layout": layout}


#: (metric key, panel colour) of the other-dynamics chart; label, unit and factor come from METRICS
_DYNAMICS_COLOURS: Final[tuple[tuple[str, str], ...]] = (
    ("gct", "#ff7f0e"),
    ("vo", "#2ca02c"),
    ("vr", "#9467bd"),
    ("step_length", "#8c564b"),
    ("cadence", "#e377c2"),
    ("heart_rate", "#d62728"),
    ("power", "#17becf"),
)
_DYNAMICS: Final[tuple[tuple[str, str, float, str], ...]] = tuple(
    (key, metrics.axis_label(key), metrics.factor(key), colour) for key, colour in _DYNAMICS_COLOURS
)


def dynamics_chart(
    t_s: np.ndarray, values: dict[str, np.ndarray], *, placement: str = "chest"
) -> dict[str, Any]:
    """The other running dynamics over time, one small panel each (shared time axis, minutes), with
    Garmin's zones shaded behind GCT, VO, VR and cadence (VO/VR bands for the sensor ``placement``)."""
    present = [d for d in _DYNAMICS if d[0] in values and np.isfinite(values[d[0]]).any()]
    if not present:
        return _message("Other dynamics", "no other running dynamics in this run")
    n = len(present)
    gap = 0.04
    h = (1.0 - gap * (n - 1)) / n
    data: list[dict[str, Any]] = []
    layout: dict[str, Any] = {
        **_LAYOUT,
        "height": 150 * n + 80,
        "title": {"text": "Other dynamics over time (clean and excluded samples)"},
        "showlegend": False,
    }
    shapes: list[dict[str, Any]] = []
    for i, (key, label, factor, colour) in enumerate(present):
        y = values[key] * factor
        ok = np.isfinite(y)
        idx = np.flatnonzero(ok)[thin(int(ok.sum()), _MAX_POINTS)]
        axis = "" if i == 0 else str(i + 1)
        shapes += zone_shapes(
            key,
            float(np.nanmin(y[idx])),
            float(np.nanmax(y[idx])),
            placement=placement,
            xref=f"x{axis} domain",
            yref=f"y{axis}",
        )
        data.append(
            {
                "type": "scatter",
                "x": t_s[idx] / 60.0,
                "y": y[idx],
                "mode": "lines",
                "line": {"color": colour, "width": 1},
                "name": label,
                "xaxis": f"x{axis}",
                "yaxis": f"y{axis}",
                "hovertemplate": "%{x:.1f} min<br>%{y:.1f}<extra>" + label + "</extra>",
            }
        )
        top = 1.0 - i * (h + gap)
        layout[f"yaxis{axis}"] = {
            "domain": [max(top - h, 0.0), top],
            "title": {"text": label, "font": {"size": 11}},
        }
        layout[f"xaxis{axis}"] = {
            "anchor": f"y{axis}",
            "matches": "x" if i else None,
            "showticklabels": i == n - 1,
            "title": {"text": "time (min)"} if i == n - 1 else None,
        }
    if shapes:
        layout["shapes"] = shapes
        layout["title"]["text"] += "; shaded: Garmin's zones"
    return {"data": to_jsonable(data), "layout": _drop_none(layout)}


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (_drop_none(v) if isinstance(v, dict) else v) for k, v in d.items() if v is not None}


def laps_chart(laps: pd.DataFrame, *, units: str = "metric") -> dict[str, Any]:
    """Pace per lap as bars: min:s per km (per mile with ``units="imperial"``)."""
    if laps.empty or "avg_speed_m_s" not in laps.columns:
        return _message("Laps", "no laps in this run")
    speed = pd.to_numeric(laps["avg_speed_m_s"], errors="coerce")
    nan = pd.Series(np.nan, index=laps.index)
    dist = pd.to_numeric(laps["distance_m"] if "distance_m" in laps.columns else nan, errors="coerce")
    t = pd.to_numeric(laps["timer_s"] if "timer_s" in laps.columns else nan, errors="coerce")
    speed = speed.where(speed > 0, dist / t)
    per_km = (1000.0 / speed).where(speed > 0.3).to_numpy(dtype="float64")  # s/km
    pace = pace_in_units(per_km, units)  # s per km or mile, labelled m:ss
    unit = pace_unit(units)
    names = [f"lap {int(i) + 1}" for i in laps["lap_index"]]
    data = [
        {
            "type": "bar",
            "x": names,
            "y": pace,
            "marker": {"color": "#1f77b4"},
            "name": "pace",
            "customdata": [fmt_pace(v, units=units) for v in per_km],
            "hovertemplate": f"%{{x}}<br>%{{customdata}}/{unit}<extra></extra>",
        }
    ]
    rng = _pace_range(pace)
    ticks, labels = pace_ticks(rng[0], rng[1]) if rng else ([], [])
    per = "mile" if units == "imperial" else "km"
    layout = {
        **_LAYOUT,
        "height": 300,
        "title": {"text": f"Pace per lap (min:s per {per}, lower is faster)"},
        "yaxis": {"title": {"text": f"pace /{unit}"}, "range": rng, "tickvals": ticks, "ticktext": labels},
        "showlegend": False,
    }
    return {"data": to_jsonable(data), "layout": layout}


def fmt_pace(seconds_per_km: float, *, units: str = "metric") -> str:
    """``m:ss`` of a pace in s/km (per mile with ``units="imperial"``; hover text), ``-`` when unknown."""
    return _pace_text(seconds_per_km, missing="-", units=units).split("\u202f/")[0]


def _pace_range(pace: np.ndarray) -> list[float] | None:
    ok = pace[np.isfinite(pace)]
    if not ok.size:
        return None
    lo, hi = float(ok.min()), float(ok.max())
    pad = max(0.1 * (hi - lo), 9.0)  # s/km
    return [max(lo - pad, 0.0), hi + pad]


def weekly_load_chart(weeks: list[dict[str, Any]]) -> dict[str, Any]:
    """Weekly distance (bars), the 10 % ceiling from the previous week, the ACWR on a second axis."""
    if not weeks:
        return _message("Weekly load", "no runs yet")
    x = [w["week_start"] for w in weeks]
    km = [w["distance_m"] / 1000.0 for w in weeks]
    ceiling = [None] + [k * 1.1 if k > 0 else None for k in km[:-1]]
    colours = [
        "#ff7f0e" if w.get("warning") else ("#9ecae1" if w.get("partial") else "#1f77b4") for w in weeks
    ]
    data = [
        {
            "type": "bar",
            "x": x,
            "y": km,
            "name": "distance (km; orange: a warning that week)",
            "marker": {"color": colours},
            "hovertemplate": "week of %{x}<br>%{y:.1f} km<extra></extra>",
        },
        {
            "type": "scatter",
            "x": x,
            "y": ceiling,
            "mode": "markers",
            "name": "+10 % on the previous week",
            "marker": {"symbol": "line-ew-open", "size": 18, "color": "#333", "line": {"width": 2}},
        },
        {
            "type": "scatter",
            "x": x,
            "y": [w.get("acwr") for w in weeks],
            "mode": "lines+markers",
            "name": "ACWR (7:28 d)",
            "yaxis": "y2",
            "line": {"color": "#d62728"},
            "connectgaps": False,
        },
    ]
    layout = {
        **_LAYOUT,
        "title": {"text": "Weekly load: distance, the 10 % rule and the ACWR"},
        "yaxis": {"title": {"text": "km per week"}},
        "yaxis2": {
            "title": {"text": "ACWR"},
            "overlaying": "y",
            "side": "right",
            "range": [0, 2.05],
            "dtick": 0.5,
            "showgrid": False,
        },
        "shapes": [
            {
                "type": "rect",
                "xref": "paper",
                "yref": "y2",
                "x0": 0,
                "x1": 1,
                "y0": 0.8,
                "y1": 1.3,
                "fillcolor": "rgba(44,160,44,0.10)",
                "line": {"width": 0},
                "layer": "below",
            }
        ],
        "margin": {"l": 55, "r": 55, "t": 45, "b": 45},
    }
    return {"data": to_jsonable(data), "layout": layout}


def balance_tests_chart(tests: pd.DataFrame, function_tests: pd.DataFrame | None = None) -> dict[str, Any]:
    """One-leg stand times per side (eyes open solid, closed dotted); with ``function_tests`` (rows of
    ``function_test_history``) a lower panel of five-times sit-to-stand and tandem-walk times."""
    functions = function_tests if function_tests is not None else pd.DataFrame()
    if tests.empty and functions.empty:
        return _message("Balance tests", "no balance tests yet")
    data: list[dict[str, Any]] = []
    for eyes, dash in (("open", "solid"), ("closed", "dot")):
        for side in ("left", "right"):
            sub = tests[(tests["eyes"] == eyes) & (tests["side"] == side)].sort_values(["date", "id"])
            if sub.empty:
                continue
            data.append(
                {
                    "type": "scatter",
                    "x": [d.strftime("%Y-%m-%d") for d in sub["date"]],
                    "y": sub["seconds"].to_numpy(dtype="float64"),
                    "mode": "lines+markers",
                    "name": f"{side}, eyes {eyes}",
                    "line": {"color": SIDE_COLOURS[side], "dash": dash},
                }
            )
    layout: dict[str, Any] = {
        **_LAYOUT,
        "title": {"text": "One-leg stand: seconds until the lifted foot touched down"},
        "yaxis": {"title": {"text": "seconds"}, "rangemode": "tozero"},
    }
    if not functions.empty:
        for test, label, dash in (
            ("sit_to_stand_5x", "5x sit-to-stand", "solid"),
            ("tandem_walk", "tandem walk", "dash"),
        ):
            sub = functions[functions["test"] == test].sort_values(["date", "id"])
            if sub.empty:
                continue
            off = ["" if pd.isna(v) else f"{int(v)} step(s) off the line" for v in sub["steps_off"].tolist()]
            data.append(
                {
                    "type": "scatter",
                    "x": [d.strftime("%Y-%m-%d") for d in sub["date"]],
                    "y": sub["seconds"].to_numpy(dtype="float64"),
                    "text": off,
                    "mode": "lines+markers",
                    "name": label,
                    "yaxis": "y2",
                    "line": {"dash": dash},
                }
            )
        layout["yaxis"] = {**layout["yaxis"], "domain": [0.55, 1.0]}
        layout["yaxis2"] = {
            "title": {"text": "function test (s)"},
            "rangemode": "tozero",
            "domain": [0.0, 0.42],
        }
        layout["title"] = {"text": "One-leg stand (top) and function tests (bottom), seconds"}
    return {"data": to_jsonable(data), "layout": layout}
