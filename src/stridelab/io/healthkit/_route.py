"""A workout route's GPX file (``workout-routes/route_*.gpx`` of an export): times, positions,
altitude and the speed extension, read with ``iterparse`` (small files; this reader does not depend on
the general GPX reader)."""

from __future__ import annotations

import io
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["RoutePoints", "read_route"]


@dataclass(frozen=True, slots=True)
class RoutePoints:
    time_ns: np.ndarray  # int64, UTC
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    altitude_m: np.ndarray
    speed_m_s: np.ndarray


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _float(text: str | None) -> float:
    if text is None:
        return math.nan
    try:
        return float(text)
    except ValueError:
        return math.nan


def read_route(data: bytes) -> RoutePoints:
    """The timed track points of a route GPX (points without a time or a position are left out).
    Raises ``xml.etree.ElementTree.ParseError`` for XML that is not well formed."""
    times: list[str] = []
    lat: list[float] = []
    lon: list[float] = []
    ele: list[float] = []
    speed: list[float] = []
    cur: dict[str, str] = {}
    for event, elem in ET.iterparse(io.BytesIO(data), events=("start", "end")):
        name = _local(elem.tag)
        if event == "start":
            if name == "trkpt":
                cur = {}
            continue
        if name in ("time", "ele", "speed") and elem.text:
            cur[name] = elem.text.strip()
        elif name == "trkpt":
            la, lo = _float(elem.get("lat")), _float(elem.get("lon"))
            if "time" in cur and math.isfinite(la) and math.isfinite(lo):
                times.append(cur["time"])
                lat.append(la)
                lon.append(lo)
                ele.append(_float(cur.get("ele")))
                speed.append(_float(cur.get("speed")))
            elem.clear()
    stamps = pd.DatetimeIndex(pd.to_datetime(times, utc=True, errors="coerce", format="ISO8601")).as_unit(
        "ns"
    )
    ok = np.logical_not(np.asarray(stamps.isna()))
    t = stamps.asi8[ok]
    f = np.asarray
    return RoutePoints(
        time_ns=np.asarray(t, dtype="int64"),
        lat_deg=f(lat, dtype="float64")[ok],
        lon_deg=f(lon, dtype="float64")[ok],
        altitude_m=f(ele, dtype="float64")[ok],
        speed_m_s=f(speed, dtype="float64")[ok],
    )
