"""Replay a stored IMU recording as a live stream, at 1×–100× speed (or as fast as possible)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

from stridelab.live.sources.base import Batch, SensorInfo
from stridelab.services.live import ImuRecording, read_recording

__all__ = ["ReplaySource"]

_COLUMNS = ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z")


class ReplaySource:
    """Batches of ``chunk_s`` seconds from a recording, paced at ``speed`` × real time.

    ``speed`` is 1–100 (``None``: no pacing, for tests and benchmarks). ``sleep``/``clock`` are
    injectable so that tests need no wall-clock waits.
    """

    def __init__(
        self,
        recording: ImuRecording | str | Path,
        *,
        speed: float | None = 1.0,
        chunk_s: float = 0.1,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if speed is not None and not 1.0 <= speed <= 100.0:
            raise ValueError(f"replay speed must be between 1 and 100 (×), got {speed!r}")
        if not chunk_s > 0:
            raise ValueError(f"chunk_s must be positive, got {chunk_s!r}")
        self.recording = recording if isinstance(recording, ImuRecording) else read_recording(recording)
        self.speed = speed
        self.chunk_s = chunk_s
        self._sleep = sleep
        self._clock = clock
        self._closed = False

    def sensors(self) -> tuple[SensorInfo, ...]:
        return tuple(
            SensorInfo(s.name, s.placement, s.side, s.sampling_rate_hz) for s in self.recording.sensors
        )

    def close(self) -> None:
        self._closed = True

    def batches(self) -> Iterator[Batch]:
        arrays = {
            s.name: (s.data[[c for c in _COLUMNS if c in s.data.columns]].to_numpy(float), s.sampling_rate_hz)
            for s in self.recording.sensors
        }
        start = self._clock()
        duration = max(len(a) / fs for a, fs in arrays.values())
        k = 0
        while not self._closed:
            t_hi = (k + 1) * self.chunk_s
            if self.speed is not None:
                wait = start + t_hi / self.speed - self._clock()
                if wait > 0:
                    self._sleep(wait)
            for name, (a, fs) in arrays.items():
                i0, i1 = round(k * self.chunk_s * fs), round(t_hi * fs)
                if i0 < len(a):
                    yield Batch(name, i0, a[i0:i1], self._clock())
            k += 1
            if k * self.chunk_s >= duration:
                return
