"""Write a :class:`SimulatedRun` as a Garmin-like running FIT file plus a truth sidecar JSON."""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from stridelab.io.fit import (
    FIT_EPOCH_UNIX_S,
    FitWriter,
    Message,
    MessageBlock,
    encode_with_sdk,
    garmin_product_id,
    mesg_num,
    quantise,
)
from stridelab.model import Activity, Session
from stridelab.version import __version__

from ._run import SEMICIRCLES_PER_DEG, SimulatedRun
from ._truth import RunTruth, invalid_value_error

__all__ = [
    "RUN_TRUTH_SCHEMA",
    "encode_run",
    "fit_messages",
    "read_truth",
    "to_activity",
    "truth_path",
    "write_fit",
]

RUN_TRUTH_SCHEMA: Final[str] = "stridelab.sim.run/1"
#: ANT+ device type of a running-dynamics channel (HRM-Run/Tri/Pro, RD Pod) as Garmin devices log it
#: in ``device_info.device_type``; the FIT profile has no name for it.
ANTPLUS_RUNNING_DYNAMICS_DEVICE_TYPE: Final[int] = 30
_KCAL_PER_M: Final[float] = 0.07  # ~1 kcal per kg per km for a 70 kg runner
_SOFTWARE_VERSION: Final[float] = 19.2

Engine = Literal["fast", "sdk"]


def _ts(t: pd.Timestamp) -> int:
    """FIT date_time (s since 1989-12-31) of a whole-second UTC timestamp."""
    return int(t.value // 1_000_000_000) - FIT_EPOCH_UNIX_S


def truth_path(fit_path: str | os.PathLike[str]) -> Path:
    """The sidecar of ``run.fit``: ``run.truth.json`` next to it."""
    p = Path(fit_path)
    return p.with_name(p.stem + ".truth.json")


def read_truth(path: str | os.PathLike[str]) -> tuple[RunTruth, int]:
    """Read a sidecar (or the sidecar of a ``.fit`` path): the truth and the seed it was simulated with."""
    p = Path(path)
    if p.suffix.lower() == ".fit":
        p = truth_path(p)
    data = json.loads(p.read_text(encoding="utf-8"))
    if data.get("schema") != RUN_TRUTH_SCHEMA:
        raise ValueError(f"{p}: not a stridelab run truth (schema {data.get('schema')!r})")
    return RunTruth.from_dict(data["truth"]), int(data["seed"])


# ---------------------------------------------------------------------------------------------- messages
def _device_infos(truth: RunTruth, ts: int) -> list[Message]:
    dev = mesg_num("device_info")
    watch = garmin_product_id(truth.product)
    base = {"timestamp": ts, "manufacturer": "garmin"}
    out = [
        Message(
            dev,
            {
                **base,
                "device_index": "creator",
                "product": watch,
                "serial_number": truth.serial_number,
                "software_version": _SOFTWARE_VERSION,
                "source_type": "local",
            },
        ),
        Message(
            dev,
            {
                **base,
                "device_index": 1,
                "device_type": 4,
                "product": watch,  # barometer
                "software_version": _SOFTWARE_VERSION,
                "source_type": "local",
            },
        ),
        Message(
            dev,
            {
                **base,
                "device_index": 2,
                "device_type": 0,
                "product": watch,  # gps
                "software_version": _SOFTWARE_VERSION,
                "source_type": "local",
            },
        ),
    ]
    ant = {
        **base,
        "serial_number": truth.sensor_serial_number,
        "software_version": 12.1,
        "source_type": "antplus",
        "ant_network": "antplus",
        "battery_status": "ok",
    }
    wrist_hr = Message(
        dev,
        {
            **base,
            "device_index": 4,
            "device_type": 10,
            "product": watch,  # whr
            "software_version": _SOFTWARE_VERSION,
            "source_type": "local",
        },
    )
    if truth.sensor in ("hrm_pro", "hrm_run"):
        strap = garmin_product_id(truth.sensor)
        out += [
            Message(dev, {**ant, "device_index": 3, "device_type": 120, "product": strap}),
            Message(
                dev,
                {
                    **ant,
                    "device_index": 4,
                    "device_type": ANTPLUS_RUNNING_DYNAMICS_DEVICE_TYPE,
                    "product": strap,
                },
            ),
        ]
    elif truth.sensor == "rd_pod":
        out += [
            Message(
                dev,
                {
                    **ant,
                    "device_index": 3,
                    "device_type": ANTPLUS_RUNNING_DYNAMICS_DEVICE_TYPE,
                    "product": garmin_product_id("running_dynamics_pod"),
                },
            ),
            wrist_hr,
        ]
    else:
        out.append(wrist_hr)
    return out


_Cols = dict[str, npt.NDArray[Any]]


def _time_index(rec: pd.DataFrame) -> pd.DatetimeIndex:
    """The records' time index (simulated records are always indexed by their timestamps)."""
    index = rec.index
    if not isinstance(index, pd.DatetimeIndex):
        raise TypeError(f"simulated records must have a DatetimeIndex, got {type(index).__name__}")
    return index


def _columns(rec: pd.DataFrame) -> _Cols:
    """The record columns as numpy arrays plus ``ts`` (FIT date_time) and positions in semicircles."""
    cols: _Cols = {c: rec[c].to_numpy() for c in rec.columns}
    cols["ts"] = _time_index(rec).as_unit("s").asi8 - FIT_EPOCH_UNIX_S
    cols["lat_sc"] = np.rint(cols["lat_deg"] * SEMICIRCLES_PER_DEG)
    cols["lon_sc"] = np.rint(cols["lon_deg"] * SEMICIRCLES_PER_DEG)
    return cols


def _record_block(c: _Cols, a: int, b: int) -> MessageBlock:
    rpm = c["cadence_rpm"][a:b]
    cad = np.floor(rpm)
    cols: dict[str, npt.ArrayLike] = {
        "timestamp": c["ts"][a:b],
        "position_lat": c["lat_sc"][a:b],
        "position_long": c["lon_sc"][a:b],
        "distance": c["distance_m"][a:b],
        "enhanced_altitude": c["altitude_m"][a:b],
        "enhanced_speed": c["speed_m_s"][a:b],
        "heart_rate": c["heart_rate_bpm"][a:b],
        "cadence": cad,
        "fractional_cadence": rpm - cad,
    }
    if "stance_time_s" in c:
        cols |= {
            "vertical_oscillation": c["vertical_oscillation_m"][a:b] * 1000.0,
            "stance_time_percent": c["stance_time_pct"][a:b],
            "stance_time": c["stance_time_s"][a:b] * 1000.0,
            "vertical_ratio": c["vertical_ratio_pct"][a:b],
            "stance_time_balance": c["stance_time_balance_left_pct"][a:b],
            "step_length": c["step_length_m"][a:b] * 1000.0,
        }
    return MessageBlock(mesg_num("record"), cols)


def _summary(c: _Cols, a: int, b: int) -> dict[str, Any]:
    """Aggregates of records ``a..b`` inclusive for lap/session messages (FIT units)."""
    sl = slice(a, b + 1)
    sp = c["speed_m_s"][sl]
    d_alt = np.diff(c["altitude_m"][sl])
    dist = float(quantise(c["distance_m"][b] - c["distance_m"][a], "lap", "total_distance"))
    timer = float(c["timer_s"][b] - c["timer_s"][a])
    rpm = c["cadence_rpm"][sl]
    avg_rpm = float(np.rint(rpm.mean() * 128.0) / 128.0)
    max_rpm = float(rpm.max())
    hr = c["heart_rate_bpm"][sl]
    out: dict[str, Any] = {
        "timestamp": int(c["ts"][b]),
        "start_time": int(c["ts"][a]),
        "start_position_lat": int(c["lat_sc"][a]),
        "start_position_long": int(c["lon_sc"][a]),
        "end_position_lat": int(c["lat_sc"][b]),
        "end_position_long": int(c["lon_sc"][b]),
        "total_elapsed_time": float(c["elapsed_s"][b] - c["elapsed_s"][a]),
        "total_timer_time": timer,
        "total_distance": dist,
        "total_cycles": int(np.rint(rpm[1:].sum() / 60.0)),
        "total_calories": round(_KCAL_PER_M * dist),
        "enhanced_avg_speed": dist / timer if timer > 0 else 0.0,
        "enhanced_max_speed": float(sp.max()),
        "total_ascent": round(float(d_alt[d_alt > 0].sum())),
        "total_descent": round(float(-d_alt[d_alt < 0].sum())),
        "avg_heart_rate": round(float(hr.mean())),
        "max_heart_rate": int(hr.max()),
        "avg_cadence": math.floor(avg_rpm),
        "max_cadence": math.floor(max_rpm),
        "avg_fractional_cadence": avg_rpm - math.floor(avg_rpm),
        "max_fractional_cadence": max_rpm - math.floor(max_rpm),
    }
    if "stance_time_s" in c:
        out |= {
            "avg_vertical_oscillation": float(c["vertical_oscillation_m"][sl].mean()) * 1000.0,
            "avg_stance_time_percent": float(c["stance_time_pct"][sl].mean()),
            "avg_stance_time": float(c["stance_time_s"][sl].mean()) * 1000.0,
            "avg_vertical_ratio": float(c["vertical_ratio_pct"][sl].mean()),
            "avg_stance_time_balance": float(c["stance_time_balance_left_pct"][sl].mean()),
            "avg_step_length": float(c["step_length_m"][sl].mean()) * 1000.0,
        }
    return out


def fit_messages(run: SimulatedRun) -> list[Message | MessageBlock]:
    """The FIT messages of ``run`` in file order (what :func:`write_fit` encodes)."""
    truth, rec = run.truth, run.records
    n = len(rec)
    cols = _columns(rec)
    t0 = _ts(run.start_time)
    sub_sport = "track" if truth.route == "track" else "generic"
    ev_n = mesg_num("event")
    items: list[Message | MessageBlock] = [
        Message(
            mesg_num("file_id"),
            {
                "type": "activity",
                "manufacturer": "garmin",
                "product": garmin_product_id(truth.product),
                "serial_number": truth.serial_number,
                "time_created": t0,
            },
        ),
        Message(mesg_num("file_creator"), {"software_version": round(_SOFTWARE_VERSION * 100)}),
        Message(
            ev_n, {"timestamp": t0, "event": "timer", "event_type": "start", "event_group": 0, "data": 0}
        ),
        *_device_infos(truth, t0),
        Message(
            mesg_num("sport"),
            {
                "sport": "running",
                "sub_sport": sub_sport,
                "name": "Track Run" if sub_sport == "track" else "Run",
            },
        ),
    ]
    times = _time_index(rec)
    lap_starts = [int(times.searchsorted(lap.start_time)) for lap in run.laps]
    pause_after = {int(times.searchsorted(e.time)): e for e in run.events[1:-1] if e.event_type == "stop_all"}
    cuts = sorted({*lap_starts[1:], *(i + 1 for i in pause_after)} | {n})
    a = 0
    for b in cuts:
        items.append(_record_block(cols, a, b))
        if b - 1 in pause_after:
            stop = pause_after[b - 1]
            resume = next(e for e in run.events if e.event_type == "start" and e.time > stop.time)
            for e in (stop, resume):
                items.append(
                    Message(
                        ev_n,
                        {
                            "timestamp": _ts(e.time),
                            "event": "timer",
                            "event_type": e.event_type,
                            "event_group": 0,
                            "data": 0,
                        },
                    )
                )
        if b < n and b in lap_starts:
            k = lap_starts.index(b) - 1
            items.append(_lap_message(run, cols, k, lap_starts[k], b))
        a = b
    end = _ts(run.end_time)
    items.append(
        Message(
            ev_n, {"timestamp": end, "event": "timer", "event_type": "stop_all", "event_group": 0, "data": 0}
        )
    )
    items.append(_lap_message(run, cols, len(run.laps) - 1, lap_starts[-1], n - 1))
    session = {
        **_summary(cols, 0, n - 1),
        "message_index": 0,
        "event": "session",
        "event_type": "stop",
        "sport": "running",
        "sub_sport": sub_sport,
        "first_lap_index": 0,
        "num_laps": len(run.laps),
        "trigger": "activity_end",
    }
    items.append(Message(mesg_num("session"), session))
    items.append(
        Message(
            mesg_num("activity"),
            {
                "timestamp": end,
                "total_timer_time": run.timer_s,
                "num_sessions": 1,
                "type": "manual",
                "event": "activity",
                "event_type": "stop",
                "local_timestamp": end + truth.utc_offset_s,
            },
        )
    )
    return items


def _lap_message(run: SimulatedRun, cols: _Cols, k: int, a: int, b: int) -> Message:
    lap = run.laps[k]
    fields = {
        **_summary(cols, a, b),
        # the Lap's own numbers (one source of truth with SimulatedRun.laps)
        "total_elapsed_time": lap.elapsed_s,
        "total_timer_time": lap.timer_s,
        "total_distance": lap.distance_m,
        "enhanced_avg_speed": lap.avg_speed_m_s,
        "message_index": k,
        "event": "lap",
        "event_type": "stop",
        "lap_trigger": lap.trigger,
        "intensity": lap.intensity,
        "sport": "running",
        "sub_sport": "track" if run.truth.route == "track" else "generic",
    }
    return Message(mesg_num("lap"), fields)


def encode_run(run: SimulatedRun, *, engine: Engine = "fast") -> bytes:
    """The FIT bytes of ``run``: ``fast`` (vectorised) or ``sdk`` (``garmin_fit_sdk.Encoder``), identical."""
    items: Sequence[Message | MessageBlock] = fit_messages(run)
    if engine == "sdk":
        return encode_with_sdk(items)
    if engine != "fast":
        raise invalid_value_error("engine", ("fast", "sdk"), engine)
    w = FitWriter()
    for item in items:
        w.write(item)
    return w.close()


def write_fit(
    run: SimulatedRun,
    path: str | os.PathLike[str],
    *,
    engine: Engine = "fast",
    sidecar: bool = True,
) -> Path:
    """Write ``run`` as a FIT file at ``path`` and (by default) its truth sidecar; returns the FIT path."""
    p = Path(path)
    data_bytes = encode_run(run, engine=engine)
    p.write_bytes(data_bytes)
    if sidecar:
        data = {
            "schema": RUN_TRUTH_SCHEMA,
            "generator": f"stridelab.sim {__version__}",
            "fit_file": p.name,
            "fit_sha256": hashlib.sha256(data_bytes).hexdigest(),
            "seed": run.seed,
            "summary": {
                "records": len(run.records),
                "laps": len(run.laps),
                "pauses": sum(1 for e in run.events[1:-1] if e.event_type == "stop_all"),
                "start_time": run.start_time.isoformat(),
                "timer_s": run.timer_s,
                "elapsed_s": run.elapsed_s,
                "distance_m": run.distance_m,
                "realised_balance_mean_left_pct": (
                    float(run.records["stance_time_balance_left_pct"].mean())
                    if "stance_time_balance_left_pct" in run.records.columns
                    else None
                ),
            },
            "truth": run.truth.to_dict(),
        }
        truth_path(p).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return p


def to_activity(run: SimulatedRun, *, engine: Engine = "fast") -> Activity:
    """The :class:`~stridelab.model.Activity` a faithful FIT reader should produce from ``run``'s file.

    ``id`` is the sha256 of the FIT bytes :func:`write_fit` writes, so it matches the store's id of that
    file. Useful to test analytics without going through a decoder.
    """
    data = encode_run(run, engine=engine)
    truth = run.truth
    sub_sport = "track" if truth.route == "track" else "generic"
    devices = tuple(
        dict(m.fields)
        for m in fit_messages(run)
        if isinstance(m, Message) and m.mesg_num == mesg_num("device_info")
    )
    session = Session(
        index=0,
        sport="running",
        sub_sport=sub_sport,
        start_time=run.start_time,
        elapsed_s=run.elapsed_s,
        timer_s=run.timer_s,
        distance_m=run.distance_m,
    )
    return Activity(
        id=hashlib.sha256(data).hexdigest(),
        source_path=None,
        format="fit",
        start_time=run.start_time,
        duration_s=run.timer_s,
        elapsed_s=run.elapsed_s,
        distance_m=run.distance_m,
        sport="running",
        sub_sport=sub_sport,
        records=run.records.copy(),
        manufacturer="garmin",
        product=truth.product,
        serial_number=truth.serial_number,
        laps=run.laps,
        sessions=(session,),
        devices=devices,
    )
