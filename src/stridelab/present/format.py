"""The one formatter: numbers, units, durations, paces, balance and clocks as text for people.

SI comes in, text goes out. Every edge (CLI tables, web pages, HTML reports) formats through these
functions; ``missing`` is the glyph for an unknown value (an en dash on pages, ``-`` in a terminal)
and ``sep`` what stands between a number and its unit.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Any, Final

from stridelab.lazy import lazy_module
from stridelab.units import format_pace

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = [
    "FLAG_LABELS",
    "M_PER_FT",
    "M_PER_MI",
    "NARROW_NBSP",
    "ZONE_LABELS",
    "balance",
    "ci_of",
    "clock",
    "day",
    "day_time",
    "dev_value",
    "duration",
    "estimate_of",
    "finite_or_none",
    "flag_label",
    "height",
    "interval",
    "interval_of",
    "is_finite",
    "km",
    "local_day_time",
    "num",
    "pace",
    "pace_of_speed",
    "pace_unit",
    "speed_unit",
    "sport_speed",
    "zone_label",
]

NARROW_NBSP: Final[str] = "\u202f"
DASH: Final[str] = "–"

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
    "ref_speed_outside_single_speed_run": "one speed only",
    "no_speed_term": "no pace term",
    "record_gap": "recording gap",
}


_M_PER_MI = 1609.344
#: the international mile and foot, m (imperial display only; SI inside)
M_PER_MI: Final[float] = _M_PER_MI
M_PER_FT: Final[float] = 0.3048


def is_finite(x: Any) -> bool:
    """A real, finite number (not a bool, not None, not NaN)."""
    if isinstance(x, bool) or x is None:
        return False
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def finite_or_none(x: Any) -> float | None:
    """``float(x)`` when it is a finite number, else None."""
    return float(x) if is_finite(x) else None


def num(
    x: Any,
    decimals: int = 1,
    unit: str = "",
    signed: bool = False,
    *,
    missing: str = DASH,
    sep: str = NARROW_NBSP,
) -> str:
    """A number with a unit, or ``missing`` for unknown."""
    if not is_finite(x):
        return missing
    text = f"{float(x):+.{decimals}f}" if signed else f"{float(x):.{decimals}f}"
    return f"{text}{sep}{unit}" if unit else text


def km(distance_m: Any, *, missing: str = DASH, units: str = "metric") -> str:
    """Metres as kilometres with two decimals (miles with ``units="imperial"``)."""
    if not is_finite(distance_m):
        return missing
    if units == "imperial":
        return num(float(distance_m) / _M_PER_MI, 2, "mi")
    return num(float(distance_m) / 1000.0, 2, "km")


def duration(seconds: Any, *, missing: str = DASH, always_hours: bool = False) -> str:
    """``m:ss`` or ``h:mm:ss`` (``always_hours``: always ``h:mm:ss``)."""
    if not is_finite(seconds):
        return missing
    s = round(float(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h or always_hours else f"{m}:{sec:02d}"


def clock(seconds: float) -> str:
    """Seconds into a run -> ``m:ss`` or ``h:mm:ss``."""
    return duration(seconds, missing="-")


def pace(seconds_per_km: Any, *, missing: str = DASH, units: str = "metric") -> str:
    """A pace in s/km -> ``min:ss /km`` (``min:ss /mi`` with ``units="imperial"``)."""
    if not is_finite(seconds_per_km) or seconds_per_km <= 0 or seconds_per_km > 3600:
        return missing
    per = float(seconds_per_km) * (_M_PER_MI / 1000.0 if units == "imperial" else 1.0)
    m, s = divmod(round(per), 60)
    return f"{m}:{s:02d}{NARROW_NBSP}/{'mi' if units == 'imperial' else 'km'}"


def pace_of_speed(speed_m_s: Any, *, missing: str = "-", units: str = "metric") -> str:
    """A speed in m/s -> ``M:SS/km`` (:func:`stridelab.units.format_pace`; ``M:SS/mi`` with
    ``units="imperial"``; ``missing`` when unknown or not moving)."""
    if not is_finite(speed_m_s) or not float(speed_m_s) > 0.0:
        return missing
    if units == "imperial":
        return sport_speed(speed_m_s, "running", units="imperial", missing=missing)
    return format_pace(float(speed_m_s))


def balance(left_pct: Any, *, missing: str = DASH) -> str:
    """``50.8 % L`` / ``50.6 % R`` (the larger side, like the watch) -- or ``missing``."""
    if not is_finite(left_pct):
        return missing
    left = float(left_pct)
    if abs(left - 50.0) < 0.05:
        return f"50.0{NARROW_NBSP}% even"
    return f"{left:.1f}{NARROW_NBSP}% L" if left > 50.0 else f"{100.0 - left:.1f}{NARROW_NBSP}% R"


def interval(
    estimate: Any, low: Any, high: Any, decimals: int = 2, *, missing: str = DASH, signed: bool = True
) -> str:
    """``+0.42  [+0.10, +0.74]``: an estimate with its confidence interval (``missing`` when the
    estimate is unknown; an unknown bound shows as ``missing``)."""
    if not is_finite(estimate):
        return missing
    lo = num(low, decimals, signed=signed, missing=missing)
    hi = num(high, decimals, signed=signed, missing=missing)
    return f"{num(estimate, decimals, signed=signed, missing=missing)}  [{lo}, {hi}]"


def interval_of(value: Any, decimals: int = 2, *, missing: str = DASH) -> str:
    """:func:`interval` of a contract value ``{estimate, ci_low, ci_high}`` (``missing`` for None)."""
    if not isinstance(value, dict):
        return missing
    return interval(
        value.get("estimate"), value.get("ci_low"), value.get("ci_high"), decimals, missing=missing
    )


def _datetime(ts: Any) -> datetime:
    """``ts`` (a datetime -- a ``pd.Timestamp`` is one -- an ISO string, a ``datetime64``, ...) as a
    datetime; ISO strings and datetimes without pandas (a read command printing cached JSON need not
    import it), anything else (nanosecond strings, numbers, ``datetime64``) through ``pd.Timestamp``."""
    if isinstance(ts, datetime):
        return ts
    if isinstance(ts, str):
        try:
            return datetime.fromisoformat(ts)
        except ValueError:
            pass
    out: datetime = pd.Timestamp(ts)
    return out


def day(ts: Any, *, missing: str = DASH) -> str:
    if ts is None:
        return missing
    return _datetime(ts).strftime("%Y-%m-%d")


def day_time(ts: Any, *, missing: str = DASH) -> str:
    if ts is None:
        return missing
    return _datetime(ts).strftime("%Y-%m-%d %H:%M")


def zone_label(zone: str | None) -> str:
    return ZONE_LABELS.get(zone or "", "no balance")


def flag_label(flag: str) -> str:
    return FLAG_LABELS.get(flag, flag.replace("_", " "))


def estimate_of(value: Any) -> float | None:
    """The point estimate of a contract value: an ``{estimate, ci_low, ci_high}`` dict or a number."""
    if isinstance(value, dict):
        value = value.get("estimate")
    return finite_or_none(value)


def ci_of(value: Any) -> tuple[float, float] | None:
    """The (low, high) interval of an ``{estimate, ci_low, ci_high}`` dict, None otherwise."""
    if isinstance(value, dict) and is_finite(value.get("ci_low")) and is_finite(value.get("ci_high")):
        return float(value["ci_low"]), float(value["ci_high"])
    return None


#: display unit systems (SI inside; converted only here)
UNIT_SYSTEMS = ("metric", "imperial")
#: sports whose speed reads as km/h (mi/h), and as time per 100 m (100 yd)
_SPEED_SPORTS = ("cycling", "e_biking", "inline_skating", "rowing", "paddling", "kayaking", "alpine_skiing")
_SWIM_SPORTS = ("swimming",)
_M_PER_YD = 0.9144


def sport_speed(
    speed_m_s: Any, sport: str | None = None, *, units: str = "metric", missing: str = DASH
) -> str:
    """A speed as the sport reads it: running and walking ``M:SS/km`` (``/mi`` with ``units="imperial"``),
    cycling and other wheeled or paddled sports ``km/h`` (``mph``), swimming ``M:SS/100 m`` (``/100 yd``).
    ``missing`` when unknown or not moving."""
    if not is_finite(speed_m_s) or not float(speed_m_s) > 0.0:
        return missing
    v = float(speed_m_s)
    imperial = units == "imperial"
    s = (sport or "").lower()
    if s in _SPEED_SPORTS:
        return (
            f"{v * 3.6 / (_M_PER_MI / 1000.0):.1f}{NARROW_NBSP}mph"
            if imperial
            else f"{v * 3.6:.1f}{NARROW_NBSP}km/h"
        )
    if s in _SWIM_SPORTS:
        per = 100.0 * (_M_PER_YD if imperial else 1.0)
        m, sec = divmod(round(per / v), 60)
        return f"{m}:{sec:02d}/100{NARROW_NBSP}{'yd' if imperial else 'm'}"
    total = round((_M_PER_MI if imperial else 1000.0) / v)
    if total >= 100 * 60:
        return missing
    return f"{total // 60}:{total % 60:02d}/{'mi' if imperial else 'km'}"


def speed_unit(sport: str | None = None, *, units: str = "metric") -> str:
    """The unit :func:`sport_speed` reads in (a table header)."""
    s = (sport or "").lower()
    imperial = units == "imperial"
    if s in _SPEED_SPORTS:
        return "mph" if imperial else "km/h"
    if s in _SWIM_SPORTS:
        return "/100 yd" if imperial else "/100 m"
    return "/mi" if imperial else "/km"


def local_day_time(ts: Any, tz: Any = None, *, missing: str = DASH, utc_offset_s: Any = None) -> str:
    """``YYYY-MM-DD HH:MM ZONE``: at the run's own ``utc_offset_s`` where its file stated it (shown as
    ``UTC+02:00``), else in ``tz`` (a tzinfo or zone name; default the machine's local zone, shown by
    its name) -- the zone always shown so a time is never ambiguous."""
    if ts is None:
        return missing
    if is_finite(utc_offset_s):
        zone: Any = timezone(timedelta(seconds=int(utc_offset_s)))
    else:
        zone = tz if tz is not None else datetime.now().astimezone().tzinfo
    local: datetime
    if isinstance(zone, tzinfo):  # plain datetimes (no pandas) for the usual cases
        t = _datetime(ts)
        local = (t if t.tzinfo is not None else t.replace(tzinfo=UTC)).astimezone(zone)
    else:  # a zone given by name: pandas resolves it as it always did
        stamp = pd.Timestamp(ts)
        local = (stamp if stamp.tzinfo is not None else stamp.tz_localize("UTC")).tz_convert(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''}".rstrip()


#: a developer column's unit suffix -> (display factor, unit, decimals): Stryd and other apps write SI
_DEV_UNITS: Final[tuple[tuple[str, float, str, int], ...]] = (
    ("_n_per_m", 0.001, "kN/m", 1),
    ("_ms", 1.0, "ms", 0),
    ("_s", 1000.0, "ms", 0),
    ("_mm", 1.0, "mm", 1),
    ("_m", 1000.0, "mm", 1),
    ("_w", 1.0, "W", 0),
    ("_rpm", 1.0, "rpm", 1),
    ("_spm", 1.0, "spm", 1),
    ("_pct", 1.0, "%", 1),
    ("_c", 1.0, "°C", 1),
    ("_bpm", 1.0, "bpm", 0),
    ("_m_s", 1.0, "m/s", 2),
)


def dev_value(column: str, value: Any, *, missing: str = DASH) -> str:
    """A developer field's mean as a person reads it, from its SI column name (Stryd ground time
    ``dev_stryd_ground_time_s`` 0.261 -> ``261 ms``; leg spring stiffness ``..._n_per_m`` 14 000 ->
    ``14.0 kN/m``); an unknown unit keeps 3 significant digits."""
    if not is_finite(value):
        return missing
    for suffix, factor, unit, decimals in sorted(_DEV_UNITS, key=lambda u: -len(u[0])):
        if column.endswith(suffix):
            return num(float(value) * factor, decimals, unit, sep=" ")
    return f"{float(value):.3g}"


def height(metres: Any, *, missing: str = DASH, units: str = "metric", decimals: int = 0) -> str:
    """An elevation or climb in m -> ``12 m`` (``39 ft`` with ``units="imperial"``)."""
    if not is_finite(metres):
        return missing
    if units == "imperial":
        return num(float(metres) / M_PER_FT, decimals, "ft")
    return num(float(metres), decimals, "m")


def pace_unit(units: str = "metric") -> str:
    """The distance a pace is per: ``km``, or ``mi`` with ``units="imperial"``."""
    return "mi" if units == "imperial" else "km"
