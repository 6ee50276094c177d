"""Interactive charts (Plotly). The HTML pages embed plotly.js once, inline, so they open offline."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from stridelab.present.charts import band, speed_pace_ticks, zone_shapes
from stridelab.report._data import ZONE_COLOURS, balance_points, drift_curve, excluded_spans, speed_curve
from stridelab.services.analysis import BALANCE_ZONE_NAMES, RunAnalysis, TrendAnalysis

__all__ = [
    "add_zone_bands",
    "balance_speed_plotly",
    "balance_timeline_plotly",
    "drift_plotly",
    "figure_div",
    "trend_plotly",
    "zones_plotly",
]

_LAYOUT: dict[str, Any] = {
    "template": "plotly_white",
    "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
    "legend": {"orientation": "h", "y": -0.2},
    "height": 420,
}
_ZONE_LABELS = {
    "red_left": "L red (left > 52.2 %)",
    "orange_left": "L orange (left 50.8–52.2 %)",
    "green": "green (≤ 50.7 % either side)",
    "orange_right": "R orange (right 50.8–52.2 %)",
    "red_right": "R red (right > 52.2 %)",
}


def figure_div(fig: go.Figure, div_id: str) -> str:
    """The figure as an HTML ``<div>`` + script, without plotly.js (the page embeds it once)."""
    return str(
        fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=div_id,
            config={"displaylogo": False, "responsive": True},
        )
    )


def _message_figure(text: str, title: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_layout(**_LAYOUT, title=title)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def balance_timeline_plotly(analysis: RunAnalysis) -> go.Figure:
    """GCT balance over time, markers coloured by Garmin zone, excluded segments shaded."""
    pts = balance_points(analysis)
    title = "GCT balance over time, coloured by Garmin zone (shaded: excluded from the models)"
    if pts is None:
        return _message_figure("no GCT balance in this run", title)
    t, y, zone, _used = pts
    fig = go.Figure()
    for i, name in enumerate(BALANCE_ZONE_NAMES):
        sel = zone == i
        if sel.any():
            fig.add_trace(
                go.Scattergl(
                    x=t[sel],
                    y=y[sel],
                    mode="markers",
                    name=_ZONE_LABELS[name],
                    marker={"size": 3, "color": ZONE_COLOURS[i]},
                    hovertemplate="%{x:.1f} min<br>%{y:.2f} % left<extra></extra>",
                )
            )
    seen: set[str] = set()
    shades = []
    for t0, t1, reason in excluded_spans(analysis, max_spans=200):
        shades.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": t0,
                "x1": t1,
                "y0": 0,
                "y1": 1,
                "fillcolor": "#888",
                "opacity": 0.12,
                "line": {"width": 0},
                "layer": "below",
            }
        )
        seen.add(reason)
    if shades:  # one layout update: add_vrect per span costs ~15 ms each
        fig.update_layout(shapes=[*fig.layout.shapes, *shades])
    for reason in sorted(seen):  # legend entries for the shading
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=f"shaded: {reason}",
                marker={"size": 10, "color": "#bbb", "symbol": "square"},
            )
        )
    fig.add_hline(y=50.0, line={"color": "#555", "width": 1})
    for level in (49.3, 50.7, 47.8, 52.2):
        fig.add_hline(y=level, line={"color": "#aaa", "width": 1, "dash": "dot"})
    fig.update_layout(**_LAYOUT, title=title, xaxis_title="time (min)", yaxis_title="left share of GCT (%)")
    return add_zone_bands(fig)


def add_zone_bands(fig: go.Figure, metric: str = "balance", *, placement: str = "chest") -> go.Figure:
    """Shade the published zones of ``metric`` behind the data over the range of the plotted y values
    (the bands never stretch the axis); nothing when no trace has a finite y."""
    ys = [np.asarray(tr.y, dtype="float64") for tr in fig.data if getattr(tr, "y", None) is not None]
    finite = np.concatenate([y[np.isfinite(y)] for y in ys]) if ys else np.array([])
    if finite.size:
        shapes = zone_shapes(metric, float(finite.min()), float(finite.max()), placement=placement)
        old = [sh.to_plotly_json() for sh in fig.layout.shapes]
        fig.layout.shapes = [*shapes, *old]  # assigned: update_layout would merge them by index
    return fig


def _ci_band(x: np.ndarray, low: np.ndarray, high: np.ndarray) -> go.Scatter:
    """The shaded 95 % confidence band between ``low`` and ``high`` along ``x``."""
    return go.Scatter(band(x, low, high))


def balance_speed_plotly(
    analysis: RunAnalysis, ref_speed_m_s: float | None, *, units: str = "metric"
) -> go.Figure:
    """Balance against speed with the fitted line, its 95 % band and the reference-speed value; the
    speed axis is labelled with the paces it is (per km, per mile with ``units="imperial"``)."""
    title = "Balance vs speed: fit and 95 % confidence band (flat ground, mid-run)"
    curve = speed_curve(analysis)
    if curve is None:
        return _message_figure("no speed-dependent balance model for this run", title)
    fig = go.Figure()
    fig.add_trace(
        go.Scattergl(
            x=curve.speed,
            y=curve.value,
            mode="markers",
            name="samples used",
            marker={"size": 3, "color": "rgba(31,119,180,0.35)"},
        )
    )
    fig.add_trace(_ci_band(curve.grid, curve.low, curve.high))
    fig.add_trace(go.Scatter(x=curve.grid, y=curve.fit, mode="lines", name="fit", line={"color": "#d62728"}))
    at = analysis.at_ref("balance", ref_speed_m_s)
    if at is not None and ref_speed_m_s is not None:
        fig.add_trace(
            go.Scatter(
                x=[ref_speed_m_s],
                y=[at.estimate],
                mode="markers",
                name=f"at ref speed: {at.estimate:.2f} %",
                marker={"symbol": "diamond", "size": 10, "color": "black"},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [at.ci_high - at.estimate],
                    "arrayminus": [at.estimate - at.ci_low],
                },
            )
        )
    fig.update_layout(
        **_LAYOUT,
        title=title,
        xaxis_title=f"speed (pace per {'mile' if units == 'imperial' else 'km'})",
        yaxis_title="left share of GCT (%)",
    )
    xs = np.asarray(curve.speed, dtype="float64")
    ticks, labels = (
        speed_pace_ticks(float(np.nanmin(xs)), float(np.nanmax(xs)), units=units) if xs.size else ([], [])
    )
    if ticks:
        fig.update_xaxes(tickvals=ticks, ticktext=labels)
    return add_zone_bands(fig)


def drift_plotly(analysis: RunAnalysis, ref_speed_m_s: float | None) -> go.Figure:
    """Pace-adjusted balance over the drift clock with the fitted drift and its 95 % band."""
    d = analysis.drift_per_h("balance")
    title = "Fatigue drift of pace-adjusted balance"
    if d is not None:
        title += f": {d.estimate:+.2f} pp/h (95 % CI {d.ci_low:+.2f} to {d.ci_high:+.2f})"
    curve = drift_curve(analysis, ref_speed_m_s)
    if curve is None:
        return _message_figure("no drift model for this run", title)
    fig = go.Figure()
    fig.add_trace(
        go.Scattergl(
            x=curve.t_min,
            y=curve.adjusted,
            mode="markers",
            name="pace-adjusted samples",
            marker={"size": 2, "color": "rgba(127,127,127,0.3)"},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=curve.t_min,
            y=curve.rolling,
            mode="lines",
            name="60-sample mean",
            line={"color": "#1f77b4", "width": 1},
        )
    )
    fig.add_trace(_ci_band(curve.grid_min, curve.low, curve.high))
    fig.add_trace(
        go.Scatter(
            x=curve.grid_min,
            y=curve.fit,
            mode="lines",
            name="drift fit",
            line={"color": "#d62728", "width": 2},
        )
    )
    fig.update_layout(
        **_LAYOUT,
        title=title,
        xaxis_title=f"{analysis.drift_clock} time (min)",
        yaxis_title="pace-adjusted left share (%)",
    )
    return add_zone_bands(fig)


def zones_plotly(analysis: RunAnalysis) -> go.Figure:
    """Time in the five balance zones (horizontal stacked bar)."""
    s = analysis.summaries.get("balance")
    if s is None or not s.zones_s:
        return _message_figure("no GCT balance in this run", "Time in balance zones")
    fig = go.Figure()
    for i, name in enumerate(BALANCE_ZONE_NAMES):
        minutes = (s.zones_s.get(name) or 0.0) / 60.0
        right = name.endswith("_right")
        fig.add_trace(
            go.Bar(
                x=[minutes],
                y=["balance"],
                orientation="h",
                name=_ZONE_LABELS[name],
                # the same Garmin colour on both sides: the right side is hatched so they never read alike
                marker={
                    "color": ZONE_COLOURS[i],
                    "pattern": {"shape": "/" if right else "", "fgcolor": "#ffffff", "solidity": 0.35},
                },
                legendrank=i,  # left red ... right red, the order of the bar itself
                hovertemplate=f"{_ZONE_LABELS[name]}: %{{x:.1f}} min<extra></extra>",
            )
        )
    fig.update_layout(
        **{**_LAYOUT, "height": 220, "legend": {"orientation": "h", "y": -0.35, "traceorder": "normal"}},
        barmode="stack",
        title="Time in balance zones (min): left side solid, right side hatched",
    )
    return fig


def trend_plotly(trend: TrendAnalysis) -> go.Figure:
    """Raw and pace-adjusted balance per run, rolling medians and robust trend lines."""
    title = "GCT balance across runs: raw and at the reference speed"
    tab = trend.table
    if not len(tab) or "balance_mean_left_pct" not in tab.columns:
        return _message_figure("no runs with GCT balance", title)
    t = pd.to_datetime(tab["start_time"], utc=True)
    adj = pd.to_numeric(tab["balance_at_ref_speed_left_pct"], errors="coerce")
    lo = pd.to_numeric(tab["balance_at_ref_speed_ci_low"], errors="coerce")
    hi = pd.to_numeric(tab["balance_at_ref_speed_ci_high"], errors="coerce")
    ids = tab["id"].astype(str).str[:10]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=t,
            y=tab["balance_mean_left_pct"],
            mode="markers",
            name="raw mean per run",
            marker={"color": "#7f7f7f", "size": 7},
            text=ids,
            hovertemplate="%{x|%Y-%m-%d}<br>raw %{y:.2f} %<br>%{text}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=t,
            y=adj,
            mode="markers",
            name="at reference speed (95 % CI)",
            marker={"color": "#1f77b4", "size": 7, "symbol": "square"},
            text=ids,
            error_y={
                "type": "data",
                "symmetric": False,
                "array": (hi - adj).to_numpy(),
                "arrayminus": (adj - lo).to_numpy(),
            },
            hovertemplate="%{x|%Y-%m-%d}<br>adjusted %{y:.2f} %<br>%{text}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=t,
            y=tab["balance_mean_rolling_median"],
            mode="lines",
            name=f"raw rolling median ({trend.window_runs} runs)",
            line={"color": "#7f7f7f"},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=t,
            y=tab["balance_at_ref_speed_rolling_median"],
            mode="lines",
            name=f"adjusted rolling median ({trend.window_runs} runs)",
            line={"color": "#1f77b4"},
        )
    )
    for line, colour, name in (
        (trend.raw_trend, "#555", "raw trend"),
        (trend.adjusted_trend, "#d62728", "adjusted trend"),
    ):
        if line is not None:
            ends = [t.min(), t.max()]
            e = line.slope_per_30d
            fig.add_trace(
                go.Scatter(
                    x=ends,
                    y=[line.value_at(x) for x in ends],
                    mode="lines",
                    line={"color": colour, "dash": "dash"},
                    name=f"{name}: {e.estimate:+.2f} pp/30 d [{e.ci_low:+.2f}, {e.ci_high:+.2f}]",
                )
            )
    fig.add_hline(y=50.0, line={"color": "#555", "width": 1})
    fig.update_layout(**_LAYOUT, title=title, yaxis_title="left share of GCT (%)")
    return add_zone_bands(fig)
