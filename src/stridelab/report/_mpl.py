"""Static charts (matplotlib PNG; ``Figure`` objects with the Agg canvas, never pyplot, so no GUI
backend and no global state). Each function returns a Figure; :func:`save_run_pngs`
and :func:`save_trend_png` write them."""

from __future__ import annotations

from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from stridelab.report._data import (
    ZONE_COLOURS,
    balance_points,
    drift_curve,
    excluded_spans,
    speed_curve,
)
from stridelab.services.analysis import RunAnalysis, TrendAnalysis

__all__ = [
    "balance_speed_figure",
    "balance_timeline_figure",
    "drift_figure",
    "save_run_pngs",
    "save_trend_png",
    "trend_figure",
]

_REASON_COLOURS = {
    "paused": "#7f7f7f",
    "record_gap": "#7f7f7f",
    "stopped": "#9e9e9e",
    "walking": "#bcbd22",
    "gps_spike": "#e377c2",
    "sensor_dropout": "#8c564b",
    "warmup": "#17becf",
    "settling": "#c7c7c7",
    "speed_change": "#9467bd",
    "steep": "#8c6d31",
    "sharp_turn": "#393b79",
}


def _empty(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#555")
    ax.set_xticks([])
    ax.set_yticks([])


def balance_timeline_figure(analysis: RunAnalysis) -> Figure:
    """GCT balance over time, each sample coloured by Garmin zone; excluded segments shaded."""
    fig = Figure(figsize=(10, 3.6), dpi=100)
    ax = fig.add_subplot()
    pts = balance_points(analysis)
    if pts is None:
        _empty(ax, "no GCT balance in this run")
        return fig
    t, y, zone, _used = pts
    seen: set[str] = set()
    for t0, t1, reason in excluded_spans(analysis):
        ax.axvspan(
            t0,
            t1,
            color=_REASON_COLOURS.get(reason, "#ccc"),
            alpha=0.18,
            lw=0,
            label=None if reason in seen else f"excluded: {reason}",
        )
        seen.add(reason)
    ax.scatter(t, y, c=[ZONE_COLOURS[z] if z >= 0 else "#999" for z in zone], s=3, lw=0)
    for level in (49.3, 50.7, 47.8, 52.2):
        ax.axhline(level, color="#999", lw=0.6, ls=":")
    ax.axhline(50.0, color="#555", lw=0.8)
    ax.set_xlabel("time (min)")
    ax.set_ylabel("GCT balance, left share (%)")
    ax.set_title("GCT balance over time (green ≤ 50.7 %, orange ≤ 52.2 %, red beyond)")
    if seen:
        ax.legend(loc="upper right", fontsize=7, ncol=3)
    fig.tight_layout()
    return fig


def balance_speed_figure(analysis: RunAnalysis, ref_speed_m_s: float | None) -> Figure:
    """Balance against speed (model samples), the fitted line and its 95 % confidence band."""
    fig = Figure(figsize=(6, 4.2), dpi=100)
    ax = fig.add_subplot()
    curve = speed_curve(analysis)
    if curve is None:
        _empty(ax, "no speed-dependent balance model for this run")
        return fig
    ax.scatter(curve.speed, curve.value, s=3, alpha=0.35, color="#1f77b4", lw=0, label="samples used")
    ax.fill_between(curve.grid, curve.low, curve.high, color="#ff7f0e", alpha=0.3, label="95 % CI of the fit")
    ax.plot(curve.grid, curve.fit, color="#d62728", lw=2, label="fit (flat, mid-run)")
    at = analysis.at_ref("balance", ref_speed_m_s)
    if at is not None and ref_speed_m_s is not None:
        ax.errorbar(
            [ref_speed_m_s],
            [at.estimate],
            yerr=[[at.estimate - at.ci_low], [at.ci_high - at.estimate]],
            fmt="D",
            color="black",
            capsize=4,
            label=f"at ref {ref_speed_m_s:.2f} m/s: {at.estimate:.2f} %",
        )
    ax.set_xlabel("speed (m/s)")
    ax.set_ylabel("GCT balance, left share (%)")
    ax.set_title("Balance vs speed")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def drift_figure(analysis: RunAnalysis, ref_speed_m_s: float | None) -> Figure:
    """Pace-adjusted balance over the run with the fitted drift and its 95 % band."""
    fig = Figure(figsize=(6, 4.2), dpi=100)
    ax = fig.add_subplot()
    curve = drift_curve(analysis, ref_speed_m_s)
    if curve is None:
        _empty(ax, "no drift model for this run")
        return fig
    ax.scatter(
        curve.t_min, curve.adjusted, s=2, alpha=0.25, color="#7f7f7f", lw=0, label="pace-adjusted samples"
    )
    ax.plot(curve.t_min, curve.rolling, color="#1f77b4", lw=1, label="60-sample mean")
    ax.fill_between(curve.grid_min, curve.low, curve.high, color="#ff7f0e", alpha=0.3, label="95 % CI")
    ax.plot(curve.grid_min, curve.fit, color="#d62728", lw=2, label="drift fit")
    d = analysis.drift_per_h("balance")
    if d is not None:
        ax.set_title(f"Fatigue drift: {d.estimate:+.2f} pp/h [{d.ci_low:+.2f}, {d.ci_high:+.2f}]")
    ax.set_xlabel(f"{analysis.drift_clock} time (min)")
    ax.set_ylabel("pace-adjusted balance, left (%)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def trend_figure(trend: TrendAnalysis) -> Figure:
    """Raw and pace-adjusted balance per run, rolling medians and robust trend lines."""
    fig = Figure(figsize=(10, 4.2), dpi=100)
    ax = fig.add_subplot()
    tab = trend.table
    if not len(tab) or "balance_mean_left_pct" not in tab.columns:
        _empty(ax, "no runs with GCT balance")
        return fig
    t = tab["start_time"].dt.tz_convert(None) if hasattr(tab["start_time"], "dt") else tab["start_time"]
    raw = tab["balance_mean_left_pct"].astype("float64")
    adj = tab["balance_at_ref_speed_left_pct"].astype("float64")
    ax.plot(t, raw, "o", color="#7f7f7f", ms=4, label="raw mean per run")
    lo = tab["balance_at_ref_speed_ci_low"].astype("float64")
    hi = tab["balance_at_ref_speed_ci_high"].astype("float64")
    ax.errorbar(
        t,
        adj,
        yerr=[adj - lo, hi - adj],
        fmt="s",
        color="#1f77b4",
        ms=4,
        capsize=2,
        lw=0.8,
        label="at reference speed (95 % CI)",
    )
    ax.plot(t, tab["balance_mean_rolling_median"], color="#7f7f7f", lw=1.2, label="raw rolling median")
    ax.plot(
        t,
        tab["balance_at_ref_speed_rolling_median"],
        color="#1f77b4",
        lw=1.5,
        label="adjusted rolling median",
    )
    for line, colour, name in (
        (trend.raw_trend, "#555", "raw trend"),
        (trend.adjusted_trend, "#d62728", "adjusted trend"),
    ):
        if line is not None:
            ends = [tab["start_time"].min(), tab["start_time"].max()]
            ax.plot(
                [e.tz_convert(None) for e in ends],
                [line.value_at(e) for e in ends],
                "--",
                color=colour,
                label=f"{name}: {line.slope_per_30d.estimate:+.2f} pp / 30 d",
            )
    ax.axhline(50.0, color="#555", lw=0.6)
    ax.set_ylabel("GCT balance, left share (%)")
    ref = f"{trend.ref_speed_m_s:.2f} m/s" if trend.ref_speed_m_s else "each run's own speed"
    ax.set_title(f"Balance across runs (reference speed {ref})")
    ax.legend(fontsize=7, ncol=2)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def save_run_pngs(
    analysis: RunAnalysis, out_dir: Path, ref_speed_m_s: float | None, stem: str = "run"
) -> list[Path]:
    """Write the three run charts as PNG into ``out_dir``; returns the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, fig in (
        ("balance_timeline", balance_timeline_figure(analysis)),
        ("balance_vs_speed", balance_speed_figure(analysis, ref_speed_m_s)),
        ("balance_drift", drift_figure(analysis, ref_speed_m_s)),
    ):
        path = out_dir / f"{stem}_{name}.png"
        fig.savefig(path)
        paths.append(path)
    return paths


def save_trend_png(trend: TrendAnalysis, path: Path) -> Path:
    """Write the trend chart as PNG at ``path``; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    trend_figure(trend).savefig(path)
    return path
