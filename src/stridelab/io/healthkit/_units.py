"""Apple Health units -> SI factors, and the export's timestamps -> UTC nanoseconds.

Units are read from each sample's ``unit`` attribute (never assumed). HealthKit's percent unit
(``%``) holds a fraction (``0.284`` = 28.4 %), as ``HKUnit.percent()`` does.
"""

from __future__ import annotations

import calendar
from typing import Final

__all__ = ["FACTORS", "HealthTimeError", "parse_time_ns", "to_si"]

#: unit string -> (quantity kind, factor to SI: s, m, m/s, W, 1/min, count, J, percent points)
FACTORS: Final[dict[str, tuple[str, float]]] = {
    "ms": ("time", 1e-3),
    "s": ("time", 1.0),
    "sec": ("time", 1.0),
    "min": ("time", 60.0),
    "hr": ("time", 3600.0),
    "mm": ("length", 1e-3),
    "cm": ("length", 1e-2),
    "m": ("length", 1.0),
    "km": ("length", 1e3),
    "in": ("length", 0.0254),
    "ft": ("length", 0.3048),
    "yd": ("length", 0.9144),
    "mi": ("length", 1609.344),
    "m/s": ("speed", 1.0),
    "m/min": ("speed", 1 / 60),
    "km/hr": ("speed", 1 / 3.6),
    "km/h": ("speed", 1 / 3.6),
    "mi/hr": ("speed", 0.44704),
    "mph": ("speed", 0.44704),
    "W": ("power", 1.0),
    "kW": ("power", 1e3),
    "count/min": ("rate", 1.0),
    "count/s": ("rate", 60.0),
    "count": ("count", 1.0),
    "J": ("energy", 1.0),
    "kJ": ("energy", 1e3),
    "kcal": ("energy", 4184.0),
    "Cal": ("energy", 4184.0),
    "cal": ("energy", 4.184),
    "%": ("percent", 100.0),  # HealthKit's percent unit holds a fraction
}


def to_si(value: float, unit: str | None, kind: str) -> float | None:
    """``value`` in ``unit`` converted to the SI unit of ``kind``; None when the unit is unknown or is
    not of that kind (a sample is then left out, never guessed)."""
    if unit is None:
        return None
    known = FACTORS.get(unit.strip())
    if known is None or known[0] != kind:
        return None
    return value * known[1]


class HealthTimeError(ValueError):
    """A timestamp the export's format does not allow (no zone, not a date)."""


_HOUR_CACHE: dict[str, int] = {}


def parse_time_ns(text: str) -> int:
    """``"2023-05-01 07:12:03 +0200"`` -> UTC nanoseconds since the epoch.

    The zone offset is required (the export always writes one); :class:`HealthTimeError` otherwise.
    Hours are cached (a multi-GB export repeats them millions of times).
    """
    if len(text) != 25 or text[19] != " " or text[20] not in "+-":
        raise HealthTimeError(f"timestamp {text!r} is not 'YYYY-MM-DD hh:mm:ss +hhmm' (a zone is required)")
    key = text[:13] + text[19:]
    base = _HOUR_CACHE.get(key)
    try:
        if base is None:
            y, mo, d, h = int(text[0:4]), int(text[5:7]), int(text[8:10]), int(text[11:13])
            sign = -1 if text[20] == "-" else 1
            offset = sign * (int(text[21:23]) * 3600 + int(text[23:25]) * 60)
            base = calendar.timegm((y, mo, d, h, 0, 0)) - offset
            if len(_HOUR_CACHE) > 200_000:
                _HOUR_CACHE.clear()
            _HOUR_CACHE[key] = base
        return (base + int(text[14:16]) * 60 + int(text[17:19])) * 1_000_000_000
    except ValueError as exc:
        raise HealthTimeError(f"timestamp {text!r} is not a date: {exc}") from None
