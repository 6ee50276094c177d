"""Presentation helpers (Jinja filters): SI inside, units converted only here, at the edge."""

from __future__ import annotations

import math
from typing import Any, Final

import pandas as pd
from jinja2 import Environment

__all__ = ["ZONE_LABELS", "install"]

ZONE_LABELS: Final[dict[str, str]] = {
    "red_left": "red · left-heavy",
    "orange_left": "orange · left",
    "green": "green",
    "orange_right": "orange · right",
    "red_right": "red · right-heavy",
}
FLAG_LABELS: Final[dict[str, str]] = {
    "no_gps": "no GPS",
    "no_altitude": "no altitude",
    "no_speed": "no speed",
    "no_balance": "no balance",
    "no_running_dynamics": "no dynamics",
    "too_short": "too short",
    "gps_spikes": "GPS spikes",
    "sensor_dropouts": "sensor dropouts",
    "ref_speed_extrapolated": "extrapolated",
}


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(float(x))


def num(x: Any, decimals: int = 1, unit: str = "", signed: bool = False) -> str:
    """A number with a unit, or an en dash for unknown."""
    if not _finite(x):
        return "–"
    text = f"{float(x):+.{decimals}f}" if signed else f"{float(x):.{decimals}f}"
    return f"{text}\u202f{unit}" if unit else text


def km(distance_m: Any) -> str:
    return num(distance_m / 1000.0, 2, "km") if _finite(distance_m) else "–"


def duration(seconds: Any) -> str:
    if not _finite(seconds):
        return "–"
    s = round(float(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def pace(seconds_per_km: Any) -> str:
    """min:ss per km."""
    if not _finite(seconds_per_km) or seconds_per_km <= 0 or seconds_per_km > 3600:
        return "–"
    m, s = divmod(round(float(seconds_per_km)), 60)
    return f"{m}:{s:02d}\u202f/km"


def balance(left_pct: Any) -> str:
    """``50.8 % L`` / ``50.6 % R`` (the larger side, like the watch) -- or an en dash."""
    if not _finite(left_pct):
        return "–"
    left = float(left_pct)
    if abs(left - 50.0) < 0.05:
        return "50.0\u202f% even"
    return f"{left:.1f}\u202f% L" if left > 50.0 else f"{100.0 - left:.1f}\u202f% R"


def day(ts: Any) -> str:
    if ts is None:
        return "–"
    return pd.Timestamp(ts).strftime("%Y-%m-%d")


def day_time(ts: Any) -> str:
    if ts is None:
        return "–"
    return pd.Timestamp(ts).strftime("%Y-%m-%d %H:%M")


def zone_label(zone: str | None) -> str:
    return ZONE_LABELS.get(zone or "", "no balance")


def flag_label(flag: str) -> str:
    return FLAG_LABELS.get(flag, flag.replace("_", " "))


def estimate_of(value: Any) -> float | None:
    """The point estimate of a contract value: an ``{estimate, ci_low, ci_high}`` dict or a number."""
    if isinstance(value, dict):
        value = value.get("estimate")
    return float(value) if _finite(value) else None


def ci_of(value: Any) -> tuple[float, float] | None:
    """The (low, high) interval of an ``{estimate, ci_low, ci_high}`` dict, None otherwise."""
    if isinstance(value, dict) and _finite(value.get("ci_low")) and _finite(value.get("ci_high")):
        return float(value["ci_low"]), float(value["ci_high"])
    return None


def install(env: Environment) -> None:
    """Register the filters on a Jinja environment."""
    env.filters.update(
        num=num,
        km=km,
        duration=duration,
        pace=pace,
        balance=balance,
        day=day,
        day_time=day_time,
        zone_label=zone_label,
        flag_label=flag_label,
        est=estimate_of,
        ci=ci_of,
    )
