"""An :class:`~stridelab.model.Activity` as GPX 1.1 with Garmin's TrackPointExtension v2 (``atemp``,
``hr``, ``cad``, ``speed``) and PowerExtension v1 (``PowerInWatts``).

GPX has no point without a position: records without one are left out, so an indoor run exports a
valid file with metadata and an empty track (the count of written points says so). A resume after a
pause starts a new ``trkseg``. Cadence is written as the device counts it (strides per minute on foot,
as Garmin's ``cad``). SI values are converted here only; strings from the activity are escaped.
"""

from __future__ import annotations

import math

import numpy as np

from stridelab.io.export._xml import Columns, iso, num, text
from stridelab.model import Activity
from stridelab.version import __version__

__all__ = ["GPX_NS", "gpx_point_count", "write_gpx"]

GPX_NS = "http://www.topografix.com/GPX/1/1"
TPX_NS = "http://www.garmin.com/xmlschemas/TrackPointExtension/v2"
PWR_NS = "http://www.garmin.com/xmlschemas/PowerExtension/v1"


def _has_position(c: Columns) -> np.ndarray:
    lat, lon = c.get("lat_deg"), c.get("lon_deg")
    if lat is None or lon is None:
        return np.zeros(c.n, dtype=bool)
    with np.errstate(invalid="ignore"):
        return np.asarray(
            np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180), dtype=bool
        )


def gpx_point_count(activity: Activity) -> int:
    """How many track points :func:`write_gpx` writes (records with a position)."""
    return int(_has_position(Columns(activity.records)).sum())


def _int(v: float, lo: int, hi: int) -> int | None:
    if not math.isfinite(v):
        return None
    r = round(v)
    return r if lo <= r <= hi else None


def write_gpx(activity: Activity) -> bytes:
    """The GPX 1.1 document of ``activity`` as UTF-8 bytes."""
    c = Columns(activity.records)
    keep = _has_position(c)
    lat, lon = c.get("lat_deg"), c.get("lon_deg")
    ele, hr, temp = c.get("altitude_m"), c.get("heart_rate_bpm"), c.get("temperature_c")
    cad, speed, power = c.cadence_rpm(), c.get("speed_m_s"), c.get("power_w")
    paused = c.get("paused")
    title = " ".join(x for x in (activity.sport, activity.start_time.strftime("%Y-%m-%d %H:%M")) if x)
    out: list[str] = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<gpx version="1.1" creator="stridelab {text(__version__)}" xmlns="{GPX_NS}" '
        f'xmlns:gpxtpx="{TPX_NS}" xmlns:gpxpx="{PWR_NS}">',
        f"<metadata><name>{text(title)}</name><time>{iso(activity.start_time)}</time></metadata>",
        f"<trk><name>{text(title)}</name>",
    ]
    if activity.sport:
        out.append(f"<type>{text(activity.sport)}</type>")
    out.append("<trkseg>")
    was_paused = False
    for i in range(c.n):
        now_paused = bool(paused is not None and paused[i] == 1.0)
        if was_paused and not now_paused:
            out.append("</trkseg><trkseg>")
        was_paused = now_paused
        if not keep[i]:
            continue
        assert lat is not None and lon is not None
        out.append(f'<trkpt lat="{num(float(lat[i]), 7)}" lon="{num(float(lon[i]), 7)}">')
        if ele is not None and math.isfinite(ele[i]):
            out.append(f"<ele>{num(float(ele[i]), 2)}</ele>")
        out.append(f"<time>{c.iso(i)}</time>")
        ext: list[str] = []
        if power is not None:
            w = _int(float(power[i]), 0, 65535)
            if w is not None:
                ext.append(f"<gpxpx:PowerInWatts>{w}</gpxpx:PowerInWatts>")
        tpx: list[str] = []
        if temp is not None and math.isfinite(temp[i]):
            tpx.append(f"<gpxtpx:atemp>{num(float(temp[i]), 1)}</gpxtpx:atemp>")
        if hr is not None:
            h = _int(float(hr[i]), 1, 255)
            if h is not None:
                tpx.append(f"<gpxtpx:hr>{h}</gpxtpx:hr>")
        if cad is not None:
            k = _int(float(cad[i]), 0, 254)
            if k is not None:
                tpx.append(f"<gpxtpx:cad>{k}</gpxtpx:cad>")
        if speed is not None and math.isfinite(speed[i]):
            tpx.append(f"<gpxtpx:speed>{num(float(speed[i]), 3)}</gpxtpx:speed>")
        if tpx:
            ext.append(f"<gpxtpx:TrackPointExtension>{''.join(tpx)}</gpxtpx:TrackPointExtension>")
        if ext:
            out.append(f"<extensions>{''.join(ext)}</extensions>")
        out.append("</trkpt>")
    out.append("</trkseg></trk></gpx>\n")
    return "".join(out).encode("utf-8")
