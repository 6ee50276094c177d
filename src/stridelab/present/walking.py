"""Daily walking gait for people: display units (% stay %, step length in cm, walking speed in km/h),
labels, rounding, the JSON of ``stridelab walking --json`` and ``/api/walking``, and the chart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol

from stridelab.jsonsafe import to_jsonable
from stridelab.lazy import lazy_module
from stridelab.present.charts import thin
from stridelab.present.format import finite_or_none

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

__all__ = ["WALKING_DISPLAY", "WalkingDisplay", "walking_chart", "walking_json", "walking_rows"]


@dataclass(frozen=True, slots=True)
class WalkingDisplay:
    """How one stored walking metric reads: label, display key and unit, factor from the stored unit."""

    label: str
    key: str  # JSON key, with the display unit
    unit: str
    factor: float
    decimals: int


#: stored metric (``io.healthkit.WALKING_METRICS``) -> how it reads, in display order
WALKING_DISPLAY: Final[dict[str, WalkingDisplay]] = {
    "walking_asymmetry_pct": WalkingDisplay("walking asymmetry", "asymmetry_pct", "%", 1.0, 1),
    "walking_double_support_pct": WalkingDisplay("double support", "double_support_pct", "%", 1.0, 1),
    "walking_step_length_m": WalkingDisplay("step length", "step_length_cm", "cm", 100.0, 0),
    "walking_speed_m_s": WalkingDisplay("walking speed", "speed_km_h", "km/h", 3.6, 2),
}
_COLOURS: Final[tuple[str, ...]] = ("#d62728", "#9467bd", "#1f77b4", "#2ca02c")
_CHART_DAYS: Final[int] = 1500


class WalkingLike(Protocol):
    """What :class:`stridelab.services.health.WalkingGait` offers (present does not import services)."""

    @property
    def daily(self) -> pd.DataFrame: ...
    @property
    def first_day(self) -> Any: ...
    @property
    def last_day(self) -> Any: ...
    @property
    def sources(self) -> tuple[str, ...]: ...
    def means(self) -> dict[str, float | None]: ...


def _shown(metric: str, value: Any) -> float | None:
    spec = WALKING_DISPLAY[metric]
    v = finite_or_none(value)
    return None if v is None else round(v * spec.factor, spec.decimals)


def walking_rows(gait: WalkingLike) -> list[dict[str, Any]]:
    """One dict per day (oldest first): ``day`` and each metric under its display key."""
    out = []
    for day, row in gait.daily.iterrows():
        item: dict[str, Any] = {"day": str(day)}
        for metric, spec in WALKING_DISPLAY.items():
            item[spec.key] = _shown(metric, row.get(metric))
        item["n_samples"] = int(row["n_samples"])
        out.append(item)
    return out


def walking_json(gait: WalkingLike) -> dict[str, Any]:
    """The whole answer: span, sources, units, the period's means and the days."""
    means = gait.means()
    return {
        "first_day": None if gait.first_day is None else str(gait.first_day),
        "last_day": None if gait.last_day is None else str(gait.last_day),
        "sources": list(gait.sources),
        "units": {spec.key: spec.unit for spec in WALKING_DISPLAY.values()},
        "labels": {spec.key: spec.label for spec in WALKING_DISPLAY.values()},
        "means": {spec.key: _shown(m, means.get(m)) for m, spec in WALKING_DISPLAY.items()},
        "days": walking_rows(gait),
    }


def walking_chart(gait: WalkingLike) -> dict[str, Any]:
    """Plotly figure (as a dict): one panel per metric, daily values as markers and their 7-day mean
    as a line, in display units."""
    daily = gait.daily
    n_panels = len(WALKING_DISPLAY)
    if daily.empty:
        return {
            "data": [],
            "layout": {
                "title": {"text": "Walking gait"},
                "annotations": [
                    {"text": "no walking gait data (import an Apple Health export)", "showarrow": False}
                ],
                "xaxis": {"visible": False},
                "yaxis": {"visible": False},
            },
        }
    keep = thin(len(daily), _CHART_DAYS)
    days = [str(d) for d in np.asarray(daily.index)[keep]]
    data: list[dict[str, Any]] = []
    layout: dict[str, Any] = {
        "template": "plotly_white",
        "title": {"text": "Daily walking gait (iPhone)"},
        "height": 170 * n_panels + 80,
        "margin": {"l": 60, "r": 15, "t": 45, "b": 40},
        "showlegend": False,
        "autosize": True,
    }
    gap = 0.04
    height = (1.0 - gap * (n_panels - 1)) / n_panels
    for i, (metric, spec) in enumerate(WALKING_DISPLAY.items()):
        axis = "" if i == 0 else str(i + 1)
        values = daily[metric].to_numpy(dtype="float64") * spec.factor
        rolling = pd.Series(values, index=pd.to_datetime(daily.index)).rolling("7D", min_periods=1).mean()
        colour = _COLOURS[i % len(_COLOURS)]
        common = {"xaxis": f"x{axis}", "yaxis": f"y{axis}"}
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": days,
                "y": np.round(values[keep], spec.decimals + 1),
                "name": f"{spec.label} ({spec.unit})",
                "marker": {"color": colour, "size": 5, "opacity": 0.6},
                "hovertemplate": f"%{{x}}: %{{y}} {spec.unit}<extra>{spec.label}</extra>",
                **common,
            }
        )
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": days,
                "y": np.round(rolling.to_numpy()[keep], spec.decimals + 1),
                "name": f"{spec.label}, 7-day mean",
                "line": {"color": colour, "width": 2},
                "hoverinfo": "skip",
                **common,
            }
        )
        top = 1.0 - i * (height + gap)
        layout[f"yaxis{axis}"] = {
            "title": {"text": f"{spec.label} ({spec.unit})"},
            "domain": [max(0.0, top - height), top],
            "anchor": f"x{axis}",
        }
        layout[f"xaxis{axis}"] = {
            "type": "date",
            "anchor": f"y{axis}",
            "matches": "x" if i else None,
            "showticklabels": i == n_panels - 1,
        }
    for key in [k for k, v in layout.items() if k.startswith("xaxis")]:
        layout[key] = {k: v for k, v in layout[key].items() if v is not None}
    return {"data": to_jsonable(data), "layout": layout}
