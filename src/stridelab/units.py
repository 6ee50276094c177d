"""Unit helpers. SI inside; these convert at the edges (input parsing and presentation)."""

from __future__ import annotations

import re
from typing import Final

__all__ = ["G", "format_pace", "pace_s_per_km_to_speed", "parse_pace", "speed_to_pace_s_per_km"]

G: Final[float] = 9.80665  # standard gravity, m/s^2

_PACE_RE = re.compile(r"^\s*(\d+):([0-5]?\d(?:\.\d+)?)\s*(?:/\s*(km|mi))?\s*$")


def parse_pace(text: str) -> float:
    """Parse a pace like ``"5:30/km"`` or ``"8:51/mi"`` into a speed in m/s."""
    m = _PACE_RE.match(text)
    if not m:
        raise ValueError(f"Invalid pace {text!r}: expected MM:SS/km or MM:SS/mi, e.g. '5:30/km'")
    seconds = int(m.group(1)) * 60 + float(m.group(2))
    if seconds <= 0:
        raise ValueError(f"Invalid pace {text!r}: must be positive")
    metres = 1609.344 if m.group(3) == "mi" else 1000.0
    return metres / seconds


def pace_s_per_km_to_speed(pace_s_per_km: float) -> float:
    return 1000.0 / pace_s_per_km


def speed_to_pace_s_per_km(speed_m_s: float) -> float:
    return 1000.0 / speed_m_s


def format_pace(speed_m_s: float | None) -> str:
    """Speed in m/s -> ``"M:SS/km"`` (``"-"`` when unknown or not moving)."""
    if speed_m_s is None or not speed_m_s > 0.0:
        return "-"
    total = round(1000.0 / speed_m_s)
    return f"{total // 60}:{total % 60:02d}/km"


# --- IMU unit helpers (appended by the IMU engine; SI inside: m/s², rad/s) ---------------------------
import math as _math  # noqa: E402

#: accepted accelerometer units -> factor to m/s².
ACC_UNITS: Final[dict[str, float]] = {"m/s^2": 1.0, "m/s2": 1.0, "m/s²": 1.0, "g": G, "mg": G / 1000.0}
#: accepted gyroscope units -> factor to rad/s.
GYR_UNITS: Final[dict[str, float]] = {
    "rad/s": 1.0,
    "deg/s": _math.pi / 180.0,
    "dps": _math.pi / 180.0,
    "°/s": _math.pi / 180.0,
}


def acc_to_si_factor(unit: str) -> float:
    """Factor converting an accelerometer unit (``"g"``, ``"mg"``, ``"m/s^2"``) to m/s²."""
    try:
        return ACC_UNITS[unit.strip()]
    except KeyError:
        allowed = ", ".join(repr(u) for u in ACC_UNITS)
        raise ValueError(
            f"Invalid value for the 'acc_unit' parameter. Allowed values are {allowed}, "
            f"but got {unit!r} instead."
        ) from None


def gyr_to_si_factor(unit: str) -> float:
    """Factor converting a gyroscope unit (``"deg/s"``, ``"rad/s"``) to rad/s."""
    try:
        return GYR_UNITS[unit.strip()]
    except KeyError:
        allowed = ", ".join(repr(u) for u in GYR_UNITS)
        raise ValueError(
            f"Invalid value for the 'gyr_unit' parameter. Allowed values are {allowed}, "
            f"but got {unit!r} instead."
        ) from None
