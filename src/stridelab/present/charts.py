"""Chart building shared by the web dashboard and the HTML/PNG reports: thinning long series and the
one shaded-band trace (confidence bands, the runner's baseline band)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final

from stridelab.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")

from stridelab.present.format import M_PER_MI, pace_unit

__all__ = [
    "MAX_POINTS",
    "ZONE_BAND_COLOURS",
    "band",
    "pace_in_units",
    "pace_ticks",
    "speed_pace_ticks",
    "thin",
    "zone_shapes",
]

#: points a report chart keeps of a long series (the dashboard keeps fewer: it sends JSON to a phone)
MAX_POINTS: Final[int] = 4000


def thin(n: int, max_points: int = MAX_POINTS) -> np.ndarray:
    """Indices keeping at most ``max_points`` of ``n`` evenly (charts stay light for 24 h runs)."""
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max_points).astype(int))


def band(
    x: Iterable[Any],
    low: Iterable[Any],
    high: Iterable[Any],
    *,
    name: str = "95 % CI",
    fillcolor: str = "rgba(255,127,14,0.3)",
    **extra: Any,
) -> dict[str, Any]:
    """A Plotly ``scatter`` trace (as a dict) shading the area between ``low`` and ``high`` along
    ``x``: the outline runs along ``high`` and back along ``low``, filled (``fill="toself"``).
    ``extra`` adds trace attributes (``mode``, ``hoverinfo``...)."""
    if isinstance(x, np.ndarray) and isinstance(low, np.ndarray) and isinstance(high, np.ndarray):
        xs: Any = np.concatenate([x, x[::-1]])
        ys: Any = np.concatenate([high, low[::-1]])
    else:  # plain lists stay lists (Plotly encodes arrays and lists differently)
        xs = list(x) + list(x)[::-1]
        ys = list(high) + list(low)[::-1]
    return {
        "type": "scatter",
        "x": xs,
        "y": ys,
        "fill": "toself",
        "fillcolor": fillcolor,
        "line": {"width": 0},
        "name": name,
        **extra,
    }


def pace_ticks(
    lo_s_per_km: float, hi_s_per_km: float, *, max_ticks: int = 7
) -> tuple[list[float], list[str]]:
    """Tick positions (s/km) and ``m:ss`` labels for a pace axis from ``lo`` to ``hi`` s/km: steps of
    5, 10, 15, 30 s or whole minutes, whichever gives at most ``max_ticks`` ticks."""
    if not (np.isfinite(lo_s_per_km) and np.isfinite(hi_s_per_km)) or hi_s_per_km <= lo_s_per_km:
        return [], []
    span = hi_s_per_km - lo_s_per_km
    step = next((s for s in (5, 10, 15, 30, 60, 120, 300) if span / s <= max_ticks - 1), 600)
    first = np.ceil(lo_s_per_km / step) * step
    vals = [float(v) for v in np.arange(first, hi_s_per_km + 1e-9, step)]
    return vals, [f"{int(v) // 60}:{int(v) % 60:02d}" for v in vals]


def speed_pace_ticks(
    lo_m_s: float, hi_m_s: float, *, max_ticks: int = 7, units: str = "metric"
) -> tuple[list[float], list[str]]:
    """Tick positions on a *speed* axis (m/s) labelled as the pace they are (``m:ss/km``, or
    ``m:ss/mi`` with ``units="imperial"``: the ticks fall on whole paces of that unit)."""
    if not (np.isfinite(lo_m_s) and np.isfinite(hi_m_s)) or lo_m_s <= 0 or hi_m_s <= lo_m_s:
        return [], []
    per_m = M_PER_MI if units == "imperial" else 1000.0
    paces, labels = pace_ticks(per_m / hi_m_s, per_m / lo_m_s, max_ticks=max_ticks)
    return [per_m / p for p in paces], [f"{t}/{pace_unit(units)}" for t in labels]


def pace_in_units(seconds_per_km: np.ndarray, units: str = "metric") -> np.ndarray:
    """Paces in s/km as s per the display unit (s/mi with ``units="imperial"``), for a pace axis."""
    factor = M_PER_MI / 1000.0 if units == "imperial" else 1.0
    return np.asarray(seconds_per_km, dtype="float64") * factor


#: band fills of the zones (Garmin's colours, faint so the data reads over them)
ZONE_BAND_COLOURS: Final[dict[str, str]] = {
    "purple": "rgba(142,68,173,0.10)",
    "blue": "rgba(52,152,219,0.10)",
    "green": "rgba(46,204,113,0.12)",
    "orange": "rgba(243,156,18,0.12)",
    "red": "rgba(231,76,60,0.10)",
}


def _zone_edges(metric: str, placement: str) -> list[tuple[float, float, str]] | None:
    """``(low, high, colour name)`` of each zone of ``metric`` in its display unit (open ends infinite);
    None when the metric has no published zones."""
    from stridelab.analysis import BALANCE_ZONE_LIMITS_PCT, gauge_zones_for

    inf = float("inf")
    if metric == "balance":  # left share, %: the larger side's green / orange limits on both sides
        g, o = (v + 0.05 for v in BALANCE_ZONE_LIMITS_PCT)  # half the 0.1 % display step
        return [
            (-inf, 100.0 - o, "red"),
            (100.0 - o, 100.0 - g, "orange"),
            (100.0 - g, g, "green"),
            (g, o, "orange"),
            (o, inf, "red"),
        ]
    zones = gauge_zones_for(metric, placement)
    if zones is None:
        return None
    half = 0.5 * 10.0 ** (-zones.decimals)
    names = ("purple", "blue", "green", "orange", "red")
    if zones.higher_is_better:  # cadence: purple above the first limit, red below the last
        lim = [zones.limits[0] + half, zones.limits[1] + half, zones.limits[2] + half, zones.limits[3] - half]
        cuts = [inf, *lim, -inf]
        return [(cuts[i + 1], cuts[i], names[i]) for i in range(5)]
    cuts = [-inf, *(v + half for v in zones.limits), inf]
    return [(cuts[i], cuts[i + 1], names[i]) for i in range(5)]


def zone_shapes(
    metric: str,
    y_min: float,
    y_max: float,
    *,
    placement: str = "chest",
    xref: str = "paper",
    yref: str = "y",
) -> list[dict[str, Any]]:
    """Plotly ``rect`` shapes (as dicts, drawn below the data) shading the published zones of
    ``metric`` (``balance``, ``gct``, ``vo``, ``vr``, ``cadence``; display units) across the plotted
    range ``y_min``..``y_max`` only, so the bands never stretch the axis. Empty when the metric has no
    zones or the range is unknown. VO/VR zones depend on the sensor ``placement`` (chest or waist)."""
    edges = _zone_edges(metric, placement)
    if edges is None or not (np.isfinite(y_min) and np.isfinite(y_max)) or y_max < y_min:
        return []
    pad = 0.05 * (y_max - y_min) if y_max > y_min else 1.0
    lo_all, hi_all = y_min - pad, y_max + pad
    out = []
    for lo, hi, colour in edges:
        y0, y1 = max(lo, lo_all), min(hi, hi_all)
        if y1 <= y0:
            continue
        out.append(
            {
                "type": "rect",
                "xref": xref,
                "yref": yref,
                "x0": 0,
                "x1": 1,
                "y0": y0,
                "y1": y1,
                "fillcolor": ZONE_BAND_COLOURS[colour],
                "line": {"width": 0},
                "layer": "below",
                "name": f"{metric} zone {colour}",
            }
        )
    return out
