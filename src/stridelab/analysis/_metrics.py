"""The running-dynamics metrics the analysis knows, and Garmin's published colour zones.

Everything here is SI (the canonical record columns); ``display_factor`` converts to the unit shown at
the presentation edge (ms, mm, %). Zone limits are written in the *display* unit exactly as Garmin
publishes them, because the gauges classify the rounded displayed value (e.g. a balance of 50.74 %
shows as 50.7 % and is green).

Sources: Garmin owner's manuals (Forerunner 945/955/965, fenix 6/7, HRM-Pro), sections "Color Gauges
and Running Dynamics Data", "Ground Contact Time Balance" and "Vertical Oscillation and Vertical Ratio
Data" (the last gives separate ranges for a sensor at the chest -- HRM-Run, HRM-Tri, HRM-Pro -- and at
the waist -- Running Dynamics Pod).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from stridelab.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")

__all__ = [
    "BALANCE_ZONE_LIMITS_PCT",
    "BALANCE_ZONE_NAMES",
    "GAUGE_ZONE_NAMES",
    "METRICS",
    "MODELLED_METRICS",
    "MetricSpec",
    "balance_zone_index",
    "gauge_zone_index",
    "gauge_zones_for",
]


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One per-step running metric: its canonical column and how to present and sanity-check it.

    ``plausible_si`` bounds (inclusive) outside which a value is a sensor fault, not running. Zero is
    always treated as "no value" for these metrics (a Garmin sensor writes 0 while standing/walking).
    """

    key: str
    column: str
    label: str
    display_unit: str
    display_factor: float
    plausible_si: tuple[float, float]
    decimals: int = 1
    short_label: str = ""  # the name in a table column or on a chart axis ("GCT", "vertical ratio")


#: every per-step metric the per-run summary reports (derived ones are computed by the analysis).
METRICS: Final[dict[str, MetricSpec]] = {
    m.key: m
    for m in (
        MetricSpec(
            "balance",
            "stance_time_balance_left_pct",
            "GCT balance (left share)",
            "% L",
            1.0,
            (30.0, 70.0),
            2,
            "GCT balance",
        ),
        MetricSpec("gct", "stance_time_s", "Ground contact time", "ms", 1000.0, (0.08, 0.6), 0, "GCT"),
        MetricSpec(
            "vo",
            "vertical_oscillation_m",
            "Vertical oscillation",
            "mm",
            1000.0,
            (0.015, 0.25),
            1,
            "vertical oscillation",
        ),
        MetricSpec("vr", "vertical_ratio_pct", "Vertical ratio", "%", 1.0, (2.0, 25.0), 2, "vertical ratio"),
        MetricSpec("step_length", "step_length_m", "Step length", "mm", 1000.0, (0.2, 3.0), 0, "step length"),
        MetricSpec(
            "stance_pct",
            "stance_time_pct",
            "Stance time share of step",
            "%",
            1.0,
            (10.0, 90.0),
            1,
            "GCT % of step",
        ),
        MetricSpec("cadence", "cadence_spm", "Cadence", "spm", 1.0, (100.0, 260.0), 1, "cadence"),
        MetricSpec(
            "flight_time",
            "flight_time_s",
            "Flight time (from cadence and GCT)",
            "ms",
            1000.0,
            (0.0, 0.4),
            0,
            "flight time",
        ),
        MetricSpec("speed", "speed_m_s", "Speed", "m/s", 1.0, (0.0, 12.0), 2, "speed"),
        MetricSpec("heart_rate", "heart_rate_bpm", "Heart rate", "bpm", 1.0, (25.0, 240.0), 0, "heart rate"),
        MetricSpec("power", "power_w", "Power", "W", 1.0, (1.0, 2000.0), 0, "power"),
    )
}

#: metrics modelled against speed, grade and running time (pace-adjusted values and drift).
MODELLED_METRICS: Final[tuple[str, ...]] = ("balance", "gct", "vo", "vr")

#: balance zones, from left-dominant to right-dominant (JSON keys of ``zones_s``).
BALANCE_ZONE_NAMES: Final[tuple[str, ...]] = ("red_left", "orange_left", "green", "orange_right", "red_right")

#: the five-colour gauge zones, best to worst.
GAUGE_ZONE_NAMES: Final[tuple[str, ...]] = ("purple", "blue", "green", "orange", "red")

#: balance: green when the larger side is <= 50.7 %, orange 50.8-52.2 %, red >= 52.3 % (display, 0.1 %).
_BALANCE_GREEN_MAX_PCT: Final[float] = 50.7
_BALANCE_ORANGE_MAX_PCT: Final[float] = 52.2
#: (green, orange) upper limits of the larger side's share, % (display precision 0.1 %)
BALANCE_ZONE_LIMITS_PCT: Final[tuple[float, float]] = (_BALANCE_GREEN_MAX_PCT, _BALANCE_ORANGE_MAX_PCT)


@dataclass(frozen=True, slots=True)
class GaugeZones:
    """Upper limits (display unit, inclusive, at display precision) of purple, blue, green, orange;
    above the last limit is red. ``higher_is_better`` flips the order (cadence)."""

    metric: str
    limits: tuple[float, float, float, float]
    higher_is_better: bool
    decimals: int
    placement: str  # "any", "chest" or "waist"


#: cadence (spm) and GCT (ms): same for every sensor.
_CADENCE_ZONES: Final = GaugeZones("cadence", (183.0, 173.0, 163.0, 153.0), True, 0, "any")
_GCT_ZONES: Final = GaugeZones("gct", (217.0, 248.0, 277.0, 308.0), False, 0, "any")
#: vertical oscillation (display cm -> we keep limits in mm) and vertical ratio (%), chest vs waist.
_VO_CHEST: Final = GaugeZones("vo", (63.0, 81.0, 97.0, 115.0), False, 0, "chest")
_VO_WAIST: Final = GaugeZones("vo", (67.0, 89.0, 109.0, 130.0), False, 0, "waist")
_VR_CHEST: Final = GaugeZones("vr", (6.0, 7.4, 8.6, 10.1), False, 1, "chest")
_VR_WAIST: Final = GaugeZones("vr", (6.4, 8.3, 10.0, 11.9), False, 1, "waist")


def gauge_zones_for(metric: str, placement: str) -> GaugeZones | None:
    """The gauge zones of ``metric`` for a sensor ``placement`` ("chest", "waist", "wrist", "foot",
    "unknown"). VO and VR bands differ between chest and waist; other placements use the chest bands
    (Garmin publishes no wrist/foot bands), and the caller says so."""
    if metric == "cadence":
        return _CADENCE_ZONES
    if metric == "gct":
        return _GCT_ZONES
    if metric == "vo":
        return _VO_WAIST if placement == "waist" else _VO_CHEST
    if metric == "vr":
        return _VR_WAIST if placement == "waist" else _VR_CHEST
    return None


def gauge_zone_index(display_values: np.ndarray, zones: GaugeZones) -> np.ndarray:
    """Zone index 0 (purple) .. 4 (red) of each value given in the display unit; -1 for NaN."""
    v = np.round(np.asarray(display_values, dtype="float64"), zones.decimals)
    out = np.full(v.shape, -1, dtype="int8")
    ok = np.isfinite(v)
    if zones.higher_is_better:
        # purple > 183, blue 174-183, green 164-173, orange 153-163, red < 153
        lim = zones.limits
        idx = np.where(
            v > lim[0], 0, np.where(v > lim[1], 1, np.where(v > lim[2], 2, np.where(v >= lim[3], 3, 4)))
        )
    else:
        lim = zones.limits
        idx = np.where(
            v <= lim[0], 0, np.where(v <= lim[1], 1, np.where(v <= lim[2], 2, np.where(v <= lim[3], 3, 4)))
        )
    out[ok] = idx[ok]
    return out


def balance_zone_index(left_pct: np.ndarray) -> np.ndarray:
    """Balance zone of each left-share value: 0 red_left, 1 orange_left, 2 green, 3 orange_right,
    4 red_right, -1 for NaN. Classifies the displayed value (rounded to 0.1 %) like the watch."""
    left = np.round(np.asarray(left_pct, dtype="float64"), 1)
    right = np.round(100.0 - left, 1)
    out = np.full(left.shape, -1, dtype="int8")
    ok = np.isfinite(left)
    idx = np.full(left.shape, 2, dtype="int8")
    idx = np.where(left > _BALANCE_ORANGE_MAX_PCT + 1e-9, 0, idx)
    idx = np.where((left > _BALANCE_GREEN_MAX_PCT + 1e-9) & (left <= _BALANCE_ORANGE_MAX_PCT + 1e-9), 1, idx)
    idx = np.where(
        (right > _BALANCE_GREEN_MAX_PCT + 1e-9) & (right <= _BALANCE_ORANGE_MAX_PCT + 1e-9), 3, idx
    )
    idx = np.where(right > _BALANCE_ORANGE_MAX_PCT + 1e-9, 4, idx)
    out[ok] = idx[ok]
    return out
