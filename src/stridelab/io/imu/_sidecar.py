"""IMU recordings described by a JSON sidecar, and the ``read_imu`` dispatcher.

Sidecar naming: for a data file ``run.csv`` the sidecar is ``run.imu.json`` (preferred) or
``run.csv.imu.json``, in the same folder. Format (all keys except ``sensors`` optional)::

    {
      "format": "table",                  # "table" (CSV/Parquet), "sensor_logger" or "phyphox"
      "activity": "running",              # "running", "walking" or "balance"
      "start_time": "2026-11-20T07:00:00Z",
      "time": {"column": "t", "unit": "s"},          # or {"sampling_rate_hz": 200}
      "target_rate_hz": null,             # optional resampling rate
      "sensors": [
        {"name": "left_shank", "placement": "shank", "side": "left",
         "file": "other.csv",             # optional, relative to the sidecar; default: the data file
         "columns": {"acc_x": "ax_l", "acc_y": "ay_l", "acc_z": "az_l",
                     "gyr_x": "gx_l", "gyr_y": "gy_l", "gyr_z": "gz_l"},
         "acc_unit": "g", "gyr_unit": "deg/s"}
      ]
    }

Several sensors may share one table (different columns) or live in their own files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stridelab.frames import PLACEMENTS, SIDES, Placement, Side, check_option
from stridelab.io.imu._apps import read_phyphox, read_sensor_logger
from stridelab.io.imu._columns import (
    is_two_header_csv,
    read_two_header_csv,
    recognise_columns,
    sidecar_hint,
)
from stridelab.io.imu._recording import ImuRecording, ImuSensor
from stridelab.io.imu._table import absolute_seconds, read_table_file, sensor_from_frame, time_base

__all__ = ["SIDECAR_SUFFIX", "find_sidecar", "read_imu", "read_recording_with_sidecar"]

SIDECAR_SUFFIX = ".imu.json"
_FORMATS = ("table", "sensor_logger", "phyphox")
_SENSOR_KEYS = {"name", "placement", "side", "file", "columns", "acc_unit", "gyr_unit"}
_TOP_KEYS = {"format", "activity", "start_time", "time", "target_rate_hz", "sensors", "max_gap_s"}


def find_sidecar(path: str | Path) -> Path | None:
    """The sidecar of data file ``path`` (``run.imu.json`` or ``run.csv.imu.json``), or None."""
    p = Path(path)
    for cand in (p.with_name(p.stem + SIDECAR_SUFFIX), p.with_name(p.name + SIDECAR_SUFFIX)):
        if cand.is_file() and cand != p:
            return cand
    return None


def _load_sidecar(path: Path) -> dict[str, Any]:
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"Sidecar {path} is not valid JSON: {exc}") from exc
    if not isinstance(spec, dict):
        raise ValueError(f"Sidecar {path} must hold a JSON object")
    unknown = set(spec) - _TOP_KEYS
    if unknown:
        raise ValueError(f"Sidecar {path}: unknown keys {sorted(unknown)}; allowed {sorted(_TOP_KEYS)}")
    sensors = spec.get("sensors")
    if not isinstance(sensors, list) or not sensors:
        raise ValueError(f"Sidecar {path}: 'sensors' must be a non-empty list")
    for s in sensors:
        if not isinstance(s, dict):
            raise ValueError(f"Sidecar {path}: each sensor must be an object")
        bad = set(s) - _SENSOR_KEYS
        if bad:
            raise ValueError(
                f"Sidecar {path}: unknown sensor keys {sorted(bad)}; allowed {sorted(_SENSOR_KEYS)}"
            )
        if "placement" not in s:
            raise ValueError(f"Sidecar {path}: every sensor needs a 'placement'")
        check_option("placement", s["placement"], PLACEMENTS)
        if s.get("side") is not None:
            check_option("side", s["side"], SIDES)
    check_option("format", spec.get("format", "table"), _FORMATS)
    return spec


def read_recording_with_sidecar(path: str | Path, sidecar: str | Path | None = None) -> ImuRecording:
    """Read the IMU recording at ``path`` as its JSON sidecar describes (see the module docstring)."""
    p = Path(path)
    if p.name.endswith(SIDECAR_SUFFIX):
        raise ValueError(f"{p} is a sidecar; pass the data file it describes")
    side_path = Path(sidecar) if sidecar is not None else find_sidecar(p)
    if side_path is None:
        raise FileNotFoundError(
            f"No sidecar for {p}: expected {p.with_name(p.stem + SIDECAR_SUFFIX).name} next to it"
        )
    spec = _load_sidecar(side_path)
    fmt = spec.get("format", "table")
    activity = spec.get("activity")
    start = pd.Timestamp(spec["start_time"]) if spec.get("start_time") else None
    if start is not None and start.tzinfo is None:
        start = start.tz_localize("UTC")
    target = spec.get("target_rate_hz")
    if fmt in ("sensor_logger", "phyphox"):
        if len(spec["sensors"]) != 1:
            raise ValueError(f"Sidecar {side_path}: a {fmt} export holds exactly one sensor")
        s = spec["sensors"][0]
        reader = read_sensor_logger if fmt == "sensor_logger" else read_phyphox
        rec = reader(p, placement=s["placement"], side=s.get("side"), rate_hz=target)
        return ImuRecording(rec.sensors, str(p), start or rec.start_time, activity, rec.problems)
    time = spec.get("time") or {}
    if not isinstance(time, dict) or not ({"column", "sampling_rate_hz"} & set(time)):
        raise ValueError(
            f"Sidecar {side_path}: 'time' must give a timestamp 'column' (+ 'unit') or a 'sampling_rate_hz'"
        )
    tables: dict[Path, pd.DataFrame] = {}
    for s in spec["sensors"]:
        fpath = (side_path.parent / s["file"]) if s.get("file") else p
        if fpath not in tables:
            if not fpath.is_file():
                raise FileNotFoundError(f"Sidecar {side_path}: data file {fpath} does not exist")
            tables[fpath] = read_table_file(fpath)
    # Several files with timestamps: keep their common clock. Row 0 of every sensor is the latest first
    # timestamp (the instant all sensors record); subtracting each file's own first timestamp would shift
    # one sensor's events against another's (a logger started 150 ms later = wrong step/flight times).
    origin: float | None = None
    problems: list[str] = []
    column: str | None = time.get("column")
    if column is not None and len(tables) > 1:
        firsts: dict[Path, float] = {}
        for fpath, table in tables.items():
            if column not in table.columns:
                raise ValueError(f"Time column {column!r} not found in {fpath}; it has {list(table.columns)}")
            first = absolute_seconds(table[column], time.get("unit", "s"))
            if not np.isfinite(first):
                raise ValueError(f"Sidecar {side_path}: {fpath} has no valid timestamps in {column!r}")
            firsts[fpath] = first
        origin = max(firsts.values())
        spread = origin - min(firsts.values())
        if spread > 0:
            problems.append(
                f"the data files start up to {spread:.3f} s apart; all sensors are aligned on their shared "
                f"timestamps and start at the latest first sample"
            )
    sensors: list[ImuSensor] = []
    for s in spec["sensors"]:
        fpath = (side_path.parent / s["file"]) if s.get("file") else p
        placement, side = s["placement"], s.get("side")
        sensors.append(
            sensor_from_frame(
                tables[fpath],
                name=s.get("name") or (f"{side}_{placement}" if side else placement),
                placement=placement,
                side=side,
                columns=s.get("columns"),
                acc_unit=s.get("acc_unit", "m/s^2"),
                gyr_unit=s.get("gyr_unit", "rad/s"),
                time_column=time.get("column"),
                time_unit=time.get("unit", "s"),
                sampling_rate_hz=time.get("sampling_rate_hz"),
                target_rate_hz=target,
                max_gap_s=float(spec.get("max_gap_s", 0.1)),
                time_origin_s=origin,
            )
        )
    return ImuRecording(tuple(sensors), str(p), start, activity, tuple(problems))


def read_imu(
    path: str | Path,
    *,
    placement: Placement | None = None,
    side: Side | None = None,
    sampling_rate_hz: float | None = None,
    acc_unit: str = "m/s^2",
    gyr_unit: str = "rad/s",
    time_column: str | None = None,
    time_unit: str = "s",
) -> ImuRecording:
    """Read any supported IMU recording: a sidecar-described file, an app export or a plain table.

    Dispatch: a sidecar next to ``path`` wins; a folder/zip with ``TotalAcceleration.csv`` is Sensor
    Logger; one with ``Acceleration x (m/s^2)`` columns is phyphox; otherwise ``path`` is a table with
    canonical columns (``acc_x`` ..., optional ``gyr_x`` ..., and ``time_s`` unless a rate is given).
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"IMU recording {p} does not exist")
    if find_sidecar(p) is not None:
        return read_recording_with_sidecar(p)
    if placement is None:
        raise ValueError("placement is required when the recording has no sidecar")
    check_option("placement", placement, PLACEMENTS)
    if p.is_dir() or p.suffix.lower() == ".zip":
        names: list[str]
        if p.is_dir():
            names = [q.name for q in p.iterdir()]
        else:
            import zipfile

            with zipfile.ZipFile(p) as zf:
                names = [Path(n).name for n in zf.namelist()]
        if "TotalAcceleration.csv" in names or "Gravity.csv" in names:
            return read_sensor_logger(p, placement=placement, side=side, rate_hz=sampling_rate_hz)
        return read_phyphox(p, placement=placement, side=side, rate_hz=sampling_rate_hz)
    if is_two_header_csv(p):
        return _read_two_header(p, placement, side, sampling_rate_hz, acc_unit, gyr_unit)
    frame = read_table_file(p)
    if any(str(c).startswith("Acceleration x") for c in frame.columns):
        return read_phyphox(p, placement=placement, side=side, rate_hz=sampling_rate_hz)
    spec = recognise_columns([str(c) for c in frame.columns])
    if spec is None:
        raise ValueError(
            f"{p}: no accelerometer columns acc_x, acc_y, acc_z (also not as acc_x_g, acc_x_m/s^2 ...); "
            f"the table has {[str(c) for c in frame.columns][:12]}; "
            + sidecar_hint(p, [str(c) for c in frame.columns])
        )
    acc_unit = _declared_unit(p, "acc", spec.acc_unit, acc_unit, "m/s^2")
    gyr_unit = _declared_unit(p, "gyr", spec.gyr_unit, gyr_unit, "rad/s")
    tcol = time_column
    if tcol is None and sampling_rate_hz is None:
        if "time_s" in frame.columns:
            tcol = "time_s"
        else:
            raise ValueError(
                f"{p}: no time base. Give --rate-hz (sampling rate) or a 'time_s' column, or add a sidecar"
            )
    if sampling_rate_hz is not None:
        stamps = time_column or ("time_s" if "time_s" in frame.columns else None)
        if stamps is not None and stamps in frame.columns:
            # the declared rate wins (row i at i / rate), but not silently against the file's own clock
            dt = np.diff(time_base(frame[stamps], time_unit if time_column else "s")[1])
            dt = dt[np.isfinite(dt) & (dt > 0)]
            if len(dt):
                file_rate = 1.0 / float(np.median(dt))
                if abs(file_rate - sampling_rate_hz) > 0.02 * sampling_rate_hz:
                    raise ValueError(
                        f"{p}: the declared sampling rate {sampling_rate_hz:g} Hz contradicts the "
                        f"{stamps!r} column ({file_rate:.1f} Hz); drop --rate-hz to use the timestamps"
                    )
    sensor = sensor_from_frame(
        frame,
        name=f"{side}_{placement}" if side else placement,
        placement=placement,
        side=side,
        columns=spec.columns,
        acc_unit=acc_unit,
        gyr_unit=gyr_unit,
        time_column=tcol if sampling_rate_hz is None else None,
        time_unit=time_unit,
        sampling_rate_hz=sampling_rate_hz,
    )
    return ImuRecording((sensor,), str(p))


def _declared_unit(path: Path, kind: str, from_names: str | None, option: str, default: str) -> str:
    """The unit the column names declare wins over the default option; a contradicting option fails."""
    if from_names is None:
        return option
    if option not in (default, from_names):
        raise ValueError(
            f"{path}: the {kind} columns are named in {from_names} but the {kind} unit was given as {option}"
        )
    return from_names


def _read_two_header(
    path: Path,
    placement: Placement,
    side: Side | None,
    sampling_rate_hz: float | None,
    acc_unit: str,
    gyr_unit: str,
) -> ImuRecording:
    """gaitmap's two-header CSV (row 1 sensor, row 2 axis, column 0 the sample index): one sensor per
    group; its side from the group name (``left_sensor``) or ``side``."""
    if sampling_rate_hz is None:
        raise ValueError(
            f"{path}: a two-header (gaitmap) CSV has a sample index but no timestamps; give the sampling "
            "rate (--rate-hz; gaitmap's example data: 204.8)"
        )
    groups = read_two_header_csv(path)
    sensors: list[ImuSensor] = []
    for group, table in groups.items():
        low = group.lower()
        group_side: Side | None = (
            "left" if low.startswith("left") else "right" if low.startswith("right") else side
        )
        if group_side is None and len(groups) > 1 and placement in ("foot", "shank"):
            raise ValueError(
                f"{path}: sensor {group!r} names no side (left_/right_); one sensor per leg is needed"
            )
        spec = recognise_columns(list(table.columns))
        if spec is None:
            raise ValueError(f"{path}: sensor {group!r} has no acc_x, acc_y, acc_z columns")
        sensors.append(
            sensor_from_frame(
                table,
                name=f"{group_side}_{placement}" if group_side else group,
                placement=placement,
                side=group_side,
                columns=spec.columns,
                acc_unit=_declared_unit(path, "acc", spec.acc_unit, acc_unit, "m/s^2"),
                gyr_unit=_declared_unit(path, "gyr", spec.gyr_unit, gyr_unit, "rad/s"),
                sampling_rate_hz=sampling_rate_hz,
            )
        )
    names = [s.name for s in sensors]
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: two sensors would share the name {names}; their groups need sides")
    return ImuRecording(tuple(sensors), str(path))
