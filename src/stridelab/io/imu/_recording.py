"""Typed containers for IMU recordings: :class:`ImuSensor` and :class:`ImuRecording`.

Validated on construction: SI units inside (acc m/s², gyr rad/s), a uniform sampling rate, known
placement and side names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from stridelab.frames import (
    PLACEMENTS,
    SENSOR_FRAME_ACC,
    SENSOR_FRAME_GYR,
    SIDES,
    Placement,
    Side,
    check_option,
)

__all__ = ["ImuRecording", "ImuSensor"]


@dataclass(frozen=True, slots=True)
class ImuSensor:
    """One IMU's data on a uniform time grid.

    ``data`` has the sensor-frame columns ``acc_x, acc_y, acc_z`` (m/s², gravity included) and, when the
    device has a gyroscope, ``gyr_x, gyr_y, gyr_z`` (rad/s); row ``i`` is at ``i / sampling_rate_hz``
    seconds from the first sample. Samples inside a gap that was too long to interpolate are NaN and
    listed in ``problems``.
    """

    name: str
    placement: Placement
    side: Side | None
    data: pd.DataFrame
    sampling_rate_hz: float
    problems: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_option("placement", self.placement, PLACEMENTS)
        if self.side is not None:
            check_option("side", self.side, SIDES)
        if not (np.isfinite(self.sampling_rate_hz) and self.sampling_rate_hz > 0):
            raise ValueError(f"sampling_rate_hz must be a positive number, got {self.sampling_rate_hz!r}")
        missing = [c for c in SENSOR_FRAME_ACC if c not in self.data.columns]
        if missing:
            raise ValueError(f"ImuSensor {self.name!r}: data is missing accelerometer columns {missing}")
        gyr = [c for c in SENSOR_FRAME_GYR if c in self.data.columns]
        if gyr and len(gyr) != 3:
            raise ValueError(f"ImuSensor {self.name!r}: gyroscope columns must be all three of gyr_x/y/z")

    @property
    def has_gyr(self) -> bool:
        return all(c in self.data.columns for c in SENSOR_FRAME_GYR)

    @property
    def duration_s(self) -> float:
        return len(self.data) / self.sampling_rate_hz


@dataclass(frozen=True, slots=True)
class ImuRecording:
    """Several sensors recorded together (same time origin), e.g. both feet + sacrum + chest."""

    sensors: tuple[ImuSensor, ...]
    source_path: str | None = None
    start_time: pd.Timestamp | None = None
    activity: str | None = None
    problems: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.sensors:
            raise ValueError("An ImuRecording needs at least one sensor")
        names = [s.name for s in self.sensors]
        if len(set(names)) != len(names):
            raise ValueError(f"Sensor names must be unique within a recording, got {names}")
        if self.activity is not None:
            check_option("activity", self.activity, ("running", "walking", "balance"))

    def find(self, placement: Placement, side: Side | None = None) -> list[ImuSensor]:
        """Sensors at ``placement`` (and ``side`` when given)."""
        check_option("placement", placement, PLACEMENTS)
        return [s for s in self.sensors if s.placement == placement and (side is None or s.side == side)]

    def sensor(self, name: str) -> ImuSensor:
        for s in self.sensors:
            if s.name == name:
                return s
        raise KeyError(f"No sensor named {name!r}; the recording has {[s.name for s in self.sensors]}")
