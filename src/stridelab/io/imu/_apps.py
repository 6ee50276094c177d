"""Readers for phone-app exports: Sensor Logger (Kelvin Choi) and phyphox (RWTH Aachen).

Both apps export one CSV per sensor, as a folder or a ``.zip``:

* **Sensor Logger** -- ``TotalAcceleration.csv`` (acceleration *including* gravity) and
  ``Gyroscope.csv`` (rad/s), columns ``time`` (ns since the Unix epoch), ``seconds_elapsed``, ``z``,
  ``y``, ``x``. ``Accelerometer.csv`` is gravity-free user acceleration; it is used only together with
  ``Gravity.csv`` (their sum is the total acceleration). The accelerometer unit is checked against the
  magnitude of gravity (m/s² expected; g is detected and converted, see :func:`_guess_acc_unit`).
* **phyphox** -- ``Accelerometer.csv`` ("Acceleration with g" experiment), columns ``Time (s)``,
  ``Acceleration x (m/s^2)`` ..., and ``Gyroscope.csv`` with ``Gyroscope x (rad/s)`` ...; a single-sensor
  export named ``Raw Data.csv`` is accepted too. "Linear Acceleration" (gravity removed) is refused:
  the engine needs gravity to find the body frame.

Timestamps of phones are jittery and the accelerometer and gyroscope are not sampled together: both
streams are resampled onto one uniform grid (linear interpolation, gaps reported).
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from stridelab.frames import SENSOR_FRAME_ACC, SENSOR_FRAME_GYR, Placement, Side
from stridelab.io.imu._recording import ImuRecording, ImuSensor
from stridelab.units import G

__all__ = ["read_phyphox", "read_sensor_logger"]


def _list_csvs(path: Path) -> dict[str, bytes]:
    if path.is_dir():
        return {p.name: p.read_bytes() for p in path.iterdir() if p.suffix.lower() == ".csv"}
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as zf:
            return {Path(n).name: zf.read(n) for n in zf.namelist() if n.lower().endswith(".csv")}
    if path.suffix.lower() == ".csv":
        return {path.name: path.read_bytes()}
    raise ValueError(f"{path} is not a folder, .zip or .csv export")


def _guess_acc_unit(acc: np.ndarray) -> float:
    """Factor to m/s² judged from the median magnitude (≈1 → g, ≈9.8 → m/s²)."""
    mag = float(np.nanmedian(np.linalg.norm(acc, axis=1)))
    if 0.5 < mag < 2.0:
        return G
    if 5.0 < mag < 20.0:
        return 1.0
    raise ValueError(
        f"Cannot tell the accelerometer unit: the median magnitude is {mag:.2f}, neither ≈1 (g) nor ≈9.8 "
        "(m/s²). Is this gravity-free (linear/user) acceleration? The engine needs total acceleration."
    )


_G_NOTE = (
    "the accelerometer values are in g (gravity reads ≈1), not m/s² as the export declares; "
    "converted to m/s² (× 9.80665)"
)


def _onto_grid(
    t: np.ndarray, v: np.ndarray, grid: np.ndarray, what: str, max_gap_s: float, problems: list[str]
) -> np.ndarray:
    if np.any(np.diff(t) < 0):
        raise ValueError(f"{what} timestamps go backwards; the export is not in time order")
    out = np.column_stack([np.interp(grid, t, v[:, k]) for k in range(v.shape[1])])
    dt = np.diff(t)
    for i in np.flatnonzero(dt > max_gap_s):
        out[(grid > t[i]) & (grid < t[i + 1])] = np.nan
        problems.append(f"{what}: gap of {dt[i]:.3f} s without samples at t={t[i] - grid[0]:.3f} s (NaN)")
    return out


def _merge(
    acc_t: np.ndarray,
    acc: np.ndarray,
    gyr_t: np.ndarray | None,
    gyr: np.ndarray | None,
    rate_hz: float | None,
    max_gap_s: float = 0.1,
) -> tuple[pd.DataFrame, float, list[str]]:
    """Put the accelerometer (and gyroscope) on one uniform grid over their common time span."""
    t0 = acc_t[0] if gyr_t is None else max(acc_t[0], gyr_t[0])
    t1 = acc_t[-1] if gyr_t is None else min(acc_t[-1], gyr_t[-1])
    if rate_hz is None:
        # mean rate over the whole stream: robust to jitter (the median interval is biased by it)
        rate_hz = float(round((len(acc_t) - 1) / float(acc_t[-1] - acc_t[0]), 3))
    if not t1 > t0:
        raise ValueError("The accelerometer and gyroscope streams do not overlap in time")
    grid = t0 + np.arange(int(np.floor((t1 - t0) * rate_hz + 1e-9)) + 1) / rate_hz
    problems: list[str] = []
    a = _onto_grid(acc_t, acc, grid, "accelerometer", max_gap_s, problems)
    cols: dict[str, np.ndarray] = dict(zip(SENSOR_FRAME_ACC, a.T, strict=True))
    if gyr_t is not None and gyr is not None:
        g = _onto_grid(gyr_t, gyr, grid, "gyroscope", max_gap_s, problems)
        cols.update(dict(zip(SENSOR_FRAME_GYR, g.T, strict=True)))
    problems.append(f"phone timestamps resampled onto a uniform {rate_hz:.3f} Hz grid")
    return pd.DataFrame(cols), rate_hz, problems


def read_sensor_logger(
    path: str | Path,
    *,
    placement: Placement = "sacrum",
    side: Side | None = None,
    rate_hz: float | None = None,
) -> ImuRecording:
    """Read a Sensor Logger export (folder or zip). See the module docstring for the layout."""
    p = Path(path)
    files = _list_csvs(p)

    def load(name: str) -> tuple[np.ndarray, np.ndarray] | None:
        if name not in files:
            return None
        df = pd.read_csv(io.BytesIO(files[name]))
        missing = [c for c in ("time", "x", "y", "z") if c not in df.columns]
        if missing:
            raise ValueError(f"Sensor Logger file {name} lacks columns {missing}: has {list(df.columns)}")
        t = df["time"].to_numpy(float) * 1e-9
        return t, df[["x", "y", "z"]].to_numpy(float)

    total = load("TotalAcceleration.csv")
    if total is None:
        user, grav = load("Accelerometer.csv"), load("Gravity.csv")
        if user is None:
            raise ValueError(f"{p}: neither TotalAcceleration.csv nor Accelerometer.csv found")
        if grav is None:
            raise ValueError(
                f"{p}: Accelerometer.csv holds gravity-free acceleration and there is no Gravity.csv or "
                "TotalAcceleration.csv; enable 'Total Acceleration' in Sensor Logger"
            )
        g_on_user = np.column_stack([np.interp(user[0], grav[0], grav[1][:, k]) for k in range(3)])
        total = (user[0], user[1] + g_on_user)
    acc_t, acc = total
    factor = _guess_acc_unit(acc)
    acc = acc * factor
    gyr = load("Gyroscope.csv")
    start = pd.Timestamp(acc_t[0], unit="s", tz="UTC")
    t0 = acc_t[0]
    data, rate, problems = _merge(
        acc_t - t0, acc, None if gyr is None else gyr[0] - t0, None if gyr is None else gyr[1], rate_hz
    )
    if factor != 1.0:
        problems.insert(0, _G_NOTE)
    name = f"{side}_{placement}" if side else placement
    sensor = ImuSensor(name, placement, side, data, rate, tuple(problems))
    return ImuRecording((sensor,), source_path=str(p), start_time=start)


_PHYPHOX_AXIS = re.compile(r"^\s*(Acceleration|Gyroscope|Linear Acceleration)\s+([xyz])\s*\((.+)\)\s*$")


def read_phyphox(
    path: str | Path,
    *,
    placement: Placement = "sacrum",
    side: Side | None = None,
    rate_hz: float | None = None,
) -> ImuRecording:
    """Read a phyphox CSV export (folder, zip or a single ``Raw Data.csv``)."""
    p = Path(path)
    files = _list_csvs(p)
    acc: tuple[np.ndarray, np.ndarray] | None = None
    gyr: tuple[np.ndarray, np.ndarray] | None = None
    acc_factor = 1.0
    for fname, blob in files.items():
        if fname.lower() == "meta.csv" or fname.lower().startswith("device"):
            continue
        df = pd.read_csv(io.BytesIO(blob), sep=None, engine="python")
        tcol = next((c for c in df.columns if c.strip().lower().startswith("time")), None)
        if tcol is None:
            continue
        if not pd.api.types.is_numeric_dtype(df[tcol]):
            # phyphox's "decimal comma" CSV variants (semicolon- or tab-separated, "0,0025")
            df = pd.read_csv(io.BytesIO(blob), sep=None, engine="python", decimal=",")
            if not pd.api.types.is_numeric_dtype(df[tcol]):
                raise ValueError(f"{p}/{fname}: the {tcol!r} column is not numeric")
        axes: dict[str, dict[str, str]] = {}
        for c in df.columns:
            m = _PHYPHOX_AXIS.match(c)
            if m:
                axes.setdefault(m.group(1), {})[m.group(2)] = c
        if "Linear Acceleration" in axes and "Acceleration" not in axes:
            raise ValueError(
                f"{p}/{fname}: phyphox 'Linear Acceleration' has gravity removed; record with the "
                "'Acceleration with g' experiment instead"
            )
        t = df[tcol].to_numpy(float)
        if "Acceleration" in axes and len(axes["Acceleration"]) == 3:
            a = df[[axes["Acceleration"][k] for k in "xyz"]].to_numpy(float)
            acc_factor = _guess_acc_unit(a)
            acc = (t, a * acc_factor)
        if "Gyroscope" in axes and len(axes["Gyroscope"]) == 3:
            unit = _PHYPHOX_AXIS.match(axes["Gyroscope"]["x"]).group(3)  # type: ignore[union-attr]
            factor = np.pi / 180.0 if "deg" in unit or "°" in unit else 1.0
            gyr = (t, df[[axes["Gyroscope"][k] for k in "xyz"]].to_numpy(float) * factor)
    if acc is None:
        raise ValueError(f"{p}: no phyphox accelerometer ('Acceleration x (m/s^2)' ...) columns found")
    data, rate, problems = _merge(
        acc[0], acc[1], None if gyr is None else gyr[0], None if gyr is None else gyr[1], rate_hz
    )
    if acc_factor != 1.0:
        problems.insert(0, _G_NOTE)
    name = f"{side}_{placement}" if side else placement
    sensor = ImuSensor(name, placement, side, data, rate, tuple(problems))
    return ImuRecording((sensor,), source_path=str(p))
