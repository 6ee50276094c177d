"""GPS routes: map a position along the route (m) to local east/north metres and terrain altitude."""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["EARTH_RADIUS_M", "route_xy", "terrain_altitude_m", "xy_to_latlon_deg"]

EARTH_RADIUS_M: Final[float] = 6_371_008.8
FloatArray = npt.NDArray[np.float64]

# IAAF standard 400 m track, lane 1: two 84.39 m straights, bends of radius 36.50 m (+0.30 m line)
_TRACK_STRAIGHT_M: Final[float] = 84.39
_TRACK_RADIUS_M: Final[float] = (400.0 - 2 * _TRACK_STRAIGHT_M) / (2 * math.pi)
_OUT_AND_BACK_M: Final[float] = 600.0


def _track(s: FloatArray) -> tuple[FloatArray, FloatArray]:
    """A 400 m track, counter-clockwise, start at the beginning of the home straight."""
    L, r = _TRACK_STRAIGHT_M, _TRACK_RADIUS_M
    p = np.mod(s, 400.0)
    x = np.empty_like(p)
    y = np.empty_like(p)
    a = p < L  # home straight, heading east
    x[a], y[a] = p[a], 0.0
    b = (p >= L) & (p < L + math.pi * r)  # bend 1
    th = (p[b] - L) / r
    x[b], y[b] = L + r * np.sin(th), r - r * np.cos(th)
    c = (p >= L + math.pi * r) & (p < 2 * L + math.pi * r)  # back straight, heading west
    x[c], y[c] = L - (p[c] - L - math.pi * r), 2 * r
    d = p >= 2 * L + math.pi * r  # bend 2
    th = (p[d] - 2 * L - math.pi * r) / r
    x[d], y[d] = -r * np.sin(th), r + r * np.cos(th)
    return x, y


def _loop(s: FloatArray, length_m: float) -> tuple[FloatArray, FloatArray]:
    """A closed, wiggly loop of ``length_m`` (a radius-modulated circle, arc-length parametrised)."""
    n = 4096
    th = np.linspace(0.0, 2 * math.pi, n + 1)
    rad = 1.0 + 0.18 * np.sin(3 * th) + 0.07 * np.cos(7 * th + 0.5)
    x0, y0 = rad * np.cos(th), rad * np.sin(th)
    seg = np.hypot(np.diff(x0), np.diff(y0))
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    k = length_m / arc[-1]
    arc *= k
    x0, y0 = (x0 - x0[0]) * k, (y0 - y0[0]) * k
    p = np.mod(s, length_m)
    return np.interp(p, arc, x0), np.interp(p, arc, y0)


def _out_and_back(s: FloatArray) -> tuple[FloatArray, FloatArray]:
    """A straight road heading north-east; route position ``s`` may go back and forth."""
    p = np.mod(s, 2 * _OUT_AND_BACK_M)
    p = np.where(p > _OUT_AND_BACK_M, 2 * _OUT_AND_BACK_M - p, p)
    return p * math.cos(math.radians(35.0)), p * math.sin(math.radians(35.0))


def route_xy(route: str, s: FloatArray, *, loop_length_m: float) -> tuple[FloatArray, FloatArray]:
    """East/north offsets (m) from the start at route position ``s`` (m)."""
    if route == "track":
        return _track(s)
    if route == "loop":
        return _loop(s, loop_length_m)
    if route == "out_and_back":
        return _out_and_back(s)
    raise ValueError(
        f"Invalid value for the 'route' parameter. Allowed values are 'loop', 'track', 'out_and_back', "
        f"but got {route!r} instead."
    )


def terrain_altitude_m(route: str, s: FloatArray, *, amplitude_m: float, loop_length_m: float) -> FloatArray:
    """Gentle rolling terrain (m, relative) along the route; flat on the track, closed on a loop."""
    if route == "track" or amplitude_m == 0.0:
        return np.zeros_like(s)
    if route == "loop":
        k = max(1, round(loop_length_m / 1800.0))
        return amplitude_m * np.sin(2 * math.pi * k * np.mod(s, loop_length_m) / loop_length_m)
    p = np.mod(s, 2 * _OUT_AND_BACK_M)
    p = np.where(p > _OUT_AND_BACK_M, 2 * _OUT_AND_BACK_M - p, p)
    return amplitude_m * np.sin(2 * math.pi * p / 1800.0)


def xy_to_latlon_deg(
    x_m: FloatArray, y_m: FloatArray, lat0_deg: float, lon0_deg: float
) -> tuple[FloatArray, FloatArray]:
    """Local east/north metres -> WGS84 degrees (equirectangular; exact enough for a few km)."""
    lat = lat0_deg + np.degrees(y_m / EARTH_RADIUS_M)
    lon = lon0_deg + np.degrees(x_m / (EARTH_RADIUS_M * math.cos(math.radians(lat0_deg))))
    return lat, lon
