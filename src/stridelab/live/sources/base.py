"""The one interface of every live source."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from stridelab.frames import Side

__all__ = ["Batch", "SensorInfo", "Source"]


@dataclass(frozen=True, slots=True)
class SensorInfo:
    """A sensor of a stream: name, placement ("foot", "shank", "sacrum", "chest"), side, rate (Hz)."""

    name: str
    placement: str
    side: Side | None
    sampling_rate_hz: float


@dataclass(frozen=True, slots=True)
class Batch:
    """Samples of one sensor on its uniform grid: row ``i`` is at ``(first_index + i) / rate`` seconds
    of stream time. ``samples`` has 3 (acc, m/s²) or 6 (acc + gyr, rad/s) columns; NaN rows mark a
    gap. ``arrived_s`` is the monotonic clock (``time.perf_counter``) when the batch arrived;
    ``notes`` are repairs made on the way (duplicates dropped, order fixed, gaps)."""

    sensor: str
    first_index: int
    samples: npt.NDArray[np.float64]
    arrived_s: float
    notes: tuple[str, ...] = field(default=())

    @property
    def n(self) -> int:
        return int(self.samples.shape[0])


class Source(Protocol):
    """A live source: its sensors, then batches until the stream ends (or ``close()``)."""

    def sensors(self) -> tuple[SensorInfo, ...]: ...

    def batches(self) -> Iterator[Batch]: ...

    def close(self) -> None: ...


def empty_samples(columns: int) -> npt.NDArray[np.float64]:
    return np.zeros((0, columns), dtype=float)
