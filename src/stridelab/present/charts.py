"""Chart building shared by the web dashboard and the HTML/PNG reports: thinning long series and the
one shaded-band trace (confidence bands, the runner's baseline band)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

import numpy as np

__all__ = ["MAX_POINTS", "band", "thin"]

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
