"""Self-contained HTML reports (Jinja2 templates + Plotly divs + plotly.js inline, no network)."""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from stridelab.present import format as fmt
from stridelab.present import metrics
from stridelab.present.analysis import run_analysis_json
from stridelab.report._plotly import (
    balance_speed_plotly,
    balance_timeline_plotly,
    drift_plotly,
    figure_div,
    trend_plotly,
    zones_plotly,
)
from stridelab.services.analysis import (
    ANALYSIS_VERSION,
    GAUGE_ZONE_NAMES,
    MODELLED_METRICS,
    AnalysisConfig,
    Estimate,
    RunAnalysis,
    TrendAnalysis,
)
from stridelab.version import __version__

__all__ = ["render_run_html", "render_trend_html", "write_html"]


@functools.cache
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("stridelab.report", "templates"),
        autoescape=select_autoescape(["html"]),
        keep_trailing_newline=True,
    )


@functools.cache
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    # a "</script>" inside the library would end the inline <script> element early
    return str(get_plotlyjs()).replace("</script>", "<\\/script>")


def _ci(e: Estimate | None, factor: float = 1.0, decimals: int = 2, signed: bool = False) -> str:
    if e is None:
        return "–"
    lo, hi = sorted((e.ci_low * factor, e.ci_high * factor))
    return f"{fmt.num(lo, decimals, signed=signed)} to {fmt.num(hi, decimals, signed=signed)}"


def _ref_text(ref: float | None, units: str = "metric") -> str:
    if ref is None:
        return "the reference speed (unknown: no speed)"
    return f"{ref:.2f} m/s ({fmt.pace_of_speed(ref, units=units)})"


def _common(title: str) -> dict[str, Any]:
    return {
        "title": title,
        "version": __version__,
        "analysis_version": ANALYSIS_VERSION,
        "generated": pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%d %H:%M UTC"),
        "plotly_js": _plotly_js(),
    }


def _balance_class(left: float | None) -> str:
    if left is None:
        return ""
    side = max(round(left, 1), round(100.0 - left, 1))
    return "green" if side <= 50.7 else ("orange" if side <= 52.2 else "red")


def render_run_html(
    analysis: RunAnalysis,
    ref_speed_m_s: float | None,
    *,
    title: str = "Running dynamics report",
    subtitle: str = "",
    config: AnalysisConfig | None = None,
    splits: list[tuple[str, list[tuple[str, str]], list[dict[str, str]]]] | None = None,
    units: str = "metric",
) -> str:
    """The run report as one HTML string (needs ``analysis.frame`` for the charts). ``splits``: tables
    of laps / kilometres as (title, columns (key, header), rows of display strings), from
    ``stridelab.present.splits``. ``units="imperial"``: paces per mile, step length in inches."""
    cfg = config or AnalysisConfig()
    d = run_analysis_json(analysis, ref_speed_m_s)
    ref = d["ref_speed_m_s"]
    bal = analysis.summaries.get("balance")
    at = analysis.at_ref("balance", ref)
    at_start = analysis.at_ref("balance", ref, at_start=True)
    slope = analysis.speed_slope("balance")
    drift = analysis.drift_per_h("balance")
    thirds = analysis.thirds_difference("balance")
    model = analysis.models.get("balance")
    grade = model.coefficient("grade") if model else None
    balance = {
        "mean": fmt.num(bal.mean if bal else None, 2, "% L", sep=" "),
        "mean_class": _balance_class(bal.mean if bal else None),
        "median": fmt.num(bal.median if bal else None, 2, "%", sep=" "),
        "iqr": f"{fmt.num(bal.p25, 2)}–{fmt.num(bal.p75, 2)} %" if bal else "–",
        "at_ref": fmt.num(at.estimate if at else None, 2, "% L", sep=" "),
        "at_ref_ci": _ci(at),
        "slope": fmt.num(slope.estimate if slope else None, 2, "pp per m/s", signed=True, sep=" "),
        "slope_ci": _ci(slope, signed=True),
        "drift": fmt.num(drift.estimate if drift else None, 2, "pp/h", signed=True, sep=" "),
        "drift_ci": _ci(drift, signed=True),
    }
    balance_rows = [
        ("mean (clean running)", fmt.num(bal.mean if bal else None, 2, "%", sep=" "), ""),
        ("median", fmt.num(bal.median if bal else None, 2, "%", sep=" "), ""),
        (
            "mean of all recorded values (device-style)",
            fmt.num(bal.mean_recorded if bal else None, 2, "%", sep=" "),
            "",
        ),
        (
            f"at {_ref_text(ref, units)}, mid-run",
            fmt.num(at.estimate if at else None, 2, "%", sep=" "),
            _ci(at),
        ),
        (
            f"at {_ref_text(ref, units)}, at the start (fatigue removed)",
            fmt.num(at_start.estimate if at_start else None, 2, "%", sep=" "),
            _ci(at_start),
        ),
        (
            "speed slope (pp per m/s)",
            fmt.num(slope.estimate if slope else None, 3, signed=True),
            _ci(slope, 1, 3, True),
        ),
        (
            "grade slope (pp per % grade)",
            fmt.num(grade.estimate * 0.01 if grade else None, 3, signed=True),
            _ci(grade, 0.01, 3, True),
        ),
        (
            "fatigue drift (pp per hour)",
            fmt.num(drift.estimate if drift else None, 2, signed=True),
            _ci(drift, 1, 2, True),
        ),
        (
            "last third − first third (pp, pace-adjusted)",
            fmt.num(thirds.estimate if thirds else None, 2, signed=True),
            _ci(thirds, 1, 2, True),
        ),
    ]
    metric_rows = []
    for key, s in analysis.summaries.items():
        if key == "balance":
            continue
        spec = metrics.spec(key)
        factor, unit, dec = metrics.display(key, units)
        unit = unit if spec else ""
        label = metrics.label(key)
        a = analysis.at_ref(key, ref) if key in MODELLED_METRICS else None
        dr = analysis.drift_per_h(key) if key in MODELLED_METRICS else None
        th = analysis.thirds_difference(key) if key in MODELLED_METRICS else None
        metric_rows.append(
            (
                label,
                unit,
                fmt.num(s.mean * factor, dec),
                fmt.num(s.median * factor, dec),
                f"{fmt.num(s.p25 * factor, dec)}–{fmt.num(s.p75 * factor, dec)}",
                fmt.num(a.estimate * factor if a else None, dec),
                f"{fmt.num(dr.estimate * factor, dec + 1, signed=True)} ({_ci(dr, factor, dec + 1, True)})"
                if dr
                else "–",
                fmt.num(th.estimate * factor if th else None, dec + 1, signed=True),
            )
        )
    zone_rows = []
    for key in ("cadence", "gct", "vo", "vr"):
        zs = analysis.summaries.get(key)
        if zs and zs.zones_s:
            zone_rows.append(
                (metrics.label(key), *(fmt.num(zs.zones_s.get(z, 0.0) / 60.0, 1) for z in GAUGE_ZONE_NAMES))
            )
    ctx = analysis.context
    time_rows = [
        ("recorded", fmt.num(analysis.duration_s / 60.0, 1)),
        ("clean running", fmt.num(analysis.running_s / 60.0, 1)),
        ("used by the pace-adjusted models", fmt.num(analysis.model_s / 60.0, 1)),
        *(
            (f"excluded: {k.replace('_', ' ')}", fmt.num(v / 60.0, 1))
            for k, v in analysis.excluded_by_reason_s.items()
        ),
        ("uphill (> 3 %)", fmt.num((ctx.get("uphill_s") or 0.0) / 60.0, 1)),
        ("downhill (< −3 %)", fmt.num((ctx.get("downhill_s") or 0.0) / 60.0, 1)),
        ("turning left", fmt.num((ctx.get("turning_left_s") or 0.0) / 60.0, 1)),
        ("turning right", fmt.num((ctx.get("turning_right_s") or 0.0) / 60.0, 1)),
    ]
    charts = {
        "zones": figure_div(zones_plotly(analysis), "zones"),
        "timeline": figure_div(balance_timeline_plotly(analysis), "timeline"),
        "speed": figure_div(balance_speed_plotly(analysis, ref, units=units), "speed"),
        "drift": figure_div(drift_plotly(analysis, ref), "drift"),
    }
    return (
        _env()
        .get_template("run.html")
        .render(
            **_common(title),
            subtitle=subtitle,
            ref_text=_ref_text(ref, units),
            balance=balance,
            balance_rows=balance_rows,
            metric_rows=metric_rows,
            zone_rows=zone_rows,
            splits=splits or [],
            time_rows=time_rows,
            messages=[m["message"] for m in d["messages"]],
            flags=d["flags"],
            charts=charts,
            sensor=f"{analysis.sensor.label} ({analysis.sensor.placement}"
            + (", identified from device_info)" if analysis.sensor.identified else ", not identified)"),
            warmup_s=f"{cfg.warmup_s:.0f}",
            settle_s=f"{cfg.settle_s:.0f}",
            steep_pct=f"{cfg.steep_grade * 100:.0f}",
            drift_clock=analysis.drift_clock,
        )
    )


def render_trend_html(
    trend: TrendAnalysis, *, title: str = "GCT balance trend", subtitle: str = "", units: str = "metric"
) -> str:
    """The trend report as one HTML string (``units="imperial"``: paces per mile)."""

    def line_text(line: Any) -> tuple[str, str]:
        if line is None:
            return "–", "not enough runs"
        e = line.slope_per_30d
        return (
            f"{e.estimate:+.2f} pp / 30 days",
            f"95 % CI {e.ci_low:+.2f} to {e.ci_high:+.2f} ({line.n} runs)",
        )

    adj_t, adj_ci = line_text(trend.adjusted_trend)
    raw_t, raw_ci = line_text(trend.raw_trend)
    m = trend.month
    if m is None:
        month = {"title": "this month vs last month", "value": "–", "detail": "no runs"}
    elif m.difference is None:
        month = {"title": f"{m.this_month} vs {m.last_month}", "value": "–", "detail": m.message or ""}
    else:
        e = m.difference
        month = {
            "title": f"{m.this_month} vs {m.last_month}, same pace",
            "value": f"{e.estimate:+.2f} pp",
            "detail": f"95 % CI {e.ci_low:+.2f} to {e.ci_high:+.2f}; {fmt.num(m.this_at_ref, 2)} % "
            f"({m.n_this} runs) vs {fmt.num(m.last_at_ref, 2)} % ({m.n_last} runs)",
        }
    weekly_header = [
        "week of",
        "runs",
        "running (h)",
        "raw balance (median)",
        "adjusted (median)",
        "green (min)",
        "orange (min)",
        "red (min)",
    ]
    weekly_rows = []
    for r in trend.weekly.to_dict("records"):
        zone = {
            z: (r.get(f"balance_zone_{z}_s") or 0.0) / 60.0
            for z in ("red_left", "orange_left", "green", "orange_right", "red_right")
        }
        weekly_rows.append(
            (
                pd.Timestamp(r["week"]).strftime("%Y-%m-%d"),
                int(r["n_runs"]),
                fmt.num(r.get("running_h"), 1),
                fmt.num(r.get("balance_mean_left_pct"), 2),
                fmt.num(r.get("balance_at_ref_speed_left_pct"), 2),
                fmt.num(zone["green"], 0),
                fmt.num(zone["orange_left"] + zone["orange_right"], 0),
                fmt.num(zone["red_left"] + zone["red_right"], 0),
            )
        )
    runs_header = [
        "date",
        "run",
        "running (min)",
        "median pace",
        "raw mean (% L)",
        "at ref (% L)",
        "95 % CI",
        "drift (pp/h)",
        "flags",
    ]
    runs_rows = []
    for r in trend.table.to_dict("records"):
        lo, hi = r.get("balance_at_ref_speed_ci_low"), r.get("balance_at_ref_speed_ci_high")
        runs_rows.append(
            (
                pd.Timestamp(r["start_time"]).strftime("%Y-%m-%d %H:%M"),
                str(r["id"])[:10],
                fmt.num((r.get("running_s") or math.nan) / 60.0, 0),
                fmt.pace_of_speed(r.get("speed_median_m_s"), units=units),
                fmt.num(r.get("balance_mean_left_pct"), 2),
                fmt.num(r.get("balance_at_ref_speed_left_pct"), 2),
                f"{fmt.num(lo, 2)}–{fmt.num(hi, 2)}" if lo is not None and hi is not None else "–",
                fmt.num(r.get("balance_drift_pp_per_h"), 2, signed=True),
                ", ".join(r.get("flags") or []) or r.get("analysis_error", ""),
            )
        )
    return (
        _env()
        .get_template("trend.html")
        .render(
            **_common(title),
            subtitle=subtitle,
            adjusted_trend=adj_t,
            adjusted_trend_ci=adj_ci,
            raw_trend=raw_t,
            raw_trend_ci=raw_ci,
            month=month,
            messages=trend.messages,
            chart=figure_div(trend_plotly(trend), "trend"),
            weekly_header=weekly_header,
            weekly_rows=weekly_rows,
            runs_header=runs_header,
            runs_rows=runs_rows,
            ref_text=_ref_text(trend.ref_speed_m_s, units),
        )
    )


def write_html(html: str, path: Path) -> Path:
    """Write ``html`` atomically enough for a report (temp file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path
