"""Labels, units, factors and decimals of the running metrics, all looked up in the ``METRICS``
registry (never written out beside it).

SI comes in (``stance_time_s``); the display unit, the factor from SI, the label of a table row and
the short name of a chart axis or a terminal column come from the metric's :class:`MetricSpec`.
"""

from __future__ import annotations

from typing import Final

from stridelab.analysis import METRICS, MODELLED_METRICS, MetricSpec

__all__ = [
    "METRICS",
    "MODELLED_METRICS",
    "OTHER_MODELLED",
    "MetricSpec",
    "axis_label",
    "contract_key",
    "decimals",
    "dev_unit",
    "display",
    "factor",
    "label",
    "short_label",
    "spec",
    "spec_of_column",
    "unit",
]

#: the modelled metrics besides balance, in the order of the ``analyze --json`` contract
OTHER_MODELLED: Final[tuple[str, ...]] = tuple(k for k in MODELLED_METRICS if k != "balance")

#: the JSON-key suffix of a display unit (``gct`` in ms -> ``gct_ms``, ``vr`` in % -> ``vr_pct``)
_KEY_SUFFIX: Final[dict[str, str]] = {"ms": "ms", "mm": "mm", "%": "pct", "% L": "left_pct"}

#: unit suffixes of developer columns (``dev_<app>_<field>_<unit>``), longest first: ``_m_s`` must win
#: over ``_s`` and ``_n_per_m`` over ``_m``.
_DEV_UNITS: Final[tuple[tuple[str, str], ...]] = (
    ("_n_per_m", "N/m"),
    ("_min_km", "min/km"),
    ("_m_s", "m/s"),
    ("_pct", "%"),
    ("_rpm", "rpm"),
    ("_spm", "spm"),
    ("_bpm", "bpm"),
    ("_kg", "kg"),
    ("_w", "W"),
    ("_j", "J"),
    ("_s", "s"),
    ("_m", "m"),
)


def spec(key: str) -> MetricSpec | None:
    """The registry entry of a metric key (``gct``), None for an unknown key."""
    return METRICS.get(key)


def spec_of_column(column: str) -> MetricSpec | None:
    """The registry entry whose canonical record column is ``column`` (``stance_time_s``)."""
    return next((m for m in METRICS.values() if m.column == column), None)


def label(key: str) -> str:
    """The label of a table row (``Ground contact time``); the key itself when unknown."""
    s = METRICS.get(key)
    return s.label if s else key


def short_label(key: str) -> str:
    """The short name of a terminal column or chart axis (``GCT``); the key itself when unknown."""
    s = METRICS.get(key)
    return (s.short_label or s.label) if s else key


def dev_unit(column: str) -> str:
    """The unit of a developer column from its name suffix (``..._m_s`` -> ``m/s``), else ``""``."""
    for suffix, text in _DEV_UNITS:
        if column.endswith(suffix):
            return text
    return ""


def unit(key: str) -> str:
    """The display unit (``ms``); for a column outside the registry, the unit of its name suffix."""
    s = METRICS.get(key)
    return s.display_unit if s else dev_unit(key)


def factor(key: str) -> float:
    """The factor from SI to the display unit (1000 for s -> ms); 1 when unknown."""
    s = METRICS.get(key)
    return s.display_factor if s else 1.0


def decimals(key: str, default: int = 2) -> int:
    """The decimals a display value is rounded to."""
    s = METRICS.get(key)
    return s.decimals if s else default


def axis_label(key: str) -> str:
    """``GCT (ms)``, ``vertical ratio (%)``: a chart axis or a terminal row."""
    return f"{short_label(key)} ({unit(key)})"


def contract_key(key: str) -> str:
    """The JSON key of a modelled metric in the ``analyze --json`` contract (``gct_ms``, ``vo_mm``,
    ``vr_pct``)."""
    return f"{key}_{_KEY_SUFFIX[unit(key)]}"


#: the metrics that read differently in imperial units: key -> (factor from SI, unit, decimals)
_IMPERIAL: Final[dict[str, tuple[float, str, int]]] = {"step_length": (1.0 / 0.0254, "in", 1)}


def display(key: str, units: str = "metric") -> tuple[float, str, int]:
    """(factor from SI, unit, decimals) of a metric in ``units``: the registry's display unit, except
    the lengths an imperial runner reads in inches (step length; ``show`` does the same)."""
    if units == "imperial" and key in _IMPERIAL:
        return _IMPERIAL[key]
    return factor(key), unit(key), decimals(key)
