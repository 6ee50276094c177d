"""Chart building shared by the web dashboard and the HTML/PNG reports: thinning long series and the
one shaded-band trace (confidence bands, the runner's baseline band)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

import numpy as np

__all__ = ["MAX_POINTS", "band", "pace_ticks", "speed_pace_ticks", "thin"]

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


def speed_pace_ticks(lo_m_s: float, hi_m_s: float, *, max_ticks: int = 7) -> tuple[list[float], list[str]]:
    """Tick positions on a *speed* axis (m/s) labelled as the pace they are (``m:ss/km``)."""
    if not (np.isfinite(lo_m_s) and np.isfinite(hi_m_s)) or lo_m_s <= 0 or hi_m_s <= lo_m_s:
        return [], []
    paces, labels = pace_ticks(1000.0 / hi_m_s, 1000.0 / lo_m_s, max_ticks=max_ticks)
    return [1000.0 / p for p in paces], [f"{t}/km" for t in labels]
