"""An :class:`~stridelab.model.Activity` as a FIT activity file (the run export).

The stored SI records are converted back to FIT units and scales here and nowhere else: semicircles,
``enhanced_speed``/``enhanced_altitude``, cadence in strides/min with ``fractional_cadence``, running
dynamics in ms/mm/%. Messages, in file order: ``file_id``, ``developer_data_id`` and
``field_description`` (one per developer column), a timer ``start`` event, the records (with their
developer fields; timer ``stop_all``/``start`` events around paused spans), the laps, the sessions and
the ``activity`` message. Every field goes through :class:`~stridelab.io.fit.FitWriter`, so a value
that does not fit its field is refused, never wrapped; a value that is missing (NaN) is written as the
field's invalid value, which decoders drop.

Developer fields are written as float32 in their original units (``DeveloperColumn.units``, the factor
of the FIT reader's developer units undone), with the application id of a known app (Stryd,
RunScribe) so that the FIT reader labels them as the source file did.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from garmin_fit_sdk import Profile

from stridelab.io.fit._activity import _DEV_UNITS
from stridelab.io.fit._encoder import (
    FIT_EPOCH_UNIX_S,
    DeveloperFieldSpec,
    FitWriter,
    Message,
    MessageBlock,
    field_spec,
    garmin_product_id,
    mesg_num,
)
from stridelab.io.fit._sdk import KNOWN_APPS
from stridelab.model import Activity, DeveloperColumn, Lap, Session

__all__ = ["activity_messages", "write_activity_fit"]

_SEMICIRCLES_PER_DEG: Final[float] = 2.0**31 / 180.0
_FLOAT32: Final[int] = 0x88
_RECORD: Final[int] = 20

#: record field -> (stored SI column, factor from SI to the field's profile unit)
_RECORD_FIELDS: Final[dict[str, tuple[str, float]]] = {
    "distance": ("distance_m", 1.0),
    "enhanced_speed": ("speed_m_s", 1.0),
    "enhanced_altitude": ("altitude_m", 1.0),
    "heart_rate": ("heart_rate_bpm", 1.0),
    "power": ("power_w", 1.0),
    "temperature": ("temperature_c", 1.0),
    "grade": ("grade_pct", 1.0),
    "stance_time": ("stance_time_s", 1e3),
    "stance_time_balance": ("stance_time_balance_left_pct", 1.0),
    "stance_time_percent": ("stance_time_pct", 1.0),
    "vertical_oscillation": ("vertical_oscillation_m", 1e3),
    "vertical_ratio": ("vertical_ratio_pct", 1.0),
    "step_length": ("step_length_m", 1e3),
}
#: unscaled integer fields: the value is rounded to a whole number first
_ROUNDED: Final[frozenset[str]] = frozenset({"heart_rate", "power", "temperature"})


def _fit_time(ts: pd.Timestamp) -> int:
    """FIT date_time (whole seconds since 1989-12-31, truncated as the SDK does)."""
    return int(pd.Timestamp(ts).as_unit("ns").value // 1_000_000_000) - FIT_EPOCH_UNIX_S


def _enum_or_none(type_name: str, value: str | None) -> str | None:
    """``value`` when it is a name of the profile type ``type_name``, else None (not written)."""
    if value is None:
        return None
    return value if value in Profile["types"].get(type_name, {}).values() else None


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _in_range(mesg: str, name: str, values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``values`` (profile units) with those the field cannot hold set to NaN (written as invalid)."""
    f = field_spec(mesg, name)
    out = np.asarray(values, dtype=np.float64).copy()
    if f.type_code in ("f", "d"):
        return out
    lo, hi = f.raw_range
    with np.errstate(invalid="ignore"):
        raw = np.rint((out + f.offset) * f.scale)
        out[~((raw >= lo) & (raw <= hi))] = np.nan
    return out


def _column(records: pd.DataFrame, name: str) -> npt.NDArray[np.float64] | None:
    if name not in records.columns:
        return None
    values = pd.to_numeric(records[name], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return values if np.isfinite(values).any() else None


def _record_columns(records: pd.DataFrame) -> dict[str, npt.NDArray[np.float64]]:
    """The FIT record fields (profile units) of the stored SI records; NaN = no value."""
    times = pd.DatetimeIndex(records.index)
    cols: dict[str, npt.NDArray[np.float64]] = {
        "timestamp": (times.as_unit("ns").asi8 // 1_000_000_000 - FIT_EPOCH_UNIX_S).astype("float64")
    }
    lat, lon = _column(records, "lat_deg"), _column(records, "lon_deg")
    if lat is not None and lon is not None:
        cols["position_lat"] = _in_range("record", "position_lat", np.rint(lat * _SEMICIRCLES_PER_DEG))
        cols["position_long"] = _in_range("record", "position_long", np.rint(lon * _SEMICIRCLES_PER_DEG))
    for field, (column, factor) in _RECORD_FIELDS.items():
        values = _column(records, column)
        if values is None:
            continue
        values = values * factor
        if field in _ROUNDED:
            values = np.rint(values)
        cols[field] = _in_range("record", field, values)
    rpm = _column(records, "cadence_rpm")
    if rpm is None:
        spm = _column(records, "cadence_spm")
        rpm = spm / 2.0 if spm is not None else None
    if rpm is not None:
        # the fraction in 1/128 steps; a fraction that rounds up to 1 carries into the whole part
        q = np.rint(rpm * 128.0) / 128.0
        whole = np.floor(q)
        cols["cadence"] = _in_range("record", "cadence", whole)
        cols["fractional_cadence"] = np.where(np.isnan(cols["cadence"]), np.nan, q - whole)
    return cols


def _dev_factor(units: str | None) -> float:
    """The factor the FIT reader applied to a developer field of ``units`` (to SI)."""
    unit = (units or "").strip().lower()
    return _DEV_UNITS[unit][1] if unit in _DEV_UNITS else 1.0


_APP_IDS: Final[dict[str, str]] = {}
for _hex, _label in KNOWN_APPS.items():
    _APP_IDS.setdefault(_label, _hex)


def _developer_layout(
    columns: Sequence[DeveloperColumn],
) -> tuple[list[Message], dict[str, DeveloperFieldSpec]]:
    """``developer_data_id`` + ``field_description`` messages and the spec of each developer column.

    One developer data index per app: ``appN`` keeps N (the reader labels an unknown app by its
    index), a known app gets its application id and the first free index."""
    apps: list[str] = list(dict.fromkeys(c.app for c in columns))
    index: dict[str, int] = {}
    for app in apps:  # ``appN`` must keep N; another app keeps its source index when free
        if app.startswith("app") and app[3:].isdigit() and int(app[3:]) < 255:
            index[app] = int(app[3:])
    for app in apps:
        if app not in index:
            wanted = next(c.developer_data_index for c in columns if c.app == app)
            used = set(index.values())
            index[app] = wanted if 0 <= wanted < 255 and wanted not in used else min(set(range(255)) - used)
    messages: list[Message] = []
    for app in apps:
        fields: dict[str, Any] = {"developer_data_index": index[app]}
        hex_id = _APP_IDS.get(app)
        if hex_id is not None:
            fields["application_id"] = list(bytes.fromhex(hex_id))
        messages.append(Message(mesg_num("developer_data_id"), fields))
    specs: dict[str, DeveloperFieldSpec] = {}
    numbers: dict[str, set[int]] = {}
    for c in columns:  # the source's field number when free in its app, else the first free one
        used_nums = numbers.setdefault(c.app, set())
        num = c.field_definition_number
        if not 0 <= num < 255 or num in used_nums:
            num = min(set(range(255)) - used_nums)
        used_nums.add(num)
        spec = DeveloperFieldSpec(index[c.app], num, _FLOAT32)
        specs[c.column] = spec
        messages.append(
            Message(
                mesg_num("field_description"),
                {
                    "developer_data_index": spec.developer_data_index,
                    "field_definition_number": spec.field_definition_number,
                    "fit_base_type_id": "float32",
                    "field_name": c.field_name or None,
                    "units": c.units or None,
                },
            )
        )
    return messages, specs


def _timer_events(
    ts: npt.NDArray[np.float64], timer: npt.NDArray[np.float64] | None, paused: npt.NDArray[np.bool_]
) -> list[tuple[int, str]]:
    """Timer ``stop_all``/``start`` events (FIT seconds) that give back the stored ``paused`` flags and
    ``timer_s``: the stopped time of each step between records (wall-clock step minus timer step) is
    placed at the step's start, or at its end when the record after it is paused (the FIT reader
    marks records strictly inside a stop/start interval as paused)."""
    n = len(ts)
    if n < 2:
        return []
    step = np.diff(ts)
    if timer is not None and np.isfinite(timer).all():
        stopped = np.clip(step - np.diff(timer), 0.0, None)
    else:
        stopped = np.where(paused[1:], step, 0.0)
    events: list[tuple[int, str]] = []
    inside = bool(paused[0])
    if inside:
        events.append((int(ts[0]) - 1, "stop_all"))
    for i in range(1, n):
        gap = float(stopped[i - 1])
        before, after = bool(paused[i - 1]), bool(paused[i])
        if gap <= 0 and before == after:
            continue
        if not inside:
            events.append((round(float(ts[i] - gap)) if after else int(ts[i - 1]), "stop_all"))
            inside = True
        if inside and not after:
            events.append((round(float(ts[i - 1] + gap)), "start"))
            inside = False
    return events


def _timer_event(ts: int, kind: str) -> Message:
    return Message(
        mesg_num("event"),
        {"timestamp": ts, "event": "timer", "event_type": kind, "event_group": 0},
    )


def _lap_message(lap: Lap, k: int) -> Message:
    elapsed = _finite(lap.elapsed_s)
    end = lap.start_time + pd.Timedelta(seconds=elapsed or 0.0)
    return Message(
        mesg_num("lap"),
        {
            "message_index": k,
            "timestamp": _fit_time(end),
            "start_time": _fit_time(lap.start_time),
            "total_elapsed_time": elapsed,
            "total_timer_time": _finite(lap.timer_s),
            "total_distance": _finite(lap.distance_m),
            "enhanced_avg_speed": _finite(lap.avg_speed_m_s),
            "event": "lap",
            "event_type": "stop",
            "lap_trigger": _enum_or_none("lap_trigger", lap.trigger),
            "intensity": _enum_or_none("intensity", lap.intensity),
            "sport": _enum_or_none("sport", lap.sport),
        },
    )


def _session_message(s: Session, k: int, first_lap: int, num_laps: int) -> Message:
    elapsed = _finite(s.elapsed_s)
    end = s.start_time + pd.Timedelta(seconds=elapsed or 0.0)
    return Message(
        mesg_num("session"),
        {
            "message_index": k,
            "timestamp": _fit_time(end),
            "start_time": _fit_time(s.start_time),
            "total_elapsed_time": elapsed,
            "total_timer_time": _finite(s.timer_s),
            "total_distance": _finite(s.distance_m),
            "event": "session",
            "event_type": "stop",
            "sport": _enum_or_none("sport", s.sport),
            "sub_sport": _enum_or_none("sub_sport", s.sub_sport),
            "first_lap_index": first_lap,
            "num_laps": num_laps,
            "trigger": "activity_end",
        },
    )


def _file_id(activity: Activity) -> Message:
    manufacturer = _enum_or_none("manufacturer", activity.manufacturer) or "development"
    fields: dict[str, Any] = {
        "type": "activity",
        "manufacturer": manufacturer,
        "serial_number": activity.serial_number if activity.serial_number else None,
        "time_created": _fit_time(activity.start_time),
    }
    product = activity.product
    if product:
        if product.isdigit() and int(product) < 0xFFFF:
            fields["product"] = int(product)
        elif manufacturer == "garmin" and product in Profile["types"]["garmin_product"].values():
            fields["product"] = garmin_product_id(product)
        else:
            fields["product_name"] = product
    return Message(mesg_num("file_id"), fields)


def activity_messages(activity: Activity) -> list[Message | MessageBlock]:
    """The FIT messages of ``activity`` in file order (what :func:`write_activity_fit` encodes)."""
    records = activity.records
    times = pd.DatetimeIndex(records.index)
    start = times[0] if len(times) else activity.start_time
    end = times[-1] if len(times) else activity.start_time + pd.Timedelta(seconds=activity.elapsed_s or 0.0)
    dev_columns = [c for c in activity.developer_columns if _column(records, c.column) is not None]
    dev_messages, dev_specs = _developer_layout(dev_columns)
    items: list[Message | MessageBlock] = [_file_id(activity), *dev_messages]
    items.append(_timer_event(_fit_time(start), "start"))

    cols = _record_columns(records) if len(records) else {}
    dev_values: dict[DeveloperFieldSpec, npt.NDArray[np.float64]] = {}
    for c in dev_columns:
        values = _column(records, c.column)
        if values is not None:
            dev_values[dev_specs[c.column]] = values / _dev_factor(c.units)
    paused = (
        records["paused"].fillna(False).to_numpy(dtype=bool)
        if "paused" in records.columns
        else np.zeros(len(records), dtype=bool)
    )
    ts = cols.get("timestamp", np.zeros(0))
    timer = _column(records, "timer_s")
    events = _timer_events(ts, timer, paused)
    pos = 0
    for at, kind in [*events, (None, None)]:
        cut = len(records) if at is None else int(np.searchsorted(ts, at, side="right"))
        if cut > pos:
            items.append(
                MessageBlock(
                    _RECORD,
                    {k: v[pos:cut] for k, v in cols.items()},
                    missing_as_invalid=True,
                    developer={s: v[pos:cut] for s, v in dev_values.items()},
                )
            )
            pos = cut
        if at is not None and kind is not None:
            items.append(_timer_event(at, kind))
    items.append(_timer_event(_fit_time(end), "stop_all"))

    sessions = list(activity.sessions) or [
        Session(
            index=0,
            sport=activity.sport,
            sub_sport=activity.sub_sport,
            start_time=activity.start_time,
            elapsed_s=activity.elapsed_s,
            timer_s=activity.duration_s,
            distance_m=activity.distance_m,
        )
    ]
    laps = list(activity.laps) or [
        Lap(
            index=0,
            start_time=s.start_time,
            elapsed_s=s.elapsed_s,
            timer_s=s.timer_s,
            distance_m=s.distance_m,
            sport=s.sport,
        )
        for s in sessions
    ]
    session_starts = np.array([s.start_time.as_unit("ns").value for s in sessions], dtype="int64")
    lap_session = [  # the session each lap falls in (by start time)
        max(0, int(np.searchsorted(session_starts, lap.start_time.as_unit("ns").value, side="right")) - 1)
        for lap in laps
    ]
    for k, lap in enumerate(laps):
        items.append(_lap_message(lap, k))
    for k, s in enumerate(sessions):
        mine = [i for i, j in enumerate(lap_session) if j == k]
        items.append(_session_message(s, k, mine[0] if mine else 0, len(mine)))
    total_timer = _finite(activity.duration_s)
    items.append(
        Message(
            mesg_num("activity"),
            {
                "timestamp": _fit_time(end),
                "total_timer_time": total_timer,
                "num_sessions": len(sessions),
                "type": "manual",
                "event": "activity",
                "event_type": "stop",
            },
        )
    )
    return items


def write_activity_fit(activity: Activity) -> bytes:
    """The FIT activity file of ``activity`` (records, laps, sessions, developer fields) as bytes."""
    w = FitWriter()
    for item in activity_messages(activity):
        w.write(item)
    return w.close()
