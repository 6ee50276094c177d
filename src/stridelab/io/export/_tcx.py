"""An :class:`~stridelab.model.Activity` as Garmin Training Center XML (TrainingCenterDatabase v2).

Trackpoints carry time, position (when known), altitude, distance and heart rate; the ActivityExtension
v2 ``TPX`` element carries ``Speed`` (m/s), ``RunCadence`` (strides per minute, as Garmin writes it;
bike cadence goes into ``Cadence``) and ``Watts``. Each lap is an ``ActivityLap_t`` with its totals
(``LX``: average speed, run cadence, power); each session of a multisport activity is one ``Activity``
element. SI values are converted here only; strings from the activity are escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from stridelab.io.export._xml import Columns, attr, finite, iso, num, text
from stridelab.model import Activity, Lap, Session
from stridelab.version import __version__

__all__ = ["TCX_NS", "write_tcx"]

TCX_NS = "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
AX_NS = "http://www.garmin.com/xmlschemas/ActivityExtension/v2"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_TRIGGERS = {
    "manual": "Manual",
    "distance": "Distance",
    "time": "Time",
    "heart_rate": "HeartRate",
    "position_start": "Location",
    "position_lap": "Location",
    "position_waypoint": "Location",
    "position_marked": "Location",
}
_BIKE = {"cycling", "e_biking"}


def _sport(sport: str | None) -> str:
    if sport in ("running", "walking", "hiking", "trail_running", "treadmill"):
        return "Running"
    if sport in _BIKE:
        return "Biking"
    return "Other"


def _value(arr: npt.NDArray[np.float64] | None, i: int) -> float | None:
    if arr is None:
        return None
    v = float(arr[i])
    return v if math.isfinite(v) else None


def _byte(value: float | None, lo: int, hi: int) -> int | None:
    if value is None:
        return None
    r = round(value)
    return r if lo <= r <= hi else None


def _stat(arr: npt.NDArray[np.float64] | None, sl: slice, how: str) -> float | None:
    if arr is None:
        return None
    v = arr[sl]
    v = v[np.isfinite(v)]
    if how == "mean":
        v = v[v > 0]
    if not v.size:
        return None
    return float(v.mean() if how == "mean" else v.max())


def _trackpoint(c: Columns, i: int, bike: bool, out: list[str]) -> None:
    out.append(f"<Trackpoint><Time>{c.iso(i)}</Time>")
    lat, lon = _value(c.get("lat_deg"), i), _value(c.get("lon_deg"), i)
    if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
        out.append(
            f"<Position><LatitudeDegrees>{num(lat, 7)}</LatitudeDegrees>"
            f"<LongitudeDegrees>{num(lon, 7)}</LongitudeDegrees></Position>"
        )
    alt = _value(c.get("altitude_m"), i)
    if alt is not None:
        out.append(f"<AltitudeMeters>{num(alt, 2)}</AltitudeMeters>")
    dist = _value(c.get("distance_m"), i)
    if dist is not None:
        out.append(f"<DistanceMeters>{num(dist, 2)}</DistanceMeters>")
    hr = _byte(_value(c.get("heart_rate_bpm"), i), 1, 255)
    if hr is not None:
        out.append(f"<HeartRateBpm><Value>{hr}</Value></HeartRateBpm>")
    cad = _byte(_value(c.cadence_rpm(), i), 0, 254)
    if bike and cad is not None:
        out.append(f"<Cadence>{cad}</Cadence>")
    tpx: list[str] = []
    speed = _value(c.get("speed_m_s"), i)
    if speed is not None:
        tpx.append(f"<ax:Speed>{num(speed, 3)}</ax:Speed>")
    if not bike and cad is not None:
        tpx.append(f"<ax:RunCadence>{cad}</ax:RunCadence>")
    watts = _byte(_value(c.get("power_w"), i), 0, 65535)
    if watts is not None:
        tpx.append(f"<ax:Watts>{watts}</ax:Watts>")
    if tpx:
        out.append(f"<Extensions><ax:TPX>{''.join(tpx)}</ax:TPX></Extensions>")
    out.append("</Trackpoint>")


def _lap(c: Columns, lap: Lap | None, sl: slice, start: pd.Timestamp, bike: bool, out: list[str]) -> None:
    n = sl.stop - sl.start
    timer = lap.timer_s if lap is not None and finite(lap.timer_s) else None
    if timer is None:
        timer = (c.times[sl.stop - 1] - c.times[sl.start]).total_seconds() if n else 0.0
    dist_arr = c.get("distance_m")
    distance = lap.distance_m if lap is not None and finite(lap.distance_m) else None
    if distance is None:
        lo, hi = _stat(dist_arr, slice(sl.start, sl.start + 1), "max"), _stat(dist_arr, sl, "max")
        distance = (hi - lo) if lo is not None and hi is not None else 0.0
    out.append(f"<Lap StartTime={attr(iso(start))}>")
    out.append(f"<TotalTimeSeconds>{num(max(timer, 0.0), 3)}</TotalTimeSeconds>")
    out.append(f"<DistanceMeters>{num(max(distance, 0.0), 2)}</DistanceMeters>")
    vmax = _stat(c.get("speed_m_s"), sl, "max")
    if vmax is not None:
        out.append(f"<MaximumSpeed>{num(vmax, 3)}</MaximumSpeed>")
    out.append("<Calories>0</Calories>")
    hr = c.get("heart_rate_bpm")
    for tag, how in (("AverageHeartRateBpm", "mean"), ("MaximumHeartRateBpm", "max")):
        v = _byte(_stat(hr, sl, how), 1, 255)
        if v is not None:
            out.append(f"<{tag}><Value>{v}</Value></{tag}>")
    resting = lap is not None and lap.intensity in ("rest", "recovery")
    out.append(f"<Intensity>{'Resting' if resting else 'Active'}</Intensity>")
    rpm = c.cadence_rpm()
    avg_cad = _byte(_stat(rpm, sl, "mean"), 0, 254)
    if bike and avg_cad is not None:
        out.append(f"<Cadence>{avg_cad}</Cadence>")
    trigger = _TRIGGERS.get(lap.trigger or "", "Manual") if lap is not None else "Manual"
    out.append(f"<TriggerMethod>{trigger}</TriggerMethod>")
    if n:
        out.append("<Track>")
        for i in range(sl.start, sl.stop):
            _trackpoint(c, i, bike, out)
        out.append("</Track>")
    lx: list[str] = []
    if lap is not None and finite(lap.avg_speed_m_s):
        lx.append(f"<ax:AvgSpeed>{num(float(lap.avg_speed_m_s or 0.0), 3)}</ax:AvgSpeed>")
    if not bike and avg_cad is not None:
        lx.append(f"<ax:AvgRunCadence>{avg_cad}</ax:AvgRunCadence>")
    max_cad = _byte(_stat(rpm, sl, "max"), 0, 254)
    if not bike and max_cad is not None:
        lx.append(f"<ax:MaxRunCadence>{max_cad}</ax:MaxRunCadence>")
    power = c.get("power_w")
    for tag, how in (("AvgWatts", "mean"), ("MaxWatts", "max")):
        v = _byte(_stat(power, sl, how), 0, 65535)
        if v is not None:
            lx.append(f"<ax:{tag}>{v}</ax:{tag}>")
    if lx:
        out.append(f"<Extensions><ax:LX>{''.join(lx)}</ax:LX></Extensions>")
    out.append("</Lap>")


def _creator(activity: Activity) -> str:
    name = activity.product or activity.manufacturer
    if not name:
        return ""
    unit = activity.serial_number if activity.serial_number and 0 < activity.serial_number < 2**32 else 0
    product = int(activity.product) if activity.product and activity.product.isdigit() else 0
    return (
        f'<Creator xsi:type="Device_t"><Name>{text(name)}</Name><UnitId>{unit}</UnitId>'
        f"<ProductID>{product if product < 65536 else 0}</ProductID>"
        "<Version><VersionMajor>0</VersionMajor><VersionMinor>0</VersionMinor></Version></Creator>"
    )


def _sessions(activity: Activity) -> list[Session]:
    return list(activity.sessions) or [
        Session(0, activity.sport, activity.sub_sport, activity.start_time, None, None, None)
    ]


def write_tcx(activity: Activity) -> bytes:
    """The TCX document of ``activity`` as UTF-8 bytes (valid against TrainingCenterDatabase v2 and
    ActivityExtension v2)."""
    c = Columns(activity.records)
    sessions = _sessions(activity)
    laps: Sequence[Lap | None] = activity.laps or [None]
    lap_slices = dict(c.lap_slices(activity))
    starts = np.array([s.start_time.as_unit("ns").value for s in sessions], dtype="int64")

    def lap_start(k: int, lap: Lap | None) -> pd.Timestamp:
        if lap is not None:
            return lap.start_time
        sl = lap_slices.get(k, slice(0, 0))
        return c.times[int(sl.start)] if sl.stop > sl.start else activity.start_time

    by_session: dict[int, list[int]] = {}
    for k, lap in enumerate(laps):
        t = lap_start(k, lap).as_unit("ns").value
        s = max(0, int(np.searchsorted(starts, t, side="right")) - 1)
        by_session.setdefault(s, []).append(k)

    out: list[str] = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<TrainingCenterDatabase xmlns="{TCX_NS}" xmlns:ax="{AX_NS}" xmlns:xsi="{_XSI}">',
        "<Activities>",
    ]
    creator = _creator(activity)
    for s_idx, session in enumerate(sessions):
        mine = by_session.get(s_idx, [])
        if not mine:
            continue
        sport = session.sport or activity.sport
        bike = sport in _BIKE
        out.append(f"<Activity Sport={attr(_sport(sport))}>")
        out.append(f"<Id>{iso(session.start_time)}</Id>")
        for k in mine:
            _lap(c, laps[k], lap_slices.get(k, slice(0, 0)), lap_start(k, laps[k]), bike, out)
        out.append(creator)
        out.append("</Activity>")
    out.append("</Activities>")
    major, _, rest = __version__.partition(".")
    minor = rest.split(".")[0]
    out.append(
        '<Author xsi:type="Application_t"><Name>stridelab</Name><Build><Version>'
        f"<VersionMajor>{int(major) if major.isdigit() else 0}</VersionMajor>"
        f"<VersionMinor>{int(minor) if minor.isdigit() else 0}</VersionMinor>"
        "</Version></Build><LangID>en</LangID><PartNumber>000-00000-00</PartNumber></Author>"
    )
    out.append("</TrainingCenterDatabase>\n")
    return "".join(out).encode("utf-8")
